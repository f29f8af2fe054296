//! The MCLP swap search (fast interchange), shared by the heuristic and the tree.

use super::*;

/// Best-improvement swaps on `rows` from `sel` (changed in place) while one gains: only
/// sites `free` says may move are closed or opened, and with `quotas` only swaps that keep
/// every quota (their counts follow the swaps). Returns the number of swaps; adds its
/// effort to `spent`; stops between passes once `stop` says so. Shared by the MCLP heuristic and the branch-and-bound.
///
/// Each pass prices every swap at once (the fast interchange): opening `c` gains the rows
/// nobody covers, closing `s` loses the rows only `s` covers, and `c` wins back those of
/// them it covers too — one sweep over the coverage lists instead of one per open site.
pub(in crate::siting) fn swap_search(
    rows: &Rows,
    sel: &mut [usize],
    free: &dyn Fn(usize) -> bool,
    mut quotas: Option<&mut super::super::Quotas>,
    spent: &std::cell::Cell<u64>,
    stop: &dyn Fn() -> bool,
) -> usize {
    let nnz: u64 = rows.of.iter().map(|r| r.len() as u64).sum();
    let m = rows.of.len();
    let n_rows = rows.weight.len();
    let mut open = vec![false; m];
    // Per row: how many open sites cover it, and the sum of their indices (the one site,
    // when there is one).
    let mut count = vec![0u32; n_rows];
    let mut who = vec![0usize; n_rows];
    let mut slot = vec![usize::MAX; m];
    for (a, j) in sel.iter().enumerate() {
        open[*j] = true;
        slot[*j] = a;
        for k in &rows.of[*j] {
            count[*k as usize] += 1;
            who[*k as usize] += *j;
        }
    }
    let mut loss = vec![0.0f64; sel.len()];
    let mut extra = vec![0.0f64; sel.len()];
    let mut touched: Vec<usize> = Vec::new();
    let mut swaps = 0;
    while !stop() {
        // What closing each open site loses: the rows only it covers.
        loss.iter_mut().for_each(|l| *l = 0.0);
        for k in 0..n_rows {
            if count[k] == 1 {
                loss[slot[who[k]]] += rows.weight[k];
            }
        }
        // The cheapest movable open site, for candidates that win nothing back.
        let cheapest = (0..sel.len())
            .filter(|a| free(sel[*a]))
            .min_by(|a, b| loss[*a].total_cmp(&loss[*b]).then(a.cmp(b)));
        let Some(cheapest) = cheapest else { break };
        let mut best: Option<(f64, usize, usize)> = None;
        for c in 0..m {
            if open[c] || !free(c) {
                continue;
            }
            let mut gain = 0.0;
            for k in &rows.of[c] {
                let k = *k as usize;
                match count[k] {
                    0 => gain += rows.weight[k],
                    1 => {
                        let a = slot[who[k]];
                        if extra[a] == 0.0 {
                            touched.push(a);
                        }
                        extra[a] += rows.weight[k];
                    }
                    _ => {}
                }
            }
            // Close the site that loses least net of what c wins back (lowest slot on
            // ties): without quotas the cheapest or one c wins back from; with them, any
            // slot whose swap keeps the quotas.
            let mut out: Option<(f64, usize)> = None;
            let mut consider = |a: usize| {
                let v = extra[a] - loss[a];
                if free(sel[a]) && out.is_none_or(|(bv, ba)| v > bv || (v == bv && a < ba)) {
                    out = Some((v, a));
                }
            };
            match quotas.as_deref() {
                Some(q) => (0..sel.len())
                    .filter(|a| q.allows(&[sel[*a]], Some(c)))
                    .for_each(&mut consider),
                None => std::iter::once(cheapest)
                    .chain(touched.iter().copied())
                    .for_each(&mut consider),
            }
            for &a in &touched {
                extra[a] = 0.0;
            }
            touched.clear();
            let Some((v, a)) = out else { continue };
            let delta = gain + v;
            if delta > 1e-9 && best.is_none_or(|(bd, _, _)| delta > bd + 1e-12) {
                best = Some((delta, a, c));
            }
        }
        // One pass reads every coverage list once, and every row twice.
        spent.set(spent.get() + nnz + 2 * n_rows as u64 + m as u64);
        let Some((_, a, c)) = best else { break };
        let s = sel[a];
        // The swap's true effect, recomputed from the rows it touches: stop rather than
        // cycle should rounding ever price a swap as a gain.
        let lost: f64 = (rows.of[s].iter())
            .filter(|k| count[**k as usize] == 1 && !rows.of[c].contains(k))
            .map(|k| rows.weight[*k as usize])
            .sum();
        let won: f64 = (rows.of[c].iter())
            .filter(|k| count[**k as usize] == 0)
            .map(|k| rows.weight[*k as usize])
            .sum();
        if won - lost <= 1e-9 {
            break;
        }
        for k in &rows.of[s] {
            count[*k as usize] -= 1;
            who[*k as usize] -= s;
        }
        for k in &rows.of[c] {
            count[*k as usize] += 1;
            who[*k as usize] += c;
        }
        open[s] = false;
        open[c] = true;
        slot[s] = usize::MAX;
        slot[c] = a;
        sel[a] = c;
        if let Some(q) = quotas.as_deref_mut() {
            q.set(s, false);
            q.set(c, true);
        }
        swaps += 1;
    }
    swaps
}
