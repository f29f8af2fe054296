//! Rules × units × demand → [`Report`]: "where do we fail the plan, and by how much?"
//!
//! Steps: [`Analysis::prepare`] (units, demand, what counts) → [`notes`] (what is skipped or
//! assumed) → per rule, [`verdict`] (units, [`tally`], the test; [`reach`] for population
//! within a distance) → [`summary`] (per-unit results, whole-dataset figures).

mod fairness;
mod notes;
mod reach;
mod summary;
mod tally;
mod verdict;

pub use fairness::RuleEquity;
pub use reach::two_step_fca;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coverage::access::Accessibility;
use crate::coverage::demand::{build_demand, resolve_population, DemandModel, Resolved};
use crate::coverage::rules::{AgeGroup, Citation, NotModelled, RuleSet, Scope};
use crate::model::{
    Dataset, Facility, FacilityId, FacilityKind, FacilityStatus, UnitId, UnitLevel,
};
use crate::progress::{check, Progress};
use crate::spatial::{assign_facilities, assign_facilities_with, Assignment, UnitIndexes};
use crate::Result;

/// What to count as built.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Also count `planned` facilities (the "if the projects are built" scenario).
    pub include_planned: bool,
    /// Also count `proposed` facilities (before/after of a siting run).
    pub include_proposed: bool,
    /// The scenario year: existing facilities opened by then, plus planned projects due by
    /// then (planned ones without a year count and are listed as "year unknown"). Setting
    /// it implies counting planned projects.
    pub year: Option<i32>,
}

impl Options {
    /// Whether facility `f` counts as built in this scenario. Closed facilities and
    /// renovations of existing ones never add to the count.
    pub fn counts(&self, statuses: &[FacilityStatus], f: &Facility) -> bool {
        if f.status == FacilityStatus::Closed || f.renovation {
            return false;
        }
        let by_year = match (self.year, f.year) {
            (Some(y), Some(fy)) => fy <= y,
            _ => true,
        };
        let by_status = statuses.contains(&f.status)
            || ((self.include_planned || self.year.is_some())
                && f.status == FacilityStatus::Planned)
            || (self.include_proposed && f.status == FacilityStatus::Proposed);
        by_status && by_year
    }
}

/// A verdict with room for "we do not know". Only `pass` is a pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// The outcome depends on facts the data lacks (a qualifier, a capacity, existing
    /// facilities not in the dataset).
    Unknown,
    /// Nothing to judge: no units of the level, no data on the kind, nothing located.
    NotEvaluable,
}

impl Status {
    pub fn key(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Unknown => "unknown",
            Status::NotEvaluable => "not_evaluable",
        }
    }
    pub fn zh(self) -> &'static str {
        match self {
            Status::Pass => "达标",
            Status::Fail => "未达标",
            Status::Unknown => "未知",
            Status::NotEvaluable => "无法评估",
        }
    }
    pub fn en(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Unknown => "unknown",
            Status::NotEvaluable => "n/a",
        }
    }
    /// The old two-valued view: `Some(true)` only for pass, `Some(false)` only for fail.
    pub fn pass(self) -> Option<bool> {
        match self {
            Status::Pass => Some(true),
            Status::Fail => Some(false),
            _ => None,
        }
    }
    /// Compares bounds [lo, hi] (hi `None`: unbounded) with a target.
    fn of_bounds(lo: f64, hi: Option<f64>, target: f64) -> Status {
        if lo + 1e-9 >= target {
            Status::Pass
        } else if hi.is_some_and(|h| h + 1e-9 < target) {
            Status::Fail
        } else {
            Status::Unknown
        }
    }
}

/// One rule's verdict over the dataset.
#[derive(Clone, Debug, Serialize)]
pub struct RuleResult {
    pub id: String,
    pub title: String,
    pub title_en: String,
    pub test: &'static str,
    pub level: String,
    pub kinds: Vec<&'static str>,
    pub target: f64,
    /// The plan gives no figure; the target is the user's setting.
    pub target_user_set: bool,
    pub scope: Scope,
    pub status: Status,
    /// The figure compared with `target`: the share of units passing, places per 1000 for
    /// the jurisdiction, the count, the share within reach. With `unknown`, the lower end.
    pub value: Option<f64>,
    /// [lower, upper] of the value when the data leaves it open (upper `None`: no bound).
    pub range: Option<(f64, Option<f64>)>,
    /// Same as `value` (kept for older readers).
    pub achieved: Option<f64>,
    pub units_total: usize,
    pub units_meeting: usize,
    /// Units whose own verdict is unknown (per-unit and share rules).
    pub units_unknown: usize,
    /// True only when `status` is pass.
    pub pass: Option<bool>,
    /// The year the plan asks for it by, and whether it is due in the scenario year.
    pub deadline: Option<i32>,
    pub due: Option<bool>,
    /// The qualifiers a facility needs (标准化 …), in words.
    pub qualifiers: Vec<&'static str>,
    /// Only central-urban units were looked at (or "all units: none marked").
    pub area: Option<String>,
    /// What the per-1000 figure divides by: "1,286,401 residents of 6 county-level units".
    pub base: Option<String>,
    pub base_population: Option<f64>,
    /// Capacity (places/beds) or facilities counted for aggregate rules: lower and upper.
    pub amount: Option<f64>,
    pub amount_upper: Option<f64>,
    /// Why the verdict is unknown or not evaluable, in both languages.
    pub explain_en: Option<String>,
    pub explain_zh: Option<String>,
    pub distance_m: Option<f64>,
    /// "15 min × 1.0 m/s = 900 m" where a distance applies.
    pub distance: Option<String>,
    pub group: Option<AgeGroup>,
    /// People of the group within reach / in all (population rules).
    pub people_covered: Option<f64>,
    pub people_total: Option<f64>,
    /// Network mode: people a straight-line circle of the same distance would also count.
    pub people_overclaimed: Option<f64>,
    pub citation: Citation,
    /// A planning convention (GB 50180-2018), not a target of the plan.
    pub convention: bool,
    pub binding: Option<bool>,
    /// Why some or all units were not evaluated.
    pub notes: Vec<String>,
}

/// A unit's status on one rule.
#[derive(Clone, Debug, Serialize)]
pub struct UnitRuleStatus {
    pub status: Status,
    /// `Some(true)` only for pass, `Some(false)` only for fail.
    pub pass: Option<bool>,
    /// Facilities missing (presence), places short (places per 1000), public-benefit places
    /// short, or people of the group out of reach.
    pub deficit: Option<f64>,
    /// The unit's own value: facility count, places per 1000, share, share within reach.
    pub value: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Network mode, population rules: people inside the straight-line distance but beyond
    /// the walk — what a circle on the map over-claims.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub euclidean_overclaim: Option<f64>,
}

/// One unit's figures and rule statuses.
#[derive(Clone, Debug, Serialize)]
pub struct UnitResult {
    #[serde(skip)]
    pub id: UnitId,
    pub code: String,
    pub name: String,
    pub level: UnitLevel,
    pub parent_code: Option<String>,
    pub population: Option<f64>,
    pub pop_60plus: Option<f64>,
    pub pop_0_3: Option<f64>,
    pub nursery_places: f64,
    pub nursery_places_per_1000: Option<f64>,
    /// 2SFCA: population-weighted mean nursery places per 1000 residents within reach.
    pub nursery_2sfca_per_1000: Option<f64>,
    pub facilities: BTreeMap<&'static str, usize>,
    pub rules: BTreeMap<String, UnitRuleStatus>,
}

/// A demand point out of reach of a population rule. A province has around a million:
/// the strings are shared (`Arc`) with the rule, the unit and the demand layer.
#[derive(Clone, Debug, Serialize)]
pub struct UncoveredPoint {
    pub rule: std::sync::Arc<str>,
    pub demand_index: usize,
    /// The id the point had in its source demand layer; `None` for points the model placed.
    pub source_id: Option<crate::model::PointId>,
    /// Where, in the dataset's local metres: what grids and maps use; outputs say WGS84
    /// ([`Self::lon_lat`]), computed as they write rather than for every point up front.
    pub x: f64,
    pub y: f64,
    pub unit_code: std::sync::Arc<str>,
    pub people: f64,
}

impl UncoveredPoint {
    /// WGS84, by the dataset's projection (`Dataset::projection`).
    pub fn lon_lat(&self, projection: &crate::geom::LocalProjection) -> (f64, f64) {
        projection.inverse(self.x, self.y)
    }

    /// The point as outputs write it (JSON `uncovered`): WGS84, ids as text.
    pub fn row(&self, projection: &crate::geom::LocalProjection) -> UncoveredRow<'_> {
        let (lon, lat) = self.lon_lat(projection);
        UncoveredRow {
            rule: &self.rule,
            demand_index: self.demand_index,
            source_id: self.source_id.as_deref(),
            lon,
            lat,
            unit_code: &self.unit_code,
            people: self.people,
        }
    }
}

/// An uncovered point as written out.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct UncoveredRow<'a> {
    pub rule: &'a str,
    pub demand_index: usize,
    pub source_id: Option<&'a str>,
    pub lon: f64,
    pub lat: f64,
    pub unit_code: &'a str,
    pub people: f64,
}

/// Whole-dataset figures.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub elderly_covered_share: Option<f64>,
    pub elderly_distance_m: Option<f64>,
    pub nursery_places_per_1000: Option<f64>,
    pub nursery_places_short: Option<f64>,
    /// The tier whose units make up "the whole dataset" (the coarsest with population).
    pub tier: Option<u8>,
    pub population: Option<f64>,
    pub nursery_places: f64,
    /// How many of those places are assumptions (capacity_estimate), not data.
    pub nursery_places_estimated: f64,
    /// The places are a floor: existing nurseries or their places are not all in the data.
    pub nursery_places_lower_bound: bool,
    pub synthetic_facilities: usize,
}

/// The full coverage report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub dataset: String,
    pub preset: String,
    pub preset_title: String,
    pub mode: &'static str,
    pub statuses_counted: Vec<FacilityStatus>,
    pub rules: Vec<RuleResult>,
    pub units: Vec<UnitResult>,
    pub summary: Summary,
    pub uncovered: Vec<UncoveredPoint>,
    pub demand: DemandInfo,
    /// Everything skipped or assumed, in plain words.
    pub skipped: Vec<String>,
    /// The scenario year (targets due by then are marked `due`).
    pub year: Option<i32>,
    /// The plan as cited: 《title》(number).
    pub preset_citation: String,
    /// Targets of the plan the preset does not check, with the reason.
    pub not_checked: Vec<NotModelled>,
    /// Planned projects counted without a year ("year unknown").
    pub planned_year_unknown: Vec<String>,
    /// How evenly each rule's figure is spread over units (Gini, Lorenz, Palma).
    pub equity: Vec<RuleEquity>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DemandInfo {
    pub tier: Option<u8>,
    pub points: usize,
    pub by_source: BTreeMap<&'static str, usize>,
    pub population: f64,
    pub pop_60plus: f64,
    pub pop_0_3: f64,
}

/// Intermediate facts shared by rules.
pub struct Analysis<'a> {
    pub ds: &'a Dataset,
    pub assignment: Assignment,
    pub demand: DemandModel,
    /// Facilities that count under the options.
    pub counted: Vec<bool>,
}

impl<'a> Analysis<'a> {
    pub fn prepare(
        ds: &'a Dataset,
        rules: &RuleSet,
        opts: &Options,
        progress: &dyn Progress,
    ) -> Result<Self> {
        progress.stage("facilities in units", Some(ds.facilities.len() as u64));
        let idx = UnitIndexes::new(ds);
        let assignment = assign_facilities_with(ds, &idx, progress)?;
        let demand = build_demand(ds, &rules.settings, progress)?;
        let counted = ds
            .facilities
            .iter()
            .map(|f| opts.counts(&rules.settings.statuses, f))
            .collect();
        Ok(Self {
            ds,
            assignment,
            demand,
            counted,
        })
    }

    /// [`Analysis::prepare`] with a demand model built before for the same units and
    /// demand settings: the app's edits change facilities only, so the demand (the slow
    /// part on a city with buildings) is kept across them.
    pub fn prepare_with_demand(
        ds: &'a Dataset,
        rules: &RuleSet,
        opts: &Options,
        demand: DemandModel,
    ) -> Self {
        let idx = UnitIndexes::new(ds);
        let assignment = assign_facilities(ds, &idx);
        let counted = ds
            .facilities
            .iter()
            .map(|f| opts.counts(&rules.settings.statuses, f))
            .collect();
        Self {
            ds,
            assignment,
            demand,
            counted,
        }
    }

    fn facilities_of(&self, kinds: &[FacilityKind]) -> Vec<FacilityId> {
        self.ds
            .facilities
            .iter()
            .filter(|f| self.counted[f.id.index()] && kinds.contains(&f.kind))
            .map(|f| f.id)
            .collect()
    }
}

/// Runs every rule of `rules` on `ds`.
pub fn analyze(
    ds: &Dataset,
    rules: &RuleSet,
    opts: &Options,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Report> {
    let an = Analysis::prepare(ds, rules, opts, progress)?;
    analyze_prepared(&an, rules, opts, access, progress)
}

/// What the demand model depends on besides the units: a model built under the same key
/// for the same units can be reused ([`analyze_reusing`]).
pub fn demand_key(rules: &RuleSet) -> String {
    let s = &rules.settings;
    format!(
        "{}/{}/{}",
        s.grid_cell_m, s.min_buildings, s.max_grid_points_per_unit
    )
}

/// [`analyze`], reusing `demand` when given (built for the same units under the same
/// [`demand_key`]); returns the demand model used, for the next run.
pub fn analyze_reusing(
    ds: &Dataset,
    rules: &RuleSet,
    opts: &Options,
    access: &dyn Accessibility,
    demand: Option<DemandModel>,
    progress: &dyn Progress,
) -> Result<(Report, DemandModel)> {
    let an = match demand {
        Some(d) => Analysis::prepare_with_demand(ds, rules, opts, d),
        None => Analysis::prepare(ds, rules, opts, progress)?,
    };
    let report = analyze_prepared(&an, rules, opts, access, progress)?;
    Ok((report, an.demand))
}

/// [`analyze`] on facts already prepared with the same `rules` and `opts` (callers that
/// also need the demand model, such as siting, build it once).
pub fn analyze_prepared(
    an: &Analysis,
    rules: &RuleSet,
    opts: &Options,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Report> {
    let ds = an.ds;
    let pops: Vec<Resolved> = ds
        .units
        .iter()
        .map(|u| resolve_population(ds, u.id))
        .collect();
    let skipped = notes::scenario_notes(an, opts);
    let demand_pts = an.demand.points.locations();
    // The jurisdiction's population: the coarsest tier with population figures.
    let top_tier = ds
        .units
        .iter()
        .filter(|u| pops[u.id.index()].total.is_some())
        .map(|u| u.level.tier())
        .min();
    let mut unit_rules: Vec<BTreeMap<String, UnitRuleStatus>> =
        vec![BTreeMap::new(); ds.units.len()];
    let mut results = Vec::new();
    let mut uncovered = Vec::new();
    for rule in &rules.rules {
        check(progress)?;
        results.push(verdict::run_rule(
            an,
            rule,
            opts,
            &pops,
            top_tier,
            demand_pts,
            access,
            progress,
            &mut unit_rules,
            &mut uncovered,
        )?);
    }
    let units = summary::unit_results(an, rules, &pops, unit_rules, access, progress)?;
    summary::report(
        an, rules, opts, access, &pops, results, units, uncovered, skipped,
    )
}

impl UnitRuleStatus {
    /// A unit that is not judged (or cannot be), with the reason.
    fn open(status: Status, reason: &str) -> Self {
        UnitRuleStatus {
            status,
            pass: status.pass(),
            deficit: None,
            value: None,
            reason: Some(reason.to_owned()),
            euclidean_overclaim: None,
        }
    }
}

/// 1286401 → "1,286,401".
pub fn thousands(x: f64) -> String {
    let n = x.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

impl RuleResult {
    /// The title in the UI's language.
    pub fn title_in(&self, english: bool) -> &str {
        if english {
            &self.title_en
        } else {
            &self.title
        }
    }

    /// A figure of this rule as people read it: "4.52/千人" ("4.52/1000"), "62.0%",
    /// "5,200". Every front end and export uses it.
    pub fn value_text(&self, v: f64, english: bool) -> String {
        match self.test {
            "places_per_1000" | "beds_per_1000" => {
                format!("{v:.2}{}", if english { "/1000" } else { "/千人" })
            }
            "capacity_total" | "count" => thousands(v),
            _ => format!("{:.1}%", v * 100.0),
        }
    }

    /// The rule's value with what the data leaves open: "37.5%–75.0%", "≥ 3.86/千人"
    /// (no upper bound), "4.55/千人", or "-" when there is none.
    pub fn value_with_range(&self, english: bool) -> String {
        let t = |v: f64| self.value_text(v, english);
        match (self.value, self.range) {
            (Some(v), Some((_, Some(h)))) if (h - v).abs() > 1e-9 => format!("{}–{}", t(v), t(h)),
            (Some(v), Some((_, None))) => format!("≥ {}", t(v)),
            (Some(v), _) => t(v),
            (None, _) => "-".into(),
        }
    }
}

pub(super) fn tier_zh(t: Option<u8>) -> &'static str {
    match t {
        Some(1) => "区县",
        Some(2) => "乡镇街道",
        Some(3) => "村社区",
        _ => "-",
    }
}
