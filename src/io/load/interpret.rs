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
    match parse_count(v) {
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

pub(super) fn interpret(ds: &mut Dataset, p: Pending) -> Result<()> {
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
    let features_read = raw.features.len();
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

    for f in raw.features {
        let label = feature_label(f.index, &f.properties);
        let mut w = |field: Option<&str>, msg: Said| push_warn(Some(label.clone()), field, msg);
        let props = f.properties;
        match role {
            LayerRole::Units => {
                let id = UnitId(ds.units.len() as u32);
                let ctx = UnitCtx {
                    mapping: &mapping,
                    spec: &spec,
                    layer_level,
                    layer_id,
                    fwd: &fwd,
                };
                match unit_of(&ctx, id, f.geometry, props, &mut seen_codes, &mut w) {
                    Some(u) => ds.units.push(u),
                    None => continue,
                }
            }
            LayerRole::Facilities | LayerRole::Planned => {
                let ctx = FacilityCtx {
                    mapping: &mapping,
                    spec: &spec,
                    role,
                    layer_kind,
                    layer_status,
                    synthetic_layer,
                    layer_id,
                    fwd: &fwd,
                };
                let id = FacilityId(ds.facilities.len() as u32);
                match facility_of(&ctx, id, f.index, f.geometry, props, &mut w) {
                    Some(fac) => ds.facilities.push(fac),
                    None => continue,
                }
            }
            LayerRole::Demand => {
                let Some(Geometry::Point(pt)) = f.geometry else {
                    w(
                        Some("geometry"),
                        Said::new(
                            "demand must be a point; skipped",
                            "需求点必须是点要素；已跳过",
                        ),
                    );
                    continue;
                };
                let population = Population {
                    total: num(&mapping, &props, "population", &mut w),
                    aged_60plus: num(&mapping, &props, "pop_60plus", &mut w),
                    aged_0_3: num(&mapping, &props, "pop_0_3", &mut w),
                };
                if population == Population::default() {
                    w(
                        Some("population"),
                        Said::new(
                            "no population figure; the point carries no demand",
                            "没有人口数：该点不计需求",
                        ),
                    );
                }
                ds.demand.push(DemandPoint {
                    id: DemandId(ds.demand.len() as u32),
                    location: Point(fwd(pt.0)),
                    population,
                    layer: layer_id,
                    attributes: props,
                });
            }
            LayerRole::Network => {
                let lines: Vec<LineString<f64>> = match f.geometry {
                    Some(Geometry::LineString(l)) => vec![l],
                    Some(Geometry::MultiLineString(m)) => m.0,
                    _ => {
                        w(
                            Some("geometry"),
                            Said::new("not a line; skipped", "不是线要素；已跳过"),
                        );
                        continue;
                    }
                };
                let single = lines.len() == 1;
                let mut node_ids = f.node_ids;
                for l in lines {
                    if l.0.len() < 2 {
                        w(
                            Some("geometry"),
                            Said::new(
                                "line with fewer than 2 vertices; skipped",
                                "少于 2 个顶点的线；已跳过",
                            ),
                        );
                        continue;
                    }
                    ds.network.push(NetworkLine {
                        id: LineId(ds.network.len() as u32),
                        geometry: l.map_coords(fwd),
                        node_ids: if single { node_ids.take() } else { None },
                        highway: props
                            .get("highway")
                            .map(crate::io::fields::value_text)
                            .filter(|s| !s.is_empty()),
                        name: mapping.text(&props, "name"),
                        layer: layer_id,
                    });
                }
            }
            LayerRole::Buildings => {
                let Some(mp) = f.geometry.and_then(polygons_of) else {
                    w(
                        Some("geometry"),
                        Said::new("not a polygon; skipped", "不是多边形；已跳过"),
                    );
                    continue;
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
            }
        }
        loaded += 1;
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

/// What every facility of one layer is read with.
struct FacilityCtx<'a> {
    mapping: &'a FieldMapping,
    spec: &'a LayerSpec,
    role: LayerRole,
    layer_kind: Option<FacilityKind>,
    layer_status: Option<FacilityStatus>,
    synthetic_layer: bool,
    layer_id: LayerId,
    fwd: &'a dyn Fn(Coord<f64>) -> Coord<f64>,
}

/// One facility feature: kind, capacity, status, location or unit reference, qualifiers,
/// year. `None` (with a warning said) when it cannot be used.
fn facility_of(
    ctx: &FacilityCtx,
    id: FacilityId,
    index: usize,
    geometry: Option<Geometry<f64>>,
    props: Map<String, Value>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<Facility> {
    let FacilityCtx {
        mapping,
        spec,
        role,
        layer_kind,
        layer_status,
        synthetic_layer,
        layer_id,
        fwd,
    } = *ctx;
    let mut w = |field: Option<&str>, msg: Said| w(field, msg);
    let kind = match mapping.get(&props, "kind") {
        Some((key, v)) => {
            let t = crate::io::fields::value_text(v);
            match FacilityKind::parse(&t) {
                Some(k) => k,
                None => {
                    w(
                        Some(key),
                        Said::new(
                            format!("'{t}' is not a care facility kind; skipped"),
                            format!("“{t}”不是养老托育设施类型；已跳过"),
                        ),
                    );
                    return None;
                }
            }
        }
        None => match layer_kind.or_else(|| {
            mapping
                .text(&props, "name")
                .as_deref()
                .and_then(FacilityKind::parse)
        }) {
            Some(k) => k,
            None => {
                w(
                    Some("kind"),
                    Said::new(
                        "no facility kind (set kind in the manifest or a 'kind' property); skipped",
                        "没有设施类型（请在清单中设置 kind，或提供 'kind' 属性）；已跳过",
                    ),
                );
                return None;
            }
        },
    };
    let capacity_field = if kind.is_childcare() {
        "nursery_places"
    } else {
        "beds"
    };
    let mut capacity = num(mapping, &props, "capacity", &mut w)
        .or_else(|| num(mapping, &props, capacity_field, &mut w));
    let mut capacity_estimated = mapping
        .get(&props, "capacity_estimated")
        .and_then(|(_, v)| parse_bool(v))
        .unwrap_or(false);
    if capacity.is_none() {
        if let Some(est) = spec.capacity_estimate {
            capacity = Some(est);
            capacity_estimated = true;
        }
    }
    let status = match mapping.get(&props, "status") {
        Some((key, v)) => {
            let t = crate::io::fields::value_text(v);
            FacilityStatus::parse(&t).unwrap_or_else(|| {
                w(
                    Some(key),
                    Said::new(
                        format!("unknown status '{t}'; using the layer's"),
                        format!("未知状态“{t}”，改用图层的状态"),
                    ),
                );
                layer_default_status(role, layer_status)
            })
        }
        None => layer_default_status(role, layer_status),
    };
    let location = match geometry {
        None => None,
        Some(Geometry::Point(pt)) => Some(pt),
        Some(Geometry::MultiPoint(mp)) if !mp.0.is_empty() => {
            if mp.0.len() > 1 {
                w(
                    Some("geometry"),
                    Said::new(
                        format!("{} points; using the first", mp.0.len()),
                        format!("{} 个点，取第一个", mp.0.len()),
                    ),
                );
            }
            Some(mp.0[0])
        }
        Some(g) => match g.centroid() {
            Some(c) => Some(c),
            None => {
                w(Some("geometry"), Said::new("empty geometry", "几何为空"));
                None
            }
        },
    }
    .map(|pt| Point(fwd(pt.0)));
    let unit_ref = UnitRef {
        code: mapping.text(&props, "unit_code"),
        town: mapping.text(&props, "town"),
        county: mapping.text(&props, "county"),
        village: mapping.text(&props, "village"),
    };
    if location.is_none() && unit_ref.is_empty() {
        w(
            None,
            Said::new(
                "no location and no unit code or town/county name: it cannot be placed",
                "没有位置，也没有单元代码或乡镇/区县名称：无法定位",
            ),
        );
    }
    let synthetic = synthetic_layer
        || mapping
            .get(&props, "synthetic")
            .and_then(|(_, v)| parse_bool(v))
            .unwrap_or(false);
    let year = mapping
        .get(&props, "year")
        .and_then(|(_, v)| parse_count(v).ok())
        .map(|y| y as i32);
    let mut qualifiers = Qualifiers::default();
    for q in Qualifier::ALL {
        qualifiers.set(q, flag(mapping, &props, q.key(), &mut w));
    }
    if let Some((key, v)) = mapping.get(&props, "grade") {
        qualifiers.grade = crate::io::fields::parse_grade(v);
        if qualifiers.grade.is_none() {
            let t = crate::io::fields::value_text(v);
            w(
                Some(key),
                Said::new(
                    format!("'{t}' is not a grade (1, 一级, 三星 …); kept as unknown"),
                    format!("“{t}”不是等级（1、一级、三星 …）；按未知处理"),
                ),
            );
        }
    }
    let nursing_beds = num(mapping, &props, "nursing_beds", &mut w);
    let renovation = flag(mapping, &props, "renovation", &mut w).unwrap_or(false);
    Some(Facility {
        id,
        source_id: mapping
            .text(&props, "id")
            .unwrap_or_else(|| format!("{}#{}", spec.path, index)),
        name: mapping.text(&props, "name").unwrap_or_default(),
        kind,
        capacity,
        capacity_estimated,
        nursing_beds,
        qualifiers,
        renovation,
        status,
        synthetic,
        location,
        unit_ref,
        unit: None,
        unit_join: None,
        year,
        layer: layer_id,
        attributes: props,
    })
}

/// What every unit of one layer is read with.
struct UnitCtx<'a> {
    mapping: &'a FieldMapping,
    spec: &'a LayerSpec,
    layer_level: Option<UnitLevel>,
    layer_id: LayerId,
    fwd: &'a dyn Fn(Coord<f64>) -> Coord<f64>,
}

/// One unit feature: name, code, level, parent, shape (repaired where it can be),
/// population; duplicate codes refused. `None` (with a warning said) when it cannot be used.
fn unit_of(
    ctx: &UnitCtx,
    id: UnitId,
    geometry: Option<Geometry<f64>>,
    props: Map<String, Value>,
    seen_codes: &mut HashMap<(UnitLevel, String), String>,
    w: &mut dyn FnMut(Option<&str>, Said),
) -> Option<Unit> {
    let UnitCtx {
        mapping,
        spec,
        layer_level,
        layer_id,
        fwd,
    } = *ctx;
    let mut w = |field: Option<&str>, msg: Said| w(field, msg);
    let name = mapping.text(&props, "name");
    let code = mapping.text(&props, "code");
    let level = match mapping.text(&props, "level") {
        Some(t) => match UnitLevel::parse(&t) {
            Some(l) => Some(l),
            None => {
                // cnmaps writes 区县 for every county-level unit: refine by name.
                let by_name = name.as_deref().and_then(UnitLevel::from_name);
                if by_name.is_none() {
                    w(
                        Some("level"),
                        Said::new(format!("unknown level '{t}'"), format!("未知层级“{t}”")),
                    );
                }
                by_name.or(layer_level)
            }
        }
        .map(|l| refine_county_level(l, name.as_deref())),
        None => layer_level.or_else(|| name.as_deref().and_then(UnitLevel::from_name)),
    };
    let Some(level) = level else {
        w(
            Some("level"),
            Said::new(
                "cannot tell the unit's level: set level in the manifest or a 'level' property; skipped",
                "无法判断单元层级：请在清单中设置 level，或提供 'level' 属性；已跳过",
            ),
        );
        return None;
    };
    let (code, name) = match (code, name) {
        (Some(c), Some(n)) => (c, n),
        (Some(c), None) => (c.clone(), c),
        (None, Some(n)) => {
            w(
                Some("code"),
                Said::new(
                    "no unit code: joins by code are impossible; using the name",
                    "没有单元代码：无法按代码关联，改用名称",
                ),
            );
            (n.clone(), n)
        }
        (None, None) => {
            w(
                None,
                Said::new("neither code nor name; skipped", "既无代码也无名称；已跳过"),
            );
            return None;
        }
    };
    let key = (level, canonical_code(&code, level));
    if let Some(first) = seen_codes.get(&key) {
        w(
            Some("code"),
            Said::new(
                format!(
                    "duplicate {} code {code} (already used by {first}); skipped",
                    level.key()
                ),
                format!(
                    "{}代码 {code} 重复（已被 {first} 使用）；已跳过",
                    level.zh()
                ),
            ),
        );
        return None;
    }
    seen_codes.insert(key, name.clone());
    let geometry = match geometry {
        None => None,
        Some(g) => match polygons_of(g) {
            Some(mp) => {
                let (mp, problems) = clean_polygons(mp);
                for pr in problems {
                    w(Some("geometry"), pr);
                }
                if mp.0.is_empty() {
                    w(
                        Some("geometry"),
                        Said::new(
                            "empty polygon; the unit is kept without a shape",
                            "空多边形：保留该单元，但没有边界",
                        ),
                    );
                    None
                } else {
                    Some(mp.map_coords(fwd))
                }
            }
            None => {
                w(
                    Some("geometry"),
                    Said::new(
                        "not a polygon; the unit is kept without a shape",
                        "不是多边形：保留该单元，但没有边界",
                    ),
                );
                None
            }
        },
    };
    let population = Population {
        total: num(mapping, &props, "population", &mut w),
        aged_60plus: num(mapping, &props, "pop_60plus", &mut w),
        aged_0_3: num(mapping, &props, "pop_0_3", &mut w),
    };
    Some(Unit {
        id,
        code,
        name,
        level,
        parent_code: mapping.text(&props, "parent"),
        parent: None,
        geometry,
        population,
        population_source: mapping
            .text(&props, "population_source")
            .or_else(|| spec.population_source.clone()),
        central_urban: flag(mapping, &props, "central_urban", &mut w),
        layer: layer_id,
        attributes: props,
    })
}
