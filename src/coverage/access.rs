//! The distance interface of coverage: "which facilities can this person reach, and how
//! far?" Euclidean mode answers with an R-tree; the walking-network mode implements the same
//! trait, so rules, 2SFCA and reports do not care which one ran.

use geo::Point;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::progress::Progress;
use crate::spatial::{point_tree, Lattice, PointTree};
use crate::{Error, Result};

/// Facilities reachable from each origin, in compressed rows. Rows are stored in the order
/// they were computed (spatial order, for speed); `row_of[i]` is origin `i`'s row, and row
/// `r` is `targets[offsets[r]..offsets[r+1]]` with their distances, nearest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reach {
    pub row_of: Vec<u32>,
    pub offsets: Vec<u32>,
    pub targets: Vec<u32>,
    pub metres: Vec<f32>,
}

impl Reach {
    /// (target, metres) reachable from origin `i`, nearest first.
    pub fn of(&self, i: usize) -> impl Iterator<Item = (u32, f32)> + '_ {
        let r = self.row_of[i] as usize;
        let (a, b) = (self.offsets[r] as usize, self.offsets[r + 1] as usize);
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.metres[a..b].iter().copied())
    }
    pub fn pairs(&self) -> usize {
        self.targets.len()
    }
}

/// Straight-line distance or walking distance along streets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistanceMode {
    #[default]
    Euclidean,
    Network,
}

impl DistanceMode {
    /// The key reports and JSON use ("euclidean", "network").
    pub fn key(self) -> &'static str {
        match self {
            DistanceMode::Euclidean => "euclidean",
            DistanceMode::Network => "network",
        }
    }
}

/// A way of measuring reach from demand points to facilities.
pub trait Accessibility: Sync {
    /// Which distance this is (reports show its key).
    fn mode(&self) -> DistanceMode;

    /// For each origin, the nearest target within `max_m` and its distance.
    fn nearest_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<(u32, f64)>>>;

    /// For each origin, whether any target is within `max_m`: what a coverage share needs,
    /// which a straight line answers without finding the nearest (most of a province's
    /// points have none in reach, and proving that is cheaper than ranking the far ones).
    fn any_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Vec<bool>> {
        Ok(self
            .nearest_within(origins, targets, max_m, progress)?
            .iter()
            .map(Option::is_some)
            .collect())
    }

    /// Problems worth telling the planner about this pairing (points off the network,
    /// facilities on small islands): a message, and the target index it is about, if one.
    fn diagnose(
        &self,
        _origins: &[Point<f64>],
        _targets: &[Point<f64>],
    ) -> Vec<(Option<usize>, String)> {
        Vec::new()
    }

    /// Positions of the walking network's nodes, when reach is measured on one (siting
    /// puts candidate sites there).
    fn network_nodes(&self) -> Option<Vec<Point<f64>>> {
        None
    }

    /// For each origin, every target within `max_m`.
    fn all_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Reach>;
}

/// Straight-line distance in the dataset's metric projection.
#[derive(Clone, Copy, Debug, Default)]
pub struct Euclidean;

const CHUNK: usize = 16 * 1024;

fn tree_of(targets: &[Point<f64>]) -> PointTree {
    point_tree(targets.iter().map(|p| Some(*p)))
}

impl Accessibility for Euclidean {
    fn mode(&self) -> DistanceMode {
        DistanceMode::Euclidean
    }

    fn nearest_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<(u32, f64)>>> {
        progress.stage("reach", Some(origins.len() as u64));
        let tree = tree_of(targets);
        let r2 = max_m * max_m;
        let lattice = Lattice::of(origins, max_m);
        per_origin(
            origins,
            &lattice,
            progress,
            || (),
            |_, q| {
                // Equal distances: whichever the (deterministically built) tree yields first;
                // the same input always gives the same answer.
                tree.nearest_neighbor_iter_with_distance_2(q)
                    .next()
                    .filter(|(_, d2)| *d2 <= r2)
                    .map(|(t, d2)| (t.data, d2.sqrt()))
            },
        )
    }

    fn any_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Vec<bool>> {
        progress.stage("reach", Some(origins.len() as u64));
        let tree = tree_of(targets);
        let lattice = Lattice::of(origins, max_m);
        per_origin(
            origins,
            &lattice,
            progress,
            || Nearby::new(&tree, &lattice, max_m),
            |near, q| near.find(*q, |_, _| true),
        )
    }

    fn all_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Reach> {
        progress.stage("reach", Some(origins.len() as u64));
        let tree = tree_of(targets);
        let lattice = Lattice::of(origins, max_m);
        // Rows are computed and kept in spatial order; `row_of` maps origins to rows.
        let (order, chunks) = in_chunks(
            origins,
            &lattice,
            progress,
            || Nearby::new(&tree, &lattice, max_m),
            |near, chunk| {
                let mut counts = Vec::with_capacity(chunk.len());
                let mut ts = Vec::with_capacity(chunk.len() * 8);
                let mut ms = Vec::with_capacity(chunk.len() * 8);
                let mut row: Vec<(f64, u32)> = Vec::new();
                for q in chunk {
                    row.clear();
                    near.find(*q, |d2, t| {
                        row.push((d2, t));
                        false
                    });
                    row.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    counts.push(row.len() as u32);
                    for (d2, t) in &row {
                        ts.push(*t);
                        ms.push(d2.sqrt() as f32);
                    }
                }
                (counts, ts, ms)
            },
        )?;
        let total: usize = chunks.iter().map(|c| c.1.len()).sum();
        if total > u32::MAX as usize {
            return Err(Error::Analysis(
                "more than 4 billion demand–facility pairs: lower the radius or coarsen the demand grid".into(),
            ));
        }
        let mut reach = Reach {
            row_of: vec![0; origins.len()],
            offsets: Vec::with_capacity(origins.len() + 1),
            targets: Vec::with_capacity(total),
            metres: Vec::with_capacity(total),
        };
        for (r, o) in order.iter().enumerate() {
            reach.row_of[*o as usize] = r as u32;
        }
        reach.offsets.push(0);
        let mut acc = 0u32;
        for (counts, ts, ms) in chunks {
            for c in counts {
                acc += c;
                reach.offsets.push(acc);
            }
            reach.targets.extend_from_slice(&ts);
            reach.metres.extend_from_slice(&ms);
        }
        Ok(reach)
    }
}

/// The origins in the lattice's Morton order (so neighbouring queries share tree nodes
/// and candidate lists), in chunks answered on every core, each with its own `state`;
/// a chunk looks at the cancel first and reports progress after. Returns the order and the
/// chunks' answers in it.
fn in_chunks<C: Send, S>(
    origins: &[Point<f64>],
    lattice: &Lattice,
    progress: &dyn Progress,
    state: impl Fn() -> S + Sync,
    answer: impl Fn(&mut S, &[[f64; 2]]) -> C + Sync,
) -> Result<(Vec<u32>, Vec<C>)> {
    let order = lattice.order(origins);
    let sorted = gather(origins, &order);
    let done = AtomicU64::new(0);
    let chunks = sorted
        .par_chunks(CHUNK)
        .map(|chunk| {
            if progress.is_cancelled() {
                return Err(Error::Cancelled);
            }
            let c = answer(&mut state(), chunk);
            let n = done.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            progress.advance(n + chunk.len() as u64);
            Ok(c)
        })
        .collect::<Result<_>>()?;
    Ok((order, chunks))
}

/// One answer per origin (see [`in_chunks`]), back in the origins' order.
fn per_origin<T: Send + Default + Clone, S>(
    origins: &[Point<f64>],
    lattice: &Lattice,
    progress: &dyn Progress,
    state: impl Fn() -> S + Sync,
    answer: impl Fn(&mut S, &[f64; 2]) -> T + Sync,
) -> Result<Vec<T>> {
    let (order, chunks) = in_chunks(origins, lattice, progress, state, |s, chunk| {
        chunk.iter().map(|q| answer(s, q)).collect::<Vec<T>>()
    })?;
    let mut out = vec![T::default(); origins.len()];
    for (o, v) in order.iter().zip(chunks.into_iter().flatten()) {
        out[*o as usize] = v;
    }
    Ok(out)
}

/// Origins as contiguous coordinates in `order`.
fn gather(origins: &[Point<f64>], order: &[u32]) -> Vec<[f64; 2]> {
    order
        .iter()
        .map(|&o| {
            let p = origins[o as usize];
            [p.x(), p.y()]
        })
        .collect()
}

/// The targets within `r` of queries that come in the lattice's Morton order: a cell's
/// queries are consecutive, so the targets that may reach any point of the cell (its box
/// grown by `r` and a metre, far more than `cell_of`'s rounding) are fetched from the tree
/// once per cell, and each query tests only those — with the tree's own test,
/// `(t - q)² ≤ r²`, so the answers are the tree's. Without an exact lattice (a zero
/// radius, non-finite points) every query asks the tree.
struct Nearby<'a> {
    tree: &'a PointTree,
    lattice: &'a Lattice,
    r: f64,
    r2: f64,
    cell: Option<(u32, u32)>,
    candidates: Vec<([f64; 2], u32)>,
}

impl<'a> Nearby<'a> {
    fn new(tree: &'a PointTree, lattice: &'a Lattice, r: f64) -> Self {
        Self {
            tree,
            lattice,
            r,
            r2: r * r,
            cell: None,
            candidates: Vec::new(),
        }
    }

    /// Calls `f(d², target)` for the targets within `r` of `q` until it returns true;
    /// whether it did.
    fn find(&mut self, q: [f64; 2], mut f: impl FnMut(f64, u32) -> bool) -> bool {
        if !self.lattice.exact {
            return self
                .tree
                .locate_within_distance(q, self.r2)
                .any(|t| f(sq_dist(t.geom(), &q), t.data));
        }
        let c = self.lattice.cell_of(q);
        if self.cell != Some(c) {
            let (s, o, grow) = (self.lattice.cell, self.lattice.origin, self.r + 1.0);
            let lo = [o[0] + c.0 as f64 * s - grow, o[1] + c.1 as f64 * s - grow];
            let hi = [
                o[0] + (c.0 as f64 + 1.0) * s + grow,
                o[1] + (c.1 as f64 + 1.0) * s + grow,
            ];
            self.candidates.clear();
            self.candidates.extend(
                self.tree
                    .locate_in_envelope_intersecting(&rstar::AABB::from_corners(lo, hi))
                    .map(|t| (*t.geom(), t.data)),
            );
            self.cell = Some(c);
        }
        self.candidates.iter().any(|(t, id)| {
            let d2 = sq_dist(t, &q);
            d2 <= self.r2 && f(d2, *id)
        })
    }
}

fn sq_dist(a: &[f64; 2], b: &[f64; 2]) -> f64 {
    let dx = a[0] - b[0];
    let dy = a[1] - b[1];
    dx * dx + dy * dy
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

    /// `any_within` is `nearest_within(..).is_some()` and `all_within` lists every target
    /// in reach (brute force), distances exactly at the bound included: lattice points
    /// 3-4-5 and 6-8-10 from a target, bounds 5 and 10, and points on targets, bound 0.
    #[test]
    fn any_within_equals_nearest_found() {
        let mut rnd = crate::testkit::xorshift(3);
        let targets: Vec<Point<f64>> = (0..300)
            .map(|_| Point::new((rnd() * 2000.0).round(), (rnd() * 2000.0).round()))
            .collect();
        let mut origins: Vec<Point<f64>> = (0..20_000)
            .map(|_| {
                Point::new(
                    (rnd() * 2400.0 - 200.0).round(),
                    (rnd() * 2400.0 - 200.0).round(),
                )
            })
            .collect();
        for t in targets.iter().step_by(7) {
            origins.push(Point::new(t.x() + 3.0, t.y() + 4.0));
            origins.push(Point::new(t.x() - 6.0, t.y() + 8.0));
            origins.push(*t);
        }
        // 0: no lattice (every query asks the tree); the others: candidates per cell.
        for max in [0.0, 5.0, 10.0, 40.0, 150.0] {
            let near = Euclidean
                .nearest_within(&origins, &targets, max, &NoProgress)
                .unwrap();
            let any = Euclidean
                .any_within(&origins, &targets, max, &NoProgress)
                .unwrap();
            let want: Vec<bool> = near.iter().map(Option::is_some).collect();
            assert_eq!(any, want, "bound {max}");
            let hits = any.iter().filter(|h| **h).count();
            assert!(
                hits > 40 && hits < origins.len(),
                "bound {max}: {hits} hits"
            );
            // Every target within the bound, nearest first, by brute force.
            let all = Euclidean
                .all_within(&origins, &targets, max, &NoProgress)
                .unwrap();
            for (k, q) in origins.iter().enumerate() {
                let mut want: Vec<(f64, u32)> = targets
                    .iter()
                    .enumerate()
                    .map(|(j, t)| ((t.x() - q.x()).powi(2) + (t.y() - q.y()).powi(2), j as u32))
                    .filter(|(d2, _)| *d2 <= max * max)
                    .collect();
                want.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let row = all.row_of[k] as usize;
                let got = &all.targets[all.offsets[row] as usize..all.offsets[row + 1] as usize];
                let ids: Vec<u32> = want.iter().map(|w| w.1).collect();
                assert_eq!(got, &ids[..], "bound {max}, origin {k}");
            }
        }
    }

    #[test]
    fn nearest_and_all_within_by_hand() {
        let o = [
            Point::new(0.0, 0.0),
            Point::new(100.0, 0.0),
            Point::new(5000.0, 0.0),
        ];
        let t = [
            Point::new(30.0, 40.0),
            Point::new(100.0, 50.0),
            Point::new(-50.0, 0.0),
        ];
        let n = Euclidean
            .nearest_within(&o, &t, 100.0, &NoProgress)
            .unwrap();
        // A tie at 50 m (targets 0 and 2): either, but always the same one.
        assert!(
            n[0] == Some((0, 50.0)) || n[0] == Some((2, 50.0)),
            "{:?}",
            n[0]
        );
        assert_eq!(
            n,
            Euclidean
                .nearest_within(&o, &t, 100.0, &NoProgress)
                .unwrap()
        );
        assert_eq!(n[1], Some((1, 50.0)));
        assert_eq!(n[2], None);
        let r = Euclidean.all_within(&o, &t, 100.0, &NoProgress).unwrap();
        // Target 1 is 111.8 m away: outside.
        assert_eq!(r.of(0).collect::<Vec<_>>(), vec![(0, 50.0), (2, 50.0)]);
        assert_eq!(r.of(1).map(|x| x.0).collect::<Vec<_>>(), vec![1, 0]);
        assert_eq!(r.of(2).count(), 0);
        assert_eq!(r.pairs(), 4);
    }
}
