//! Capacitated coverage with size choice: each candidate may open as one of several modules
//! (80 / 150 places, 30 / 60 / 100 beds) at a cost, within a budget; people are served only
//! within reach and only up to the capacity of the facilities that reach them, existing
//! ones included. The model chooses the sites and their sizes to serve the most people.
//!
//! Served people for fixed sites is a transportation problem (any share of a demand point
//! may go to any facility in reach, up to capacities), solved exactly as an LP; the
//! heuristic picks (site, module) or upgrades greedily by people gained per cost, and the
//! exact model (`exact::solve_sized`) proves the choice:
//! max Σ a_kj, Σ_j a_kj ≤ w_k, Σ_k a_kj ≤ Σ_s size_s z_js (new) or cap_e (existing),
//! Σ_s z_js ≤ 1, Σ cost_s z_js ≤ budget.

use serde::Serialize;

use crate::{Error, Result};

/// One size a site may open as.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Module {
    /// Places or beds.
    pub size: f64,
    /// In the budget's unit (e.g. 万元, or 1 per site).
    pub cost: f64,
}

/// A sized-siting problem: demand rows (points reached by exactly the same sites, merged),
/// candidate and existing facilities' reach, modules and the budget.
#[derive(Clone, Debug)]
pub struct SizedProblem {
    /// People needing a place, per demand row.
    pub weight: Vec<f64>,
    /// Per candidate: the rows it reaches, ascending.
    pub sets: Vec<Vec<u32>>,
    /// Per existing facility: the rows it reaches and its capacity.
    pub existing: Vec<(Vec<u32>, f64)>,
    pub modules: Vec<Module>,
    pub budget: f64,
}

/// Sites opened with their module, and the people served.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Sized {
    /// (candidate, module index), in the order chosen.
    pub open: Vec<(usize, usize)>,
    /// People served by all facilities (the LP's optimum for these sites).
    pub served: f64,
    pub cost: f64,
}

impl SizedProblem {
    /// Checks sizes, costs and budget; the message names the option.
    pub fn validate(&self) -> Result<()> {
        let say = |en: String, zh: String| Err(Error::input(en, zh));
        if self.modules.is_empty() {
            return say(
                "--modules: give at least one size, e.g. 80:1,150:1.6".into(),
                "--modules：至少给出一种规模，例如 80:1,150:1.6".into(),
            );
        }
        for m in &self.modules {
            if !(m.size.is_finite() && m.size > 0.0 && m.cost.is_finite() && m.cost > 0.0) {
                return say(
                    format!(
                        "--modules: size {} at cost {}: both must be positive",
                        m.size, m.cost
                    ),
                    format!("--modules：规模 {} 费用 {}：均须为正数", m.size, m.cost),
                );
            }
        }
        let cheapest = self.modules.iter().map(|m| m.cost).fold(f64::MAX, f64::min);
        if !(self.budget.is_finite() && self.budget >= cheapest) {
            return say(
                format!(
                    "--budget {}: less than the cheapest module ({cheapest}); nothing can open",
                    self.budget
                ),
                format!(
                    "--budget {}：低于最便宜的规模（{cheapest}），无法新建任何设施",
                    self.budget
                ),
            );
        }
        if self.sets.is_empty() {
            return say("no candidate sites".into(), "没有候选点".into());
        }
        if self.weight.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Error::Analysis("demand weights must be 0 or more".into()));
        }
        Ok(())
    }

    /// Per row, the facilities (candidates first, then existing as m + e) that reach it.
    pub(crate) fn reached_by(&self) -> Vec<Vec<usize>> {
        let m = self.sets.len();
        let mut by: Vec<Vec<usize>> = vec![Vec::new(); self.weight.len()];
        for (j, s) in self.sets.iter().enumerate() {
            for k in s {
                by[*k as usize].push(j);
            }
        }
        for (e, (s, _)) in self.existing.iter().enumerate() {
            for k in s {
                by[*k as usize].push(m + e);
            }
        }
        by
    }
}

/// Greedy by people gained per cost: open a site at a module, or upgrade an open one, while
/// the budget allows and anything is gained; then the served people of the choice, exactly.
pub fn greedy(pb: &SizedProblem) -> Result<Sized> {
    pb.validate()?;
    let m = pb.sets.len();
    let by = pb.reached_by();
    // What existing facilities serve first (a greedy fill; the exact LP comes at the end).
    let mut left = pb.weight.clone();
    for (set, cap) in &pb.existing {
        fill(&mut left, set, *cap, &by);
    }
    let mut module: Vec<Option<usize>> = vec![None; m];
    let mut budget = pb.budget;
    let mut open = Vec::new();
    let mut cost = 0.0;
    loop {
        // Best (site, module) by gain / extra cost; ties to the lower site and module.
        let mut best: Option<(usize, usize, f64, f64)> = None;
        for j in 0..m {
            let reachable: f64 = pb.sets[j].iter().map(|k| left[*k as usize]).sum();
            if reachable <= 0.0 {
                continue;
            }
            let (have_size, have_cost) = module[j]
                .map(|s| (pb.modules[s].size, pb.modules[s].cost))
                .unwrap_or((0.0, 0.0));
            for (s, md) in pb.modules.iter().enumerate() {
                let extra = md.cost - have_cost;
                if md.size <= have_size || extra <= 0.0 || extra > budget + 1e-9 {
                    continue;
                }
                let gain = (md.size - have_size).min(reachable);
                let score = gain / extra;
                if best.is_none_or(|b| score > b.2 + 1e-12) {
                    best = Some((j, s, score, extra));
                }
            }
        }
        let Some((j, s, _, extra)) = best else { break };
        let have_size = module[j].map(|x| pb.modules[x].size).unwrap_or(0.0);
        fill(&mut left, &pb.sets[j], pb.modules[s].size - have_size, &by);
        if module[j].is_none() {
            open.push(j);
        }
        module[j] = Some(s);
        budget -= extra;
        cost += extra;
    }
    let open: Vec<(usize, usize)> = open
        .into_iter()
        .map(|j| (j, module[j].expect("opened")))
        .collect();
    let served = super::exact::served(pb, &open)?;
    Ok(Sized { open, served, cost })
}

/// Gives up to `cap` places to the unserved people in `set`, those with the fewest other
/// facilities in reach first (they have nowhere else to go).
fn fill(left: &mut [f64], set: &[u32], cap: f64, by: &[Vec<usize>]) {
    let mut order: Vec<u32> = set.to_vec();
    order.sort_by_key(|k| (by[*k as usize].len(), *k));
    let mut cap = cap;
    for k in order {
        if cap <= 0.0 {
            break;
        }
        let take = left[k as usize].min(cap);
        left[k as usize] -= take;
        cap -= take;
    }
}
