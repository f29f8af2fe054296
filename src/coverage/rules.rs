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
use crate::model::{FacilityKind, FacilityStatus, UnitLevel};

/// The presets shipped in `assets/rules/` (embedded, so the binary works from any folder).
pub const PRESETS: [(&str, &str); 4] = [
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
];

/// What a rule measures. The JSON report uses these keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Test {
    /// Every unit of the level has ≥ `target` facilities of the kinds.
    Presence,
    /// The share of units with ≥ 1 facility of the kinds is ≥ `target`.
    PresenceShare,
    /// Capacity (nursery places) per 1000 residents ≥ `target` in every unit.
    PlacesPer1000,
    /// Share of places that are public-benefit (普惠) ≥ `target` in every unit.
    PublicBenefitShare,
    /// Share of an age group within `distance` of a facility of the kinds ≥ `target`.
    PopulationWithin,
}

impl Test {
    pub fn key(self) -> &'static str {
        match self {
            Test::Presence => "presence",
            Test::PresenceShare => "presence_share",
            Test::PlacesPer1000 => "places_per_1000",
            Test::PublicBenefitShare => "public_benefit_share",
            Test::PopulationWithin => "population_within",
        }
    }
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "presence" => Test::Presence,
            "presence_share" => Test::PresenceShare,
            "places_per_1000" => Test::PlacesPer1000,
            "public_benefit_share" => Test::PublicBenefitShare,
            "population_within" => Test::PopulationWithin,
            _ => return None,
        })
    }
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

/// Where a rule comes from: the seed document and its section, and the words themselves.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Clause {
    pub source: String,
    #[serde(default)]
    pub section: String,
    #[serde(default)]
    pub text: String,
}

/// One checkable target.
#[derive(Clone, Debug, Serialize)]
pub struct Rule {
    pub id: String,
    pub title_zh: String,
    pub title_en: String,
    pub test: Test,
    pub levels: Vec<UnitLevel>,
    pub kinds: Vec<FacilityKind>,
    pub target: f64,
    pub group: AgeGroup,
    /// Radius or walking distance (population_within only).
    pub distance: Option<Distance>,
    pub clause: Clause,
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
        !matches!(self.test, Test::PlacesPer1000)
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
    pub source: String,
    pub settings: Settings,
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSet {
    id: String,
    title_zh: String,
    title_en: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    settings: FileSettings,
    #[serde(default)]
    rules: Vec<FileRule>,
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    id: String,
    title_zh: String,
    title_en: String,
    test: String,
    level: OneOrMany,
    #[serde(default)]
    kinds: Vec<String>,
    target: f64,
    group: Option<String>,
    distance_m: Option<f64>,
    minutes: Option<f64>,
    speed_m_s: Option<f64>,
    clause: Clause,
}

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
                    FacilityStatus::parse(x).ok_or_else(|| {
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
        let mut rules = Vec::new();
        for r in f.rules {
            let rerr = |m: String| err(format!("rule '{}': {m}", r.id));
            let test = Test::parse(&r.test).ok_or_else(|| {
                rerr(format!(
                    "unknown test '{}' (presence, presence_share, places_per_1000, public_benefit_share, population_within)",
                    r.test
                ))
            })?;
            let level_names = match &r.level {
                OneOrMany::One(s) => vec![s.clone()],
                OneOrMany::Many(v) => v.clone(),
            };
            let levels = level_names
                .iter()
                .map(|l| {
                    UnitLevel::parse(l).ok_or_else(|| {
                        rerr(format!(
                            "unknown level '{l}' (district, county, sub_district, township, community, village)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if levels.is_empty() {
                return Err(rerr("needs at least one level".into()));
            }
            let kinds = r
                .kinds
                .iter()
                .map(|k| {
                    FacilityKind::parse(k).ok_or_else(|| {
                        rerr(format!(
                            "unknown facility kind '{k}' (day_care, street_station, district_center, township_institution, county_hardship, village_mutual_aid, care_home, nursery)"
                        ))
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            if kinds.is_empty() {
                return Err(rerr("needs at least one facility kind in 'kinds'".into()));
            }
            if !(r.target.is_finite() && r.target >= 0.0) {
                return Err(rerr(format!(
                    "target must be zero or positive, not {}",
                    r.target
                )));
            }
            let share = !matches!(test, Test::PlacesPer1000 | Test::Presence);
            if share && r.target > 1.0 {
                return Err(rerr(format!(
                    "target {} is a share and must be between 0 and 1 (e.g. 0.9 for 90 %)",
                    r.target
                )));
            }
            let group = match &r.group {
                Some(g) => AgeGroup::parse(g).ok_or_else(|| {
                    rerr(format!(
                        "unknown group '{g}' (total, aged_60plus, aged_0_3)"
                    ))
                })?,
                None if kinds.iter().all(|k| k.is_childcare()) => AgeGroup::Aged0to3,
                None if test == Test::PopulationWithin => AgeGroup::Aged60plus,
                None => AgeGroup::Total,
            };
            let distance = if test == Test::PopulationWithin {
                let d = match (r.distance_m, r.minutes, r.speed_m_s) {
                    (Some(m), None, None) => Distance::radius(m),
                    (None, Some(t), s) => Distance::walk(t, s.unwrap_or(settings.walk_speed_m_s)),
                    (None, None, Some(s)) => Distance::walk(settings.walk_minutes, s),
                    (None, None, None) if kinds.iter().all(|k| k.is_childcare()) => {
                        Distance::radius(settings.nursery_radius_m)
                    }
                    (None, None, None) => settings.walk(),
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
            if rules.iter().any(|x: &Rule| x.id == r.id) {
                return Err(rerr("duplicate rule id".into()));
            }
            rules.push(Rule {
                id: r.id.clone(),
                title_zh: r.title_zh.clone(),
                title_en: r.title_en.clone(),
                test,
                levels,
                kinds,
                target: r.target,
                group,
                distance,
                clause: r.clause.clone(),
            });
        }
        Ok(RuleSet {
            id: f.id,
            title_zh: f.title_zh,
            title_en: f.title_en,
            source: f.source,
            settings,
            rules,
        })
    }

    /// Re-derives walking distances after the user changed time or speed in the settings,
    /// for rules that follow the settings (those without their own distance).
    pub fn set_walk(&mut self, minutes: f64, speed_m_s: f64) {
        let old = self.settings.walk();
        self.settings.walk_minutes = minutes;
        self.settings.walk_speed_m_s = speed_m_s;
        let new = self.settings.walk();
        for r in &mut self.rules {
            if r.distance == Some(old) {
                r.distance = Some(new);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_presets_parse_and_cite_a_seed() {
        for (name, _) in PRESETS {
            let s = RuleSet::preset(name).unwrap();
            assert_eq!(s.id, name);
            assert!(!s.rules.is_empty());
            for r in &s.rules {
                assert!(!r.clause.source.is_empty(), "{name}/{}", r.id);
                assert!(!r.clause.section.is_empty(), "{name}/{}", r.id);
            }
        }
    }

    #[test]
    fn bad_presets_name_the_rule_and_field() {
        let base = |rule: &str| {
            format!("id='x'\ntitle_zh='x'\ntitle_en='x'\n[[rules]]\nid='r1'\ntitle_zh='a'\ntitle_en='a'\nclause={{source='s.txt',section='1'}}\n{rule}")
        };
        let e = RuleSet::parse(
            &base("test='presence'\nlevel='community'\nkinds=['daycare_room']\ntarget=1"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("f.toml") && e.contains("r1") && e.contains("daycare_room"),
            "{e}"
        );
        let e = RuleSet::parse(
            &base("test='presence'\nlevel='parish'\nkinds=['day_care']\ntarget=1"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("unknown level 'parish'"), "{e}");
        let e = RuleSet::parse(
            &base("test='presence_share'\nlevel='community'\nkinds=['day_care']\ntarget=-0.5"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("target must be zero or positive"), "{e}");
        let e = RuleSet::parse(
            &base("test='presence_share'\nlevel='community'\nkinds=['day_care']\ntarget=90"),
            "f.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("0.9 for 90 %"), "{e}");
        let e = RuleSet::parse(&base("test='population_within'\nlevel='community'\nkinds=['day_care']\ntarget=1\ndistance_m=0"), "f.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("distance must be positive"), "{e}");
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
