//! Coverage benchmark: 1,000,000 demand points against 50,000 facilities at 900 m, ours
//! (rstar + rayon) and shapely 2's STRtree `dwithin` (tools/bench_shapely.py) on the same
//! points in the same run. Run: `cargo bench --bench coverage`.
//!
//! Prints wall time of each side, their ratio, our peak memory, and checks that both found
//! the same number of demand–facility pairs and covered points.

mod common;
use common::{median, peak_rss_mb, peer_python, points};

use std::io::Write;
use std::process::Command;
use std::time::Instant;

use carecircle::coverage::{Accessibility, Euclidean};
use carecircle::progress::NoProgress;
use geo::Point;

const DEMAND: usize = 1_000_000;
const FACILITIES: usize = 50_000;
const RADIUS: f64 = 900.0;
/// A 100 km × 100 km region: 5 facilities per km², about 13 within 900 m of a point.
const SIDE: f64 = 100_000.0;

fn write_f64(path: &std::path::Path, pts: &[Point<f64>]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for p in pts {
        f.write_all(&p.x().to_le_bytes()).unwrap();
        f.write_all(&p.y().to_le_bytes()).unwrap();
    }
}

fn main() {
    let demand = points(DEMAND, 1, SIDE);
    let facilities = points(FACILITIES, 2, SIDE);
    let rss_inputs = peak_rss_mb().unwrap_or(f64::NAN);
    println!(
        "carecircle coverage benchmark (release, {} threads): {DEMAND} demand × {FACILITIES} facilities, radius {RADIUS} m",
        rayon::current_num_threads()
    );

    let mut t_nearest = Vec::new();
    let mut t_all = Vec::new();
    let mut covered = 0;
    let mut pairs = 0;
    for _ in 0..3 {
        let t = Instant::now();
        let n = Euclidean
            .nearest_within(&demand, &facilities, RADIUS, &NoProgress)
            .unwrap();
        t_nearest.push(t.elapsed().as_secs_f64());
        covered = n.iter().filter(|x| x.is_some()).count();
        let t = Instant::now();
        let r = Euclidean
            .all_within(&demand, &facilities, RADIUS, &NoProgress)
            .unwrap();
        t_all.push(t.elapsed().as_secs_f64());
        pairs = r.pairs();
    }
    let rss = peak_rss_mb().unwrap_or(f64::NAN);
    let ours_nearest = median(t_nearest);
    let ours_all = median(t_all);
    println!(
        "carecircle nearest facility within 900 m (coverage):  {:>8.3} s  ({covered} covered)",
        ours_nearest
    );
    println!(
        "carecircle all pairs within 900 m (2SFCA input):      {:>8.3} s  ({pairs} pairs)",
        ours_all
    );
    println!(
        "carecircle peak memory: {:.0} MB (of which inputs {:.0} MB)  target < 1 GB",
        rss, rss_inputs
    );

    let dir = tempfile::tempdir().unwrap();
    let dp = dir.path().join("demand.f64");
    let fp = dir.path().join("facilities.f64");
    write_f64(&dp, &demand);
    write_f64(&fp, &facilities);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/bench_shapely.py");
    let python = peer_python("shapely").unwrap_or_else(|| "python3".into());
    match Command::new(&python)
        .arg(script)
        .arg(&dp)
        .arg(&fp)
        .arg(RADIUS.to_string())
        .output()
    {
        Ok(out) if out.status.success() => {
            let v = common::last_json_line(&out.stdout).expect("shapely's JSON line");
            let q = v["query_s"].as_f64().unwrap();
            let b = v["build_s"].as_f64().unwrap();
            println!(
                "shapely {} STRtree dwithin (query only):              {:>8.3} s  ({} pairs, {} covered; build {:.3} s; peak {:.0} MB)",
                shapely_version(&python),
                q,
                v["pairs"],
                v["covered"],
                b,
                v["peak_rss_mb"].as_f64().unwrap_or(f64::NAN)
            );
            assert_eq!(
                v["pairs"].as_u64().unwrap() as usize,
                pairs,
                "pair counts differ"
            );
            assert_eq!(
                v["covered"].as_u64().unwrap() as usize,
                covered,
                "covered counts differ"
            );
            println!("same pairs and covered counts: yes");
            println!(
                "ratio shapely / carecircle: {:.1}× (coverage), {:.1}× (all pairs)   target ≥ 10×",
                q / ours_nearest,
                q / ours_all
            );
        }
        Ok(out) => println!(
            "shapely run failed (pip install shapely numpy): {}",
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => println!("python3 not found: {e}"),
    }
}

fn shapely_version(python: &std::path::Path) -> String {
    Command::new(python)
        .args(["-c", "import shapely; print(shapely.__version__)"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
