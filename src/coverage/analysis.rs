//! Rules × units × demand → [`Report`]: "where do we fail the plan, and by how much?"

use std::collections::BTreeMap;

use serde::Serialize;

use crate::coverage::access::{Accessibility, Euclidean};
use crate::coverage::demand::{build_demand, resolve_population, DemandModel, DemandSource};
use crate::coverage::rules::{AgeGroup, RuleSet, Test};
use crate::model::{Dataset, FacilityId, FacilityKind, FacilityStatus, UnitId, UnitLevel};
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
    /// Share of units meeting (presence tests), places per 1000 over all checked units,
    /// public-benefit share, or share of the age group within reach. `None` when nothing
    /// could be checked.
    pub achieved: Option<f64>,
    pub units_total: usize,
    pub units_meeting: usize,
    /// `None` when the rule could not be evaluated on this dataset.
    pub pass: Option<bool>,
    pub distance_m: Option<f64>,
    /// "15 min × 1.0 m/s = 900 m" where a distance applies.
    pub distance: Option<String>,
    pub group: Option<AgeGroup>,
    /// People of the group within reach / in all (population rules).
    pub people_covered: Option<f64>,
    pub people_total: Option<f64>,
    /// Network mode: people a straight-line circle of the same distance would also count.
    pub people_overclaimed: Option<f64>,
    pub clause: crate::coverage::rules::Clause,
    /// Why some or all units were not evaluated.
    pub notes: Vec<String>,
}

/// A unit's status on one rule.
#[derive(Clone, Debug, Serialize)]
pub struct UnitRuleStatus {
    /// `None`: not evaluated (see `reason`).
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
            .map(|f| {
                rules.settings.statuses.contains(&f.status)
                    || (opts.include_planned && f.status == FacilityStatus::Planned)
                    || (opts.include_proposed && f.status == FacilityStatus::Proposed)
            })
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
    let mut pb_places = vec![0.0f64; n_units];
    let mut pb_unknown = vec![0usize; n_units];
    for f in &ds.facilities {
        if !an.counted[f.id.index()] {
            continue;
        }
        for u in an.assignment.units_of(f.id) {
            *kind_counts[u.index()].entry(f.kind).or_default() += 1;
            if f.kind == FacilityKind::Nursery {
                let c = f.capacity.unwrap_or(0.0);
                places[u.index()] += c;
                match f.public_benefit {
                    Some(true) => pb_places[u.index()] += c,
                    Some(false) => {}
                    None => pb_unknown[u.index()] += 1,
                }
            }
        }
    }
    for f in &an.assignment.outside {
        let f = ds.facility(*f);
        if an.counted[f.id.index()] {
            skipped.push(format!(
                "facility {} ({}, {}) lies in no unit and has no unit code or town: counted nowhere",
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
            "{no_capacity} nurseries have no capacity: they count for presence and reach but add 0 places (set capacity or capacity_estimate)"
        ));
    }
    for (u, why) in &an.demand.skipped {
        let u = ds.unit(*u);
        skipped.push(format!("{} {} ({}): {}", u.level.zh(), u.name, u.code, why));
    }

    // Demand ancestry: for each demand-level unit, all its ancestors (for per-unit sums).
    let demand_pts: Vec<geo::Point<f64>> = an.demand.points.iter().map(|d| d.location).collect();

    let mut unit_rules: Vec<BTreeMap<String, UnitRuleStatus>> = vec![BTreeMap::new(); n_units];
    let mut results = Vec::new();
    let mut uncovered = Vec::new();
    let mut elderly: Option<(f64, f64)> = None;

    for rule in &rules.rules {
        check(progress)?;
        let units: Vec<UnitId> = ds
            .units
            .iter()
            .filter(|u| rule.levels.contains(&u.level))
            .map(|u| u.id)
            .collect();
        let mut notes = Vec::new();
        let mut res = RuleResult {
            id: rule.id.clone(),
            title: rule.title_zh.clone(),
            title_en: rule.title_en.clone(),
            test: rule.test.key(),
            level: rule.level_key(),
            kinds: rule.kinds.iter().map(|k| k.key()).collect(),
            target: rule.target,
            achieved: None,
            units_total: 0,
            units_meeting: 0,
            pass: None,
            distance_m: rule.distance.map(|d| d.metres),
            distance: rule.distance.map(|d| d.describe()),
            group: matches!(rule.test, Test::PopulationWithin).then_some(rule.group),
            people_covered: None,
            people_total: None,
            people_overclaimed: None,
            clause: rule.clause.clone(),
            notes: Vec::new(),
        };
        if units.is_empty() {
            notes.push(format!(
                "the dataset has no {} units: not evaluated",
                rule.levels
                    .iter()
                    .map(|l| l.zh())
                    .collect::<Vec<_>>()
                    .join("/")
            ));
            res.notes = notes;
            results.push(res);
            continue;
        }
        let count_in = |u: UnitId| -> usize {
            rule.kinds
                .iter()
                .map(|k| kind_counts[u.index()].get(k).copied().unwrap_or(0))
                .sum()
        };
        match rule.test {
            Test::Presence | Test::PresenceShare => {
                let need = if rule.test == Test::Presence {
                    rule.target.max(1.0)
                } else {
                    1.0
                };
                let mut meeting = 0;
                let shapeless = units
                    .iter()
                    .filter(|u| ds.unit(**u).geometry.is_none())
                    .count();
                for u in &units {
                    let n = count_in(*u) as f64;
                    let ok = n >= need;
                    meeting += ok as usize;
                    unit_rules[u.index()].insert(
                        rule.id.clone(),
                        UnitRuleStatus {
                            pass: Some(ok),
                            deficit: Some((need - n).max(0.0)),
                            value: Some(n),
                            reason: None,
                            euclidean_overclaim: None,
                        },
                    );
                }
                if shapeless > 0 {
                    notes.push(format!(
                        "{shapeless} of {} units have no shape: only facilities joined by unit code or town name count there",
                        units.len()
                    ));
                }
                res.units_total = units.len();
                res.units_meeting = meeting;
                let share = meeting as f64 / units.len() as f64;
                res.achieved = Some(share);
                res.pass = Some(if rule.test == Test::Presence {
                    meeting == units.len()
                } else {
                    share + 1e-12 >= rule.target
                });
            }
            Test::PlacesPer1000 | Test::PublicBenefitShare => {
                let mut meeting = 0;
                let mut total = 0;
                let (mut sum_a, mut sum_b) = (0.0, 0.0);
                for u in &units {
                    let i = u.index();
                    let st = if rule.test == Test::PlacesPer1000 {
                        match pops[i].total {
                            Some(p) if p > 0.0 => {
                                let v = places[i] / p * 1000.0;
                                sum_a += places[i];
                                sum_b += p;
                                let short = (rule.target * p / 1000.0 - places[i]).max(0.0);
                                Some((v + 1e-9 >= rule.target, short, v))
                            }
                            _ => None,
                        }
                    } else if places[i] > 0.0 {
                        let v = pb_places[i] / places[i];
                        sum_a += pb_places[i];
                        sum_b += places[i];
                        let short = (rule.target * places[i] - pb_places[i]).max(0.0);
                        Some((v + 1e-12 >= rule.target, short, v))
                    } else {
                        None
                    };
                    let status = match st {
                        Some((ok, short, v)) => {
                            total += 1;
                            meeting += ok as usize;
                            UnitRuleStatus {
                                pass: Some(ok),
                                deficit: Some(short),
                                value: Some(v),
                                reason: None,
                                euclidean_overclaim: None,
                            }
                        }
                        None => UnitRuleStatus {
                            pass: None,
                            deficit: None,
                            value: None,
                            reason: Some(if rule.test == Test::PlacesPer1000 {
                                "no population figure".into()
                            } else {
                                "no nursery places".into()
                            }),
                            euclidean_overclaim: None,
                        },
                    };
                    unit_rules[i].insert(rule.id.clone(), status);
                }
                if total < units.len() {
                    notes.push(format!(
                        "{} of {} units not evaluated ({})",
                        units.len() - total,
                        units.len(),
                        if rule.test == Test::PlacesPer1000 {
                            "no population"
                        } else {
                            "no nursery places at all"
                        }
                    ));
                }
                if rule.test == Test::PublicBenefitShare {
                    let unknown: usize = units.iter().map(|u| pb_unknown[u.index()]).sum();
                    if unknown > 0 {
                        notes.push(format!(
                            "{unknown} nurseries do not say whether they are public-benefit (普惠): counted as not"
                        ));
                    }
                }
                res.units_total = total;
                res.units_meeting = meeting;
                if total > 0 && sum_b > 0.0 {
                    res.achieved = Some(if rule.test == Test::PlacesPer1000 {
                        sum_a / sum_b * 1000.0
                    } else {
                        sum_a / sum_b
                    });
                    res.pass = Some(meeting == total);
                }
            }
            Test::PopulationWithin => {
                let dist = rule
                    .distance
                    .expect("population rules have a distance")
                    .metres;
                let fac = an.facilities_of(&rule.kinds);
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
                    for u in &units {
                        unit_rules[u.index()].insert(
                            rule.id.clone(),
                            UnitRuleStatus {
                                pass: None,
                                deficit: None,
                                value: None,
                                reason: Some("facilities have no location".into()),
                                euclidean_overclaim: None,
                            },
                        );
                    }
                    res.notes = notes;
                    results.push(res);
                    continue;
                }
                let located: Vec<FacilityId> = fac
                    .iter()
                    .copied()
                    .filter(|f| ds.facility(*f).location.is_some())
                    .collect();
                let mut about: Vec<String> = Vec::new();
                for (target, msg) in access.diagnose(&demand_pts, &pts) {
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
                let nearest = access.nearest_within(&demand_pts, &pts, dist, progress)?;
                // Network mode: what a straight-line circle of the same distance would claim.
                let straight = if access.mode() != "euclidean" {
                    Some(Euclidean.nearest_within(&demand_pts, &pts, dist, progress)?)
                } else {
                    None
                };
                let mut over = vec![0.0f64; n_units];
                let mut over_sum = 0.0;
                let mut cov = vec![0.0f64; n_units];
                let mut all = vec![0.0f64; n_units];
                let (mut c_sum, mut a_sum) = (0.0, 0.0);
                for (k, d) in an.demand.points.iter().enumerate() {
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
                let mut total = 0;
                let mut meeting = 0;
                for u in &units {
                    let i = u.index();
                    let status = if all[i] > 0.0 {
                        let share = cov[i] / all[i];
                        let ok = share + 1e-12 >= rule.target;
                        total += 1;
                        meeting += ok as usize;
                        UnitRuleStatus {
                            pass: Some(ok),
                            deficit: Some(all[i] - cov[i]),
                            value: Some(share),
                            reason: None,
                            euclidean_overclaim: straight.as_ref().map(|_| over[i]),
                        }
                    } else {
                        UnitRuleStatus {
                            pass: None,
                            deficit: None,
                            value: None,
                            reason: Some(
                                if ds.unit(*u).geometry.is_none()
                                    && an.demand.tier.is_none_or(|t| t < ds.unit(*u).level.tier())
                                {
                                    "no shape: people cannot be placed".into()
                                } else {
                                    format!("no {} placed in it", rule.group.en())
                                },
                            ),
                            euclidean_overclaim: None,
                        }
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
                res.people_covered = Some(c_sum);
                res.people_total = Some(a_sum);
                res.people_overclaimed = straight.as_ref().map(|_| over_sum);
                if a_sum > 0.0 {
                    let share = c_sum / a_sum;
                    res.achieved = Some(share);
                    res.pass = Some(share + 1e-12 >= rule.target);
                    if rule.group == AgeGroup::Aged60plus && elderly.is_none() {
                        elderly = Some((share, dist));
                    }
                } else {
                    notes.push(format!(
                        "no {} in the demand model: not evaluated",
                        rule.group.en()
                    ));
                }
            }
        }
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
            "{:.0} nursery places lie outside the {} units with population and are not in the dataset total",
            all_places - places_top,
            tier_zh(top)
        ));
    }
    let per_1000 = (pop_top > 0.0).then(|| places_top / pop_top * 1000.0);
    let summary = Summary {
        elderly_covered_share: elderly.map(|e| e.0),
        elderly_distance_m: elderly.map(|e| e.1),
        nursery_places_per_1000: per_1000,
        nursery_places_short: match (nursery_target, pop_top > 0.0) {
            (Some(t), true) => Some((t * pop_top / 1000.0 - places_top).max(0.0)),
            _ => None,
        },
        tier: top,
        population: (pop_top > 0.0).then_some(pop_top),
        nursery_places: places_top,
        nursery_places_estimated: estimated,
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
