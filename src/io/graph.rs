//! The walking graph of a dataset: built from its network lines, cached on disk by a
//! fingerprint of those lines, and its size for `info`. The graph module itself stays pure.

use std::path::{Path, PathBuf};

use crate::model::Dataset;
use crate::network::{Graph, LineInput, CACHE_MAGIC};

/// Builds the graph of a dataset's network lines.
pub fn graph_of(ds: &Dataset) -> Graph {
    let inputs: Vec<LineInput> = ds
        .network
        .iter()
        .map(|l| LineInput {
            coords: &l.geometry,
            node_ids: l.node_ids.as_deref(),
            highway: l.highway.as_deref(),
        })
        .collect();
    Graph::build(&inputs)
}

/// A content fingerprint of the network lines a graph would be built from (coordinates,
/// OSM node ids, highway=steps), so a cached graph is used only for identical input.
pub fn fingerprint(ds: &Dataset) -> String {
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

/// The graph of a dataset, from the cache folder when a graph of identical network
/// lines was built before, else built and written there (atomically). Returns whether
/// the cache was used. Cache problems never fail the call: the graph is then built.
pub fn load_or_build(ds: &Dataset, cache_dir: &Path) -> (Graph, bool) {
    let path = cache_dir.join(format!("graph-{}.bin", &fingerprint(ds)[..16]));
    if let Ok(bytes) = std::fs::read(&path) {
        if let Some(g) = Graph::from_bytes(&bytes) {
            return (g, true);
        }
    }
    let g = graph_of(ds);
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let _ = super::write::write_atomic(&path, &g.to_bytes());
    }
    (g, false)
}

/// Where a dataset's graph cache lives: `.carecircle-cache/` in the dataset's folder.
pub fn cache_dir(ds: &Dataset) -> PathBuf {
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

/// Size of the walking graph a dataset's lines make (after splitting at shared nodes and
/// dropping self-loops, zero-length pieces and parallel duplicates).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NetworkStats {
    pub vertices: usize,
    pub edges: usize,
    pub length_m: f64,
}

pub fn network_stats(ds: &Dataset) -> NetworkStats {
    let g = graph_of(ds);
    NetworkStats {
        vertices: g.node_count(),
        edges: g.edge_count(),
        length_m: g.edges.iter().map(|e| e.length).sum(),
    }
}
