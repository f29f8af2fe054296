//! Builds a [`Dataset`] from a manifest, a folder or a single file.
//!
//! Order: read every layer (source CRS) → check and convert coordinates to WGS84 → choose
//! the local projection from the centre of all data → interpret features into model
//! entities in metres → resolve parent units and attribute joins.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use geo::{
    BoundingRect, Centroid, Coord, Geometry, LineString, MapCoords, MultiPolygon, Point, Polygon,
    Rect,
};
use serde_json::{Map, Value};

use super::crs::{check_plausible, Crs, ToWgs84};
use super::fields::{
    canonical_code, normalise_name, parse_bool, parse_count, FieldMapping, NumberProblem,
};
use super::manifest::{format_of, Format, LayerSpec, Manifest};
use super::osm::OsmLayers;
use super::{feature_label, RawLayer};
use crate::error::{Error, Result};
use crate::geom::{polygon_problems, LocalProjection};
use crate::model::*;
use crate::progress::{check, NoProgress, Progress};

/// Loads a `dataset.toml`, a folder (its dataset.toml, or every data file in it) or one
/// data file.
pub fn load_path(path: &Path) -> Result<Dataset> {
    load_path_with(path, &NoProgress)
}

/// [`load_path`] with progress reporting and cancellation.
pub fn load_path_with(path: &Path, progress: &dyn Progress) -> Result<Dataset> {
    if !path.exists() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        ));
    }
    let (manifest, base) = manifest_for(path)?;
    load_manifest(&manifest, &base, path, progress)
}

/// The manifest `path` is loaded with and the folder its layer paths are relative to: the
/// user's dataset.toml, or one generated for a bare file or folder (roles "auto", CRS from
/// the files). The app's import dialog edits it and loads it with [`load_manifest_with`].
pub fn manifest_for(path: &Path) -> Result<(Manifest, PathBuf)> {
    Ok(if path.is_dir() {
        let m = path.join("dataset.toml");
        if m.exists() {
            (Manifest::from_path(&m)?, path.to_owned())
        } else {
            (Manifest::for_folder(path)?, path.to_owned())
        }
    } else if path.extension().is_some_and(|e| e == "toml") {
        (
            Manifest::from_path(path)?,
            path.parent().unwrap_or(Path::new(".")).to_owned(),
        )
    } else {
        (
            Manifest::for_file(path),
            path.parent().unwrap_or(Path::new(".")).to_owned(),
        )
    })
}

/// Loads a manifest built or edited in memory; `source` names it in messages.
pub fn load_manifest_with(
    manifest: &Manifest,
    base: &Path,
    source: &Path,
    progress: &dyn Progress,
) -> Result<Dataset> {
    load_manifest(manifest, base, source, progress)
}

/// The attribute names of a layer file, for field mapping: a table's header, or every
/// property key of a GeoJSON / Shapefile in order of first appearance. OSM PBF has none
/// (its tags are interpreted by rule).
pub fn layer_columns(path: &Path, encoding: Option<&str>) -> Result<Vec<String>> {
    let raw = match format_of(path) {
        Some(Format::GeoJson) => super::geojson::read(path, &NoProgress)?,
        Some(Format::Shapefile) => super::shp::read(path, encoding, &NoProgress)?,
        Some(Format::Csv) => super::csv::read(path, &FieldMapping::default(), &NoProgress)?,
        Some(Format::OsmPbf) => return Ok(Vec::new()),
        None => {
            return Err(manifest_err(
                path,
                "unsupported file type (use .geojson .shp .csv .osm.pbf)".into(),
            ))
        }
    };
    if let Some(h) = raw.headers {
        return Ok(h);
    }
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for f in &raw.features {
        for k in f.properties.keys() {
            if seen.insert(k.clone()) {
                out.push(k.clone());
            }
        }
    }
    Ok(out)
}

/// A layer read and converted to WGS84, waiting for interpretation.
struct Pending {
    spec: LayerSpec,
    role: LayerRole,
    raw: RawLayer,
    crs: Crs,
    crs_source: String,
}

fn parse_role(s: &str) -> Option<LayerRole> {
    Some(match s.trim().to_lowercase().as_str() {
        "units" | "unit" | "boundaries" => LayerRole::Units,
        "facilities" | "facility" => LayerRole::Facilities,
        "demand" => LayerRole::Demand,
        "network" | "streets" => LayerRole::Network,
        "buildings" => LayerRole::Buildings,
        "planned" => LayerRole::Planned,
        _ => return None,
    })
}

/// Guesses a layer's role from its geometry: polygons are units, points facilities, lines
/// the network. Used for files opened without a manifest.
fn guess_role(raw: &RawLayer) -> LayerRole {
    let mut counts = [0usize; 3];
    for f in &raw.features {
        match &f.geometry {
            Some(Geometry::Polygon(_) | Geometry::MultiPolygon(_)) => counts[0] += 1,
            Some(Geometry::Point(_) | Geometry::MultiPoint(_)) => counts[1] += 1,
            Some(Geometry::LineString(_) | Geometry::MultiLineString(_)) => counts[2] += 1,
            _ => {}
        }
    }
    match counts.iter().enumerate().max_by_key(|(_, c)| **c) {
        Some((0, c)) if *c > 0 => LayerRole::Units,
        Some((2, c)) if *c > 0 => LayerRole::Network,
        Some((1, c)) if *c > 0 => LayerRole::Facilities,
        _ => LayerRole::Units,
    }
}

fn manifest_err(path: &Path, msg: String) -> Error {
    Error::Manifest {
        path: path.to_owned(),
        message: msg,
    }
}

pub(crate) fn load_manifest(
    manifest: &Manifest,
    base: &Path,
    source: &Path,
    progress: &dyn Progress,
) -> Result<Dataset> {
    let mut warnings = Vec::new();
    for k in manifest.extra.keys() {
        warnings.push(LoadWarning::new(
            source,
            None,
            Some(k.clone()),
            Said::new("unknown manifest key; ignored", "未知的清单键，已忽略"),
        ));
    }
    let mut pbf_cache: HashMap<PathBuf, OsmLayers> = HashMap::new();
    let mut pending = Vec::new();
    for (li, spec) in manifest.layers.iter().enumerate() {
        check(progress)?;
        let path = base.join(&spec.path);
        let label = format!("layer {} ({})", li + 1, spec.path);
        for k in spec.extra.keys() {
            warnings.push(LoadWarning::new(
                source,
                Some(label.clone()),
                Some(k.clone()),
                Said::new("unknown layer key; ignored", "未知的图层键，已忽略"),
            ));
        }
        let format = format_of(&path).ok_or_else(|| {
            manifest_err(
                source,
                format!("{label}: unsupported file type (use .geojson .shp .csv .osm.pbf)"),
            )
        })?;
        let declared_role = match spec.role.trim() {
            "auto" | "" => None,
            r => Some(parse_role(r).ok_or_else(|| {
                manifest_err(
                    source,
                    format!("{label}: unknown role '{r}' (units | facilities | demand | network | buildings | planned)"),
                )
            })?),
        };
        let mapping = FieldMapping::new(spec.fields.clone());
        for f in mapping.unknown_fields() {
            warnings.push(LoadWarning::new(
                source,
                Some(label.clone()),
                Some(f),
                Said::new(
                    "unknown model field in [layers.fields]; ignored",
                    "[layers.fields] 中的模型字段未知，已忽略",
                ),
            ));
        }
        let declared_crs = spec
            .crs
            .as_deref()
            .map(Crs::parse)
            .transpose()
            .map_err(|e| manifest_err(source, format!("{label}: {e}")))?;
        if format == Format::OsmPbf {
            if !pbf_cache.contains_key(&path) {
                let osm = super::osm::read(&path, progress)?;
                pbf_cache.insert(path.clone(), osm);
            }
            let osm = &pbf_cache[&path];
            let roles: Vec<LayerRole> = match declared_role {
                Some(r @ (LayerRole::Network | LayerRole::Buildings | LayerRole::Facilities)) => {
                    vec![r]
                }
                Some(r) => {
                    return Err(manifest_err(
                        source,
                        format!(
                            "{label}: an OSM PBF provides network, buildings or facilities, not {}",
                            r.key()
                        ),
                    ))
                }
                None => vec![
                    LayerRole::Network,
                    LayerRole::Buildings,
                    LayerRole::Facilities,
                ],
            };
            for role in roles {
                let raw = match role {
                    LayerRole::Network => osm.network.clone(),
                    LayerRole::Buildings => osm.buildings.clone(),
                    _ => osm.facilities.clone(),
                };
                pending.push(Pending {
                    spec: spec.clone(),
                    role,
                    raw,
                    crs: Crs::Wgs84,
                    crs_source: "OSM (always WGS84)".into(),
                });
            }
            continue;
        }
        let raw = match format {
            Format::GeoJson => super::geojson::read(&path, progress)?,
            Format::Shapefile => super::shp::read(&path, spec.encoding.as_deref(), progress)?,
            Format::Csv => super::csv::read(&path, &mapping, progress)?,
            Format::OsmPbf => unreachable!("handled above"),
        };
        let (crs, crs_source) = match (&declared_crs, &raw.embedded_crs) {
            (Some(d), Some(e)) => {
                if d != e
                    && !(matches!(d, Crs::Wgs84 | Crs::Cgcs2000)
                        && matches!(e, Crs::Wgs84 | Crs::Cgcs2000))
                {
                    warnings.push(LoadWarning::new(
                        path.clone(),
                        None,
                        None,
                        Said::new(
                            format!("the manifest declares {d} but the file says {e}; using the manifest"),
                            format!("清单声明为 {d}，文件却写着 {e}：以清单为准"),
                        ),
                    ));
                }
                (d.clone(), "manifest".to_owned())
            }
            (Some(d), None) => (d.clone(), "manifest".to_owned()),
            (None, Some(e)) => (
                e.clone(),
                if format == Format::Shapefile {
                    ".prj"
                } else {
                    "file"
                }
                .to_owned(),
            ),
            (None, None) => (Crs::Wgs84, "default (WGS84)".to_owned()),
        };
        let role = declared_role.unwrap_or_else(|| guess_role(&raw));
        pending.push(Pending {
            spec: spec.clone(),
            role,
            raw,
            crs,
            crs_source,
        });
    }

    // Convert all coordinates to WGS84.
    for p in &mut pending {
        check(progress)?;
        to_wgs84(p)?;
    }

    // One local projection for everything: the 3° zone of the data's centre.
    let mut bbox: Option<Rect<f64>> = None;
    for p in &pending {
        for f in &p.raw.features {
            if let Some(r) = f.geometry.as_ref().and_then(|g| g.bounding_rect()) {
                bbox = Some(match bbox {
                    None => r,
                    Some(b) => Rect::new(
                        Coord {
                            x: b.min().x.min(r.min().x),
                            y: b.min().y.min(r.min().y),
                        },
                        Coord {
                            x: b.max().x.max(r.max().x),
                            y: b.max().y.max(r.max().y),
                        },
                    ),
                });
            }
        }
    }
    let projection = LocalProjection::for_longitude(bbox.map_or(120.0, |b| b.center().x));
    let bbox_span = bbox.map(|b| b.max().x - b.min().x).unwrap_or(0.0);
    if bbox_span > 6.0 {
        let cm = projection.central_meridian;
        let stretch = 100.0 * ((bbox_span / 2.0).to_radians().powi(2) / 2.0);
        warnings.push(LoadWarning::new(
            source,
            None,
            None,
            Said::new(
                format!("data spans {bbox_span:.1}° of longitude: distances far from CM {cm}°E are stretched (up to {stretch:.2} %)"),
                format!("数据跨经度 {bbox_span:.1}°：远离中央经线 {cm}°E 处的距离被拉伸（最多 {stretch:.2} %）"),
            ),
        ));
    }

    let name = manifest
        .name
        .clone()
        .unwrap_or_else(|| source.display().to_string());
    let mut ds = Dataset::new(&name, source.to_owned(), projection);
    ds.warnings = warnings;
    ds.attribution = manifest.attribution.clone();
    for p in pending {
        check(progress)?;
        interpret(&mut ds, p)?;
    }
    resolve_parents(&mut ds);
    resolve_facility_joins(&mut ds);
    apply_plan_context(&mut ds, manifest, source)?;
    Ok(ds)
}

/// A candidate-site layer (GeoJSON, Shapefile or CSV points) as a dataset of its own, its
/// features proposed facilities of `kind`. `crs` overrides the file's own CRS ("WGS84",
/// "GCJ-02", "EPSG:4547", …). Siting turns it into candidates.
pub fn load_candidate_layer(path: &Path, crs: Option<&str>, kind: FacilityKind) -> Result<Dataset> {
    let spec = LayerSpec {
        role: "facilities".into(),
        path: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        crs: crs.map(str::to_owned),
        kind: Some(kind.key().into()),
        status: Some("proposed".into()),
        ..Default::default()
    };
    let manifest = Manifest {
        name: Some("candidates".into()),
        layers: vec![spec],
        ..Default::default()
    };
    let base = path.parent().unwrap_or(Path::new("."));
    load_manifest(&manifest, base, path, &NoProgress)
}

/// The manifest's central-urban codes, known totals and declared facility kinds.
fn apply_plan_context(ds: &mut Dataset, manifest: &Manifest, source: &Path) -> Result<()> {
    for code in &manifest.central_urban {
        let hits: Vec<usize> = ds
            .units
            .iter()
            .enumerate()
            .filter(|(_, u)| canonical_code(&u.code, u.level) == canonical_code(code, u.level))
            .map(|(i, _)| i)
            .collect();
        if hits.is_empty() {
            ds.warnings.push(LoadWarning::new(
                source,
                None,
                Some("central_urban".into()),
                Said::new(
                    format!("no unit has code {code}; not marked central urban"),
                    format!("没有代码为 {code} 的单元；未标记为中心城区"),
                ),
            ));
        }
        for i in hits {
            ds.units[i].central_urban = Some(true);
        }
    }
    for (i, t) in manifest.known_totals.iter().enumerate() {
        let label = format!("known_totals[{i}] ({})", t.label);
        let mut kinds = Vec::new();
        for k in &t.kinds {
            kinds.push(FacilityKind::parse(k).ok_or_else(|| {
                manifest_err(source, format!("{label}: unknown facility kind '{k}'"))
            })?);
        }
        if kinds.is_empty() {
            return Err(manifest_err(source, format!("{label}: needs 'kinds'")));
        }
        let mut qualifiers = Qualifiers::default();
        for (k, v) in &t.qualifiers {
            let q = Qualifier::parse(k).ok_or_else(|| {
                manifest_err(
                    source,
                    format!("{label}: unknown qualifier '{k}' (standardised, public, public_benefit, comprehensive, demonstration)"),
                )
            })?;
            qualifiers.set(q, Some(*v));
        }
        for (name, v) in [
            ("facilities", t.facilities),
            ("capacity", t.capacity),
            ("nursing_beds", t.nursing_beds),
        ] {
            if v.is_some_and(|x| !(x.is_finite() && x >= 0.0)) {
                return Err(manifest_err(
                    source,
                    format!("{label}: {name} must be zero or positive"),
                ));
            }
        }
        ds.known_totals.push(KnownTotal {
            label: t.label.clone(),
            kinds,
            facilities: t.facilities,
            capacity: t.capacity,
            nursing_beds: t.nursing_beds,
            qualifiers,
            year: t.year,
            at_least: t.at_least,
            source: t.source.clone(),
        });
    }
    for spec in &manifest.layers {
        let role = parse_role(spec.role.trim());
        if !matches!(role, Some(LayerRole::Facilities)) {
            continue;
        }
        for k in spec.kinds.iter().chain(spec.kind.as_ref()) {
            let kind = FacilityKind::parse(k).ok_or_else(|| {
                manifest_err(
                    source,
                    format!("layer {}: unknown facility kind '{k}'", spec.path),
                )
            })?;
            if !ds.declared_kinds.contains(&kind) {
                ds.declared_kinds.push(kind);
            }
        }
    }
    Ok(())
}

/// Checks plausibility on the first coordinate, then converts every vertex.
fn to_wgs84(p: &mut Pending) -> Result<()> {
    let first = p
        .raw
        .features
        .iter()
        .find_map(|f| f.geometry.as_ref().and_then(first_coord));
    let Some(first) = first else { return Ok(()) };
    check_plausible(&p.raw.path, &p.crs, first.x, first.y)?;
    if matches!(p.crs, Crs::Wgs84 | Crs::Cgcs2000) {
        // Still refuse individual impossible vertices (a projected feature among degrees).
        let path = p.raw.path.clone();
        let mut bad = Vec::new();
        for f in &mut p.raw.features {
            if let Some(g) = &f.geometry {
                if let Err(e) =
                    g.try_map_coords(|c| check_plausible(&path, &p.crs, c.x, c.y).map(|_| c))
                {
                    bad.push((feature_label(f.index, &f.properties), e.to_string(), e.zh()));
                    f.geometry = None;
                }
            }
        }
        for (label, msg, zh) in bad {
            p.raw.warn(
                Some(label),
                Some("geometry"),
                Said::new(
                    format!("{msg}; geometry dropped"),
                    format!("{zh}；几何已丢弃"),
                ),
            );
        }
        return Ok(());
    }
    let t = ToWgs84::new(&p.crs)?;
    let mut bad = Vec::new();
    for f in &mut p.raw.features {
        if let Some(g) = f.geometry.take() {
            match g.try_map_coords(|c| t.convert(c.x, c.y).map(|(x, y)| Coord { x, y })) {
                Ok(g) => f.geometry = Some(g),
                Err(e) => bad.push((feature_label(f.index, &f.properties), e)),
            }
        }
    }
    for (label, msg) in bad {
        p.raw.warn(
            Some(label),
            Some("geometry"),
            Said::new(
                format!("{msg}; geometry dropped"),
                format!("{msg}；几何已丢弃"),
            ),
        );
    }
    Ok(())
}

fn first_coord(g: &Geometry<f64>) -> Option<Coord<f64>> {
    use geo::CoordsIter;
    g.coords_iter().next()
}

fn num(
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
fn flag(
    m: &FieldMapping,
    props: &Map<String, Value>,
    field: &str,
    warn: &mut dyn FnMut(Option<&str>, Said),
) -> Option<bool> {
    let (key, v) = m.get(props, field)?;
    let text = super::fields::value_text(v);
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

fn interpret(ds: &mut Dataset, p: Pending) -> Result<()> {
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
                                    Said::new(
                                        format!("unknown level '{t}'"),
                                        format!("未知层级“{t}”"),
                                    ),
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
                    continue;
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
                        continue;
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
                    continue;
                }
                seen_codes.insert(key, name.clone());
                let geometry = match f.geometry {
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
                    total: num(&mapping, &props, "population", &mut w),
                    aged_60plus: num(&mapping, &props, "pop_60plus", &mut w),
                    aged_0_3: num(&mapping, &props, "pop_0_3", &mut w),
                };
                ds.units.push(Unit {
                    id: UnitId(ds.units.len() as u32),
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
                    central_urban: flag(&mapping, &props, "central_urban", &mut w),
                    layer: layer_id,
                    attributes: props,
                });
            }
            LayerRole::Facilities | LayerRole::Planned => {
                let kind = match mapping.get(&props, "kind") {
                    Some((key, v)) => {
                        let t = super::fields::value_text(v);
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
                                continue;
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
                            continue;
                        }
                    },
                };
                let capacity_field = if kind.is_childcare() {
                    "nursery_places"
                } else {
                    "beds"
                };
                let mut capacity = num(&mapping, &props, "capacity", &mut w)
                    .or_else(|| num(&mapping, &props, capacity_field, &mut w));
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
                        let t = super::fields::value_text(v);
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
                let location = match f.geometry {
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
                    qualifiers.set(q, flag(&mapping, &props, q.key(), &mut w));
                }
                if let Some((key, v)) = mapping.get(&props, "grade") {
                    qualifiers.grade = super::fields::parse_grade(v);
                    if qualifiers.grade.is_none() {
                        let t = super::fields::value_text(v);
                        w(
                            Some(key),
                            Said::new(
                                format!("'{t}' is not a grade (1, 一级, 三星 …); kept as unknown"),
                                format!("“{t}”不是等级（1、一级、三星 …）；按未知处理"),
                            ),
                        );
                    }
                }
                let nursing_beds = num(&mapping, &props, "nursing_beds", &mut w);
                let renovation = flag(&mapping, &props, "renovation", &mut w).unwrap_or(false);
                ds.facilities.push(Facility {
                    id: FacilityId(ds.facilities.len() as u32),
                    source_id: mapping
                        .text(&props, "id")
                        .unwrap_or_else(|| format!("{}#{}", spec.path, f.index)),
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
                });
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
                            .map(super::fields::value_text)
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
                    .map(super::fields::value_text)
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

fn layer_default_status(role: LayerRole, layer_status: Option<FacilityStatus>) -> FacilityStatus {
    layer_status.unwrap_or(if role == LayerRole::Planned {
        FacilityStatus::Planned
    } else {
        FacilityStatus::Existing
    })
}

/// County-level units called 区 are districts, others (县, 县级市, 旗) counties.
fn refine_county_level(level: UnitLevel, name: Option<&str>) -> UnitLevel {
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

fn polygons_of(g: Geometry<f64>) -> Option<MultiPolygon<f64>> {
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
fn clean_polygons(mp: MultiPolygon<f64>) -> (MultiPolygon<f64>, Vec<Said>) {
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

/// Links units to their parents by parent code, else by the prefix of a national code.
fn resolve_parents(ds: &mut Dataset) {
    let by_code = ds.units_by_code();
    let lookup = |code: &str, child_tier: u8| -> Option<UnitId> {
        let c = code.trim().trim_end_matches(".0");
        let mut cands = vec![c.to_owned()];
        for lvl in [UnitLevel::County, UnitLevel::Township] {
            cands.push(canonical_code(c, lvl));
        }
        cands
            .iter()
            .filter_map(|k| by_code.get(k))
            .copied()
            .find(|id| ds.units[id.index()].level.tier() < child_tier)
    };
    let mut updates = Vec::new();
    let mut warns = Vec::new();
    for u in &ds.units {
        let tier = u.level.tier();
        let parent = match &u.parent_code {
            Some(pc) => {
                let found = lookup(pc, tier);
                if found.is_none() && !ds.units.is_empty() {
                    // Only a problem when some unit of a higher level exists at all.
                    if ds.units.iter().any(|o| o.level.tier() < tier) {
                        warns.push(LoadWarning::new(
                            ds.layers[u.layer.index()].path.clone(),
                            Some(format!("{} ({})", u.name, u.code)),
                            Some("parent".into()),
                            Said::new(
                                format!("parent code {pc} is not a unit of this dataset"),
                                format!("上级代码 {pc} 不是本数据集中的单元"),
                            ),
                        ));
                    }
                }
                found
            }
            None => {
                let code = canonical_code(&u.code, u.level);
                let digits = code.chars().all(|c| c.is_ascii_digit());
                let mut found = None;
                if digits {
                    for len in [9usize, 6] {
                        if len < code.len() {
                            if let Some(id) = lookup(&code[..len], tier) {
                                found = Some(id);
                                break;
                            }
                        }
                    }
                }
                found
            }
        };
        updates.push(parent);
    }
    for (u, p) in ds.units.iter_mut().zip(updates) {
        u.parent = p;
    }
    ds.warnings.extend(warns);
}

/// Attaches facilities that carry a unit code or town/county name (and no point) to units:
/// by code first, else by name scoped to the county (和平街道 exists in several counties).
fn resolve_facility_joins(ds: &mut Dataset) {
    let by_code = ds.units_by_code();
    let mut by_name: BTreeMap<String, Vec<UnitId>> = BTreeMap::new();
    for u in &ds.units {
        by_name
            .entry(normalise_name(&u.name))
            .or_default()
            .push(u.id);
        let short = strip_level_suffix(&normalise_name(&u.name));
        by_name.entry(short).or_default().push(u.id);
    }
    for v in by_name.values_mut() {
        v.sort();
        v.dedup();
    }
    let find_name = |name: &str, tier: u8, within: Option<UnitId>| -> Vec<UnitId> {
        let n = normalise_name(name);
        let mut ids: Vec<UnitId> = by_name
            .get(&n)
            .or_else(|| by_name.get(&strip_level_suffix(&n)))
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| ds.units[id.index()].level.tier() == tier)
            .filter(|id| within.is_none_or(|w| ds.ancestors(*id).any(|a| a == w)))
            .collect();
        ids.sort();
        ids.dedup();
        ids
    };
    let mut results = Vec::new();
    for f in &ds.facilities {
        if f.unit_ref.is_empty() {
            results.push((None, None, None));
            continue;
        }
        let file = ds.layers[f.layer.index()].path.clone();
        let label = format!("{} ({})", f.name, f.source_id);
        let warn = |msg: Said| LoadWarning::new(file.clone(), Some(label.clone()), None, msg);
        if let Some(code) = &f.unit_ref.code {
            let found = UnitLevel::ALL
                .iter()
                .find_map(|l| by_code.get(&canonical_code(code, *l)).copied());
            match found {
                Some(id) => {
                    results.push((Some(id), Some(UnitJoin::Code), None));
                    continue;
                }
                None => {
                    results.push((
                        None,
                        None,
                        Some(warn(Said::new(
                            format!("unit code {code} is not a unit of this dataset"),
                            format!("单元代码 {code} 不是本数据集中的单元"),
                        ))),
                    ));
                    continue;
                }
            }
        }
        let county = match &f.unit_ref.county {
            Some(c) => {
                let ids = find_name(c, 1, None);
                match ids.as_slice() {
                    [one] => Some(*one),
                    [] => {
                        if f.unit_ref.town.is_none() {
                            results.push((
                                None,
                                None,
                                Some(warn(Said::new(
                                    format!("'{c}' is not a county-level unit of this dataset (city-level or a special zone?): counted in dataset totals only"),
                                    format!("“{c}”不是本数据集中的区县级单元（地级市或特殊区域？）：只计入数据集总数"),
                                ))),
                            ));
                            continue;
                        }
                        None
                    }
                    _ => None,
                }
            }
            None => None,
        };
        let mut unit = county;
        let mut note = None;
        if let Some(town) = &f.unit_ref.town {
            match find_name(town, 2, county).as_slice() {
                [one] => unit = Some(*one),
                [] => {
                    let county = f.unit_ref.county.as_deref();
                    note = Some(warn(Said::new(
                        format!(
                            "town '{town}' not found{}; attached to the county",
                            county.map(|c| format!(" in {c}")).unwrap_or_default()
                        ),
                        format!(
                            "{}未找到乡镇“{town}”；归入区县",
                            county.map(|c| format!("在“{c}”中")).unwrap_or_default()
                        ),
                    )))
                }
                many => {
                    note = Some(warn(Said::new(
                        format!(
                            "town '{town}' is ambiguous ({} matches); attached to the county",
                            many.len()
                        ),
                        format!("乡镇“{town}”有歧义（{} 个匹配）；归入区县", many.len()),
                    )))
                }
            }
            if let (Some(village), Some(t)) = (&f.unit_ref.village, unit) {
                if ds.units[t.index()].level.tier() == 2 {
                    if let [one] = find_name(village, 3, Some(t)).as_slice() {
                        unit = Some(*one);
                    }
                }
            }
        }
        results.push((unit, unit.map(|_| UnitJoin::Name), note));
    }
    for (f, (unit, join, warn)) in ds.facilities.iter_mut().zip(results) {
        if f.location.is_none() || join.is_some() {
            f.unit = unit;
            f.unit_join = join;
        }
        if let Some(w) = warn {
            ds.warnings.push(w);
        }
    }
}

fn strip_level_suffix(n: &str) -> String {
    for s in ["街道", "镇", "乡", "社区", "村"] {
        if let Some(x) = n.strip_suffix(s) {
            if !x.is_empty() {
                return x.to_owned();
            }
        }
    }
    n.to_owned()
}
