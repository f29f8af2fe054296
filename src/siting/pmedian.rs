//! The p-median heuristic: lazy greedy adding, then fast interchange (Whitaker 1983;
//! Resende & Werneck 2003) priced from each demand point's list of nearest candidates.
//!
//! Both steps give the answers of the plain versions (greedy by full re-evaluation, every
//! swap priced against every point) up to ties: the lazy greedy relies on a site's saving
//! only shrinking as others open (the objective is supermodular), and a swap's price only
//! involves, per point, the candidates nearer than its second-nearest open site — which the
//! point's list holds, or else the point is priced against every candidate.

// Point and candidate loops index several parallel arrays.
#![allow(clippy::needless_range_loop)]

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::heuristic::{fill, Quotas};
use super::*;

/// Nearest candidates kept per demand point for straight-line problems. A point whose
/// second-nearest open site lies beyond its list is priced against every candidate, so
/// the list length trades memory for speed, never the answer.
const NEAR: usize = 96;

/// p-median: greedy by total weighted distance, then best-improvement swaps, using each
/// demand point's nearest and second-nearest open site.
pub(super) fn pmedian(pb: &Problem, deadline: Deadline) -> Solution {
    let p = pb.p.expect("validated");
    let dist = Distances::new(pb);
    let mut quotas = Quotas::new(pb);
    let mut open = vec![false; pb.candidates.len()];
    let mut selected = greedy(pb, &dist, p, &mut open, &mut quotas, deadline);
    let greedy_objective = dist.total(&selected);
    let swaps = if deadline.passed() {
        0
    } else {
        let near = Near::new(pb, &dist);
        interchange(
            pb,
            &dist,
            &near,
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
            None => {
                let tree = point_tree(pb.existing.iter().map(|p| Some(Point::from(*p))));
                pb.demand
                    .iter()
                    .map(|d| {
                        tree.nearest_neighbor(d)
                            .map_or(f64::INFINITY, |e| dist(e.geom(), d))
                    })
                    .collect()
            }
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

    /// The total with `c` opened on top of `cur` (each point's metres so far). Summed in
    /// fixed blocks, in parallel, then in block order: the same answer on any thread count.
    fn total_with(&self, c: usize, cur: &[f64]) -> f64 {
        const BLOCK: usize = 4096;
        let blocks: Vec<f64> = cur
            .par_chunks(BLOCK)
            .enumerate()
            .map(|(b, xs)| {
                xs.iter()
                    .enumerate()
                    .map(|(k, x)| {
                        let i = b * BLOCK + k;
                        self.pb.weight[i] * x.min(self.d(c, i))
                    })
                    .sum::<f64>()
            })
            .collect();
        blocks.iter().sum()
    }
}

/// Each demand point's nearest candidates in order of distance (CSR). `complete` says no
/// candidate off a point's list is nearer than its last entry — true for walking
/// distances, whose unlisted candidates all sit at the cutoff.
struct Near {
    start: Vec<usize>,
    cand: Vec<u32>,
    metres: Vec<f64>,
    complete: bool,
}

impl Near {
    fn new(pb: &Problem, dist: &Distances) -> Near {
        let (n, m) = (pb.demand.len(), pb.candidates.len());
        let mut start = Vec::with_capacity(n + 1);
        let (mut cand, mut metres) = (Vec::new(), Vec::new());
        start.push(0);
        match &pb.cover {
            Some(cv) => {
                let mut rows: Vec<Vec<(f64, u32)>> = vec![Vec::new(); n];
                for (j, (s, ms)) in cv.sets.iter().zip(&cv.metres).enumerate() {
                    for (i, d) in s.iter().zip(ms) {
                        if (*d as f64) < cv.cutoff {
                            rows[*i as usize].push((dist.d(j, *i as usize), j as u32));
                        }
                    }
                }
                for mut r in rows {
                    r.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    cand.extend(r.iter().map(|x| x.1));
                    metres.extend(r.iter().map(|x| x.0));
                    start.push(cand.len());
                }
                Near {
                    start,
                    cand,
                    metres,
                    complete: true,
                }
            }
            None => {
                let k = NEAR.min(m);
                let tree = point_tree(pb.candidates.iter().map(|p| Some(Point::from(*p))));
                for (i, d) in pb.demand.iter().enumerate() {
                    for c in tree.nearest_neighbor_iter(d).take(k) {
                        cand.push(c.data);
                        metres.push(dist.d(c.data as usize, i));
                    }
                    start.push(cand.len());
                }
                Near {
                    start,
                    cand,
                    metres,
                    complete: k == m,
                }
            }
        }
    }

    /// Whether point `i`'s list holds every candidate nearer than `d`.
    fn reaches(&self, i: usize, d: f64) -> bool {
        let (a, b) = (self.start[i], self.start[i + 1]);
        self.complete || (b > a && self.metres[b - 1] >= d)
    }
}

/// A candidate in the lazy greedy's queue: its saving when last computed (an upper bound
/// on its saving now), and the step that computed it.
struct Lazy {
    saving: f64,
    c: usize,
    step: usize,
}

impl PartialEq for Lazy {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Lazy {}
impl PartialOrd for Lazy {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Lazy {
    /// Larger saving first, then the lower index (as a full scan would break the tie).
    fn cmp(&self, o: &Self) -> Ordering {
        self.saving.total_cmp(&o.saving).then(o.c.cmp(&self.c))
    }
}

/// Greedy adding: quota groups first (each filled with its best sites), then the site
/// that lowers the total most, until p are open. Once every point has a finite distance,
/// savings are kept in a queue and only the top one is recomputed (a saving never grows
/// as sites open), instead of all m per step.
fn greedy(
    pb: &Problem,
    dist: &Distances,
    p: usize,
    open: &mut [bool],
    quotas: &mut Quotas,
    deadline: Deadline,
) -> Vec<usize> {
    let m = pb.candidates.len();
    let mut selected: Vec<usize> = Vec::new();
    let mut cur: Vec<f64> = dist.ex.clone();
    let take = |c: usize,
                selected: &mut Vec<usize>,
                open: &mut [bool],
                quotas: &mut Quotas,
                cur: &mut [f64]| {
        open[c] = true;
        quotas.set(c, true);
        selected.push(c);
        for (i, x) in cur.iter_mut().enumerate() {
            *x = x.min(dist.d(c, i));
        }
    };
    for g in 0..quotas.groups.len() {
        // Higher is better: minus the total weighted distance with `c` open.
        while let Some(c) = quotas.best_for(g, open, |c| -dist.total_with(c, &cur)) {
            take(c, &mut selected, open, quotas, &mut cur);
        }
    }
    let mut evaluated = 0usize;
    let mut tick = |deadline: &Deadline| {
        evaluated += 1;
        evaluated.is_multiple_of(32) && deadline.passed()
    };
    // While some point has no site at all (infinite distance), savings are infinite and
    // cannot be compared: full scans of the totals, as plain greedy.
    while selected.len() < p && cur.iter().any(|x| !x.is_finite()) {
        let mut best: Option<(f64, usize)> = None;
        for c in 0..m {
            if tick(&deadline) {
                fill(&mut selected, open, quotas, p, |_| {});
                return selected;
            }
            if open[c] {
                continue;
            }
            let v = dist.total_with(c, &cur);
            if best.is_none_or(|(bv, _)| v < bv) {
                best = Some((v, c));
            }
        }
        let (_, c) = best.expect("p <= candidates");
        take(c, &mut selected, open, quotas, &mut cur);
    }
    if selected.len() >= p {
        return selected;
    }
    let mut total: f64 = (0..cur.len()).map(|i| pb.weight[i] * cur[i]).sum();
    let mut queue = BinaryHeap::with_capacity(m);
    for c in 0..m {
        if tick(&deadline) {
            fill(&mut selected, open, quotas, p, |_| {});
            return selected;
        }
        if !open[c] {
            let saving = total - dist.total_with(c, &cur);
            queue.push(Lazy { saving, c, step: 0 });
        }
    }
    let mut step = 0;
    while selected.len() < p {
        let top = queue.pop().expect("p <= candidates");
        if top.step == step {
            take(top.c, &mut selected, open, quotas, &mut cur);
            total -= top.saving;
            step += 1;
            continue;
        }
        if tick(&deadline) {
            fill(&mut selected, open, quotas, p, |_| {});
            return selected;
        }
        let saving = total - dist.total_with(top.c, &cur);
        queue.push(Lazy {
            saving,
            c: top.c,
            step,
        });
    }
    selected
}

/// Fast interchange: each pass prices every swap (open site k out, candidate c in) from
/// each point's nearest and second-nearest open site (d1 at f1, d2):
///
/// Δ(k, c) = L(k) + E(k, c) − G(c), where G(c) = Σ w·(d1 − dc)⁺ is what c gains,
/// L(k) = Σ_{f1 = k} w·(d2 − d1) what closing k loses, and
/// E(k, c) = Σ_{f1 = k, dc < d2} w·(max(dc, d1) − d2) what c wins back of that loss.
///
/// Only candidates nearer than d2 enter G and E, which the point's `Near` list holds.
/// Existing facilities are an alternative nobody can close. Returns the swaps made.
#[allow(clippy::too_many_arguments)]
fn interchange(
    pb: &Problem,
    dist: &Distances,
    near: &Near,
    selected: &mut [usize],
    open: &mut [bool],
    quotas: &mut Quotas,
    mut obj: f64,
    deadline: Deadline,
) -> usize {
    let (n, m) = (pb.demand.len(), pb.candidates.len());
    let ex = &dist.ex;
    let mut swaps = 0;
    let q = selected.len();
    let (mut d1, mut d2, mut f1) = (vec![0.0f64; n], vec![0.0f64; n], vec![usize::MAX; n]);
    let mut gain = vec![0.0f64; m];
    let mut loss = vec![0.0f64; q];
    // E by candidate, then open site: the search below reads it in that order.
    let mut extra = vec![0.0f64; m * q];
    loop {
        // Each point on its own: in parallel, the same answer on any thread count.
        let sel = &*selected;
        (d1.as_mut_slice(), d2.as_mut_slice(), f1.as_mut_slice())
            .into_par_iter()
            .enumerate()
            .for_each(|(i, (d1, d2, f1))| {
                let (mut a, mut fa, mut b) = (ex[i], usize::MAX, f64::INFINITY);
                for (k, c) in sel.iter().enumerate() {
                    let v = dist.d(*c, i);
                    if v < a {
                        (b, a, fa) = (a, v, k);
                    } else if v < b {
                        b = v;
                    }
                }
                (*d1, *d2, *f1) = (a, b, fa);
            });
        // A point served by its only site has nothing to fall back on: closing that site
        // costs an infinite amount, which the sparse sums cannot carry. Price such passes
        // the plain way (one open site and no existing facility, in practice).
        let plain = (0..n).any(|i| f1[i] != usize::MAX && !d2[i].is_finite());
        gain.iter_mut().for_each(|x| *x = 0.0);
        loss.iter_mut().for_each(|x| *x = 0.0);
        extra.iter_mut().for_each(|x| *x = 0.0);
        let mut best: Option<(f64, usize, usize)> = None;
        if plain {
            match plain_pass(
                pb,
                dist,
                selected,
                open,
                quotas,
                obj,
                (&d1, &d2, &f1),
                deadline,
            ) {
                Some(b) => best = b,
                None => return swaps,
            }
        } else {
            for i in 0..n {
                // Every point costs at most one list; a full scan m. Look at the clock
                // every 256 points and drop the unfinished pass.
                if i % 256 == 0 && deadline.passed() {
                    return swaps;
                }
                let (w, a, b, k) = (pb.weight[i], d1[i], d2[i], f1[i]);
                let mut price = |c: usize, dc: f64| {
                    if open[c] || dc >= b {
                        return;
                    }
                    if dc < a {
                        gain[c] += w * (a - dc);
                    }
                    if k != usize::MAX {
                        extra[c * q + k] += w * (dc.max(a) - b);
                    }
                };
                if near.reaches(i, b) {
                    let (s, e) = (near.start[i], near.start[i + 1]);
                    for (c, dc) in near.cand[s..e].iter().zip(&near.metres[s..e]) {
                        if *dc >= b {
                            break;
                        }
                        price(*c as usize, *dc);
                    }
                } else {
                    for c in 0..m {
                        price(c, dist.d(c, i));
                    }
                }
                if k != usize::MAX {
                    loss[k] += w * (b - a);
                }
            }
            for c in 0..m {
                if open[c] {
                    continue;
                }
                for k in 0..q {
                    let delta = loss[k] + extra[c * q + k] - gain[c];
                    if delta < -1e-9 * obj.max(1.0)
                        && best.is_none_or(|(bd, _, _)| delta < bd)
                        && quotas.allows(&[selected[k]], Some(c))
                    {
                        best = Some((delta, k, c));
                    }
                }
            }
        }
        let Some((_, k, c)) = best else { break };
        // The swap's true effect, recomputed (each point's new nearest is c, or else its
        // nearest, or its second-nearest if that was k; summed as `Distances::total`
        // sums): the search stops rather than cycle should rounding ever price a swap as
        // an improvement.
        let v: f64 = (0..n)
            .map(|i| {
                let kept = if f1[i] == k { d2[i] } else { d1[i] };
                pb.weight[i] * kept.min(dist.d(c, i))
            })
            .sum();
        if v >= obj - 1e-9 * obj.max(1.0) {
            break;
        }
        let before = selected[k];
        selected[k] = c;
        open[before] = false;
        quotas.set(before, false);
        open[c] = true;
        quotas.set(c, true);
        obj = v;
        swaps += 1;
    }
    swaps
}

/// One pass priced against every (candidate, point) pair, for the passes the sparse sums
/// cannot price. `None` when the time ran out mid-pass; else the best improving swap.
#[allow(clippy::too_many_arguments)]
fn plain_pass(
    pb: &Problem,
    dist: &Distances,
    selected: &[usize],
    open: &[bool],
    quotas: &Quotas,
    obj: f64,
    (d1, d2, f1): (&[f64], &[f64], &[usize]),
    deadline: Deadline,
) -> Option<Option<(f64, usize, usize)>> {
    let (n, m) = (pb.demand.len(), pb.candidates.len());
    let mut adj = vec![0.0f64; selected.len()];
    let mut best: Option<(f64, usize, usize)> = None;
    for c in 0..m {
        if open[c] {
            continue;
        }
        if c % 32 == 0 && deadline.passed() {
            return None;
        }
        // Change of the total if c opens: `common` for every point, plus for the points
        // whose nearest site is k what closing k instead costs them.
        let mut common = 0.0;
        adj.iter_mut().for_each(|x| *x = 0.0);
        for i in 0..n {
            let (w, dc) = (pb.weight[i], dist.d(c, i));
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
    Some(best)
}
