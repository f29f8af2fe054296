//! Proposals on a dataset: "given what we have, where do the next N day-care rooms or
//! nurseries go, and how good is that answer?"
//!
//! Flow: the coverage rule of the kind gives the radius (or walking distance) and the age
//! group; the demand model gives weighted points; existing (and optionally planned)
//! facilities count as open; candidates come from the user's layer or are generated; the
//! model runs (heuristic, optionally exact with a bound); each chosen site is ranked by its
//! marginal gain; the coverage engine re-runs with the proposals added (before/after).

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use geo::{InteriorPoint, Point};
use serde::Serialize;

use super::{Model, Problem, Quota};
use crate::coverage::analysis::Analysis;
use crate::coverage::rules::AgeGroup;
use crate::coverage::{self, Accessibility, DistanceMode, Report, RuleSet, Test};
use crate::model::{Dataset, Facility, FacilityId, FacilityKind, LayerId, UnitId};
use crate::progress::{check, Progress};

mod candidates;
mod problem;
mod sized;
mod steps;
mod types;

use crate::spatial::{point_tree, UnitIndexes};
use crate::{Error, Result};
pub use candidates::candidates_from;
use candidates::*;
use problem::*;
use steps::*;
pub use types::*;

/// The kind's reach rule: a population-within rule that counts this kind.
fn reach_rule(rules: &RuleSet, kind: FacilityKind) -> Option<&coverage::rules::Rule> {
    rules
        .rules
        .iter()
        .find(|r| r.test == Test::PopulationWithin && r.kinds.contains(&kind))
}

/// How far (× the service radius) walking searches go for the p-median: its objective
/// needs distances past the circle, and a bounded search keeps the network job finite.
pub const PMEDIAN_REACH: f64 = 3.0;

/// Runs a proposal: the coverage before; the demand and what already reaches it; the
/// candidate sites; the siting problem and its solution; the coverage after.
pub fn propose(
    ds: &Dataset,
    rules: &RuleSet,
    opts: &ProposeOptions,
    given: Option<Vec<Candidate>>,
    access: &dyn Accessibility,
    progress: &dyn Progress,
) -> Result<Outcome> {
    let t0 = std::time::Instant::now();
    let mut notes = Vec::new();
    if opts.model == ProposeModel::Capacitated && opts.kind != FacilityKind::Nursery {
        return Err(Error::Analysis(
            "the capacitated model is for nurseries (places per 1000): use --kind nursery or another model".into(),
        ));
    }
    let copts = coverage::Options {
        include_planned: opts.include_planned,
        include_proposed: false,
        year: opts.year,
    };
    // One demand model for the "before" report and the siting problem.
    let an = Analysis::prepare(ds, rules, &copts, progress)?;
    progress.stage("coverage before", None);
    let before = coverage::analysis::analyze_prepared(&an, rules, &copts, access, progress)?;
    check(progress)?;

    let demand = demand_of(ds, &an, rules, opts, access, &mut notes, progress)?;
    let cands = candidate_sites(
        ds, &demand, given, opts, rules, &before, access, &mut notes, progress,
    )?;
    let (pb, shorts) = problem_of(
        ds, &demand, &cands, opts, rules, &before, access, &mut notes, progress,
    )?;

    let (heur, (selected, objective, bound, gap, status), sized_places) =
        if opts.model == ProposeModel::Sized {
            let (h, a, p) =
                sized::sized_answer(ds, &an, &demand, &pb, opts, access, &mut notes, progress)?;
            (h, a, Some(p))
        } else {
            let (h, a) = optimise(&pb, opts, progress)?;
            (h, a, None)
        };
    let (ranked, covered) = rank_by_gain(
        &pb.coverage_sets(demand.radius),
        &demand.by_existing,
        &pb.weight,
        &selected,
    );
    // Modules for the capacitated model: per unit, the fewest places that close its gap;
    // the sized model chose its own.
    let places = sized_places.or_else(|| {
        (opts.model == ProposeModel::Capacitated)
            .then(|| assign_modules(&pb.quotas, &shorts, &selected, &opts.modules))
    });

    // After: the proposals as facilities, the coverage engine once more.
    let after_ds = with_proposals(ds, &cands, &ranked, places.as_ref(), opts.kind);
    progress.stage("coverage after", None);
    let acopts = coverage::Options {
        include_proposed: true,
        ..copts
    };
    let after = coverage::analyze(&after_ds, rules, &acopts, access, progress)?;

    let relevant: Vec<&coverage::rules::Rule> = rules
        .rules
        .iter()
        .filter(|r| r.kinds.contains(&opts.kind))
        .collect();
    let weighed = |flags: &[bool]| -> f64 {
        flags
            .iter()
            .zip(&pb.weight)
            .filter(|(c, _)| **c)
            .map(|(_, w)| *w)
            .sum()
    };
    let mut by_origin: BTreeMap<&'static str, usize> = BTreeMap::new();
    for c in &cands {
        *by_origin.entry(c.origin).or_default() += 1;
    }
    let proposals = Proposals {
        dataset: ds.name.clone(),
        preset: rules.id.clone(),
        kind: opts.kind.key().into(),
        model: opts.model,
        share: opts.share,
        mode: access.mode().key().into(),
        rule: reach_rule(rules, opts.kind)
            .filter(|_| opts.radius_m.is_none())
            .map(|r| r.id.clone()),
        radius_m: demand.radius,
        group: demand.group,
        p: pb.p.unwrap_or(selected.len()),
        candidates: cands.len(),
        candidates_by_origin: by_origin.into_iter().map(|(k, v)| (k.into(), v)).collect(),
        proposals: proposal_list(
            ds,
            &cands,
            &ranked,
            places.as_ref(),
            &relevant,
            &before,
            &after,
        ),
        objective,
        greedy_objective: heur.greedy_objective,
        bound,
        gap,
        status,
        seconds: t0.elapsed().as_secs_f64(),
        people_total: pb.weight.iter().sum(),
        people_covered_before: weighed(&demand.by_existing),
        people_covered_after: weighed(&covered),
        places_added: places.as_ref().map(|p| p.values().sum()).unwrap_or(0.0),
        rules: deltas(&relevant, &before, &after),
        notes,
    };
    Ok(Outcome {
        proposals,
        before,
        after,
        dataset_after: after_ds,
    })
}

/// The heuristic, then (with `exact`) the exact solve, within one time limit; a problem
/// too big for the exact solver is refused before either runs.
#[allow(clippy::type_complexity)]
fn optimise(
    pb: &Problem,
    opts: &ProposeOptions,
    progress: &dyn Progress,
) -> Result<(
    crate::siting::Solution,
    (Vec<usize>, f64, Option<f64>, Option<f64>, String),
)> {
    progress.stage("optimising", None);
    let t_opt = std::time::Instant::now();
    if opts.exact {
        crate::siting::exact::check_size(pb)?;
    }
    let share = if opts.exact {
        crate::siting::exact::WARM_START_SHARE
    } else {
        1.0
    };
    let heur = pb.solve_heuristic_until(crate::siting::Deadline::after(opts.time_limit * share))?;
    check(progress)?;
    let left = (opts.time_limit - t_opt.elapsed().as_secs_f64()).max(0.1);
    let answer = best_answer(pb, pb.model, opts, &heur, left, progress)?;
    Ok((heur, answer))
}

/// The siting demand: weighted points of the kind's age group, and what the counted
/// existing facilities of the kind already reach.
struct Demand {
    points: Vec<Point<f64>>,
    weight: Vec<f64>,
    existing: Vec<Point<f64>>,
    /// Metres to the nearest existing facility, if within the cutoff.
    nearest_existing: Vec<Option<f64>>,
    /// Within the service radius of an existing facility.
    by_existing: Vec<bool>,
    radius: f64,
    /// How far searches go: the radius, or PMEDIAN_REACH × it for a walking p-median.
    cutoff: f64,
    group: AgeGroup,
}

fn demand_of(
    ds: &Dataset,
    an: &Analysis,
    rules: &RuleSet,
    opts: &ProposeOptions,
    access: &dyn Accessibility,
    notes: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<Demand> {
    let (radius, group, cover_kinds) = reach_of(rules, opts, notes)?;
    let points: Vec<Point<f64>> = an.demand.points.iter().map(|d| d.location).collect();
    let weight: Vec<f64> = an.demand.points.iter().map(|d| d.weight(group)).collect();
    let existing: Vec<Point<f64>> = ds
        .facilities
        .iter()
        .filter(|f| an.counted[f.id.index()] && cover_kinds.contains(&f.kind))
        .filter_map(|f| f.location)
        .collect();
    // p-median needs distances beyond the circle: walking searches go to PMEDIAN_REACH ×
    // the radius, and farther demand counts as that far.
    let pmedian = opts.model == ProposeModel::Pmedian;
    let walking = access.mode() == DistanceMode::Network;
    let cutoff = if pmedian && walking {
        radius * PMEDIAN_REACH
    } else {
        radius
    };
    progress.stage("existing coverage", None);
    let nearest_existing: Vec<Option<f64>> = if existing.is_empty() {
        vec![None; points.len()]
    } else {
        access
            .nearest_within(&points, &existing, cutoff, progress)?
            .iter()
            .map(|n| n.map(|(_, m)| m))
            .collect()
    };
    let by_existing: Vec<bool> = nearest_existing
        .iter()
        .map(|m| m.is_some_and(|m| m <= radius))
        .collect();
    check(progress)?;
    Ok(Demand {
        points,
        weight,
        existing,
        nearest_existing,
        by_existing,
        radius,
        cutoff,
        group,
    })
}

/// The user's candidates (checked) or generated ones where people are out of reach, each
/// placed in its finest unit.
#[allow(clippy::too_many_arguments)]
fn candidate_sites(
    ds: &Dataset,
    demand: &Demand,
    given: Option<Vec<Candidate>>,
    opts: &ProposeOptions,
    rules: &RuleSet,
    before: &Report,
    access: &dyn Accessibility,
    notes: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<Vec<Candidate>> {
    let idx = UnitIndexes::new(ds);
    let radius = demand.radius;
    let spacing = opts.spacing_m.unwrap_or(radius / 4.0).max(1.0);
    let mut cands = match given {
        Some(c) => checked_given(c, notes)?,
        None => {
            progress.stage("candidate sites", None);
            let deficit_units = deficit_units(ds, before, rules, opts);
            generate(
                ds,
                &idx,
                &demand.points,
                &demand.weight,
                &demand.by_existing,
                radius,
                spacing,
                &deficit_units,
                access,
            )
        }
    };
    for c in cands.iter_mut() {
        if c.unit.is_none() {
            c.unit = idx.locate_finest(ds, c.location);
        }
    }
    let cands = candidates::apply_site_roles(cands, opts, &demand.existing, notes)?;
    check(progress)?;
    Ok(cands)
}

/// A candidate file's sites, refused when empty or entirely outside the units (another
/// CRS?), noted when some lie outside.
fn checked_given(c: Vec<Candidate>, notes: &mut Vec<String>) -> Result<Vec<Candidate>> {
    if c.is_empty() {
        return Err(Error::Analysis(
            "the candidate file has no sites: give points, or leave out --candidates to generate them".into(),
        ));
    }
    let outside = c.iter().filter(|c| c.unit.is_none()).count();
    if outside == c.len() {
        return Err(Error::input(
            format!(
                "none of the {} candidate sites lies inside the dataset's units: is the file in another CRS? (declare it with --candidates-crs)",
                c.len()
            ),
            format!(
                "{} 个候选点都不在数据集的行政单元内：候选点文件是否为其他坐标系？请声明其坐标系",
                c.len()
            ),
        ));
    }
    if outside > 0 {
        notes.push(format!(
            "{outside} of {} candidate sites lie outside every unit: they are used but belong to no unit",
            c.len()
        ));
    }
    Ok(c)
}

/// Units whose gap generated candidates must reach: places short (capacitated model) or
/// the kind's presence rule failing (quotas).
fn deficit_units(
    ds: &Dataset,
    before: &Report,
    rules: &RuleSet,
    opts: &ProposeOptions,
) -> Vec<UnitId> {
    if opts.model == ProposeModel::Capacitated {
        places_deficits(before, rules)
            .into_iter()
            .map(|(u, _)| u)
            .collect()
    } else if opts.quotas {
        quota_units(ds, before, rules, opts.kind)
            .into_iter()
            .map(|(u, _)| u)
            .collect()
    } else {
        Vec::new()
    }
}

/// The ranked proposals as planners read them: place, unit, people gained, places, and
/// which failing unit rules each brings to target (the finest unit around the site where
/// the rule has a verdict before and after).
fn proposal_list(
    ds: &Dataset,
    cands: &[Candidate],
    ranked: &[(usize, f64)],
    places: Option<&HashMap<usize, f64>>,
    relevant: &[&coverage::rules::Rule],
    before: &Report,
    after: &Report,
) -> Vec<Proposal> {
    // Which failing unit rules each proposal fixes.
    let unit_pos: HashMap<UnitId, usize> = before
        .units
        .iter()
        .enumerate()
        .map(|(k, u)| (u.id, k))
        .collect();
    ranked
        .iter()
        .enumerate()
        .map(|(k, (j, g))| {
            let c = &cands[*j];
            let (lon, lat) = ds.projection.inverse(c.location.x(), c.location.y());
            let mut fixes = Vec::new();
            if let Some(u) = c.unit {
                // Per rule, the finest unit around the site where the rule has a verdict.
                for r in relevant {
                    let at = ds.ancestors(u).find_map(|anc| {
                        let pos = *unit_pos.get(&anc)?;
                        let b = before.units[pos].rules.get(&r.id)?.pass?;
                        let a = after.units[pos].rules.get(&r.id)?.pass?;
                        Some((anc, b, a))
                    });
                    if let Some((anc, false, true)) = at {
                        fixes.push(format!("{}@{}", r.id, ds.unit(anc).code));
                    }
                }
            }
            let unit = c.unit.map(|u| ds.unit(u));
            Proposal {
                rank: k + 1,
                candidate_id: c.id.clone(),
                name: c.name.clone(),
                origin: c.origin.into(),
                lon,
                lat,
                x: c.location.x(),
                y: c.location.y(),
                unit_code: unit.map(|u| u.code.clone()).unwrap_or_default(),
                unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
                // A gain is never negative; rounding in the sums can make it -0.
                marginal_people: g.max(0.0) + 0.0,
                places: places.and_then(|p| p.get(j).copied()),
                fixes,
                candidate: *j,
            }
        })
        .collect()
}
