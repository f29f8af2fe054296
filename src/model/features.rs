//! What else a dataset holds: demand points, street lines, buildings, layers and the
//! warnings of loading them.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use geo::{LineString, Point, Polygon};
use serde::{Deserialize, Serialize};

use super::{BuildingId, DemandId, LayerId, LineId, Population};
use crate::crs::Crs;

/// A point carrying people (e.g. a residential block centroid), as [`DemandPoints`]
/// hands it out: a value made from the columns.
#[derive(Clone, Debug, PartialEq)]
pub struct DemandPoint {
    pub id: DemandId,
    /// The id the source file gave it (its `id`/编号 field), if any: outputs keep it.
    pub source_id: Option<PointId>,
    pub location: Point<f64>,
    pub population: Population,
    pub layer: LayerId,
}

/// A demand point's source id: a view into its layer's id text, which every copy shares
/// (a province has millions of ids, and one allocation each cost more than the id). No
/// per-point attribute table either: outputs name points by this id, and nothing reads
/// their other columns (a map per point cost ~0.5 kB each).
#[derive(Clone)]
pub struct PointId {
    text: Arc<String>,
    start: u32,
    end: u32,
}

impl std::ops::Deref for PointId {
    type Target = str;
    fn deref(&self) -> &str {
        &self.text[self.start as usize..self.end as usize]
    }
}

impl fmt::Debug for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl fmt::Display for PointId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self)
    }
}

impl PartialEq for PointId {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Serialize for PointId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self)
    }
}

/// The dataset's demand points, column by column: a province has millions, 40-odd bytes
/// each here against 112 as one struct with an id allocation per point. Figures are kept
/// as read (f64, a missing one as NaN, which no reader lets through as a figure), so the
/// model built from them is the same to the bit.
#[derive(Clone, Debug, Default)]
pub struct DemandPoints {
    location: Vec<Point<f64>>,
    /// Total, 60+ and 0–3; a column stays empty until some point has that figure.
    figures: [Vec<f64>; 3],
    /// Every id one after another; `id_end[k]` is where point `k`'s ends, with
    /// [`NO_ID`] set when it has none (then it ends where the one before did).
    id_text: Arc<String>,
    id_end: Vec<u32>,
    /// The first point of each layer, in the order they were loaded.
    layers: Vec<(u32, LayerId)>,
}

/// Marks a point without an id in `DemandPoints::id_end`.
const NO_ID: u32 = 1 << 31;

/// The ids of the demand layers pass 2 GiB of text: more than any dataset that fits in
/// memory, said rather than cut.
#[derive(Debug)]
pub struct IdTextFull;

impl DemandPoints {
    pub fn len(&self) -> usize {
        self.location.len()
    }

    pub fn is_empty(&self) -> bool {
        self.location.is_empty()
    }

    pub fn reserve(&mut self, n: usize) {
        self.location.reserve(n);
        self.id_end.reserve(n);
    }

    /// Every point's location, in order.
    pub fn locations(&self) -> &[Point<f64>] {
        &self.location
    }

    pub fn location(&self, k: usize) -> Point<f64> {
        self.location[k]
    }

    /// Point `k`'s total population, if it has one.
    pub fn total(&self, k: usize) -> Option<f64> {
        figure(&self.figures[0], k)
    }

    pub fn population(&self, k: usize) -> Population {
        Population {
            total: figure(&self.figures[0], k),
            aged_60plus: figure(&self.figures[1], k),
            aged_0_3: figure(&self.figures[2], k),
        }
    }

    pub fn source_id(&self, k: usize) -> Option<PointId> {
        let end = *self.id_end.get(k)?;
        if end & NO_ID != 0 {
            return None;
        }
        let start = k.checked_sub(1).map_or(0, |j| self.id_end[j] & !NO_ID);
        Some(PointId {
            text: self.id_text.clone(),
            start,
            end,
        })
    }

    pub fn layer(&self, k: usize) -> LayerId {
        let i = self
            .layers
            .partition_point(|(first, _)| *first as usize <= k);
        self.layers[i - 1].1
    }

    /// Point `k`, every column.
    pub fn get(&self, k: usize) -> Option<DemandPoint> {
        (k < self.len()).then(|| DemandPoint {
            id: DemandId(k as u32),
            source_id: self.source_id(k),
            location: self.location[k],
            population: self.population(k),
            layer: self.layer(k),
        })
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = DemandPoint> + '_ {
        (0..self.len()).map(|k| self.get(k).expect("k < len"))
    }

    /// Appends a point, numbered by its position.
    pub fn push(
        &mut self,
        location: Point<f64>,
        population: Population,
        source_id: Option<&str>,
        layer: LayerId,
    ) -> Result<DemandId, IdTextFull> {
        let k = self.len();
        let end = u32::try_from(self.id_text.len() + source_id.map_or(0, str::len))
            .ok()
            .filter(|e| e & NO_ID == 0)
            .ok_or(IdTextFull)?;
        let end = match source_id {
            Some(id) => {
                Arc::make_mut(&mut self.id_text).push_str(id);
                end
            }
            None => end | NO_ID,
        };
        if self.layers.last().is_none_or(|l| l.1 != layer) {
            self.layers.push((k as u32, layer));
        }
        self.location.push(location);
        self.id_end.push(end);
        let values = [
            population.total,
            population.aged_60plus,
            population.aged_0_3,
        ];
        for (col, v) in self.figures.iter_mut().zip(values) {
            match v {
                Some(v) => {
                    col.resize(k, f64::NAN);
                    col.push(v);
                }
                None if !col.is_empty() => col.push(f64::NAN),
                None => {}
            }
        }
        Ok(DemandId(k as u32))
    }
}

fn figure(col: &[f64], k: usize) -> Option<f64> {
    col.get(k).copied().filter(|v| !v.is_nan())
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The columns hand back what was pushed, point by point: ids (absent, empty, Chinese),
    /// figures that appear only partway through a layer, and layers in runs.
    #[test]
    fn demand_columns_return_every_point_as_pushed() {
        let mut rnd = crate::testkit::xorshift(7);
        let mut pts = DemandPoints::default();
        let mut expect: Vec<DemandPoint> = Vec::new();
        for k in 0..2000u32 {
            let maybe = |r: f64, v: f64| (r < 0.7).then_some(v);
            let population = Population {
                total: maybe(rnd(), rnd() * 100.0),
                // No 60+ figure before point 500, none at all for 0–3 before 1500.
                aged_60plus: if k < 500 { None } else { maybe(rnd(), rnd()) },
                aged_0_3: if k < 1500 { None } else { maybe(rnd(), 0.0) },
            };
            let id = match (rnd() * 4.0) as u32 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("社区-{k}")),
                _ => Some(format!("d{k}")),
            };
            let layer = LayerId(k / 700);
            let at = Point::new(rnd() * 1e6, rnd() * 1e6);
            let got = pts.push(at, population, id.as_deref(), layer).unwrap();
            assert_eq!(got, DemandId(k));
            expect.push(DemandPoint {
                id: got,
                source_id: id.map(|s| PointId {
                    text: Arc::new(s.clone()),
                    start: 0,
                    end: s.len() as u32,
                }),
                location: at,
                population,
                layer,
            });
        }
        assert_eq!(pts.len(), expect.len());
        let got: Vec<DemandPoint> = pts.iter().collect();
        assert_eq!(got, expect);
        assert!(
            pts.figures[2].len() > 1500,
            "0–3 column filled from 1500 on"
        );
        assert_eq!(pts.layers.len(), 3);
        assert!(pts.get(2000).is_none());
        // Copies share the text and stay equal after the original grows.
        let copy = pts.clone();
        pts.push(
            Point::new(0.0, 0.0),
            Population::default(),
            Some("x"),
            LayerId(9),
        )
        .unwrap();
        assert_eq!(copy.iter().collect::<Vec<_>>(), expect);
        assert_eq!(pts.source_id(2000).as_deref(), Some("x"));
    }
}
