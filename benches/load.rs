//! Load benchmark: the province's 122 county polygons (428k vertices) parsed, checked
//! (self-intersections), projected to local metres — target < 1 s in release — plus the
//! two demos. Prints figures; run with `cargo bench --bench load`.
//!
//! The province file lives in ../shared/data (not in the repo); CARECIRCLE_SHARED names
//! the shared folder (the one holding `data/` and `bench/`), as for every bench.

use std::path::{Path, PathBuf};
use std::time::Instant;

mod common;

use carecircle::io::load_path;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_load(label: &str, path: &Path, runs: usize) {
    if !path.exists() {
        println!("{label:<48} skipped: {} not found", path.display());
        return;
    }
    let mut secs = Vec::new();
    let mut summary = String::new();
    for _ in 0..runs {
        let t = Instant::now();
        let ds = load_path(path).expect("load");
        secs.push(t.elapsed().as_secs_f64());
        let vertices = ds.unit_vertices();
        summary = format!(
            "{} units, {vertices} unit vertices, {} facilities, {} network lines, {} warnings",
            ds.units.len(),
            ds.facilities.len(),
            ds.network.len(),
            ds.warnings.len()
        );
    }
    let min = secs.iter().cloned().fold(f64::INFINITY, f64::min);
    println!(
        "{label:<48} median {:>7.1} ms  min {:>7.1} ms  ({runs} runs; {summary})",
        median(secs) * 1e3,
        min * 1e3
    );
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = common::shared_dir().join("data");
    println!(
        "carecircle load benchmark ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    time_load(
        "Heilongjiang 122 counties (target < 1000 ms)",
        &shared.join("heilongjiang/heilongjiang_counties_cnmaps_wgs84.geojson"),
        5,
    );
    time_load(
        "maps/harbin (PBF network + buildings)",
        &root.join("maps/harbin"),
        5,
    );
    time_load(
        "maps/heihe (GCJ-02 counties + code lists)",
        &root.join("maps/heihe"),
        5,
    );
}
