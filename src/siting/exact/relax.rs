//! What the relaxations hand HiGHS: the p-median's assignment pairs and Lagrangian run,
//! site fixings, and the bound that holds after solving with them fixed.

use super::*;

/// |bound − objective| relative to the objective (within HiGHS's tolerances an optimal
/// bound can sit a hair on the wrong side).
pub(super) fn rel_gap(objective: f64, bound: f64) -> f64 {
    (bound - objective).abs() / objective.abs().max(1e-12)
}

/// The p-median as weighted assignment pairs: per site, the demand points it may serve;
/// per demand point, the cost of staying with what exists — the nearest existing facility
/// (none: it must be assigned), or on walking distances the search cutoff.
pub(super) fn pmedian_pairs(pb: &Problem) -> Pairs {
    match &pb.cover {
        Some(cv) => Pairs {
            by_site: (cv.sets.iter().zip(&cv.metres))
                .map(|(s, ms)| {
                    let cost = |(i, d): (&u32, &f32)| {
                        (*i, pb.weight[*i as usize] * (*d as f64).min(cv.cutoff))
                    };
                    s.iter().zip(ms).map(cost).collect()
                })
                .collect(),
            stay: (cv.existing_m.iter().zip(&pb.weight))
                .map(|(e, w)| Some(w * e.min(cv.cutoff)))
                .collect(),
        },
        None => Pairs {
            by_site: (pb.candidates.iter())
                .map(|c| {
                    let cost = |(i, (d, w)): (usize, (&[f64; 2], &f64))| {
                        (i as u32, w * super::super::dist(d, c))
                    };
                    pb.demand
                        .iter()
                        .zip(&pb.weight)
                        .enumerate()
                        .map(cost)
                        .collect()
                })
                .collect(),
            stay: (pb.demand.iter().zip(&pb.weight))
                .map(|(d, w)| {
                    let near = pb.existing.iter().map(|e| super::super::dist(d, e));
                    near.min_by(f64::total_cmp).map(|e| w * e)
                })
                .collect(),
        },
    }
}

/// What a relaxation that could not prove the optimum — the p-median's, or the MCLP's
/// branch-and-bound — leaves for HiGHS.
pub(super) struct Handoff {
    /// Sites settled for every selection better than the incumbent.
    pub(super) fix: Vec<Fix>,
    /// The relaxation's bound (lower for the p-median, upper for the MCLP), valid for
    /// every selection.
    pub(super) bound: f64,
    /// The best selection known (the warm start's or the relaxation's).
    pub(super) incumbent: Solution,
    /// How the relaxation got there, for the method line.
    pub(super) method: String,
}

pub(super) enum Relaxed {
    /// Proven optimal, or no MILP could be built: the answer.
    Proven(Exact),
    Handoff(Handoff),
}

/// The p-median's Lagrangian relaxation from the warm start (or the heuristic): a sixth of
/// the limit, at most 1 s, in work units, when HiGHS follows; all that is left when the
/// MILP would be too large to build anyway.
pub(super) fn relax_pmedian(
    pb: &Problem,
    pairs: &Pairs,
    n_pairs: usize,
    time_limit: f64,
    warm: Option<&Solution>,
    watch: &Watch,
) -> Result<Relaxed> {
    let t0 = watch.t0;
    let m = pb.candidates.len();
    let start = match warm {
        Some(w) => w.clone(),
        None => pb.solve_heuristic_until(crate::siting::Deadline::after(
            time_limit * super::WARM_START_SHARE,
        ))?,
    };
    // Too many pairs for a MILP as built: the relaxation is likely the whole answer and
    // gets most of the limit. Counted in work units, not the seconds left after the
    // heuristic, so that the same problem gets the same steps, bound and answer.
    let seconds = if n_pairs > MAX_DENSE_PMEDIAN {
        0.75 * time_limit
    } else {
        (time_limit / 6.0).min(1.0)
    };
    let work = (seconds * WORK_PER_SECOND) as u64;
    // The clock only guards against a much slower machine (or a debug build): the
    // relaxation's share of the limit, and HiGHS's turn after it.
    let guard = if n_pairs > MAX_DENSE_PMEDIAN {
        0.9 * time_limit
    } else {
        0.5 * time_limit
    };
    let stop = || {
        watch.tick();
        watch.progress.is_cancelled() || t0.elapsed().as_secs_f64() > guard
    };
    let p = pb.p.expect("validated");
    let lr = pmedian_lr::root(pairs, p, &start.selected, 1e-9, work, &stop);
    check(watch.progress)?;
    let objective = pb.objective(&lr.selected);
    let incumbent = if objective < start.objective {
        Solution {
            selected: lr.selected,
            objective,
            ..start
        }
    } else {
        start
    };
    let free_pairs: usize = (pairs.by_site.iter().zip(&lr.fix))
        .filter(|(_, f)| **f != Fix::Closed)
        .map(|(s, _)| s.len())
        .sum();
    let method = format!(
        "Lagrangian relaxation ({} steps, {} of {m} sites fixed)",
        lr.steps,
        fixed_count(&lr.fix)
    );
    if !lr.proven && free_pairs <= MAX_DENSE_PMEDIAN {
        return Ok(Relaxed::Handoff(Handoff {
            fix: lr.fix,
            bound: lr.bound,
            incumbent,
            method,
        }));
    }
    // Proven, or the MILP would be too large even after fixing: the relaxation's bound is
    // the answer's.
    let bound = if lr.proven {
        incumbent.objective
    } else {
        lr.bound
    };
    Ok(Relaxed::Proven(Exact {
        gap: rel_gap(incumbent.objective, bound),
        objective: incumbent.objective,
        selected: incumbent.selected,
        bound,
        status: if lr.proven {
            "Optimal".into()
        } else {
            format!("MILP not built: {free_pairs} assignment pairs left after fixing, more than {MAX_DENSE_PMEDIAN}")
        },
        method,
        seconds: t0.elapsed().as_secs_f64(),
    }))
}

pub(super) fn fixed_count(fix: &[Fix]) -> usize {
    fix.iter().filter(|f| **f != Fix::Free).count()
}

/// The bound when HiGHS solved with a relaxation's sites fixed: HiGHS's bound (`milp`;
/// NaN or infinite if it has none) covers only the selections better than the incumbent
/// (`incumbent`), every other selection is no better than the incumbent, and the
/// relaxation's own bound (`relaxed`) holds everywhere. `maximise`: MCLP (an upper
/// bound), else the p-median (a lower one). A fixed MILP proven infeasible holds nothing
/// better: pass the incumbent as `milp`.
pub(super) fn bound_after_fixing(milp: f64, incumbent: f64, relaxed: f64, maximise: bool) -> f64 {
    match (milp.is_finite(), maximise) {
        (false, _) => relaxed,
        (true, true) => milp.max(incumbent).min(relaxed),
        (true, false) => milp.min(incumbent).max(relaxed),
    }
}
