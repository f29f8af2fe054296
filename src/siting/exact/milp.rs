//! Building the exact MILP: site columns, then the model's coverage or assignment rows.

use highs::{RowProblem, Sense};

use super::super::pmedian_lr::{Fix, Pairs};
use super::super::{Model, Problem};
use super::relax::Handoff;
use super::{add_mclp, MAX_DENSE_PMEDIAN, MAX_RELAXED_PMEDIAN};
use crate::{Error, Result};

/// The MILP being built: site columns first (column j is candidate j), then the model's
/// own columns and rows.
pub(super) struct Milp {
    pub(super) rp: RowProblem,
    pub(super) x: Vec<highs::Col>,
    pub(super) sense: Sense,
    /// Weight already covered by existing facilities (MCLP), outside the model.
    pub(super) constant: f64,
    /// MCLP: merged coverage rows (weight, sites); the HiGHS model's coverage column for
    /// row k is column m + k, and the Lagrangian branch-and-bound works on the same rows.
    pub(super) cover_rows: Vec<(f64, Vec<usize>)>,
    /// Integer weights make every MCLP objective an integer: a bound less than one above
    /// the incumbent already proves it (both the tree and HiGHS use this).
    pub(super) integral: bool,
    /// Nonzeros in the model: what HiGHS's setup and presolve time grows with.
    pub(super) nonzeros: usize,
}

impl Milp {
    pub(super) fn new(pb: &Problem) -> Milp {
        let mut rp = RowProblem::default();
        let x = (0..pb.candidates.len())
            .map(|_| {
                let cost = match pb.model {
                    Model::Lscp | Model::Threshold => 1.0,
                    _ => 0.0,
                };
                rp.add_integer_column(cost, 0..=1)
            })
            .collect();
        Milp {
            rp,
            x,
            sense: if pb.model == Model::Mclp {
                Sense::Maximise
            } else {
                Sense::Minimise
            },
            constant: 0.0,
            cover_rows: Vec::new(),
            // MCLP with integer weights, and site counts (threshold covering).
            integral: (pb.model == Model::Mclp && pb.weight.iter().all(|w| w.fract() == 0.0))
                || pb.model == Model::Threshold,
            nonzeros: 0,
        }
    }

    /// MCLP and LSCP rows: one per set of demand points reached by exactly the same
    /// candidates (weights summed), an exact reduction that shrinks dense city demand
    /// several-fold. Demand an existing facility covers is a constant.
    pub(super) fn add_coverage(&mut self, pb: &Problem) {
        let n = pb.demand.len();
        let r = pb.radius.expect("validated");
        let sets = pb.coverage_sets(r);
        let base = pb.covered_by_existing(r);
        let mut by_demand: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (j, s) in sets.iter().enumerate() {
            for i in s {
                by_demand[*i as usize].push(j);
            }
        }
        let mut rows: std::collections::HashMap<&[usize], f64> = std::collections::HashMap::new();
        let mut order: Vec<&[usize]> = Vec::new();
        for i in 0..n {
            if base[i] {
                self.constant += pb.weight[i];
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
        if pb.model == Model::Threshold {
            // Min Σx: y_k ≤ Σ_{j∈N_k} x_j, Σ w_k y_k ≥ target − what existing sites cover.
            self.cover_rows = order
                .iter()
                .map(|k| (rows[k], k.to_vec()))
                .filter(|(w, _)| *w > 0.0)
                .collect();
            let need = pb.threshold_target().expect("validated") - self.constant;
            let mut total: Vec<(highs::Col, f64)> = Vec::new();
            for (w, sites) in &self.cover_rows {
                let y = self.rp.add_column(0.0, 0.0..=1.0);
                let mut row: Vec<(highs::Col, f64)> = vec![(y, 1.0)];
                row.extend(sites.iter().map(|j| (self.x[*j], -1.0)));
                self.nonzeros += row.len() + 1;
                self.rp.add_row(..=0.0, &row);
                total.push((y, *w));
            }
            // The same hair of tolerance as the check that the share is reachable.
            let slack = 1e-9 * pb.weight.iter().sum::<f64>().max(1.0);
            self.rp.add_row((need - slack).., &total);
        } else if pb.model == Model::Mclp {
            self.cover_rows = order
                .iter()
                .map(|k| (rows[k], k.to_vec()))
                .filter(|(w, _)| *w > 0.0)
                .collect();
            self.nonzeros += self
                .cover_rows
                .iter()
                .map(|(_, s)| s.len() + 1)
                .sum::<usize>();
            add_mclp(
                &mut self.rp,
                &self.x,
                &self.cover_rows,
                pb.p.expect("validated"),
            );
        } else {
            for key in &order {
                self.nonzeros += key.len();
                self.rp
                    .add_row(1.0.., key.iter().map(|j| (self.x[*j], 1.0)));
            }
        }
    }
}

/// The p-median's assignment pairs; refuses one too large to relax (or, with quotas, to
/// give HiGHS) before any work is spent on it.
pub(super) fn pmedian_size(pb: &Problem) -> Result<usize> {
    let (n, m) = (pb.demand.len(), pb.candidates.len());
    let n_pairs: usize = match &pb.cover {
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
    Ok(n_pairs)
}

impl Milp {
    /// p-median assignment columns (one per pair, plus staying with what exists) and rows;
    /// sites the relaxation fixed closed get no columns (their x is fixed in HiGHS).
    pub(super) fn add_assignment(
        &mut self,
        pb: &Problem,
        pairs: &Pairs,
        handoff: Option<&Handoff>,
    ) {
        let (n, m) = (pb.demand.len(), pb.candidates.len());
        let free = vec![Fix::Free; m];
        let fix = handoff.map_or(free.as_slice(), |h| h.fix.as_slice());
        let mut assign: Vec<Vec<(highs::Col, f64)>> = vec![Vec::new(); n];
        for (j, (f, s)) in fix.iter().zip(&pairs.by_site).enumerate() {
            if *f == Fix::Closed {
                continue;
            }
            for (i, c) in s {
                let z = self.rp.add_column(*c, 0.0..=1.0);
                self.nonzeros += 3;
                assign[*i as usize].push((z, 1.0));
                self.rp.add_row(..=0.0, [(z, 1.0), (self.x[j], -1.0)]);
            }
        }
        for (a, stay) in assign.iter_mut().zip(&pairs.stay) {
            if let Some(c) = stay {
                a.push((self.rp.add_column(*c, 0.0..=1.0), 1.0));
            }
            self.rp.add_row(1.0..=1.0, &*a);
        }
        let p = pb.p.expect("validated") as f64;
        self.rp.add_row(p..=p, self.x.iter().map(|c| (*c, 1.0)));
    }

    pub(super) fn add_quotas(&mut self, pb: &Problem) {
        for q in &pb.quotas {
            self.rp.add_row(
                q.at_least as f64..,
                q.sites.iter().map(|j| (self.x[*j], 1.0)),
            );
        }
    }
}
