//! Facilities: the kinds of the 一老一小 plans, status, the qualifiers plans require
//! (标准化, 公办, 普惠 …), known totals without locations, and the unit a facility joins.

use std::fmt;

use geo::Point;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{FacilityId, LayerId, UnitId};

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

impl Facility {
    /// A proposed facility at `location` (local metres), as a siting run or a saved
    /// scenario adds it: no qualifiers known, its capacity if sized.
    #[allow(clippy::too_many_arguments)]
    pub fn proposed(
        id: FacilityId,
        source_id: String,
        name: String,
        kind: FacilityKind,
        capacity: Option<f64>,
        location: Point<f64>,
        unit: Option<UnitId>,
        layer: LayerId,
    ) -> Facility {
        Facility {
            id,
            source_id,
            name,
            kind,
            capacity,
            capacity_estimated: false,
            nursing_beds: None,
            qualifiers: Qualifiers::default(),
            renovation: false,
            status: FacilityStatus::Proposed,
            synthetic: false,
            location: Some(location),
            unit_ref: UnitRef::default(),
            unit,
            unit_join: None,
            year: None,
            layer,
            attributes: Map::new(),
        }
    }
}
