//! Placing points on the network: the nearest street segment within a distance.

use geo::Point;

use super::{EdgeId, Graph};

/// A point placed on the network: on edge `edge`, `along` metres from its node `a`,
/// `offset` metres off the street.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snap {
    pub edge: EdgeId,
    pub along: f64,
    pub offset: f64,
}

impl Graph {
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
        let line = seg.line();
        let (a, b) = (line.from, line.to);
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

    /// The component a snapped point lies in (0 = the largest).
    pub fn component_of(&self, s: &Snap) -> u32 {
        self.component[self.edges[s.edge.0 as usize].a.0 as usize]
    }
}
