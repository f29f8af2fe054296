//! What the benchmarks share: the seeded clustered point generator, peak memory, medians,
//! and the Python that holds the peers (PySAL access, shapely, numpy).
#![allow(dead_code)]

use std::path::PathBuf;

use geo::Point;

/// SplitMix64: deterministic, dependency-free.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `n` points on a `side` × `side` metre square, clustered like a city: 70 % around 40
/// centres (8 km spread scaled with the side), 30 % uniform.
pub fn points(n: usize, seed: u64, side: f64) -> Vec<Point<f64>> {
    let mut r = Rng(seed);
    let mut centres = Rng(seed ^ 0xABCD);
    let spread = 8_000.0 * side / 100_000.0;
    let cs: Vec<(f64, f64)> = (0..40)
        .map(|_| (centres.next() * side, centres.next() * side))
        .collect();
    (0..n)
        .map(|_| {
            if r.next() < 0.7 {
                let (cx, cy) = cs[(r.next() * 40.0) as usize % 40];
                let a = r.next() * std::f64::consts::TAU;
                let d = r.next().sqrt() * spread;
                Point::new(
                    (cx + d * a.cos()).clamp(0.0, side),
                    (cy + d * a.sin()).clamp(0.0, side),
                )
            } else {
                Point::new(r.next() * side, r.next() * side)
            }
        })
        .collect()
}

pub fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// The Python holding the peers: the venv `scripts/peers.sh bench` fills from the pinned
/// `tools/peers/requirements-bench.txt` (run here once when `modules` are missing, so a
/// fresh machine gets the same versions the README's figures were taken with).
pub fn peer_python(modules: &str) -> Option<PathBuf> {
    if let Some(p) = carecircle::testkit::peer_python(modules) {
        return Some(p);
    }
    if std::env::var_os("CARECIRCLE_BENCH_NO_PEERS").is_some() {
        return None;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/peers.sh");
    eprintln!("peers: `{modules}` missing; running scripts/peers.sh bench");
    let _ = std::process::Command::new("bash")
        .args([script, "bench"])
        .status();
    carecircle::testkit::peer_python(modules)
}

/// The folder holding `data/` and `bench/`: `$CARECIRCLE_SHARED`, else `../shared` beside
/// the checkout. Every bench reads it the same way.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("CARECIRCLE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// A peer's answer: the JSON on the last non-empty line of its standard output. Solvers
/// and libraries print banners and progress there (highspy 1.16, pandana), so the whole
/// stream is not JSON.
pub fn last_json_line(stdout: &[u8]) -> Option<serde_json::Value> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().rev().find(|l| !l.trim().is_empty())?;
    serde_json::from_str(line).ok()
}

/// A seeded facility-location instance shaped like a city region: `n` demand points
/// around `clusters` centres on a `side` × `side` metre square (each centre's spread drawn
/// from `spread`), integer weights 1..=`max_weight`, and `m` candidates — even-numbered at a
/// random demand point jittered by ±`jitter`/2, odd-numbered anywhere.
pub struct Clustered {
    pub seed: u64,
    pub side: f64,
    pub clusters: usize,
    pub spread: (f64, f64),
    pub n: usize,
    pub max_weight: f64,
    pub m: usize,
    pub jitter: f64,
}

impl Clustered {
    pub fn problem(
        &self,
        model: carecircle::siting::Model,
        radius: f64,
        p: Option<usize>,
    ) -> carecircle::siting::Problem {
        let mut rnd = carecircle::testkit::xorshift(self.seed);
        let (side, n) = (self.side, self.n);
        let centres: Vec<([f64; 2], f64)> = (0..self.clusters)
            .map(|_| {
                let c = [rnd() * side, rnd() * side];
                (c, self.spread.0 + rnd() * (self.spread.1 - self.spread.0))
            })
            .collect();
        let gauss = |rnd: &mut dyn FnMut() -> f64| {
            let (u, v) = (rnd().max(1e-12), rnd());
            (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
        };
        let mut demand = Vec::with_capacity(n);
        let mut weight = Vec::with_capacity(n);
        for i in 0..n {
            let (c, s) = centres[i % centres.len()];
            demand.push([c[0] + gauss(&mut rnd) * s, c[1] + gauss(&mut rnd) * s]);
            weight.push((1.0 + rnd() * (self.max_weight - 1.0)).round());
        }
        let mut candidates = Vec::with_capacity(self.m);
        for j in 0..self.m {
            if j % 2 == 0 {
                let d = demand[(rnd() * n as f64) as usize];
                candidates.push([
                    d[0] + (rnd() - 0.5) * self.jitter,
                    d[1] + (rnd() - 0.5) * self.jitter,
                ]);
            } else {
                candidates.push([rnd() * side, rnd() * side]);
            }
        }
        carecircle::siting::Problem {
            model,
            demand_ids: (0..demand.len()).map(|i| format!("d{i}")).collect(),
            demand,
            weight,
            candidate_ids: (0..candidates.len()).map(|j| format!("c{j}")).collect(),
            candidates,
            existing: Vec::new(),
            radius: Some(radius),
            p,
            share: None,
            cover: None,
            quotas: Vec::new(),
        }
    }
}
