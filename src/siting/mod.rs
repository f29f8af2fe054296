//! Site proposals: location-allocation models on demand points and candidate sites.
//!
//! Models (existing facilities always open): MCLP — choose `p` new sites maximising covered
//! weight within a radius; LSCP — the fewest sites covering every coverable demand point;
//! p-median — minimise total weighted distance to the nearest open site.
//!
//! Solvers: greedy, then vertex substitution (Teitz–Bart): swap an open site for a closed
//! one while any swap improves the objective. LSCP instead drops redundant sites, makes
//! 2-for-1 replacements and runs a Lagrangian heuristic on the reduced cover (`lscp`).
//! Deterministic: ties go to the lower candidate index. Coverage sets come from an R-tree (never an all-pairs matrix when a radius bounds
//! the problem). Coverage is inclusive: `sqrt(dx² + dy²) <= radius`.

// Candidate and demand loops index several parallel arrays (open, sets, count, weight):
// index loops read clearer than zipped iterators here.
#![allow(clippy::needless_range_loop)]

pub mod bnb;
pub mod exact;
mod heuristic;
mod instance;
mod lscp;
mod pmedian;
pub mod pmedian_lr;
pub mod propose;
pub mod sized;
pub mod threshold;

use heuristic::*;
pub use instance::*;
use pmedian::pmedian;

use geo::Point;

use crate::spatial::{point_tree, PointTree};
use serde::Serialize;

use crate::{Error, Result};

/// Which model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    Mclp,
    Lscp,
    Pmedian,
    /// Threshold covering: the fewest new sites so that at least `Problem::share` of the
    /// demand weight is within reach (existing facilities count).
    Threshold,
}

impl Model {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "mclp" => Model::Mclp,
            "lscp" => Model::Lscp,
            "pmedian" | "p-median" | "p_median" => Model::Pmedian,
            "threshold" => Model::Threshold,
            _ => return None,
        })
    }
}

/// A facility-location problem in metres.
#[derive(Clone, Debug)]
pub struct Problem {
    pub model: Model,
    pub demand: Vec<[f64; 2]>,
    pub weight: Vec<f64>,
    pub demand_ids: Vec<String>,
    pub candidates: Vec<[f64; 2]>,
    pub candidate_ids: Vec<String>,
    pub existing: Vec<[f64; 2]>,
    pub radius: Option<f64>,
    pub p: Option<usize>,
    /// Threshold covering: the share of demand weight (0–1] that must be within reach.
    pub share: Option<f64>,
    /// Coverage measured elsewhere (the walking network); `None`: straight lines.
    pub cover: Option<Cover>,
    /// Policy quotas: e.g. "one of the candidates inside this community that lacks a
    /// day-care room must open", or "this county needs 7 more nursery sites".
    pub quotas: Vec<Quota>,
}

/// At least `at_least` of `sites` must open.
#[derive(Clone, Debug, Serialize)]
pub struct Quota {
    pub sites: Vec<usize>,
    pub at_least: u32,
    /// What the quota stands for, for messages ("社区 七政 (230102001): day-care room").
    pub label: String,
}

/// Coverage computed outside the problem (walking distances on the street network), so the
/// models need not know how reach was measured.
#[derive(Clone, Debug, Default)]
pub struct Cover {
    /// For each candidate, the demand points it reaches, ascending.
    pub sets: Vec<Vec<u32>>,
    /// Demand already reached by an existing facility.
    pub by_existing: Vec<bool>,
    /// p-median only: the walking distance (m) to each point of `sets` (parallel lists).
    /// Searches stop at `cutoff`, so the model is the capped p-median: a point farther
    /// than `cutoff` from every open site counts as `cutoff` away.
    pub metres: Vec<Vec<f32>>,
    /// p-median only: metres to the nearest existing facility (`INFINITY` if none within
    /// `cutoff`).
    pub existing_m: Vec<f64>,
    /// p-median only: how far the distance searches went.
    pub cutoff: f64,
}

/// Largest demand × candidates matrix the walking-distance p-median keeps (f32: 160 MB).
pub const MAX_PMEDIAN_MATRIX: usize = 40_000_000;

/// A site's state in a branch-and-bound node or after price fixing: settled open or closed
/// for every selection that beats the incumbent, or still free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fix {
    Free,
    Open,
    Closed,
}

/// A solution: selected candidate indices (in selection order for greedy), objective.
#[derive(Clone, Debug, Serialize)]
pub struct Solution {
    pub selected: Vec<usize>,
    pub objective: f64,
    /// Objective after greedy alone, for comparison.
    pub greedy_objective: f64,
    pub swaps: usize,
    /// The time limit stopped the search: the best answer found by then (still feasible:
    /// p sites, or a complete cover), not a local optimum.
    pub stopped: bool,
}

/// When a solver must stop: the user's time limit. Heuristics check it between passes
/// (and within long ones), so they overshoot by a fraction of a pass at most.
#[derive(Clone, Copy, Debug, Default)]
pub struct Deadline(Option<std::time::Instant>);

impl Deadline {
    /// No limit.
    pub fn none() -> Self {
        Deadline(None)
    }

    /// `seconds` from now (a non-finite or non-positive value means now).
    pub fn after(seconds: f64) -> Self {
        let s = if seconds.is_finite() {
            seconds.max(0.0)
        } else {
            0.0
        };
        Deadline(Some(
            std::time::Instant::now() + std::time::Duration::from_secs_f64(s.min(1e9)),
        ))
    }

    pub fn passed(&self) -> bool {
        self.0.is_some_and(|t| std::time::Instant::now() >= t)
    }

    /// Seconds left (`None`: no limit).
    pub fn remaining(&self) -> Option<f64> {
        self.0.map(|t| {
            t.saturating_duration_since(std::time::Instant::now())
                .as_secs_f64()
        })
    }
}

impl Problem {
    /// Validates inputs with messages that say what to change.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Analysis(m));
        let say = |en: String, zh: String| Err(Error::input(en, zh));
        if self.candidates.is_empty() {
            return say(
                "no candidate sites: give a candidate layer or generate candidates".into(),
                "没有候选点：请提供候选点图层，或让程序生成候选点".into(),
            );
        }
        if self.demand.is_empty() || self.weight.iter().all(|w| *w <= 0.0) {
            return say(
                "no demand (or all weights are zero): nothing to cover".into(),
                "没有需求（或人口权重全为零）：无可覆盖的对象，请检查人口数据".into(),
            );
        }
        if let Some(r) = self.radius {
            if !(r.is_finite() && r > 0.0) {
                return say(
                    format!("radius must be positive, not {r}"),
                    format!("服务半径须为正数，当前为 {r}"),
                );
            }
        } else if self.model != Model::Pmedian {
            return bad("this model needs a radius".into());
        }
        if !matches!(self.model, Model::Lscp | Model::Threshold) {
            let m = self.candidates.len();
            match self.p {
                None | Some(0) => {
                    return say("p must be at least 1".into(), "新增数量 p 至少为 1".into())
                }
                Some(p) if p > m => {
                    return say(
                        format!(
                        "p = {p} is larger than the {m} candidate sites: lower p or add candidates"
                    ),
                        format!("新增数量 p = {p} 多于 {m} 个候选点：请减小 p 或增加候选点"),
                    )
                }
                _ => {}
            }
        }
        if let Some(c) = &self.cover {
            if c.sets.len() != self.candidates.len() || c.by_existing.len() != self.demand.len() {
                return bad("coverage sets do not match the candidates and demand".into());
            }
            let pairs = self.demand.len() * self.candidates.len();
            if self.model == Model::Pmedian && pairs > MAX_PMEDIAN_MATRIX {
                return bad(format!(
                    "p-median on walking distances keeps a {} × {} distance matrix, more than {MAX_PMEDIAN_MATRIX} pairs: use fewer candidate sites (a larger --spacing or a candidate file)",
                    self.demand.len(),
                    self.candidates.len()
                ));
            }
            if self.model == Model::Pmedian
                && (c.metres.len() != c.sets.len()
                    || c.metres
                        .iter()
                        .zip(&c.sets)
                        .any(|(m, s)| m.len() != s.len())
                    || c.existing_m.len() != self.demand.len()
                    || !(c.cutoff.is_finite() && c.cutoff > 0.0))
            {
                return bad(
                    "p-median on walking distances needs the distance of every reached point and a positive cutoff"
                        .into(),
                );
            }
        }
        if self.model == Model::Threshold {
            self.check_threshold()?;
        }
        for q in &self.quotas {
            if q.sites.iter().any(|j| *j >= self.candidates.len()) {
                return bad(format!("quota '{}' names a missing candidate", q.label));
            }
            if q.sites.len() < q.at_least as usize {
                return bad(format!(
                    "{} needs {} new sites but only {} candidate sites lie there: add candidate sites in it",
                    q.label,
                    q.at_least,
                    q.sites.len()
                ));
            }
        }
        if self.model != Model::Lscp {
            let p = self.p.unwrap_or(0);
            let need = quota_minimum(&self.quotas);
            if need > p {
                return bad(format!(
                    "the policy quotas need at least {need} new sites ({} units) but p = {p}: raise p to {need} or drop the quotas (--no-quota)",
                    self.quotas.len()
                ));
            }
        }
        let mut seen = std::collections::HashSet::new();
        for id in &self.candidate_ids {
            if !seen.insert(id) {
                return bad(format!("duplicate candidate id '{id}'"));
            }
        }
        Ok(())
    }

    /// For each candidate, the demand points within the radius (inclusive), ascending.
    pub fn coverage_sets(&self, r: f64) -> Vec<Vec<u32>> {
        if let Some(c) = &self.cover {
            if c.metres.is_empty() {
                return c.sets.clone();
            }
            // A p-median cover reaches to its cutoff: keep what lies within `r`.
            return c
                .sets
                .iter()
                .zip(&c.metres)
                .map(|(s, m)| {
                    s.iter()
                        .zip(m)
                        .filter(|(_, d)| (**d as f64) <= r)
                        .map(|(i, _)| *i)
                        .collect()
                })
                .collect();
        }
        let tree = point_tree(self.demand.iter().map(|p| Some(Point::from(*p))));
        self.candidates
            .iter()
            .map(|c| {
                let mut v: Vec<u32> = within_inclusive(&tree, c, r).collect();
                v.sort_unstable();
                v
            })
            .collect()
    }

    /// Demand points covered by an existing facility.
    pub fn covered_by_existing(&self, r: f64) -> Vec<bool> {
        if let Some(c) = &self.cover {
            return c.by_existing.clone();
        }
        let tree = point_tree(self.existing.iter().map(|p| Some(Point::from(*p))));
        self.demand
            .iter()
            .map(|d| within_inclusive(&tree, d, r).next().is_some())
            .collect()
    }

    /// Objective of a selection, recomputed from scratch (the reference's definition).
    pub fn objective(&self, selected: &[usize]) -> f64 {
        match self.model {
            Model::Mclp if self.cover.is_some() => {
                let c = self.cover.as_ref().expect("checked");
                let mut hit = c.by_existing.clone();
                for j in selected {
                    for i in &c.sets[*j] {
                        hit[*i as usize] = true;
                    }
                }
                hit.iter()
                    .zip(&self.weight)
                    .filter(|(h, _)| **h)
                    .map(|(_, w)| *w)
                    .sum()
            }
            Model::Mclp => {
                let r = self.radius.unwrap_or(0.0);
                let open: Vec<[f64; 2]> = selected
                    .iter()
                    .map(|i| self.candidates[*i])
                    .chain(self.existing.iter().copied())
                    .collect();
                self.demand
                    .iter()
                    .zip(&self.weight)
                    .filter(|(d, _)| open.iter().any(|o| within(o, d, r)))
                    .map(|(_, w)| *w)
                    .sum()
            }
            Model::Lscp | Model::Threshold => selected.len() as f64,
            Model::Pmedian if self.cover.is_some() => {
                let c = self.cover.as_ref().expect("checked");
                let mut best: Vec<f64> = c.existing_m.iter().map(|e| e.min(c.cutoff)).collect();
                for j in selected {
                    for (i, m) in c.sets[*j].iter().zip(&c.metres[*j]) {
                        let b = &mut best[*i as usize];
                        *b = b.min(*m as f64);
                    }
                }
                best.iter().zip(&self.weight).map(|(b, w)| b * w).sum()
            }
            Model::Pmedian => self
                .demand
                .iter()
                .zip(&self.weight)
                .map(|(d, w)| {
                    let best = selected
                        .iter()
                        .map(|i| dist(&self.candidates[*i], d))
                        .chain(self.existing.iter().map(|e| dist(e, d)))
                        .fold(f64::INFINITY, f64::min);
                    w * best
                })
                .sum(),
        }
    }

    /// What `solve_heuristic` runs for this model, for reports.
    pub fn heuristic_name(&self) -> &'static str {
        match self.model {
            Model::Lscp => "greedy + redundancy/2-for-1 local search + Lagrangian heuristic",
            Model::Threshold => {
                "greedy to the share + unneeded-site removal and 2-for-1 replacements"
            }
            _ => "greedy + vertex substitution",
        }
    }

    pub fn solve_heuristic(&self) -> Result<Solution> {
        self.solve_heuristic_until(Deadline::none())
    }

    /// The heuristic, stopped at `deadline` with the best answer found by then (marked
    /// `stopped`). Greedy stopped early completes its selection cheaply (the next sites by
    /// index; for a cover, any site reaching each point still uncovered), so the answer is
    /// always feasible.
    pub fn solve_heuristic_until(&self, deadline: Deadline) -> Result<Solution> {
        self.validate()?;
        Ok(match self.model {
            Model::Mclp => mclp(self, deadline),
            Model::Lscp => lscp::solve(self, deadline),
            Model::Pmedian => pmedian(self, deadline),
            Model::Threshold => threshold::solve(self, deadline),
        })
    }
}

fn dist(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt()
}

fn within(a: &[f64; 2], b: &[f64; 2], r: f64) -> bool {
    dist(a, b) <= r
}

/// Points of `tree` within `r` of `p`, by the benchmark's inclusive rule
/// `sqrt(dx² + dy²) <= r` (the tree is queried a hair wider so no boundary case is lost to
/// rounding of squared distances).
fn within_inclusive<'a>(
    tree: &'a PointTree,
    p: &'a [f64; 2],
    r: f64,
) -> impl Iterator<Item = u32> + 'a {
    let q = r * (1.0 + 1e-9) + 1e-6;
    tree.locate_within_distance(*p, q * q)
        .filter(move |t| within(p, t.geom(), r))
        .map(|t| t.data)
}

/// The fewest sites that can meet `quotas` when they nest (a district's quota contains
/// its sub-districts'): the sum over the outermost quotas.
pub fn quota_minimum(quotas: &[Quota]) -> usize {
    let sets: Vec<std::collections::HashSet<usize>> = quotas
        .iter()
        .map(|q| q.sites.iter().copied().collect())
        .collect();
    (0..quotas.len())
        .filter(|&a| {
            !(0..quotas.len()).any(|b| {
                b != a
                    && sets[a].len() <= sets[b].len()
                    && (sets[a].len() < sets[b].len() || b < a)
                    && sets[a].is_subset(&sets[b])
            })
        })
        .map(|a| quotas[a].at_least as usize)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(model: Model, p: Option<usize>) -> Problem {
        // Demand at x = 0, 100, …, 900 (weight 1 each, the last weight 5); candidates at
        // x = 0, 300, 600, 900; radius 150.
        Problem {
            model,
            demand: (0..10).map(|i| [i as f64 * 100.0, 0.0]).collect(),
            weight: (0..10).map(|i| if i == 9 { 5.0 } else { 1.0 }).collect(),
            demand_ids: (0..10).map(|i| format!("d{i}")).collect(),
            candidates: (0..4).map(|i| [i as f64 * 300.0, 0.0]).collect(),
            candidate_ids: (0..4).map(|i| format!("c{i}")).collect(),
            existing: Vec::new(),
            radius: Some(150.0),
            p,
            share: None,
            cover: None,
            quotas: Vec::new(),
        }
    }

    #[test]
    fn mclp_by_hand() {
        // Candidate sets: c0 {0,1}, c1 {2,3,4}, c2 {5,6,7}, c3 {8,9}: weights 2, 3, 3, 6.
        let s = line(Model::Mclp, Some(2)).solve_heuristic().unwrap();
        assert_eq!(s.objective, 9.0);
        let mut sel = s.selected.clone();
        sel.sort();
        assert_eq!(sel, vec![1, 3]);
    }

    #[test]
    fn lscp_and_pmedian_by_hand() {
        let s = line(Model::Lscp, None).solve_heuristic().unwrap();
        assert_eq!(s.objective, 4.0);
        let pm = line(Model::Pmedian, Some(1));
        let s = pm.solve_heuristic().unwrap();
        // One site: the weighted median is at x = 900 (weight 5 there) vs 600: compute.
        let at = |x: f64| -> f64 {
            (0..10)
                .map(|i| pm.weight[i] * (i as f64 * 100.0 - x).abs())
                .sum()
        };
        assert_eq!(
            s.objective,
            at(600.0).min(at(900.0)).min(at(300.0)).min(at(0.0))
        );
    }

    #[test]
    fn bad_problems_say_what_to_change() {
        let mut pb = line(Model::Mclp, Some(9));
        assert!(pb
            .solve_heuristic()
            .unwrap_err()
            .to_string()
            .contains("larger than the 4 candidate"));
        pb.p = Some(1);
        pb.radius = Some(0.0);
        assert!(pb
            .solve_heuristic()
            .unwrap_err()
            .to_string()
            .contains("radius must be positive"));
        pb.radius = Some(100.0);
        pb.weight = vec![0.0; 10];
        assert!(pb
            .solve_heuristic()
            .unwrap_err()
            .to_string()
            .contains("no demand"));
        let mut pb = line(Model::Mclp, Some(1));
        pb.candidate_ids[1] = "c0".into();
        assert!(pb
            .solve_heuristic()
            .unwrap_err()
            .to_string()
            .contains("duplicate candidate id"));
        // What the planner can change is said in Chinese too (the Chinese UI shows it).
        let zh = |pb: &Problem| pb.validate().unwrap_err().zh();
        let mut pb = line(Model::Mclp, Some(9));
        assert_eq!(
            zh(&pb),
            "新增数量 p = 9 多于 4 个候选点：请减小 p 或增加候选点"
        );
        pb.p = Some(0);
        assert_eq!(zh(&pb), "新增数量 p 至少为 1");
        pb.p = Some(1);
        pb.radius = Some(-5.0);
        assert!(zh(&pb).starts_with("服务半径须为正数"));
        pb.radius = Some(100.0);
        pb.candidates.clear();
        assert!(zh(&pb).starts_with("没有候选点"));
    }
}
