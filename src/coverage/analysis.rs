//! Rules × units × demand → [`Report`]: "where do we fail the plan, and by how much?"

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coverage::access::{Accessibility, Euclidean};
use crate::coverage::demand::{build_demand, resolve_population, DemandModel, DemandSource};
use crate::coverage::rules::{AgeGroup, Area, Citation, NotModelled, Rule, RuleSet, Scope, Test};
use crate::model::{
    Dataset, Facility, FacilityId, FacilityKind, FacilityStatus, KnownTotal, UnitId, UnitLevel,
};
use crate::progress::{check, Progress};
use crate::spatial::{assign_facilities, Assignment, UnitIndexes};
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

/// A demand point out of reach of a population rule.
#[derive(Clone, Debug, Serialize)]
pub struct UncoveredPoint {
    pub rule: String,
    pub demand_index: usize,
    pub lon: f64,
    pub lat: f64,
    pub unit_code: String,
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
        let idx = UnitIndexes::new(ds);
        let assignment = assign_facilities(ds, &idx);
        check(progress)?;
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
    let n_units = ds.units.len();
    let mut skipped: Vec<String> = Vec::new();

    // Per unit: resolved population, facility counts per kind, nursery places.
    let pops: Vec<_> = ds
        .units
        .iter()
        .map(|u| resolve_population(ds, u.id))
        .collect();
    let mut kind_counts: Vec<BTreeMap<FacilityKind, usize>> = vec![BTreeMap::new(); n_units];
    let mut places = vec![0.0f64; n_units];
    for f in &ds.facilities {
        if !an.counted[f.id.index()] {
            continue;
        }
        for u in an.assignment.units_of(f.id) {
            *kind_counts[u.index()].entry(f.kind).or_default() += 1;
            if f.kind == FacilityKind::Nursery {
                places[u.index()] += f.capacity.unwrap_or(0.0);
            }
        }
    }
    for f in &an.assignment.outside {
        let f = ds.facility(*f);
        if an.counted[f.id.index()] {
            skipped.push(format!(
                "facility {} ({}, {}) lies in no unit and has no unit code or town: counted only in jurisdiction totals",
                f.name,
                f.source_id,
                f.kind.key()
            ));
        }
    }
    let no_capacity = ds
        .facilities
        .iter()
        .filter(|f| {
            an.counted[f.id.index()] && f.kind == FacilityKind::Nursery && f.capacity.is_none()
        })
        .count();
    if no_capacity > 0 {
        skipped.push(format!(
            "{no_capacity} nurseries have no capacity: they count for presence and reach; their places are unknown, so place totals are lower bounds (set capacity or capacity_estimate)"
        ));
    }
    let renovations: Vec<String> = ds
        .facilities
        .iter()
        .filter(|f| f.renovation && f.status != FacilityStatus::Closed)
        .map(|f| format!("{} ({})", f.name, f.source_id))
        .collect();
    if !renovations.is_empty() {
        skipped.push(format!(
            "{} renovation projects of existing facilities add no new facility and no new capacity: {}",
            renovations.len(),
            renovations.join("; ")
        ));
    }
    let closed = ds
        .facilities
        .iter()
        .filter(|f| f.status == FacilityStatus::Closed)
        .count();
    if closed > 0 {
        skipped.push(format!("{closed} closed facilities are never counted"));
    }
    if let Some(y) = opts.year {
        let later = ds
            .facilities
            .iter()
            .filter(|f| {
                f.status != FacilityStatus::Closed
                    && !f.renovation
                    && f.year.is_some_and(|fy| fy > y)
            })
            .count();
        if later > 0 {
            skipped.push(format!(
                "{later} facilities or projects dated after {y} are not counted in the {y} scenario"
            ));
        }
    }
    for (u, why) in &an.demand.skipped {
        let u = ds.unit(*u);
        skipped.push(format!("{} {} ({}): {}", u.level.zh(), u.name, u.code, why));
    }

    let demand_pts: Vec<geo::Point<f64>> = an.demand.points.iter().map(|d| d.location).collect();

    let mut unit_rules: Vec<BTreeMap<String, UnitRuleStatus>> = vec![BTreeMap::new(); n_units];
    let mut results = Vec::new();
    let mut uncovered = Vec::new();
    let mut elderly: Option<(f64, f64)> = None;
    let marks = ds.has_central_urban_marks();
    // The jurisdiction's population: the coarsest tier with population figures.
    let top_tier = ds
        .units
        .iter()
        .filter(|u| pops[u.id.index()].total.is_some())
        .map(|u| u.level.tier())
        .min();

    for rule in &rules.rules {
        check(progress)?;
        let in_area = |u: UnitId| rule.area == Area::All || !marks || ds.is_central_urban(u);
        let units: Vec<UnitId> = ds
            .units
            .iter()
            .filter(|u| rule.levels.contains(&u.level) && in_area(u.id))
            .map(|u| u.id)
            .collect();
        let kinds_zh = rule
            .kinds
            .iter()
            .map(|k| k.zh())
            .collect::<Vec<_>>()
            .join("/");
        let kinds_en = rule
            .kinds
            .iter()
            .map(|k| k.en().to_lowercase())
            .collect::<Vec<_>>()
            .join("/");
        let mut res = RuleResult {
            id: rule.id.clone(),
            title: rule.title_zh.clone(),
            title_en: rule.title_en.clone(),
            test: rule.test.key(),
            level: rule.level_key(),
            kinds: rule.kinds.iter().map(|k| k.key()).collect(),
            target: rule.target,
            target_user_set: rule.target_user_set,
            scope: rule.scope,
            status: Status::NotEvaluable,
            value: None,
            range: None,
            achieved: None,
            units_total: 0,
            units_meeting: 0,
            units_unknown: 0,
            pass: None,
            deadline: rule.deadline,
            due: match (opts.year, rule.deadline) {
                (Some(y), Some(d)) => Some(d <= y),
                _ => None,
            },
            qualifiers: rule.qualifiers.iter().map(|q| q.key()).collect(),
            area: None,
            base: None,
            base_population: None,
            amount: None,
            amount_upper: None,
            explain_en: None,
            explain_zh: None,
            distance_m: rule.distance.map(|d| d.metres),
            distance: rule.distance.map(|d| d.describe()),
            group: matches!(
                rule.test,
                Test::PopulationWithin | Test::PlacesPer1000 | Test::BedsPer1000
            )
            .then_some(rule.group),
            people_covered: None,
            people_total: None,
            people_overclaimed: None,
            citation: rule.citation.clone(),
            convention: rule.convention,
            binding: rule.binding,
            notes: Vec::new(),
        };
        if rule.area == Area::CentralUrban {
            res.area = Some(if marks {
                "central urban units only (中心城区)".into()
            } else {
                "no unit is marked central urban: reported over all units (未标记中心城区，按全部单元统计)"
                    .into()
            });
        }
        let mut notes = Vec::new();
        let tally = Tally::new(an, rule, opts.year);
        if !tally.any_data {
            res.explain_en = Some(format!(
                "no data on existing {kinds_en}: the dataset has no such facilities, layer or known total"
            ));
            res.explain_zh = Some(format!(
                "数据中没有现有{kinds_zh}的信息（无设施、图层或已知总数）"
            ));
            for u in &units {
                unit_rules[u.index()].insert(
                    rule.id.clone(),
                    UnitRuleStatus::open(Status::NotEvaluable, "no data on this kind"),
                );
            }
            res.notes = notes;
            results.push(res);
            continue;
        }
        if !tally.complete {
            notes.push(format!(
                "no data on existing {kinds_en} beyond what is listed: a missing facility is 'unknown', not 'none'"
            ));
        }
        notes.extend(tally.notes.iter().cloned());
        let needs_units = !matches!(
            (rule.test, rule.scope),
            (Test::CapacityTotal, _) | (Test::Count, Scope::Count)
        );
        if units.is_empty() && needs_units {
            notes.push(format!(
                "the dataset has no {} units{}: not evaluated",
                rule.levels
                    .iter()
                    .map(|l| l.zh())
                    .collect::<Vec<_>>()
                    .join("/"),
                if rule.area == Area::CentralUrban && marks {
                    " in the central urban area"
                } else {
                    ""
                }
            ));
            res.explain_en = Some("no units of the level".into());
            res.explain_zh = Some("没有该级别的单元".into());
            res.notes = notes;
            results.push(res);
            continue;
        }
        let per_unit_presence = matches!(rule.test, Test::Presence | Test::PresenceShare)
            || (rule.test == Test::Count && rule.scope == Scope::PerUnit);
        if per_unit_presence {
            let need = if rule.scope == Scope::Share {
                1.0
            } else {
                rule.target.max(1.0)
            };
            let (mut pass, mut unknown, mut fail, mut unknown_by_qualifier) = (0, 0, 0, 0);
            for u in &units {
                let i = u.index();
                let (yes, maybe) = (tally.unit_yes[i], tally.unit_maybe[i]);
                let (status, reason) = if yes >= need {
                    (Status::Pass, None)
                } else if yes + maybe >= need {
                    unknown_by_qualifier += 1;
                    (
                        Status::Unknown,
                        Some(format!(
                            "{maybe} facilities do not say whether they are {}",
                            rule.qualifier_words(true)
                        )),
                    )
                } else if !tally.complete {
                    (
                        Status::Unknown,
                        Some("no data on existing facilities".into()),
                    )
                } else if tally.unlocated_facilities.is_none_or(|k| k > 0.0) {
                    (
                        Status::Unknown,
                        Some("facilities known only as totals may lie here".into()),
                    )
                } else {
                    (Status::Fail, None)
                };
                match status {
                    Status::Pass => pass += 1,
                    Status::Fail => fail += 1,
                    _ => unknown += 1,
                }
                unit_rules[i].insert(
                    rule.id.clone(),
                    UnitRuleStatus {
                        status,
                        pass: status.pass(),
                        deficit: Some((need - yes).max(0.0)),
                        value: Some(yes),
                        reason,
                        euclidean_overclaim: None,
                    },
                );
            }
            let shapeless = units
                .iter()
                .filter(|u| ds.unit(**u).geometry.is_none())
                .count();
            if shapeless > 0 {
                notes.push(format!(
                    "{shapeless} of {} units have no shape: only facilities joined by unit code or town name count there",
                    units.len()
                ));
            }
            let n = units.len();
            // At most this many units can still pass: the unknown ones, but when the data
            // is complete apart from unlocated totals, no more than those totals can fill.
            let reachable = if tally.complete {
                match tally.unlocated_facilities {
                    Some(k) => unknown.min(unknown_by_qualifier + (k / need).floor() as usize),
                    None => unknown,
                }
            } else {
                unknown
            };
            res.units_total = n;
            res.units_meeting = pass;
            res.units_unknown = unknown;
            let lo = pass as f64 / n as f64;
            let hi = (pass + reachable) as f64 / n as f64;
            res.value = Some(lo);
            if unknown > 0 {
                res.range = Some((lo, Some(hi)));
            }
            res.status = if rule.scope == Scope::Share {
                Status::of_bounds(lo, Some(hi), rule.target)
            } else if fail > 0 || pass + reachable < n {
                Status::Fail
            } else if pass == n {
                Status::Pass
            } else {
                Status::Unknown
            };
            if res.status == Status::Unknown || (res.status == Status::Fail && fail == 0) {
                let (en, zh) = tally.why(rule, &kinds_en, &kinds_zh);
                res.explain_en = Some(format!(
                    "{pass} of {n} units pass, {unknown} unknown ({:.0} %–{:.0} %): {en}",
                    lo * 100.0,
                    hi * 100.0
                ));
                res.explain_zh = Some(format!(
                    "{n} 个单元中 {pass} 个达标、{unknown} 个未知（{:.0}%–{:.0}%）：{zh}",
                    lo * 100.0,
                    hi * 100.0
                ));
            }
        } else if rule.test == Test::PopulationWithin {
            population_within(
                an,
                rule,
                &units,
                &tally,
                &demand_pts,
                access,
                progress,
                &in_area,
                &mut res,
                &mut notes,
                &mut unit_rules,
                &mut uncovered,
            )?;
            if res.status == Status::Pass || res.status == Status::Fail {
                if rule.group == AgeGroup::Aged60plus && elderly.is_none() {
                    elderly = res.value.zip(res.distance_m);
                }
            } else if res.status == Status::Unknown
                && rule.group == AgeGroup::Aged60plus
                && elderly.is_none()
            {
                elderly = res.value.zip(res.distance_m);
            }
        } else {
            // Aggregate tests: one figure for the jurisdiction; per-unit values diagnose.
            let group = rule.group;
            let pop_of = |u: UnitId| -> Option<f64> {
                let p = pops[u.index()];
                match group {
                    AgeGroup::Total => p.total,
                    AgeGroup::Aged60plus => p.aged_60plus,
                    AgeGroup::Aged0to3 => p.aged_0_3,
                }
            };
            let per_1000 = matches!(rule.test, Test::PlacesPer1000 | Test::BedsPer1000);
            // Population base: the coarsest tier with figures, within the area.
            let base_units: Vec<UnitId> = ds
                .units
                .iter()
                .filter(|u| Some(u.level.tier()) == top_tier && in_area(u.id))
                .map(|u| u.id)
                .collect();
            let with_pop: Vec<(UnitId, f64)> = base_units
                .iter()
                .filter_map(|u| pop_of(*u).map(|p| (*u, p)))
                .collect();
            let base_pop: f64 = with_pop.iter().map(|x| x.1).sum();
            if per_1000 {
                if with_pop.is_empty() || base_pop <= 0.0 {
                    res.explain_en = Some(format!("no figures for {} in the units", group.en()));
                    res.explain_zh = Some(format!("单元缺少{}数据", group.zh()));
                    res.notes = notes;
                    results.push(res);
                    continue;
                }
                let missing = base_units.len() - with_pop.len();
                let level_words = {
                    let mut l: Vec<&str> =
                        base_units.iter().map(|u| ds.unit(*u).level.zh()).collect();
                    l.sort();
                    l.dedup();
                    l.join("/")
                };
                let sources: Vec<String> = {
                    let mut v: Vec<String> = with_pop
                        .iter()
                        .filter_map(|(u, _)| ds.unit(*u).population_source.clone())
                        .collect();
                    v.sort();
                    v.dedup();
                    v
                };
                res.base = Some(format!(
                    "{} {} = {} 个{}单元合计{}{}",
                    group.zh(),
                    thousands(base_pop),
                    with_pop.len(),
                    level_words,
                    if missing > 0 {
                        format!("（另有 {missing} 个单元无数据，未计入）")
                    } else {
                        String::new()
                    },
                    if sources.is_empty() {
                        String::new()
                    } else {
                        format!("；来源：{}", sources.join("、"))
                    }
                ));
                res.base_population = Some(base_pop);
                if missing > 0 {
                    notes.push(format!(
                        "{missing} of {} units have no figure for {}: the base leaves them out",
                        base_units.len(),
                        group.en()
                    ));
                }
            }
            let (lo, hi) = tally.amount_bounds(rule.test);
            res.amount = Some(lo);
            res.amount_upper = hi;
            let scale = |x: f64| {
                if per_1000 {
                    x / base_pop * 1000.0
                } else {
                    x
                }
            };
            // A share whose denominator is open can move either way: never pass or fail.
            let mut share_open = false;
            let (vlo, vhi) = match rule.test {
                Test::QualifiedShare | Test::NursingBedShare => {
                    let (den, den_known) = tally.share_denominator();
                    if den <= 0.0 {
                        if den_known {
                            res.explain_en = Some(format!("no capacity of {kinds_en} counted"));
                            res.explain_zh = Some(format!("没有可计的{kinds_zh}容量"));
                            res.status = Status::NotEvaluable;
                        } else {
                            res.status = Status::Unknown;
                            res.explain_en = Some("the capacity is not known".into());
                            res.explain_zh = Some("容量未知".into());
                        }
                        res.notes = notes;
                        results.push(res);
                        continue;
                    }
                    share_open = !den_known;
                    (
                        lo / den,
                        hi.filter(|_| den_known).map(|h| (h / den).min(1.0)),
                    )
                }
                _ => (scale(lo), hi.map(scale)),
            };
            res.value = Some(vlo);
            if vhi != Some(vlo) {
                res.range = Some((vlo, vhi));
            }
            if rule.scope == Scope::Aggregate || rule.scope == Scope::Count {
                res.status = if share_open {
                    Status::Unknown
                } else {
                    Status::of_bounds(vlo, vhi, rule.target)
                };
            }
            // Per unit: the verdict for per_unit scope, diagnostics otherwise.
            let (mut pass, mut unknown, mut fail) = (0, 0, 0);
            for u in &units {
                let i = u.index();
                let (ulo, uhi) = tally.unit_amount_bounds(rule.test, i);
                let v = match rule.test {
                    Test::PlacesPer1000 | Test::BedsPer1000 => match pop_of(*u) {
                        Some(p) if p > 0.0 => Some((
                            ulo / p * 1000.0,
                            uhi.map(|h| h / p * 1000.0),
                            (rule.target * p / 1000.0 - ulo).max(0.0),
                            false,
                        )),
                        _ => None,
                    },
                    Test::QualifiedShare | Test::NursingBedShare => {
                        let (den, known) = tally.unit_share_denominator(i);
                        (den > 0.0).then(|| {
                            (
                                ulo / den,
                                uhi.filter(|_| known).map(|h| (h / den).min(1.0)),
                                (rule.target * den - ulo).max(0.0),
                                !known,
                            )
                        })
                    }
                    _ => Some((ulo, uhi, (rule.target - ulo).max(0.0), false)),
                };
                let st = match v {
                    Some((lo, hi, short, open)) => {
                        let status = if open {
                            Status::Unknown
                        } else {
                            Status::of_bounds(lo, hi, rule.target)
                        };
                        match status {
                            Status::Pass => pass += 1,
                            Status::Fail => fail += 1,
                            _ => unknown += 1,
                        }
                        UnitRuleStatus {
                            status,
                            pass: status.pass(),
                            deficit: Some(short),
                            value: Some(lo),
                            reason: (status == Status::Unknown)
                                .then(|| "capacity or existing facilities unknown".to_string()),
                            euclidean_overclaim: None,
                        }
                    }
                    None => UnitRuleStatus::open(
                        Status::NotEvaluable,
                        if per_1000 {
                            "no population figure"
                        } else {
                            "no capacity here"
                        },
                    ),
                };
                unit_rules[i].insert(rule.id.clone(), st);
            }
            res.units_total = pass + unknown + fail;
            res.units_meeting = pass;
            res.units_unknown = unknown;
            if rule.scope == Scope::PerUnit {
                res.status = if res.units_total == 0 {
                    Status::NotEvaluable
                } else if fail > 0 {
                    Status::Fail
                } else if unknown > 0 {
                    Status::Unknown
                } else {
                    Status::Pass
                };
            }
            if res.status == Status::Unknown {
                let (en, zh) = tally.why(rule, &kinds_en, &kinds_zh);
                let fmt = |x: f64| fmt_value(rule, x);
                let range_en = match vhi {
                    Some(h) => format!("{}–{}", fmt(vlo), fmt(h)),
                    None => format!("at least {}", fmt(vlo)),
                };
                let range_zh = match vhi {
                    Some(h) => format!("{}–{}", fmt(vlo), fmt(h)),
                    None => format!("至少 {}", fmt(vlo)),
                };
                res.explain_en = Some(format!("{range_en}: {en}"));
                res.explain_zh = Some(format!("{range_zh}：{zh}"));
            }
        }
        res.pass = res.status.pass();
        res.achieved = res.value;
        res.notes = notes;
        results.push(res);
    }

    // 2SFCA for nurseries: places per 1000 residents within reach, per demand point and unit.
    let sfca = two_step_fca(an, rules.settings.nursery_radius_m, access, progress)?;
    let mut sfca_num = vec![0.0f64; n_units];
    let mut sfca_den = vec![0.0f64; n_units];
    if let Some(a) = &sfca {
        for (k, d) in an.demand.points.iter().enumerate() {
            for u in ds.ancestors(d.unit) {
                sfca_num[u.index()] += a[k] * d.total;
                sfca_den[u.index()] += d.total;
            }
        }
    }

    let units: Vec<UnitResult> = ds
        .units
        .iter()
        .map(|u| {
            let i = u.id.index();
            let p = pops[i];
            UnitResult {
                id: u.id,
                code: u.code.clone(),
                name: u.name.clone(),
                level: u.level,
                parent_code: u.parent.map(|p| ds.unit(p).code.clone()),
                population: p.total,
                pop_60plus: p.aged_60plus,
                pop_0_3: p.aged_0_3,
                nursery_places: places[i],
                nursery_places_per_1000: p
                    .total
                    .filter(|t| *t > 0.0)
                    .map(|t| places[i] / t * 1000.0),
                nursery_2sfca_per_1000: (sfca_den[i] > 0.0).then(|| sfca_num[i] / sfca_den[i]),
                facilities: kind_counts[i].iter().map(|(k, n)| (k.key(), *n)).collect(),
                rules: std::mem::take(&mut unit_rules[i]),
            }
        })
        .collect();

    // Whole dataset = the coarsest tier with population (the "top unit": the city's
    // districts and counties together).
    let top = ds
        .units
        .iter()
        .filter(|u| pops[u.id.index()].total.is_some())
        .map(|u| u.level.tier())
        .min();
    let (mut pop_top, mut places_top) = (0.0, 0.0);
    if let Some(t) = top {
        for u in ds.units.iter().filter(|u| u.level.tier() == t) {
            if let Some(t) = pops[u.id.index()].total {
                pop_top += t;
                places_top += places[u.id.index()];
            }
        }
    }
    // Facilities in no unit (city-level projects) belong to the jurisdiction as a whole.
    places_top += an
        .assignment
        .outside
        .iter()
        .map(|f| ds.facility(*f))
        .filter(|f| an.counted[f.id.index()] && f.kind == FacilityKind::Nursery)
        .filter_map(|f| f.capacity)
        .sum::<f64>();
    let nursery_target = rules
        .rules
        .iter()
        .find(|r| r.test == Test::PlacesPer1000)
        .map(|r| r.target);
    let estimated: f64 = ds
        .facilities
        .iter()
        .filter(|f| {
            an.counted[f.id.index()] && f.kind == FacilityKind::Nursery && f.capacity_estimated
        })
        .filter_map(|f| f.capacity)
        .sum();
    let all_places: f64 = ds
        .facilities
        .iter()
        .filter(|f| an.counted[f.id.index()] && f.kind == FacilityKind::Nursery)
        .filter_map(|f| f.capacity)
        .sum();
    if places_top + 1e-9 < all_places {
        skipped.push(format!(
            "{:.0} nursery places lie in {} units without population figures and are not in the dataset total",
            all_places - places_top,
            tier_zh(top)
        ));
    }
    let per_1000 = (pop_top > 0.0).then(|| places_top / pop_top * 1000.0);
    let summary = Summary {
        elderly_covered_share: elderly.map(|e| e.0),
        elderly_distance_m: elderly.map(|e| e.1),
        nursery_places_per_1000: per_1000,
        nursery_places_short: match (
            nursery_target,
            pop_top > 0.0 && ds.has_existing_data(FacilityKind::Nursery),
        ) {
            (Some(t), true) => Some((t * pop_top / 1000.0 - places_top).max(0.0)),
            _ => None,
        },
        tier: top,
        population: (pop_top > 0.0).then_some(pop_top),
        nursery_places: places_top,
        nursery_places_estimated: estimated,
        nursery_places_lower_bound: results
            .iter()
            .find(|r| r.test == Test::PlacesPer1000.key())
            .is_some_and(|r| r.status == Status::Unknown && r.amount_upper.is_none())
            || !ds.has_existing_data(FacilityKind::Nursery),
        synthetic_facilities: ds
            .facilities
            .iter()
            .filter(|f| f.synthetic && an.counted[f.id.index()])
            .count(),
    };
    let mut by_source: BTreeMap<&'static str, usize> = BTreeMap::new();
    for u in &an.demand.units {
        *by_source
            .entry(match u.source {
                DemandSource::Points => "points",
                DemandSource::Buildings => "buildings",
                DemandSource::Landuse => "landuse",
                DemandSource::Grid => "grid",
                DemandSource::InteriorPoint => "interior_point",
            })
            .or_default() += u.points;
    }
    let mut statuses_counted = rules.settings.statuses.clone();
    if opts.include_planned && !statuses_counted.contains(&FacilityStatus::Planned) {
        statuses_counted.push(FacilityStatus::Planned);
    }
    if opts.include_proposed && !statuses_counted.contains(&FacilityStatus::Proposed) {
        statuses_counted.push(FacilityStatus::Proposed);
    }
    Ok(Report {
        dataset: ds.name.clone(),
        preset: rules.id.clone(),
        preset_title: rules.title_zh.clone(),
        year: opts.year,
        preset_citation: rules.cite(),
        not_checked: rules.not_modelled.clone(),
        planned_year_unknown: ds
            .facilities
            .iter()
            .filter(|f| {
                an.counted[f.id.index()] && f.status == FacilityStatus::Planned && f.year.is_none()
            })
            .map(|f| format!("{} ({})", f.name, f.source_id))
            .collect(),
        mode: access.mode(),
        statuses_counted,
        rules: results,
        units,
        summary,
        uncovered,
        demand: DemandInfo {
            tier: an.demand.tier,
            points: an.demand.points.len(),
            by_source,
            population: an.demand.total(AgeGroup::Total),
            pop_60plus: an.demand.total(AgeGroup::Aged60plus),
            pop_0_3: an.demand.total(AgeGroup::Aged0to3),
        },
        skipped,
    })
}

/// Two-step floating catchment area for nurseries (Luo & Wang 2003): each nursery's places
/// are shared among the residents within `radius` (R_j = places_j / Σ pop_k × 1000); each
/// demand point's accessibility is the sum of R_j it reaches — places per 1000 residents,
/// directly comparable with the 4.5 target. `None` when there are no nurseries with points.
pub fn two_step_fca(
    an: &Analysis,
    radius: f64,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Option<Vec<f64>>> {
    let ds = an.ds;
    let fac = an.facilities_of(&[FacilityKind::Nursery]);
    let located: Vec<(FacilityId, geo::Point<f64>)> = fac
        .iter()
        .filter_map(|f| ds.facility(*f).location.map(|p| (*f, p)))
        .collect();
    if located.is_empty() || an.demand.points.is_empty() {
        return Ok(None);
    }
    let pts: Vec<geo::Point<f64>> = located.iter().map(|x| x.1).collect();
    let origins: Vec<geo::Point<f64>> = an.demand.points.iter().map(|d| d.location).collect();
    let reach = access.all_within(&origins, &pts, radius, progress)?;
    let mut served = vec![0.0f64; pts.len()];
    for (k, d) in an.demand.points.iter().enumerate() {
        for (j, _) in reach.of(k) {
            served[j as usize] += d.total;
        }
    }
    let ratio: Vec<f64> = located
        .iter()
        .zip(&served)
        .map(|((f, _), s)| {
            if *s > 0.0 {
                ds.facility(*f).capacity.unwrap_or(0.0) / s * 1000.0
            } else {
                0.0
            }
        })
        .collect();
    Ok(Some(
        (0..origins.len())
            .map(|k| reach.of(k).map(|(j, _)| ratio[j as usize]).sum())
            .collect(),
    ))
}

fn tier_zh(t: Option<u8>) -> &'static str {
    match t {
        Some(1) => "区县",
        Some(2) => "乡镇街道",
        Some(3) => "村社区",
        _ => "-",
    }
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

/// A rule's value as people read it: "4.52/1000", "62.0 %", "5,200".
pub fn fmt_value(rule: &Rule, x: f64) -> String {
    match rule.test {
        Test::PlacesPer1000 | Test::BedsPer1000 => format!("{x:.2}/1000"),
        Test::CapacityTotal | Test::Count => thousands(x),
        _ => format!("{:.1} %", x * 100.0),
    }
}

/// How a facility stands against a rule's qualifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Q {
    Yes,
    No,
    Maybe,
}

fn qualify_with(
    rule: &Rule,
    kinds: &[FacilityKind],
    get: impl Fn(crate::model::Qualifier) -> Option<bool>,
    grade: Option<u8>,
) -> Q {
    if !kinds.iter().any(|k| rule.qualified_kinds.contains(k)) {
        return Q::Yes;
    }
    let mut q = Q::Yes;
    for want in &rule.qualifiers {
        match get(*want) {
            Some(true) => {}
            Some(false) => return Q::No,
            None => q = Q::Maybe,
        }
    }
    if let Some(min) = rule.min_grade {
        match grade {
            Some(g) if g >= min => {}
            Some(_) => return Q::No,
            None => q = Q::Maybe,
        }
    }
    q
}

/// What the data says about one rule's facilities: counts and capacities, those that meet
/// the qualifiers and those that may, per unit and for the jurisdiction, and what is open.
struct Tally {
    /// Anything at all: existing data on a kind, a counted facility, a known total.
    any_data: bool,
    /// Existing facilities of every kind are in the data (a missing one is really missing).
    complete: bool,
    unit_yes: Vec<f64>,
    unit_maybe: Vec<f64>,
    unit_cap_yes: Vec<f64>,
    unit_cap_maybe: Vec<f64>,
    unit_cap_all: Vec<f64>,
    unit_cap_missing: Vec<bool>,
    unit_nursing: Vec<f64>,
    unit_nursing_open: Vec<f64>,
    n_yes: f64,
    n_maybe: f64,
    n_open: bool,
    cap_yes: f64,
    cap_maybe: f64,
    cap_all: f64,
    cap_open: bool,
    nursing: f64,
    nursing_open_beds: f64,
    /// Facilities known only as totals (no location) that may meet the rule; `None` when a
    /// total gives no number of facilities.
    unlocated_facilities: Option<f64>,
    facilities_maybe: usize,
    capacity_missing: usize,
    totals_used: Vec<String>,
    totals_mixed: Vec<String>,
    notes: Vec<String>,
}

impl Tally {
    fn new(an: &Analysis, rule: &Rule, year: Option<i32>) -> Self {
        let ds = an.ds;
        let n = ds.units.len();
        let marks = ds.has_central_urban_marks();
        let in_area = |u: UnitId| rule.area == Area::All || !marks || ds.is_central_urban(u);
        let mut t = Tally {
            any_data: false,
            complete: rule.kinds.iter().all(|k| ds.has_existing_data_in(*k, year)),
            unit_yes: vec![0.0; n],
            unit_maybe: vec![0.0; n],
            unit_cap_yes: vec![0.0; n],
            unit_cap_maybe: vec![0.0; n],
            unit_cap_all: vec![0.0; n],
            unit_cap_missing: vec![false; n],
            unit_nursing: vec![0.0; n],
            unit_nursing_open: vec![0.0; n],
            n_yes: 0.0,
            n_maybe: 0.0,
            n_open: false,
            cap_yes: 0.0,
            cap_maybe: 0.0,
            cap_all: 0.0,
            cap_open: false,
            nursing: 0.0,
            nursing_open_beds: 0.0,
            unlocated_facilities: Some(0.0),
            facilities_maybe: 0,
            capacity_missing: 0,
            totals_used: Vec::new(),
            totals_mixed: Vec::new(),
            notes: Vec::new(),
        };
        t.any_data = rule.kinds.iter().any(|k| ds.has_existing_data_in(*k, year));
        let mut outside = 0;
        for f in &ds.facilities {
            if !an.counted[f.id.index()] || !rule.kinds.contains(&f.kind) {
                continue;
            }
            t.any_data = true;
            let units = an.assignment.units_of(f.id);
            if rule.area == Area::CentralUrban && marks && !units.iter().any(|u| in_area(*u)) {
                continue;
            }
            let q = qualify_with(rule, &[f.kind], |w| f.qualifiers.get(w), f.qualifiers.grade);
            if q == Q::No {
                continue;
            }
            if units.is_empty() {
                outside += 1;
            }
            let cap = f.capacity;
            match q {
                Q::Yes => {
                    t.n_yes += 1.0;
                    t.cap_yes += cap.unwrap_or(0.0);
                }
                _ => {
                    t.n_maybe += 1.0;
                    t.cap_maybe += cap.unwrap_or(0.0);
                    t.facilities_maybe += 1;
                }
            }
            if cap.is_none() {
                t.capacity_missing += 1;
                t.cap_open = true;
            }
            for u in units {
                let i = u.index();
                match q {
                    Q::Yes => {
                        t.unit_yes[i] += 1.0;
                        t.unit_cap_yes[i] += cap.unwrap_or(0.0);
                    }
                    _ => {
                        t.unit_maybe[i] += 1.0;
                        t.unit_cap_maybe[i] += cap.unwrap_or(0.0);
                    }
                }
                if cap.is_none() {
                    t.unit_cap_missing[i] = true;
                }
            }
        }
        // Capacity of every counted facility of the kinds, qualified or not: the
        // denominator of shares; and nursing-type beds against beds.
        for f in &ds.facilities {
            if !an.counted[f.id.index()] || !rule.kinds.contains(&f.kind) {
                continue;
            }
            let units = an.assignment.units_of(f.id);
            if rule.area == Area::CentralUrban && marks && !units.iter().any(|u| in_area(*u)) {
                continue;
            }
            let Some(cap) = f.capacity else {
                t.cap_open = true;
                for u in units {
                    t.unit_cap_missing[u.index()] = true;
                }
                continue;
            };
            t.cap_all += cap;
            let (nk, open) = match f.nursing_beds {
                Some(x) => (x.min(cap), 0.0),
                None => (0.0, cap),
            };
            t.nursing += nk;
            t.nursing_open_beds += open;
            for u in units {
                t.unit_cap_all[u.index()] += cap;
                t.unit_nursing[u.index()] += nk;
                t.unit_nursing_open[u.index()] += open;
            }
        }
        if outside > 0 {
            t.notes.push(format!(
                "{outside} facilities lie in no unit (e.g. city-level projects): they count in jurisdiction totals only"
            ));
        }
        for kt in &ds.known_totals {
            let touches = kt.kinds.iter().any(|k| rule.kinds.contains(k));
            if !touches {
                continue;
            }
            if year.is_some_and(|y| kt.year.is_some_and(|ky| ky > y)) {
                continue;
            }
            t.any_data = true;
            let contained = kt.kinds.iter().all(|k| rule.kinds.contains(k));
            if !contained || (rule.area == Area::CentralUrban && marks) {
                t.totals_mixed.push(describe_total(kt));
                t.n_open = true;
                t.cap_open = true;
                t.unlocated_facilities = None;
                continue;
            }
            let q = qualify_with(rule, &kt.kinds, |w| kt.qualifiers.get(w), None);
            t.totals_used.push(describe_total(kt));
            // Denominator of shares: every facility of the total, qualified or not.
            match kt.capacity {
                Some(c) => {
                    t.cap_all += c;
                    match kt.nursing_beds {
                        Some(nb) => t.nursing += nb.min(c),
                        None => t.nursing_open_beds += c,
                    }
                }
                None => t.cap_open = true,
            }
            if q == Q::No {
                continue;
            }
            match (q, kt.facilities) {
                (Q::Yes, Some(k)) => t.n_yes += k,
                (_, Some(k)) => t.n_maybe += k,
                (_, None) => t.n_open = true,
            }
            match (q, kt.capacity) {
                (Q::Yes, Some(c)) => t.cap_yes += c,
                (_, Some(c)) => t.cap_maybe += c,
                (_, None) => t.cap_open = true,
            }
            t.unlocated_facilities = match (t.unlocated_facilities, kt.facilities) {
                (Some(a), Some(b)) if !kt.at_least => Some(a + b),
                _ => None,
            };
            if kt.at_least {
                // A floor: more may exist, so it proves targets met, never missed.
                t.n_open = true;
                t.cap_open = true;
            }
        }
        if !t.complete {
            t.n_open = true;
            t.cap_open = true;
        }
        t
    }

    /// Lower and upper bound of the rule's amount for the jurisdiction (facilities,
    /// capacity, qualified capacity or nursing-type beds).
    fn amount_bounds(&self, test: Test) -> (f64, Option<f64>) {
        match test {
            Test::Count | Test::Presence | Test::PresenceShare => (
                self.n_yes,
                (!self.n_open).then_some(self.n_yes + self.n_maybe),
            ),
            Test::NursingBedShare => (
                self.nursing,
                (!self.cap_open).then_some(self.nursing + self.nursing_open_beds),
            ),
            Test::QualifiedShare => (self.cap_yes, Some(self.cap_yes + self.cap_maybe)),
            _ => (
                self.cap_yes,
                (!self.cap_open).then_some(self.cap_yes + self.cap_maybe),
            ),
        }
    }

    /// The denominator of a share test and whether it is fully known.
    fn share_denominator(&self) -> (f64, bool) {
        (self.cap_all, !self.cap_open)
    }

    fn unit_open(&self, i: usize) -> bool {
        !self.complete
            || self.unit_cap_missing[i]
            || self.unlocated_facilities.is_none_or(|k| k > 0.0)
            || !self.totals_used.is_empty()
            || !self.totals_mixed.is_empty()
    }

    fn unit_amount_bounds(&self, test: Test, i: usize) -> (f64, Option<f64>) {
        let open = self.unit_open(i);
        match test {
            Test::Count | Test::Presence | Test::PresenceShare => (
                self.unit_yes[i],
                (!open).then_some(self.unit_yes[i] + self.unit_maybe[i]),
            ),
            Test::NursingBedShare => (
                self.unit_nursing[i],
                (!open).then_some(self.unit_nursing[i] + self.unit_nursing_open[i]),
            ),
            Test::QualifiedShare => (
                self.unit_cap_yes[i],
                Some(self.unit_cap_yes[i] + self.unit_cap_maybe[i]),
            ),
            _ => (
                self.unit_cap_yes[i],
                (!open).then_some(self.unit_cap_yes[i] + self.unit_cap_maybe[i]),
            ),
        }
    }

    fn unit_share_denominator(&self, i: usize) -> (f64, bool) {
        (self.unit_cap_all[i], !self.unit_open(i))
    }

    /// Why the data leaves the verdict open, in English and Chinese.
    fn why(&self, rule: &Rule, kinds_en: &str, kinds_zh: &str) -> (String, String) {
        let mut en = Vec::new();
        let mut zh = Vec::new();
        if !self.complete {
            en.push(format!("existing {kinds_en} are not in this dataset"));
            zh.push(format!("现有{kinds_zh}不在本数据中"));
        }
        if self.facilities_maybe > 0 && !rule.qualifiers.is_empty() {
            en.push(format!(
                "{} facilities do not say whether they are {}",
                self.facilities_maybe,
                rule.qualifier_words(true)
            ));
            zh.push(format!(
                "{} 处设施未注明是否{}",
                self.facilities_maybe,
                rule.qualifier_words(false)
            ));
        }
        if self.capacity_missing > 0
            && !matches!(
                rule.test,
                Test::Presence | Test::PresenceShare | Test::Count
            )
        {
            en.push(format!(
                "{} facilities have no capacity",
                self.capacity_missing
            ));
            zh.push(format!("{} 处设施无容量数据", self.capacity_missing));
        }
        if !self.totals_used.is_empty() {
            en.push(format!(
                "known totals without locations: {}",
                self.totals_used.join("; ")
            ));
            zh.push(format!(
                "已知总数（无位置）：{}",
                self.totals_used.join("；")
            ));
        }
        if !self.totals_mixed.is_empty() {
            en.push(format!(
                "known totals that mix in other kinds: {}",
                self.totals_mixed.join("; ")
            ));
            zh.push(format!(
                "含其他类型的已知总数：{}",
                self.totals_mixed.join("；")
            ));
        }
        if en.is_empty() {
            en.push("the data cannot decide".into());
            zh.push("数据不足以判断".into());
        }
        (en.join("; "), zh.join("；"))
    }
}

fn describe_total(kt: &KnownTotal) -> String {
    let mut parts = Vec::new();
    if let Some(n) = kt.facilities {
        parts.push(format!("{} 处", thousands(n)));
    }
    if let Some(c) = kt.capacity {
        parts.push(format!("容量 {}", thousands(c)));
    }
    format!(
        "{}{}{}（{}{}）",
        if kt.at_least { "至少 " } else { "" },
        kt.label,
        if parts.is_empty() {
            String::new()
        } else {
            format!(" {}", parts.join("、"))
        },
        kt.source,
        kt.year.map(|y| format!("，{y}年")).unwrap_or_default()
    )
}

/// Population rules: the share of the group within reach of a qualified facility.
#[allow(clippy::too_many_arguments)]
fn population_within(
    an: &Analysis,
    rule: &Rule,
    units: &[UnitId],
    tally: &Tally,
    demand_pts: &[geo::Point<f64>],
    access: &dyn Accessibility,
    progress: &dyn Progress,
    in_area: &dyn Fn(UnitId) -> bool,
    res: &mut RuleResult,
    notes: &mut Vec<String>,
    unit_rules: &mut [BTreeMap<String, UnitRuleStatus>],
    uncovered: &mut Vec<UncoveredPoint>,
) -> Result<()> {
    let ds = an.ds;
    let n_units = ds.units.len();
    let dist = rule
        .distance
        .expect("population rules have a distance")
        .metres;
    let fac: Vec<FacilityId> = an
        .facilities_of(&rule.kinds)
        .into_iter()
        .filter(|f| {
            let f = ds.facility(*f);
            qualify_with(rule, &[f.kind], |w| f.qualifiers.get(w), f.qualifiers.grade) == Q::Yes
        })
        .collect();
    if tally.facilities_maybe > 0 && !rule.qualifiers.is_empty() {
        notes.push(format!(
            "{} facilities do not say whether they are {}: they cover no one here",
            tally.facilities_maybe,
            rule.qualifier_words(true)
        ));
    }
    let pts: Vec<geo::Point<f64>> = fac
        .iter()
        .filter_map(|f| ds.facility(*f).location)
        .collect();
    let pointless = fac.len() - pts.len();
    if pointless > 0 && !pts.is_empty() {
        notes.push(format!(
            "{pointless} facilities have no location (joined by name only): they cannot cover anyone"
        ));
    }
    if pts.is_empty() && pointless > 0 {
        notes.push(format!(
            "none of the {pointless} facilities of these kinds has a location: reach cannot be measured"
        ));
        res.explain_en = Some("no facility of these kinds has a location".into());
        res.explain_zh = Some("这些类型的设施都没有位置".into());
        for u in units {
            unit_rules[u.index()].insert(
                rule.id.clone(),
                UnitRuleStatus::open(Status::NotEvaluable, "facilities have no location"),
            );
        }
        return Ok(());
    }
    let located: Vec<FacilityId> = fac
        .iter()
        .copied()
        .filter(|f| ds.facility(*f).location.is_some())
        .collect();
    let mut about: Vec<String> = Vec::new();
    for (target, msg) in access.diagnose(demand_pts, &pts) {
        match target {
            None => notes.push(msg),
            Some(j) => {
                let f = ds.facility(located[j]);
                about.push(format!("{} ({}): {msg}", f.name, f.source_id));
            }
        }
    }
    if !about.is_empty() {
        notes.push(format!(
            "{} facilities may be misplaced — check their locations: {}",
            about.len(),
            about.join("; ")
        ));
    }
    let nearest = access.nearest_within(demand_pts, &pts, dist, progress)?;
    // Network mode: what a straight-line circle of the same distance would claim.
    let straight = if access.mode() != "euclidean" {
        Some(Euclidean.nearest_within(demand_pts, &pts, dist, progress)?)
    } else {
        None
    };
    let mut over = vec![0.0f64; n_units];
    let mut over_sum = 0.0;
    let mut cov = vec![0.0f64; n_units];
    let mut all = vec![0.0f64; n_units];
    let (mut c_sum, mut a_sum) = (0.0, 0.0);
    for (k, d) in an.demand.points.iter().enumerate() {
        if !in_area(d.unit) {
            continue;
        }
        let w = d.weight(rule.group);
        a_sum += w;
        let hit = nearest[k].is_some();
        if hit {
            c_sum += w;
        } else if w > 0.0 {
            let (lon, lat) = ds.projection.inverse(d.location.x(), d.location.y());
            uncovered.push(UncoveredPoint {
                rule: rule.id.clone(),
                demand_index: k,
                lon,
                lat,
                unit_code: ds.unit(d.unit).code.clone(),
                people: w,
            });
        }
        let over_here = straight.as_ref().is_some_and(|s| s[k].is_some()) && !hit;
        if over_here {
            over_sum += w;
        }
        for a in ds.ancestors(d.unit) {
            all[a.index()] += w;
            if hit {
                cov[a.index()] += w;
            }
            if over_here {
                over[a.index()] += w;
            }
        }
    }
    // Without complete data on existing facilities, people out of reach of the listed
    // ones may be within reach of others: "unknown", never "fail".
    let judge = |share: f64| {
        if share + 1e-12 >= rule.target {
            Status::Pass
        } else if tally.complete {
            Status::Fail
        } else {
            Status::Unknown
        }
    };
    let (mut total, mut meeting, mut unknown, mut failing) = (0, 0, 0, 0);
    for u in units {
        let i = u.index();
        let status = if all[i] > 0.0 {
            let share = cov[i] / all[i];
            let st = judge(share);
            total += 1;
            match st {
                Status::Pass => meeting += 1,
                Status::Fail => failing += 1,
                _ => unknown += 1,
            }
            UnitRuleStatus {
                status: st,
                pass: st.pass(),
                deficit: Some(all[i] - cov[i]),
                value: Some(share),
                reason: (st == Status::Unknown)
                    .then(|| "existing facilities not in the data".to_string()),
                euclidean_overclaim: straight.as_ref().map(|_| over[i]),
            }
        } else {
            UnitRuleStatus::open(
                Status::NotEvaluable,
                &if ds.unit(*u).geometry.is_none()
                    && an.demand.tier.is_none_or(|t| t < ds.unit(*u).level.tier())
                {
                    "no shape: people cannot be placed".to_string()
                } else {
                    format!("no {} placed in it", rule.group.en())
                },
            )
        };
        unit_rules[i].insert(rule.id.clone(), status);
    }
    if total < units.len() {
        notes.push(format!(
            "{} of {} units not evaluated spatially (no shape or no population)",
            units.len() - total,
            units.len()
        ));
    }
    res.units_total = total;
    res.units_meeting = meeting;
    res.units_unknown = unknown;
    res.people_covered = Some(c_sum);
    res.people_total = Some(a_sum);
    res.people_overclaimed = straight.as_ref().map(|_| over_sum);
    if a_sum > 0.0 {
        let share = c_sum / a_sum;
        res.value = Some(share);
        res.status = if rule.scope == Scope::PerUnit {
            if failing > 0 {
                Status::Fail
            } else if unknown > 0 || total == 0 {
                Status::Unknown
            } else {
                Status::Pass
            }
        } else {
            judge(share)
        };
        if res.status == Status::Unknown {
            res.range = Some((share, Some(1.0)));
            res.explain_en = Some(format!(
                "{:.1} % within reach of the listed facilities; existing ones are not in this dataset",
                share * 100.0
            ));
            res.explain_zh = Some(format!(
                "已列设施可达 {:.1}%；现有设施不在本数据中",
                share * 100.0
            ));
        }
    } else {
        notes.push(format!(
            "no {} in the demand model: not evaluated",
            rule.group.en()
        ));
        res.explain_en = Some(format!("no {} placed", rule.group.en()));
        res.explain_zh = Some(format!("没有可布设的{}", rule.group.zh()));
    }
    Ok(())
}
