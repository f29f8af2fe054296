//! Lagrangian relaxation of the p-median (Beasley 1993): the assignment constraints
//! Σⱼ zᵢⱼ = 1 are priced with multipliers λᵢ, leaving a problem solved by sorting — open
//! the p sites whose priced savings ρⱼ = Σᵢ min(0, cᵢⱼ − λᵢ) are largest. Each step costs
//! one pass over the assignment pairs, and its bound comes near the LP bound (tight for most
//! p-medians) within a few hundred steps. The bound also fixes sites: one whose opening
//! (or closing) alone lifts the bound to the incumbent is closed (or open) in every better
//! selection. If every site is settled the incumbent is proven; otherwise the MILP only
//! sees the sites still free.

pub use super::Fix;

/// The p-median as assignment pairs, costs already weighted (wᵢ · dᵢⱼ).
pub struct Pairs {
    /// For each site, the demand points it may serve and their costs.
    pub by_site: Vec<Vec<(u32, f64)>>,
    /// For each demand point, the cost of staying with what exists (the nearest existing
    /// facility or the search cutoff), if it may; `None` means it must be assigned.
    pub stay: Vec<Option<f64>>,
}

/// The relaxation's answer.
#[derive(Debug)]
pub struct Root {
    /// A lower bound on every selection of p sites (already the incumbent's value when
    /// the fixings leave nothing better).
    pub bound: f64,
    /// Sites settled for every selection strictly better than the incumbent.
    pub fix: Vec<Fix>,
    /// The incumbent, possibly improved by the relaxation's own choices.
    pub selected: Vec<usize>,
    pub objective: f64,
    /// Proven optimal within `rel_tol`.
    pub proven: bool,
    pub steps: usize,
    /// Pair visits spent (deterministic work units).
    pub work: u64,
}

impl Pairs {
    /// Each demand point's cost under a selection: its cheapest open site or its stay cost
    /// (`INFINITY` if it has neither).
    pub fn assigned(&self, selected: &[usize]) -> Vec<f64> {
        let mut best: Vec<f64> = self
            .stay
            .iter()
            .map(|s| s.unwrap_or(f64::INFINITY))
            .collect();
        for j in selected {
            for (i, c) in &self.by_site[*j] {
                let b = &mut best[*i as usize];
                if *c < *b {
                    *b = *c;
                }
            }
        }
        best
    }

    /// The total cost of a selection.
    pub fn cost(&self, selected: &[usize]) -> f64 {
        self.assigned(selected).iter().sum()
    }
}

/// Subgradient optimisation of the relaxation from the incumbent `start`, with site
/// fixing, until the bound proves the incumbent (within `rel_tol`), the step size has
/// shrunk to nothing, `work` pair visits are spent, or `stop()` says so.
pub fn root(
    pairs: &Pairs,
    p: usize,
    start: &[usize],
    rel_tol: f64,
    work: u64,
    stop: &dyn Fn() -> bool,
) -> Root {
    let m = pairs.by_site.len();
    let n = pairs.stay.len();
    let nnz: u64 = pairs.by_site.iter().map(|s| s.len() as u64).sum::<u64>() + n as u64;
    let mut selected = start.to_vec();
    let start_costs = pairs.assigned(&selected);
    let mut ub: f64 = start_costs.iter().sum();
    let mut spent = nnz;
    // λᵢ starts at the incumbent's cost of i: then L = UB − (the p largest single-site
    // savings), a bound from the first step.
    // Any multipliers give a valid bound; a point nothing serves gets 0, not ∞.
    let mut lambda: Vec<f64> = (start_costs.into_iter())
        .map(|b| if b.is_finite() { b } else { 0.0 })
        .collect();
    let mut fix = vec![Fix::Free; m];
    let mut best_bound = f64::NEG_INFINITY;
    let mut mu = 2.0;
    let mut since_better = 0;
    let mut steps = 0;
    let mut rho = vec![0.0; m];
    let mut g = vec![0.0; n];
    let mut order: Vec<usize> = Vec::with_capacity(m);
    let done = |bound: f64, ub: f64| bound >= ub - rel_tol * ub.abs().max(1.0);
    while spent < work && !stop() {
        steps += 1;
        let constant = prices(pairs, &lambda, &fix, &mut rho);
        spent += nnz;
        // The open sites, then the cheapest free ones (ties to the lower index).
        let n_open = fix.iter().filter(|f| **f == Fix::Open).count();
        order.clear();
        order.extend((0..m).filter(|j| fix[*j] == Fix::Free));
        order.sort_by(|a, b| rho[*a].total_cmp(&rho[*b]).then(a.cmp(b)));
        let k = p.saturating_sub(n_open).min(order.len());
        let chosen: Vec<usize> = (0..m)
            .filter(|j| fix[*j] == Fix::Open)
            .chain(order[..k].iter().copied())
            .collect();
        let bound = constant + chosen.iter().map(|j| rho[*j]).sum::<f64>();
        if best_bound == f64::NEG_INFINITY || bound > best_bound + 1e-12 * best_bound.abs() {
            best_bound = bound;
            since_better = 0;
        } else {
            since_better += 1;
        }
        // The relaxed choice is a selection: keep it if better.
        if chosen.len() == p && steps % 10 == 1 {
            let v = pairs.cost(&chosen);
            spent += nnz;
            if v < ub {
                ub = v;
                selected = chosen.clone();
            }
        }
        if done(best_bound, ub) {
            break;
        }
        let target = ub - rel_tol * ub.abs().max(1.0);
        fix_by_price(&order, k, &rho, bound, target, &mut fix);
        if !fix.contains(&Fix::Free) {
            break;
        }
        subgradient(pairs, &lambda, &chosen, &mut g);
        spent += nnz;
        let norm: f64 = g.iter().map(|x| x * x).sum();
        if norm == 0.0 {
            // The relaxed choice assigns every point exactly once: it is optimal.
            break;
        }
        if since_better >= 30 {
            mu /= 2.0;
            since_better = 0;
            if mu < 1e-6 {
                break;
            }
        }
        let t = mu * (ub - bound).max(1e-9 * ub.abs()) / norm;
        for i in 0..n {
            lambda[i] = (lambda[i] + t * g[i]).max(0.0);
        }
    }
    // Fixings hold for selections better than the incumbent: with none free, the only
    // candidate left is the open sites themselves (if they are p).
    let settled = !fix.contains(&Fix::Free);
    if settled {
        let open: Vec<usize> = (0..m).filter(|j| fix[*j] == Fix::Open).collect();
        if open.len() == p {
            let v = pairs.cost(&open);
            spent += nnz;
            if v < ub {
                ub = v;
                selected = open;
            }
        }
    }
    let proven = settled || done(best_bound, ub);
    Root {
        bound: if proven { ub } else { best_bound.min(ub) },
        fix,
        selected,
        objective: ub,
        proven,
        steps,
        work: spent,
    }
}

/// The site prices ρⱼ = Σᵢ min(0, cᵢⱼ − λᵢ) for the sites not closed (0 for closed ones),
/// and the relaxation's constant Σ λᵢ + Σ min(0, sᵢ − λᵢ).
fn prices(pairs: &Pairs, lambda: &[f64], fix: &[Fix], rho: &mut [f64]) -> f64 {
    let (m, n) = (pairs.by_site.len(), pairs.stay.len());
    let mut constant = 0.0;
    for i in 0..n {
        let l = lambda[i];
        constant += l;
        if let Some(s) = pairs.stay[i] {
            constant += (s - l).min(0.0);
        }
    }
    for j in 0..m {
        rho[j] = if fix[j] == Fix::Closed {
            0.0
        } else {
            pairs.by_site[j]
                .iter()
                .map(|(i, c)| (c - lambda[*i as usize]).min(0.0))
                .sum()
        };
    }
    constant
}

/// Fixing: forcing a free site in (out) swaps it with the last chosen (first unchosen)
/// free site; if that alone reaches `target` (the incumbent, less the tolerance), no
/// better selection has it open (closed). `order` holds the free sites cheapest first,
/// the first `k` chosen.
fn fix_by_price(order: &[usize], k: usize, rho: &[f64], bound: f64, target: f64, fix: &mut [Fix]) {
    let last = (k > 0).then(|| rho[order[k - 1]]);
    let next = order.get(k).map(|j| rho[*j]);
    for (pos, &j) in order.iter().enumerate() {
        if pos >= k {
            let forced = last.map_or(f64::INFINITY, |l| bound + rho[j] - l);
            if forced >= target {
                fix[j] = Fix::Closed;
            }
        } else {
            let forced = next.map_or(f64::INFINITY, |nx| bound - rho[j] + nx);
            if forced >= target {
                fix[j] = Fix::Open;
            }
        }
    }
}

/// The subgradient of the relaxed assignment rows into `g`: 1 − (assignments made for i)
/// under the chosen sites.
fn subgradient(pairs: &Pairs, lambda: &[f64], chosen: &[usize], g: &mut [f64]) {
    let n = pairs.stay.len();
    for i in 0..n {
        g[i] = 1.0 - pairs.stay[i].map_or(0.0, |s| if s < lambda[i] { 1.0 } else { 0.0 });
    }
    for j in chosen {
        for (i, c) in &pairs.by_site[*j] {
            if *c < lambda[*i as usize] {
                g[*i as usize] -= 1.0;
            }
        }
    }
}
