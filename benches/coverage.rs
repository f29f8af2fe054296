//! Coverage benchmark: 1,000,000 demand points against 50,000 facilities at 900 m, ours
//! (rstar + rayon) and shapely 2's STRtree `dwithin` (tools/bench_shapely.py) on the same
//! points in the same run. Run: `cargo bench --bench coverage`.
//!
//! Prints wall time of each side, their ratio, our peak memory, and checks that both found
//! the same number of demand–facility pairs and covered points.

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

/// SplitMix64: deterministic, dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn points(n: usize, seed: u64) -> Vec<Point<f64>> {
    let mut r = Rng(seed);
    // Clustered like a city: 70 % of points around 40 centres, 30 % uniform.
    let mut centres = Rng(seed ^ 0xABCD);
    let cs: Vec<(f64, f64)> = (0..40)
        .map(|_| (centres.next() * SIDE, centres.next() * SIDE))
        .collect();
    (0..n)
        .map(|_| {
            if r.next() < 0.7 {
                let (cx, cy) = cs[(r.next() * 40.0) as usize % 40];
                let a = r.next() * std::f64::consts::TAU;
                let d = r.next().sqrt() * 8_000.0;
                Point::new(
                    (cx + d * a.cos()).clamp(0.0, SIDE),
                    (cy + d * a.sin()).clamp(0.0, SIDE),
                )
            } else {
                Point::new(r.next() * SIDE, r.next() * SIDE)
            }
        })
        .collect()
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn write_f64(path: &std::path::Path, pts: &[Point<f64>]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for p in pts {
        f.write_all(&p.x().to_le_bytes()).unwrap();
        f.write_all(&p.y().to_le_bytes()).unwrap();
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let demand = points(DEMAND, 1);
    let facilities = points(FACILITIES, 2);
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
    match Command::new("python3")
        .arg(script)
        .arg(&dp)
        .arg(&fp)
        .arg(RADIUS.to_string())
        .output()
    {
        Ok(out) if out.status.success() => {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let q = v["query_s"].as_f64().unwrap();
            let b = v["build_s"].as_f64().unwrap();
            println!(
                "shapely {} STRtree dwithin (query only):              {:>8.3} s  ({} pairs, {} covered; build {:.3} s; peak {:.0} MB)",
                shapely_version(),
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

fn shapely_version() -> String {
    Command::new("python3")
        .args(["-c", "import shapely; print(shapely.__version__)"])
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
