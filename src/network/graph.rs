//! The graph itself: nodes, edges, CSR adjacency, connected components, the segment R-tree
//! for snapping, and its byte form for caches.

use std::collections::HashMap;

use geo::LineString;
use rstar::{primitives::Line as RLine, PointDistance, RTree, RTreeObject, AABB};

use super::NodeId;

/// One straight piece of an edge, with (edge, metres along the edge at its start). Its box
/// is kept, not derived per call: bulk-loading a province's two million segments compares
/// boxes tens of millions of times, and a line's box from its ends each time took 3 s of a
/// 3.5 s graph load. The ends are the box's corners (a box's corners are its line's
/// coordinates exactly), `flip` saying which: the same line, tree and searches, in 48
/// bytes rather than 72 for a line and a box.
#[derive(Clone, Debug)]
pub(super) struct Segment {
    envelope: AABB<[f64; 2]>,
    pub(super) data: (u32, f32),
    /// Bit 0: the line starts at the box's larger x; bit 1: at its larger y.
    flip: u8,
}

impl Segment {
    fn new(line: RLine<[f64; 2]>, data: (u32, f32)) -> Self {
        let flip = (line.from[0] > line.to[0]) as u8 | ((line.from[1] > line.to[1]) as u8) << 1;
        Self {
            envelope: line.envelope(),
            data,
            flip,
        }
    }

    /// The segment as a line, from its start.
    pub(super) fn line(&self) -> RLine<[f64; 2]> {
        let (lo, hi) = (self.envelope.lower(), self.envelope.upper());
        let pick = |bit: u8, k: usize| {
            if self.flip & bit != 0 {
                (hi[k], lo[k])
            } else {
                (lo[k], hi[k])
            }
        };
        let ((fx, tx), (fy, ty)) = (pick(1, 0), pick(2, 1));
        RLine::new([fx, fy], [tx, ty])
    }
}

impl RTreeObject for Segment {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

impl PointDistance for Segment {
    fn distance_2(&self, point: &[f64; 2]) -> f64 {
        self.line().distance_2(point)
    }
    fn contains_point(&self, point: &[f64; 2]) -> bool {
        self.line().contains_point(point)
    }
    /// rstar's default for a line (box first, then the line), with the kept box.
    fn distance_2_if_less_or_equal(&self, point: &[f64; 2], max_distance_2: f64) -> Option<f64> {
        if self.envelope.distance_2(point) > max_distance_2 {
            return None;
        }
        Some(self.line().distance_2(point)).filter(|d| *d <= max_distance_2)
    }
}

/// What the graph is built from (dataset network lines, or test lines).
pub struct LineInput<'a> {
    pub coords: &'a LineString<f64>,
    /// OSM node ids per vertex: lines join where they share an id. Without ids, lines join
    /// where vertices coincide to the millimetre.
    pub node_ids: Option<&'a [i64]>,
    pub highway: Option<&'a str>,
}

impl<'a> LineInput<'a> {
    /// A line with no OSM node ids or highway tag: lines join where vertices coincide.
    pub fn plain(coords: &'a LineString<f64>) -> Self {
        LineInput {
            coords,
            node_ids: None,
            highway: None,
        }
    }
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
    pub(super) offsets: Vec<u32>,
    pub(super) adj: Vec<(u32, f64, u32)>,
    /// The hot part of `adj` for Dijkstra, as two flat arrays (better cache use).
    pub(super) adj_to: Vec<u32>,
    pub(super) adj_len: Vec<f64>,
    /// Component id per node; components sorted by size, 0 the largest.
    pub component: Vec<u32>,
    pub component_sizes: Vec<usize>,
    pub(super) segments: RTree<Segment>,
    pub stats: BuildStats,
}

/// Magic and version of the graph's byte form (the cache file).
pub const CACHE_MAGIC: &[u8; 8] = b"CCGRAPH1";

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
                segs.push(Segment::new(
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

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }
    pub fn neighbours(&self, n: u32) -> &[(u32, f64, u32)] {
        &self.adj[self.offsets[n as usize] as usize..self.offsets[n as usize + 1] as usize]
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
        // Non-finite coordinates would break the snapping R-tree (fuzzing found the panic):
        // such bytes are not a graph.
        let finite = |p: [f64; 2]| (p[0].is_finite() && p[1].is_finite()).then_some(p);
        for _ in 0..n {
            nodes.push(finite([r.f64()?, r.f64()?])?);
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
                || !length.is_finite()
                || length <= 0.0
            {
                return None;
            }
            let mut geometry = Vec::with_capacity(k);
            for _ in 0..k {
                geometry.push(finite([r.f64()?, r.f64()?])?);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segment gives back its line exactly (every direction, vertical and horizontal
    /// lines, a point), and the tree's distances are the line's to the bit.
    #[test]
    fn segment_keeps_its_line_and_distances() {
        let mut rnd = crate::testkit::xorshift(9);
        let mut r = || (rnd() * 2000.0 - 1000.0).round() / 8.0;
        for k in 0..4000 {
            let from = [r(), r()];
            let mut to = [r(), r()];
            match k % 5 {
                0 => to[0] = from[0],
                1 => to[1] = from[1],
                2 => to = from,
                _ => {}
            }
            let line = RLine::new(from, to);
            let s = Segment::new(line, (k, 0.5));
            assert_eq!((s.line().from, s.line().to), (from, to), "{k}");
            assert_eq!(s.envelope(), line.envelope());
            let q = [r(), r()];
            assert_eq!(s.distance_2(&q).to_bits(), line.distance_2(&q).to_bits());
            for max in [0.0, 10.0, 1e4] {
                assert_eq!(
                    s.distance_2_if_less_or_equal(&q, max),
                    line.distance_2_if_less_or_equal(&q, max)
                );
            }
        }
    }
}
