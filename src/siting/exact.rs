//! Exact MILP models for HiGHS, warm-started with the heuristic, with a time limit; the
//! answer carries HiGHS's proven bound and the optimality gap, so a planner sees how far a
//! proposal can at most be from the optimum.
//!
//! Sparse formulations (coverage sets from the R-tree, never a distance matrix when a radius
//! bounds the problem):
//! - MCLP: max Σ wᵢ yᵢ, yᵢ ≤ Σ_{j∈Nᵢ} xⱼ, Σ xⱼ = p (demand already covered by an existing
//!   facility is a constant);
//! - LSCP: min Σ xⱼ, Σ_{j∈Nᵢ} xⱼ ≥ 1 for every coverable demand point not yet covered;
//! - p-median: min Σ wᵢ dᵢⱼ zᵢⱼ, Σⱼ zᵢⱼ = 1, zᵢⱼ ≤ xⱼ, Σ xⱼ = p (dense: small problems only).

use std::time::Instant;

use highs::{HighsModelStatus, RowProblem, Sense};
use serde::Serialize;

use super::{Model, Problem, Solution};
use crate::{Error, Result};

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
    pub seconds: f64,
}

/// Largest dense p-median (demand × candidates) attempted exactly.
pub const MAX_DENSE_PMEDIAN: usize = 2_000_000;

pub fn solve_exact(pb: &Problem, time_limit: f64, warm: Option<&Solution>) -> Result<Exact> {
    pb.validate()?;
    if !(time_limit.is_finite() && time_limit > 0.0) {
        return Err(Error::Analysis(format!(
            "time limit must be positive seconds, not {time_limit}"
        )));
    }
    let t0 = Instant::now();
    let m = pb.candidates.len();
    let n = pb.demand.len();
    let mut rp = RowProblem::default();
    let x: Vec<highs::Col> = (0..m)
        .map(|_| rp.add_integer_column(if pb.model == Model::Lscp { 1.0 } else { 0.0 }, 0..=1))
        .collect();
    let mut constant = 0.0;
    // MCLP's merged coverage rows, for a Lagrangian bound when HiGHS stops short.
    let mut lagrange_rows: Vec<(f64, Vec<usize>)> = Vec::new();
    let sense;
    let mut n_cols = m;
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
                lagrange_rows = order
                    .iter()
                    .map(|k| (rows[k], k.to_vec()))
                    .filter(|(w, _)| *w > 0.0)
                    .collect();
                for key in &order {
                    let w = rows[key];
                    if w <= 0.0 {
                        continue;
                    }
                    let y = rp.add_column(w, 0.0..=1.0);
                    n_cols += 1;
                    let mut row: Vec<(highs::Col, f64)> = vec![(y, 1.0)];
                    row.extend(key.iter().map(|j| (x[*j], -1.0)));
                    rp.add_row(..=0.0, &row);
                }
                let p = pb.p.expect("validated") as f64;
                rp.add_row(p..=p, x.iter().map(|c| (*c, 1.0)));
            } else {
                sense = Sense::Minimise;
                for key in &order {
                    rp.add_row(1.0.., key.iter().map(|j| (x[*j], 1.0)));
                }
            }
        }
        Model::Pmedian => {
            sense = Sense::Minimise;
            if n * m > MAX_DENSE_PMEDIAN {
                return Err(Error::Analysis(format!(
                    "exact p-median builds {n} × {m} assignment variables, more than {MAX_DENSE_PMEDIAN}: use the heuristic (drop --exact) or fewer candidates"
                )));
            }
            for i in 0..n {
                let d = |a: &[f64; 2]| {
                    ((a[0] - pb.demand[i][0]).powi(2) + (a[1] - pb.demand[i][1]).powi(2)).sqrt()
                };
                let mut assign: Vec<(highs::Col, f64)> = Vec::with_capacity(m + 1);
                for j in 0..m {
                    let z = rp.add_column(pb.weight[i] * d(&pb.candidates[j]), 0.0..=1.0);
                    n_cols += 1;
                    assign.push((z, 1.0));
                    rp.add_row(..=0.0, [(z, 1.0), (x[j], -1.0)]);
                }
                if let Some(de) = pb.existing.iter().map(d).min_by(f64::total_cmp) {
                    let z = rp.add_column(pb.weight[i] * de, 0.0..=1.0);
                    n_cols += 1;
                    assign.push((z, 1.0));
                }
                rp.add_row(1.0..=1.0, &assign);
            }
            let p = pb.p.expect("validated") as f64;
            rp.add_row(p..=p, x.iter().map(|c| (*c, 1.0)));
        }
    }
    for q in &pb.quotas {
        rp.add_row(q.at_least as f64.., q.sites.iter().map(|j| (x[*j], 1.0)));
    }
    let mut model = rp.optimise(sense);
    model.make_quiet();
    // Keep a little of the limit for the Lagrangian bound (MCLP, if HiGHS stops short).
    let reserve = if pb.model == Model::Mclp {
        (time_limit / 10.0).min(3.0)
    } else {
        0.0
    };
    model.set_option("time_limit", time_limit - reserve);
    model.set_option("mip_rel_gap", 1e-9);
    model.set_option("mip_abs_gap", 1e-9);
    model.set_option("random_seed", 1);
    model.set_option("threads", 1);
    if let Some(w) = warm {
        // Only the site choice is given; HiGHS completes the rest.
        let mut cols = vec![0.0; n_cols];
        for j in &w.selected {
            cols[*j] = 1.0;
        }
        if pb.model == Model::Mclp || pb.model == Model::Lscp {
            let _ = model.try_set_solution(Some(&cols), None, None, None);
        }
    }
    let solved = model
        .try_solve()
        .map_err(|e| Error::Analysis(format!("HiGHS failed: {e:?}")))?;
    let status = solved.status();
    let sol = solved.get_solution();
    let cols = sol.columns();
    let selected: Vec<usize> = (0..m).filter(|j| cols[*j] > 0.5).collect();
    if selected.is_empty() && pb.model != Model::Lscp {
        return Err(Error::Analysis(format!(
            "HiGHS found no solution within {time_limit} s ({status:?}): raise --time-limit"
        )));
    }
    // The objective is recomputed from the chosen sites (the reference's definition).
    let objective = pb.objective(&selected);
    let bound_raw = solved
        .double_info_value(c"mip_dual_bound")
        .unwrap_or(f64::NAN);
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
    // A timed-out MILP may hold a worse incumbent than its warm start: keep the better.
    let (selected, objective) = match warm {
        Some(w) if pb.model == Model::Mclp && w.objective > objective => {
            (w.selected.clone(), w.objective)
        }
        Some(w) if pb.model != Model::Mclp && w.objective < objective => {
            (w.selected.clone(), w.objective)
        }
        _ => (selected, objective),
    };
    // Not proven: the Lagrangian bound is valid too; keep the tighter one.
    let bound = if pb.model == Model::Mclp && status != HighsModelStatus::Optimal {
        let rows: Vec<(f64, &[usize])> = lagrange_rows
            .iter()
            .map(|(w, n)| (*w, n.as_slice()))
            .collect();
        let p = pb.p.expect("validated");
        let l = mclp_lagrangian_bound(&rows, m, p, objective - constant, reserve) + constant;
        if bound.is_finite() {
            bound.min(l)
        } else {
            l
        }
    } else {
        bound
    };
    let gap = if bound.is_finite() {
        // Within HiGHS's tolerances an optimal bound can sit a hair on the wrong side.
        ((bound - objective).abs() / objective.abs().max(1e-12)).max(0.0)
    } else {
        f64::INFINITY
    };
    Ok(Exact {
        selected,
        objective,
        bound,
        gap,
        status: format!("{status:?}"),
        seconds: t0.elapsed().as_secs_f64(),
    })
}

/// An upper bound on the MCLP's newly covered weight by Lagrangian relaxation of the
/// coverage rows `y_k ≤ Σ_{j∈N_k} x_j` (rows already merged by identical coverage): for
/// multipliers `0 ≤ λ_k ≤ W_k` the bound is `Σ (W_k − λ_k) + (sum of the p largest
/// ρ_j = Σ_{k∋j} λ_k)`. Subgradient steps (Polyak, with `lower` the best known objective)
/// run for at most `seconds`. Any λ gives a valid bound; the best seen is returned. It
/// converges towards the LP bound, often within a fraction of a second where the LP
/// itself takes minutes.
pub fn mclp_lagrangian_bound(
    rows: &[(f64, &[usize])],
    m: usize,
    p: usize,
    lower: f64,
    seconds: f64,
) -> f64 {
    let t0 = Instant::now();
    let mut lambda: Vec<f64> = rows
        .iter()
        .map(|(w, n)| w / (n.len().max(1) as f64).max(2.0))
        .collect();
    let mut best = f64::INFINITY;
    let mut mu = 2.0;
    let mut stall = 0;
    let mut rho = vec![0.0f64; m];
    let mut open = vec![false; m];
    let mut order: Vec<usize> = (0..m).collect();
    for _ in 0..20_000 {
        rho.iter_mut().for_each(|r| *r = 0.0);
        let mut base = 0.0;
        for ((w, n), l) in rows.iter().zip(&lambda) {
            base += w - l;
            for j in n.iter() {
                rho[*j] += l;
            }
        }
        let pp = p.min(m);
        order.select_nth_unstable_by(pp.saturating_sub(1).min(m - 1), |a, b| {
            rho[*b].total_cmp(&rho[*a]).then(a.cmp(b))
        });
        open.iter_mut().for_each(|o| *o = false);
        let mut top = 0.0;
        for &j in &order[..pp] {
            open[j] = true;
            top += rho[j];
        }
        let value = base + top;
        if value < best - 1e-9 * best.abs().max(1.0) {
            best = value;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 25 {
                mu /= 2.0;
                stall = 0;
            }
        }
        if best - lower <= 1e-9 * lower.abs().max(1.0) || mu < 1e-6 {
            break;
        }
        if t0.elapsed().as_secs_f64() > seconds {
            break;
        }
        // Subgradient of the bound in λ_k: (times covered by open sites) − 1.
        let mut norm = 0.0;
        let g: Vec<f64> = rows
            .iter()
            .map(|(_, n)| {
                let c = n.iter().filter(|j| open[**j]).count() as f64 - 1.0;
                norm += c * c;
                c
            })
            .collect();
        if norm == 0.0 {
            break;
        }
        let step = mu * (value - lower).max(1e-9) / norm;
        for ((l, gk), (w, _)) in lambda.iter_mut().zip(&g).zip(rows) {
            *l = (*l - step * gk).clamp(0.0, *w);
        }
    }
    best
}
