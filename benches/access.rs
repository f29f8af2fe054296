//! Accessibility benchmark: enhanced 2SFCA with a Gaussian decay (σ = 450 m) at 900 m on
//! 1,000,000 demand points × 50,000 facilities, ours (pairs by rstar + rayon, then the
//! measure), and PySAL `access` 1.1 (`two_stage_fca` with `weights.gaussian`) in the same
//! run on the same data (or, with CARECIRCLE_PYSAL_SIZE=small, a 100,000 × 5,000 cut at
//! the same density); both sides' figures are compared (1e-9 relative).
//! Run: `cargo bench --bench access` (PySAL from scripts/peers.sh or $CARECIRCLE_PYTHON).
//!
//! PySAL is given the distance pairs; its time is the measure alone. Ours is shown both
//! ways: the measure alone, and pairs + measure.

// Benchmark scratch files live in a temporary folder: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

mod common;
use common::{median, peak_rss_mb, peer_python, points};

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use carecircle::coverage::measure::{Decay, Measure, Method};
use carecircle::coverage::{Accessibility, Euclidean, Reach};
use carecircle::progress::NoProgress;

const RADIUS: f64 = 900.0;
const SIGMA: f64 = 450.0;

struct Run {
    pairs_s: f64,
    measure_s: f64,
    reach: Reach,
    people: Vec<f64>,
    supply: Vec<f64>,
    values: Vec<Option<f64>>,
}

fn measure() -> Measure {
    Measure {
        method: Method::Enhanced {
            decay: Decay::Gaussian { sigma_m: SIGMA },
        },
        catchment_m: RADIUS,
    }
}

/// Ours on `n` demand × `m` facilities over a square keeping 100 facilities per 2 km².
fn ours(n: usize, m: usize) -> Run {
    let side = 100_000.0 * (m as f64 / 50_000.0).sqrt();
    let demand = points(n, 1, side);
    let fac = points(m, 2, side);
    let mut rnd = common::Rng(7);
    let people: Vec<f64> = (0..n).map(|_| (1.0 + rnd.next() * 99.0).round()).collect();
    let supply: Vec<f64> = (0..m)
        .map(|_| (20.0 + rnd.next() * 130.0).round())
        .collect();
    let (mut tp, mut tm) = (Vec::new(), Vec::new());
    let mut last = None;
    for _ in 0..3 {
        let t = Instant::now();
        let reach = Euclidean
            .all_within(&demand, &fac, RADIUS, &NoProgress)
            .unwrap();
        tp.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        let values = measure().compute(&people, &supply, &reach).unwrap();
        tm.push(t.elapsed().as_secs_f64());
        last = Some((reach, values));
    }
    let (reach, values) = last.unwrap();
    Run {
        pairs_s: median(tp),
        measure_s: median(tm),
        reach,
        people,
        supply,
        values,
    }
}

fn main() {
    println!(
        "carecircle access benchmark (release, {} threads): E2SFCA, gaussian σ = {SIGMA} m, catchment {RADIUS} m",
        rayon::current_num_threads()
    );
    let big = ours(1_000_000, 50_000);
    println!(
        "carecircle 1,000,000 × 50,000: pairs {:.3} s ({} pairs), measure {:.3} s, total {:.3} s; peak memory {:.0} MB",
        big.pairs_s,
        big.reach.pairs(),
        big.measure_s,
        big.pairs_s + big.measure_s,
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    // PySAL on the full size (2.6 GB and ~30 s here) unless told to use the 100,000 × 5,000
    // cut.
    let full = std::env::var("CARECIRCLE_PYSAL_SIZE").as_deref() != Ok("small");
    let (n, m) = if full {
        (1_000_000, 50_000)
    } else {
        (100_000, 5_000)
    };
    let small = if full {
        big
    } else {
        drop(big);
        ours(n, m)
    };
    if !full {
        println!(
            "carecircle {n} × {m}: pairs {:.3} s ({} pairs), measure {:.4} s",
            small.pairs_s,
            small.reach.pairs(),
            small.measure_s
        );
    }
    let Some(py) = peer_python("access") else {
        println!("PySAL access not installed (bash scripts/peers.sh): no comparison");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write_case(dir.path(), &small);
    let t = Instant::now();
    let out = Command::new(&py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tools/access_check.py"
        ))
        .arg(dir.path())
        .output()
        .unwrap();
    let wall = t.elapsed().as_secs_f64();
    if !out.status.success() {
        println!("PySAL run failed: {}", String::from_utf8_lossy(&out.stderr));
        return;
    }
    let secs: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("pysal_seconds.json")).unwrap())
            .unwrap();
    let theirs = secs["e2sfca_gaussian"].as_f64().unwrap();
    // Agreement on every point.
    let text = std::fs::read_to_string(dir.path().join("pysal.csv")).unwrap();
    let mut worst = 0.0f64;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let i: usize = f[1].parse().unwrap();
        let b: f64 = f[2].parse().unwrap();
        let a = small.values[i].unwrap();
        if a.abs().max(b.abs()) > 0.0 {
            worst = worst.max((a - b).abs() / a.abs().max(b.abs()));
        }
    }
    println!(
        "PySAL access {n} × {m}: measure {theirs:.3} s (script wall {wall:.1} s incl. reading {} pairs); worst relative difference {worst:.1e} (tolerance 1e-9)",
        small.reach.pairs()
    );
    assert!(worst <= 1e-9, "figures differ: {worst:e}");
    println!(
        "ratio PySAL / carecircle at {n} × {m}: {:.0}× (measure alone), {:.0}× (ours incl. pairs)",
        theirs / small.measure_s,
        theirs / (small.measure_s + small.pairs_s)
    );
}

fn write_case(dir: &std::path::Path, r: &Run) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("demand.csv")).unwrap());
    writeln!(f, "id,people").unwrap();
    for (i, p) in r.people.iter().enumerate() {
        writeln!(f, "{i},{p}").unwrap();
    }
    drop(f);
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("supply.csv")).unwrap());
    writeln!(f, "id,supply").unwrap();
    for (j, s) in r.supply.iter().enumerate() {
        writeln!(f, "f{j},{s}").unwrap();
    }
    drop(f);
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("cost.csv")).unwrap());
    writeln!(f, "origin,dest,cost").unwrap();
    for i in 0..r.people.len() {
        for (j, d) in r.reach.of(i) {
            writeln!(f, "{i},f{j},{}", f64::from(d)).unwrap();
        }
    }
    drop(f);
    let case = serde_json::json!([{
        "name": "e2sfca_gaussian", "method": "e2sfca", "catchment": RADIUS,
        "decay": {"decay": "gaussian", "sigma_m": SIGMA}, "n": 0
    }]);
    std::fs::write(dir.join("cases.json"), case.to_string()).unwrap();
}
