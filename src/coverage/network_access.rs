//! The walking network as the coverage engine's distance: [`NetworkAccess`] answers the
//! [`Accessibility`] questions along streets instead of straight lines.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use geo::Point;
use rayon::prelude::*;

use crate::coverage::access::{Accessibility, DistanceMode, Reach};
use crate::network::{Graph, Snap};
use crate::progress::Progress;
use crate::{Error, Result};

/// Demand points and their snaps (`None`: farther than `max_snap` from any street).
type SnappedOrigins = (Vec<Point<f64>>, Arc<Vec<Option<Snap>>>);

/// Walking-network reach for the coverage engine. Points farther than `max_snap` from any
/// street are unreachable (reported, never silently snapped far away).
pub struct NetworkAccess<'g> {
    pub graph: &'g Graph,
    pub max_snap: f64,
    /// The last demand points snapped and their snaps: one analysis asks about the same
    /// points for every rule (a province's million snaps took ~0.35 s each time). Kept with
    /// a copy of the points, so a hit is an exact match, never a guess.
    origins: Mutex<Option<SnappedOrigins>>,
}

impl<'g> NetworkAccess<'g> {
    pub fn new(graph: &'g Graph, max_snap: f64) -> Self {
        NetworkAccess {
            graph,
            max_snap,
            origins: Mutex::new(None),
        }
    }

    fn snap_all(&self, pts: &[Point<f64>]) -> Vec<Option<Snap>> {
        pts.par_iter()
            .map(|p| self.graph.snap(*p, self.max_snap))
            .collect()
    }

    /// [`Self::snap_all`] of demand points, from the last call when they are the same.
    fn snap_origins(&self, pts: &[Point<f64>]) -> Arc<Vec<Option<Snap>>> {
        if let Ok(last) = self.origins.lock() {
            if let Some((p, s)) = last.as_ref().filter(|(p, _)| p.as_slice() == pts) {
                debug_assert_eq!(p.len(), s.len());
                return s.clone();
            }
        }
        let snaps = Arc::new(self.snap_all(pts));
        if let Ok(mut last) = self.origins.lock() {
            *last = Some((pts.to_vec(), snaps.clone()));
        }
        snaps
    }
}

impl Accessibility for NetworkAccess<'_> {
    fn mode(&self) -> DistanceMode {
        DistanceMode::Network
    }

    fn network_nodes(&self) -> Option<Vec<Point<f64>>> {
        Some(
            self.graph
                .nodes
                .iter()
                .map(|n| Point::new(n[0], n[1]))
                .collect(),
        )
    }

    fn diagnose(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
    ) -> Vec<(Option<usize>, String)> {
        let mut out = Vec::new();
        let os = self.snap_origins(origins);
        let off = os.iter().filter(|s| s.is_none()).count();
        if off > 0 {
            out.push((
                None,
                format!(
                    "{off} of {} demand points are more than {:.0} m from any walkable street: unreachable",
                    origins.len(),
                    self.max_snap
                ),
            ));
        }
        let biggest = self.graph.component_sizes.first().copied().unwrap_or(0);
        let on_island = os
            .iter()
            .flatten()
            .filter(|s| self.graph.component_of(s) != 0)
            .count();
        if on_island * 20 > origins.len() {
            out.push((
                None,
                format!(
                    "{on_island} demand points sit on street islands cut off from the main network ({biggest} nodes)"
                ),
            ));
        }
        for (j, t) in targets.iter().enumerate() {
            match self.graph.snap(*t, self.max_snap) {
                None => out.push((
                    Some(j),
                    format!(
                        "more than {:.0} m from any walkable street: covers no one on foot",
                        self.max_snap
                    ),
                )),
                Some(s) => {
                    let c = self.graph.component_of(&s);
                    let size = self.graph.component_sizes[c as usize];
                    if c != 0 && size * 100 < biggest {
                        out.push((
                            Some(j),
                            format!("on a street island of {size} nodes (main network {biggest})"),
                        ));
                    }
                }
            }
        }
        out
    }

    fn nearest_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Vec<Option<(u32, f64)>>> {
        progress.stage("walking network", Some(3));
        let ts = self.snap_all(targets);
        let idx: Vec<u32> = (0..targets.len() as u32)
            .filter(|i| ts[*i as usize].is_some())
            .collect();
        let sources: Vec<Snap> = idx.iter().map(|i| ts[*i as usize].unwrap()).collect();
        progress.advance(1);
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let labels = self.graph.distances_from(&sources, max_m);
        progress.advance(2);
        let os = self.snap_origins(origins);
        let out = os
            .par_iter()
            .map(|s| {
                s.as_ref()
                    .and_then(|s| self.graph.nearest_source(&labels, s))
                    .map(|(src, c)| (idx[src as usize], c))
            })
            .collect();
        progress.advance(3);
        Ok(out)
    }

    fn all_within(
        &self,
        origins: &[Point<f64>],
        targets: &[Point<f64>],
        max_m: f64,
        progress: &dyn Progress,
    ) -> Result<Reach> {
        progress.stage("walking catchments", Some(targets.len() as u64));
        let os = self.snap_origins(origins);
        let ts = self.snap_all(targets);
        // Origins by edge, to read them off each facility's labels.
        let mut by_edge: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, s) in os.iter().enumerate() {
            if let Some(s) = s {
                by_edge.entry(s.edge.0).or_default().push(i as u32);
            }
        }
        // One search per facility, each touching only what it reaches (a workspace per
        // thread: clearing whole-graph arrays per facility cost more than the searches).
        let pairs: Vec<Vec<(u32, u32, f32)>> = ts
            .par_iter()
            .enumerate()
            .map_init(
                || crate::network::Workspace::new(self.graph),
                |ws, (j, t)| {
                    let Some(t) = t else { return Vec::new() };
                    if progress.is_cancelled() {
                        return Vec::new();
                    }
                    let r = self.graph.reach_from(ws, t, max_m);
                    let mut out = Vec::new();
                    let add = |e: u32, out: &mut Vec<(u32, u32, f32)>| {
                        for &o in by_edge.get(&e).map_or(&[][..], |v| v.as_slice()) {
                            let s = os[o as usize]
                                .as_ref()
                                .expect("origins by edge are snapped");
                            if let Some(c) = r.cost_to(self.graph, s) {
                                out.push((o, j as u32, c as f32));
                            }
                        }
                    };
                    let edges = r.edges(self.graph, max_m);
                    for e in &edges {
                        add(e.0, &mut out);
                    }
                    // The facility's own edge when it was not among them (no node reached
                    // with length to spare).
                    if edges.binary_search(&t.edge).is_err() {
                        add(t.edge.0, &mut out);
                    }
                    out
                },
            )
            .collect();
        if progress.is_cancelled() {
            return Err(Error::Cancelled);
        }
        let mut rows: Vec<Vec<(f32, u32)>> = vec![Vec::new(); origins.len()];
        for v in pairs {
            for (o, j, c) in v {
                rows[o as usize].push((c, j));
            }
        }
        let mut reach = Reach {
            row_of: (0..origins.len() as u32).collect(),
            offsets: vec![0],
            ..Default::default()
        };
        for r in &mut rows {
            r.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for (c, j) in r.iter() {
                reach.targets.push(*j);
                reach.metres.push(*c);
            }
            reach.offsets.push(reach.targets.len() as u32);
        }
        progress.advance(targets.len() as u64);
        Ok(reach)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::LineInput;
    use geo::line_string;

    #[test]
    fn access_matches_euclidean_on_a_straight_street_and_is_longer_around_a_block() {
        use crate::progress::NoProgress;
        // Two parallel streets 200 m apart, joined only at x = 0.
        let a = line_string![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0)];
        let b = line_string![(x: 0.0, y: 200.0), (x: 1000.0, y: 200.0)];
        let c = line_string![(x: 0.0, y: 0.0), (x: 0.0, y: 200.0)];
        let g = Graph::build(&[
            LineInput::plain(&a),
            LineInput::plain(&b),
            LineInput::plain(&c),
        ]);
        let acc = NetworkAccess::new(&g, 300.0);
        let fac = [Point::new(1000.0, 0.0)];
        let dem = [
            Point::new(600.0, 0.0),
            Point::new(1000.0, 200.0),
            Point::new(5000.0, 0.0),
        ];
        let n = acc.nearest_within(&dem, &fac, 900.0, &NoProgress).unwrap();
        assert_eq!(n[0], Some((0, 400.0)));
        // Euclidean 200 m; walking 1000 + 200 + 1000 = 2200 m: beyond 900 m.
        assert_eq!(n[1], None);
        assert_eq!(n[2], None);
        let r = acc.all_within(&dem, &fac, 3000.0, &NoProgress).unwrap();
        assert_eq!(r.of(1).collect::<Vec<_>>(), vec![(0, 2200.0)]);
        assert_eq!(r.of(0).collect::<Vec<_>>(), vec![(0, 400.0)]);
        assert_eq!(r.of(2).count(), 0);
    }

    /// The catchment search that touches only what it reaches gives the same reach, to
    /// the bit, as one whole-graph Dijkstra per facility read through `reached_edges` and
    /// `cost_to` (the code it replaced, kept here as the reference): random street grids
    /// with gaps, random people and facilities, bounds that end mid-edge and on nodes.
    #[test]
    fn local_catchments_match_whole_graph_searches() {
        use crate::progress::NoProgress;
        for seed in 1..=40u64 {
            let mut rand = crate::testkit::xorshift(seed);
            let mut below = |k: u64| (rand() * k as f64) as u64;
            let n = 3 + below(6) as usize;
            let step = 50.0 + below(4) as f64 * 25.0;
            let mut lines = Vec::new();
            for i in 0..n {
                for j in 0..n - 1 {
                    // Some streets missing: islands and dead ends.
                    if below(5) != 0 {
                        let (a, b) = (j as f64 * step, (j + 1) as f64 * step);
                        let y = i as f64 * step;
                        lines.push(line_string![(x: a, y: y), (x: b, y: y)]);
                        lines.push(line_string![(x: y, y: a), (x: y, y: b)]);
                    }
                }
            }
            let inputs: Vec<LineInput> = lines.iter().map(LineInput::plain).collect();
            let g = Graph::build(&inputs);
            let span = n as f64 * step;
            let mut pt = || {
                let x = below(1000) as f64 / 1000.0 * span;
                // Some exactly on a street (offset 0), some beside it.
                let y = if below(3) == 0 {
                    below(n as u64) as f64 * step
                } else {
                    below(1000) as f64 / 1000.0 * span
                };
                Point::new(x, y)
            };
            let people: Vec<Point<f64>> = (0..60).map(|_| pt()).collect();
            let sites: Vec<Point<f64>> = (0..8).map(|_| pt()).collect();
            // A bound that is a whole number of blocks ends exactly on nodes.
            let max = if seed % 2 == 0 {
                2.0 * step
            } else {
                step * (1.0 + below(100) as f64 / 40.0)
            };
            let acc = NetworkAccess::new(&g, step);
            let got = acc.all_within(&people, &sites, max, &NoProgress).unwrap();
            let os: Vec<_> = people.iter().map(|p| g.snap(*p, step)).collect();
            let mut want: Vec<Vec<(u32, f32)>> = vec![Vec::new(); people.len()];
            for (j, t) in sites.iter().enumerate() {
                let Some(t) = g.snap(*t, step) else { continue };
                let l = g.distances_from(&[t], max);
                let mut seen = vec![false; people.len()];
                let edges: Vec<u32> = g
                    .reached_edges(&l, max)
                    .into_iter()
                    .map(|e| e.0 .0)
                    .chain([t.edge.0])
                    .collect();
                for e in edges {
                    for (o, s) in os.iter().enumerate() {
                        match s {
                            Some(s) if s.edge.0 == e && !seen[o] => {
                                if let Some(c) = g.cost_to(&l, s) {
                                    want[o].push((j as u32, c as f32));
                                    seen[o] = true;
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            for (o, w) in want.iter_mut().enumerate() {
                w.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)));
                let g: Vec<(u32, f32)> = got.of(o).collect();
                assert_eq!(&g, w, "seed {seed}, person {o}");
            }
            assert!(
                want.iter().any(|w| !w.is_empty()),
                "seed {seed}: nothing reached"
            );
        }
    }
}
