//! The sized-siting models in HiGHS: the transportation LP that says how many people a
//! fixed choice of sites serves, and the MILP that chooses sites and sizes with a proven
//! bound (see `siting::sized`).

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use highs::{HighsModelStatus, RowProblem, Sense};

use super::highs_run::{configure, solve_milp, Watch};
use super::relax::rel_gap;
use super::Exact;
use crate::progress::{NoProgress, Progress};
use crate::siting::sized::{Sized, SizedProblem};
use crate::{Error, Result};

/// Facilities' capacities for a choice: candidates at their module, existing at theirs.
fn capacities(pb: &SizedProblem, open: &[(usize, usize)]) -> Vec<f64> {
    let m = pb.sets.len();
    let mut cap = vec![0.0; m + pb.existing.len()];
    for (j, s) in open {
        cap[*j] = pb.modules[*s].size;
    }
    for (e, (_, c)) in pb.existing.iter().enumerate() {
        cap[m + e] = *c;
    }
    cap
}

/// People served by the facilities open in `open` (and the existing ones): the optimum of
/// the transportation LP max Σ a_kj, Σ_j a_kj ≤ w_k, Σ_k a_kj ≤ cap_j.
pub fn served(pb: &SizedProblem, open: &[(usize, usize)]) -> Result<f64> {
    let cap = capacities(pb, open);
    let by = pb.reached_by();
    let mut rp = RowProblem::default();
    let mut per_fac: Vec<Vec<(highs::Col, f64)>> = vec![Vec::new(); cap.len()];
    let mut any = false;
    for (k, facs) in by.iter().enumerate() {
        let row: Vec<(highs::Col, f64)> = facs
            .iter()
            .filter(|j| cap[**j] > 0.0)
            .map(|j| {
                let c = rp.add_column(1.0, 0.0..);
                per_fac[*j].push((c, 1.0));
                (c, 1.0)
            })
            .collect();
        if !row.is_empty() {
            any = true;
            rp.add_row(..=pb.weight[k], &row);
        }
    }
    if !any {
        return Ok(0.0);
    }
    for (j, row) in per_fac.iter().enumerate() {
        if !row.is_empty() {
            rp.add_row(..=cap[j], row);
        }
    }
    let mut model = rp.optimise(Sense::Maximise);
    model.make_quiet();
    model.set_option("threads", 1);
    let solved = model
        .try_solve()
        .map_err(|e| Error::Analysis(format!("HiGHS failed on the served-people LP: {e:?}")))?;
    if solved.status() != HighsModelStatus::Optimal {
        return Err(Error::Analysis(format!(
            "the served-people LP ended {:?}",
            solved.status()
        )));
    }
    Ok(solved.get_solution().columns().iter().sum())
}

/// The MILP over sites, sizes and assignments within `time_limit`, started from `warm`
/// (the greedy answer); returns the better of the two with HiGHS's proven bound.
pub fn solve_sized(
    pb: &SizedProblem,
    time_limit: f64,
    warm: &Sized,
    progress: &dyn Progress,
) -> Result<(Sized, Exact)> {
    pb.validate()?;
    let t0 = Instant::now();
    let m = pb.sets.len();
    let ns = pb.modules.len();
    let by = pb.reached_by();
    let mut rp = RowProblem::default();
    // z_js: columns 0 .. m·ns.
    let z: Vec<highs::Col> = (0..m * ns)
        .map(|_| rp.add_integer_column(0.0, 0..=1))
        .collect();
    let mut per_fac: Vec<Vec<(highs::Col, f64)>> = vec![Vec::new(); m + pb.existing.len()];
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (k, facs) in by.iter().enumerate() {
        if facs.is_empty() || pb.weight[k] <= 0.0 {
            continue;
        }
        let row: Vec<(highs::Col, f64)> = facs
            .iter()
            .map(|j| {
                let c = rp.add_column(1.0, 0.0..);
                per_fac[*j].push((c, 1.0));
                pairs.push((k, *j));
                (c, 1.0)
            })
            .collect();
        rp.add_row(..=pb.weight[k], &row);
    }
    for j in 0..m {
        // Σ_k a_kj − Σ_s size_s z_js ≤ 0; one module at most.
        let mut row = per_fac[j].clone();
        row.extend((0..ns).map(|s| (z[j * ns + s], -pb.modules[s].size)));
        rp.add_row(..=0.0, &row);
        rp.add_row(..=1.0, (0..ns).map(|s| (z[j * ns + s], 1.0)));
    }
    for (e, (_, cap)) in pb.existing.iter().enumerate() {
        if !per_fac[m + e].is_empty() {
            rp.add_row(..=*cap, &per_fac[m + e]);
        }
    }
    rp.add_row(
        ..=pb.budget,
        (0..m)
            .flat_map(|j| (0..ns).map(move |s| (j, s)))
            .map(|(j, s)| (z[j * ns + s], pb.modules[s].cost)),
    );
    // The warm start: the greedy sites and sizes with an assignment that fits them (a
    // greedy fill; HiGHS only needs it feasible).
    let cap = capacities(pb, &warm.open);
    let mut start = vec![0.0; z.len() + pairs.len()];
    for (j, s) in &warm.open {
        start[j * ns + s] = 1.0;
    }
    let mut left_cap = cap.clone();
    let mut left_w = pb.weight.clone();
    for (i, (k, j)) in pairs.iter().enumerate() {
        let take = left_w[*k].min(left_cap[*j]).max(0.0);
        start[z.len() + i] = take;
        left_w[*k] -= take;
        left_cap[*j] -= take;
    }
    let watch = Watch {
        progress,
        t0,
        shown: AtomicU64::new(0),
    };
    progress.stage(
        &format!("exact sized siting (time limit {time_limit} s)"),
        Some((time_limit * 1000.0) as u64),
    );
    let run = solve_milp(
        rp,
        Sense::Maximise,
        move |model| {
            configure(model, time_limit, false, false);
            let _ = model.try_set_solution(Some(&start), None, None, None);
        },
        &watch,
    )?;
    let mut found: Vec<(usize, usize)> = Vec::new();
    for j in 0..m {
        for s in 0..ns {
            if run.columns.get(j * ns + s).is_some_and(|v| *v > 0.5) {
                found.push((j, s));
            }
        }
    }
    let served_found = if found.is_empty() && run.columns.is_empty() {
        f64::NEG_INFINITY
    } else {
        served(pb, &found)?
    };
    let best = if served_found > warm.served {
        let cost = found.iter().map(|(_, s)| pb.modules[*s].cost).sum();
        Sized {
            open: found,
            served: served_found,
            cost,
        }
    } else {
        warm.clone()
    };
    let bound = if run.dual_bound.is_finite() {
        run.dual_bound.max(best.served)
    } else if run.status == HighsModelStatus::Optimal {
        best.served
    } else {
        f64::NAN
    };
    let ex = Exact {
        selected: best.open.iter().map(|x| x.0).collect(),
        objective: best.served,
        bound,
        gap: if bound.is_finite() {
            rel_gap(best.served, bound)
        } else {
            f64::INFINITY
        },
        status: format!("{:?}", run.status),
        method: "HiGHS MILP (sites × sizes × assignments)".into(),
        seconds: t0.elapsed().as_secs_f64(),
    };
    Ok((best, ex))
}

/// [`solve_sized`] with nobody watching.
pub fn solve_sized_quiet(
    pb: &SizedProblem,
    time_limit: f64,
    warm: &Sized,
) -> Result<(Sized, Exact)> {
    solve_sized(pb, time_limit, warm, &NoProgress)
}
