//! Lagrangian branch-and-bound for the MCLP: bounds from relaxing the coverage rows, so
//! a node costs a few passes over the sparse coverage lists instead of an LP solve.
//!
//! For multipliers `0 ≤ λ_k ≤ w_k` on the rows `y_k ≤ Σ_{j∈N_k} x_j`, the relaxation
//! `Σ_k (w_k − λ_k) + max_{Σx = p} Σ_j ρ_j x_j` with `ρ_j = Σ_{k∋j} λ_k` is solved by taking
//! the `p` largest `ρ_j`; its minimum over `λ` equals the LP bound. Subgradient steps
//! approach it at every node (warm-started from the parent), and the same numbers price
//! each free site in or out exactly (`ρ` swapped at the p-th place), which fixes most sites
//! once the incumbent is close. Branching is on the site whose averaged relaxed value is
//! nearest ½ (opening first, depth first). On city problems this proves optima HiGHS needs
//! tens of seconds for; where the LP itself is loose, the caller falls back to the MILP.

// Rows and sites index several parallel arrays.
#![allow(clippy::needless_range_loop)]

pub use super::Fix;

mod swap;
#[cfg(test)]
mod tests;

pub(super) use swap::swap_search;

/// Merged coverage rows: weight and sites of each, and the rows of each site.
pub struct Rows {
    pub weight: Vec<f64>,
    pub sites: Vec<Vec<u32>>,
    /// For each site, its rows.
    pub of: Vec<Vec<u32>>,
}

impl Rows {
    pub fn new(rows: Vec<(f64, Vec<usize>)>, m: usize) -> Self {
        let mut of = vec![Vec::new(); m];
        let mut weight = Vec::with_capacity(rows.len());
        let mut sites = Vec::with_capacity(rows.len());
        for (k, (w, s)) in rows.into_iter().enumerate() {
            for j in &s {
                of[*j].push(k as u32);
            }
            weight.push(w);
            sites.push(s.into_iter().map(|j| j as u32).collect());
        }
        Self { weight, sites, of }
    }

    /// Weight covered by the open sites.
    pub fn covered(&self, open: &[bool]) -> f64 {
        self.sites
            .iter()
            .zip(&self.weight)
            .filter(|(s, _)| s.iter().any(|j| open[*j as usize]))
            .map(|(_, w)| *w)
            .sum()
    }
}

/// The answer of a branch-and-bound run.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub selected: Vec<usize>,
    /// Covered weight of the selection (rows only).
    pub objective: f64,
    /// Proven upper bound on any selection's covered weight.
    pub bound: f64,
    pub proven: bool,
    pub nodes: usize,
    /// Effort spent, in [`Work`] units.
    pub work: u64,
    /// Sites settled for every selection better than `objective`: the root's fixings,
    /// priced again at the root's multipliers against the final incumbent. A MILP taking
    /// over an unproven tree may fix them (everything they exclude is no better).
    pub fix: Vec<Fix>,
}

struct Node {
    fix: Vec<Fix>,
    lambda: Vec<f64>,
    /// The parent's bound: no selection in this subtree beats it.
    bound: f64,
}

/// What a node's relaxation found.
struct Eval {
    bound: f64,
    /// Sites open in the best relaxed solution (fixed open included).
    top: Vec<usize>,
    /// Relaxed site values averaged over the later iterations, for branching.
    xbar: Vec<f64>,
    /// At the root: relaxed choices met along the way (distinct), starts for local search.
    starts: Vec<Vec<usize>>,
}

/// Effort limits in deterministic units (coverage-list entries visited): the same problem
/// gets the same tree, and so the same answer, on any machine under any load. Wall-clock
/// limits and cancelling go through `stop` as a safety net.
#[derive(Clone, Copy, Debug)]
pub struct Work {
    /// For the root node (its subgradient run and local searches).
    pub root: u64,
    /// For the tree below the root.
    pub tree: u64,
}

impl Work {
    pub const UNLIMITED: Work = Work {
        root: u64::MAX,
        tree: u64::MAX,
    };
}

/// Solves `max covered weight` with exactly `p` open sites, starting from `start` (a
/// feasible selection), until proven or `stop(past_root)` says so (a deadline, a cancel
/// button; polled between nodes and every few subgradient steps, told whether the root is
/// done so a caller can give the root more time than the tree). `integral`: every weight
/// is an integer, so a bound below incumbent + 1 proves the incumbent.
pub fn solve(
    rows: &Rows,
    p: usize,
    start: &[usize],
    lambda0: Option<Vec<f64>>,
    work: Work,
    stop: &dyn Fn(bool) -> bool,
    integral: bool,
) -> Outcome {
    let spent = std::cell::Cell::new(0u64);
    let root_end = std::cell::Cell::new(u64::MAX);
    let over = |past_root: bool| {
        if past_root {
            spent.get() >= root_end.get().saturating_add(work.tree)
        } else {
            spent.get() >= work.root
        }
    };
    let m = rows.of.len();
    let mut best_sel: Vec<usize> = start.to_vec();
    let mut open = vec![false; m];
    for j in start {
        open[*j] = true;
    }
    let mut best = rows.covered(&open);
    // A subtree whose bound is below this cannot hold a better selection.
    let beats = |bound: f64, inc: f64| {
        if integral {
            bound >= inc + 1.0 - 1e-6
        } else {
            bound > inc + 1e-9 * inc.abs().max(1.0)
        }
    };
    let lambda0: Vec<f64> = lambda0.unwrap_or_else(|| {
        rows.weight
            .iter()
            .zip(&rows.sites)
            .map(|(w, s)| w / (s.len() as f64).max(2.0))
            .collect()
    });
    let mut stack = vec![Node {
        fix: vec![Fix::Free; m],
        lambda: lambda0,
        bound: f64::INFINITY,
    }];
    let mut nodes = 0;
    let mut root_bound = f64::INFINITY;
    // The root's fixings and multipliers, to settle more sites once the incumbent is better.
    let mut root: Option<(Vec<Fix>, Vec<f64>)> = None;
    let mut timed_out = false;
    while let Some(mut node) = stack.pop() {
        if !beats(node.bound, best) {
            continue;
        }
        if stop(nodes > 0) || over(nodes > 0) {
            stack.push(node);
            timed_out = true;
            break;
        }
        nodes += 1;
        let past_root = nodes > 1;
        let stop = &|| stop(past_root) || over(past_root);
        // Evaluate, fix what the prices settle, and re-evaluate while fixing changes things.
        let mut ev: Option<Eval> = None;
        for round in 0..5 {
            let iters = if nodes == 1 && round == 0 { 3000 } else { 100 };
            ev = evaluate(
                rows,
                p,
                &node.fix,
                &mut node.lambda,
                best,
                iters,
                &beats,
                stop,
                &spent,
            );
            let Some(e) = &ev else { break };
            // Primal: the relaxed choice, improved by swaps, is a selection.
            if round == 0 {
                for top in std::iter::once(&e.top).chain(&e.starts) {
                    if stop() {
                        break;
                    }
                    let (sel, v) = improve(rows, top, &node.fix, &spent);
                    if v > best {
                        best = v;
                        best_sel = sel;
                    }
                }
            }
            if !beats(e.bound, best)
                || !fix_by_price(rows, p, &mut node.fix, &node.lambda, best, &beats)
            {
                break;
            }
        }
        let Some(ev) = ev else { continue };
        if nodes == 1 {
            root_bound = ev.bound;
            root_end.set(spent.get());
            root = Some((node.fix.clone(), node.lambda.clone()));
        }
        let bound = ev.bound.min(node.bound);
        if !beats(bound, best) {
            continue;
        }
        // Branch on the free site whose averaged value is nearest ½.
        let pick = (0..m).filter(|j| node.fix[*j] == Fix::Free).max_by(|a, b| {
            let fa = ev.xbar[*a].min(1.0 - ev.xbar[*a]);
            let fb = ev.xbar[*b].min(1.0 - ev.xbar[*b]);
            fa.total_cmp(&fb).then(b.cmp(a))
        });
        let Some(j) = pick else {
            // No free site left: the fixings are the node's one selection (evaluate saw
            // exactly p open), and it must be counted — the search may have been stopped
            // before the node's local search, and the node's bound is this very value.
            let sel: Vec<usize> = (0..m).filter(|j| node.fix[*j] == Fix::Open).collect();
            let mut open = vec![false; m];
            sel.iter().for_each(|j| open[*j] = true);
            let v = rows.covered(&open);
            if v > best {
                best = v;
                best_sel = sel;
            }
            continue;
        };
        let mut closed = Node {
            fix: node.fix.clone(),
            lambda: node.lambda.clone(),
            bound,
        };
        closed.fix[j] = Fix::Closed;
        node.fix[j] = Fix::Open;
        node.bound = bound;
        stack.push(closed);
        stack.push(node);
    }
    let open_bound = stack
        .iter()
        .map(|n| n.bound)
        .fold(f64::NEG_INFINITY, f64::max)
        .min(root_bound);
    let proven = !timed_out;
    best_sel.sort_unstable();
    let fix = match root {
        Some((mut fix, lambda)) if !proven => {
            while fix_by_price(rows, p, &mut fix, &lambda, best, &beats) {}
            fix
        }
        _ => vec![Fix::Free; m],
    };
    Outcome {
        fix,
        selected: best_sel,
        objective: best,
        bound: if proven { best } else { open_bound.max(best) },
        proven,
        nodes,
        work: spent.get(),
    }
}

/// Subgradient steps on the node's multipliers (Polyak steps towards the incumbent).
/// `None` when the node is infeasible (too few free sites for `p`). The node's active rows
/// and free sites are first packed into flat arrays (both directions), so each step reads
/// only the pairs that can still change, contiguously.
#[allow(clippy::too_many_arguments)]
fn evaluate(
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

/// Prices each free site in or out at the node's multipliers: opening a site outside the
/// relaxed choice swaps it for the p-th largest `ρ`, closing one inside swaps in the next.
/// Where that bound cannot beat the incumbent the site is fixed. Returns whether any was.
fn fix_by_price(
    rows: &Rows,
    p: usize,
    fix: &mut [Fix],
    lambda: &[f64],
    inc: f64,
    beats: &dyn Fn(f64, f64) -> bool,
) -> bool {
    let m = fix.len();
    let n_open = fix.iter().filter(|f| **f == Fix::Open).count();
    let q = p - n_open;
    let mut constant = 0.0;
    let mut rho = vec![0.0f64; m];
    for k in 0..rows.weight.len() {
        let s = &rows.sites[k];
        if s.iter().any(|j| fix[*j as usize] == Fix::Open) {
            constant += rows.weight[k];
        } else if s.iter().any(|j| fix[*j as usize] == Fix::Free) {
            constant += rows.weight[k] - lambda[k];
            for j in s {
                rho[*j as usize] += lambda[k];
            }
        }
    }
    let mut free: Vec<usize> = (0..m).filter(|j| fix[*j] == Fix::Free).collect();
    if q == 0 || q >= free.len() {
        return false;
    }
    free.sort_by(|a, b| rho[*b].total_cmp(&rho[*a]).then(a.cmp(b)));
    let value: f64 = constant + free[..q].iter().map(|j| rho[*j]).sum::<f64>();
    let (qth, next) = (rho[free[q - 1]], rho[free[q]]);
    let mut changed = false;
    for (r, &j) in free.iter().enumerate() {
        if r < q {
            if !beats(value - rho[j] + next, inc) {
                fix[j] = Fix::Open;
                changed = true;
            }
        } else if !beats(value - qth + rho[j], inc) {
            fix[j] = Fix::Closed;
            changed = true;
        }
    }
    changed
}

/// Best-improvement swaps (Teitz–Bart) on the merged rows from `start`, never touching a
/// fixed site; adds its effort to `spent`. Returns the selection and its covered weight.
fn improve(
    rows: &Rows,
    start: &[usize],
    fix: &[Fix],
    spent: &std::cell::Cell<u64>,
) -> (Vec<usize>, f64) {
    let mut sel = start.to_vec();
    swap_search(rows, &mut sel, &|j| fix[j] == Fix::Free, None, spent);
    let mut open = vec![false; rows.of.len()];
    sel.iter().for_each(|j| open[*j] = true);
    let v = rows.covered(&open);
    (sel, v)
}
