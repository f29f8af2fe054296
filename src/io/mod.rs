//! Loading real data: GeoJSON, Shapefile (GBK-aware), CSV, OpenStreetMap PBF and the
//! `dataset.toml` manifest that ties them together.
//!
//! Every format is first read into [`RawLayer`]s (source coordinates, all properties), then
//! converted to WGS84 ([`crs`]), interpreted through a [`fields::FieldMapping`] into model
//! entities and finally projected to local metres ([`load`]). Per-feature problems become
//! [`crate::model::LoadWarning`]s; only problems that make a whole file unusable are errors.

pub mod crs;
pub mod csv;
pub mod dbf;
pub mod edits;
pub mod fields;
pub mod geojson;
pub mod gpkg;
pub mod graph;
pub mod load;
pub mod manifest;
pub mod osm;
pub mod shp;
pub mod text;
pub mod write;
pub mod xlsx;

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::model::LoadWarning;

pub use load::{
    layer_columns, layer_parts, load_manifest_with, load_path, load_path_with, manifest_for,
};

/// One feature as read from a file: geometry in the file's own CRS, all properties.
#[derive(Clone, Debug)]
pub struct RawFeature {
    /// 0-based position in the file, used in messages.
    pub index: usize,
    pub geometry: Option<geo::Geometry<f64>>,
    pub properties: Map<String, Value>,
    /// OSM node ids of a line's vertices, so lines join at shared nodes, not coordinates.
    pub node_ids: Option<Vec<i64>>,
}

/// A file's features before interpretation.
#[derive(Clone, Debug, Default)]
pub struct RawLayer {
    pub path: PathBuf,
    pub features: Vec<RawFeature>,
    /// CRS found in the file itself (.prj, GeoJSON `crs` member), if any.
    pub embedded_crs: Option<crs::Crs>,
    /// For tables: the column names, and whether coordinate columns were found. A table
    /// without them is still valid for units (a code list) and for facilities joined by
    /// unit name or code.
    pub headers: Option<Vec<String>>,
    pub has_coordinates: bool,
    pub warnings: Vec<LoadWarning>,
    /// A demand table read straight into columns (see [`DemandRows`]); `features` is then
    /// empty.
    pub demand: DemandRows,
}

/// A demand table's rows read straight into columns, with no property map per row: a
/// province's table has millions of rows, and a map each took ~0.8 kB (1.3 GB at 1M).
/// Only what a demand point keeps is read: its point, population figures and id.
#[derive(Clone, Debug, Default)]
pub struct DemandRows {
    /// The row's position among the file's records (its feature index).
    pub index: Vec<u32>,
    /// Source coordinates, WGS84 after conversion; `None`: the row has no usable point.
    pub at: Vec<Option<geo::Coord<f64>>>,
    pub population: Vec<crate::model::Population>,
    pub source_id: Vec<Option<std::sync::Arc<str>>>,
    /// The text naming the row in messages (see [`feature_label`]); shares `source_id`'s
    /// text when they are the same column.
    pub label: Vec<Option<std::sync::Arc<str>>>,
    /// What reading a row's fields found (position in these columns, field, message), said
    /// when the row becomes a point (not for a row later dropped for its coordinates).
    pub notes: Vec<(u32, Option<String>, crate::model::Said)>,
}

impl DemandRows {
    pub fn len(&self) -> usize {
        self.index.len()
    }
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }
    /// The row at position `k` as [`feature_label`] would name it.
    pub fn label_of(&self, k: usize) -> String {
        row_label(self.index[k], &self.label[k])
    }
}

/// A demand row named as [`feature_label`] names a feature.
pub(crate) fn row_label(index: u32, label: &Option<std::sync::Arc<str>>) -> String {
    match label {
        Some(t) => format!("#{index} ({t})"),
        None => format!("#{index}"),
    }
}

impl RawLayer {
    pub(crate) fn new(path: &Path) -> Self {
        RawLayer {
            path: path.to_owned(),
            ..Default::default()
        }
    }

    pub(crate) fn warn(
        &mut self,
        feature: Option<String>,
        field: Option<&str>,
        message: impl Into<crate::model::Said>,
    ) {
        self.warnings.push(LoadWarning::new(
            self.path.clone(),
            feature,
            field.map(str::to_owned),
            message,
        ));
    }
}

/// The properties that name a feature in messages, first non-empty wins.
pub(crate) const LABEL_KEYS: [&str; 6] = ["name", "名称", "code", "id", "division_code", "osm_id"];

/// Label for a feature in messages: its index plus its name or id when it has one.
pub fn feature_label(index: usize, props: &Map<String, Value>) -> String {
    for k in LABEL_KEYS {
        if let Some(v) = props.get(k) {
            let t = fields::value_text(v);
            if !t.is_empty() {
                return format!("#{index} ({t})");
            }
        }
    }
    format!("#{index}")
}

/// A path's file name for messages and progress stages (the whole path if it has none).
pub(crate) fn display_name(path: &Path) -> String {
    path.file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

pub use crate::files::{check_readable, read_input, read_input_text, MAX_INPUT_BYTES};
