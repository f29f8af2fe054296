//! Distance-bounded multi-source Dijkstra over a radix heap: who reaches each node first,
//! and at what walking cost.

use std::collections::HashMap;

use super::{EdgeId, Graph, Snap};

/// Per-node result of a Dijkstra run: cost (metres) and the source that reached it.
#[derive(Clone, Debug)]
pub struct Labels {
    pub cost: Vec<f64>,
    pub source: Vec<u32>,
    /// Sources snapped per edge, for points on the same edge as a source.
    pub(super) on_edge: HashMap<u32, Vec<(u32, f64, f64)>>,
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
    /// Empty, keeping the buckets' allocations.
    fn reset(&mut self) {
        for b in &mut self.buckets {
            b.clear();
        }
        self.last = 0;
        self.len = 0;
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

/// How far along an edge of `length` a walk that reached its end at `cost` goes within
/// `limit` (0 when the end is beyond it).
fn length_to_spare(cost: f64, limit: f64, length: f64) -> f64 {
    if cost <= limit {
        (limit - cost).min(length)
    } else {
        0.0
    }
}

/// Scratch space for [`Graph::reach_from`]: node costs kept at infinity between searches
/// (only the nodes a search touched are reset), so a search costs what it reaches, not the
/// size of the graph. One per thread.
pub struct Workspace {
    cost: Vec<f64>,
    touched: Vec<u32>,
    heap: RadixHeap,
}

impl Workspace {
    pub fn new(g: &Graph) -> Self {
        Workspace {
            cost: vec![f64::INFINITY; g.nodes.len()],
            touched: Vec::new(),
            heap: RadixHeap::default(),
        }
    }
}

/// What one bounded single-source search reached (see [`Graph::reach_from`]).
pub struct Reached<'w> {
    source: Snap,
    max: f64,
    cost: &'w [f64],
    /// The nodes within the bound, in the order they were first reached.
    pub nodes: &'w [u32],
}

impl Reached<'_> {
    /// Walking cost from the source to a snapped point, `None` beyond the bound: the same
    /// figure as [`Graph::cost_to`] on the labels of a one-source [`Graph::distances_from`].
    pub fn cost_to(&self, g: &Graph, s: &Snap) -> Option<f64> {
        let e = &g.edges[s.edge.0 as usize];
        let mut best: Option<f64> = None;
        let mut consider = |c: f64| {
            if c <= self.max && best.is_none_or(|b| c < b) {
                best = Some(c);
            }
        };
        let (ca, cb) = (self.cost[e.a.0 as usize], self.cost[e.b.0 as usize]);
        if ca.is_finite() {
            consider(ca + s.along + s.offset);
        }
        if cb.is_finite() {
            consider(cb + e.length - s.along + s.offset);
        }
        if s.edge == self.source.edge {
            consider(self.source.offset + (self.source.along - s.along).abs() + s.offset);
        }
        best
    }

    /// The edges [`Graph::reached_edges`] would list for `limit` (at least one end reached
    /// with length to spare), in increasing id order.
    pub fn edges(&self, g: &Graph, limit: f64) -> Vec<EdgeId> {
        let mut out: Vec<u32> = Vec::new();
        for &n in self.nodes {
            for &(_, _, e) in g.neighbours(n) {
                out.push(e);
            }
        }
        out.sort_unstable();
        out.dedup();
        out.retain(|&k| {
            let e = &g.edges[k as usize];
            let spare = |c: f64| length_to_spare(c, limit, e.length) > 0.0;
            spare(self.cost[e.a.0 as usize]) || spare(self.cost[e.b.0 as usize])
        });
        out.into_iter().map(EdgeId).collect()
    }
}

impl Graph {
    /// One-source Dijkstra bounded by `max` metres that touches only the nodes it reaches
    /// (costs identical to [`Graph::distances_from`] with that one source): the per-facility
    /// search of a catchment, run tens of thousands of times on a province's graph, where
    /// clearing whole-graph arrays each time cost more than the search.
    pub fn reach_from<'w>(&self, ws: &'w mut Workspace, source: &Snap, max: f64) -> Reached<'w> {
        for &k in &ws.touched {
            ws.cost[k as usize] = f64::INFINITY;
        }
        ws.touched.clear();
        debug_assert_eq!(
            ws.cost.len(),
            self.nodes.len(),
            "a workspace of another graph"
        );
        let Workspace {
            cost,
            touched,
            heap,
        } = ws;
        heap.reset();
        let relax =
            |cost: &mut [f64], touched: &mut Vec<u32>, heap: &mut RadixHeap, node: u32, c: f64| {
                let k = node as usize;
                if c <= max && c < cost[k] {
                    if cost[k].is_infinite() {
                        touched.push(node);
                    }
                    cost[k] = c;
                    heap.push(c.to_bits(), node, 0);
                }
            };
        let e = &self.edges[source.edge.0 as usize];
        relax(cost, touched, heap, e.a.0, source.offset + source.along);
        relax(
            cost,
            touched,
            heap,
            e.b.0,
            source.offset + e.length - source.along,
        );
        while let Some((bits, node, _)) = heap.pop() {
            let k = node as usize;
            let c = f64::from_bits(bits);
            if c > cost[k] {
                continue; // stale
            }
            let (a, b) = (self.offsets[k] as usize, self.offsets[k + 1] as usize);
            for i in a..b {
                relax(cost, touched, heap, self.adj_to[i], c + self.adj_len[i]);
            }
        }
        Reached {
            source: *source,
            max,
            cost,
            nodes: touched,
        }
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
            let (from_a, from_b) = (
                length_to_spare(ca, limit, e.length),
                length_to_spare(cb, limit, e.length),
            );
            if from_a > 0.0 || from_b > 0.0 {
                out.push((EdgeId(k as u32), from_a, from_b));
            }
        }
        out
    }
}
