//! The distance interface of coverage: "which facilities can this person reach, and how
//! far?" Euclidean mode answers with an R-tree; the walking-network mode implements the same
//! trait, so rules, 2SFCA and reports do not care which one ran.

use geo::Point;
use rayon::prelude::*;
use rstar::primitives::GeomWithData;

use crate::progress::Progress;
use crate::spatial::{point_tree, PointTree};
use crate::{Error, Result};

/// Facilities reachable from each origin, in compressed rows: for origin `i`,
/// `targets[offsets[i]..offsets[i+1]]` with their distances, nearest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reach {
    pub offsets: Vec<u32>,
    pub targets: Vec<u32>,
    pub metres: Vec<f32>,
}

impl Reach {
    pub fn of(&self, i: usize) -> impl Iterator<Item = (u32, f32)> + '_ {
        let (a, b) = (self.offsets[i] as usize, self.offsets[i + 1] as usize);
        self.targets[a..b]
            .iter()
            .copied()
            .zip(self.metres[a..b].iter().copied())
    }
    pub fn pairs(&self) -> usize {
        self.targets.len()
    }
}

/// A way of measuring reach from demand points to facilities.
pub trait Accessibility: Sync {
    /// "euclidean" or "network": shown in reports.
    fn mode(&self) -> &'static str;

    /// For each origin, the nearest target within `max_m` and its distance.
    fn nearest_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<(u32, f64)>>>;

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

/// One chunk's answer: nearest (facility, metres) per origin.
type NearestChunk = Result<Vec<Option<(u32, f64)>>>;
/// One chunk's rows: counts per origin, targets, metres.
type ReachChunk = Result<(Vec<u32>, Vec<u32>, Vec<f32>)>;

fn tree_of(targets: &[Point<f64>]) -> PointTree {
    point_tree(targets.iter().map(|p| Some(*p)))
}

impl Accessibility for Euclidean {
    fn mode(&self) -> &'static str {
        "euclidean"
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
        let done = std::sync::atomic::AtomicU64::new(0);
        let chunks: Vec<NearestChunk> = origins
            .par_chunks(CHUNK)
            .map(|chunk| {
                if progress.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                let v = chunk
                    .iter()
                    .map(|p| {
                        let q = [p.x(), p.y()];
                        // Ties at equal distance go to the smaller facility index.
                        let mut best: Option<(u32, f64)> = None;
                        for (t, d2) in tree.nearest_neighbor_iter_with_distance_2(&q) {
                            if d2 > r2 {
                                break;
                            }
                            match best {
                                None => best = Some((t.data, d2)),
                                Some((bi, bd)) if d2 == bd && t.data < bi => {
                                    best = Some((t.data, d2))
                                }
                                Some((_, bd)) if d2 > bd => break,
                                _ => {}
                            }
                        }
                        best.map(|(i, d2)| (i, d2.sqrt()))
                    })
                    .collect();
                let n = done.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed);
                progress.advance(n + chunk.len() as u64);
                Ok(v)
            })
            .collect();
        let mut out = Vec::with_capacity(origins.len());
        for c in chunks {
            out.extend(c?);
        }
        Ok(out)
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
        let r2 = max_m * max_m;
        let chunks: Vec<ReachChunk> = origins
            .par_chunks(CHUNK)
            .map(|chunk| {
                if progress.is_cancelled() {
                    return Err(Error::Cancelled);
                }
                let mut counts = Vec::with_capacity(chunk.len());
                let mut ts = Vec::new();
                let mut ms = Vec::new();
                let mut row: Vec<(f64, u32)> = Vec::new();
                for p in chunk {
                    row.clear();
                    let q = [p.x(), p.y()];
                    for t in tree.locate_within_distance(q, r2) {
                        let t: &GeomWithData<[f64; 2], u32> = t;
                        let dx = t.geom()[0] - q[0];
                        let dy = t.geom()[1] - q[1];
                        row.push(((dx * dx + dy * dy).sqrt(), t.data));
                    }
                    row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                    counts.push(row.len() as u32);
                    for (d, t) in &row {
                        ts.push(*t);
                        ms.push(*d as f32);
                    }
                }
                Ok((counts, ts, ms))
            })
            .collect();
        let mut reach = Reach {
            offsets: Vec::with_capacity(origins.len() + 1),
            ..Default::default()
        };
        reach.offsets.push(0);
        let mut acc: u64 = 0;
        for c in chunks {
            let (counts, ts, ms) = c?;
            for n in counts {
                acc += n as u64;
                if acc > u32::MAX as u64 {
                    return Err(Error::Analysis(
                        "more than 4 billion demand–facility pairs: lower the radius or coarsen the demand grid".into(),
                    ));
                }
                reach.offsets.push(acc as u32);
            }
            reach.targets.extend(ts);
            reach.metres.extend(ms);
        }
        progress.advance(origins.len() as u64);
        Ok(reach)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;

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
        assert_eq!(n[0], Some((0, 50.0))); // tie 50 m with target 2: smaller index wins
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
