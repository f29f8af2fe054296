//! The domain: administrative units, facilities, demand, street lines and the [`Dataset`]
//! that holds them.
//!
//! Entities live in `Vec` arenas indexed by typed ids. All geometry is in metres of the
//! dataset's [`LocalProjection`]; WGS84 appears only at the IO edge.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use geo::{MultiPolygon, Rect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::geom::LocalProjection;

macro_rules! typed_id {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub struct $name(pub u32);
        impl $name {
            pub fn index(self) -> usize {
                self.0 as usize
            }
        }
    };
}

typed_id!(
    /// Index into [`Dataset::units`].
    UnitId
);
typed_id!(
    /// Index into [`Dataset::facilities`].
    FacilityId
);
typed_id!(
    /// Index into [`Dataset::demand`].
    DemandId
);
typed_id!(
    /// Index into [`Dataset::network`].
    LineId
);
typed_id!(
    /// Index into [`Dataset::buildings`].
    BuildingId
);
typed_id!(
    /// Index into [`Dataset::layers`].
    LayerId
);

/// Administrative level of a unit. Order: county level, township level, village level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    /// 区 (urban district, county level)
    District,
    /// 县 / 县级市 / 旗 (county level)
    County,
    /// 街道 (urban, township level)
    SubDistrict,
    /// 乡 / 镇 (rural, township level)
    Township,
    /// Township-level units that are not 乡/镇/街道: state and forest farms, mines, prisons,
    /// development zones (农场, 林场, 管理区 …). Township clauses do not count them.
    SpecialArea,
    /// 社区 (urban, village level)
    Community,
    /// 村 (rural, village level)
    Village,
}

impl UnitLevel {
    pub const ALL: [UnitLevel; 7] = [
        UnitLevel::District,
        UnitLevel::County,
        UnitLevel::SubDistrict,
        UnitLevel::Township,
        UnitLevel::SpecialArea,
        UnitLevel::Community,
        UnitLevel::Village,
    ];

    /// 1 = county level, 2 = township level, 3 = village level.
    pub fn tier(self) -> u8 {
        match self {
            UnitLevel::District | UnitLevel::County => 1,
            UnitLevel::SubDistrict | UnitLevel::Township | UnitLevel::SpecialArea => 2,
            UnitLevel::Community | UnitLevel::Village => 3,
        }
    }

    pub fn key(self) -> &'static str {
        match self {
            UnitLevel::District => "district",
            UnitLevel::County => "county",
            UnitLevel::SubDistrict => "sub_district",
            UnitLevel::Township => "township",
            UnitLevel::SpecialArea => "special_area",
            UnitLevel::Community => "community",
            UnitLevel::Village => "village",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            UnitLevel::District => "区",
            UnitLevel::County => "县(市)",
            UnitLevel::SubDistrict => "街道",
            UnitLevel::Township => "乡镇",
            UnitLevel::SpecialArea => "农林场等",
            UnitLevel::Community => "社区",
            UnitLevel::Village => "村",
        }
    }

    /// Parses English keys and the Chinese words planners use.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim().to_lowercase();
        Some(match t.as_str() {
            "district" | "区" | "市辖区" => UnitLevel::District,
            "county" | "县" | "县级市" | "旗" | "县(市)" | "区县" => UnitLevel::County,
            "sub_district" | "subdistrict" | "street" | "jiedao" | "街道" | "街道办事处" => {
                UnitLevel::SubDistrict
            }
            "township" | "town" | "乡镇" | "乡" | "镇" | "苏木" => UnitLevel::Township,
            "special_area" | "special" | "farm" | "农场" | "林场" | "农林场等" | "管理区" => {
                UnitLevel::SpecialArea
            }
            "community" | "社区" | "居委会" | "社区居委会" => UnitLevel::Community,
            "village" | "村" | "村委会" | "行政村" | "嘎查" => UnitLevel::Village,
            _ => return None,
        })
    }

    /// Guesses the level from the suffix of a Chinese unit name (e.g. 先锋路街道 → sub-district).
    pub fn from_name(name: &str) -> Option<Self> {
        let n = name.trim();
        let ends = |s: &[&str]| s.iter().any(|x| n.ends_with(x));
        if ends(&["街道", "街道办事处", "街道地区", "街道办"]) {
            Some(UnitLevel::SubDistrict)
        } else if ends(&["社区", "居委会", "社区居委会", "居民委员会"]) {
            Some(UnitLevel::Community)
        } else if ends(&["村", "村委会", "村民委员会", "嘎查"]) {
            Some(UnitLevel::Village)
        } else if ends(&["农场", "林场", "管理区", "经营所", "监狱", "矿"]) {
            Some(UnitLevel::SpecialArea)
        } else if ends(&["镇", "乡", "苏木"]) {
            Some(UnitLevel::Township)
        } else if ends(&["区"]) {
            Some(UnitLevel::District)
        } else if ends(&["县", "市", "旗"]) {
            Some(UnitLevel::County)
        } else {
            None
        }
    }

    /// National division codes come as 6/9/12 digits, sometimes padded to 12 with zeros
    /// (230103018000 is the sub-district 230103018) or as floats in spreadsheets
    /// ("231102.0"). This gives the code at the length of this level so joins match.
    pub fn canonical_code(self, code: &str) -> String {
        let c = code.trim();
        let c = c.strip_suffix(".0").unwrap_or(c);
        if !c.chars().all(|ch| ch.is_ascii_digit()) {
            return c.to_owned();
        }
        let want = self.code_len();
        if c.len() > want && c[want..].chars().all(|ch| ch == '0') {
            c[..want].to_owned()
        } else {
            c.to_owned()
        }
    }

    /// Number of digits of a national statistical division code at this level (6, 9, 12).
    pub fn code_len(self) -> usize {
        match self.tier() {
            1 => 6,
            2 => 9,
            _ => 12,
        }
    }
}

impl fmt::Display for UnitLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// Resident population of a unit or demand point. Any figure may be missing in real data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Population {
    pub total: Option<f64>,
    pub aged_60plus: Option<f64>,
    pub aged_0_3: Option<f64>,
}

/// A 社区 / 街道 / 乡镇 / 区县. Geometry is optional: a code list of townships with no shapes
/// is a valid unit layer, joined to its parents by code.
#[derive(Clone, Debug)]
pub struct Unit {
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
    pub parent_code: Option<String>,
    /// Resolved from `parent_code` (or the code's prefix) after all layers are loaded.
    pub parent: Option<UnitId>,
    pub geometry: Option<MultiPolygon<f64>>,
    pub population: Population,
    /// Where the population figures come from, shown to users (e.g. "OSM tag, unverified").
    pub population_source: Option<String>,
    /// Marked as part of the central urban area (中心城区): some clauses (the 15-minute
    /// circle of 黑政办规〔2020〕8号) ask only there. `None`: not marked either way.
    pub central_urban: Option<bool>,
    pub layer: LayerId,
    /// All source properties, so exports keep attributes the model does not know.
    pub attributes: Map<String, Value>,
}

pub mod edits;
mod facility;
mod features;

pub use facility::*;
pub use features::*;

/// Everything loaded for one study area, in metres of one local projection.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub name: String,
    /// The manifest or data folder this came from.
    pub source: PathBuf,
    pub projection: LocalProjection,
    pub layers: Vec<Layer>,
    pub units: Vec<Unit>,
    pub facilities: Vec<Facility>,
    pub demand: DemandPoints,
    pub network: Vec<NetworkLine>,
    pub buildings: Vec<Building>,
    pub warnings: Vec<LoadWarning>,
    /// Attribution lines of all sources (ODbL etc.), for the About box and exports.
    pub attribution: Vec<String>,
    /// Existing stock a source reports without locations (manifest `[[known_totals]]`).
    pub known_totals: Vec<KnownTotal>,
    /// Kinds whose existing facilities a layer declares it lists completely (a facilities
    /// layer's `kind`/`kinds`), even when it holds none: then zero means zero.
    pub declared_kinds: Vec<FacilityKind>,
}

impl Dataset {
    /// An empty dataset in the Gauss-Krüger zone of `lon`: the start for datasets built in
    /// code (tests, hand-computed cases, generated benchmarks).
    pub fn empty(name: &str, lon: f64) -> Self {
        Self::new(name, PathBuf::new(), LocalProjection::for_longitude(lon))
    }

    /// A dataset with no layers yet, in `projection`; loaders and tests fill it.
    pub fn new(name: &str, source: PathBuf, projection: LocalProjection) -> Self {
        Self {
            name: name.to_owned(),
            source,
            projection,
            layers: Vec::new(),
            units: Vec::new(),
            facilities: Vec::new(),
            demand: DemandPoints::default(),
            network: Vec::new(),
            buildings: Vec::new(),
            warnings: Vec::new(),
            attribution: Vec::new(),
            known_totals: Vec::new(),
            declared_kinds: Vec::new(),
        }
    }

    pub fn unit(&self, id: UnitId) -> &Unit {
        &self.units[id.index()]
    }
    pub fn facility(&self, id: FacilityId) -> &Facility {
        &self.facilities[id.index()]
    }

    /// Units of one level.
    pub fn units_at(&self, level: UnitLevel) -> impl Iterator<Item = &Unit> {
        self.units.iter().filter(move |u| u.level == level)
    }

    pub fn count_units(&self, level: UnitLevel) -> usize {
        self.units_at(level).count()
    }

    /// Whether the dataset says anything about the *existing* facilities of `kind`: an
    /// existing or closed facility of it, a layer declaring it, or a known total. Without
    /// any, "none found" means "no data", never "there are none".
    /// In a scenario year, a known total describing a later year says nothing about it.
    pub fn has_existing_data_in(&self, kind: FacilityKind, year: Option<i32>) -> bool {
        self.declared_kinds.contains(&kind)
            || self.known_totals.iter().any(|t| {
                t.kinds.contains(&kind) && year.is_none_or(|y| t.year.is_none_or(|ty| ty <= y))
            })
            || self.facilities.iter().any(|f| {
                f.kind == kind
                    && matches!(f.status, FacilityStatus::Existing | FacilityStatus::Closed)
            })
    }

    /// The unit or one of its ancestors is marked central urban.
    pub fn is_central_urban(&self, unit: UnitId) -> bool {
        self.ancestors(unit)
            .any(|u| self.units[u.index()].central_urban == Some(true))
    }

    /// Some unit is marked central urban (else area-scoped rules report over all units).
    pub fn has_central_urban_marks(&self) -> bool {
        self.units.iter().any(|u| u.central_urban == Some(true))
    }

    pub fn count_facilities(&self, kind: FacilityKind) -> usize {
        self.facilities.iter().filter(|f| f.kind == kind).count()
    }

    /// Vertices of all unit boundaries (rings incl. holes): the size figure of load and
    /// drawing benchmarks.
    pub fn unit_vertices(&self) -> usize {
        self.units
            .iter()
            .filter_map(|u| u.geometry.as_ref())
            .flat_map(|g| &g.0)
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum()
    }

    /// Walks up the parent chain; `unit` itself first.
    pub fn ancestors(&self, unit: UnitId) -> impl Iterator<Item = UnitId> + '_ {
        let mut next = Some(unit);
        let mut guard = 0;
        std::iter::from_fn(move || {
            let cur = next?;
            guard += 1;
            next = if guard > 16 {
                None
            } else {
                self.units[cur.index()].parent
            };
            Some(cur)
        })
    }

    /// Bounding box of everything with geometry, in local metres.
    pub fn bounds(&self) -> Option<Rect<f64>> {
        self.bounds_where(|_| true)
    }

    /// The finest unit tier with shapes: what maps colour (coarser units are drawn as
    /// outlines over it).
    pub fn finest_shaped_tier(&self) -> Option<u8> {
        self.units
            .iter()
            .filter(|u| u.geometry.is_some())
            .map(|u| u.level.tier())
            .max()
    }

    /// The study area: bounds of the finest units that have shapes, the facilities and the
    /// network — what a planner wants to see first, not a whole district's rural hinterland.
    pub fn focus_bounds(&self) -> Option<Rect<f64>> {
        let finest = self.finest_shaped_tier();
        self.bounds_where(|u| Some(u.level.tier()) == finest)
    }

    fn bounds_where(&self, unit_filter: impl Fn(&Unit) -> bool) -> Option<Rect<f64>> {
        use geo::BoundingRect;
        let mut acc: Option<Rect<f64>> = None;
        let mut add = |r: Option<Rect<f64>>| {
            if let Some(r) = r {
                acc = Some(match acc {
                    None => r,
                    Some(a) => crate::geom::union_rect(a, r),
                });
            }
        };
        for u in self.units.iter().filter(|u| unit_filter(u)) {
            add(u.geometry.as_ref().and_then(|g| g.bounding_rect()));
        }
        for f in &self.facilities {
            add(f.location.map(|p| p.bounding_rect()));
        }
        for d in self.demand.locations() {
            add(Some(d.bounding_rect()));
        }
        for l in &self.network {
            add(l.geometry.bounding_rect());
        }
        acc
    }

    /// Index from canonical unit code to unit, for attribute joins.
    pub fn units_by_code(&self) -> HashMap<String, UnitId> {
        self.units
            .iter()
            .map(|u| (u.level.canonical_code(&u.code), u.id))
            .collect()
    }
}
