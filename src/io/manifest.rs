//! `dataset.toml`: a folder's list of layers, their roles, CRS and field mappings.
//!
//! Other tools write these files, so the reader is lenient about keys it does not know (they
//! become warnings) and strict about values it cannot use (an unknown role or CRS is an error
//! naming the layer).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct Manifest {
    pub name: Option<String>,
    /// Attribution lines (licences, sources) shown in the About box and on exports.
    #[serde(default)]
    pub attribution: Vec<String>,
    #[serde(default)]
    pub layers: Vec<LayerSpec>,
    /// Unit codes of the central urban area (中心城区); their descendants belong to it too.
    #[serde(default)]
    pub central_urban: Vec<String>,
    /// Existing stock a source reports without locations.
    #[serde(default)]
    pub known_totals: Vec<KnownTotalSpec>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

/// `[[known_totals]]`: e.g. "128 institutions with 12,080 beds at end-2020" from a plan.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KnownTotalSpec {
    pub label: String,
    /// Facility kinds the figure may contain (one or more).
    pub kinds: Vec<String>,
    pub facilities: Option<f64>,
    /// Beds (elderly care) or places (nurseries).
    pub capacity: Option<f64>,
    pub nursing_beds: Option<f64>,
    pub year: Option<i32>,
    /// The figure is a floor (e.g. only those built in one period), not the whole stock.
    #[serde(default)]
    pub at_least: bool,
    /// A citation: 《title》文号 clause.
    pub source: String,
    /// Qualifiers true of every facility in the figure (e.g. public = true).
    #[serde(default)]
    pub qualifiers: BTreeMap<String, bool>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct LayerSpec {
    /// units | facilities | demand | network | buildings | planned (or "auto").
    pub role: String,
    /// Relative to the manifest.
    pub path: String,
    /// WGS84 | CGCS2000 | GCJ-02 | BD-09 | EPSG:NNNN; default: from the file, else WGS84.
    pub crs: Option<String>,
    /// units: district|county|sub_district|township|community|village (per-feature `level` wins).
    pub level: Option<String>,
    /// facilities: default kind when features carry none.
    pub kind: Option<String>,
    /// facilities: the kinds this layer lists completely (so none found means none exist).
    #[serde(default)]
    pub kinds: Vec<String>,
    /// facilities: default status (existing | planned | proposed).
    pub status: Option<String>,
    /// Display name of the layer.
    pub name: Option<String>,
    /// Model field = the file's property name.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
    /// Every feature is generated, not real (shown as such everywhere).
    pub synthetic: Option<bool>,
    /// facilities: capacity to assume where a feature has none; marked "estimated".
    pub capacity_estimate: Option<f64>,
    /// units/demand: where population figures come from (e.g. "OSM tag, unverified").
    pub population_source: Option<String>,
    pub attribution: Option<String>,
    /// Text encoding of a shapefile's .dbf when it has no .cpg (e.g. "GBK").
    pub encoding: Option<String>,
    /// Excel workbooks: the sheet to read (default: the first).
    pub sheet: Option<String>,
    /// GeoPackage: the feature table to read (default: the only one).
    pub table: Option<String>,
    #[serde(flatten)]
    pub extra: BTreeMap<String, toml::Value>,
}

impl Manifest {
    pub fn from_path(path: &Path) -> Result<Self> {
        let text = super::read_input_text(path)?;
        Self::from_str(&text, path)
    }

    pub fn from_str(text: &str, path: &Path) -> Result<Self> {
        let m: Manifest = toml::from_str(text).map_err(|e| Error::Manifest {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if m.layers.is_empty() {
            return Err(Error::Manifest {
                path: path.to_owned(),
                message: "no [[layers]]: list at least one layer with role and path".into(),
            });
        }
        Ok(m)
    }

    /// A manifest for a single data file, its role guessed from its geometry (a
    /// GeoPackage gives one layer per feature table).
    pub fn for_file(path: &Path) -> Self {
        Manifest {
            name: path.file_stem().map(|s| s.to_string_lossy().into_owned()),
            layers: auto_layers(path),
            ..Default::default()
        }
    }

    /// A manifest for a folder without dataset.toml: every supported file, roles guessed.
    pub fn for_folder(dir: &Path) -> Result<Self> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_supported(p))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(Error::Manifest {
                path: dir.to_owned(),
                message: "no dataset.toml and no .geojson/.shp/.csv/.xlsx/.gpkg/.osm.pbf files in this folder"
                    .into(),
            });
        }
        Ok(Manifest {
            name: dir.file_name().map(|s| s.to_string_lossy().into_owned()),
            layers: files.iter().flat_map(|p| auto_layers(p)).collect(),
            ..Default::default()
        })
    }
}

/// The layers a file gives with roles guessed: one, or a GeoPackage's feature tables (an
/// unreadable GeoPackage gives one layer, so loading it says what is wrong).
fn auto_layers(path: &Path) -> Vec<LayerSpec> {
    let file = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let one = |table: Option<String>| LayerSpec {
        role: "auto".into(),
        path: file.clone(),
        name: table.clone(),
        table,
        ..Default::default()
    };
    if format_of(path) == Some(Format::GeoPackage) {
        if let Ok(t) = crate::io::gpkg::tables(path) {
            if t.len() > 1 {
                return t.into_iter().map(|t| one(Some(t.name))).collect();
            }
        }
    }
    vec![one(None)]
}

/// File formats the loader reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GeoJson,
    Shapefile,
    Csv,
    OsmPbf,
    /// .xlsx / .xlsm / .xls / .ods
    Excel,
    GeoPackage,
}

pub fn format_of(path: &Path) -> Option<Format> {
    let name = path.file_name()?.to_string_lossy().to_lowercase();
    if name.ends_with(".geojson") || name.ends_with(".json") {
        Some(Format::GeoJson)
    } else if name.ends_with(".shp") {
        Some(Format::Shapefile)
    } else if name.ends_with(".csv") || name.ends_with(".txt") {
        Some(Format::Csv)
    } else if name.ends_with(".pbf") {
        Some(Format::OsmPbf)
    } else if [".xlsx", ".xlsm", ".xls", ".ods"]
        .iter()
        .any(|e| name.ends_with(e))
    {
        Some(Format::Excel)
    } else if name.ends_with(".gpkg") {
        Some(Format::GeoPackage)
    } else {
        None
    }
}

/// What the first bytes of a text file say it holds, where that contradicts its name: a
/// `.txt`/`.csv` holding GeoJSON, or a `.json`/`.geojson` holding a table. `None` when the
/// content agrees (or cannot tell).
pub fn sniff(path: &Path, named: Format) -> Option<Format> {
    use std::io::Read;
    if !matches!(named, Format::Csv | Format::GeoJson) {
        return None;
    }
    let mut head = [0u8; 512];
    let n = std::fs::File::open(path).ok()?.read(&mut head).ok()?;
    let text = String::from_utf8_lossy(&head[..n]);
    let first = text
        .trim_start_matches('\u{feff}')
        .trim_start()
        .chars()
        .next()?;
    match (named, first) {
        (Format::Csv, '{') => Some(Format::GeoJson),
        (Format::GeoJson, c) if c != '{' && c != '[' => Some(Format::Csv),
        _ => None,
    }
}

fn is_supported(p: &Path) -> bool {
    p.is_file() && format_of(p).is_some()
}
