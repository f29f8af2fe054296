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

use super::{feature_label, RawLayer};
use crate::error::{Error, Result};
use crate::geom::{polygon_problems, LocalProjection};
use crate::io::crs::{check_plausible, Crs, ToWgs84};
use crate::io::fields::{
    canonical_code, normalise_name, parse_bool, parse_count, FieldMapping, NumberProblem,
};
use crate::io::manifest::{format_of, Format, LayerSpec, Manifest};
use crate::io::osm::OsmLayers;
use crate::model::*;
use crate::progress::{check, Discard, NoProgress, Progress};

mod feature;
mod interpret;
mod joins;
use feature::*;
pub(crate) use interpret::counted;
use interpret::*;
use joins::*;

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

/// The parts of a layer file a layer can pick: an Excel workbook's sheets, a GeoPackage's
/// feature tables; none for other formats (or an unreadable file).
pub fn layer_parts(path: &Path) -> Vec<String> {
    match format_of(path) {
        Some(Format::Excel) => crate::io::xlsx::sheet_names(path).unwrap_or_default(),
        Some(Format::GeoPackage) => crate::io::gpkg::tables(path)
            .map(|t| t.into_iter().map(|t| t.name).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

/// The attribute names of a layer file, for field mapping: a table's header, or every
/// property key of a GeoJSON / Shapefile in order of first appearance. OSM PBF has none
/// (its tags are interpreted by rule).
pub fn layer_columns(path: &Path, spec: &LayerSpec) -> Result<Vec<String>> {
    let encoding = spec.encoding.as_deref();
    let raw = match format_of(path) {
        Some(Format::GeoJson) => crate::io::geojson::read(path, &NoProgress)?,
        Some(Format::Shapefile) => crate::io::shp::read(path, encoding, &NoProgress)?,
        Some(Format::Csv) => crate::io::csv::read(path, &FieldMapping::default(), &NoProgress)?,
        Some(Format::Excel) => crate::io::xlsx::read(
            path,
            spec.sheet.as_deref(),
            &FieldMapping::default(),
            &NoProgress,
        )?,
        Some(Format::GeoPackage) => {
            crate::io::gpkg::read(path, spec.table.as_deref(), true, &NoProgress)?
        }
        Some(Format::OsmPbf) => return Ok(Vec::new()),
        None => {
            return Err(manifest_err(
                path,
                "unsupported file type (use .geojson .shp .csv .xlsx .gpkg .osm.pbf)".into(),
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

/// Loads a manifest's layers: each read and its CRS settled, all converted to WGS84, one
/// local projection chosen for them, then interpreted into the dataset by role, joined,
/// and the plan context (known totals, declared kinds) applied.
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
    // Partial data is freed on another thread if the load stops (see `Discard`).
    let mut pending = Discard::new(Vec::new());
    for (li, spec) in manifest.layers.iter().enumerate() {
        check(progress)?;
        let mut reader = LayerReader {
            base,
            source,
            pbf_cache: &mut pbf_cache,
            warnings: &mut warnings,
            progress,
        };
        pending.extend(reader.read(li, spec)?);
    }

    // Convert all coordinates to WGS84.
    progress.stage("coordinates", Some(pending.len() as u64));
    for p in pending.iter_mut() {
        check(progress)?;
        to_wgs84(p)?;
    }
    let projection = projection_for(&pending, source, &mut warnings)?;

    let name = manifest
        .name
        .clone()
        .unwrap_or_else(|| source.display().to_string());
    let mut ds = Discard::new(Dataset::new(&name, source.to_owned(), projection));
    ds.warnings = warnings;
    ds.attribution = manifest.attribution.clone();
    progress.stage("features", Some(pending.len() as u64));
    let mut rest = Discard::new(pending.into_inner().into_iter());
    for (k, p) in rest.by_ref().enumerate() {
        check(progress)?;
        interpret(&mut ds, p, progress)?;
        progress.advance(k as u64 + 1);
    }
    // Finished: nothing left to free elsewhere.
    drop(rest.into_inner());
    resolve_parents(&mut ds);
    resolve_facility_joins(&mut ds);
    apply_plan_context(&mut ds, manifest, source)?;
    release_freed_memory();
    Ok(ds.into_inner())
}

/// Gives what a load freed back to the system. Files are read and interpreted on every
/// core, and glibc keeps what a thread frees in that thread's arena, where the analysis
/// that follows (on other threads) does not find it: 60 MB more at the peak of the
/// province's 1M-point run. Elsewhere a no-op.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free pages of glibc's arenas to the system (under
    // each arena's lock); no live allocation is touched.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Reads a manifest's layers into pending layers, collecting warnings; an OSM PBF is read
/// once however many layers name it.
struct LayerReader<'a> {
    base: &'a Path,
    source: &'a Path,
    pbf_cache: &'a mut HashMap<PathBuf, OsmLayers>,
    warnings: &'a mut Vec<LoadWarning>,
    progress: &'a dyn Progress,
}

impl LayerReader<'_> {
    /// Layer `li` (0-based) of the manifest: one pending layer, or for an OSM PBF without
    /// a role its network, buildings and facilities.
    fn read(&mut self, li: usize, spec: &LayerSpec) -> Result<Vec<Pending>> {
        let source = self.source;
        let path = self.base.join(&spec.path);
        let label = format!("layer {} ({})", li + 1, spec.path);
        for k in spec.extra.keys() {
            self.warnings.push(LoadWarning::new(
                source,
                Some(label.clone()),
                Some(k.clone()),
                Said::new("unknown layer key; ignored", "未知的图层键，已忽略"),
            ));
        }
        let format = format_of(&path).ok_or_else(|| {
            manifest_err(
                source,
                format!(
                    "{label}: unsupported file type (use .geojson .shp .csv .xlsx .gpkg .osm.pbf)"
                ),
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
            self.warnings.push(LoadWarning::new(
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
            return self.osm(&path, &label, spec, declared_role);
        }
        crate::io::check_readable(&path)?;
        // A file whose content contradicts its name is read as what it holds, with a
        // warning (a .txt of GeoJSON used to load as an empty table).
        let format = match crate::io::manifest::sniff(&path, format) {
            Some(held) => {
                self.warnings.push(LoadWarning::new(
                    path.clone(),
                    None,
                    None,
                    Said::new(
                        format!("the file is named like {format:?} but holds {held:?}; read as {held:?} (rename it to match)"),
                        format!("文件名看似 {format:?}，内容却是 {held:?}：已按 {held:?} 读取（请改正扩展名）"),
                    ),
                ));
                held
            }
            None => format,
        };
        let progress = self.progress;
        let raw = match format {
            Format::GeoJson => crate::io::geojson::read(&path, progress)?,
            Format::Shapefile => crate::io::shp::read(&path, spec.encoding.as_deref(), progress)?,
            // A declared demand table skips the property maps (see `DemandRows`).
            Format::Csv if declared_role == Some(LayerRole::Demand) => {
                crate::io::csv::read_demand(&path, &mapping, progress)?
            }
            Format::Csv => crate::io::csv::read(&path, &mapping, progress)?,
            Format::Excel => {
                crate::io::xlsx::read(&path, spec.sheet.as_deref(), &mapping, progress)?
            }
            Format::GeoPackage => crate::io::gpkg::read(
                &path,
                spec.table.as_deref(),
                declared_crs.is_some(),
                progress,
            )?,
            Format::OsmPbf => unreachable!("handled above"),
        };
        let (crs, crs_source) = self.crs_of(&path, format, declared_crs, &raw.embedded_crs);
        let role = declared_role.unwrap_or_else(|| guess_role(&raw));
        if format == Format::GeoPackage
            && matches!(role, LayerRole::Facilities | LayerRole::Planned)
        {
            // Facilities are points; a polygon table named as facilities is a mistake the
            // user should hear about, not centroids quietly taken.
            if let Some(f) = raw.features.iter().find(|f| {
                !matches!(
                    f.geometry,
                    None | Some(geo::Geometry::Point(_)) | Some(geo::Geometry::MultiPoint(_))
                )
            }) {
                let table = crate::io::gpkg::pick_table(&path, spec.table.as_deref())
                    .map(|t| t.name)
                    .unwrap_or_else(|_| spec.path.clone());
                return Err(manifest_err(
                    source,
                    format!(
                        "{label}: GeoPackage table '{table}' is a facilities layer but feature {} is not a point",
                        crate::io::feature_label(f.index, &f.properties)
                    ),
                ));
            }
        }
        Ok(vec![Pending {
            spec: spec.clone(),
            role,
            raw,
            crs,
            crs_source,
        }])
    }

    /// The layers an OSM PBF gives for the declared role (or all three).
    fn osm(
        &mut self,
        path: &Path,
        label: &str,
        spec: &LayerSpec,
        declared_role: Option<LayerRole>,
    ) -> Result<Vec<Pending>> {
        if !self.pbf_cache.contains_key(path) {
            let osm = crate::io::osm::read(path, self.progress)?;
            self.pbf_cache.insert(path.to_owned(), osm);
        }
        let osm = &self.pbf_cache[path];
        let roles: Vec<LayerRole> = match declared_role {
            Some(r @ (LayerRole::Network | LayerRole::Buildings | LayerRole::Facilities)) => {
                vec![r]
            }
            Some(r) => {
                return Err(manifest_err(
                    self.source,
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
        Ok(roles
            .into_iter()
            .map(|role| Pending {
                spec: spec.clone(),
                role,
                raw: match role {
                    LayerRole::Network => osm.network.clone(),
                    LayerRole::Buildings => osm.buildings.clone(),
                    _ => osm.facilities.clone(),
                },
                crs: Crs::Wgs84,
                crs_source: "OSM (always WGS84)".into(),
            })
            .collect())
    }

    /// The layer's CRS and where it was learnt: the manifest wins over the file (with a
    /// warning when they disagree beyond WGS84 ≈ CGCS2000), WGS84 when neither says.
    fn crs_of(
        &mut self,
        path: &Path,
        format: Format,
        declared: Option<Crs>,
        embedded: &Option<Crs>,
    ) -> (Crs, String) {
        match (declared, embedded) {
            (Some(d), Some(e)) => {
                if d != *e
                    && !(matches!(d, Crs::Wgs84 | Crs::Cgcs2000)
                        && matches!(e, Crs::Wgs84 | Crs::Cgcs2000))
                {
                    self.warnings.push(LoadWarning::new(
                        path.to_owned(),
                        None,
                        None,
                        Said::new(
                            format!("the manifest declares {d} but the file says {e}; using the manifest"),
                            format!("清单声明为 {d}，文件却写着 {e}：以清单为准"),
                        ),
                    ));
                }
                (d, "manifest".to_owned())
            }
            (Some(d), None) => (d, "manifest".to_owned()),
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
        }
    }
}

/// One local projection for everything: the 3° zone of the data's centre, with a
/// warning when the data spans so much longitude that distances stretch.
fn projection_for(
    pending: &[Pending],
    source: &Path,
    warnings: &mut Vec<LoadWarning>,
) -> Result<LocalProjection> {
    outside_china(pending)?;
    let mut bbox: Option<Rect<f64>> = None;
    for p in pending {
        for r in layer_rects(&p.raw) {
            bbox = Some(match bbox {
                None => r,
                Some(b) => crate::geom::union_rect(b, r),
            });
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
    Ok(projection)
}

/// The bounding boxes of a layer's features and of its demand rows' points.
fn layer_rects(raw: &RawLayer) -> impl Iterator<Item = Rect<f64>> + '_ {
    raw.features
        .iter()
        .filter_map(|f| f.geometry.as_ref().and_then(|g| g.bounding_rect()))
        .chain(raw.demand.at.iter().flatten().map(|c| Rect::new(*c, *c)))
}

/// Refuses a layer whose coordinates (after conversion to WGS84) lie outside China: the
/// local projection (a CGCS2000 3° zone, 75°E–135°E) would measure them wrongly, and such
/// data almost always means a wrong declared CRS.
fn outside_china(pending: &[Pending]) -> Result<()> {
    for p in pending {
        let Some(r) = layer_rects(&p.raw).reduce(crate::geom::union_rect) else {
            continue;
        };
        let inside = |x: f64, y: f64| (72.0..=137.0).contains(&x) && (2.0..=56.0).contains(&y);
        if !(inside(r.min().x, r.min().y) && inside(r.max().x, r.max().y)) {
            let c = r.center();
            return Err(Error::format_zh(
                &p.raw.path,
                format!(
                    "coordinates lie around {:.3}°E {:.3}°N, outside China (73–136°E, 3–54°N) where CareCircle measures distances (CGCS2000 3° zones): is the CRS right? ({} from {})",
                    c.x, c.y, p.crs, p.crs_source
                ),
                format!(
                    "坐标位于约 东经 {:.3}° 北纬 {:.3}°，在中国范围（东经 73–136°，北纬 3–54°）之外，无法用 CGCS2000 3° 分带测距：坐标系是否正确？（{}，来自{}）",
                    c.x, c.y, p.crs, p.crs_source
                ),
            ));
        }
    }
    Ok(())
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

/// The geometries of one layer file (points, lines or polygons) in WGS84 lon/lat, for
/// layers that are only shapes: areas where no site may go. Read, CRS-detected and checked
/// like every other layer; features without a geometry are skipped and counted.
pub fn load_geometry_layer(path: &Path, crs: Option<&str>) -> Result<(Vec<Geometry<f64>>, usize)> {
    let spec = LayerSpec {
        role: "auto".into(),
        path: path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default(),
        crs: crs.map(str::to_owned),
        ..Default::default()
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut pbf_cache = HashMap::new();
    let mut warnings = Vec::new();
    let mut reader = LayerReader {
        base,
        source: path,
        pbf_cache: &mut pbf_cache,
        warnings: &mut warnings,
        progress: &NoProgress,
    };
    let mut out = Vec::new();
    let mut without = 0;
    for mut p in reader.read(0, &spec)? {
        to_wgs84(&mut p)?;
        for f in p.raw.features {
            match f.geometry {
                Some(g) => out.push(g),
                None => without += 1,
            }
        }
    }
    Ok((out, without))
}

/// Checks plausibility on the first coordinate, then converts every vertex.
fn to_wgs84(p: &mut Pending) -> Result<()> {
    let first = p
        .raw
        .features
        .iter()
        .find_map(|f| f.geometry.as_ref().and_then(first_coord))
        .or_else(|| p.raw.demand.at.iter().flatten().next().copied());
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
        let rows = &mut p.raw.demand;
        for k in 0..rows.len() {
            if let Some(c) = rows.at[k] {
                if let Err(e) = check_plausible(&path, &p.crs, c.x, c.y) {
                    bad.push((rows.label_of(k), e.to_string(), e.zh()));
                    rows.at[k] = None;
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
    let t = ToWgs84::new(&p.crs).map_err(|e| match e {
        // This build cannot convert it: the error says what it can.
        Error::NeedsProj(_) => Error::format_zh(
            &p.raw.path,
            format!("CRS from {}: {e}", p.crs_source),
            format!("坐标系来自{}：{}", p.crs_source, e.zh()),
        ),
        e => Error::format_zh(
            &p.raw.path,
            format!(
                "CRS {} (from {}) cannot be used: {e} — check the code (CGCS2000 Gauss-Krüger zones are EPSG:4491–4554)",
                p.crs, p.crs_source
            ),
            format!(
                "坐标系 {}（来自{}）无法使用：{e}——请检查代码（CGCS2000 高斯-克吕格分带为 EPSG:4491–4554）",
                p.crs, p.crs_source
            ),
        ),
    })?;
    let mut bad = Vec::new();
    for f in &mut p.raw.features {
        if let Some(g) = f.geometry.take() {
            match g.try_map_coords(|c| t.convert(c.x, c.y).map(|(x, y)| Coord { x, y })) {
                Ok(g) => f.geometry = Some(g),
                Err(e) => bad.push((feature_label(f.index, &f.properties), e)),
            }
        }
    }
    let rows = &mut p.raw.demand;
    for k in 0..rows.len() {
        if let Some(c) = rows.at[k] {
            match t.convert(c.x, c.y) {
                Ok((x, y)) => rows.at[k] = Some(Coord { x, y }),
                Err(e) => {
                    bad.push((rows.label_of(k), e));
                    rows.at[k] = None;
                }
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

/// What loading a dataset will take in memory, estimated from its files' sizes before any
/// is read — so a province that will not fit is refused in a second, not after minutes of
/// swapping. `bytes` is the estimate (±50 %), `files` each layer file with its size.
#[derive(Clone, Debug)]
pub struct MemoryEstimate {
    pub bytes: u64,
    pub files: Vec<(PathBuf, u64)>,
}

/// Memory per byte of file, by format and role. Measured on the generated province
/// (`tools/build_province.py`; 100k and 1M points) and the Harbin demo: a demand CSV
/// row (~50 bytes) read into columns costs ~0.25 kB while loading and analysing (5×; it was
/// 22× with a property map per row, which other tables still have); GeoJSON polygons ~6×
/// their text; Harbin's folder, mostly an OSM PBF, ~20×. Not measured, set between those:
/// demand as GeoJSON points (11×) and GeoPackage (10×).
fn memory_factor(format: Option<Format>, role: &str) -> f64 {
    match (format, role) {
        (Some(Format::Csv), r) if parse_role(r) == Some(LayerRole::Demand) => 5.0,
        (Some(Format::Csv) | Some(Format::Excel), _) => 22.0,
        (Some(Format::OsmPbf), _) => 20.0,
        (Some(Format::GeoJson), "demand") => 11.0,
        (Some(Format::GeoPackage), _) => 10.0,
        _ => 6.0,
    }
}

/// The estimate for `path` (a folder, a dataset.toml or a file); files that do not exist
/// are left to the loader to name.
pub fn estimate_memory(path: &Path) -> Result<MemoryEstimate> {
    let (manifest, base) = manifest_for(path)?;
    // What a process holds before any data (code, font, index structures).
    let mut bytes = 30.0 * 1024.0 * 1024.0;
    let mut files = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for l in &manifest.layers {
        let p = base.join(&l.path);
        let Ok(m) = std::fs::metadata(&p) else {
            continue;
        };
        let mut len = m.len();
        // A shapefile's attributes are beside it.
        if format_of(&p) == Some(Format::Shapefile) {
            len += std::fs::metadata(p.with_extension("dbf")).map_or(0, |m| m.len());
        }
        // One OSM file can serve several roles (network, buildings): read once.
        if seen.insert(p.clone()) {
            bytes += len as f64 * memory_factor(format_of(&p), &l.role);
            files.push((p, len));
        }
    }
    Ok(MemoryEstimate {
        bytes: bytes as u64,
        files,
    })
}

/// The `--max-memory` limit for this process (unset or `None`: the memory available when a
/// load starts). Set once by the front end; the CLI and the app's loader both read it.
static MEMORY_LIMIT: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();

/// Sets the limit [`check_memory`] applies (the first call wins).
pub fn set_memory_limit(limit: Option<u64>) {
    let _ = MEMORY_LIMIT.set(limit);
}

/// Memory a new job can have now (`MemAvailable`), where the system says.
pub fn available_memory() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = s.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A size in the `--max-memory` spelling: "1.3G", "512M".
pub fn size_arg(b: u64) -> String {
    if b >= 1 << 30 {
        format!("{:.1}G", b as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.0}M", b as f64 / (1u64 << 20) as f64)
    }
}

/// The same for people: "1.3 GB", "512 MB".
fn gib(b: u64) -> String {
    let a = size_arg(b);
    format!("{} {}B", &a[..a.len() - 1], &a[a.len() - 1..])
}

/// Refuses, before anything is read, a dataset whose estimated memory ([`estimate_memory`])
/// exceeds the `--max-memory` limit or, without one, the memory available now: the error
/// names the estimate, the three largest files and the option. A path the estimate cannot
/// read is left to the loader to name.
pub fn check_memory(path: &Path) -> Result<()> {
    let (limit, from_en, from_zh) = match MEMORY_LIMIT.get().copied().flatten() {
        Some(l) => (l, "--max-memory", "--max-memory"),
        None => match available_memory() {
            Some(l) => (
                l,
                "the memory available now; set another with --max-memory",
                "当前可用内存；可用 --max-memory 另设",
            ),
            None => return Ok(()),
        },
    };
    let Ok(est) = estimate_memory(path) else {
        return Ok(());
    };
    if est.bytes <= limit {
        return Ok(());
    }
    let mut files = est.files.clone();
    files.sort_by_key(|f| std::cmp::Reverse(f.1));
    let biggest = files
        .iter()
        .take(3)
        .map(|(p, n)| format!("{} ({})", p.display(), gib(*n)))
        .collect::<Vec<_>>();
    let try_with = size_arg(est.bytes * 3 / 2);
    Err(Error::Input {
        en: format!(
            "{}: loading needs an estimated {} of memory (from its files: {}), more than the {} allowed ({from_en}). Pass --max-memory {try_with} to try anyway (the app: carecircle --max-memory {try_with} app …), or split the data (a county or a province at a time: coverage is local)",
            path.display(),
            gib(est.bytes),
            biggest.join(", "),
            gib(limit),
        ),
        zh: format!(
            "{}：加载估计需要 {} 内存（按文件估算：{}），超过允许的 {}（{from_zh}）。如仍要尝试，请加 --max-memory {try_with}（桌面程序：carecircle --max-memory {try_with} app …），或拆分数据（逐县或逐省：覆盖分析是局部的）",
            path.display(),
            gib(est.bytes),
            biggest.join("、"),
            gib(limit),
        ),
    })
}
