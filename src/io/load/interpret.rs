//! Raw features → the model: units, facilities (kind, capacity, qualifiers, status),
//! demand, lines and buildings, each field read through the mapping with a warning where
//! a value cannot be used.

use super::*;

pub(super) fn num(
    m: &FieldMapping,
    props: &Map<String, Value>,
    field: &str,
    warn: &mut dyn FnMut(Option<&str>, Said),
) -> Option<f64> {
    let (key, v) = m.get(props, field)?;
    checked(key, parse_count(v), warn)
}

/// A count read from a table's cell (column `key`), as [`num`] reads a property.
pub(crate) fn counted(
    text: &str,
    key: &str,
    warn: &mut dyn FnMut(Option<&str>, Said),
) -> Option<f64> {
    checked(key, crate::io::fields::parse_count_text(text), warn)
}

/// A parsed count, or a warning naming field `key` saying why it is missing.
fn checked(
    key: &str,
    parsed: std::result::Result<f64, NumberProblem>,
    warn: &mut dyn FnMut(Option<&str>, Said),
) -> Option<f64> {
    match parsed {
        Ok(x) => Some(x),
        Err(NumberProblem::NotANumber(s)) => {
            warn(
                Some(key),
                Said::new(
                    format!("'{s}' is not a number; treated as missing"),
                    format!("“{s}”不是数字，按缺失处理"),
                ),
            );
            None
        }
        Err(NumberProblem::Negative(x)) => {
            warn(
                Some(key),
                Said::new(
                    format!("negative value {x}; treated as missing"),
                    format!("负值 {x}，按缺失处理"),
                ),
            );
            None
        }
    }
}

/// A yes/no qualifier column (标准化, 公办, 普惠 …). A value that is not yes/no in any
/// spelling we know is kept as unknown, with a warning: never read as "no".
pub(super) fn flag(
    m: &FieldMapping,
    props: &Map<String, Value>,
    field: &str,
    warn: &mut dyn FnMut(Option<&str>, Said),
) -> Option<bool> {
    let (key, v) = m.get(props, field)?;
    let text = crate::io::fields::value_text(v);
    let special = match (field, text.as_str()) {
        ("public", "公办" | "公立" | "公建公营" | "公建民营") => Some(true),
        ("public", "民办" | "私立" | "民营") => Some(false),
        ("standardised", "标准化") => Some(true),
        ("demonstration", "示范" | "示范性") => Some(true),
        _ => None,
    };
    let b = special.or_else(|| parse_bool(v));
    if b.is_none() {
        warn(
            Some(key),
            Said::new(
                format!("'{text}' is not yes/no (是/否, 1/0, true/false, Y/N); kept as unknown"),
                format!("“{text}”不是是/否（是/否、1/0、true/false、Y/N）；按未知处理"),
            ),
        );
    }
    b
}

pub(super) fn interpret(ds: &mut Dataset, p: Pending, progress: &dyn Progress) -> Result<()> {
    let Pending {
        spec,
        role,
        mut raw,
        crs,
        crs_source,
    } = p;
    let layer_id = LayerId(ds.layers.len() as u32);
    let mapping = FieldMapping::new(spec.fields.clone());
    let proj = ds.projection;
    let fwd = move |c: Coord<f64>| proj.forward_coord(c);
    let path = raw.path.clone();
    let synthetic_layer = spec.synthetic.unwrap_or(false);
    let features_read = raw.features.len() + raw.demand.len();
    let mut loaded = 0usize;
    let mut warns: Vec<LoadWarning> = std::mem::take(&mut raw.warnings);
    let mut push_warn = |feature: Option<String>, field: Option<&str>, message: Said| {
        warns.push(LoadWarning::new(
            path.clone(),
            feature,
            field.map(str::to_owned),
            message,
        ))
    };

    let (layer_level, layer_kind, layer_status) = layer_defaults(ds, &spec)?;

    if role == LayerRole::Demand && raw.headers.is_some() && !raw.has_coordinates {
        let headers = raw.headers.as_deref().unwrap_or_default();
        return Err(Error::format_zh(
            &path,
            format!(
                "no recognisable coordinate columns (lon/lat, 经度/纬度 …) among: {}",
                headers.join(", ")
            ),
            format!(
                "找不到可识别的坐标列（lon/lat、经度/纬度 …），现有列：{}",
                headers.join("、")
            ),
        ));
    }

    // Duplicate unit codes are detected per (level, canonical code).
    let mut seen_codes: HashMap<(UnitLevel, String), String> = ds
        .units
        .iter()
        .map(|u| ((u.level, canonical_code(&u.code, u.level)), u.name.clone()))
        .collect();

    let lc = LayerCtx {
        mapping: &mapping,
        spec: &spec,
        role,
        layer_level,
        layer_kind,
        layer_status,
        synthetic_layer,
        layer_id,
        fwd: &fwd,
        shaped: raw.headers.is_none(),
    };
    // A units layer's shapes, checked and projected on every core (see `UnitShape`).
    let mut shapes = if role == LayerRole::Units {
        use rayon::prelude::*;
        raw.features
            .par_iter_mut()
            .map(|f| {
                check(progress)?;
                Ok(UnitShape::of(f.geometry.take(), fwd))
            })
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    }
    .into_iter();
    if role == LayerRole::Demand && !raw.demand.is_empty() {
        let rows = std::mem::take(&mut raw.demand);
        loaded = demand_rows(ds, rows, &fwd, (&path, layer_id), progress, &mut push_warn)?;
    } else if role == LayerRole::Demand {
        let features = std::mem::take(&mut raw.features);
        loaded = demand_layer(
            ds,
            features,
            &mapping,
            &fwd,
            (&path, layer_id),
            progress,
            &mut push_warn,
        )?;
    } else if matches!(role, LayerRole::Facilities | LayerRole::Planned) {
        loaded = facility_layer(
            ds,
            &lc,
            std::mem::take(&mut raw.features),
            progress,
            &mut push_warn,
        )?;
    } else {
        // Stopped midway, what is left is freed on another thread (`Discard`).
        let mut features =
            crate::progress::Discard::new(std::mem::take(&mut raw.features).into_iter());
        for (k, f) in features.by_ref().enumerate() {
            if k % 256 == 0 {
                check(progress)?;
            }
            let label = feature_label(f.index, &f.properties);
            let mut w = |field: Option<&str>, msg: Said| push_warn(Some(label.clone()), field, msg);
            if add_feature(ds, &lc, f, shapes.next(), &mut seen_codes, &mut w) {
                loaded += 1;
            }
        }
        drop(features.into_inner());
    }
    if let Some(a) = &spec.attribution {
        if !ds.attribution.contains(a) {
            ds.attribution.push(a.clone());
        }
    }
    ds.layers.push(Layer {
        id: layer_id,
        name: spec
            .name
            .clone()
            .unwrap_or_else(|| format!("{} ({})", spec.path, role.key())),
        role,
        path: path.clone(),
        crs,
        crs_source,
        features_read,
        features_loaded: loaded,
        attribution: spec.attribution.clone(),
    });
    ds.warnings.extend(warns);
    Ok(())
}

/// A facilities layer's features → facilities, read on every core (a province has 50,000,
/// each a dozen field lookups), then numbered and said in the features' order: the same
/// facilities, ids and messages as one at a time.
fn facility_layer(
    ds: &mut Dataset,
    lc: &LayerCtx,
    features: Vec<crate::io::RawFeature>,
    progress: &dyn Progress,
    push_warn: &mut PushWarn,
) -> Result<usize> {
    use rayon::prelude::*;
    let ctx = FacilityCtx {
        mapping: lc.mapping,
        spec: lc.spec,
        role: lc.role,
        layer_kind: lc.layer_kind,
        layer_status: lc.layer_status,
        synthetic_layer: lc.synthetic_layer,
        layer_id: lc.layer_id,
        fwd: lc.fwd,
    };
    type Note = (Option<String>, Said);
    let read: Vec<(String, Option<Facility>, Vec<Note>)> = features
        .into_par_iter()
        .map(|f| {
            check(progress)?;
            let label = feature_label(f.index, &f.properties);
            let mut said: Vec<Note> = Vec::new();
            let mut w = |field: Option<&str>, msg: Said| said.push((field.map(str::to_owned), msg));
            // Numbered below, in order.
            let fac = facility_of(
                &ctx,
                FacilityId(0),
                f.index,
                f.geometry,
                f.properties,
                &mut w,
            );
            Ok((label, fac, said))
        })
        .collect::<Result<_>>()?;
    let mut loaded = 0;
    for (label, fac, said) in read {
        for (field, msg) in said {
            push_warn(Some(label.clone()), field.as_deref(), msg);
        }
        if let Some(mut fac) = fac {
            fac.id = FacilityId(ds.facilities.len() as u32);
            ds.facilities.push(fac);
            loaded += 1;
        }
    }
    Ok(loaded)
}

/// What every feature of a layer shares while it is interpreted.
struct LayerCtx<'a> {
    mapping: &'a FieldMapping,
    spec: &'a LayerSpec,
    role: LayerRole,
    layer_level: Option<UnitLevel>,
    layer_kind: Option<FacilityKind>,
    layer_status: Option<FacilityStatus>,
    synthetic_layer: bool,
    layer_id: LayerId,
    fwd: &'a (dyn Fn(Coord<f64>) -> Coord<f64> + Sync),
    /// The layer's format carries shapes (not a CSV code list).
    shaped: bool,
}

/// One feature added to the dataset by the layer's role; false when it was left out (with a
/// warning). `shape` is a unit's checked shape (units layers only); demand and facility
/// layers go through [`demand_layer`] and [`facility_layer`].
fn add_feature(
    ds: &mut Dataset,
    lc: &LayerCtx,
    f: crate::io::RawFeature,
    shape: Option<UnitShape>,
    seen_codes: &mut HashMap<(UnitLevel, String), String>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> bool {
    let props = f.properties;
    match lc.role {
        LayerRole::Units => {
            let id = UnitId(ds.units.len() as u32);
            let ctx = UnitCtx {
                mapping: lc.mapping,
                spec: lc.spec,
                layer_level: lc.layer_level,
                layer_id: lc.layer_id,
                shaped: lc.shaped,
            };
            let shape = shape.expect("a units layer's shapes are checked first");
            match unit_of(&ctx, id, shape, props, seen_codes, w) {
                Some(u) => {
                    ds.units.push(u);
                    true
                }
                None => false,
            }
        }
        LayerRole::Facilities | LayerRole::Planned => {
            unreachable!("facility layers are read by facility_layer")
        }
        LayerRole::Demand => unreachable!("demand layers are read by demand_layer"),
        LayerRole::Network => add_lines(
            ds,
            f.geometry,
            f.node_ids,
            &props,
            lc.mapping,
            lc.fwd,
            lc.layer_id,
            w,
        ),
        LayerRole::Buildings => add_buildings(ds, f.geometry, &props, lc.fwd, lc.layer_id, w),
    }
}

/// The level, facility kind and status the manifest gives a whole layer.
fn layer_defaults(
    ds: &Dataset,
    spec: &LayerSpec,
) -> Result<(
    Option<UnitLevel>,
    Option<FacilityKind>,
    Option<FacilityStatus>,
)> {
    let layer_level = match spec.level.as_deref() {
        Some(l) => Some(UnitLevel::parse(l).ok_or_else(|| {
            Error::Manifest {
                path: ds.source.clone(),
                message: format!("layer {}: unknown level '{l}' (district|county|sub_district|township|community|village)", spec.path),
            }
        })?),
        None => None,
    };
    let layer_kind = match spec.kind.as_deref() {
        Some(k) => Some(FacilityKind::parse(k).ok_or_else(|| Error::Manifest {
            path: ds.source.clone(),
            message: format!("layer {}: unknown facility kind '{k}'", spec.path),
        })?),
        None => None,
    };
    let layer_status = spec.status.as_deref().and_then(FacilityStatus::parse);
    Ok((layer_level, layer_kind, layer_status))
}

/// Says a warning: the feature's label, the field, the message.
type PushWarn<'a> = dyn FnMut(Option<String>, Option<&str>, Said) + 'a;

/// A demand layer's points into the dataset; returns how many were loaded. A layer can hold
/// millions, each on its own: read on every core, then numbered in file order. After a
/// cancel every point returns at once (nothing to unwind through rayon), and what was read
/// is freed on another thread (`Discard`).
fn demand_layer(
    ds: &mut Dataset,
    features: Vec<crate::io::RawFeature>,
    mapping: &FieldMapping,
    fwd: &(dyn Fn(Coord<f64>) -> Coord<f64> + Sync),
    (path, layer_id): (&std::path::Path, LayerId),
    progress: &dyn Progress,
    push_warn: &mut PushWarn,
) -> Result<usize> {
    use rayon::prelude::*;
    let mut features = crate::progress::Discard::new(features);
    let parts: Vec<Option<_>> = features
        .par_iter_mut()
        .map(|f| {
            if progress.is_cancelled() {
                return None;
            }
            let mut said: Vec<(Option<String>, Said)> = Vec::new();
            let props = std::mem::take(&mut f.properties);
            let d = demand_parts(
                f.geometry.take(),
                &props,
                mapping,
                fwd,
                &mut |field, msg| said.push((field.map(str::to_owned), msg)),
            );
            // The label only when there is something to say (a string per point costs).
            let said: Vec<_> = said
                .into_iter()
                .map(|(field, msg)| (feature_label(f.index, &props), field, msg))
                .collect();
            Some((d, said))
        })
        .collect();
    let parts = crate::progress::Discard::new(parts);
    check(progress)?;
    // Read to the end: the emptied features are freed here, not on a thread of their own.
    let features = features.into_inner();
    ds.demand.reserve(features.len());
    let mut loaded = 0;
    for (d, said) in parts.into_inner().into_iter().flatten() {
        for (label, field, msg) in said {
            push_warn(Some(label), field.as_deref(), msg);
        }
        if let Some((location, population, source_id)) = d {
            push_demand(
                ds,
                path,
                location,
                population,
                source_id.as_deref(),
                layer_id,
            )?;
            loaded += 1;
        }
    }
    Ok(loaded)
}

/// A demand table read into columns ([`crate::io::DemandRows`]) → demand points: the same
/// points and messages as [`demand_layer`] gives for its features.
fn demand_rows(
    ds: &mut Dataset,
    rows: crate::io::DemandRows,
    fwd: &(dyn Fn(Coord<f64>) -> Coord<f64> + Sync),
    (path, layer_id): (&std::path::Path, LayerId),
    progress: &dyn Progress,
    push_warn: &mut PushWarn,
) -> Result<usize> {
    use rayon::prelude::*;
    let rows = crate::progress::Discard::new(rows);
    let projected: Vec<Option<Point<f64>>> = rows
        .at
        .par_chunks(4096)
        .map(|chunk| {
            check(progress)?;
            Ok(chunk
                .iter()
                .map(|c| c.map(|c| Point(fwd(c))))
                .collect::<Vec<_>>())
        })
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .flatten()
        .collect();
    let crate::io::DemandRows {
        index,
        population,
        source_id,
        label,
        notes,
        ..
    } = rows.into_inner();
    let label_of = |k: usize| crate::io::row_label(index[k], &label[k]);
    let mut notes = notes.into_iter().peekable();
    ds.demand.reserve(projected.len());
    let mut loaded = 0;
    for (k, (location, (population, source_id))) in projected
        .into_iter()
        .zip(population.into_iter().zip(source_id))
        .enumerate()
    {
        if k % 65536 == 0 {
            check(progress)?;
        }
        let Some(location) = location else {
            while notes.next_if(|n| n.0 as usize == k).is_some() {}
            push_warn(Some(label_of(k)), Some("geometry"), not_a_point());
            continue;
        };
        while let Some((_, field, said)) = notes.next_if(|n| n.0 as usize == k) {
            push_warn(Some(label_of(k)), field.as_deref(), said);
        }
        if population == Population::default() {
            push_warn(Some(label_of(k)), Some("population"), no_population());
        }
        push_demand(
            ds,
            path,
            location,
            population,
            source_id.as_deref(),
            layer_id,
        )?;
        loaded += 1;
    }
    Ok(loaded)
}

/// Appends a demand point, numbered by its position.
fn push_demand(
    ds: &mut Dataset,
    path: &std::path::Path,
    location: Point<f64>,
    population: Population,
    source_id: Option<&str>,
    layer: LayerId,
) -> Result<()> {
    ds.demand
        .push(location, population, source_id, layer)
        .map_err(|_| crate::Error::Format {
            path: path.to_path_buf(),
            message: "the demand points' ids pass 2 GiB of text: split the demand layer".into(),
            zh: Some("需求点编号文本超过 2 GiB：请拆分需求点图层".into()),
        })?;
    Ok(())
}

/// What is said of a demand feature or row that is not a point (it is skipped).
fn not_a_point() -> Said {
    Said::new(
        "demand must be a point; skipped",
        "需求点必须是点要素；已跳过",
    )
}

/// What is said of a demand point without any population figure (it carries no demand).
fn no_population() -> Said {
    Said::new(
        "no population figure; the point carries no demand",
        "没有人口数：该点不计需求",
    )
}

/// A demand point's location, population figures (a point without any carries none) and
/// source id; `None` (with a warning) when it is not a point.
fn demand_parts(
    geometry: Option<Geometry<f64>>,
    props: &Map<String, Value>,
    mapping: &FieldMapping,
    fwd: &dyn Fn(Coord<f64>) -> Coord<f64>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<(Point<f64>, Population, Option<std::sync::Arc<str>>)> {
    let mut w = |field: Option<&str>, msg: Said| w(field, msg);
    let Some(Geometry::Point(pt)) = geometry else {
        w(Some("geometry"), not_a_point());
        return None;
    };
    let population = Population {
        total: num(mapping, props, "population", &mut w),
        aged_60plus: num(mapping, props, "pop_60plus", &mut w),
        aged_0_3: num(mapping, props, "pop_0_3", &mut w),
    };
    if population == Population::default() {
        w(Some("population"), no_population());
    }
    Some((
        Point(fwd(pt.0)),
        population,
        mapping.text(props, "id").map(std::sync::Arc::from),
    ))
}

/// Street lines (one per part of a multi-line; OSM node ids kept for single lines).
#[allow(clippy::too_many_arguments)]
fn add_lines(
    ds: &mut Dataset,
    geometry: Option<Geometry<f64>>,
    node_ids: Option<Vec<i64>>,
    props: &Map<String, Value>,
    mapping: &FieldMapping,
    fwd: &dyn Fn(Coord<f64>) -> Coord<f64>,
    layer_id: LayerId,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> bool {
    let lines: Vec<LineString<f64>> = match geometry {
        Some(Geometry::LineString(l)) => vec![l],
        Some(Geometry::MultiLineString(m)) => m.0,
        _ => {
            w(
                Some("geometry"),
                Said::new("not a line; skipped", "不是线要素；已跳过"),
            );
            return false;
        }
    };
    let single = lines.len() == 1;
    let mut node_ids = node_ids;
    for l in lines {
        if l.0.len() < 2 {
            w(
                Some("geometry"),
                Said::new(
                    "line with fewer than 2 vertices; skipped",
                    "少于 2 个顶点的线；已跳过",
                ),
            );
            return false;
        }
        ds.network.push(NetworkLine {
            id: LineId(ds.network.len() as u32),
            geometry: l.map_coords(fwd),
            node_ids: if single { node_ids.take() } else { None },
            highway: props
                .get("highway")
                .map(crate::io::fields::value_text)
                .filter(|s| !s.is_empty()),
            name: mapping.text(props, "name"),
            layer: layer_id,
        });
    }
    true
}

/// Building footprints or residential landuse (the `carrier` property says which).
fn add_buildings(
    ds: &mut Dataset,
    geometry: Option<Geometry<f64>>,
    props: &Map<String, Value>,
    fwd: &dyn Fn(Coord<f64>) -> Coord<f64>,
    layer_id: LayerId,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> bool {
    let Some(mp) = geometry.and_then(polygons_of) else {
        w(
            Some("geometry"),
            Said::new("not a polygon; skipped", "不是多边形；已跳过"),
        );
        return false;
    };
    let kind = match props
        .get("carrier")
        .map(crate::io::fields::value_text)
        .as_deref()
    {
        Some("residential_landuse") => BuildingKind::ResidentialLanduse,
        Some("other") => BuildingKind::Other,
        _ => BuildingKind::Residential,
    };
    let levels = props
        .get("building:levels")
        .or_else(|| props.get("levels"))
        .and_then(|v| parse_count(v).ok())
        .filter(|l| *l > 0.0);
    for poly in mp.0 {
        ds.buildings.push(Building {
            id: BuildingId(ds.buildings.len() as u32),
            footprint: poly.map_coords(fwd),
            kind,
            levels,
            layer: layer_id,
        });
    }
    true
}

pub(super) fn layer_default_status(
    role: LayerRole,
    layer_status: Option<FacilityStatus>,
) -> FacilityStatus {
    layer_status.unwrap_or(if role == LayerRole::Planned {
        FacilityStatus::Planned
    } else {
        FacilityStatus::Existing
    })
}

/// County-level units called 区 are districts, others (县, 县级市, 旗) counties.
pub(super) fn refine_county_level(level: UnitLevel, name: Option<&str>) -> UnitLevel {
    if level.tier() == 1 {
        if let Some(n) = name {
            if n.ends_with('区') {
                return UnitLevel::District;
            }
            if n.ends_with(['县', '市', '旗']) {
                return UnitLevel::County;
            }
        }
    }
    level
}

pub(super) fn polygons_of(g: Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p])),
        Geometry::MultiPolygon(m) => Some(m),
        Geometry::GeometryCollection(gc) => {
            let polys: Vec<Polygon<f64>> =
                gc.0.into_iter()
                    .filter_map(polygons_of)
                    .flat_map(|m| m.0)
                    .collect();
            (!polys.is_empty()).then_some(MultiPolygon(polys))
        }
        _ => None,
    }
}

/// Drops empty and degenerate rings, reports self-intersections (kept: a planner's
/// boundary with a small twist is still the best boundary they have, but they must know).
pub(super) fn clean_polygons(mp: MultiPolygon<f64>) -> (MultiPolygon<f64>, Vec<Said>) {
    let mut problems = Vec::new();
    let mut kept = Vec::new();
    for (i, poly) in mp.0.into_iter().enumerate() {
        if poly.exterior().0.len() < 4 {
            if !poly.exterior().0.is_empty() {
                problems.push(Said::new(
                    format!("part {i}: ring with fewer than 3 vertices dropped"),
                    format!("第 {i} 部分：少于 3 个顶点的环已丢弃"),
                ));
            }
            continue;
        }
        for pr in polygon_problems(&poly) {
            problems.push(Said::new(
                format!("part {i}: {}", pr.en),
                format!("第 {i} 部分：{}", pr.zh.as_deref().unwrap_or(&pr.en)),
            ));
        }
        kept.push(poly);
    }
    (MultiPolygon(kept), problems)
}
