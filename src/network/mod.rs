//! The walking network: a pedestrian graph in compressed-sparse-row form, snapping of points
//! to the nearest street segment, and distance-bounded multi-source Dijkstra — the real
//! 15-minute circle along streets rather than a circle on the map.
//!
//! Pure: knows lines and points in metres, nothing of units, rules or UI. Plugs into the
//! coverage engine through [`NetworkAccess`], an [`Accessibility`] implementation.
//!
//! ```
//! use carecircle::network::{Graph, LineInput};
//! use geo::{line_string, Point};
//! // An L-shaped street: 300 m east, then 400 m north.
//! let g = Graph::build(&[LineInput { coords: &line_string![(x: 0.0, y: 0.0), (x: 300.0, y: 0.0), (x: 300.0, y: 400.0)], node_ids: None, highway: None }]);
//! let d = g.distances_from(&[g.snap(Point::new(0.0, 10.0), 300.0).unwrap()], 10_000.0);
//! let end = g.snap(Point::new(300.0, 400.0), 300.0).unwrap();
//! // 10 m onto the street, 700 m along it.
//! assert!((g.cost_to(&d, &end).unwrap() - 710.0).abs() < 1e-9);
//! ```

use std::collections::HashMap;

use geo::{LineString, Point};
use rayon::prelude::*;
use rstar::{primitives::GeomWithData, primitives::Line as RLine, RTree};

use crate::coverage::access::{Accessibility, Reach};
use crate::progress::Progress;
use crate::{Error, Result};

/// A graph node (street junction or line end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);
/// An undirected street edge between two nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(pub u32);

/// One straight piece of an edge, with (edge, metres along the edge at its start).
type Segment = GeomWithData<RLine<[f64; 2]>, (u32, f32)>;

/// What the graph is built from (dataset network lines, or test lines).
pub struct LineInput<'a> {
    pub coords: &'a LineString<f64>,
    /// OSM node ids per vertex: lines join where they share an id. Without ids, lines join
    /// where vertices coincide to the millimetre.
    pub node_ids: Option<&'a [i64]>,
    pub highway: Option<&'a str>,
}

/// One street edge: its end nodes, length and shape (metres).
#[derive(Clone, Debug)]
pub struct Edge {
    pub a: NodeId,
    pub b: NodeId,
    pub length: f64,
    pub geometry: Vec<[f64; 2]>,
    /// highway=steps: kept for optional penalties.
    pub steps: bool,
}

/// Counts of what the builder dropped or merged.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuildStats {
    pub lines: usize,
    pub self_loops: usize,
    pub zero_length: usize,
    pub duplicates: usize,
}

/// The pedestrian graph: nodes, edges, CSR adjacency, connected components and an R-tree
/// over edge segments for snapping.
pub struct Graph {
    pub nodes: Vec<[f64; 2]>,
    pub edges: Vec<Edge>,
    /// CSR: neighbours of node n are `adj[offsets[n]..offsets[n+1]]`.
    offsets: Vec<u32>,
    adj: Vec<(u32, f64, u32)>,
    /// The hot part of `adj` for Dijkstra, as two flat arrays (better cache use).
    adj_to: Vec<u32>,
    adj_len: Vec<f64>,
    /// Component id per node; components sorted by size, 0 the largest.
    pub component: Vec<u32>,
    pub component_sizes: Vec<usize>,
    segments: RTree<Segment>,
    pub stats: BuildStats,
}

/// A point placed on the network: on edge `edge`, `along` metres from its node `a`,
/// `offset` metres off the street.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snap {
    pub edge: EdgeId,
    pub along: f64,
    pub offset: f64,
}

/// Per-node result of a Dijkstra run: cost (metres) and the source that reached it.
#[derive(Clone, Debug)]
pub struct Labels {
    pub cost: Vec<f64>,
    pub source: Vec<u32>,
    /// Sources snapped per edge, for points on the same edge as a source.
    on_edge: HashMap<u32, Vec<(u32, f64, f64)>>,
    pub max: f64,
}

/// A monotone radix heap over u64 keys (non-negative f64 bit patterns): Dijkstra pops keys
/// in non-decreasing order, so items only ever move to lower buckets — cheaper than a
/// binary heap's sift on every operation.
struct RadixHeap {
    last: u64,
    len: usize,
    buckets: [Vec<(u64, u32, u32)>; 65],
}

impl Default for RadixHeap {
    fn default() -> Self {
        Self {
            last: 0,
            len: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
        }
    }
}

impl RadixHeap {
    #[inline]
    fn bucket(&self, k: u64) -> usize {
        if k == self.last {
            0
        } else {
            64 - (k ^ self.last).leading_zeros() as usize
        }
    }
    #[inline]
    fn push(&mut self, k: u64, node: u32, src: u32) {
        debug_assert!(k >= self.last, "radix heap keys must not decrease");
        let b = self.bucket(k);
        self.buckets[b].push((k, node, src));
        self.len += 1;
    }
    fn pop(&mut self) -> Option<(u64, u32, u32)> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = (1..65).find(|i| !self.buckets[*i].is_empty())?;
            let items = std::mem::take(&mut self.buckets[i]);
            self.last = items.iter().map(|x| x.0).min().expect("non-empty");
            for it in &items {
                let b = self.bucket(it.0);
                self.buckets[b].push(*it);
            }
            // Keep the allocation for reuse.
            let mut items = items;
            items.clear();
            if self.buckets[i].is_empty() {
                self.buckets[i] = items;
            }
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}

impl Graph {
    /// Builds the graph: lines are split at every vertex shared with another line (or at
    /// their ends); self-loops and zero-length pieces are dropped; parallel duplicates keep
    /// the shortest.
    pub fn build(lines: &[LineInput]) -> Self {
        #[derive(Hash, PartialEq, Eq, Clone, Copy)]
        enum Key {
            Osm(i64),
            Mm(i64, i64),
        }
        let key = |l: &LineInput, i: usize| match l.node_ids {
            Some(ids) if ids.len() == l.coords.0.len() => Key::Osm(ids[i]),
            _ => {
                let c = l.coords.0[i];
                Key::Mm((c.x * 1000.0).round() as i64, (c.y * 1000.0).round() as i64)
            }
        };
        let mut uses: HashMap<Key, u32> = HashMap::new();
        for l in lines {
            let n = l.coords.0.len();
            for i in 0..n {
                *uses.entry(key(l, i)).or_default() += if i == 0 || i + 1 == n { 2 } else { 1 };
            }
        }
        let mut node_of: HashMap<Key, u32> = HashMap::new();
        let mut nodes: Vec<[f64; 2]> = Vec::new();
        let mut stats = BuildStats {
            lines: lines.len(),
            ..Default::default()
        };
        let mut best: HashMap<(u32, u32), usize> = HashMap::new();
        let mut edges: Vec<Edge> = Vec::new();
        for l in lines {
            let n = l.coords.0.len();
            if n < 2 {
                continue;
            }
            let steps = l.highway == Some("steps");
            let mut start: Option<u32> = None;
            let mut geom: Vec<[f64; 2]> = Vec::new();
            let mut len = 0.0;
            for i in 0..n {
                let c = l.coords.0[i];
                if let Some(p) = geom.last() {
                    len += ((c.x - p[0]).powi(2) + (c.y - p[1]).powi(2)).sqrt();
                }
                geom.push([c.x, c.y]);
                let k = key(l, i);
                if uses[&k] < 2 {
                    continue;
                }
                let id = *node_of.entry(k).or_insert_with(|| {
                    nodes.push([c.x, c.y]);
                    (nodes.len() - 1) as u32
                });
                if let Some(s) = start {
                    if s == id {
                        stats.self_loops += 1;
                    } else if len <= 0.0 {
                        stats.zero_length += 1;
                    } else {
                        let pair = (s.min(id), s.max(id));
                        let e = Edge {
                            a: NodeId(s),
                            b: NodeId(id),
                            length: len,
                            geometry: std::mem::take(&mut geom),
                            steps,
                        };
                        match best.get(&pair) {
                            Some(&j) => {
                                stats.duplicates += 1;
                                if e.length < edges[j].length {
                                    edges[j] = e;
                                }
                            }
                            None => {
                                best.insert(pair, edges.len());
                                edges.push(e);
                            }
                        }
                    }
                }
                start = Some(id);
                geom.clear();
                geom.push([c.x, c.y]);
                len = 0.0;
            }
        }
        Self::from_parts(nodes, edges, stats)
    }

    /// A graph from nodes and edges directly (synthetic grids, tests).
    pub fn from_parts(nodes: Vec<[f64; 2]>, edges: Vec<Edge>, stats: BuildStats) -> Self {
        let n = nodes.len();
        let mut deg = vec![0u32; n + 1];
        for e in &edges {
            deg[e.a.0 as usize] += 1;
            deg[e.b.0 as usize] += 1;
        }
        let mut offsets = vec![0u32; n + 1];
        for i in 0..n {
            offsets[i + 1] = offsets[i] + deg[i];
        }
        let mut fill = offsets.clone();
        let mut adj = vec![(0u32, 0.0f64, 0u32); offsets[n] as usize];
        for (k, e) in edges.iter().enumerate() {
            let (a, b) = (e.a.0 as usize, e.b.0 as usize);
            adj[fill[a] as usize] = (e.b.0, e.length, k as u32);
            fill[a] += 1;
            adj[fill[b] as usize] = (e.a.0, e.length, k as u32);
            fill[b] += 1;
        }
        // Components by union-find.
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(p: &mut [u32], mut x: u32) -> u32 {
            while p[x as usize] != x {
                p[x as usize] = p[p[x as usize] as usize];
                x = p[x as usize];
            }
            x
        }
        for e in &edges {
            let (ra, rb) = (find(&mut parent, e.a.0), find(&mut parent, e.b.0));
            if ra != rb {
                parent[ra.max(rb) as usize] = ra.min(rb);
            }
        }
        let roots: Vec<u32> = (0..n as u32).map(|x| find(&mut parent, x)).collect();
        let mut size = vec![0usize; n];
        for r in &roots {
            size[*r as usize] += 1;
        }
        let mut order: Vec<(usize, u32)> = (0..n as u32)
            .filter(|r| size[*r as usize] > 0)
            .map(|r| (size[r as usize], r))
            .collect();
        order.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut comp_of = vec![0u32; n];
        for (i, (_, r)) in order.iter().enumerate() {
            comp_of[*r as usize] = i as u32;
        }
        let component = roots.iter().map(|r| comp_of[*r as usize]).collect();
        let component_sizes = order.iter().map(|(s, _)| *s).collect();
        let mut segs = Vec::new();
        for (k, e) in edges.iter().enumerate() {
            let mut along = 0.0f64;
            for w in e.geometry.windows(2) {
                segs.push(GeomWithData::new(
                    RLine::new(w[0], w[1]),
                    (k as u32, along as f32),
                ));
                along += ((w[1][0] - w[0][0]).powi(2) + (w[1][1] - w[0][1]).powi(2)).sqrt();
            }
        }
        Graph {
            nodes,
            edges,
            offsets,
            adj_to: adj.iter().map(|a| a.0).collect(),
            adj_len: adj.iter().map(|a| a.1).collect(),
            adj,
            component,
            component_sizes,
            segments: RTree::bulk_load(segs),
            stats,
        }
    }

    /// Builds the graph of a dataset's network lines.
    pub fn from_dataset(ds: &crate::Dataset) -> Self {
        let inputs: Vec<LineInput> = ds
            .network
            .iter()
            .map(|l| LineInput {
                coords: &l.geometry,
                node_ids: l.node_ids.as_deref(),
                highway: l.highway.as_deref(),
            })
            .collect();
        Self::build(&inputs)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }
    pub fn neighbours(&self, n: u32) -> &[(u32, f64, u32)] {
        &self.adj[self.offsets[n as usize] as usize..self.offsets[n as usize + 1] as usize]
    }

    /// Places `p` on the nearest street segment (not just the nearest node); `None` when the
    /// nearest street is farther than `max_snap` metres.
    pub fn snap(&self, p: Point<f64>, max_snap: f64) -> Option<Snap> {
        let q = [p.x(), p.y()];
        let (seg, d2) = self
            .segments
            .nearest_neighbor_iter_with_distance_2(&q)
            .next()?;
        if d2 > max_snap * max_snap {
            return None;
        }
        let (a, b) = (seg.geom().from, seg.geom().to);
        let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
        let l2 = dx * dx + dy * dy;
        let t = if l2 > 0.0 {
            (((q[0] - a[0]) * dx + (q[1] - a[1]) * dy) / l2).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (edge, start) = seg.data;
        let e = &self.edges[edge as usize];
        let along = (start as f64 + t * l2.sqrt()).min(e.length);
        Some(Snap {
            edge: EdgeId(edge),
            along,
            offset: d2.sqrt(),
        })
    }

    /// A snap exactly at node `n` (for sources and targets that are junctions); `None` for a
    /// node with no edges.
    pub fn at_node(&self, n: u32) -> Option<Snap> {
        let &(_, _, e) = self.neighbours(n).first()?;
        let edge = &self.edges[e as usize];
        Some(Snap {
            edge: EdgeId(e),
            along: if edge.a.0 == n { 0.0 } else { edge.length },
            offset: 0.0,
        })
    }

    /// Node key for comparing with other implementations (networkx) on the same edges:
    /// millimetre coordinates plus the node number, because OSM can hold distinct,
    /// unconnected nodes at one position (bridges over streets, stacked crossings).
    pub fn node_key(&self, n: u32) -> String {
        let [x, y] = self.nodes[n as usize];
        format!(
            "{}_{}_{n}",
            (x * 1000.0).round() as i64,
            (y * 1000.0).round() as i64
        )
    }

    /// Edges as CSV `u,v,length_m` with node keys, sorted: the exact input another
    /// implementation needs, and a content fingerprint of the graph.
    pub fn edges_csv(&self) -> String {
        let mut rows: Vec<String> = self
            .edges
            .iter()
            .map(|e| {
                format!(
                    "{},{},{:.6}",
                    self.node_key(e.a.0),
                    self.node_key(e.b.0),
                    e.length
                )
            })
            .collect();
        rows.sort();
        let mut s = String::from("u,v,length_m\n");
        for r in rows {
            s.push_str(&r);
            s.push('\n');
        }
        s
    }

    /// The component a snapped point lies in (0 = the largest).
    pub fn component_of(&self, s: &Snap) -> u32 {
        self.component[self.edges[s.edge.0 as usize].a.0 as usize]
    }

    /// Multi-source Dijkstra bounded by `max` metres from all `sources` at once: every node
    /// gets its walking cost and the source that reaches it first. Source `i` is
    /// `sources[i]`; the cost includes its off-street distance.
    pub fn distances_from(&self, sources: &[Snap], max: f64) -> Labels {
        let n = self.nodes.len();
        let mut cost = vec![f64::INFINITY; n];
        let mut source = vec![u32::MAX; n];
        let mut on_edge: HashMap<u32, Vec<(u32, f64, f64)>> = HashMap::new();
        // Tentative costs are recorded at push time (lazy deletion of stale heap entries),
        // so each node is pushed only when its cost improves. Ties go to the smaller source.
        // Heap keys: non-negative f64 bit patterns order like the numbers.
        let mut heap = RadixHeap::default();
        let relax = |cost: &mut [f64],
                     source: &mut [u32],
                     heap: &mut RadixHeap,
                     node: u32,
                     c: f64,
                     src: u32| {
            let k = node as usize;
            if c <= max && (c < cost[k] || (c == cost[k] && src < source[k])) {
                cost[k] = c;
                source[k] = src;
                heap.push(c.to_bits(), node, src);
            }
        };
        for (i, s) in sources.iter().enumerate() {
            let e = &self.edges[s.edge.0 as usize];
            on_edge
                .entry(s.edge.0)
                .or_default()
                .push((i as u32, s.along, s.offset));
            relax(
                &mut cost,
                &mut source,
                &mut heap,
                e.a.0,
                s.offset + s.along,
                i as u32,
            );
            relax(
                &mut cost,
                &mut source,
                &mut heap,
                e.b.0,
                s.offset + e.length - s.along,
                i as u32,
            );
        }
        while let Some((bits, node, src)) = heap.pop() {
            let k = node as usize;
            let c = f64::from_bits(bits);
            if c > cost[k] || src != source[k] {
                continue; // stale
            }
            let (a, b) = (self.offsets[k] as usize, self.offsets[k + 1] as usize);
            for i in a..b {
                relax(
                    &mut cost,
                    &mut source,
                    &mut heap,
                    self.adj_to[i],
                    c + self.adj_len[i],
                    src,
                );
            }
        }
        Labels {
            cost,
            source,
            on_edge,
            max,
        }
    }

    /// Walking cost (metres) from the nearest source to a snapped point, with that source;
    /// `None` beyond the bound.
    pub fn nearest_source(&self, l: &Labels, s: &Snap) -> Option<(u32, f64)> {
        let e = &self.edges[s.edge.0 as usize];
        let mut best: Option<(u32, f64)> = None;
        let mut consider = |src: u32, c: f64| {
            if c <= l.max && best.is_none_or(|(bs, bc)| c < bc || (c == bc && src < bs)) {
                best = Some((src, c));
            }
        };
        let (ca, cb) = (l.cost[e.a.0 as usize], l.cost[e.b.0 as usize]);
        if ca.is_finite() {
            consider(l.source[e.a.0 as usize], ca + s.along + s.offset);
        }
        if cb.is_finite() {
            consider(l.source[e.b.0 as usize], cb + e.length - s.along + s.offset);
        }
        if let Some(v) = l.on_edge.get(&s.edge.0) {
            for &(src, along, off) in v {
                consider(src, off + (along - s.along).abs() + s.offset);
            }
        }
        best
    }

    /// Cost only (see [`Graph::nearest_source`]).
    pub fn cost_to(&self, l: &Labels, s: &Snap) -> Option<f64> {
        self.nearest_source(l, s).map(|x| x.1)
    }

    /// Edges fully or partly within `max` of the sources, with the reached length along
    /// each: the raw material of catchment bands (draw, buffer, or export).
    pub fn reached_edges(&self, l: &Labels, limit: f64) -> Vec<(EdgeId, f64, f64)> {
        let mut out = Vec::new();
        for (k, e) in self.edges.iter().enumerate() {
            let (ca, cb) = (l.cost[e.a.0 as usize], l.cost[e.b.0 as usize]);
            let from_a = if ca <= limit {
                (limit - ca).min(e.length)
            } else {
                0.0
            };
            let from_b = if cb <= limit {
                (limit - cb).min(e.length)
            } else {
                0.0
            };
            if from_a > 0.0 || from_b > 0.0 {
                out.push((EdgeId(k as u32), from_a, from_b));
            }
        }
        out
    }
}

impl Graph {
    /// The area within `limit` metres of walking from the sources, as polygons for display
    /// and export: every reached stretch of street, sampled every half cell, buffered by
    /// `buffer` metres on a `cell`-metre raster, and the raster's row runs dissolved into
    /// one MultiPolygon (local metres).
    pub fn band_polygon(
        &self,
        l: &Labels,
        limit: f64,
        buffer: f64,
        cell: f64,
    ) -> geo::MultiPolygon<f64> {
        // Extent: reached nodes and on-edge sources, grown by the buffer.
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        let mut grow = |p: [f64; 2]| {
            x0 = x0.min(p[0]);
            y0 = y0.min(p[1]);
            x1 = x1.max(p[0]);
            y1 = y1.max(p[1]);
        };
        let mut edges: Vec<usize> = Vec::new();
        for (k, e) in self.edges.iter().enumerate() {
            let (ca, cb) = (l.cost[e.a.0 as usize], l.cost[e.b.0 as usize]);
            if ca <= limit || cb <= limit || l.on_edge.contains_key(&(k as u32)) {
                edges.push(k);
                for p in &e.geometry {
                    grow(*p);
                }
            }
        }
        if edges.is_empty() {
            return geo::MultiPolygon(Vec::new());
        }
        let gx = ((x0 - buffer) / cell).floor() as i64;
        let gy = ((y0 - buffer) / cell).floor() as i64;
        let nx = (((x1 + buffer) / cell).ceil() as i64 - gx + 1) as usize;
        let ny = (((y1 + buffer) / cell).ceil() as i64 - gy + 1) as usize;
        let mut on = vec![false; nx * ny];
        let r_cells = (buffer / cell).ceil() as i64;
        let step = cell.min(buffer).max(0.5);
        for k in edges {
            let e = &self.edges[k];
            let (ca, cb) = (l.cost[e.a.0 as usize], l.cost[e.b.0 as usize]);
            let on_e = l.on_edge.get(&(k as u32));
            let cost_at = |t: f64| {
                let mut c = (ca + t).min(cb + e.length - t);
                if let Some(v) = on_e {
                    for &(_, along, off) in v {
                        c = c.min(off + (along - t).abs());
                    }
                }
                c
            };
            let mut along = 0.0;
            for w in e.geometry.windows(2) {
                let (a, b) = (w[0], w[1]);
                let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
                let n = (len / step).ceil().max(1.0) as usize;
                for i in 0..=n {
                    let f = i as f64 / n as f64;
                    if cost_at(along + f * len) > limit {
                        continue;
                    }
                    let (x, y) = (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]));
                    let (ci, cj) = (
                        (x / cell).floor() as i64 - gx,
                        (y / cell).floor() as i64 - gy,
                    );
                    for dj in -r_cells..=r_cells {
                        for di in -r_cells..=r_cells {
                            let (i, j) = (ci + di, cj + dj);
                            if i < 0 || j < 0 || i >= nx as i64 || j >= ny as i64 {
                                continue;
                            }
                            let cx = (i + gx) as f64 * cell + cell / 2.0;
                            let cy = (j + gy) as f64 * cell + cell / 2.0;
                            if (cx - x).powi(2) + (cy - y).powi(2) <= buffer * buffer {
                                on[j as usize * nx + i as usize] = true;
                            }
                        }
                    }
                }
                along += len;
            }
        }
        // Row runs → rectangles → one dissolved MultiPolygon.
        let mut rects: Vec<geo::Polygon<f64>> = Vec::new();
        for j in 0..ny {
            let row = &on[j * nx..(j + 1) * nx];
            let mut i = 0;
            while i < nx {
                if !row[i] {
                    i += 1;
                    continue;
                }
                let start = i;
                while i < nx && row[i] {
                    i += 1;
                }
                let x0 = (start as i64 + gx) as f64 * cell;
                let x1 = (i as i64 + gx) as f64 * cell;
                let y0 = (j as i64 + gy) as f64 * cell;
                rects.push(geo::Rect::new((x0, y0), (x1, y0 + cell)).to_polygon());
            }
        }
        geo::unary_union(&rects)
    }
}

/// Magic and version of the graph cache file.
const CACHE_MAGIC: &[u8; 8] = b"CCGRAPH1";

impl Graph {
    /// A content fingerprint of the network lines a graph would be built from (coordinates,
    /// OSM node ids, highway=steps), so a cached graph is used only for identical input.
    pub fn fingerprint(ds: &crate::Dataset) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(CACHE_MAGIC);
        for l in &ds.network {
            h.update((l.geometry.0.len() as u64).to_le_bytes());
            for c in &l.geometry.0 {
                h.update(c.x.to_bits().to_le_bytes());
                h.update(c.y.to_bits().to_le_bytes());
            }
            match &l.node_ids {
                Some(ids) => {
                    h.update([1u8]);
                    for id in ids {
                        h.update(id.to_le_bytes());
                    }
                }
                None => h.update([0u8]),
            }
            h.update([(l.highway.as_deref() == Some("steps")) as u8]);
        }
        format!("{:x}", h.finalize())
    }

    /// Serialises nodes and edges (the rest is derived on load).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(16 + self.nodes.len() * 16 + self.edges.len() * 64);
        b.extend_from_slice(CACHE_MAGIC);
        let stats = [
            self.stats.lines,
            self.stats.self_loops,
            self.stats.zero_length,
            self.stats.duplicates,
        ];
        for v in stats {
            b.extend_from_slice(&(v as u64).to_le_bytes());
        }
        b.extend_from_slice(&(self.nodes.len() as u64).to_le_bytes());
        for n in &self.nodes {
            b.extend_from_slice(&n[0].to_le_bytes());
            b.extend_from_slice(&n[1].to_le_bytes());
        }
        b.extend_from_slice(&(self.edges.len() as u64).to_le_bytes());
        for e in &self.edges {
            b.extend_from_slice(&e.a.0.to_le_bytes());
            b.extend_from_slice(&e.b.0.to_le_bytes());
            b.extend_from_slice(&e.length.to_le_bytes());
            b.push(e.steps as u8);
            b.extend_from_slice(&(e.geometry.len() as u32).to_le_bytes());
            for p in &e.geometry {
                b.extend_from_slice(&p[0].to_le_bytes());
                b.extend_from_slice(&p[1].to_le_bytes());
            }
        }
        b
    }

    /// Reads [`Graph::to_bytes`]; `None` for a truncated, foreign or inconsistent file (the
    /// caller then rebuilds — a cache can never produce a wrong graph silently).
    pub fn from_bytes(b: &[u8]) -> Option<Self> {
        struct R<'a>(&'a [u8]);
        impl R<'_> {
            fn take(&mut self, n: usize) -> Option<&[u8]> {
                if self.0.len() < n {
                    return None;
                }
                let (a, rest) = self.0.split_at(n);
                self.0 = rest;
                Some(a)
            }
            fn u64(&mut self) -> Option<u64> {
                Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
            }
            fn u32(&mut self) -> Option<u32> {
                Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
            }
            fn f64(&mut self) -> Option<f64> {
                Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
            }
        }
        let mut r = R(b);
        if r.take(8)? != CACHE_MAGIC {
            return None;
        }
        let stats = BuildStats {
            lines: r.u64()? as usize,
            self_loops: r.u64()? as usize,
            zero_length: r.u64()? as usize,
            duplicates: r.u64()? as usize,
        };
        let n = r.u64()? as usize;
        if n > b.len() / 16 {
            return None;
        }
        let mut nodes = Vec::with_capacity(n);
        for _ in 0..n {
            nodes.push([r.f64()?, r.f64()?]);
        }
        let m = r.u64()? as usize;
        if m > b.len() / 25 {
            return None;
        }
        let mut edges = Vec::with_capacity(m);
        for _ in 0..m {
            let (a, bb, length) = (r.u32()?, r.u32()?, r.f64()?);
            let steps = r.take(1)?[0] != 0;
            let k = r.u32()? as usize;
            if a as usize >= n
                || bb as usize >= n
                || k > r.0.len() / 16
                || length.is_nan()
                || length <= 0.0
            {
                return None;
            }
            let mut geometry = Vec::with_capacity(k);
            for _ in 0..k {
                geometry.push([r.f64()?, r.f64()?]);
            }
            edges.push(Edge {
                a: NodeId(a),
                b: NodeId(bb),
                length,
                geometry,
                steps,
            });
        }
        if !r.0.is_empty() {
            return None;
        }
        Some(Self::from_parts(nodes, edges, stats))
    }

    /// The graph of a dataset, from the cache folder when a graph of identical network
    /// lines was built before, else built and written there (atomically). Returns whether
    /// the cache was used. Cache problems never fail the call: the graph is then built.
    pub fn load_or_build(ds: &crate::Dataset, cache_dir: &std::path::Path) -> (Self, bool) {
        let path = cache_dir.join(format!("graph-{}.bin", &Self::fingerprint(ds)[..16]));
        if let Ok(bytes) = std::fs::read(&path) {
            if let Some(g) = Self::from_bytes(&bytes) {
                return (g, true);
            }
        }
        let g = Self::from_dataset(ds);
        if std::fs::create_dir_all(cache_dir).is_ok() {
            let _ = crate::io::geojson::write_atomic(&path, &g.to_bytes());
        }
        (g, false)
    }

    /// Where a dataset's graph cache lives: `.carecircle-cache/` in the dataset's folder.
    pub fn cache_dir(ds: &crate::Dataset) -> std::path::PathBuf {
        let base = if ds.source.is_dir() {
            ds.source.clone()
        } else {
            ds.source
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_default()
        };
        base.join(".carecircle-cache")
    }
}

/// Size of the walking graph a dataset's lines make (after splitting at shared nodes and
/// dropping self-loops, zero-length pieces and parallel duplicates).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NetworkStats {
    pub vertices: usize,
    pub edges: usize,
    pub length_m: f64,
}

pub fn network_stats(ds: &crate::Dataset) -> NetworkStats {
    let g = Graph::from_dataset(ds);
    NetworkStats {
        vertices: g.node_count(),
        edges: g.edge_count(),
        length_m: g.edges.iter().map(|e| e.length).sum(),
    }
}

/// Walking-network reach for the coverage engine. Points farther than `max_snap` from any
/// street are unreachable (reported, never silently snapped far away).
pub struct NetworkAccess<'g> {
    pub graph: &'g Graph,
    pub max_snap: f64,
}

impl NetworkAccess<'_> {
    fn snap_all(&self, pts: &[Point<f64>]) -> Vec<Option<Snap>> {
        pts.par_iter()
            .map(|p| self.graph.snap(*p, self.max_snap))
            .collect()
    }
}

impl Accessibility for NetworkAccess<'_> {
    fn mode(&self) -> &'static str {
        "network"
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
        let os = self.snap_all(origins);
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
        let os = self.snap_all(origins);
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
        let os = self.snap_all(origins);
        let ts = self.snap_all(targets);
        // Origins by edge, to read them off each facility's labels.
        let mut by_edge: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, s) in os.iter().enumerate() {
            if let Some(s) = s {
                by_edge.entry(s.edge.0).or_default().push(i as u32);
            }
        }
        let pairs: Vec<Vec<(u32, u32, f32)>> = ts
            .par_iter()
            .enumerate()
            .map(|(j, t)| {
                let Some(t) = t else { return Vec::new() };
                if progress.is_cancelled() {
                    return Vec::new();
                }
                let l = self.graph.distances_from(std::slice::from_ref(t), max_m);
                let mut out = Vec::new();
                for (e, _, _) in self.graph.reached_edges(&l, max_m) {
                    if let Some(v) = by_edge.get(&e.0) {
                        for &o in v {
                            if let Some(c) =
                                self.graph.cost_to(&l, os[o as usize].as_ref().unwrap())
                            {
                                out.push((o, j as u32, c as f32));
                            }
                        }
                    }
                }
                // The facility's own edge when no node was reached.
                if let Some(v) = by_edge.get(&t.edge.0) {
                    for &o in v {
                        if !out.iter().any(|x| x.0 == o) {
                            if let Some(c) =
                                self.graph.cost_to(&l, os[o as usize].as_ref().unwrap())
                            {
                                out.push((o, j as u32, c as f32));
                            }
                        }
                    }
                }
                out
            })
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
    use geo::line_string;

    fn li(l: &LineString<f64>) -> LineInput<'_> {
        LineInput {
            coords: l,
            node_ids: None,
            highway: None,
        }
    }

    /// A square block 0..100 with a diagonal shortcut missing: costs by hand.
    #[test]
    fn hand_built_graph_distances() {
        let ls = [
            line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 100.0)],
            line_string![(x: 100.0, y: 100.0), (x: 0.0, y: 100.0), (x: 0.0, y: 0.0)],
            // A spur from (100,0) east 50 m, and a duplicate longer parallel edge.
            line_string![(x: 100.0, y: 0.0), (x: 150.0, y: 0.0)],
            line_string![(x: 100.0, y: 0.0), (x: 125.0, y: 10.0), (x: 150.0, y: 0.0)],
            // A self-loop and an island.
            line_string![(x: 0.0, y: 0.0), (x: -10.0, y: -10.0), (x: 0.0, y: 0.0)],
            line_string![(x: 1000.0, y: 0.0), (x: 1010.0, y: 0.0)],
        ];
        let inputs: Vec<_> = ls.iter().map(li).collect();
        let g = Graph::build(&inputs);
        // Nodes: (0,0) (100,0) (100,100) (0,100)? (0,100) is an interior vertex used once: not
        // a node. So nodes (0,0), (100,0), (100,100), (150,0), (1000,0), (1010,0).
        assert_eq!(g.node_count(), 6);
        assert_eq!(g.stats.duplicates, 1);
        assert_eq!(g.stats.self_loops, 1);
        assert_eq!(g.component_sizes, vec![4, 2]);
        let src = g.snap(Point::new(0.0, -5.0), 300.0).unwrap();
        assert!((src.offset - 5.0).abs() < 1e-12);
        let l = g.distances_from(&[src], 10_000.0);
        let at = |x: f64, y: f64| {
            g.cost_to(&l, &g.snap(Point::new(x, y), 300.0).unwrap())
                .unwrap()
        };
        assert!((at(150.0, 0.0) - 155.0).abs() < 1e-9);
        assert!((at(100.0, 100.0) - 205.0).abs() < 1e-9);
        // (0,100) is reached the short way round: west side, 100 m.
        assert!((at(0.0, 100.0) - 105.0).abs() < 1e-9);
        // A point 20 m north of (50,0): same edge as the source — direct, not via nodes.
        assert!((at(50.0, 20.0) - (5.0 + 50.0 + 20.0)).abs() < 1e-9);
        // The island is unreachable; a point far from any street does not snap.
        let island = g.snap(Point::new(1005.0, 0.0), 300.0).unwrap();
        assert_eq!(g.cost_to(&l, &island), None);
        assert_eq!(g.component_of(&island), 1);
        assert!(g.snap(Point::new(5000.0, 5000.0), 300.0).is_none());
        // Bounded: nothing beyond 120 m.
        let l = g.distances_from(&[src], 120.0);
        assert_eq!(
            g.cost_to(&l, &g.snap(Point::new(150.0, 0.0), 300.0).unwrap()),
            None
        );
        assert!(g
            .cost_to(&l, &g.snap(Point::new(100.0, 20.0), 300.0).unwrap())
            .is_none());
        assert!(
            (g.cost_to(&l, &g.snap(Point::new(100.0, 10.0), 300.0).unwrap())
                .unwrap()
                - 115.0)
                .abs()
                < 1e-9
        );
        assert!(
            (g.cost_to(&l, &g.snap(Point::new(100.0, 0.0), 300.0).unwrap())
                .unwrap()
                - 105.0)
                .abs()
                < 1e-9
        );
    }

    #[test]
    fn band_polygon_covers_the_reached_street_and_not_beyond() {
        use geo::{Area, Contains};
        // A straight 1000 m street; source at its west end; band of 300 m, 20 m buffer.
        let l = line_string![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0)];
        let g = Graph::build(&[li(&l)]);
        let lab = g.distances_from(&[g.snap(Point::new(0.0, 0.0), 10.0).unwrap()], 5000.0);
        let band = g.band_polygon(&lab, 300.0, 20.0, 5.0);
        assert_eq!(band.0.len(), 1, "one dissolved polygon");
        assert!(band.contains(&Point::new(150.0, 10.0)));
        assert!(band.contains(&Point::new(290.0, -10.0)));
        assert!(!band.contains(&Point::new(150.0, 30.0)));
        assert!(!band.contains(&Point::new(340.0, 0.0)));
        // About (300 + 2 × 20) × 40 m, give or take the raster.
        let a = band.unsigned_area();
        assert!((a - 340.0 * 40.0).abs() < 0.1 * 340.0 * 40.0, "{a}");
    }

    #[test]
    fn cache_round_trip_and_corrupt_files() {
        let a = line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 50.0)];
        let b = line_string![(x: 100.0, y: 0.0), (x: 200.0, y: 0.0)];
        let g = Graph::build(&[li(&a), li(&b)]);
        let bytes = g.to_bytes();
        let h = Graph::from_bytes(&bytes).unwrap();
        assert_eq!(h.nodes, g.nodes);
        assert_eq!(h.edge_count(), g.edge_count());
        assert_eq!(h.stats, g.stats);
        assert_eq!(h.edges_csv(), g.edges_csv());
        assert!(Graph::from_bytes(&bytes[..bytes.len() - 3]).is_none());
        assert!(Graph::from_bytes(b"CCGRAPH0").is_none());
        let mut bad = bytes.clone();
        bad.push(0);
        assert!(Graph::from_bytes(&bad).is_none());
    }

    #[test]
    fn multi_source_labels_the_nearest_source() {
        let l = line_string![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0)];
        let m = line_string![(x: 500.0, y: 0.0), (x: 500.0, y: 10.0)];
        let g = Graph::build(&[li(&l), li(&m)]);
        let s = [
            g.snap(Point::new(0.0, 0.0), 10.0).unwrap(),
            g.snap(Point::new(1000.0, 0.0), 10.0).unwrap(),
        ];
        let lab = g.distances_from(&s, 10_000.0);
        let p = g.snap(Point::new(300.0, 0.0), 10.0).unwrap();
        assert_eq!(g.nearest_source(&lab, &p), Some((0, 300.0)));
        let q = g.snap(Point::new(800.0, 0.0), 10.0).unwrap();
        assert_eq!(g.nearest_source(&lab, &q), Some((1, 200.0)));
    }

    #[test]
    fn access_matches_euclidean_on_a_straight_street_and_is_longer_around_a_block() {
        use crate::progress::NoProgress;
        // Two parallel streets 200 m apart, joined only at x = 0.
        let a = line_string![(x: 0.0, y: 0.0), (x: 1000.0, y: 0.0)];
        let b = line_string![(x: 0.0, y: 200.0), (x: 1000.0, y: 200.0)];
        let c = line_string![(x: 0.0, y: 0.0), (x: 0.0, y: 200.0)];
        let g = Graph::build(&[li(&a), li(&b), li(&c)]);
        let acc = NetworkAccess {
            graph: &g,
            max_snap: 300.0,
        };
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
}
