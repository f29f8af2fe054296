//! The heuristics every model starts from: greedy then vertex substitution for the MCLP
//! (quotas kept) and the p-median.

use super::*;

/// Open counts of the policy quota groups, so swaps never break a quota.
pub(super) struct Quotas {
    /// Groups each candidate belongs to.
    pub(super) of: Vec<Vec<u32>>,
    pub(super) open: Vec<u32>,
    pub(super) groups: Vec<Vec<usize>>,
    pub(super) need: Vec<u32>,
}

impl Quotas {
    pub(super) fn new(pb: &Problem) -> Self {
        let mut of = vec![Vec::new(); pb.candidates.len()];
        for (g, q) in pb.quotas.iter().enumerate() {
            for j in &q.sites {
                of[*j].push(g as u32);
            }
        }
        Self {
            of,
            open: vec![0; pb.quotas.len()],
            groups: pb.quotas.iter().map(|q| q.sites.clone()).collect(),
            need: pb.quotas.iter().map(|q| q.at_least).collect(),
        }
    }
    pub(super) fn set(&mut self, c: usize, open: bool) {
        for g in &self.of[c] {
            if open {
                self.open[*g as usize] += 1;
            } else {
                self.open[*g as usize] -= 1;
            }
        }
    }
    /// Whether closing `out` and opening `inn` (if any) keeps every quota met.
    pub(super) fn allows(&self, out: &[usize], inn: Option<usize>) -> bool {
        let mut need: Vec<(u32, u32)> = Vec::new();
        for s in out {
            for g in &self.of[*s] {
                match need.iter_mut().find(|(x, _)| x == g) {
                    Some(e) => e.1 += 1,
                    None => need.push((*g, 1)),
                }
            }
        }
        need.iter().all(|(g, lost)| {
            let gain = inn.is_some_and(|c| self.of[c].contains(g)) as u32;
            self.open[*g as usize] + gain >= self.need[*g as usize] + *lost
        })
    }
    /// For an unmet quota `g`, its closed candidate with the highest `score` (ties: lower
    /// index); `None` when the quota is already met.
    pub(super) fn best_for(
        &self,
        g: usize,
        open: &[bool],
        score: impl Fn(usize) -> f64,
    ) -> Option<usize> {
        if self.open[g] >= self.need[g] {
            return None;
        }
        let mut best: Option<(f64, usize)> = None;
        for &c in &self.groups[g] {
            if open[c] {
                continue;
            }
            let v = score(c);
            if best.is_none_or(|(bv, bc)| v > bv || (v == bv && c < bc)) {
                best = Some((v, c));
            }
        }
        best.map(|(_, c)| c)
    }
}

/// MCLP: greedy by marginal covered weight, then best-improvement swaps.
pub(super) fn mclp(pb: &Problem, deadline: Deadline) -> Solution {
    let r = pb.radius.expect("validated");
    let p = pb.p.expect("validated");
    let sets = pb.coverage_sets(r);
    let n = pb.demand.len();
    // count[i] = open facilities covering i; existing coverage counts as "always".
    let base = pb.covered_by_existing(r);
    let mut count: Vec<u32> = base
        .iter()
        .map(|b| if *b { 1_000_000 } else { 0 })
        .collect();
    let gain = |count: &[u32], c: usize| -> f64 {
        sets[c]
            .iter()
            .filter(|i| count[**i as usize] == 0)
            .map(|i| pb.weight[*i as usize])
            .sum()
    };
    let mut open = vec![false; pb.candidates.len()];
    let mut quotas = Quotas::new(pb);
    // Quotas first, each taking its best site given the ones already taken.
    let mut selected = Vec::new();
    for g in 0..quotas.groups.len() {
        while let Some(c) = quotas.best_for(g, &open, |c| gain(&count, c)) {
            open[c] = true;
            quotas.set(c, true);
            selected.push(c);
            for i in &sets[c] {
                count[*i as usize] += 1;
            }
        }
    }
    let mut stopped = false;
    while selected.len() < p {
        if deadline.passed() {
            stopped = true;
            fill(&mut selected, &mut open, &mut quotas, p, |c| {
                for i in &sets[c] {
                    count[*i as usize] += 1;
                }
            });
            break;
        }
        let mut best: Option<(f64, usize)> = None;
        for c in 0..pb.candidates.len() {
            if open[c] {
                continue;
            }
            let g = gain(&count, c);
            if best.is_none_or(|(bg, _)| g > bg) {
                best = Some((g, c));
            }
        }
        let (_, c) = best.expect("p <= candidates");
        open[c] = true;
        quotas.set(c, true);
        selected.push(c);
        for i in &sets[c] {
            count[*i as usize] += 1;
        }
    }
    let covered =
        |count: &[u32]| -> f64 { (0..n).filter(|i| count[*i] > 0).map(|i| pb.weight[i]).sum() };
    let greedy_objective = covered(&count);
    // Vertex substitution on the demand not yet covered by existing facilities, a row
    // each: the swap search the branch-and-bound uses, here keeping the quotas.
    let mut reach: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (j, s) in sets.iter().enumerate() {
        for i in s {
            reach[*i as usize].push(j);
        }
    }
    let rows = bnb::Rows::new(
        (0..n)
            .filter(|i| !base[*i])
            .map(|i| (pb.weight[i], std::mem::take(&mut reach[i])))
            .collect(),
        pb.candidates.len(),
    );
    let any_quota = !quotas.groups.is_empty();
    let swaps = if stopped {
        0
    } else {
        bnb::swap_search(
            &rows,
            &mut selected,
            &|_| true,
            any_quota.then_some(&mut quotas),
            &std::cell::Cell::new(0),
            &|| deadline.passed(),
        )
    };
    let stopped = stopped || deadline.passed();
    let mut count: Vec<u32> = base.iter().map(|b| *b as u32).collect();
    for c in &selected {
        for i in &sets[*c] {
            count[*i as usize] += 1;
        }
    }
    Solution {
        objective: covered(&count),
        selected,
        greedy_objective,
        swaps,
        stopped,
    }
}

/// Completes a selection stopped by the time limit to `p` sites cheaply: the lowest-index
/// candidates still closed (`opened` is told of each). Quota sites were taken first, so
/// the quotas hold.
pub(super) fn fill(
    selected: &mut Vec<usize>,
    open: &mut [bool],
    quotas: &mut Quotas,
    p: usize,
    mut opened: impl FnMut(usize),
) {
    let mut c = 0;
    while selected.len() < p && c < open.len() {
        if !open[c] {
            open[c] = true;
            quotas.set(c, true);
            selected.push(c);
            opened(c);
        }
        c += 1;
    }
}
