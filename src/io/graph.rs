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

/// How `load_or_build` got its graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Read from the cache (checksum verified).
    Read,
    /// Built: there was no cache for these lines.
    Built,
    /// Built again because the cached file failed its check; says why.
    Rebuilt(String),
}

/// The cache file's header: a tag naming the format and the builder's version, then the
/// SHA-256 of the payload (the graph's own bytes), so that any change to the file — a
/// flipped byte, a truncated write, another version's graph — is caught before use.
const CACHE_TAG: &[u8; 16] = b"CCGRAPH-SHA256-2";
/// The builder's version: a graph built by other code is rebuilt, not trusted.
const BUILDER: &str = env!("CARGO_PKG_VERSION");

/// The cache file for a graph: tag, builder version (length-prefixed), checksum, payload.
pub fn cache_bytes(g: &Graph) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let payload = g.to_bytes();
    let mut b = Vec::with_capacity(payload.len() + 64);
    b.extend_from_slice(CACHE_TAG);
    b.push(BUILDER.len() as u8);
    b.extend_from_slice(BUILDER.as_bytes());
    b.extend_from_slice(&Sha256::digest(&payload));
    b.extend_from_slice(&payload);
    b
}

/// The graph in a cache file, or why it cannot be trusted.
pub fn from_cache_bytes(b: &[u8]) -> Result<Graph, String> {
    use sha2::{Digest, Sha256};
    let rest = b
        .strip_prefix(CACHE_TAG.as_slice())
        .ok_or("not a graph cache of this format")?;
    let (&n, rest) = rest.split_first().ok_or("truncated")?;
    let n = n as usize;
    if rest.len() < n + 32 {
        return Err("truncated".into());
    }
    if &rest[..n] != BUILDER.as_bytes() {
        return Err(format!(
            "built by version {}, this is {BUILDER}",
            String::from_utf8_lossy(&rest[..n])
        ));
    }
    let (sum, payload) = rest[n..].split_at(32);
    if Sha256::digest(payload)[..] != *sum {
        return Err("checksum mismatch (the file changed after it was written)".into());
    }
    Graph::from_bytes(payload).ok_or_else(|| "unreadable graph".into())
}

/// The graph of a dataset, from the cache folder when a graph of identical network
/// lines was built before and the file passes its checksum, else built and written there
/// (atomically). Cache problems never fail the call and never give a wrong graph: the
/// graph is then built, and [`CacheUse::Rebuilt`] says why.
pub fn load_or_build(ds: &Dataset, cache_dir: &Path) -> (Graph, CacheUse) {
    let path = cache_dir.join(format!("graph-{}.bin", &fingerprint(ds)[..16]));
    let mut how = CacheUse::Built;
    if let Ok(bytes) = std::fs::read(&path) {
        match from_cache_bytes(&bytes) {
            Ok(g) => return (g, CacheUse::Read),
            Err(why) => how = CacheUse::Rebuilt(why),
        }
    }
    let g = graph_of(ds);
    if std::fs::create_dir_all(cache_dir).is_ok() {
        let _ = super::write::write_atomic(&path, &cache_bytes(&g));
    }
    (g, how)
}

/// Where a dataset's graph cache lives: `.carecircle-cache/` in the dataset's folder, or —
/// when that folder cannot be written (an installed demo in /usr/share, read-only media, a
/// network share without rights) — `cache/<tag>` in the user's data directory, one per
/// source folder. The cache is checked by checksum either way.
pub fn cache_dir(ds: &Dataset) -> PathBuf {
    let base = super::edits::data_folder(ds);
    let beside = base.join(".carecircle-cache");
    if beside.is_dir() && crate::files::can_write_in(&beside) || crate::files::can_write_in(&base) {
        return beside;
    }
    let abs = std::fs::canonicalize(&base).unwrap_or(base);
    crate::files::user_data_dir()
        .join("cache")
        .join(crate::files::short_hash(abs.to_string_lossy().as_bytes()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::LineInput;
    use geo::line_string;

    fn small() -> Graph {
        let a = line_string![(x: 0.0, y: 0.0), (x: 100.0, y: 0.0), (x: 100.0, y: 50.0)];
        let b = line_string![(x: 100.0, y: 0.0), (x: 200.0, y: 0.0)];
        Graph::build(&[LineInput::plain(&a), LineInput::plain(&b)])
    }

    /// Every single-byte change of a cache file is caught: header, version, checksum or
    /// payload (the graph's own reader accepts many flips of a length, which is why the
    /// checksum is there).
    #[test]
    fn every_flipped_byte_is_detected() {
        let g = small();
        let bytes = cache_bytes(&g);
        let back = from_cache_bytes(&bytes).expect("an intact cache reads");
        assert_eq!(back.edges_csv(), g.edges_csv());
        for at in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xFF] {
                let mut bad = bytes.clone();
                bad[at] ^= flip;
                assert!(
                    from_cache_bytes(&bad).is_err(),
                    "byte {at} of {} flipped by {flip:#x} went unnoticed",
                    bytes.len()
                );
            }
        }
        // Truncated at any length, or with a byte appended.
        for n in 0..bytes.len() {
            assert!(from_cache_bytes(&bytes[..n]).is_err(), "truncated to {n}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(from_cache_bytes(&longer).is_err());
    }

    /// The raw graph bytes of the old format (no checksum) are not trusted either.
    #[test]
    fn an_unchecked_graph_file_is_rebuilt() {
        let g = small();
        let Err(why) = from_cache_bytes(&g.to_bytes()) else {
            panic!("raw graph bytes were trusted");
        };
        assert!(why.contains("not a graph cache"), "{why}");
    }
}
