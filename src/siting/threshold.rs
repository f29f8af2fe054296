//! Threshold covering ("how many stations to reach 90 % of homes within 5 minutes"): the
//! fewest new sites so that at least a share of the demand weight is within reach, existing
//! facilities included. Heuristic: greedy by weight newly covered until the target is met,
//! then drop sites the target does not need (smallest own contribution first) and try
//! 2-for-1 replacements. The exact solver proves it (see `exact`).

// Candidate and demand loops index parallel arrays.
#![allow(clippy::needless_range_loop)]

use super::{Deadline, Problem, Quotas, Solution};
use crate::{Error, Result};

/// Covered weight in reach of existing sites, the most all candidates could add, the
/// total, and the target weight.
#[derive(Clone, Copy, Debug)]
pub struct Reachable {
    pub by_existing: f64,
    pub coverable: f64,
    pub total: f64,
    pub target: f64,
}

impl Problem {
    /// The weight the threshold model must reach: share × total (`None` for other models).
    /// Needs no coverage sets, so solvers that have built theirs do not build them again.
    pub fn threshold_target(&self) -> Option<f64> {
        Some(self.share? * self.weight.iter().sum::<f64>())
    }

    /// The threshold problem's weights (`None` for other models).
    pub fn threshold_weights(&self) -> Option<Reachable> {
        let target = self.threshold_target()?;
        let r = self.radius?;
        let sets = self.coverage_sets(r);
        let base = self.covered_by_existing(r);
        let mut reach = base.clone();
        for s in &sets {
            for i in s {
                reach[*i as usize] = true;
            }
        }
        let total: f64 = self.weight.iter().sum();
        let w = |f: &[bool]| -> f64 {
            f.iter()
                .zip(&self.weight)
                .filter(|(h, _)| **h)
                .map(|(_, w)| *w)
                .sum()
        };
        Some(Reachable {
            by_existing: w(&base),
            coverable: w(&reach),
            total,
            target,
        })
    }

    /// Threshold covering: a share in (0, 1] that the candidates can reach; the message
    /// says what is coverable when it cannot.
    pub(super) fn check_threshold(&self) -> Result<()> {
        let share = self.share.unwrap_or(f64::NAN);
        if !(share.is_finite() && share > 0.0 && share <= 1.0) {
            return Err(Error::input(
                format!("--share {share}: must be more than 0 and at most 1 (0.9 = 90 % of demand within reach)"),
                format!("--share {share}：须大于 0 且不超过 1（0.9 表示 90% 的需求在服务范围内）"),
            ));
        }
        let r = self.threshold_weights().expect("share and radius checked");
        // A hair of tolerance: shares are computed from sums in different orders.
        if r.coverable + 1e-9 * r.total < r.target {
            return Err(Error::input(
                format!(
                    "--share {share}: unreachable; at most {:.2} % of demand is within reach of the existing sites and all {} candidates together ({:.1} of {:.1}): lower --share, add candidates or widen the reach",
                    r.coverable / r.total * 100.0,
                    self.candidates.len(),
                    r.coverable,
                    r.total
                ),
                format!(
                    "--share {share} 无法达到：现有设施与全部 {} 个候选点合计最多覆盖 {:.2}% 的需求：请降低 --share、增加候选点或扩大服务范围",
                    self.candidates.len(),
                    r.coverable / r.total * 100.0
                ),
            ));
        }
        Ok(())
    }
}

/// Greedy until the target is met, then local search; quotas are opened first and kept.
pub(super) fn solve(pb: &Problem, deadline: Deadline) -> Solution {
    let r = pb.radius.expect("validated");
    let sets = pb.coverage_sets(r);
    let base = pb.covered_by_existing(r);
    let target = pb.threshold_target().expect("validated");
    let mut st = State {
        pb,
        sets: &sets,
        count: base.iter().map(|b| *b as u32).collect(),
        open: vec![false; sets.len()],
        selected: Vec::new(),
        covered: base
            .iter()
            .zip(&pb.weight)
            .filter(|(b, _)| **b)
            .map(|(_, w)| *w)
            .sum(),
        quotas: Quotas::new(pb),
    };
    for g in 0..st.quotas.groups.len() {
        while let Some(c) = st.quotas.best_for(g, &st.open, |c| st.fresh(c)) {
            st.add(c);
        }
    }
    // Greedy (ties to the lower index); out of time, it keeps adding without looking far.
    while st.covered + 1e-9 * target.max(1.0) < target {
        let best = (0..sets.len())
            .filter(|c| !st.open[*c])
            .map(|c| (c, st.fresh(c)))
            .filter(|(_, g)| *g > 0.0)
            .fold(None, |acc: Option<(usize, f64)>, (c, g)| match acc {
                Some((_, bg)) if bg >= g => acc,
                _ => Some((c, g)),
            });
        match best {
            Some((c, _)) => st.add(c),
            None => break, // validated as reachable: only rounding can get here
        }
    }
    let greedy = st.selected.len() as f64;
    let mut swaps = 0;
    let mut changed = true;
    while changed && !deadline.passed() {
        changed = st.drop_unneeded(target);
        if let Some((a, b, c)) = st.two_for_one(target, deadline) {
            st.close(a);
            st.close(b);
            st.add(c);
            swaps += 1;
            changed = true;
        }
    }
    Solution {
        objective: st.selected.len() as f64,
        selected: st.selected,
        greedy_objective: greedy,
        swaps,
        stopped: deadline.passed(),
    }
}

struct State<'a> {
    pb: &'a Problem,
    sets: &'a [Vec<u32>],
    /// Open sites (existing ones counted once) reaching each demand point.
    count: Vec<u32>,
    open: Vec<bool>,
    selected: Vec<usize>,
    covered: f64,
    quotas: Quotas,
}

impl State<'_> {
    /// Weight `c` would newly cover.
    fn fresh(&self, c: usize) -> f64 {
        self.sets[c]
            .iter()
            .filter(|i| self.count[**i as usize] == 0)
            .map(|i| self.pb.weight[*i as usize])
            .sum()
    }

    /// Weight only `c` covers among the open sites.
    fn own(&self, c: usize) -> f64 {
        self.sets[c]
            .iter()
            .filter(|i| self.count[**i as usize] == 1)
            .map(|i| self.pb.weight[*i as usize])
            .sum()
    }

    fn add(&mut self, c: usize) {
        self.covered += self.fresh(c);
        self.open[c] = true;
        self.quotas.set(c, true);
        self.selected.push(c);
        for i in &self.sets[c] {
            self.count[*i as usize] += 1;
        }
    }

    fn close(&mut self, c: usize) {
        self.covered -= self.own(c);
        self.open[c] = false;
        self.quotas.set(c, false);
        self.selected.retain(|x| *x != c);
        for i in &self.sets[c] {
            self.count[*i as usize] -= 1;
        }
    }

    fn meets(&self, covered: f64, target: f64) -> bool {
        covered + 1e-9 * target.max(1.0) >= target
    }

    /// Closes sites the target does not need, smallest own contribution first.
    fn drop_unneeded(&mut self, target: f64) -> bool {
        let mut changed = false;
        loop {
            let mut order: Vec<(usize, f64)> =
                self.selected.iter().map(|c| (*c, self.own(*c))).collect();
            order.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
            let Some((c, _)) = order.into_iter().find(|(c, own)| {
                self.meets(self.covered - own, target) && self.quotas.allows(&[*c], None)
            }) else {
                return changed;
            };
            self.close(c);
            changed = true;
        }
    }

    /// Two open sites and one closed candidate that keeps the target met without them.
    fn two_for_one(&mut self, target: f64, deadline: Deadline) -> Option<(usize, usize, usize)> {
        let sel = self.selected.clone();
        for a in 0..sel.len() {
            if deadline.passed() {
                return None;
            }
            for b in a + 1..sel.len() {
                let (sa, sb) = (sel[a], sel[b]);
                let m = self.sets.len();
                // Quotas are judged with both sites still open.
                let allowed: Option<Vec<bool>> = (!self.pb.quotas.is_empty()).then(|| {
                    (0..m)
                        .map(|c| self.quotas.allows(&[sa, sb], Some(c)))
                        .collect()
                });
                self.close(sa);
                self.close(sb);
                let base = self.covered;
                let found = (0..m).find(|c| {
                    !self.open[*c]
                        && *c != sa
                        && *c != sb
                        && allowed.as_ref().is_none_or(|v| v[*c])
                        && self.meets(base + self.fresh(*c), target)
                });
                self.add(sa);
                self.add(sb);
                if let Some(c) = found {
                    return Some((sa, sb, c));
                }
            }
        }
        None
    }
}
