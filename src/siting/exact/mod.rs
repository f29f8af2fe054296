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
mod relax;
use highs_run::*;
use relax::*;

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
    progress.stage(
        &format!("exact solve (time limit {time_limit} s)"),
        Some((time_limit * 1000.0) as u64),
    );
    let watch = Watch {
        progress,
        t0,
        shown: AtomicU64::new(0),
    };
    let m = pb.candidates.len();
    let n = pb.demand.len();
    let mut rp = RowProblem::default();
    let x: Vec<highs::Col> = (0..m)
        .map(|_| rp.add_integer_column(if pb.model == Model::Lscp { 1.0 } else { 0.0 }, 0..=1))
        .collect();
    let mut constant = 0.0;
    // MCLP: merged coverage rows (weight, sites); the HiGHS model's coverage column for
    // row k is column m + k, and the Lagrangian branch-and-bound works on the same rows.
    let mut cover_rows: Vec<(f64, Vec<usize>)> = Vec::new();
    // Integer weights make every MCLP objective an integer: a bound less than one above
    // the incumbent already proves it (both the tree and HiGHS use this).
    let integral = pb.model == Model::Mclp && pb.weight.iter().all(|w| w.fract() == 0.0);
    let mut warm = warm.cloned();
    // p-median: what the Lagrangian relaxation handed HiGHS, if it ran.
    let mut handoff: Option<Handoff> = None;
    let sense;
    match pb.model {
        Model::Mclp | Model::Lscp => {
            let r = pb.radius.expect("validated");
            let sets = pb.coverage_sets(r);
            let base = pb.covered_by_existing(r);
            let mut by_demand: Vec<Vec<usize>> = vec![Vec::new(); n];
            for (j, s) in sets.iter().enumerate() {
                for i in s {
                    by_demand[*i as usize].push(j);
                }
            }
            // Demand points reached by exactly the same candidates are one row (weights
            // summed): an exact reduction that shrinks dense city demand several-fold.
            let mut rows: std::collections::HashMap<&[usize], f64> =
                std::collections::HashMap::new();
            let mut order: Vec<&[usize]> = Vec::new();
            for i in 0..n {
                if base[i] {
                    constant += pb.weight[i];
                    continue;
                }
                if by_demand[i].is_empty() {
                    continue;
                }
                let key = by_demand[i].as_slice();
                match rows.get_mut(key) {
                    Some(w) => *w += pb.weight[i],
                    None => {
                        rows.insert(key, pb.weight[i]);
                        order.push(key);
                    }
                }
            }
            if pb.model == Model::Mclp {
                sense = Sense::Maximise;
                cover_rows = order
                    .iter()
                    .map(|k| (rows[k], k.to_vec()))
                    .filter(|(w, _)| *w > 0.0)
                    .collect();
                add_mclp(&mut rp, &x, &cover_rows, pb.p.expect("validated"));
            } else {
                sense = Sense::Minimise;
                for key in &order {
                    rp.add_row(1.0.., key.iter().map(|j| (x[*j], 1.0)));
                }
            }
        }
        Model::Pmedian => {
            sense = Sense::Minimise;
            let n_pairs = match &pb.cover {
                Some(cv) => cv.sets.iter().map(|s| s.len()).sum(),
                None => n * m,
            };
            let cap = if pb.quotas.is_empty() {
                MAX_RELAXED_PMEDIAN
            } else {
                MAX_DENSE_PMEDIAN
            };
            if n_pairs > cap {
                return Err(Error::input(
                    format!("exact p-median needs {n_pairs} assignment pairs ({n} demand points, {m} candidates), more than {cap}: use the heuristic (drop --exact) or fewer candidates"),
                    format!("精确求解 p-中位需要 {n_pairs} 个分配对（{n} 个需求点 × {m} 个候选点），超过 {cap}：请取消精确求解（用启发式），或减少候选点"),
                ));
            }
            let pairs = pmedian_pairs(pb);
            if pb.quotas.is_empty() {
                let warm_ref = warm.as_ref();
                match relax_pmedian(pb, &pairs, n_pairs, time_limit, warm_ref, &watch)? {
                    Relaxed::Proven(ex) => return Ok(ex),
                    Relaxed::Handoff(h) => {
                        warm = Some(h.incumbent.clone());
                        handoff = Some(h);
                    }
                }
            }
            let fix = match &handoff {
                Some(h) => h.fix.clone(),
                None => vec![Fix::Free; m],
            };
            // Sites fixed closed get no assignment columns (their x is fixed below).
            let mut assign: Vec<Vec<(highs::Col, f64)>> = vec![Vec::new(); n];
            for (j, (f, s)) in fix.iter().zip(&pairs.by_site).enumerate() {
                if *f == Fix::Closed {
                    continue;
                }
                for (i, c) in s {
                    let z = rp.add_column(*c, 0.0..=1.0);
                    assign[*i as usize].push((z, 1.0));
                    rp.add_row(..=0.0, [(z, 1.0), (x[j], -1.0)]);
                }
            }
            for (a, stay) in assign.iter_mut().zip(&pairs.stay) {
                if let Some(c) = stay {
                    a.push((rp.add_column(*c, 0.0..=1.0), 1.0));
                }
                rp.add_row(1.0..=1.0, &*a);
            }
            let p = pb.p.expect("validated") as f64;
            rp.add_row(p..=p, x.iter().map(|c| (*c, 1.0)));
        }
    }
    for q in &pb.quotas {
        rp.add_row(q.at_least as f64.., q.sites.iter().map(|j| (x[*j], 1.0)));
    }
    // MCLP without quotas: the Lagrangian branch-and-bound first (a short look); HiGHS
    // takes over from its incumbent if it cannot prove the optimum.
    if pb.model == Model::Mclp && pb.quotas.is_empty() && !cover_rows.is_empty() {
        let start = match &warm {
            Some(w) => w.clone(),
            None => pb.solve_heuristic()?,
        };
        let rows = super::bnb::Rows::new(cover_rows.clone(), m);
        let p = pb.p.expect("validated");
        let proven = |out: super::bnb::Outcome| {
            let objective = pb.objective(&out.selected);
            Exact {
                objective,
                bound: objective,
                selected: out.selected,
                gap: 0.0,
                status: "Optimal".into(),
                method: format!("Lagrangian branch-and-bound ({} nodes)", out.nodes),
                seconds: t0.elapsed().as_secs_f64(),
            }
        };
        // A root that closes without the LP's multipliers (tiny_mclp_p4: one node) would
        // otherwise spend most of its time on HiGHS setting up for them (1.6 of 2.3 ms): a
        // short root first, about 50 subgradient steps (2 units per coverage entry each).
        let entries: u64 = cover_rows.iter().map(|(_, s)| s.len() as u64).sum();
        let quick = super::bnb::solve(
            &rows,
            p,
            &start.selected,
            None,
            super::bnb::Work {
                root: 100 * entries,
                tree: 0,
            },
            &|_| {
                watch.tick();
                progress.is_cancelled()
            },
            integral,
        );
        check(progress)?;
        if quick.proven {
            return Ok(proven(quick));
        }
        // The tree, having no cuts, proves an optimum quickly only when the LP bound is
        // tight (city_mclp_p10: 23 nodes, 0.2 s after the LP); where it is not, HiGHS's
        // cuts are needed and every second the tree holds is lost (city_mclp_p25 in
        // total: 6.3-7.2 s with a 0.25-1 s tree, 8.0 s with 1.5 s, 11.7 s with ~4.5 s).
        // So: a short look, which also hands HiGHS the tree's better incumbent.
        let lp_budget = (time_limit / 6.0).min(2.0);
        let duals = lp_duals(&cover_rows, m, p, lp_budget, &watch);
        check(progress)?;
        // The root (bound near the LP, local search from its relaxed choices) may take up
        // to a third of the limit, at most 5 s, on large problems; the tree after it a
        // second at most. (50k × 2k, p = 100: a 3.3 s root lifts the 10 s answer from a
        // 2.7 % to a 1.6 % gap, but a 20 s root costs HiGHS more than it gives at 60 s.)
        // The shares are counted in work units, not seconds, so that the same problem gets
        // the same tree — and the same answer — on any machine under any load; the clock
        // (half the limit) only guards against a much slower machine.
        let seconds = |s: f64| (s * WORK_PER_SECOND) as u64;
        let work = tree_work.unwrap_or(super::bnb::Work {
            root: seconds((time_limit / 3.0).min(5.0)),
            tree: seconds((time_limit / 3.0).min(1.0)),
        });
        let guard = Instant::now() + std::time::Duration::from_secs_f64(time_limit / 2.0);
        let out = super::bnb::solve(
            &rows,
            p,
            &start.selected,
            duals,
            work,
            &|_| {
                watch.tick();
                Instant::now() >= guard || progress.is_cancelled()
            },
            integral,
        );
        check(progress)?;
        if out.proven {
            return Ok(proven(out));
        }
        let objective = pb.objective(&out.selected);
        // The tree starts from `start`, so its incumbent is never worse; its fixings are
        // priced against it, and HiGHS searches only what might beat it. Fixings the
        // incumbent breaks (a site of it that no better selection uses) are dropped, or
        // HiGHS would reject the incumbent as its start and search without a cutoff.
        let mut fix = out.fix;
        for (j, f) in fix.iter_mut().enumerate() {
            let kept = out.selected.binary_search(&j).is_ok();
            if (*f == Fix::Closed && kept) || (*f == Fix::Open && !kept) {
                *f = Fix::Free;
            }
        }
        handoff = Some(Handoff {
            method: format!(
                "Lagrangian branch-and-bound ({} nodes, {} of {m} sites fixed)",
                out.nodes,
                fixed_count(&fix)
            ),
            fix,
            bound: out.bound + constant,
            incumbent: Solution {
                selected: out.selected,
                objective,
                ..start
            },
        });
        warm = handoff.as_ref().map(|h| h.incumbent.clone());
    }
    let warm = warm.as_ref();
    let time_limit = time_limit - t0.elapsed().as_secs_f64();
    // Fixed sites, as column bounds.
    let fixed: Vec<(highs::Col, Fix)> = handoff
        .iter()
        .flat_map(|h| h.fix.iter().enumerate())
        .filter(|(_, f)| **f != Fix::Free)
        .map(|(j, f)| (x[j], *f))
        .collect();
    // The site choice and, for MCLP, the coverage it implies: a start with y = 0 is
    // feasible but worth nothing, and HiGHS would not improve it.
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
    let run = solve_milp(
        rp,
        sense,
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
        &watch,
    )?;
    let status = run.status;
    let cols = &run.columns;
    let found: Vec<usize> = (0..m).filter(|j| cols[*j] > 0.5).collect();
    let (selected, objective) = match &handoff {
        // With sites fixed, HiGHS searched only what might beat the incumbent; finding
        // nothing there proves it.
        Some(h) if found.is_empty() => (h.incumbent.selected.clone(), h.incumbent.objective),
        _ if found.is_empty() && pb.model != Model::Lscp => {
            return Err(Error::input(
                format!("HiGHS found no solution within {time_limit:.1} s ({status:?}): raise --time-limit"),
                format!("精确求解在 {time_limit:.1} 秒内未找到解（{status:?}）：请延长时限"),
            ));
        }
        // The objective is recomputed from the chosen sites (the reference's definition).
        _ => {
            let o = pb.objective(&found);
            (found, o)
        }
    };
    let bound_raw = run.dual_bound;
    let bound = match pb.model {
        Model::Mclp => bound_raw + constant,
        _ => bound_raw,
    };
    let bound = if bound.is_finite() {
        bound
    } else if status == HighsModelStatus::Optimal {
        objective
    } else {
        f64::NAN
    };
    let bound = match &handoff {
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
    // With integer weights no objective lies strictly between two integers.
    let bound = if integral && bound.is_finite() {
        (bound + 1e-6).floor()
    } else {
        bound
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
    let status = match (&handoff, status) {
        (Some(_), HighsModelStatus::Infeasible) => "Optimal".to_string(),
        (_, s) => format!("{s:?}"),
    };
    Ok(Exact {
        selected,
        objective,
        bound,
        gap,
        status,
        method: match &handoff {
            Some(h) => format!("{}, then HiGHS MILP", h.method),
            None => "HiGHS MILP".into(),
        },
        seconds: t0.elapsed().as_secs_f64(),
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
