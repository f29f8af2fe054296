//! Policy rules as data: TOML presets in `assets/rules/`, one per plan, each rule citing the
//! clause it comes from so a gap can always be traced to the document that demands it.
//!
//! ```
//! let set = carecircle::coverage::RuleSet::preset("heilongjiang-2021").unwrap();
//! let circle = set.rules.iter().find(|r| r.id == "elderly_15min_circle").unwrap();
//! assert_eq!(circle.distance.unwrap().describe(), "15 min × 1.0 m/s = 900 m");
//! ```

use serde::{Deserialize, Serialize};

use crate::coverage::measure::AccessSettings;
use crate::error::{Error, Result};
use crate::model::{FacilityKind, FacilityStatus, Qualifier, UnitLevel};

/// The presets shipped in `assets/rules/` (embedded, so the binary works from any folder).
pub const PRESETS: [(&str, &str); 5] = [
    (
        "heilongjiang-2021",
        include_str!("../../../assets/rules/heilongjiang-2021.toml"),
    ),
    (
        "heihe-2022",
        include_str!("../../../assets/rules/heihe-2022.toml"),
    ),
    (
        "heilongjiang-2020",
        include_str!("../../../assets/rules/heilongjiang-2020.toml"),
    ),
    (
        "gansu-2021",
        include_str!("../../../assets/rules/gansu-2021.toml"),
    ),
    (
        "liaoning-2022",
        include_str!("../../../assets/rules/liaoning-2022.toml"),
    ),
];

/// What a rule measures. The JSON report uses these keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Qualified facilities of the kinds in a unit ≥ `target` (per unit), or the share of
    /// units with one ≥ `target` (share scope).
    Presence,
    /// The share of units with ≥ 1 qualified facility of the kinds is ≥ `target`.
    PresenceShare,
    /// Capacity (nursery places) per 1000 people of the group ≥ `target`.
    PlacesPer1000,
    /// Beds per 1000 people of the group (60+) ≥ `target`.
    BedsPer1000,
    /// Share of the capacity at facilities meeting the rule's qualifiers (e.g. 普惠
    /// places) ≥ `target`.
    QualifiedShare,
    /// Share of beds that are nursing-type (护理型) ≥ `target`.
    NursingBedShare,
    /// Total capacity (places or beds) of qualified facilities ≥ `target`.
    CapacityTotal,
    /// Number of qualified facilities ≥ `target`.
    Count,
    /// Share of an age group within `distance` of a facility of the kinds ≥ `target`.
    PopulationWithin,
}

impl Test {
    pub fn key(self) -> &'static str {
        match self {
            Test::Presence => "presence",
            Test::PresenceShare => "presence_share",
            Test::PlacesPer1000 => "places_per_1000",
            Test::BedsPer1000 => "beds_per_1000",
            Test::QualifiedShare => "qualified_share",
            Test::NursingBedShare => "nursing_bed_share",
            Test::CapacityTotal => "capacity_total",
            Test::Count => "count",
            Test::PopulationWithin => "population_within",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "presence" => Test::Presence,
            "presence_share" => Test::PresenceShare,
            "places_per_1000" => Test::PlacesPer1000,
            "beds_per_1000" => Test::BedsPer1000,
            "qualified_share" | "public_benefit_share" => Test::QualifiedShare,
            "nursing_bed_share" => Test::NursingBedShare,
            "capacity_total" => Test::CapacityTotal,
            "count" => Test::Count,
            "population_within" => Test::PopulationWithin,
            _ => return None,
        })
    }
    /// The scopes a test can have; the first is its default.
    fn scopes(self) -> &'static [Scope] {
        match self {
            Test::Presence => &[Scope::PerUnit, Scope::Share],
            Test::PresenceShare => &[Scope::Share],
            Test::PlacesPer1000
            | Test::BedsPer1000
            | Test::QualifiedShare
            | Test::NursingBedShare => &[Scope::Aggregate, Scope::PerUnit],
            Test::CapacityTotal => &[Scope::Aggregate],
            Test::Count => &[Scope::Count, Scope::PerUnit],
            Test::PopulationWithin => &[Scope::Aggregate, Scope::PerUnit],
        }
    }
    /// Rules whose value and target are shares in 0..1.
    pub fn is_share(self) -> bool {
        matches!(
            self,
            Test::PresenceShare
                | Test::QualifiedShare
                | Test::NursingBedShare
                | Test::PopulationWithin
        )
    }
}

/// What the verdict is about: each unit, a share of units, one figure for the jurisdiction,
/// or a number of facilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every unit of the level passes.
    PerUnit,
    /// A share of the units passes.
    Share,
    /// One figure over the jurisdiction (sums of capacity, people); per-unit values are
    /// diagnostics, not the verdict.
    Aggregate,
    /// At least N qualified facilities in the jurisdiction.
    Count,
}

impl Scope {
    pub fn key(self) -> &'static str {
        match self {
            Scope::PerUnit => "per_unit",
            Scope::Share => "share",
            Scope::Aggregate => "aggregate",
            Scope::Count => "count",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Scope::PerUnit => "每个单元",
            Scope::Share => "单元占比",
            Scope::Aggregate => "全域合计",
            Scope::Count => "数量",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Scope::PerUnit => "every unit",
            Scope::Share => "share of units",
            Scope::Aggregate => "jurisdiction total",
            Scope::Count => "count",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "per_unit" => Scope::PerUnit,
            "share" => Scope::Share,
            "aggregate" => Scope::Aggregate,
            "count" => Scope::Count,
            _ => return None,
        })
    }
}

/// Which units a rule looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    All,
    /// Units marked central urban (中心城区) and their descendants; all units, with a note,
    /// when the data marks none.
    CentralUrban,
}

/// Which people a population rule counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgeGroup {
    Total,
    Aged60plus,
    Aged0to3,
}

impl AgeGroup {
    /// The people a rule about these kinds counts by default: children under 3 for
    /// nurseries, people 60+ for elderly care. The one place that decides it.
    pub fn for_kinds(kinds: &[FacilityKind]) -> Self {
        if !kinds.is_empty() && kinds.iter().all(|k| k.is_childcare()) {
            AgeGroup::Aged0to3
        } else {
            AgeGroup::Aged60plus
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "total" | "population" => AgeGroup::Total,
            "aged_60plus" | "pop_60plus" | "60+" => AgeGroup::Aged60plus,
            "aged_0_3" | "pop_0_3" | "0-3" => AgeGroup::Aged0to3,
            _ => return None,
        })
    }
    pub fn zh(self) -> &'static str {
        match self {
            AgeGroup::Total => "常住人口",
            AgeGroup::Aged60plus => "60岁以上老人",
            AgeGroup::Aged0to3 => "0-3岁婴幼儿",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            AgeGroup::Total => "residents",
            AgeGroup::Aged60plus => "people 60+",
            AgeGroup::Aged0to3 => "children 0-3",
        }
    }
}

/// A reach distance, kept with the walking time and speed it came from so the UI and CLI
/// can always show all three together.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Distance {
    pub metres: f64,
    pub minutes: Option<f64>,
    pub speed_m_s: Option<f64>,
}

impl Distance {
    pub fn walk(minutes: f64, speed_m_s: f64) -> Self {
        Self {
            metres: minutes * 60.0 * speed_m_s,
            minutes: Some(minutes),
            speed_m_s: Some(speed_m_s),
        }
    }
    pub fn radius(metres: f64) -> Self {
        Self {
            metres,
            minutes: None,
            speed_m_s: None,
        }
    }
    /// "15 min × 1.0 m/s = 900 m" or "300 m".
    pub fn describe(&self) -> String {
        match (self.minutes, self.speed_m_s) {
            (Some(m), Some(s)) => {
                format!("{} min × {:.1} m/s = {:.0} m", fmt_num(m), s, self.metres)
            }
            _ => format!("{:.0} m", self.metres),
        }
    }
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x}")
    }
}

/// Where a rule comes from, as a bureau cites it: 《document》number clause, and the words.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// Title without 《》.
    #[serde(default)]
    pub document: String,
    /// 文号, e.g. 黑市政办规〔2022〕10号; empty when the document has none.
    #[serde(default)]
    pub number: String,
    /// e.g. 三(二)1, 附件2 一.
    #[serde(default)]
    pub clause: String,
    /// The words of the clause, verbatim.
    #[serde(default)]
    pub quote: String,
}

impl Citation {
    /// 《黑河市"一老一小"整体解决方案》(黑市政办规〔2022〕10号) 三(二)1
    pub fn cite(&self) -> String {
        let mut s = format!("《{}》", self.document);
        if !self.number.is_empty() {
            s.push_str(&format!("({})", self.number));
        }
        if !self.clause.is_empty() {
            s.push(' ');
            s.push_str(&self.clause);
        }
        s
    }
}

/// A target of the plan the data model cannot check, listed so a report says so.
#[derive(Clone, Debug, Serialize)]
pub struct NotModelled {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub citation: Citation,
    /// Why it is not checked (no data model for it, not a facility target …).
    pub reason: String,
}

/// One checkable target.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub test: Test,
    pub scope: Scope,
    pub levels: Vec<UnitLevel>,
    pub kinds: Vec<FacilityKind>,
    /// Attributes a facility must have to count (unknown ones make the verdict unknown).
    pub qualifiers: Vec<Qualifier>,
    /// Minimum grade (等级) a facility must have, if any.
    pub min_grade: Option<u8>,
    /// The kinds the qualifiers apply to (default: all of `kinds`): "a standardised
    /// institution or a home-care centre" qualifies only the institution.
    pub qualified_kinds: Vec<FacilityKind>,
    pub target: f64,
    /// The plan gives no figure: the target is the user's setting (shown as such).
    pub target_user_set: bool,
    /// The year by which the plan asks for it.
    pub deadline: Option<i32>,
    pub area: Area,
    pub group: AgeGroup,
    /// Radius or walking distance (population_within only).
    pub distance: Option<Distance>,
    /// Follows the preset's walk settings (no distance of its own).
    pub follows_walk: bool,
    pub citation: Citation,
    /// A planning convention (GB/T 50180-2018), not a target of the plan.
    pub convention: bool,
    /// 约束性 (binding) or not, where the plan says.
    pub binding: Option<bool>,
}

impl Rule {
    pub fn title(&self, english: bool) -> &str {
        if english {
            &self.title_en
        } else {
            &self.title_zh
        }
    }
    /// "sub_district" or "township,sub_district".
    pub fn level_key(&self) -> String {
        self.levels
            .iter()
            .map(|l| l.key())
            .collect::<Vec<_>>()
            .join(",")
    }
    /// Rules whose achieved value is a share in 0..1.
    pub fn is_share(&self) -> bool {
        self.test.is_share() || matches!(self.scope, Scope::Share)
    }
    /// The qualifiers a facility of `kind` must meet under this rule.
    pub fn qualifiers_for(&self, kind: FacilityKind) -> &[Qualifier] {
        if self.qualified_kinds.contains(&kind) {
            &self.qualifiers
        } else {
            &[]
        }
    }
    /// "标准化、公办" — the qualifiers in words.
    pub fn qualifier_words(&self, english: bool) -> String {
        let mut v: Vec<String> = self
            .qualifiers
            .iter()
            .map(|q| if english { q.en() } else { q.zh() }.to_string())
            .collect();
        if let Some(g) = self.min_grade {
            v.push(if english {
                format!("grade ≥ {g}")
            } else {
                format!("{g}级以上")
            });
        }
        v.join(if english { ", " } else { "、" })
    }
}

/// Analysis settings a preset carries and a user may edit.
#[derive(Clone, Debug, Serialize)]
pub struct Settings {
    /// Walking time of the elderly-care circle, minutes.
    pub walk_minutes: f64,
    /// Walking speed, m/s.
    pub walk_speed_m_s: f64,
    /// Catchment radius of a nursery for 2SFCA and population rules on childcare, metres.
    pub nursery_radius_m: f64,
    /// Demand grid cell where no buildings or residential land are known, metres.
    pub grid_cell_m: f64,
    /// A unit's grid is coarsened so it has at most this many points (whole counties).
    pub max_grid_points_per_unit: usize,
    /// A unit needs this many residential buildings before they carry its population.
    pub min_buildings: usize,
    /// Facility statuses counted as built.
    pub statuses: Vec<FacilityStatus>,
    /// Decay parameters of the accessibility measures (`access`).
    pub access: AccessSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            walk_minutes: 15.0,
            walk_speed_m_s: 1.0,
            nursery_radius_m: 300.0,
            grid_cell_m: 100.0,
            max_grid_points_per_unit: 20_000,
            min_buildings: 10,
            statuses: vec![FacilityStatus::Existing],
            access: AccessSettings::default(),
        }
    }
}

impl Settings {
    pub fn walk(&self) -> Distance {
        Distance::walk(self.walk_minutes, self.walk_speed_m_s)
    }
}

/// A plan's rules and settings.
#[derive(Clone, Debug, Serialize)]
pub struct RuleSet {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    /// The plan as a bureau cites it (rules default to its document and number).
    pub document: String,
    pub number: String,
    pub issuer: String,
    pub date: String,
    pub settings: Settings,
    pub rules: Vec<Rule>,
    /// Targets of the plan that are not checked, with the reason.
    pub not_modelled: Vec<NotModelled>,
}

impl RuleSet {
    /// 《document》(number)
    pub fn cite(&self) -> String {
        Citation {
            document: self.document.clone(),
            number: self.number.clone(),
            ..Default::default()
        }
        .cite()
    }
}

mod parse;
#[cfg(test)]
mod tests;
