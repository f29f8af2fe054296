//! The domain: administrative units, facilities, demand, street lines and the [`Dataset`]
//! that holds them.
//!
//! Entities live in `Vec` arenas indexed by typed ids. All geometry is in metres of the
//! dataset's [`LocalProjection`]; WGS84 appears only at the IO edge.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use geo::{LineString, MultiPolygon, Point, Polygon, Rect};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::crs::Crs;
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

/// Facility kinds of the 一老一小 plans.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FacilityKind {
    /// 社区老年人日间照料室
    DayCare,
    /// 街道居家养老服务站 / 综合养老服务中心
    StreetStation,
    /// 区级养老服务中心
    DistrictCenter,
    /// 乡镇标准化养老机构 / 敬老院
    TownshipInstitution,
    /// 特困人员供养服务设施 (county level, public)
    CountyHardship,
    /// 农村互助养老服务设施
    VillageMutualAid,
    /// 养老机构 (an institution not tied to a township rule, e.g. a city welfare home)
    CareHome,
    /// 托育机构
    Nursery,
}

impl FacilityKind {
    pub const ALL: [FacilityKind; 8] = [
        FacilityKind::DayCare,
        FacilityKind::StreetStation,
        FacilityKind::DistrictCenter,
        FacilityKind::TownshipInstitution,
        FacilityKind::CountyHardship,
        FacilityKind::VillageMutualAid,
        FacilityKind::CareHome,
        FacilityKind::Nursery,
    ];

    pub fn key(self) -> &'static str {
        match self {
            FacilityKind::DayCare => "day_care",
            FacilityKind::StreetStation => "street_station",
            FacilityKind::DistrictCenter => "district_center",
            FacilityKind::TownshipInstitution => "township_institution",
            FacilityKind::CountyHardship => "county_hardship",
            FacilityKind::VillageMutualAid => "village_mutual_aid",
            FacilityKind::CareHome => "care_home",
            FacilityKind::Nursery => "nursery",
        }
    }

    pub fn zh(self) -> &'static str {
        match self {
            FacilityKind::DayCare => "日间照料室",
            FacilityKind::StreetStation => "街道养老服务站",
            FacilityKind::DistrictCenter => "区级养老服务中心",
            FacilityKind::TownshipInstitution => "乡镇养老机构",
            FacilityKind::CountyHardship => "特困供养设施",
            FacilityKind::VillageMutualAid => "互助养老设施",
            FacilityKind::CareHome => "养老机构",
            FacilityKind::Nursery => "托育机构",
        }
    }

    pub fn en(self) -> &'static str {
        match self {
            FacilityKind::DayCare => "Day-care room",
            FacilityKind::StreetStation => "Street care station",
            FacilityKind::DistrictCenter => "District care centre",
            FacilityKind::TownshipInstitution => "Township institution",
            FacilityKind::CountyHardship => "Hardship-support home",
            FacilityKind::VillageMutualAid => "Village mutual-aid",
            FacilityKind::CareHome => "Care home",
            FacilityKind::Nursery => "Nursery",
        }
    }

    /// True for 托育 (capacity in places), false for elderly care (capacity in beds).
    pub fn is_childcare(self) -> bool {
        self == FacilityKind::Nursery
    }

    /// Parses keys, Chinese names and the OSM tags a planner's file is likely to carry.
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim().to_lowercase();
        let exact = match t.as_str() {
            "day_care" | "daycare" | "day-care" => Some(FacilityKind::DayCare),
            "street_station" | "community_center" | "station" => Some(FacilityKind::StreetStation),
            "district_center" => Some(FacilityKind::DistrictCenter),
            "township_institution" => Some(FacilityKind::TownshipInstitution),
            "county_hardship" => Some(FacilityKind::CountyHardship),
            "village_mutual_aid" | "mutual_aid" => Some(FacilityKind::VillageMutualAid),
            "care_home" | "institution" | "nursing_home" | "elderly_institution" => {
                Some(FacilityKind::CareHome)
            }
            "nursery" | "childcare" | "kindergarten" => Some(FacilityKind::Nursery),
            _ => None,
        };
        if exact.is_some() {
            return exact;
        }
        let has = |w: &[&str]| w.iter().any(|x| t.contains(x));
        if has(&["托育", "托儿", "幼儿园", "早教"]) {
            Some(FacilityKind::Nursery)
        } else if has(&["日间照料", "日照"]) {
            Some(FacilityKind::DayCare)
        } else if has(&["互助"]) {
            Some(FacilityKind::VillageMutualAid)
        } else if has(&["特困"]) {
            Some(FacilityKind::CountyHardship)
        } else if has(&["区级养老服务中心"]) {
            Some(FacilityKind::DistrictCenter)
        } else if has(&["敬老院", "乡镇养老"]) {
            Some(FacilityKind::TownshipInstitution)
        } else if has(&["居家养老", "服务站", "服务中心"]) {
            Some(FacilityKind::StreetStation)
        } else if has(&["养老院", "福利院", "养老机构", "护理院"]) {
            Some(FacilityKind::CareHome)
        } else {
            None
        }
    }
}

impl fmt::Display for FacilityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum FacilityStatus {
    #[default]
    Existing,
    Planned,
    Proposed,
    /// Closed or demolished: kept on the map for the record, never counted.
    Closed,
}

impl FacilityStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().as_str() {
            "existing" | "现状" | "已建" | "现有" | "运营" => {
                Some(FacilityStatus::Existing)
            }
            "planned" | "规划" | "在建" | "拟建" | "新建" | "改建" | "改扩建" | "扩建" => {
                Some(FacilityStatus::Planned)
            }
            "proposed" | "建议" | "选址" => Some(FacilityStatus::Proposed),
            "closed" | "关闭" | "已关闭" | "停业" | "撤销" | "拆除" | "停办" => {
                Some(FacilityStatus::Closed)
            }
            _ => None,
        }
    }
    pub fn key(self) -> &'static str {
        match self {
            FacilityStatus::Existing => "existing",
            FacilityStatus::Planned => "planned",
            FacilityStatus::Proposed => "proposed",
            FacilityStatus::Closed => "closed",
        }
    }
}

/// An attribute a plan can require of a facility before it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    /// 标准化
    Standardised,
    /// 公办
    Public,
    /// 普惠
    PublicBenefit,
    /// 具备综合功能
    Comprehensive,
    /// 示范性
    Demonstration,
}

impl Qualifier {
    pub const ALL: [Qualifier; 5] = [
        Qualifier::Standardised,
        Qualifier::Public,
        Qualifier::PublicBenefit,
        Qualifier::Comprehensive,
        Qualifier::Demonstration,
    ];
    /// The key used in presets, data columns and JSON.
    pub fn key(self) -> &'static str {
        match self {
            Qualifier::Standardised => "standardised",
            Qualifier::Public => "public",
            Qualifier::PublicBenefit => "public_benefit",
            Qualifier::Comprehensive => "comprehensive",
            Qualifier::Demonstration => "demonstration",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Qualifier::Standardised => "标准化",
            Qualifier::Public => "公办",
            Qualifier::PublicBenefit => "普惠",
            Qualifier::Comprehensive => "具备综合功能",
            Qualifier::Demonstration => "示范性",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Qualifier::Standardised => "standardised",
            Qualifier::Public => "public",
            Qualifier::PublicBenefit => "public-benefit",
            Qualifier::Comprehensive => "comprehensive",
            Qualifier::Demonstration => "demonstration",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        let t = s.trim().to_lowercase();
        Qualifier::ALL
            .into_iter()
            .find(|q| q.key() == t || q.zh() == t)
            .or(match t.as_str() {
                "standardized" => Some(Qualifier::Standardised),
                "公立" => Some(Qualifier::Public),
                "普惠性" => Some(Qualifier::PublicBenefit),
                "综合" => Some(Qualifier::Comprehensive),
                "示范" => Some(Qualifier::Demonstration),
                _ => None,
            })
    }
}

/// A facility's qualifiers: `None` where the data does not say. Unknown is never read as
/// "no": a verdict that depends on it is itself unknown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Qualifiers {
    pub standardised: Option<bool>,
    pub public: Option<bool>,
    pub public_benefit: Option<bool>,
    pub comprehensive: Option<bool>,
    pub demonstration: Option<bool>,
    /// 等级 (grade, e.g. 1 for 一级): compared with a rule's `min_grade`.
    pub grade: Option<u8>,
}

impl Qualifiers {
    pub fn get(&self, q: Qualifier) -> Option<bool> {
        match q {
            Qualifier::Standardised => self.standardised,
            Qualifier::Public => self.public,
            Qualifier::PublicBenefit => self.public_benefit,
            Qualifier::Comprehensive => self.comprehensive,
            Qualifier::Demonstration => self.demonstration,
        }
    }
    pub fn set(&mut self, q: Qualifier, v: Option<bool>) {
        match q {
            Qualifier::Standardised => self.standardised = v,
            Qualifier::Public => self.public = v,
            Qualifier::PublicBenefit => self.public_benefit = v,
            Qualifier::Comprehensive => self.comprehensive = v,
            Qualifier::Demonstration => self.demonstration = v,
        }
    }
}

/// Facilities a source counts without locating them (the 42 day-care rooms and 12,080 beds
/// a plan reports for 2020): aggregate rules may use them; maps never paint them as zero.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct KnownTotal {
    /// What it counts, in words ("2020年末全市养老机构（民办）").
    pub label: String,
    /// The kinds it may contain; a rule counts it only when all are among the rule's kinds.
    pub kinds: Vec<FacilityKind>,
    pub facilities: Option<f64>,
    /// Beds or places; `None` when the source gives only the number of facilities.
    pub capacity: Option<f64>,
    pub nursing_beds: Option<f64>,
    /// Qualifiers that hold for every facility of the total (e.g. public = true).
    pub qualifiers: Qualifiers,
    /// The year the figure describes (counted in scenarios of that year and later).
    pub year: Option<i32>,
    /// The figure is a floor ("at least": e.g. only those built in one period), not the
    /// whole stock: it can prove a target met, never missed.
    pub at_least: bool,
    /// Where the figure comes from, as a citation.
    pub source: String,
}

/// A facility's administrative address for attribute joins when it has no point
/// (e.g. Heihe's planned projects list only county and town).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitRef {
    pub code: Option<String>,
    /// Town / sub-district name (乡镇 / 街道).
    pub town: Option<String>,
    /// County-level name (区 / 县 / 市).
    pub county: Option<String>,
    /// Village / community name (村 / 社区), scoped to the town.
    pub village: Option<String>,
}

impl UnitRef {
    pub fn is_empty(&self) -> bool {
        self.code.is_none()
            && self.town.is_none()
            && self.county.is_none()
            && self.village.is_none()
    }
}

/// How a facility was attached to its unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitJoin {
    /// Its point lies in the unit's polygon.
    Spatial,
    /// Its unit code matched.
    Code,
    /// Its town (or county) name matched, scoped to its county.
    Name,
}

#[derive(Clone, Debug)]
pub struct Facility {
    pub id: FacilityId,
    /// The id in the source file (kept for round trips and for other tools).
    pub source_id: String,
    pub name: String,
    pub kind: FacilityKind,
    /// Beds for elderly care, places (托位) for nurseries.
    pub capacity: Option<f64>,
    /// The capacity is an estimate (e.g. OSM nurseries carry none), not a reported figure.
    pub capacity_estimated: bool,
    /// Nursing-type beds (护理型床位) of an elderly institution; None when unknown.
    pub nursing_beds: Option<f64>,
    /// What the plans qualify facilities by (标准化, 公办, 普惠 …); each may be unknown.
    pub qualifiers: Qualifiers,
    /// A project that renovates an existing facility (改造提升): it adds no new facility
    /// and no new capacity to counts and totals.
    pub renovation: bool,
    pub status: FacilityStatus,
    /// Generated for a demo, not real: always shown as such.
    pub synthetic: bool,
    pub location: Option<Point<f64>>,
    pub unit_ref: UnitRef,
    /// The smallest unit containing or named by the facility.
    pub unit: Option<UnitId>,
    pub unit_join: Option<UnitJoin>,
    pub year: Option<i32>,
    pub layer: LayerId,
    pub attributes: Map<String, Value>,
}

/// A point carrying people (e.g. a residential block centroid).
#[derive(Clone, Debug)]
pub struct DemandPoint {
    pub id: DemandId,
    pub location: Point<f64>,
    pub population: Population,
    pub layer: LayerId,
    pub attributes: Map<String, Value>,
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
    pub demand: Vec<DemandPoint>,
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
            demand: Vec::new(),
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
    pub fn has_existing_data(&self, kind: FacilityKind) -> bool {
        self.has_existing_data_in(kind, None)
    }

    /// [`Dataset::has_existing_data`] in a scenario year: a known total describing a
    /// later year says nothing about this one.
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
                    Some(a) => Rect::new(
                        (a.min().x.min(r.min().x), a.min().y.min(r.min().y)),
                        (a.max().x.max(r.max().x), a.max().y.max(r.max().y)),
                    ),
                });
            }
        };
        for u in self.units.iter().filter(|u| unit_filter(u)) {
            add(u.geometry.as_ref().and_then(|g| g.bounding_rect()));
        }
        for f in &self.facilities {
            add(f.location.map(|p| p.bounding_rect()));
        }
        for d in &self.demand {
            add(Some(d.location.bounding_rect()));
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
