//! The siting problem built from a proposal's demand and candidates: coverage sets
//! (walking or straight-line), quotas for units short of a target, and p.

use geo::Point;

use super::steps::{places_deficits, quota_units};
use super::{Candidate, Demand, ProposeModel, ProposeOptions, PMEDIAN_REACH};
use crate::coverage::{Accessibility, DistanceMode, Report, RuleSet};
use crate::model::{Dataset, UnitId};
use crate::progress::Progress;
use crate::siting::{Cover, Model, Problem, Quota};
use crate::{Error, Result};

/// The siting problem: coverage sets (the R-tree in straight-line mode, the walking
/// network otherwise), quotas for units short of a per-unit target, and p. Returns the
/// places each quota unit is short of, for the capacitated model's modules.
#[allow(clippy::too_many_arguments)]
pub(super) fn problem_of(
    ds: &Dataset,
    demand: &Demand,
    cands: &[Candidate],
    opts: &ProposeOptions,
    rules: &RuleSet,
    before: &Report,
    access: &dyn Accessibility,
    notes: &mut Vec<String>,
    progress: &dyn Progress,
) -> Result<(Problem, Vec<f64>)> {
    let pmedian = opts.model == ProposeModel::Pmedian;
    let cand_pts: Vec<Point<f64>> = cands.iter().map(|c| c.location).collect();
    let cover = if access.mode() == DistanceMode::Network {
        Some(walking_cover(
            access,
            &demand.points,
            &cand_pts,
            &demand.nearest_existing,
            &demand.by_existing,
            (demand.radius, demand.cutoff, pmedian),
            notes,
            progress,
        )?)
    } else {
        None
    };
    let max_module = opts.modules.iter().copied().fold(0.0, f64::max);
    let (quotas, shorts) = quotas_for(ds, cands, opts, rules, before, max_module, notes)?;
    let quota_sites = crate::siting::quota_minimum(&quotas);
    let model = match opts.model {
        ProposeModel::Mclp | ProposeModel::Capacitated => Model::Mclp,
        ProposeModel::Lscp => Model::Lscp,
        ProposeModel::Pmedian => Model::Pmedian,
        ProposeModel::Threshold => Model::Threshold,
        // The sized model has its own problem (siting::sized); this one gives its coverage.
        ProposeModel::Sized => Model::Lscp,
    };
    let p = sites_to_open(opts, quota_sites, max_module)?;
    let xy = |p: &Point<f64>| [p.x(), p.y()];
    let pb = Problem {
        model,
        demand: demand.points.iter().map(xy).collect(),
        weight: demand.weight.clone(),
        demand_ids: Vec::new(),
        candidates: cand_pts.iter().map(xy).collect(),
        candidate_ids: cands.iter().map(|c| c.id.clone()).collect(),
        existing: demand.existing.iter().map(xy).collect(),
        radius: Some(demand.radius),
        p,
        share: opts.share,
        cover,
        quotas,
    };
    Ok((pb, shorts))
}

/// Walking coverage sets: per candidate, the demand points within the cutoff along the
/// streets (with metres for the p-median, whose farther demand counts as the cutoff).
#[allow(clippy::too_many_arguments)]
pub(super) fn walking_cover(
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
pub(super) fn quotas_for(
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
                return Err(no_sites_in(&label, unit, cands));
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

/// How many sites to open: p as given, at least the quotas' minimum for the capacitated
/// model (p defaults to it), none for the LSCP (it finds the fewest).
pub(super) fn sites_to_open(
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
        (ProposeModel::Lscp | ProposeModel::Threshold | ProposeModel::Sized, _) => None,
        (_, None) => {
            return Err(Error::input(
                "give the number of new sites with --p (or use --model lscp to find the fewest)",
                "请给出新增数量 p（或选用最少设施模型 LSCP 求最少需要几处）",
            ))
        }
        (_, p) => p,
    })
}

/// Why a unit short of places has no candidate site, and what to do: for a user's file,
/// add sites there; for generated ones, say why none could be generated (never suggest
/// leaving out a --candidates the user did not give).
fn no_sites_in(label: &str, unit: &crate::model::Unit, cands: &[Candidate]) -> Error {
    if cands.iter().any(|c| c.origin == "file") {
        return Error::input(
            format!("{label}: no candidate site lies in it, so the capacitated problem is infeasible — add candidate sites there or leave out --candidates to generate them"),
            format!("{label}：单元内没有候选点，托位缺口无法补足——请在该单元增加候选点，或改用自动生成的候选点"),
        );
    }
    let why = if unit.geometry.is_none() {
        ("it has no shape in the data", "数据中该单元没有边界")
    } else {
        ("no demand lies in it", "单元内没有需求点")
    };
    Error::input(
        format!("{label}: no candidate site could be generated in it ({}), so the capacitated problem is infeasible — give candidate sites with --candidates", why.0),
        format!("{label}：无法在该单元内生成候选点（{}），托位缺口无法补足——请用候选点文件提供", why.1),
    )
}
