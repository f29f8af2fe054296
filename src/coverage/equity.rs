//! Equity of a measure over units: "is coverage shared fairly, or do a few units hold it?"
//!
//! A unit's value (share within reach, places per 1000, an accessibility score) is weighted
//! by its people. The Lorenz curve orders units from worst to best served and plots the
//! cumulative share of people against the cumulative share of the value they hold; the Gini
//! index is twice the area between it and the diagonal; the Palma ratio is the value held by
//! the best-served 10 % of people over that held by the worst-served 40 % (the curve is
//! linear inside a unit, so deciles may cut through one). The worst decile is counted in
//! units, because counted in people it would hold 10 % by definition.

use serde::Serialize;

/// One unit's value and the people it weighs for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weighted {
    pub value: f64,
    pub people: f64,
}

/// Equity figures of one measure over units.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Equity {
    /// Population-weighted Gini index, 0 (equal) … 1 (one unit holds everything).
    pub gini: f64,
    /// Lorenz curve: (cumulative share of people, cumulative share of value), from (0, 0)
    /// to (1, 1), units ordered from the lowest value to the highest.
    pub lorenz: Vec<(f64, f64)>,
    /// Value held by the top 10 % of people over that held by the bottom 40 %; `None`
    /// when the bottom 40 % hold nothing (the ratio is unbounded).
    pub palma: Option<f64>,
    /// The worst-served tenth of units (at least one): how many, and the share of all
    /// weighed people who live there.
    pub worst_decile_units: usize,
    pub worst_decile_people_share: f64,
    /// Units that entered (a value and people > 0).
    pub units: usize,
    pub people: f64,
    /// Population-weighted mean value.
    pub mean: f64,
}

/// Equity of `units` (value, people). Units without people or with a non-finite value are
/// left out; `None` when nothing is left or every value is zero (nothing to share).
///
/// ```
/// use carecircle::coverage::equity::{equity, Weighted};
/// let e = equity(&[Weighted { value: 1.0, people: 1.0 }, Weighted { value: 1.0, people: 3.0 }]).unwrap();
/// assert!(e.gini.abs() < 1e-12);
/// ```
pub fn equity(units: &[Weighted]) -> Option<Equity> {
    let mut u: Vec<Weighted> = units
        .iter()
        .copied()
        .filter(|w| w.people > 0.0 && w.people.is_finite() && w.value.is_finite())
        .collect();
    if u.is_empty() {
        return None;
    }
    if u.iter().any(|w| w.value < 0.0) {
        // Shares of a negative total mean nothing; measures here are never negative.
        return None;
    }
    u.sort_by(|a, b| a.value.total_cmp(&b.value));
    let people: f64 = u.iter().map(|w| w.people).sum();
    let total: f64 = u.iter().map(|w| w.value * w.people).sum();
    if total <= 0.0 {
        return None;
    }
    let mut lorenz = Vec::with_capacity(u.len() + 1);
    lorenz.push((0.0, 0.0));
    let (mut cx, mut cy) = (0.0, 0.0);
    for w in &u {
        cx += w.people;
        cy += w.value * w.people;
        lorenz.push((cx / people, cy / total));
    }
    if let Some(last) = lorenz.last_mut() {
        *last = (1.0, 1.0);
    }
    // Trapezoids under the curve; Gini = 1 − 2 × area.
    let area: f64 = lorenz
        .windows(2)
        .map(|s| (s[1].0 - s[0].0) * (s[1].1 + s[0].1) / 2.0)
        .sum();
    let gini = (1.0 - 2.0 * area).clamp(0.0, 1.0);
    let bottom40 = lorenz_at(&lorenz, 0.4);
    let top10 = 1.0 - lorenz_at(&lorenz, 0.9);
    let palma = (bottom40 > 1e-15).then(|| top10 / bottom40);
    let worst = u.len().div_ceil(10).max(1);
    let worst_people: f64 = u[..worst].iter().map(|w| w.people).sum();
    Some(Equity {
        gini,
        palma,
        worst_decile_units: worst,
        worst_decile_people_share: worst_people / people,
        units: u.len(),
        people,
        mean: total / people,
        lorenz,
    })
}

/// The Lorenz curve's height at population share `x` (linear within a unit).
pub fn lorenz_at(lorenz: &[(f64, f64)], x: f64) -> f64 {
    for s in lorenz.windows(2) {
        let ((x0, y0), (x1, y1)) = (s[0], s[1]);
        if x <= x1 {
            if x1 - x0 <= 0.0 {
                return y1;
            }
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0);
        }
    }
    1.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(value: f64, people: f64) -> Weighted {
        Weighted { value, people }
    }

    #[test]
    fn equal_values_have_no_inequality() {
        let e = equity(&[w(2.0, 10.0), w(2.0, 30.0), w(2.0, 60.0)]).unwrap();
        assert!(e.gini.abs() < 1e-12);
        assert!(
            (e.palma.unwrap() - 0.25).abs() < 1e-12,
            "10 % hold 10 %, 40 % hold 40 %"
        );
        assert!((e.mean - 2.0).abs() < 1e-12);
    }

    #[test]
    fn nothing_to_share_is_not_a_figure() {
        assert!(equity(&[]).is_none());
        assert!(equity(&[w(0.0, 5.0), w(0.0, 5.0)]).is_none());
        assert!(equity(&[w(1.0, 0.0)]).is_none());
    }
}
