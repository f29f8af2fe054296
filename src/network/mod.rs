//! The walking network: a pedestrian graph in compressed-sparse-row form, snapping of points
//! to the nearest street segment, and distance-bounded multi-source Dijkstra — the real
//! 15-minute circle along streets rather than a circle on the map.
//!
//! Pure: knows lines and points in metres, nothing of datasets, files, units, rules or UI.
//! `io::graph` builds it from a dataset and caches it on disk; `coverage::NetworkAccess`
//! plugs it into the coverage engine. One file per algorithm: [`graph`] (building, CSR,
//! components, byte form), [`snap`], [`dijkstra`], [`bands`].
//!
//! ```
//! use carecircle::network::{Graph, LineInput};
//! use geo::{line_string, Point};
//! // An L-shaped street: 300 m east, then 400 m north.
//! let g = Graph::build(&[LineInput::plain(&line_string![(x: 0.0, y: 0.0), (x: 300.0, y: 0.0), (x: 300.0, y: 400.0)])]);
//! let d = g.distances_from(&[g.snap(Point::new(0.0, 10.0), 300.0).unwrap()], 10_000.0);
//! let end = g.snap(Point::new(300.0, 400.0), 300.0).unwrap();
//! // 10 m onto the street, 700 m along it.
//! assert!((g.cost_to(&d, &end).unwrap() - 710.0).abs() < 1e-9);
//! ```

pub mod bands;
pub mod dijkstra;
pub mod graph;
pub mod snap;

pub use bands::{catchment_bands, Band, DEFAULT_BUFFER_M, DEFAULT_CELL_M, MAX_BAND_CELLS};
pub use dijkstra::{Labels, Reached, Workspace};
pub use graph::{BuildStats, Edge, Graph, LineInput, CACHE_MAGIC};
pub use snap::Snap;

/// A graph node (street junction or line end).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub u32);
/// An undirected street edge between two nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EdgeId(pub u32);

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, Point};

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
        let inputs: Vec<_> = ls.iter().map(LineInput::plain).collect();
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
        let g = Graph::build(&[LineInput::plain(&l)]);
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
        let g = Graph::build(&[LineInput::plain(&a), LineInput::plain(&b)]);
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
        let g = Graph::build(&[LineInput::plain(&l), LineInput::plain(&m)]);
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
}
