//! Shared test and bench fixtures: one seeded random source, so every unit test,
//! integration test and benchmark that builds random cases builds the same ones on every
//! run. Not part of the product's API.

/// Uniform numbers in [0, 1) from a seeded xorshift (13, 7, 17): deterministic,
/// dependency-free, the same sequence everywhere it is used.
///
/// ```
/// let mut a = carecircle::testkit::xorshift(42);
/// let mut b = carecircle::testkit::xorshift(42);
/// let (x, y) = (a(), b());
/// assert_eq!(x, y);
/// assert!((0.0..1.0).contains(&x));
/// ```
pub fn xorshift(mut seed: u64) -> impl FnMut() -> f64 {
    move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A Python that imports `modules` (e.g. "access, pandas"), for the tests and benches that
/// compare with a peer: `$CARECIRCLE_PYTHON`, the peers' venv that `scripts/peers.sh` makes
/// (`~/.cache/carecircle-peers`), or `python3` — the first that has them.
pub fn peer_python(modules: &str) -> Option<std::path::PathBuf> {
    let mut tries: Vec<std::path::PathBuf> = Vec::new();
    if let Ok(p) = std::env::var("CARECIRCLE_PYTHON") {
        tries.push(p.into());
    }
    if let Ok(h) = std::env::var("HOME") {
        tries.push(std::path::Path::new(&h).join(".cache/carecircle-peers/bin/python"));
    }
    tries.push("python3".into());
    tries.into_iter().find(|p| {
        std::process::Command::new(p)
            .args(["-c", &format!("import {modules}")])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

/// Runs `script` with `py` and `args`, and reads the JSON object it printed last (peers may
/// print banners before it). Panics with the script's stderr when it fails: a test helper.
pub fn python_json(
    py: &std::path::Path,
    script: &str,
    args: &[&std::ffi::OsStr],
) -> serde_json::Value {
    let o = std::process::Command::new(py)
        .args(["-c", script])
        .args(args)
        .output()
        .expect("python runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let last = o
        .stdout
        .split(|b| *b == b'\n')
        .rfind(|l| !l.is_empty())
        .expect("the script printed its answer");
    serde_json::from_slice(last).expect("its last line is JSON")
}
