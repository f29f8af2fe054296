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

mod relax;
mod swap;
#[cfg(test)]
mod tests;

use relax::{evaluate, Eval};
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
    let mut inc = Incumbent::of(rows, start.to_vec());
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
        if !beats(node.bound, inc.value) {
            continue;
        }
        if stop(nodes > 0) || over(nodes > 0) {
            stack.push(node);
            timed_out = true;
            break;
        }
        nodes += 1;
        let past_root = nodes > 1;
        let search = Search {
            rows,
            p,
            beats: &beats,
            stop: &|| stop(past_root) || over(past_root),
            spent: &spent,
        };
        let Some(ev) = search.settle(&mut node, &mut inc, nodes == 1) else {
            continue;
        };
        if nodes == 1 {
            root_bound = ev.bound;
            root_end.set(spent.get());
            root = Some((node.fix.clone(), node.lambda.clone()));
        }
        let bound = ev.bound.min(node.bound);
        if !beats(bound, inc.value) {
            continue;
        }
        let Some(j) = branch_site(&node.fix, &ev.xbar) else {
            // No free site left: the fixings are the node's one selection (evaluate saw
            // exactly p open), and it must be counted — the search may have been stopped
            // before the node's local search, and the node's bound is this very value.
            let sel: Vec<usize> = (0..m).filter(|j| node.fix[*j] == Fix::Open).collect();
            let mut open = vec![false; m];
            sel.iter().for_each(|j| open[*j] = true);
            inc.offer(sel, rows.covered(&open));
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
    let Incumbent {
        value: best,
        selected: mut best_sel,
    } = inc;
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

/// The best selection found so far and its covered weight.
struct Incumbent {
    value: f64,
    selected: Vec<usize>,
}

impl Incumbent {
    fn of(rows: &Rows, selected: Vec<usize>) -> Incumbent {
        let mut open = vec![false; rows.of.len()];
        for j in &selected {
            open[*j] = true;
        }
        Incumbent {
            value: rows.covered(&open),
            selected,
        }
    }

    /// Takes `selected` if it covers strictly more.
    fn offer(&mut self, selected: Vec<usize>, value: f64) {
        if value > self.value {
            self.value = value;
            self.selected = selected;
        }
    }
}

/// What one node's work needs: the problem, the pruning test, the stop test and the
/// effort counter.
struct Search<'a> {
    rows: &'a Rows,
    p: usize,
    beats: &'a dyn Fn(f64, f64) -> bool,
    stop: &'a dyn Fn() -> bool,
    spent: &'a std::cell::Cell<u64>,
}

impl Search<'_> {
    /// Evaluates the node, fixes what the prices settle, and re-evaluates while fixing
    /// changes things (at most five rounds); the first round's relaxed choices, improved
    /// by swaps, are offered to the incumbent. `None` when the node is infeasible.
    fn settle(&self, node: &mut Node, inc: &mut Incumbent, is_root: bool) -> Option<Eval> {
        let (rows, p, beats) = (self.rows, self.p, self.beats);
        let mut ev: Option<Eval> = None;
        for round in 0..5 {
            let iters = if is_root && round == 0 { 3000 } else { 100 };
            ev = evaluate(
                rows,
                p,
                &node.fix,
                &mut node.lambda,
                inc.value,
                iters,
                beats,
                self.stop,
                self.spent,
            );
            let Some(e) = &ev else { break };
            // Primal: the relaxed choice, improved by swaps, is a selection.
            if round == 0 {
                for top in std::iter::once(&e.top).chain(&e.starts) {
                    if (self.stop)() {
                        break;
                    }
                    let (sel, v) = improve(rows, top, &node.fix, self.spent);
                    inc.offer(sel, v);
                }
            }
            if !beats(e.bound, inc.value)
                || !fix_by_price(rows, p, &mut node.fix, &node.lambda, inc.value, beats)
            {
                break;
            }
        }
        ev
    }
}

/// Branch on the free site whose averaged value is nearest ½ (`None`: no free site).
fn branch_site(fix: &[Fix], xbar: &[f64]) -> Option<usize> {
    (0..fix.len())
        .filter(|j| fix[*j] == Fix::Free)
        .max_by(|a, b| {
            let fa = xbar[*a].min(1.0 - xbar[*a]);
            let fb = xbar[*b].min(1.0 - xbar[*b]);
            fa.total_cmp(&fb).then(b.cmp(a))
        })
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
    swap_search(
        rows,
        &mut sel,
        &|j| fix[j] == Fix::Free,
        None,
        spent,
        &|| false,
    );
    let mut open = vec![false; rows.of.len()];
    sel.iter().for_each(|j| open[*j] = true);
    let v = rows.covered(&open);
    (sel, v)
}
