//! Province scale: Heilongjiang with 1,000,000 (and 5,000,000) generated demand points,
//! 16,000 units and 50,000 facilities (`tools/build_province.py`, generated on demand
//! under target/province/, seeded). Every figure is printed beside its budget from issue
//! #20; each measurement runs in a fresh child process (this bench re-run with `--child`),
//! so peak memory is that run's own. `cargo bench --bench province`.
//!
//! Environment: CARECIRCLE_PROVINCE_SIZES (default "1000000,5000000"), CARECIRCLE_RUNS
//! (default 3), CARECIRCLE_SITING_RUNS (default CARECIRCLE_RUNS), CARECIRCLE_SHARED (the
//! folder holding data/, as for every bench).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;
use common::{median, peak_rss_mb};

use carecircle::coverage::{analyze, Euclidean, Scenario};
use carecircle::progress::{NoProgress, SharedProgress};
use carecircle::report::UncoveredExport;
use carecircle::siting::Model;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        return child(&args[i + 1..]);
    }
    let sizes: Vec<usize> = std::env::var("CARECIRCLE_PROVINCE_SIZES")
        .unwrap_or_else(|_| "1000000,5000000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("CARECIRCLE_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!(
        "carecircle province benchmark ({} build, {} threads; median of {runs} runs, each in a fresh process)",
        if cfg!(debug_assertions) { "debug" } else { "release" },
        rayon::current_num_threads()
    );
    for &n in &sizes {
        let Some(dir) = dataset(n) else { return };
        let files: u64 = std::fs::read_dir(&dir)
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.metadata().ok())
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        println!(
            "\n{n} demand points: {} ({:.0} MB of files)",
            dir.display(),
            files as f64 / 1e6
        );
        let rows: Vec<serde_json::Value> = (0..runs)
            .filter_map(|_| run_child(&["analyze", dir.to_str().unwrap()], 600))
            .collect();
        if rows.is_empty() {
            continue;
        }
        let m = |k: &str| {
            median(
                rows.iter()
                    .map(|r| r[k].as_f64().unwrap_or(f64::NAN))
                    .collect(),
            )
        };
        let (budget_s, budget_mb) = if n <= 1_000_000 {
            (2.0, 500.0)
        } else {
            (10.0, 2000.0)
        };
        line(
            "load + index + Euclidean analyze, all rules",
            &format!(
                "{:.2} s (load {:.2} s, analyze {:.2} s)",
                m("total_s"),
                m("load_s"),
                m("analyze_s")
            ),
            &format!("< {budget_s} s"),
            m("total_s") < budget_s,
        );
        line(
            "  peak memory",
            &format!("{:.0} MB", m("peak_mb")),
            &format!("< {budget_mb} MB"),
            m("peak_mb") < budget_mb,
        );
        for (what, t, mb) in [
            ("analyze --json", "json_s", "json_mb"),
            ("analyze --geojson", "geojson_s", "geojson_mb"),
            ("analyze --csv", "csv_s", "csv_mb"),
            ("analyze --format geoparquet", "parquet_s", "parquet_mb"),
        ] {
            line(
                &format!("{what}, streamed, uncovered aggregated (extra time)"),
                &format!("{:.2} s ({:.1} MB written)", m(t), m(mb)),
                "< 1 s",
                m(t) < 1.0,
            );
        }
        line(
            "  extra memory, all four exports",
            &format!("+{:.0} MB", m("export_extra_mb")),
            "< 50 MB",
            m("export_extra_mb") < 50.0,
        );
        println!(
            "  ({} rules, {} units, {} facilities, {} uncovered points)",
            rows[0]["rules"], rows[0]["units"], rows[0]["facilities"], rows[0]["uncovered"]
        );
        if n == sizes[0] {
            if let Some(c) = run_child(&["cancel", dir.to_str().unwrap()], 900) {
                for (job, what) in [("analyze", "analysing"), ("load", "loading")] {
                    let c = &c[job];
                    let ms = c["worst_ms"].as_f64().unwrap_or(f64::NAN);
                    line(
                        &format!("cancel while {what} → returned (worst)"),
                        &format!(
                            "{ms:.0} ms (of {} cancels; worst asked at {:.1} s, in '{}')",
                            c["tries"],
                            c["at_s"].as_f64().unwrap_or(0.0),
                            c["stage"].as_str().unwrap_or("")
                        ),
                        "< 100 ms",
                        ms < 100.0,
                    );
                }
            }
        }
    }
    // Network mode on the first size: the street grids of `network.toml` (~2M edges). The
    // graph is built and cached once first (not timed: the budget is "graph from cache").
    if let Some(&n) = sizes.first() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/province/p{n}"));
        let manifest = dir.join("network.toml");
        if manifest.exists() && run_child(&["network", manifest.to_str().unwrap()], 900).is_some() {
            let rows: Vec<serde_json::Value> = (0..runs)
                .filter_map(|_| run_child(&["network", manifest.to_str().unwrap()], 900))
                .collect();
            if let Some(r0) = rows.first() {
                let m = |k: &str| {
                    median(
                        rows.iter()
                            .map(|r| r[k].as_f64().unwrap_or(f64::NAN))
                            .collect(),
                    )
                };
                println!(
                    "\nnetwork mode, {n} demand points, street grids of {} nodes / {} edges:",
                    r0["nodes"], r0["edges"]
                );
                let t = m("graph_s") + m("analyze_s");
                line(
                    "graph from cache + network-mode analyze, all rules",
                    &format!(
                        "{t:.2} s (graph {:.2} s, analyze {:.2} s)",
                        m("graph_s"),
                        m("analyze_s")
                    ),
                    "< 5 s",
                    t < 5.0,
                );
                println!(
                    "  (before it: loading the data with its network lines {:.2} s; peak memory {:.0} MB; {} of {} demand points within {} m of a street)",
                    m("load_s"),
                    m("peak_mb"),
                    r0["snapped"],
                    r0["demand"],
                    r0["max_snap_m"]
                );
            }
        } else {
            println!("\nnetwork mode: {} missing or failed", manifest.display());
        }
    }
    println!("app frame times with 1M demand points: CARECIRCLE_FRAME_DATA=target/province/p1000000 cargo bench --bench frame");
    let siting_runs: usize = std::env::var("CARECIRCLE_SITING_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(runs);
    println!("\nsiting heuristics, 20,000 demand × 3,000 candidates (generated, seeded; median of {siting_runs}):");
    for (model, budget) in [("mclp", 1.0), ("pmedian", 5.0), ("lscp", 10.0)] {
        let times: Vec<serde_json::Value> = (0..siting_runs)
            .filter_map(|_| run_child(&["siting", model], 120))
            .collect();
        if times.is_empty() {
            line(
                &format!("  {model}"),
                "stopped at 120 s",
                &format!("< {budget} s"),
                false,
            );
            continue;
        }
        let s = median(
            times
                .iter()
                .map(|r| r["seconds"].as_f64().unwrap_or(f64::NAN))
                .collect(),
        );
        line(
            &format!("  {model}"),
            &format!(
                "{s:.2} s (objective {}, {} sites)",
                times[0]["objective"], times[0]["sites"]
            ),
            &format!("< {budget} s"),
            s < budget,
        );
    }
}

fn line(what: &str, value: &str, budget: &str, ok: bool) {
    println!(
        "  {what:<62} {value:<44} budget {budget:<16} {}",
        if ok { "met" } else { "MISSED" }
    );
}

/// The dataset with `n` points, generated when missing or made by another generator.
fn dataset(n: usize) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join(format!("target/province/p{n}"));
    let script = root.join("tools/build_province.py");
    let stamp = format!(
        "{} {n}",
        carecircle::files::short_hash(&std::fs::read(&script).unwrap_or_default())
    );
    if std::fs::read_to_string(dir.join(".stamp")).ok().as_deref() == Some(stamp.as_str()) {
        return Some(dir);
    }
    let Some(python) = common::peer_python("numpy, shapely, scipy") else {
        println!("numpy/shapely/scipy not installed (bash scripts/peers.sh bench): cannot generate the province");
        return None;
    };
    println!(
        "generating {} ({n} points; ~20 s per million) …",
        dir.display()
    );
    let t = Instant::now();
    let ok = Command::new(python)
        .arg(&script)
        .arg(&dir)
        .args(["--points", &n.to_string()])
        .env("CARECIRCLE_SHARED", common::shared_dir())
        .output();
    let ok = match ok {
        Ok(o) if o.status.success() => true,
        Ok(o) => {
            let e = String::from_utf8_lossy(&o.stderr);
            println!("{}", e.lines().rev().take(5).collect::<Vec<_>>().join("\n"));
            false
        }
        Err(e) => {
            println!("{e}");
            false
        }
    };
    if !ok {
        println!("the generator failed (is ../shared/data/heilongjiang there? CARECIRCLE_SHARED)");
        return None;
    }
    println!("  generated in {:.0} s", t.elapsed().as_secs_f64());
    carecircle::io::write::write_atomic(&dir.join(".stamp"), stamp.as_bytes()).ok();
    Some(dir)
}

/// Runs this bench as a child with `args`; its last stdout line is a JSON object. Killed
/// after `limit_s`.
fn run_child(args: &[&str], limit_s: u64) -> Option<serde_json::Value> {
    let exe = std::env::current_exe().ok()?;
    let mut child = Command::new(exe)
        .arg("--child")
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    let t = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if t.elapsed() > Duration::from_secs(limit_s) => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => return None,
        }
    }
    let out = child.wait_with_output().ok()?;
    common::last_json_line(&out.stdout)
}

fn child(args: &[String]) {
    match args.first().map(String::as_str) {
        Some("analyze") => child_analyze(Path::new(&args[1])),
        Some("cancel") => child_cancel(Path::new(&args[1])),
        Some("siting") => child_siting(&args[1]),
        Some("network") => child_network(Path::new(&args[1])),
        _ => panic!("unknown child job {args:?}"),
    }
}

fn child_analyze(dir: &Path) {
    let t = Instant::now();
    let ds = carecircle::io::load_path(dir).expect("the province loads");
    let load_s = t.elapsed().as_secs_f64();
    let sc = Scenario::new("heilongjiang-2021").expect("preset");
    let t2 = Instant::now();
    let r = analyze(&ds, sc.rules(), &sc.options(), &Euclidean, &NoProgress).expect("analysis");
    let analyze_s = t2.elapsed().as_secs_f64();
    let total_s = t.elapsed().as_secs_f64();
    let peak = peak_rss_mb().unwrap_or(f64::NAN);
    let out = tempfile::tempdir().unwrap();
    let how = UncoveredExport::default();
    // Each format on its own, as `analyze --json` (or --geojson, --csv, --format
    // geoparquet) would write it: the aggregates, then the file(s).
    let timed = |write: &dyn Fn(&carecircle::report::Aggregates)| {
        let t = Instant::now();
        let agg = carecircle::report::aggregate(&r, &ds, how.cell_m);
        write(&agg);
        t.elapsed().as_secs_f64()
    };
    let p = out.path();
    let json_s = timed(&|agg| {
        carecircle::report::write_json_with(&r, agg, &p.join("r.json"), &how).unwrap()
    });
    let geojson_s = timed(&|agg| {
        carecircle::report::write_geojson_with(&r, &ds, agg, &p.join("r.geojson"), &how).unwrap()
    });
    let csv_s = timed(&|agg| {
        carecircle::report::write_csv_dir_with(&r, agg, &p.join("csv"), &how).unwrap()
    });
    let parquet_s = timed(&|agg| {
        carecircle::report::geoparquet::write_dir(&r, &ds, agg, &p.join("pq"), &how).unwrap()
    });
    let size = |p: &Path| std::fs::metadata(p).map_or(0.0, |m| m.len() as f64 / 1e6);
    let dir_mb = |d: &Path| -> f64 {
        std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| size(&e.path()))
            .sum()
    };
    println!(
        "{}",
        serde_json::json!({
            "load_s": load_s, "analyze_s": analyze_s, "total_s": total_s, "peak_mb": peak,
            "json_s": json_s, "geojson_s": geojson_s, "csv_s": csv_s, "parquet_s": parquet_s,
            "export_extra_mb": peak_rss_mb().unwrap_or(f64::NAN) - peak,
            "json_mb": size(&p.join("r.json")), "geojson_mb": size(&p.join("r.geojson")),
            "csv_mb": dir_mb(&p.join("csv")), "parquet_mb": dir_mb(&p.join("pq")),
            "rules": r.rules.len(), "units": ds.units.len(),
            "facilities": ds.facilities.len(), "uncovered": r.uncovered.len(),
        })
    );
}

/// Network mode: load the data with its street lines, the graph from the cache (built
/// there on the first run), then every rule along the streets.
fn child_network(manifest: &Path) {
    let t = Instant::now();
    let ds = carecircle::io::load_path(manifest).expect("the province with its network loads");
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (graph, how) =
        carecircle::io::graph::load_or_build(&ds, &carecircle::io::graph::cache_dir(&ds));
    let graph_s = t.elapsed().as_secs_f64();
    let mut sc = Scenario::new("heilongjiang-2021").expect("preset");
    sc.mode = carecircle::coverage::DistanceMode::Network;
    let access = sc.access(Some(&graph)).expect("network access");
    let t = Instant::now();
    let r =
        analyze(&ds, sc.rules(), &sc.options(), access.as_ref(), &NoProgress).expect("analysis");
    let analyze_s = t.elapsed().as_secs_f64();
    let snapped = ds
        .demand
        .iter()
        .filter(|d| graph.snap(d.location, sc.max_snap_m).is_some())
        .count();
    println!(
        "{}",
        serde_json::json!({
            "load_s": load_s, "graph_s": graph_s, "analyze_s": analyze_s,
            "peak_mb": peak_rss_mb().unwrap_or(f64::NAN),
            "cache": format!("{how:?}"), "nodes": graph.nodes.len(), "edges": graph.edges.len(),
            "demand": ds.demand.len(), "snapped": snapped, "max_snap_m": sc.max_snap_m,
            "rules": r.rules.len(),
        })
    );
}

/// Cancel latency over the whole job, not at one moment: the job is started again and
/// cancelled at every `step` from `step` on until it finishes first; the worst latency
/// (and its stage and time) is what a user can meet.
fn child_cancel(dir: &Path) {
    type Job = std::sync::Arc<dyn Fn(&SharedProgress) -> bool + Send + Sync>;
    let sweep = |step: Duration, job: Job| -> serde_json::Value {
        let (mut worst, mut at, mut stage, mut tries) = (0.0f64, 0.0, String::new(), 0);
        let mut after = step;
        loop {
            let p = SharedProgress::new();
            let q = p.clone();
            let j = job.clone();
            let started = Instant::now();
            let h = std::thread::spawn(move || j(&q));
            std::thread::sleep(after);
            let asked = Instant::now();
            let now = p.snapshot().0;
            p.cancel();
            let cancelled = h.join().unwrap();
            let ms = asked.elapsed().as_secs_f64() * 1e3;
            if !cancelled {
                break;
            }
            tries += 1;
            if ms > worst {
                (worst, at, stage) = (ms, (asked - started).as_secs_f64(), now);
            }
            after += step;
        }
        serde_json::json!({"worst_ms": worst, "at_s": at, "stage": stage, "tries": tries})
    };
    let d = dir.to_path_buf();
    let load = sweep(
        Duration::from_millis(150),
        std::sync::Arc::new(move |p| carecircle::io::load_path_with(&d, p).is_err()),
    );
    let ds = std::sync::Arc::new(carecircle::io::load_path(dir).expect("loads"));
    let analysis = sweep(
        Duration::from_millis(60),
        std::sync::Arc::new(move |p| {
            let sc = Scenario::new("heilongjiang-2021").expect("preset");
            analyze(&ds, sc.rules(), &sc.options(), &Euclidean, p).is_err()
        }),
    );
    println!("{}", serde_json::json!({"analyze": analysis, "load": load}));
}

/// A seeded 20,000 × 3,000 instance: demand clustered like a prefecture city's 60 towns,
/// half the candidates at demand, half anywhere; radius 1 km, p = 150.
fn child_siting(model: &str) {
    let (model, p) = match model {
        "mclp" => (Model::Mclp, Some(150)),
        "pmedian" => (Model::Pmedian, Some(150)),
        _ => (Model::Lscp, None),
    };
    let radius = 1_000.0;
    let mut pb = common::Clustered {
        seed: 0x5EED_2026_1127,
        side: 60_000.0,
        clusters: 60,
        spread: (600.0, 3_100.0),
        n: 20_000,
        max_weight: 100.0,
        m: 3_000,
        jitter: 300.0,
    }
    .problem(model, radius, p);
    // LSCP needs every demand point within reach of some candidate: the points no
    // candidate reaches are left out (said in the output as `dropped`).
    let mut dropped = 0;
    if model == Model::Lscp {
        let tree = carecircle::spatial::point_tree(
            pb.candidates
                .iter()
                .map(|c| Some(geo::Point::new(c[0], c[1]))),
        );
        let reached: Vec<bool> = pb
            .demand
            .iter()
            .map(|d| {
                tree.locate_within_distance(*d, radius * radius)
                    .next()
                    .is_some()
            })
            .collect();
        dropped = reached.iter().filter(|r| !**r).count();
        keep_where(&mut pb.demand, &reached);
        keep_where(&mut pb.weight, &reached);
        keep_where(&mut pb.demand_ids, &reached);
    }
    let t = Instant::now();
    let s = pb.solve_heuristic().expect("heuristic");
    println!(
        "{}",
        serde_json::json!({
            "seconds": t.elapsed().as_secs_f64(), "objective": s.objective,
            "sites": s.selected.len(), "dropped": dropped,
        })
    );
}

/// Keeps the items whose flag is set.
fn keep_where<T>(v: &mut Vec<T>, keep: &[bool]) {
    let mut k = keep.iter();
    v.retain(|_| *k.next().expect("a flag per item"));
}
