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

use super::{Cover, Model, Problem, Quota};
use crate::coverage::analysis::Analysis;
use crate::coverage::rules::AgeGroup;
use crate::coverage::{self, Accessibility, DistanceMode, Report, RuleSet, Test};
use crate::model::{
    Dataset, Facility, FacilityId, FacilityKind, FacilityStatus, LayerId, Qualifiers, UnitId,
    UnitRef,
};
use crate::progress::{check, Progress};

mod candidates;
mod steps;
mod types;

use crate::spatial::{point_tree, UnitIndexes};
use crate::{Error, Result};
pub use candidates::candidates_from;
use candidates::*;
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

/// Runs a proposal.
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

    let rule = reach_rule(rules, opts.kind);
    let (radius, group, cover_kinds) = reach_of(rules, opts, &mut notes)?;

    let demand_pts: Vec<Point<f64>> = an.demand.points.iter().map(|d| d.location).collect();
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
    // Metres to the nearest existing facility, if within the cutoff.
    let nearest_existing: Vec<Option<f64>> = if existing.is_empty() {
        vec![None; demand_pts.len()]
    } else {
        access
            .nearest_within(&demand_pts, &existing, cutoff, progress)?
            .iter()
            .map(|n| n.map(|(_, m)| m))
            .collect()
    };
    let by_existing: Vec<bool> = nearest_existing
        .iter()
        .map(|m| m.is_some_and(|m| m <= radius))
        .collect();
    check(progress)?;

    // Candidates.
    let idx = UnitIndexes::new(ds);
    let spacing = opts.spacing_m.unwrap_or(radius / 4.0).max(1.0);
    let mut cands = match given {
        Some(c) => checked_given(c, &mut notes)?,
        None => {
            progress.stage("candidate sites", None);
            let deficit_units = deficit_units(ds, &before, rules, opts);
            generate(
                ds,
                &idx,
                &demand_pts,
                &weight,
                &by_existing,
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
    let mut by_origin: BTreeMap<&'static str, usize> = BTreeMap::new();
    for c in &cands {
        *by_origin.entry(c.origin).or_default() += 1;
    }
    check(progress)?;

    // Coverage sets: the R-tree in straight-line mode, the walking network otherwise.
    let cand_pts: Vec<Point<f64>> = cands.iter().map(|c| c.location).collect();
    let cover = if walking {
        Some(walking_cover(
            access,
            &demand_pts,
            &cand_pts,
            &nearest_existing,
            &by_existing,
            (radius, cutoff, pmedian),
            &mut notes,
            progress,
        )?)
    } else {
        None
    };

    let max_module = opts.modules.iter().copied().fold(0.0, f64::max);
    let (quotas, shorts) = quotas_for(ds, &cands, opts, rules, &before, max_module, &mut notes)?;
    let quota_sites = super::quota_minimum(&quotas);
    let model = match opts.model {
        ProposeModel::Mclp | ProposeModel::Capacitated => Model::Mclp,
        ProposeModel::Lscp => Model::Lscp,
        ProposeModel::Pmedian => Model::Pmedian,
    };
    let p = sites_to_open(opts, quota_sites, max_module)?;
    let pb = Problem {
        model,
        demand: demand_pts.iter().map(|p| [p.x(), p.y()]).collect(),
        weight: weight.clone(),
        demand_ids: Vec::new(),
        candidates: cand_pts.iter().map(|p| [p.x(), p.y()]).collect(),
        candidate_ids: cands.iter().map(|c| c.id.clone()).collect(),
        existing: existing.iter().map(|p| [p.x(), p.y()]).collect(),
        radius: Some(radius),
        p,
        cover,
        quotas,
    };
    progress.stage("optimising", None);
    let heur = pb.solve_heuristic()?;
    check(progress)?;
    let (selected, objective, bound, gap, status) = best_answer(&pb, model, opts, &heur, progress)?;

    let (ranked, covered) =
        rank_by_gain(&pb.coverage_sets(radius), &by_existing, &weight, &selected);

    // Modules for the capacitated model: per unit, the fewest places that close its gap.
    let places = if opts.model == ProposeModel::Capacitated {
        Some(assign_modules(
            &pb.quotas,
            &shorts,
            &selected,
            &opts.modules,
        ))
    } else {
        None
    };

    // After: the proposals as facilities, the coverage engine once more.
    let after_ds = with_proposals(ds, &cands, &ranked, places.as_ref(), opts.kind);

    progress.stage("coverage after", None);
    let acopts = coverage::Options {
        include_planned: opts.include_planned,
        include_proposed: true,
        year: opts.year,
    };
    let after = coverage::analyze(&after_ds, rules, &acopts, access, progress)?;

    let relevant: Vec<&coverage::rules::Rule> = rules
        .rules
        .iter()
        .filter(|r| r.kinds.contains(&opts.kind))
        .collect();
    let rule_deltas = deltas(&relevant, &before, &after);

    let proposals = proposal_list(
        ds,
        &cands,
        &ranked,
        places.as_ref(),
        &relevant,
        &before,
        &after,
    );
    let people_total: f64 = weight.iter().sum();
    let covered_before: f64 = by_existing
        .iter()
        .zip(&weight)
        .filter(|(c, _)| **c)
        .map(|(_, w)| *w)
        .sum();
    let covered_after: f64 = covered
        .iter()
        .zip(&weight)
        .filter(|(c, _)| **c)
        .map(|(_, w)| *w)
        .sum();
    let places_added = places.as_ref().map(|p| p.values().sum()).unwrap_or(0.0);
    Ok(Outcome {
        proposals: Proposals {
            dataset: ds.name.clone(),
            preset: rules.id.clone(),
            kind: opts.kind.key().into(),
            model: opts.model,
            mode: access.mode().key().into(),
            rule: rule
                .filter(|_| opts.radius_m.is_none())
                .map(|r| r.id.clone()),
            radius_m: radius,
            group,
            p: p.unwrap_or(selected.len()),
            candidates: cands.len(),
            candidates_by_origin: by_origin.into_iter().map(|(k, v)| (k.into(), v)).collect(),
            proposals,
            objective,
            greedy_objective: heur.greedy_objective,
            bound,
            gap,
            status,
            seconds: t0.elapsed().as_secs_f64(),
            people_total,
            people_covered_before: covered_before,
            people_covered_after: covered_after,
            places_added,
            rules: rule_deltas,
            notes,
        },
        before,
        after,
        dataset_after: after_ds,
    })
}

/// Walking coverage sets: per candidate, the demand points within the cutoff along the
/// streets (with metres for the p-median, whose farther demand counts as the cutoff).
#[allow(clippy::too_many_arguments)]
fn walking_cover(
    access: &dyn Accessibility,
    demand_pts: &[Point<f64>],
    cand_pts: &[Point<f64>],
    nearest_existing: &[Option<f64>],
    by_existing: &[bool],
    (radius, cutoff, pmedian): (f64, f64, bool),
    notes: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<Cover> {
    progress.stage("candidate catchments", None);
    let reach = access.all_within(demand_pts, cand_pts, cutoff, progress)?;
    let mut sets: Vec<Vec<(u32, f32)>> = vec![Vec::new(); cand_pts.len()];
    for i in 0..demand_pts.len() {
        for (j, m) in reach.of(i) {
            sets[j as usize].push((i as u32, m));
        }
    }
    for s in sets.iter_mut() {
        s.sort_unstable_by_key(|(i, _)| *i);
    }
    let existing_m = if pmedian {
        let far = |m: &Option<f64>| m.unwrap_or(f64::INFINITY);
        nearest_existing.iter().map(far).collect()
    } else {
        vec![f64::INFINITY; demand_pts.len()]
    };
    if pmedian {
        notes.push(format!(
            "p-median on walking distances: searches stop at {cutoff:.0} m ({PMEDIAN_REACH} × the {radius:.0} m circle); demand farther than that from every open site counts as {cutoff:.0} m"
        ));
    }
    Ok(Cover {
        metres: if pmedian {
            sets.iter()
                .map(|s| s.iter().map(|(_, m)| *m).collect())
                .collect()
        } else {
            Vec::new()
        },
        sets: sets
            .into_iter()
            .map(|s| s.into_iter().map(|(i, _)| i).collect())
            .collect(),
        by_existing: by_existing.to_vec(),
        existing_m,
        cutoff,
    })
}

/// The policy quotas: with the capacitated model, every unit short of places gets enough
/// sites of at most `max_module` places (nested gaps counted once), with the places short
/// per quota; with `--quota`, one site in every unit failing the kind's presence rule.
/// A candidate counts for the units above the finest unit it lies in, as the coverage
/// engine counts the proposals afterwards.
fn quotas_for(
    ds: &Dataset,
    cands: &[Candidate],
    opts: &ProposeOptions,
    rules: &RuleSet,
    before: &Report,
    max_module: f64,
    notes: &mut Vec<String>,
) -> Result<(Vec<Quota>, Vec<f64>)> {
    // Quotas. A candidate counts for the units above the finest unit it lies in: the same
    // rule the coverage engine uses when it counts the proposals afterwards.
    let inside = |u: UnitId| -> Vec<usize> {
        (0..cands.len())
            .filter(|j| {
                cands[*j]
                    .unit
                    .is_some_and(|c| ds.ancestors(c).any(|a| a == u))
            })
            .collect()
    };
    let mut quotas: Vec<Quota> = Vec::new();
    // Places short per quota (capacitated model), parallel to `quotas`.
    let mut shorts: Vec<f64> = Vec::new();
    let mut quota_units_in: Vec<(UnitId, u32, f64)> = Vec::new();
    if opts.model == ProposeModel::Capacitated {
        if opts.modules.is_empty() || opts.modules.iter().any(|m| !(m.is_finite() && *m > 0.0)) {
            return Err(Error::Analysis(
                "nursery modules must be positive place counts, e.g. --modules 80,150".into(),
            ));
        }
        for (u, short) in places_deficits(before, rules) {
            let unit = ds.unit(u);
            let sites = inside(u);
            // Sites already required inside this unit by finer units' quotas.
            let (inner_need, inner_short) = quota_units_in
                .iter()
                .filter(|(c, _, _)| *c != u && ds.ancestors(*c).any(|a| a == u))
                .fold((0u32, 0.0), |(n, s), (_, k, d)| (n + k, s + d));
            let extra = ((short - inner_short).max(0.0) / max_module).ceil() as u32;
            if extra == 0 {
                continue;
            }
            let need = inner_need + extra;
            let label = format!(
                "{} {} ({}), {:.0} places short",
                unit.level.zh(),
                unit.name,
                unit.code,
                short
            );
            if sites.is_empty() {
                return Err(Error::input(
                    format!("{label}: no candidate site lies in it, so the capacitated problem is infeasible — add candidate sites there or leave out --candidates to generate them"),
                    format!("{label}：单元内没有候选点，托位缺口无法补足——请在该单元增加候选点，或改用自动生成的候选点"),
                ));
            }
            if sites.len() < need as usize {
                return Err(Error::input(
                    format!(
                        "{label}: needs {need} sites of at most {max_module:.0} places but only {} candidate sites lie in it — add candidates or a larger module (--modules)",
                        sites.len()
                    ),
                    format!(
                        "{label}：需要 {need} 处（每处至多 {max_module:.0} 个托位），但单元内只有 {} 个候选点——请增加候选点或采用更大的规模",
                        sites.len()
                    ),
                ));
            }
            quotas.push(Quota {
                sites,
                at_least: need,
                label,
            });
            shorts.push(short);
            quota_units_in.push((u, need, short));
        }
        if quotas.is_empty() {
            notes.push("every unit already reaches its places-per-1000 target: sites are placed for 0–3 coverage only".into());
        }
    } else if opts.quotas {
        let mut unmet = 0;
        for (u, rule_id) in quota_units(ds, before, rules, opts.kind) {
            let unit = ds.unit(u);
            let sites = inside(u);
            if sites.is_empty() {
                unmet += 1;
                continue;
            }
            quotas.push(Quota {
                sites,
                at_least: 1,
                label: format!(
                    "{} {} ({}): {}",
                    unit.level.zh(),
                    unit.name,
                    unit.code,
                    rule_id
                ),
            });
        }
        if unmet > 0 {
            notes.push(format!(
                "{unmet} units lack a {} but no candidate site lies in them: the quota cannot be applied there",
                opts.kind.zh()
            ));
        }
    }

    Ok((quotas, shorts))
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

/// How many sites to open: p as given, at least the quotas' minimum for the capacitated
/// model (p defaults to it), none for the LSCP (it finds the fewest).
fn sites_to_open(
    opts: &ProposeOptions,
    quota_sites: usize,
    max_module: f64,
) -> Result<Option<usize>> {
    Ok(match (opts.model, opts.p) {
        (ProposeModel::Capacitated, None) => Some(quota_sites.max(1)),
        (ProposeModel::Capacitated, Some(p)) if p < quota_sites => {
            return Err(Error::input(
                format!("closing every unit's places gap needs at least {quota_sites} sites of at most {max_module:.0} places, but p = {p}: raise p to {quota_sites} or larger modules (--modules)"),
                format!("补足各单元托位缺口至少需要 {quota_sites} 处（每处至多 {max_module:.0} 个托位），但 p = {p}：请将 p 提高到 {quota_sites}，或采用更大的规模"),
            ));
        }
        (ProposeModel::Lscp, _) => None,
        (_, None) => {
            return Err(Error::input(
                "give the number of new sites with --p (or use --model lscp to find the fewest)",
                "请给出新增数量 p（或选用最少设施模型 LSCP 求最少需要几处）",
            ))
        }
        (_, p) => p,
    })
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
                marginal_people: *g,
                places: places.and_then(|p| p.get(j).copied()),
                fixes,
                candidate: *j,
            }
        })
        .collect()
}
