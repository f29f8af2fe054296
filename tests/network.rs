//! Walking distances on the Harbin demo against networkx (an independent implementation) on
//! the same edges, via a golden file made by tools/networkx_check.py:
//!
//! ```sh
//! CARECIRCLE_WRITE_GOLDEN=1 cargo test --test network   # writes /tmp edges + sources
//! python3 tools/networkx_check.py /tmp/carecircle_harbin_edges.csv \
//!     /tmp/carecircle_harbin_sources.txt 3000 tests/golden/harbin_networkx.csv 4
//! sha256sum /tmp/carecircle_harbin_edges.csv > tests/golden/harbin_edges.sha256
//! ```
//! If the graph builder changes, the fingerprint check fails first and says to regenerate.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::collections::HashMap;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

const CUTOFF: f64 = 3000.0;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

#[test]
fn harbin_distances_match_networkx() {
    let ds = carecircle::io::load_path(&repo("maps/harbin")).unwrap();
    let g = carecircle::io::graph::graph_of(&ds);
    let csv = g.edges_csv();
    // Sources: the 40 nodes at every 400th position of the sorted node keys.
    let mut keys: Vec<(String, u32)> = (0..g.node_count() as u32)
        .map(|n| (g.node_key(n), n))
        .collect();
    keys.sort();
    let sources: Vec<(String, u32)> = keys.iter().step_by(400).cloned().collect();
    if std::env::var_os("CARECIRCLE_WRITE_GOLDEN").is_some() {
        std::fs::write("/tmp/carecircle_harbin_edges.csv", &csv).unwrap();
        let s: String = sources.iter().map(|(k, _)| format!("{k}\n")).collect();
        std::fs::write("/tmp/carecircle_harbin_sources.txt", s).unwrap();
    }
    let hash = format!("{:x}", Sha256::digest(csv.as_bytes()));
    let want = std::fs::read_to_string(repo("tests/golden/harbin_edges.sha256")).unwrap();
    assert!(
        want.starts_with(&hash),
        "the Harbin graph changed (edges fingerprint {hash}); regenerate the networkx golden file (see this file's docs)"
    );
    let snaps: Vec<_> = sources
        .iter()
        .map(|(_, n)| g.at_node(*n).unwrap())
        .collect();
    let labels = g.distances_from(&snaps, CUTOFF);
    let index: HashMap<String, u32> = keys.into_iter().collect();
    let golden = std::fs::read_to_string(repo("tests/golden/harbin_networkx.csv")).unwrap();
    let mut compared = 0;
    let mut worst: f64 = 0.0;
    for line in golden.lines().skip(1) {
        let (k, d) = line.split_once(',').unwrap();
        let d: f64 = d.parse().unwrap();
        let n = index[k];
        let ours = labels.cost[n as usize];
        worst = worst.max((ours - d).abs());
        compared += 1;
    }
    // networkx reached 11 358 nodes within the cutoff (printed by the script); so must we.
    let reached_here = labels.cost.iter().filter(|c| c.is_finite()).count();
    assert_eq!(compared, 2840);
    assert!(
        worst <= 0.01,
        "worst difference {worst} m over {compared} nodes"
    );
    assert_eq!(reached_here, 11_358);
    eprintln!("networkx vs carecircle: {compared} nodes, worst difference {worst:.2e} m");
}

/// A cached graph whose edge lengths were rewritten (÷10, as a tampering user did) is not
/// used: `load_or_build` says why and builds the true graph.
#[test]
fn a_tampered_graph_cache_is_rebuilt_not_trusted() {
    use carecircle::io::graph::{cache_bytes, load_or_build, CacheUse};
    let ds = carecircle::io::load_path(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (g, how) = load_or_build(&ds, dir.path());
    assert_eq!(how, CacheUse::Built);
    let (_, how) = load_or_build(&ds, dir.path());
    assert_eq!(how, CacheUse::Read);
    let file = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "bin"))
        .unwrap();
    // Rewrite every edge 10 times shorter and write it back with the old header.
    let edges = g
        .edges
        .iter()
        .cloned()
        .map(|mut e| {
            e.length /= 10.0;
            e
        })
        .collect();
    let short = carecircle::network::Graph::from_parts(g.nodes.clone(), edges, g.stats.clone());
    let honest = cache_bytes(&g);
    let mut forged = cache_bytes(&short);
    // Keep the honest checksum: the payload no longer matches it.
    let head = honest.len() - g.to_bytes().len();
    forged[..head].copy_from_slice(&honest[..head]);
    carecircle::io::write::write_atomic(&file, &forged).unwrap();
    let (again, how) = load_or_build(&ds, dir.path());
    assert!(
        matches!(&how, CacheUse::Rebuilt(why) if why.contains("checksum")),
        "{how:?}"
    );
    assert_eq!(again.edges_csv(), g.edges_csv());
    // The rebuilt graph was written back and reads cleanly.
    assert_eq!(load_or_build(&ds, dir.path()).1, CacheUse::Read);
}
