//! The MCLP's Lagrangian branch-and-bound, given a short look before HiGHS.

use std::time::Instant;

use super::super::pmedian_lr::Fix;
use super::super::{bnb, Problem, Solution};
use super::milp::Milp;
use super::relax::{fixed_count, Handoff, Relaxed};
use super::{lp_duals, Exact, Watch, WORK_PER_SECOND};
use crate::progress::check;
use crate::Result;

/// How long the MCLP tree may look.
#[derive(Clone, Copy)]
pub(super) struct TreeLook {
    pub(super) time_limit: f64,
    pub(super) tree_work: Option<bnb::Work>,
    pub(super) t0: Instant,
}

/// The MCLP's Lagrangian branch-and-bound: a short root, then the LP's multipliers and a
/// bounded tree. Proves the optimum, or hands HiGHS its incumbent and fixings.
pub(super) fn mclp_tree(
    pb: &Problem,
    milp: &Milp,
    warm: Option<&Solution>,
    look: TreeLook,
    watch: &Watch,
) -> Result<Relaxed> {
    let progress = watch.progress;
    let m = pb.candidates.len();
    let cover_rows = &milp.cover_rows;
    let start = match warm {
        Some(w) => w.clone(),
        None => pb.solve_heuristic_until(crate::siting::Deadline::after(
            look.time_limit * super::WARM_START_SHARE,
        ))?,
    };
    let rows = bnb::Rows::new(cover_rows.clone(), m);
    let p = pb.p.expect("validated");
    let proven = |out: bnb::Outcome| {
        let objective = pb.objective(&out.selected);
        Relaxed::Proven(Exact {
            objective,
            bound: objective,
            selected: out.selected,
            gap: 0.0,
            status: "Optimal".into(),
            method: format!("Lagrangian branch-and-bound ({} nodes)", out.nodes),
            seconds: look.t0.elapsed().as_secs_f64(),
        })
    };
    // A root that closes without the LP's multipliers (tiny_mclp_p4: one node) would
    // otherwise spend most of its time on HiGHS setting up for them (1.6 of 2.3 ms): a
    // short root first, about 50 subgradient steps (2 units per coverage entry each).
    let entries: u64 = cover_rows.iter().map(|(_, s)| s.len() as u64).sum();
    let quick = bnb::solve(
        &rows,
        p,
        &start.selected,
        None,
        bnb::Work {
            root: 100 * entries,
            tree: 0,
        },
        &|_| {
            watch.tick();
            progress.is_cancelled()
        },
        milp.integral,
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
    let time_limit = look.time_limit;
    let lp_budget = (time_limit / 6.0).min(2.0);
    let duals = lp_duals(cover_rows, m, p, lp_budget, watch);
    check(progress)?;
    // The root (bound near the LP, local search from its relaxed choices) may take up
    // to a third of the limit, at most 5 s, on large problems; the tree after it a
    // second at most. (50k × 2k, p = 100: a 3.3 s root lifts the 10 s answer from a
    // 2.7 % to a 1.6 % gap, but a 20 s root costs HiGHS more than it gives at 60 s.)
    // The shares are counted in work units, not seconds, so that the same problem gets
    // the same tree — and the same answer — on any machine under any load; the clock
    // (half the limit) only guards against a much slower machine.
    let seconds = |s: f64| (s * WORK_PER_SECOND) as u64;
    let work = look.tree_work.unwrap_or(bnb::Work {
        root: seconds((time_limit / 3.0).min(5.0)),
        tree: seconds((time_limit / 3.0).min(1.0)),
    });
    let guard = Instant::now() + std::time::Duration::from_secs_f64(time_limit / 2.0);
    let out = bnb::solve(
        &rows,
        p,
        &start.selected,
        duals,
        work,
        &|_| {
            watch.tick();
            Instant::now() >= guard || progress.is_cancelled()
        },
        milp.integral,
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
    Ok(Relaxed::Handoff(Handoff {
        method: format!(
            "Lagrangian branch-and-bound ({} nodes, {} of {m} sites fixed)",
            out.nodes,
            fixed_count(&fix)
        ),
        fix,
        bound: out.bound + milp.constant,
        incumbent: Solution {
            selected: out.selected,
            objective,
            ..start
        },
    }))
}
