//! Policy rules as data: TOML presets in `assets/rules/`, one per plan, each rule citing the
//! clause it comes from so a gap can always be traced to the document that demands it.
//!
//! ```
//! let set = carecircle::coverage::RuleSet::preset("heilongjiang-2021").unwrap();
//! let circle = set.rules.iter().find(|r| r.id == "elderly_15min_circle").unwrap();
//! assert_eq!(circle.distance.unwrap().describe(), "15 min × 1.0 m/s = 900 m");
//! ```

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{FacilityKind, FacilityStatus, Qualifier, UnitLevel};

/// The presets shipped in `assets/rules/` (embedded, so the binary works from any folder).
pub const PRESETS: [(&str, &str); 5] = [
    (
        "heilongjiang-2021",
        include_str!("../../assets/rules/heilongjiang-2021.toml"),
    ),
    (
        "heihe-2022",
        include_str!("../../assets/rules/heihe-2022.toml"),
    ),
    (
        "heilongjiang-2020",
        include_str!("../../assets/rules/heilongjiang-2020.toml"),
    ),
    (
        "gansu-2021",
        include_str!("../../assets/rules/gansu-2021.toml"),
    ),
    (
        "liaoning-2022",
        include_str!("../../assets/rules/liaoning-2022.toml"),
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSet {
    id: String,
    title_zh: String,
    title_en: String,
    document: String,
    #[serde(default)]
    number: String,
    #[serde(default)]
    issuer: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    settings: FileSettings,
    #[serde(default)]
    rules: Vec<FileRule>,
    #[serde(default)]
    not_modelled: Vec<FileNotModelled>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    walk_minutes: Option<f64>,
    walk_speed_m_s: Option<f64>,
    nursery_radius_m: Option<f64>,
    grid_cell_m: Option<f64>,
    max_grid_points_per_unit: Option<usize>,
    min_buildings: Option<usize>,
    statuses: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn list(&self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A rule's citation in a preset: the preset's document and number unless given.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCitation {
    document: Option<String>,
    number: Option<String>,
    clause: String,
    quote: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    id: String,
    title_zh: String,
    title_en: String,
    test: String,
    scope: Option<String>,
    level: OneOrMany,
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    qualifiers: Vec<String>,
    min_grade: Option<u8>,
    qualified_kinds: Option<Vec<String>>,
    target: f64,
    #[serde(default)]
    target_user_set: bool,
    deadline: Option<i32>,
    area: Option<String>,
    group: Option<String>,
    distance_m: Option<f64>,
    minutes: Option<f64>,
    speed_m_s: Option<f64>,
    citation: FileCitation,
    #[serde(default)]
    convention: bool,
    binding: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotModelled {
    id: String,
    title_zh: String,
    title_en: String,
    citation: FileCitation,
    reason: String,
}

const KINDS_HELP: &str = "day_care, street_station, district_center, township_institution, county_hardship, village_mutual_aid, care_home, nursery";

impl RuleSet {
    /// A shipped preset by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<Self> {
        let (_, text) = PRESETS
            .iter()
            .find(|(n, _)| *n == name)
            .ok_or_else(|| Error::Rules {
                origin: name.to_owned(),
                message: format!(
                    "no such preset; the presets are {}, or give a .toml file",
                    PRESETS.map(|p| p.0).join(", ")
                ),
            })?;
        Self::parse(text, &format!("preset {name}"))
    }

    /// A preset name or a path to a TOML file (e.g. a copied and edited preset).
    pub fn load(name_or_path: &str) -> Result<Self> {
        if PRESETS.iter().any(|(n, _)| *n == name_or_path) {
            return Self::preset(name_or_path);
        }
        let path = Path::new(name_or_path);
        if path.exists() || name_or_path.ends_with(".toml") {
            let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
            return Self::parse(&text, &path.display().to_string());
        }
        Self::preset(name_or_path)
    }

    /// Parses and validates a preset; `origin` names it in messages.
    pub fn parse(text: &str, origin: &str) -> Result<Self> {
        let err = |message: String| Error::Rules {
            origin: origin.to_owned(),
            message,
        };
        let f: FileSet = toml::from_str(text).map_err(|e| err(e.to_string()))?;
        let d = Settings::default();
        let s = f.settings;
        let statuses = match s.statuses {
            None => d.statuses.clone(),
            Some(v) => v
                .iter()
                .map(|x| {
                    FacilityStatus::parse(x)
                        .filter(|s| *s != FacilityStatus::Closed)
                        .ok_or_else(|| {
                            err(format!(
                                "settings.statuses: unknown status '{x}' (existing, planned, proposed)"
                            ))
                        })
                })
                .collect::<Result<_>>()?,
        };
        let settings = Settings {
            walk_minutes: s.walk_minutes.unwrap_or(d.walk_minutes),
            walk_speed_m_s: s.walk_speed_m_s.unwrap_or(d.walk_speed_m_s),
            nursery_radius_m: s.nursery_radius_m.unwrap_or(d.nursery_radius_m),
            grid_cell_m: s.grid_cell_m.unwrap_or(d.grid_cell_m),
            max_grid_points_per_unit: s
                .max_grid_points_per_unit
                .unwrap_or(d.max_grid_points_per_unit),
            min_buildings: s.min_buildings.unwrap_or(d.min_buildings),
            statuses,
        };
        for (name, v) in [
            ("walk_minutes", settings.walk_minutes),
            ("walk_speed_m_s", settings.walk_speed_m_s),
            ("nursery_radius_m", settings.nursery_radius_m),
            ("grid_cell_m", settings.grid_cell_m),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(err(format!(
                    "settings.{name} must be a positive number, not {v}"
                )));
            }
        }
        if settings.max_grid_points_per_unit == 0 {
            return Err(err(
                "settings.max_grid_points_per_unit must be at least 1".into()
            ));
        }
        let cite = |c: &FileCitation| Citation {
            document: c.document.clone().unwrap_or_else(|| f.document.clone()),
            number: match (&c.document, &c.number) {
                (_, Some(n)) => n.clone(),
                (None, None) => f.number.clone(),
                (Some(_), None) => String::new(),
            },
            clause: c.clause.clone(),
            quote: c.quote.clone(),
        };
        let mut rules = Vec::new();
        for r in &f.rules {
            let rerr = |m: String| err(format!("rule '{}': {m}", r.id));
            let test = Test::parse(&r.test).ok_or_else(|| {
                rerr(format!(
                    "unknown test '{}' (presence, presence_share, places_per_1000, beds_per_1000, qualified_share, nursing_bed_share, capacity_total, count, population_within)",
                    r.test
                ))
            })?;
            let scope = match &r.scope {
                None => test.scopes()[0],
                Some(sc) => {
                    let scope = Scope::parse(sc).ok_or_else(|| {
                        rerr(format!(
                            "unknown scope '{sc}' (per_unit, share, aggregate, count)"
                        ))
                    })?;
                    if !test.scopes().contains(&scope) {
                        return Err(rerr(format!(
                            "scope '{sc}' does not apply to test '{}' (it takes {})",
                            r.test,
                            test.scopes()
                                .iter()
                                .map(|s| s.key())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )));
                    }
                    scope
                }
            };
            let levels = r
                .level
                .list()
                .iter()
                .map(|l| {
                    UnitLevel::parse(l).ok_or_else(|| {
                        rerr(format!(
                            "unknown level '{l}' (district, county, sub_district, township, special_area, community, village)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if levels.is_empty() {
                return Err(rerr("needs at least one level".into()));
            }
            let parse_kinds = |v: &[String]| {
                v.iter()
                    .map(|k| {
                        FacilityKind::parse(k).ok_or_else(|| {
                            rerr(format!("unknown facility kind '{k}' ({KINDS_HELP})"))
                        })
                    })
                    .collect::<Result<Vec<_>>>()
            };
            let kinds = parse_kinds(&r.kinds)?;
            if kinds.is_empty() {
                return Err(rerr("needs at least one facility kind in 'kinds'".into()));
            }
            let qualifiers = r
                .qualifiers
                .iter()
                .map(|q| {
                    Qualifier::parse(q).ok_or_else(|| {
                        rerr(format!(
                            "unknown qualifier '{q}' (standardised, public, public_benefit, comprehensive, demonstration)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let qualified_kinds = match &r.qualified_kinds {
                Some(v) => {
                    let q = parse_kinds(v)?;
                    if let Some(k) = q.iter().find(|k| !kinds.contains(k)) {
                        return Err(rerr(format!(
                            "qualified_kinds has '{}', which is not in kinds",
                            k.key()
                        )));
                    }
                    q
                }
                None => kinds.clone(),
            };
            if test == Test::QualifiedShare && qualifiers.is_empty() && r.min_grade.is_none() {
                // The old key public_benefit_share meant the 普惠 share.
                if r.test != "public_benefit_share" {
                    return Err(rerr(
                        "qualified_share needs 'qualifiers' (the share of capacity meeting them)"
                            .into(),
                    ));
                }
            }
            let qualifiers = if test == Test::QualifiedShare
                && r.test == "public_benefit_share"
                && qualifiers.is_empty()
            {
                vec![Qualifier::PublicBenefit]
            } else {
                qualifiers
            };
            if !(r.target.is_finite() && r.target >= 0.0) {
                return Err(rerr(format!(
                    "target must be zero or positive, not {}",
                    r.target
                )));
            }
            let share = test.is_share() || scope == Scope::Share;
            if share && r.target > 1.0 {
                return Err(rerr(format!(
                    "target {} is a share and must be between 0 and 1 (e.g. 0.9 for 90 %)",
                    r.target
                )));
            }
            if let Some(y) = r.deadline {
                if !(1990..=2100).contains(&y) {
                    return Err(rerr(format!("deadline {y} is not a year")));
                }
            }
            let area = match r.area.as_deref() {
                None | Some("all") => Area::All,
                Some("central_urban") => Area::CentralUrban,
                Some(a) => {
                    return Err(rerr(format!("unknown area '{a}' (all, central_urban)")));
                }
            };
            if matches!(test, Test::PlacesPer1000 | Test::BedsPer1000) && r.group.is_none() {
                return Err(rerr(
                    "a per-1000 rule needs its population base: group = total | aged_60plus | aged_0_3"
                        .into(),
                ));
            }
            let childcare = kinds.iter().all(|k| k.is_childcare());
            let group = match &r.group {
                Some(g) => AgeGroup::parse(g).ok_or_else(|| {
                    rerr(format!(
                        "unknown group '{g}' (total, aged_60plus, aged_0_3)"
                    ))
                })?,
                None if test == Test::BedsPer1000 => AgeGroup::Aged60plus,
                None if test == Test::PlacesPer1000 => AgeGroup::Total,
                None if childcare || test == Test::PopulationWithin => AgeGroup::for_kinds(&kinds),
                None => AgeGroup::Total,
            };
            let mut follows_walk = false;
            let distance = if test == Test::PopulationWithin {
                let d = match (r.distance_m, r.minutes, r.speed_m_s) {
                    (Some(m), None, None) => Distance::radius(m),
                    (None, Some(t), s) => Distance::walk(t, s.unwrap_or(settings.walk_speed_m_s)),
                    (None, None, Some(s)) => Distance::walk(settings.walk_minutes, s),
                    (None, None, None) if childcare => Distance::radius(settings.nursery_radius_m),
                    (None, None, None) => {
                        follows_walk = true;
                        settings.walk()
                    }
                    _ => {
                        return Err(rerr(
                            "give either distance_m or minutes (with optional speed_m_s), not both"
                                .into(),
                        ))
                    }
                };
                if !(d.metres.is_finite() && d.metres > 0.0) {
                    return Err(rerr(format!(
                        "distance must be positive, not {} m",
                        d.metres
                    )));
                }
                Some(d)
            } else {
                None
            };
            let citation = cite(&r.citation);
            if citation.document.trim().is_empty() || citation.clause.trim().is_empty() {
                return Err(rerr(
                    "citation needs a document (here or the preset's) and a clause".into(),
                ));
            }
            if rules.iter().any(|x: &Rule| x.id == r.id) {
                return Err(rerr("duplicate rule id".into()));
            }
            rules.push(Rule {
                id: r.id.clone(),
                title_zh: r.title_zh.clone(),
                title_en: r.title_en.clone(),
                test,
                scope,
                levels,
                kinds,
                qualifiers,
                min_grade: r.min_grade,
                qualified_kinds,
                target: r.target,
                target_user_set: r.target_user_set,
                deadline: r.deadline,
                area,
                group,
                distance,
                follows_walk,
                citation,
                convention: r.convention,
                binding: r.binding,
            });
        }
        let not_modelled = f
            .not_modelled
            .iter()
            .map(|n| NotModelled {
                id: n.id.clone(),
                title_zh: n.title_zh.clone(),
                title_en: n.title_en.clone(),
                citation: cite(&n.citation),
                reason: n.reason.clone(),
            })
            .collect();
        Ok(RuleSet {
            id: f.id.clone(),
            title_zh: f.title_zh.clone(),
            title_en: f.title_en.clone(),
            document: f.document.clone(),
            number: f.number.clone(),
            issuer: f.issuer.clone(),
            date: f.date.clone(),
            settings,
            rules,
            not_modelled,
        })
    }

    /// Re-derives walking distances after the user changed time or speed in the settings,
    /// for rules that follow the settings (those without their own distance).
    pub fn set_walk(&mut self, minutes: f64, speed_m_s: f64) {
        self.settings.walk_minutes = minutes;
        self.settings.walk_speed_m_s = speed_m_s;
        let new = self.settings.walk();
        for r in &mut self.rules {
            if r.follows_walk {
                r.distance = Some(new);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_presets_parse_and_cite_documents_not_files() {
        for (name, text) in PRESETS {
            let s = RuleSet::preset(name).unwrap();
            assert_eq!(s.id, name);
            assert!(!s.rules.is_empty());
            assert!(!s.document.is_empty(), "{name}");
            // No seed file name or repository path anywhere a user could see it.
            for bad in [".txt", "seeds/", "../shared", "seed 0"] {
                assert!(!text.contains(bad), "{name} mentions {bad}");
            }
            for r in &s.rules {
                let c = &r.citation;
                assert!(!c.document.is_empty(), "{name}/{}", r.id);
                assert!(!c.clause.is_empty(), "{name}/{}", r.id);
                assert!(!c.quote.is_empty(), "{name}/{}", r.id);
                assert!(c.cite().starts_with('《'), "{}", c.cite());
                if r.convention {
                    assert!(c.number.contains("50180"), "{name}/{}", r.id);
                }
            }
        }
        let h = RuleSet::preset("heihe-2022").unwrap();
        let r = h
            .rules
            .iter()
            .find(|r| r.id == "nursery_places_per_1000")
            .unwrap();
        assert_eq!(
            r.citation.cite(),
            "《黑河市“一老一小”整体解决方案》(黑市政办规〔2022〕10号) 二(二); 主要发展指标 6 (约束性)"
        );
        assert_eq!((r.scope, r.deadline), (Scope::Aggregate, Some(2025)));
        assert!(!h.not_modelled.is_empty());
    }

    #[test]
    fn bad_presets_name_the_rule_and_field() {
        let base = |rule: &str| {
            format!("id='x'\ntitle_zh='x'\ntitle_en='x'\ndocument='规划'\n[[rules]]\nid='r1'\ntitle_zh='a'\ntitle_en='a'\ncitation={{clause='1',quote='q'}}\n{rule}")
        };
        let e = |rule: &str| {
            RuleSet::parse(&base(rule), "f.toml")
                .unwrap_err()
                .to_string()
        };
        let m = e("test='presence'\nlevel='community'\nkinds=['daycare_room']\ntarget=1");
        assert!(
            m.contains("f.toml") && m.contains("r1") && m.contains("daycare_room"),
            "{m}"
        );
        let m = e("test='presence'\nlevel='parish'\nkinds=['day_care']\ntarget=1");
        assert!(m.contains("unknown level 'parish'"), "{m}");
        let m = e("test='presence_share'\nlevel='community'\nkinds=['day_care']\ntarget=-0.5");
        assert!(m.contains("target must be zero or positive"), "{m}");
        let m = e("test='presence_share'\nlevel='community'\nkinds=['day_care']\ntarget=90");
        assert!(m.contains("0.9 for 90 %"), "{m}");
        let m = e("test='population_within'\nlevel='community'\nkinds=['day_care']\ntarget=1\ndistance_m=0");
        assert!(m.contains("distance must be positive"), "{m}");
        // Scope, qualifier and population base are checked, naming file and rule.
        let m = e(
            "test='presence'\nscope='citywide'\nlevel='community'\nkinds=['day_care']\ntarget=1",
        );
        assert!(
            m.contains("f.toml") && m.contains("r1") && m.contains("unknown scope 'citywide'"),
            "{m}"
        );
        let m = e(
            "test='capacity_total'\nscope='per_unit'\nlevel='county'\nkinds=['nursery']\ntarget=5",
        );
        assert!(m.contains("does not apply"), "{m}");
        let m = e("test='presence'\nlevel='township'\nkinds=['township_institution']\nqualifiers=['shiny']\ntarget=1");
        assert!(
            m.contains("r1") && m.contains("unknown qualifier 'shiny'"),
            "{m}"
        );
        let m = e("test='places_per_1000'\nscope='aggregate'\nlevel='county'\nkinds=['nursery']\ntarget=4.5");
        assert!(m.contains("r1") && m.contains("population base"), "{m}");
        let m = e("test='presence'\nlevel='county'\nkinds=['day_care']\narea='downtown'\ntarget=1");
        assert!(m.contains("unknown area 'downtown'"), "{m}");
    }

    #[test]
    fn walk_distance_follows_settings() {
        let mut s = RuleSet::preset("heilongjiang-2021").unwrap();
        s.set_walk(10.0, 0.8);
        let r = s
            .rules
            .iter()
            .find(|r| r.id == "elderly_15min_circle")
            .unwrap();
        assert_eq!(r.distance.unwrap().describe(), "10 min × 0.8 m/s = 480 m");
    }
}
