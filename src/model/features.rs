//! What else a dataset holds: demand points, street lines, buildings, layers and the
//! warnings of loading them.

use std::fmt;
use std::path::PathBuf;

use geo::{LineString, Point, Polygon};
use serde::{Deserialize, Serialize};

use super::{BuildingId, DemandId, LayerId, LineId, Population};
use crate::crs::Crs;

/// A point carrying people (e.g. a residential block centroid).
#[derive(Clone, Debug)]
pub struct DemandPoint {
    pub id: DemandId,
    /// The id the source file gave it (its `id`/编号 field), if any: outputs keep it.
    /// Shared (`Arc`), so every output row naming the point does not copy it.
    pub source_id: Option<std::sync::Arc<str>>,
    pub location: Point<f64>,
    pub population: Population,
    pub layer: LayerId,
    // No per-point attribute table: a province has millions of demand points, outputs name
    // them by `source_id`, and nothing reads their other columns (a map per point cost
    // ~0.5 kB each).
}

/// A walkable street line; `node_ids` are OSM node ids when the line came from OSM, so the
/// network builder can join lines at shared nodes rather than by coordinates.
#[derive(Clone, Debug)]
pub struct NetworkLine {
    pub id: LineId,
    pub geometry: LineString<f64>,
    pub node_ids: Option<Vec<i64>>,
    pub highway: Option<String>,
    pub name: Option<String>,
    pub layer: LayerId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildingKind {
    /// A residential building footprint (weight: area × floors).
    Residential,
    /// Another building type; kept for display and as a weak demand carrier.
    Other,
    /// landuse=residential: a residential area without building footprints.
    ResidentialLanduse,
}

/// A demand carrier: residential building footprint or residential landuse.
#[derive(Clone, Debug)]
pub struct Building {
    pub id: BuildingId,
    pub footprint: Polygon<f64>,
    pub kind: BuildingKind,
    pub levels: Option<f64>,
    pub layer: LayerId,
}

/// What a layer contributes to the dataset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerRole {
    Units,
    Facilities,
    Demand,
    Network,
    Buildings,
    /// Facilities that are planned, not built (status defaults to planned).
    Planned,
}

impl LayerRole {
    pub fn key(self) -> &'static str {
        match self {
            LayerRole::Units => "units",
            LayerRole::Facilities => "facilities",
            LayerRole::Demand => "demand",
            LayerRole::Network => "network",
            LayerRole::Buildings => "buildings",
            LayerRole::Planned => "planned",
        }
    }
}

/// One loaded layer: where it came from and what it produced.
#[derive(Clone, Debug)]
pub struct Layer {
    pub id: LayerId,
    pub name: String,
    pub role: LayerRole,
    pub path: PathBuf,
    /// The CRS the coordinates were declared (or detected) in, before projection.
    pub crs: Crs,
    /// How the CRS was decided: "manifest", ".prj", "default".
    pub crs_source: String,
    pub features_read: usize,
    pub features_loaded: usize,
    /// Free-text provenance / licence, shown in the About box and exports.
    pub attribution: Option<String>,
}

pub use crate::texts::Said;

/// A recoverable problem in one feature: the feature was skipped or a field ignored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LoadWarning {
    pub file: PathBuf,
    /// Feature index (0-based) and, where known, its id or name.
    pub feature: Option<String>,
    pub field: Option<String>,
    pub message: String,
    /// The message in Chinese, where the loader has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(feat) = &self.feature {
            write!(f, ", feature {feat}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl LoadWarning {
    pub fn new(
        file: impl Into<PathBuf>,
        feature: Option<String>,
        field: Option<String>,
        message: impl Into<Said>,
    ) -> Self {
        let Said { en, zh } = message.into();
        LoadWarning {
            file: file.into(),
            feature,
            field,
            message: en,
            zh,
        }
    }

    /// For the Chinese UI: file, feature and field in a Chinese frame around the Chinese
    /// message (the English one where the loader has no Chinese).
    pub fn zh(&self) -> String {
        let mut s = self.file.display().to_string();
        if let Some(feat) = &self.feature {
            s.push_str(&format!("，要素 {feat}"));
        }
        if let Some(field) = &self.field {
            s.push_str(&format!("，字段“{field}”"));
        }
        format!("{s}：{}", self.zh.as_deref().unwrap_or(&self.message))
    }
}
