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

/// p-median: greedy by total weighted distance, then best-improvement swaps, using each
/// demand point's nearest and second-nearest open site.
pub(super) fn pmedian(pb: &Problem, deadline: Deadline) -> Solution {
    let p = pb.p.expect("validated");
    let dist = Distances::new(pb);
    let mut quotas = Quotas::new(pb);
    let mut open = vec![false; pb.candidates.len()];
    let mut selected = greedy_pmedian(pb, &dist, p, &mut open, &mut quotas, deadline);
    let greedy_objective = dist.total(&selected);
    let swaps = if deadline.passed() {
        0
    } else {
        interchange(
            pb,
            &dist,
            &mut selected,
            &mut open,
            &mut quotas,
            greedy_objective,
            deadline,
        )
    };
    Solution {
        // From the problem's own definition (the matrix holds walking metres as f32).
        objective: pb.objective(&selected),
        selected,
        greedy_objective,
        swaps,
        stopped: deadline.passed(),
    }
}

/// Completes a selection stopped by the time limit to `p` sites cheaply: the lowest-index
/// candidates still closed (`opened` is told of each). Quota sites were taken first, so
/// the quotas hold.
fn fill(
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

/// Candidate-to-demand metres for the p-median heuristics, and each point's metres to the
/// nearest existing facility. Walking distances (a cover) go into a dense matrix,
/// unreached pairs at the cutoff; straight-line ones are computed on the fly.
struct Distances<'a> {
    pb: &'a Problem,
    dense: Option<Vec<f32>>,
    /// Metres from each demand point to the nearest existing facility (∞ if none).
    ex: Vec<f64>,
}

impl<'a> Distances<'a> {
    fn new(pb: &'a Problem) -> Distances<'a> {
        let (n, m) = (pb.demand.len(), pb.candidates.len());
        let dense: Option<Vec<f32>> = pb.cover.as_ref().map(|cv| {
            let mut v = vec![cv.cutoff as f32; n * m];
            for (j, (s, ms)) in cv.sets.iter().zip(&cv.metres).enumerate() {
                for (i, d) in s.iter().zip(ms) {
                    v[*i as usize * m + j] = d.min(cv.cutoff as f32);
                }
            }
            v
        });
        let ex: Vec<f64> = match &pb.cover {
            Some(cv) => cv.existing_m.iter().map(|e| e.min(cv.cutoff)).collect(),
            None => (0..n)
                .map(|i| {
                    pb.existing
                        .iter()
                        .map(|e| dist(e, &pb.demand[i]))
                        .fold(f64::INFINITY, f64::min)
                })
                .collect(),
        };
        Distances { pb, dense, ex }
    }

    /// Metres from candidate `c` to demand point `i`.
    #[inline]
    fn d(&self, c: usize, i: usize) -> f64 {
        match &self.dense {
            Some(v) => v[i * self.pb.candidates.len() + c] as f64,
            None => dist(&self.pb.candidates[c], &self.pb.demand[i]),
        }
    }

    /// The weighted distance of every point to its nearest open site or existing facility.
    fn total(&self, sel: &[usize]) -> f64 {
        (0..self.pb.demand.len())
            .map(|i| {
                let b = sel.iter().map(|c| self.d(*c, i)).fold(self.ex[i], f64::min);
                self.pb.weight[i] * b
            })
            .sum()
    }
}

/// Greedy adding: quota groups first (each filled with its best sites), then the site
/// that lowers the total most, until p are open.
fn greedy_pmedian(
    pb: &Problem,
    dist: &Distances,
    p: usize,
    open: &mut [bool],
    quotas: &mut Quotas,
    deadline: Deadline,
) -> Vec<usize> {
    let (n, m) = (pb.demand.len(), pb.candidates.len());
    let d = |c: usize, i: usize| dist.d(c, i);
    let mut selected: Vec<usize> = Vec::new();
    let mut cur: Vec<f64> = dist.ex.clone();
    for g in 0..quotas.groups.len() {
        // Higher is better: minus the total weighted distance with `c` open.
        let saving = |c: usize, cur: &[f64]| -> f64 {
            -(0..n)
                .map(|i| pb.weight[i] * cur[i].min(d(c, i)))
                .sum::<f64>()
        };
        while let Some(c) = quotas.best_for(g, open, |c| saving(c, &cur)) {
            open[c] = true;
            quotas.set(c, true);
            selected.push(c);
            for (i, x) in cur.iter_mut().enumerate() {
                *x = x.min(d(c, i));
            }
        }
    }
    'steps: while selected.len() < p {
        let mut best: Option<(f64, usize)> = None;
        for c in 0..m {
            // A step costs m × n distance evaluations: look at the clock every 32
            // candidates; out of time, the rest is filled cheaply.
            if c % 32 == 0 && deadline.passed() {
                fill(&mut selected, open, quotas, p, |_| {});
                break 'steps;
            }
            if open[c] {
                continue;
            }
            let v: f64 = (0..n).map(|i| pb.weight[i] * cur[i].min(d(c, i))).sum();
            if best.is_none_or(|(bv, _)| v < bv) {
                best = Some((v, c));
            }
        }
        let (_, c) = best.expect("p <= candidates");
        open[c] = true;
        quotas.set(c, true);
        selected.push(c);
        for (i, x) in cur.iter_mut().enumerate() {
            *x = x.min(d(c, i));
        }
    }
    selected
}

/// Fast interchange (Whitaker 1983; Resende & Werneck 2003): each pass prices every swap
/// (open site k out, candidate c in) in one sweep over the (candidate, point) pairs, from
/// each point's nearest and second-nearest open site, instead of one sweep per open site.
/// Existing facilities are an alternative nobody can close. Returns the swaps made.
fn interchange(
    pb: &Problem,
    dist: &Distances,
    selected: &mut [usize],
    open: &mut [bool],
    quotas: &mut Quotas,
    mut obj: f64,
    deadline: Deadline,
) -> usize {
    let (n, m) = (pb.demand.len(), pb.candidates.len());
    let d = |c: usize, i: usize| dist.d(c, i);
    let ex = &dist.ex;
    let mut swaps = 0;
    let q = selected.len();
    let (mut d1, mut d2, mut f1) = (vec![0.0f64; n], vec![0.0f64; n], vec![usize::MAX; n]);
    let mut adj = vec![0.0f64; q];
    loop {
        for i in 0..n {
            let (mut a, mut fa, mut b) = (ex[i], usize::MAX, f64::INFINITY);
            for (k, c) in selected.iter().enumerate() {
                let v = d(*c, i);
                if v < a {
                    (b, a, fa) = (a, v, k);
                } else if v < b {
                    b = v;
                }
            }
            (d1[i], d2[i], f1[i]) = (a, b, fa);
        }
        let mut best: Option<(f64, usize, usize)> = None;
        for c in 0..m {
            if open[c] {
                continue;
            }
            // A pass costs m × n distance evaluations: look at the clock every 32 candidates
            // and drop the unfinished pass (the selection stays as it was).
            if c % 32 == 0 && deadline.passed() {
                return swaps;
            }
            // Change of the total if c opens: `common` for every point, plus for the
            // points whose nearest site is k what closing k instead costs them.
            let mut common = 0.0;
            adj.iter_mut().for_each(|x| *x = 0.0);
            for i in 0..n {
                let (w, dc) = (pb.weight[i], d(c, i));
                let gain = w * (d1[i] - dc).max(0.0);
                common -= gain;
                if f1[i] != usize::MAX {
                    adj[f1[i]] += w * (d2[i].min(dc) - d1[i]) + gain;
                }
            }
            for (k, extra) in adj.iter().enumerate() {
                let delta = common + extra;
                if delta < -1e-9 * obj.max(1.0)
                    && best.is_none_or(|(bd, _, _)| delta < bd)
                    && quotas.allows(&[selected[k]], Some(c))
                {
                    best = Some((delta, k, c));
                }
            }
        }
        let Some((_, k, c)) = best else { break };
        // The swap's true effect, recomputed (O(n p), a fraction of the pass): the search
        // stops rather than cycle should rounding ever price a swap as an improvement.
        let before = selected[k];
        selected[k] = c;
        let v = dist.total(selected);
        if v >= obj - 1e-9 * obj.max(1.0) {
            selected[k] = before;
            break;
        }
        open[before] = false;
        quotas.set(before, false);
        open[c] = true;
        quotas.set(c, true);
        obj = v;
        swaps += 1;
    }
    swaps
}
