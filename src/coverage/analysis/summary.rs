//! The report's closing steps: each unit's figures and rule statuses, the whole-dataset
//! summary, and the report itself.

use std::collections::BTreeMap;

use super::reach::two_step_fca;
use super::{
    tier_zh, Analysis, DemandInfo, Options, Report, RuleResult, Status, Summary, UncoveredPoint,
    UnitResult, UnitRuleStatus,
};
use crate::coverage::access::Accessibility;
use crate::coverage::demand::{DemandSource, Resolved};
use crate::coverage::rules::{AgeGroup, RuleSet, Test};
use crate::model::{FacilityKind, FacilityStatus};
use crate::progress::Progress;
use crate::Result;

/// Every unit's population, facilities by kind, nursery places (and per 1000), 2SFCA
/// accessibility, and its status on each rule.
pub(super) fn unit_results(
    an: &Analysis,
    rules: &RuleSet,
    pops: &[Resolved],
    mut unit_rules: Vec<BTreeMap<String, UnitRuleStatus>>,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Vec<UnitResult>> {
    let ds = an.ds;
    let n_units = ds.units.len();
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

    Ok(ds
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
        .collect())
}

/// The report: rule results, units, the whole-dataset summary (the coarsest tier with
/// population, plus what lies in no unit), demand figures and everything skipped.
#[allow(clippy::too_many_arguments)]
pub(super) fn report(
    an: &Analysis,
    rules: &RuleSet,
    opts: &Options,
    access: &dyn Accessibility,
    pops: &[Resolved],
    results: Vec<RuleResult>,
    units: Vec<UnitResult>,
    uncovered: Vec<UncoveredPoint>,
    mut skipped: Vec<String>,
) -> Result<Report> {
    let ds = an.ds;
    let summary = summary(an, rules, opts.year, pops, &results, &units, &mut skipped);
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
        mode: access.mode().key(),
        equity: super::fairness::equity_by_rule(&results, &units, an.demand.tier),
        statuses_counted,
        rules: results,
        units,
        summary,
        uncovered,
        demand: demand_info(an),
        skipped,
    })
}

/// Whole-dataset figures: the coarsest tier with population (the city's districts and
/// counties together) plus what lies in no unit, the elderly circle the report quotes, and
/// nursery places per 1000 (a floor when existing places are not all in the data).
fn summary(
    an: &Analysis,
    rules: &RuleSet,
    year: Option<i32>,
    pops: &[Resolved],
    results: &[RuleResult],
    units: &[UnitResult],
    skipped: &mut Vec<String>,
) -> Summary {
    let ds = an.ds;
    // Existing nursery places are data only if the scenario year has some (as the rules see it).
    let nursery_data = ds.has_existing_data_in(FacilityKind::Nursery, year);
    // The elderly circle the summary quotes: the first 60+ reach rule with a figure.
    let elderly: Option<(f64, f64)> = results.iter().find_map(|r| {
        (r.test == Test::PopulationWithin.key()
            && r.group == Some(AgeGroup::Aged60plus)
            && r.status != Status::NotEvaluable)
            .then(|| r.value.zip(r.distance_m))
            .flatten()
    });
    let places: Vec<f64> = units.iter().map(|u| u.nursery_places).collect();
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
        nursery_places_short: match (nursery_target, pop_top > 0.0 && nursery_data) {
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
            || !nursery_data,
        synthetic_facilities: ds
            .facilities
            .iter()
            .filter(|f| f.synthetic && an.counted[f.id.index()])
            .count(),
    };
    summary
}

/// The demand model in figures: points by source, people, 60+ and 0–3.
fn demand_info(an: &Analysis) -> DemandInfo {
    let mut by_source: BTreeMap<&'static str, usize> = BTreeMap::new();
    for u in an.demand.units.iter().filter(|u| u.points > 0) {
        *by_source
            .entry(match u.source {
                DemandSource::Points => "points",
                DemandSource::Buildings => "buildings",
                DemandSource::Landuse => "landuse",
                DemandSource::Grid => "grid",
                DemandSource::InteriorPoint => "interior_point",
                DemandSource::NoPeople => "no_people",
            })
            .or_default() += u.points;
    }
    DemandInfo {
        tier: an.demand.tier,
        points: an.demand.points.len(),
        by_source,
        population: an.demand.total(AgeGroup::Total),
        pop_60plus: an.demand.total(AgeGroup::Aged60plus),
        pop_0_3: an.demand.total(AgeGroup::Aged0to3),
    }
}
