//! LSCP heuristic: greedy cover, then local search (drop redundant sites, 2-for-1
//! replacements); then a Lagrangian heuristic (Beasley 1990) whose multipliers price the
//! hard-to-cover demand, each iterate repaired into a cover and the better covers polished by
//! the same local search. Greedy alone stalls a few sites above the optimum on city-sized
//! problems; the prices lead it out. Deterministic: no randomness, ties to the lower index.

// Row and column loops index several parallel arrays.
#![allow(clippy::needless_range_loop)]

use super::{Deadline, Problem, Quotas, Solution};

/// Demand points to cover and the sites that reach them.
struct Cover<'a> {
    pb: &'a Problem,
    /// For each candidate, the demand points it reaches.
    sets: Vec<Vec<u32>>,
    /// Demand that must be covered: reachable by a candidate and not by an existing site.
    coverable: Vec<bool>,
    /// For each demand point, the candidates reaching it (ascending), as offsets into
    /// `reach_sites`.
    reach_at: Vec<usize>,
    reach_sites: Vec<u32>,
    /// The time limit every phase checks.
    deadline: Deadline,
}

/// A selection with the coverage counts and quota state that local search updates.
struct State<'a> {
    cv: &'a Cover<'a>,
    selected: Vec<usize>,
    open: Vec<bool>,
    count: Vec<u32>,
    quotas: Quotas,
}

impl Cover<'_> {
    /// The candidates reaching demand point `i`, ascending.
    fn reach(&self, i: usize) -> &[u32] {
        &self.reach_sites[self.reach_at[i]..self.reach_at[i + 1]]
    }
}

impl<'a> State<'a> {
    fn new(cv: &'a Cover<'a>) -> Self {
        Self {
            cv,
            selected: Vec::new(),
            open: vec![false; cv.sets.len()],
            count: vec![0; cv.coverable.len()],
            quotas: Quotas::new(cv.pb),
        }
    }

    fn add(&mut self, c: usize) {
        self.open[c] = true;
        self.quotas.set(c, true);
        self.selected.push(c);
        for i in &self.cv.sets[c] {
            self.count[*i as usize] += 1;
        }
    }

    fn close(&mut self, c: usize) {
        self.open[c] = false;
        self.quotas.set(c, false);
        self.selected.retain(|x| *x != c);
        for i in &self.cv.sets[c] {
            self.count[*i as usize] -= 1;
        }
    }

    /// Coverable demand points `c` would newly cover.
    fn fresh(&self, c: usize) -> usize {
        self.cv.sets[c]
            .iter()
            .filter(|i| self.cv.coverable[**i as usize] && self.count[**i as usize] == 0)
            .count()
    }

    fn redundant(&self, s: usize) -> bool {
        self.cv.sets[s]
            .iter()
            .all(|i| !self.cv.coverable[*i as usize] || self.count[*i as usize] > 1)
    }

    /// Drops redundant sites (latest first) and makes 2-for-1 replacements while any
    /// exists. Returns the number of replacements.
    fn improve(&mut self) -> usize {
        let mut swaps = 0;
        let mut changed = true;
        while changed && !self.cv.deadline.passed() {
            changed = false;
            let mut k = self.selected.len();
            while k > 0 {
                k -= 1;
                let s = self.selected[k];
                if self.redundant(s) && self.quotas.allows(&[s], None) {
                    self.close(s);
                    changed = true;
                }
            }
            if let Some((sa, sb, c)) = self.two_for_one() {
                self.close(sa);
                self.close(sb);
                self.add(c);
                swaps += 1;
                changed = true;
            }
        }
        swaps
    }

    /// Two open sites and one closed candidate that covers everything only they cover:
    /// the first such (a, b, c) in selection order of a, then b, then ascending c.
    ///
    /// A replacement c must cover a's unique points (those no other open site covers), so
    /// it is one of the few candidates reaching a's first unique point; and b must own a
    /// unique point inside c's set (or have none). Pairs far apart are never looked at:
    /// the search is local, not quadratic in the cover times the candidates.
    fn two_for_one(&self) -> Option<(usize, usize, usize)> {
        let (sets, cov) = (&self.cv.sets, &self.cv.coverable);
        let q = self.selected.len();
        let mut pos = vec![usize::MAX; sets.len()];
        for (k, s) in self.selected.iter().enumerate() {
            pos[*s] = k;
        }
        // The open site covering each point covered once, and each site's such points.
        let mut owner = vec![u32::MAX; cov.len()];
        let mut unique: Vec<Vec<u32>> = vec![Vec::new(); q];
        for (k, s) in self.selected.iter().enumerate() {
            for i in &sets[*s] {
                let iu = *i as usize;
                if cov[iu] && self.count[iu] == 1 {
                    owner[iu] = *s as u32;
                    unique[k].push(*i);
                }
            }
        }
        let bare: Vec<usize> = (0..q).filter(|k| unique[*k].is_empty()).collect();
        let mut mark = vec![0u32; cov.len()];
        let mut stamp = 0u32;
        let mut bs: Vec<usize> = Vec::new();
        for a in 0..q {
            // Quadratic at worst: look at the clock for every first site.
            if self.cv.deadline.passed() {
                return None;
            }
            let sa = self.selected[a];
            let Some(first) = unique[a].first() else {
                if let Some(found) = self.two_for_one_scan(a) {
                    return Some(found);
                }
                continue;
            };
            let covers_a = |c: usize| {
                !self.open[c] && unique[a].iter().all(|i| sets[c].binary_search(i).is_ok())
            };
            let mut best: Option<(usize, usize)> = None;
            for c in self.cv.reach(*first as usize) {
                let c = *c as usize;
                if !covers_a(c) {
                    continue;
                }
                stamp += 1;
                for i in &sets[c] {
                    mark[*i as usize] = stamp;
                }
                bs.clear();
                for i in &sets[c] {
                    let o = owner[*i as usize];
                    if o != u32::MAX && o as usize != sa {
                        bs.push(pos[o as usize]);
                    }
                }
                bs.extend(bare.iter().copied());
                bs.retain(|b| *b > a && best.is_none_or(|(bb, _)| *b < bb));
                bs.sort_unstable();
                bs.dedup();
                for &b in &bs {
                    let sb = self.selected[b];
                    let inside = sets[sa].iter().chain(&sets[sb]).all(|i| {
                        let iu = *i as usize;
                        if !cov[iu] || mark[iu] == stamp {
                            return true;
                        }
                        let by = sets[sa].binary_search(i).is_ok() as u32
                            + sets[sb].binary_search(i).is_ok() as u32;
                        self.count[iu] != by
                    });
                    if inside && self.quotas.allows(&[sa, sb], Some(c)) {
                        best = Some((b, c));
                        break;
                    }
                }
            }
            if let Some((b, c)) = best {
                return Some((sa, self.selected[b], c));
            }
        }
        None
    }

    /// `two_for_one` for a first site with no unique point (kept open by a quota): every
    /// later site and every candidate, in order.
    fn two_for_one_scan(&self, a: usize) -> Option<(usize, usize, usize)> {
        let (sets, cov) = (&self.cv.sets, &self.cv.coverable);
        for b in a + 1..self.selected.len() {
            let (sa, sb) = (self.selected[a], self.selected[b]);
            let mut need: Vec<u32> = Vec::new();
            for i in sets[sa].iter().chain(&sets[sb]) {
                let iu = *i as usize;
                if !cov[iu] {
                    continue;
                }
                let by = sets[sa].binary_search(i).is_ok() as u32
                    + sets[sb].binary_search(i).is_ok() as u32;
                if self.count[iu] == by {
                    need.push(*i);
                }
            }
            need.sort_unstable();
            need.dedup();
            for c in 0..sets.len() {
                if self.open[c] || !self.quotas.allows(&[sa, sb], Some(c)) {
                    continue;
                }
                if need.iter().all(|i| sets[c].binary_search(i).is_ok()) {
                    return Some((sa, sb, c));
                }
            }
        }
        None
    }
}

pub(super) fn solve(pb: &Problem, deadline: Deadline) -> Solution {
    let r = pb.radius.expect("validated");
    let sets = pb.coverage_sets(r);
    let n = pb.demand.len();
    let base = pb.covered_by_existing(r);
    let mut reach = vec![false; n];
    for s in &sets {
        for i in s {
            reach[*i as usize] = true;
        }
    }
    let coverable: Vec<bool> = (0..n).map(|i| reach[i] && !base[i]).collect();
    let mut reach_at = vec![0usize; n + 1];
    for s in &sets {
        for i in s {
            reach_at[*i as usize + 1] += 1;
        }
    }
    for i in 0..n {
        reach_at[i + 1] += reach_at[i];
    }
    let mut reach_sites = vec![0u32; reach_at[n]];
    let mut fill = reach_at.clone();
    for (j, s) in sets.iter().enumerate() {
        for i in s {
            reach_sites[fill[*i as usize]] = j as u32;
            fill[*i as usize] += 1;
        }
    }
    let cv = Cover {
        pb,
        sets,
        coverable,
        reach_at,
        reach_sites,
        deadline,
    };
    // Greedy: quota sites first (each the best for its group), then the site covering the
    // most uncovered demand until every coverable point is covered.
    let mut st = State::new(&cv);
    for g in 0..st.quotas.groups.len() {
        while let Some(c) = st.quotas.best_for(g, &st.open, |c| st.fresh(c) as f64) {
            st.add(c);
        }
    }
    loop {
        if deadline.passed() {
            // Out of time: any site reaching each point still uncovered completes the
            // cover (a cover, if not a small one).
            for c in complete_cover(&cv, &st) {
                st.add(c);
            }
            break;
        }
        let mut best: Option<(usize, usize)> = None;
        for c in 0..cv.sets.len() {
            if st.open[c] {
                continue;
            }
            let g = st.fresh(c);
            if g > 0 && best.is_none_or(|(bg, _)| g > bg) {
                best = Some((g, c));
            }
        }
        let Some((_, c)) = best else { break };
        st.add(c);
    }
    let greedy_objective = st.selected.len() as f64;
    let mut swaps = st.improve();
    let mut best = st.selected.clone();
    if let Some((sel, sw)) = lagrangian(&cv, best.len()) {
        swaps += sw;
        best = sel;
    }
    Solution {
        objective: best.len() as f64,
        selected: best,
        greedy_objective,
        swaps,
        stopped: deadline.passed(),
    }
}

/// For each coverable point no open site reaches, the lowest-index candidate reaching it
/// (each added once): completes a cover in one pass when greedy is out of time.
fn complete_cover(cv: &Cover, st: &State) -> Vec<usize> {
    let mut reach: Vec<Option<usize>> = vec![None; cv.coverable.len()];
    for (j, s) in cv.sets.iter().enumerate() {
        for i in s {
            reach[*i as usize].get_or_insert(j);
        }
    }
    let mut covered: Vec<bool> = st.count.iter().map(|c| *c > 0).collect();
    let mut add = Vec::new();
    for i in 0..cv.coverable.len() {
        if !cv.coverable[i] || covered[i] {
            continue;
        }
        let j = reach[i].expect("coverable points have a site");
        add.push(j);
        for k in &cv.sets[j] {
            covered[*k as usize] = true;
        }
    }
    add
}

/// Beasley's Lagrangian heuristic for set covering: multipliers `λ` on the coverage rows
/// (demand points with identical reach merged), subgradient steps towards the Lagrangian
/// lower bound, and every iterate's priced solution (sites with negative reduced cost)
/// repaired into a cover and stripped of redundant sites. Returns a smaller cover than
/// `upper` (after local search) if it finds one, with its replacement count.
fn lagrangian(cv: &Cover, upper: usize) -> Option<(Vec<usize>, usize)> {
    let m = cv.sets.len();
    // Rows: distinct reach sets of coverable demand.
    let mut by_demand: Vec<Vec<u32>> = vec![Vec::new(); cv.coverable.len()];
    for (j, s) in cv.sets.iter().enumerate() {
        for i in s {
            if cv.coverable[*i as usize] {
                by_demand[*i as usize].push(j as u32);
            }
        }
    }
    let mut rows: Vec<Vec<u32>> = by_demand.into_iter().filter(|r| !r.is_empty()).collect();
    rows.sort_unstable();
    rows.dedup();
    if rows.is_empty() {
        return None;
    }
    let in_quota: Vec<bool> = {
        let mut q = vec![false; m];
        for quota in &cv.pb.quotas {
            for j in &quota.sites {
                q[*j] = true;
            }
        }
        q
    };
    let (rows, cols) = reduce(rows, m, &in_quota);
    let nr = rows.len();
    // λ_k starts at the cheapest cost per row among the sites covering k.
    let mut lambda: Vec<f64> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|j| 1.0 / cols[*j as usize].len() as f64)
                .fold(f64::INFINITY, f64::min)
        })
        .collect();
    let mut ub = upper;
    let mut found: Option<(Vec<usize>, usize)> = None;
    let mut lb = f64::NEG_INFINITY;
    let mut f = 2.0;
    let mut stall = 0;
    let mut cost = vec![0.0f64; m];
    let mut g = vec![0.0f64; nr];
    for _ in 0..2_000 {
        if cv.deadline.passed() {
            break;
        }
        // Reduced costs C_j = 1 − Σ_{k∈j} λ_k; the relaxation opens every C_j < 0.
        for j in 0..m {
            cost[j] = 1.0 - cols[j].iter().map(|k| lambda[*k as usize]).sum::<f64>();
        }
        let z: f64 = lambda.iter().sum::<f64>() + cost.iter().map(|c| c.min(0.0)).sum::<f64>();
        if z > lb + 1e-9 {
            lb = z;
            stall = 0;
        } else {
            stall += 1;
            if stall >= 20 {
                f /= 2.0;
                stall = 0;
            }
        }
        if (lb - 1e-6).ceil() as usize >= ub || f < 0.005 {
            break;
        }
        // Repair the priced solution into a cover; keep it if it beats the best.
        let sel = repair(cv, &rows, &cols, &cost);
        if sel.len() < ub {
            let mut st = State::new(cv);
            for c in &sel {
                st.add(*c);
            }
            let sw = st.improve();
            if st.selected.len() < ub {
                ub = st.selected.len();
                found = Some((st.selected, sw));
            }
        }
        // Subgradient: G_k = 1 − (open sites covering k); no push below λ = 0.
        let mut norm = 0.0;
        for k in 0..nr {
            let c = rows[k].iter().filter(|j| cost[**j as usize] < 0.0).count() as f64;
            g[k] = 1.0 - c;
            if lambda[k] <= 0.0 && g[k] < 0.0 {
                g[k] = 0.0;
            }
            norm += g[k] * g[k];
        }
        if norm == 0.0 {
            break;
        }
        let step = f * (1.05 * ub as f64 - lb) / norm;
        for k in 0..nr {
            lambda[k] = (lambda[k] + step * g[k]).clamp(0.0, 1.0);
        }
    }
    found
}

/// A cover from reduced costs: the sites priced below zero, quota sites by lowest reduced
/// cost, the cheapest site for each row still uncovered, then redundant sites dropped
/// (highest reduced cost first) while quotas stay met.
fn repair(cv: &Cover, rows: &[Vec<u32>], cols: &[Vec<u32>], cost: &[f64]) -> Vec<usize> {
    let m = cols.len();
    let mut open: Vec<bool> = cost.iter().map(|c| *c < 0.0).collect();
    let mut quotas = Quotas::new(cv.pb);
    for j in 0..m {
        if open[j] {
            quotas.set(j, true);
        }
    }
    for g in 0..quotas.groups.len() {
        while let Some(c) = quotas.best_for(g, &open, |c| -cost[c]) {
            open[c] = true;
            quotas.set(c, true);
        }
    }
    let mut count = vec![0u32; rows.len()];
    for j in 0..m {
        if open[j] {
            for k in &cols[j] {
                count[*k as usize] += 1;
            }
        }
    }
    for k in 0..rows.len() {
        if count[k] > 0 {
            continue;
        }
        let j = rows[k]
            .iter()
            .map(|j| *j as usize)
            .min_by(|a, b| cost[*a].total_cmp(&cost[*b]).then(a.cmp(b)))
            .expect("rows are non-empty");
        open[j] = true;
        quotas.set(j, true);
        for r in &cols[j] {
            count[*r as usize] += 1;
        }
    }
    let mut sel: Vec<usize> = (0..m).filter(|j| open[*j]).collect();
    sel.sort_by(|a, b| cost[*b].total_cmp(&cost[*a]).then(b.cmp(a)));
    sel.retain(|&j| {
        let drop = cols[j].iter().all(|k| count[*k as usize] > 1) && quotas.allows(&[j], None);
        if drop {
            quotas.set(j, false);
            for k in &cols[j] {
                count[*k as usize] -= 1;
            }
        }
        !drop
    });
    sel
}

/// Exact set-cover reductions: a row whose sites include all of another row's is covered
/// whenever that one is (dropped); a site whose rows are all reached by another site is
/// never needed (dropped unless a quota names it; equal sites keep the lower index). City
/// problems shrink several-fold (city_lscp: 2,422 distinct rows to 373, 275 sites to 162),
/// which is what lets the multipliers converge.
fn reduce(rows: Vec<Vec<u32>>, m: usize, in_quota: &[bool]) -> (Vec<Vec<u32>>, Vec<Vec<u32>>) {
    let subset = |a: &[u32], b: &[u32]| {
        let mut it = b.iter();
        a.iter().all(|x| it.by_ref().any(|y| y == x))
    };
    let index = |rows: &[Vec<u32>]| {
        let mut cols: Vec<Vec<u32>> = vec![Vec::new(); m];
        for (k, r) in rows.iter().enumerate() {
            for j in r {
                cols[*j as usize].push(k as u32);
            }
        }
        cols
    };
    // Rows: keep those with no strict subset among the others (rows are distinct).
    let cols = index(&rows);
    let keep: Vec<bool> = rows
        .iter()
        .map(|b| {
            // A subset row shares b's first site.
            !cols[b[0] as usize].iter().any(|&a| {
                let a = &rows[a as usize];
                a.len() < b.len() && subset(a, b)
            })
        })
        .collect();
    let rows: Vec<Vec<u32>> = rows
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| *k)
        .map(|(r, _)| r)
        .collect();
    // Sites: drop one whose rows another site covers too.
    let cols = index(&rows);
    let mut alive: Vec<bool> = cols.iter().map(|c| !c.is_empty()).collect();
    for j in 0..m {
        if !alive[j] || in_quota[j] {
            continue;
        }
        let cj = &cols[j];
        // Any dominating site covers j's first row.
        let dominated = rows[cj[0] as usize].iter().any(|&k| {
            let k = k as usize;
            k != j
                && alive[k]
                && (cols[k].len() > cj.len() || (cols[k].len() == cj.len() && k < j))
                && subset(cj, &cols[k])
        });
        if dominated {
            alive[j] = false;
        }
    }
    let rows: Vec<Vec<u32>> = rows
        .into_iter()
        .map(|r| r.into_iter().filter(|j| alive[*j as usize]).collect())
        .collect();
    let cols = index(&rows);
    (rows, cols)
}
