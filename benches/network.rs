//! Walking-network benchmark: graph build from the Harbin PBF, all-facility catchments on the
//! Harbin graph and on a synthetic ≥ 1,000,000-edge street grid, beside networkx and pandana
//! on the same graphs in the same run (tools/bench_network.py). Run:
//! `cargo bench --bench network`.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

mod common;

use carecircle::model::FacilityKind;
use carecircle::network::{BuildStats, Edge, Graph, NodeId, Snap};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut ts = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        ts.push(t.elapsed().as_secs_f64());
    }
    (median(ts), last.unwrap())
}

fn write_graph(dir: &Path, g: &Graph, sources: &[u32]) {
    let mut n = std::io::BufWriter::new(std::fs::File::create(dir.join("nodes.csv")).unwrap());
    writeln!(n, "id,x,y").unwrap();
    for (i, p) in g.nodes.iter().enumerate() {
        writeln!(n, "{i},{:.3},{:.3}", p[0], p[1]).unwrap();
    }
    let mut e = std::io::BufWriter::new(std::fs::File::create(dir.join("edges.csv")).unwrap());
    writeln!(e, "u,v,length_m").unwrap();
    for x in &g.edges {
        writeln!(e, "{},{},{:.6}", x.a.0, x.b.0, x.length).unwrap();
    }
    let s: String = sources.iter().map(|s| format!("{s}\n")).collect();
    std::fs::write(dir.join("sources.txt"), s).unwrap();
}

/// Runs the peers; prints their times beside ours.
fn peers(label: &str, g: &Graph, sources: &[u32], cutoff: f64, ours_s: f64, ours_reached: usize) {
    if std::env::var_os("CARECIRCLE_BENCH_NO_PEERS").is_some() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    write_graph(dir.path(), g, sources);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/bench_network.py");
    let Some(python) = common::peer_python("networkx, pandana") else {
        println!("  networkx/pandana not installed (bash scripts/peers.sh bench): no comparison");
        return;
    };
    let run = |peer: &str, limit: &str| -> Option<serde_json::Value> {
        let out = Command::new("timeout")
            .arg(limit)
            .arg(&python)
            .arg(script)
            .arg(peer)
            .arg(dir.path().join("nodes.csv"))
            .arg(dir.path().join("edges.csv"))
            .arg(dir.path().join("sources.txt"))
            .arg(cutoff.to_string())
            .output()
            .ok()?;
        if !out.status.success() {
            println!(
                "  {peer}: failed or timed out after {limit} s ({})",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            return None;
        }
        // pandana prints progress on stdout: the JSON is the last line.
        common::last_json_line(&out.stdout)
    };
    let Some(v) = run("networkx", "900") else {
        return;
    };
    let nx = v["networkx_s"].as_f64().unwrap();
    println!(
        "  networkx {} multi_source_dijkstra_path_length: {:>9.1} ms  (reached {}; graph build {:.1} s)  → carecircle {:.0}× faster",
        v["networkx_version"].as_str().unwrap_or("?"),
        nx * 1000.0,
        v["networkx_reached"],
        v["networkx_build_s"].as_f64().unwrap_or(f64::NAN),
        nx / ours_s
    );
    assert_eq!(
        v["networkx_reached"].as_u64().unwrap() as usize,
        ours_reached,
        "{label}: reached counts differ from networkx"
    );
    if cutoff > 1e8 {
        println!("  pandana: skipped (needs a finite search distance)");
        return;
    }
    let Some(v) = run("pandana", "90") else {
        return;
    };
    match v["pandana_s"].as_f64() {
        Some(p) => println!(
            "  pandana {} nearest_pois (contraction hierarchies): {:>9.1} ms  (reached {}; preprocessing {:.1} s)  → ratio {:.1}×",
            v["pandana_version"].as_str().unwrap_or("?"),
            p * 1000.0,
            v["pandana_reached"],
            v["pandana_prep_s"].as_f64().unwrap_or(f64::NAN),
            p / ours_s
        ),
        None => println!("  pandana: not available ({})", v["pandana_error"].as_str().unwrap_or("")),
    }
}

fn main() {
    let harbin = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    println!("carecircle walking-network benchmark (release)");
    let (t_load, ds) = time(3, || carecircle::io::load_path(&harbin).unwrap());
    let (t_build, g) = time(5, || carecircle::io::graph::graph_of(&ds));
    println!(
        "Harbin: load dataset incl. PBF {:.0} ms; build graph {:.1} ms ({} nodes, {} edges, {} components)",
        t_load * 1000.0,
        t_build * 1000.0,
        g.node_count(),
        g.edge_count(),
        g.component_sizes.len()
    );
    // The cache as load_or_build reads it: checksum verified, then parsed.
    let bytes = carecircle::io::graph::cache_bytes(&g);
    let (t_fp, _) = time(5, || carecircle::io::graph::fingerprint(&ds));
    let (t_cache, _) = time(5, || {
        carecircle::io::graph::from_cache_bytes(&bytes).unwrap()
    });
    println!(
        "  graph cache: fingerprint {:.1} ms + checked read {:.1} ms ({:.1} MB) vs build {:.1} ms",
        t_fp * 1000.0,
        t_cache * 1000.0,
        bytes.len() as f64 / 1e6,
        t_build * 1000.0
    );
    let facs: Vec<_> = ds
        .facilities
        .iter()
        .filter(|f| matches!(f.kind, FacilityKind::DayCare | FacilityKind::StreetStation))
        .filter_map(|f| f.location)
        .collect();
    let (t_snap, snaps) = time(5, || {
        facs.iter()
            .filter_map(|p| g.snap(*p, 300.0))
            .collect::<Vec<Snap>>()
    });
    println!(
        "  snap {} elderly facilities to segments: {:.2} ms",
        snaps.len(),
        t_snap * 1000.0
    );
    // The peers take node sources: use each facility's nearer edge end.
    let src_nodes: Vec<u32> = snaps
        .iter()
        .map(|s| {
            let e = &g.edges[s.edge.0 as usize];
            if s.along <= e.length - s.along {
                e.a.0
            } else {
                e.b.0
            }
        })
        .collect();
    let node_snaps: Vec<Snap> = src_nodes.iter().map(|n| g.at_node(*n).unwrap()).collect();
    for cutoff in [900.0, 1e9] {
        let (t, l) = time(21, || g.distances_from(&node_snaps, cutoff));
        let reached = l.cost.iter().filter(|c| c.is_finite()).count();
        println!(
            "Harbin all-facility catchment ({} sources, cutoff {}): {:.2} ms, {} nodes reached  (target < 20 ms)",
            node_snaps.len(),
            if cutoff > 1e8 { "none".to_string() } else { format!("{cutoff} m") },
            t * 1000.0,
            reached
        );
        peers("harbin", &g, &src_nodes, cutoff, t, reached);
    }

    // Synthetic grid: 708 × 708 nodes, 100 m blocks, ≈ 1,001,112 edges.
    let side = 708u32;
    let t = Instant::now();
    let mut nodes = Vec::with_capacity((side * side) as usize);
    let mut edges = Vec::new();
    for j in 0..side {
        for i in 0..side {
            nodes.push([i as f64 * 100.0, j as f64 * 100.0]);
            let id = j * side + i;
            let mut add = |to: u32| {
                let (a, b) = (nodes_xy(id, side), nodes_xy(to, side));
                edges.push(Edge {
                    a: NodeId(id),
                    b: NodeId(to),
                    length: 100.0,
                    geometry: vec![a, b],
                    steps: false,
                });
            };
            if i + 1 < side {
                add(id + 1);
            }
            if j + 1 < side {
                add(id + side);
            }
        }
    }
    let grid = Graph::from_parts(nodes, edges, BuildStats::default());
    println!(
        "Synthetic grid: {} nodes, {} edges, built in {:.0} ms",
        grid.node_count(),
        grid.edge_count(),
        t.elapsed().as_secs_f64() * 1000.0
    );
    // 2,000 facilities at pseudo-random nodes.
    let mut x: u64 = 42;
    let mut src: Vec<u32> = (0..2000)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % (side as u64 * side as u64)) as u32
        })
        .collect();
    src.sort();
    src.dedup();
    let snaps: Vec<Snap> = src.iter().map(|n| grid.at_node(*n).unwrap()).collect();
    for cutoff in [900.0, 1e9] {
        let (t, l) = time(5, || grid.distances_from(&snaps, cutoff));
        let reached = l.cost.iter().filter(|c| c.is_finite()).count();
        println!(
            "Grid all-facility catchment ({} sources, cutoff {}): {:.1} ms, {} nodes reached  (target < 1000 ms)",
            snaps.len(),
            if cutoff > 1e8 { "none".to_string() } else { format!("{cutoff} m") },
            t * 1000.0,
            reached
        );
        peers("grid", &grid, &src, cutoff, t, reached);
    }
}

fn nodes_xy(id: u32, side: u32) -> [f64; 2] {
    [(id % side) as f64 * 100.0, (id / side) as f64 * 100.0]
}
