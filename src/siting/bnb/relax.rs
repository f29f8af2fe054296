//! A node's Lagrangian relaxation: subgradient steps on the reduced problem.

// Rows and sites index several parallel arrays.
#![allow(clippy::needless_range_loop)]

use super::{Fix, Rows};

/// What a node's relaxation found.
pub(super) struct Eval {
    pub(super) bound: f64,
    /// Sites open in the best relaxed solution (fixed open included).
    pub(super) top: Vec<usize>,
    /// Relaxed site values averaged over the later iterations, for branching.
    pub(super) xbar: Vec<f64>,
    /// At the root: relaxed choices met along the way (distinct), starts for local search.
    pub(super) starts: Vec<Vec<usize>>,
}

/// Subgradient steps on the node's multipliers (Polyak steps towards the incumbent).
/// `None` when the node is infeasible (too few free sites for `p`). The node's active rows
/// and free sites are first packed into flat arrays (both directions), so each step reads
/// only the pairs that can still change, contiguously.
#[allow(clippy::too_many_arguments)]
pub(super) fn evaluate(
    rows: &Rows,
    p: usize,
    fix: &[Fix],
    lambda: &mut [f64],
    inc: f64,
    iters: usize,
    beats: &dyn Fn(f64, f64) -> bool,
    stop: &dyn Fn() -> bool,
    spent: &std::cell::Cell<u64>,
) -> Option<Eval> {
    let node = Reduced::new(rows, p, fix)?;
    let q = node.q;
    let (a_n, f_n) = (node.active.len(), node.free.len());
    let w: Vec<f64> = node
        .active
        .iter()
        .map(|k| rows.weight[*k as usize])
        .collect();
    let mut lam: Vec<f64> = node.active.iter().map(|k| lambda[*k as usize]).collect();
    let mut rho = vec![0.0f64; f_n];
    let mut order: Vec<u32> = (0..f_n as u32).collect();
    let mut cnt = vec![0u32; a_n];
    let mut best: Option<(f64, Vec<f64>, Vec<u32>)> = None;
    let mut xsum = vec![0.0f64; f_n];
    let mut xn = 0.0f64;
    // The root starts from scratch and needs long steps; children start near their parent.
    let (mut mu, patience) = if iters > 1000 { (2.0, 100) } else { (0.5, 10) };
    let mut stall = 0;
    let mut g = vec![0.0f64; a_n];
    let mut starts: Vec<Vec<u32>> = Vec::new();
    for it in 0..iters {
        spent.set(spent.get() + 2 * node.row_sites.len() as u64 + f_n as u64);
        let value = node.lagrangian(&w, &lam, &mut rho, &mut order);
        if best
            .as_ref()
            .is_none_or(|(b, _, _)| value < *b - 1e-9 * b.abs().max(1.0))
        {
            best = Some((value, lam.clone(), order[..q].to_vec()));
            stall = 0;
        } else {
            stall += 1;
            if stall >= patience {
                mu /= 2.0;
                stall = 0;
            }
        }
        if it >= iters / 2 || it == 0 {
            if it == iters / 2 {
                xsum.iter_mut().for_each(|x| *x = 0.0);
                xn = 0.0;
            }
            for &s in &order[..q] {
                xsum[s as usize] += 1.0;
            }
            xn += 1.0;
        }
        // The root's long run passes many relaxed choices: keep some, every 150 steps, as
        // local-search starts (the Lagrangian heuristic).
        if iters > 1000 && it >= 150 && it % 150 == 0 {
            let mut t = order[..q].to_vec();
            t.sort_unstable();
            if !starts.contains(&t) {
                starts.push(t);
            }
        }
        let bv = best.as_ref().map(|b| b.0).unwrap_or(f64::INFINITY);
        if !beats(bv, inc) || mu < 1e-4 || (it % 16 == 15 && stop()) {
            break;
        }
        let norm = node.subgradient(&order[..q], &w, &lam, &mut cnt, &mut g);
        if norm == 0.0 {
            break;
        }
        let target = if inc.is_finite() { inc } else { 0.0 };
        let step = mu * (value - target).max(1e-6 * value.abs().max(1.0)) / norm;
        for a in 0..a_n {
            if g[a] != 0.0 {
                lam[a] = (lam[a] - step * g[a]).clamp(0.0, w[a]);
            }
        }
    }
    let (bound, lam, top) = best.expect("at least one iteration");
    for (a, k) in node.active.iter().enumerate() {
        lambda[*k as usize] = lam[a];
    }
    let mut xbar = vec![0.0f64; fix.len()];
    for (s, j) in node.free.iter().enumerate() {
        xbar[*j] = xsum[s] / xn.max(1.0);
    }
    Some(Eval {
        bound,
        top: node.sites(&top),
        xbar,
        starts: starts.iter().map(|t| node.sites(t)).collect(),
    })
}

/// A node's reduced problem: the free sites numbered locally, rows covered by a site fixed
/// open folded into a constant, rows with no free site dropped; the rows' free sites and
/// (transposed) each free site's rows, both in compressed form.
struct Reduced {
    /// Sites still to choose among the free ones.
    q: usize,
    free: Vec<usize>,
    fixed_open: Vec<usize>,
    constant: f64,
    /// The rows kept (indices into `Rows`).
    active: Vec<u32>,
    row_start: Vec<u32>,
    row_sites: Vec<u32>,
    site_start: Vec<u32>,
    site_rows: Vec<u32>,
}

impl Reduced {
    /// `None` when the fixings leave no feasible choice of p sites.
    fn new(rows: &Rows, p: usize, fix: &[Fix]) -> Option<Reduced> {
        let m = fix.len();
        let n_open = fix.iter().filter(|f| **f == Fix::Open).count();
        let n_free = fix.iter().filter(|f| **f == Fix::Free).count();
        if n_open > p || n_open + n_free < p {
            return None;
        }
        let free: Vec<usize> = (0..m).filter(|j| fix[*j] == Fix::Free).collect();
        let mut local = vec![u32::MAX; m];
        for (s, j) in free.iter().enumerate() {
            local[*j] = s as u32;
        }
        let fixed_open: Vec<usize> = (0..m).filter(|j| fix[*j] == Fix::Open).collect();
        let mut constant = 0.0;
        let mut active: Vec<u32> = Vec::new();
        let mut row_start: Vec<u32> = vec![0];
        let mut row_sites: Vec<u32> = Vec::new();
        for k in 0..rows.weight.len() {
            let s = &rows.sites[k];
            if s.iter().any(|j| fix[*j as usize] == Fix::Open) {
                constant += rows.weight[k];
                continue;
            }
            let before = row_sites.len();
            row_sites.extend(
                s.iter()
                    .map(|j| local[*j as usize])
                    .filter(|l| *l != u32::MAX),
            );
            if row_sites.len() > before {
                active.push(k as u32);
                row_start.push(row_sites.len() as u32);
            }
        }
        let f_n = free.len();
        let mut site_start = vec![0u32; f_n + 1];
        for s in &row_sites {
            site_start[*s as usize + 1] += 1;
        }
        for s in 0..f_n {
            site_start[s + 1] += site_start[s];
        }
        let mut fill = site_start.clone();
        let mut site_rows = vec![0u32; row_sites.len()];
        for a in 0..active.len() {
            for s in &row_sites[row_start[a] as usize..row_start[a + 1] as usize] {
                site_rows[fill[*s as usize] as usize] = a as u32;
                fill[*s as usize] += 1;
            }
        }
        Some(Reduced {
            q: p - n_open,
            free,
            fixed_open,
            constant,
            active,
            row_start,
            row_sites,
            site_start,
            site_rows,
        })
    }

    /// The Lagrangian value at `lam`: each free site's price `rho` (the multipliers of the
    /// rows it covers), the q dearest first in `order`.
    fn lagrangian(&self, w: &[f64], lam: &[f64], rho: &mut [f64], order: &mut [u32]) -> f64 {
        rho.iter_mut().for_each(|r| *r = 0.0);
        let mut value = self.constant;
        for a in 0..self.active.len() {
            let l = lam[a];
            value += w[a] - l;
            for s in &self.row_sites[self.row_start[a] as usize..self.row_start[a + 1] as usize] {
                rho[*s as usize] += l;
            }
        }
        let q = self.q;
        if q > 0 {
            order.select_nth_unstable_by(q - 1, |x, y| {
                rho[*y as usize].total_cmp(&rho[*x as usize]).then(x.cmp(y))
            });
        }
        for &s in &order[..q] {
            value += rho[s as usize];
        }
        value
    }

    /// The projected subgradient into `g` (∂/∂λ_a = chosen sites covering a − 1, no push
    /// beyond the box [0, w_a]), counted from the chosen sites' rows; returns its squared
    /// norm. `cnt` is scratch, left zeroed.
    fn subgradient(
        &self,
        chosen: &[u32],
        w: &[f64],
        lam: &[f64],
        cnt: &mut [u32],
        g: &mut [f64],
    ) -> f64 {
        for &s in chosen {
            let s = s as usize;
            for a in &self.site_rows[self.site_start[s] as usize..self.site_start[s + 1] as usize] {
                cnt[*a as usize] += 1;
            }
        }
        let mut norm = 0.0;
        for a in 0..self.active.len() {
            let gk = cnt[a] as f64 - 1.0;
            cnt[a] = 0;
            let l = lam[a];
            let gk = if (l <= 0.0 && gk > 0.0) || (l >= w[a] && gk < 0.0) {
                0.0
            } else {
                gk
            };
            g[a] = gk;
            norm += gk * gk;
        }
        norm
    }

    /// Global site numbers of a local choice, the sites fixed open first.
    fn sites(&self, local: &[u32]) -> Vec<usize> {
        self.fixed_open
            .iter()
            .copied()
            .chain(local.iter().map(|s| self.free[*s as usize]))
            .collect()
    }
}
