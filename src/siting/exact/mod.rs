//! Exact MILP models for HiGHS, warm-started with the heuristic, with a time limit; the
//! answer carries HiGHS's proven bound and the optimality gap, so a planner sees how far a
//! proposal can at most be from the optimum.
//!
//! Before HiGHS: an MCLP without quotas goes to the Lagrangian branch-and-bound (`bnb`), a
//! p-median without quotas to its Lagrangian relaxation (`pmedian_lr`), which proves the
//! optimum alone or hands HiGHS the sites it fixed.
//!
//! Sparse formulations (coverage sets from the R-tree, never a distance matrix when a radius
//! bounds the problem):
//! - MCLP: max Σ wᵢ yᵢ, yᵢ ≤ Σ_{j∈Nᵢ} xⱼ, Σ xⱼ = p (demand already covered by an existing
//!   facility is a constant);
//! - LSCP: min Σ xⱼ, Σ_{j∈Nᵢ} xⱼ ≥ 1 for every coverable demand point not yet covered;
//! - p-median: min Σ wᵢ dᵢⱼ zᵢⱼ, Σⱼ zᵢⱼ = 1, zᵢⱼ ≤ xⱼ, Σ xⱼ = p, plus a
//!   column per demand point for staying with what exists (a column per walking pair
//!   reached; dense on straight lines, so small problems only).

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use highs::{HighsModelStatus, RowProblem, Sense};
use serde::Serialize;

use super::pmedian_lr::{self, Fix, Pairs};
use super::{Model, Problem, Solution};
use crate::progress::{check, NoProgress, Progress};
use crate::{Error, Result};

mod highs_run;
mod milp;
mod relax;
mod sized;
mod tree;
use highs_run::*;
use milp::*;
use relax::*;
pub use sized::{served, solve_sized, solve_sized_quiet};
use tree::*;

/// An exact run's answer.
#[derive(Clone, Debug, Serialize)]
pub struct Exact {
    pub selected: Vec<usize>,
    pub objective: f64,
    /// The best bound HiGHS proved (upper for MCLP, lower for LSCP and p-median).
    pub bound: f64,
    /// |bound − objective| / |objective|; 0 when proven optimal.
    pub gap: f64,
    pub status: String,
    /// Which solver settled it: the Lagrangian branch-and-bound or HiGHS.
    pub method: String,
    pub seconds: f64,
}

/// Lagrangian-tree work units (coverage-list entries visited) per second, measured on the
/// 2-core development machine (0.64–0.90 × 10⁹ on city_mclp_p10/p25 and the 50k × 2k
/// bench instance): converts the tree's time shares into deterministic effort.
const WORK_PER_SECOND: f64 = 7.0e8;

/// Largest p-median MILP (assignment pairs, after the relaxation's fixing) given to HiGHS.
pub const MAX_DENSE_PMEDIAN: usize = 2_000_000;

/// Largest p-median (assignment pairs) the relaxation takes on: 16 bytes a pair.
pub const MAX_RELAXED_PMEDIAN: usize = 16_000_000;

/// Refuses a problem too large for the exact solver before any work is spent on it (the
/// heuristic warm start included): today the p-median's assignment pairs.
pub fn check_size(pb: &Problem) -> Result<()> {
    pb.validate()?;
    if pb.model == Model::Pmedian {
        pmedian_size(pb)?;
    }
    Ok(())
}

/// The share of a time limit the heuristic warm start may use before the exact solver.
pub const WARM_START_SHARE: f64 = 0.25;

/// [`solve_exact_with`] with nobody watching.
pub fn solve_exact(pb: &Problem, time_limit: f64, warm: Option<&Solution>) -> Result<Exact> {
    solve_exact_with(pb, time_limit, warm, &NoProgress)
}

/// The exact solve, reporting elapsed time against the limit to `progress` (one stage,
/// in milliseconds) and stopping with [`Error::Cancelled`] soon after it is cancelled: the
/// tree polls between nodes, HiGHS from its simplex and MIP interrupt callbacks.
pub fn solve_exact_with(
    pb: &Problem,
    time_limit: f64,
    warm: Option<&Solution>,
    progress: &dyn Progress,
) -> Result<Exact> {
    solve_exact_with_tree(pb, time_limit, warm, progress, None)
}

/// [`solve_exact_with`] with the MCLP tree's effort given (`None`: a share of the time
/// limit), so that tests can stop the tree early and check what HiGHS does after it.
///
/// The steps: build the MILP; let a relaxation try first (the p-median's Lagrangian, the
/// MCLP's branch-and-bound), which may prove the optimum alone or hand HiGHS the sites
/// it fixed; run HiGHS; state the answer with its bound.
pub fn solve_exact_with_tree(
    pb: &Problem,
    time_limit: f64,
    warm: Option<&Solution>,
    progress: &dyn Progress,
    tree_work: Option<super::bnb::Work>,
) -> Result<Exact> {
    pb.validate()?;
    if !(time_limit.is_finite() && time_limit > 0.0) {
        return Err(Error::input(
            format!("time limit must be positive seconds, not {time_limit}"),
            format!("时限须为正的秒数，当前为 {time_limit}"),
        ));
    }
    let t0 = Instant::now();
    if let (Some(target), Some(radius)) = (pb.threshold_target(), pb.radius) {
        // What the existing sites cover (no candidate sets needed for that).
        let by_existing: f64 = pb
            .covered_by_existing(radius)
            .iter()
            .zip(&pb.weight)
            .filter(|x| *x.0)
            .map(|x| x.1)
            .sum();
        let total: f64 = pb.weight.iter().sum();
        if by_existing + 1e-9 * total.max(1.0) >= target {
            // Nothing to decide: the existing sites meet the share already.
            return Ok(Exact {
                selected: Vec::new(),
                objective: 0.0,
                bound: 0.0,
                gap: 0.0,
                status: "Optimal".into(),
                method: "existing sites already meet the share".into(),
                seconds: t0.elapsed().as_secs_f64(),
            });
        }
    }
    progress.stage(
        &format!("exact solve (time limit {time_limit} s)"),
        Some((time_limit * 1000.0) as u64),
    );
    let watch = Watch {
        progress,
        t0,
        shown: AtomicU64::new(0),
    };
    let mut milp = Milp::new(pb);
    let mut warm = warm.cloned();
    // What a relaxation handed HiGHS, if one ran and could not prove the optimum.
    let mut handoff: Option<Handoff> = None;
    match pb.model {
        Model::Mclp | Model::Lscp | Model::Threshold => milp.add_coverage(pb),
        Model::Pmedian => {
            let n_pairs = pmedian_size(pb)?;
            let pairs = pmedian_pairs(pb);
            if pb.quotas.is_empty() {
                match relax_pmedian(pb, &pairs, n_pairs, time_limit, warm.as_ref(), &watch)? {
                    Relaxed::Proven(ex) => return Ok(ex),
                    Relaxed::Handoff(h) => handoff = Some(h),
                }
            }
            milp.add_assignment(pb, &pairs, handoff.as_ref());
        }
    }
    milp.add_quotas(pb);
    // MCLP without quotas: the Lagrangian branch-and-bound first (a short look); HiGHS
    // takes over from its incumbent if it cannot prove the optimum.
    if pb.model == Model::Mclp && pb.quotas.is_empty() && !milp.cover_rows.is_empty() {
        let look = TreeLook {
            time_limit,
            tree_work,
            t0,
        };
        match mclp_tree(pb, &milp, warm.as_ref(), look, &watch)? {
            Relaxed::Proven(ex) => return Ok(ex),
            Relaxed::Handoff(h) => handoff = Some(h),
        }
    }
    if let Some(h) = &handoff {
        warm = Some(h.incumbent.clone());
    }
    let left = time_limit - t0.elapsed().as_secs_f64();
    // HiGHS sets up and presolves before it first looks at its clock (about a second for
    // a million assignment pairs, 3 nonzeros each): with less time left than that, or
    // than a tenth of the limit, the relaxation's answer and bound stand.
    let setup = milp.nonzeros as f64 * 0.35e-6;
    if let Some(h) = &handoff {
        if left < (0.1 * time_limit).max(0.2).max(setup) {
            return Ok(out_of_time(h, pb.model == Model::Mclp, t0));
        }
    }
    let facts = MilpFacts {
        constant: milp.constant,
        integral: milp.integral,
        time_limit: left,
    };
    let run = run_highs(pb, milp, handoff.as_ref(), warm.as_ref(), left, &watch)?;
    let mut ex = conclude(pb, run, handoff.as_ref(), warm.as_ref(), facts)?;
    ex.seconds = t0.elapsed().as_secs_f64();
    Ok(ex)
}

/// HiGHS on the built model, with the relaxation's fixings as column bounds and the
/// warm start (site choice and, for MCLP, the coverage it implies: a start with y = 0 is
/// feasible but worth nothing, and HiGHS would not improve it).
fn run_highs(
    pb: &Problem,
    milp: Milp,
    handoff: Option<&Handoff>,
    warm: Option<&Solution>,
    time_limit: f64,
    watch: &Watch,
) -> Result<MilpRun> {
    let m = pb.candidates.len();
    let fixed: Vec<(highs::Col, Fix)> = handoff
        .iter()
        .flat_map(|h| h.fix.iter().enumerate())
        .filter(|(_, f)| **f != Fix::Free)
        .map(|(j, f)| (milp.x[j], *f))
        .collect();
    let cover_rows = &milp.cover_rows;
    let start = warm.filter(|_| pb.model != Model::Pmedian).map(|w| {
        let mut cols = vec![0.0; m + cover_rows.len()];
        for j in &w.selected {
            cols[*j] = 1.0;
        }
        for (k, (_, sites)) in cover_rows.iter().enumerate() {
            if sites.iter().any(|j| cols[*j] > 0.5) {
                cols[m + k] = 1.0;
            }
        }
        cols
    });
    let maximise = pb.model == Model::Mclp;
    let integral = milp.integral;
    solve_milp(
        milp.rp,
        milp.sense,
        move |model| {
            for (col, f) in &fixed {
                let v = if *f == Fix::Open { 1.0 } else { 0.0 };
                model.change_column_bounds(*col, v..=v);
            }
            configure(model, time_limit, integral, maximise);
            if let Some(cols) = &start {
                let _ = model.try_set_solution(Some(cols), None, None, None);
            }
        },
        watch,
    )
}

/// The answer when the time limit leaves HiGHS no time: the relaxation's incumbent and
/// its bound.
fn out_of_time(h: &Handoff, maximise: bool, t0: Instant) -> Exact {
    let objective = h.incumbent.objective;
    let bound = if maximise {
        h.bound.max(objective)
    } else {
        h.bound.min(objective)
    };
    Exact {
        selected: h.incumbent.selected.clone(),
        objective,
        bound,
        gap: rel_gap(objective, bound),
        status: format!("{:?}", HighsModelStatus::ReachedTimeLimit),
        method: format!("{}; the time limit left no time for HiGHS", h.method),
        seconds: t0.elapsed().as_secs_f64(),
    }
}

/// What the answer needs to know of the model HiGHS solved.
#[derive(Clone, Copy)]
struct MilpFacts {
    constant: f64,
    integral: bool,
    /// The seconds HiGHS had, for the message when it found nothing.
    time_limit: f64,
}

/// The answer from HiGHS's run: the better of its solution and the warm start, and the
/// tightest valid bound (HiGHS's, the relaxation's, or the incumbent's when the fixed
/// model is infeasible). `seconds` is left for the caller.
fn conclude(
    pb: &Problem,
    run: MilpRun,
    handoff: Option<&Handoff>,
    warm: Option<&Solution>,
    facts: MilpFacts,
) -> Result<Exact> {
    let m = pb.candidates.len();
    let maximise = pb.model == Model::Mclp;
    let status = run.status;
    let cols = &run.columns;
    let found: Vec<usize> = (0..m).filter(|j| cols[*j] > 0.5).collect();
    let (selected, objective) = match handoff {
        // With sites fixed, HiGHS searched only what might beat the incumbent; finding
        // nothing there proves it.
        Some(h) if found.is_empty() => (h.incumbent.selected.clone(), h.incumbent.objective),
        _ if found.is_empty() && pb.model != Model::Lscp => {
            let t = facts.time_limit;
            return Err(Error::input(
                format!("HiGHS found no solution within {t:.1} s ({status:?}): raise --time-limit"),
                format!("精确求解在 {t:.1} 秒内未找到解（{status:?}）：请延长时限"),
            ));
        }
        // The objective is recomputed from the chosen sites (the reference's definition).
        _ => {
            let o = pb.objective(&found);
            (found, o)
        }
    };
    let bound = match pb.model {
        Model::Mclp => run.dual_bound + facts.constant,
        _ => run.dual_bound,
    };
    let bound = if bound.is_finite() {
        bound
    } else if status == HighsModelStatus::Optimal {
        objective
    } else {
        f64::NAN
    };
    let bound = match handoff {
        Some(h) => {
            let milp = if status == HighsModelStatus::Infeasible {
                h.incumbent.objective
            } else {
                bound
            };
            bound_after_fixing(milp, h.incumbent.objective, h.bound, maximise)
        }
        None => bound,
    };
    // With integer objectives no objective lies strictly between two integers.
    let bound = match (facts.integral && bound.is_finite(), maximise) {
        (true, true) => (bound + 1e-6).floor(),
        (true, false) => (bound - 1e-6).ceil(),
        _ => bound,
    };
    // A timed-out MILP may hold a worse incumbent than its warm start: keep the better.
    let (selected, objective) = match warm {
        Some(w) if maximise && w.objective > objective => (w.selected.clone(), w.objective),
        Some(w) if !maximise && w.objective < objective => (w.selected.clone(), w.objective),
        _ => (selected, objective),
    };
    let gap = if bound.is_finite() {
        rel_gap(objective, bound)
    } else {
        f64::INFINITY
    };
    // Proven infeasible after fixing: nothing beats the incumbent, which is optimal.
    let status = match (handoff, status) {
        (Some(_), HighsModelStatus::Infeasible) => "Optimal".to_string(),
        (_, s) => format!("{s:?}"),
    };
    Ok(Exact {
        selected,
        objective,
        bound,
        gap,
        status,
        method: match handoff {
            Some(h) => format!("{}, then HiGHS MILP", h.method),
            None => "HiGHS MILP".into(),
        },
        seconds: 0.0,
    })
}

#[cfg(test)]
mod tests {
    use super::bound_after_fixing;

    /// A bound after fixing never lies on the wrong side of the incumbent: (HiGHS's bound,
    /// incumbent, relaxation's bound, maximise) → the bound, for both senses.
    #[test]
    fn a_bound_after_fixing_never_passes_the_incumbent() {
        let (nan, inf) = (f64::NAN, f64::INFINITY);
        for (milp, inc, relaxed, maximise, expected) in [
            // p-median (a lower bound). The fixed MILP found nothing better than the
            // incumbent (its bound above it, or infeasible): the incumbent is proven.
            (120.0, 100.0, 90.0, false, 100.0),
            // A better selection may exist: HiGHS's bound, if tighter than the relaxation's.
            (95.0, 100.0, 90.0, false, 95.0),
            (80.0, 100.0, 90.0, false, 90.0),
            // No bound from HiGHS (stopped before its root): the relaxation's.
            (nan, 100.0, 90.0, false, 90.0),
            (-inf, 100.0, 90.0, false, 90.0),
            // MCLP (an upper bound): the same, mirrored; the tree's bound is the relaxation's.
            (80.0, 100.0, 110.0, true, 100.0),
            (105.0, 100.0, 110.0, true, 105.0),
            (120.0, 100.0, 110.0, true, 110.0),
            (nan, 100.0, 110.0, true, 110.0),
            (inf, 100.0, 110.0, true, 110.0),
        ] {
            assert_eq!(
                bound_after_fixing(milp, inc, relaxed, maximise),
                expected,
                "milp {milp}, incumbent {inc}, relaxed {relaxed}, maximise {maximise}"
            );
        }
    }
}
