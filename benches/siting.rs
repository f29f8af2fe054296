//! Siting heuristics on every instance of ../shared/bench (or $CARECIRCLE_SHARED/bench):
//! objective against the proven optimum, and time. `cargo bench --bench siting`.

use std::path::PathBuf;
use std::time::Instant;

fn main() {
    let shared = std::env::var_os("CARECIRCLE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    let dir = shared.join("bench");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("no instances at {} (set CARECIRCLE_SHARED)", dir.display());
        return;
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("problem.json").exists())
        .collect();
    names.sort();
    let limit: f64 = std::env::var("CARECIRCLE_TIME_LIMIT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(60.0);
    println!("exact: HiGHS, 1 thread, time limit {limit} s (CARECIRCLE_TIME_LIMIT)");
    println!(
        "{:<26} {:>6} {:>12} {:>12} {:>8} {:>8} {:>8} | {:>12} {:>12} {:>8} {:>8} {:>9}",
        "instance",
        "model",
        "optimum",
        "heuristic",
        "% opt",
        "greedy%",
        "heur s",
        "exact",
        "bound",
        "gap %",
        "exact s",
        "spopt s"
    );
    for p in names {
        let pb = carecircle::siting::read_instance(&p).unwrap();
        let t = Instant::now();
        let s = pb.solve_heuristic().unwrap();
        let secs = t.elapsed().as_secs_f64();
        let r: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(p.join("reference.json")).unwrap())
                .unwrap();
        let opt = r["objective"].as_f64().unwrap();
        // Maximisation (MCLP): ours / opt; minimisation (LSCP, p-median): opt / ours.
        let pct = |v: f64| {
            if pb.model == carecircle::siting::Model::Mclp {
                v / opt * 100.0
            } else {
                opt / v * 100.0
            }
        };
        let t = Instant::now();
        let ex = carecircle::siting::exact::solve_exact(&pb, limit, Some(&s)).unwrap();
        let ex_s = t.elapsed().as_secs_f64() + secs;
        println!(
            "{:<26} {:>6} {:>12.2} {:>12.2} {:>7.2}% {:>7.2}% {:>8.3} | {:>12.2} {:>12.2} {:>8.4} {:>8.2} {:>9.2}",
            p.file_name().unwrap().to_string_lossy(),
            format!("{:?}", pb.model).to_lowercase(),
            opt,
            s.objective,
            pct(s.objective),
            pct(s.greedy_objective),
            secs,
            ex.objective,
            ex.bound,
            ex.gap * 100.0,
            ex_s,
            r["seconds"].as_f64().unwrap_or(f64::NAN)
        );
        assert!(
            (ex.objective - opt).abs() <= 1e-6 * opt.abs() || ex.status != "Optimal",
            "proven optimum differs from the reference"
        );
    }
}
