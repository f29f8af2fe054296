//! Speed did not change answers: the province dataset at 100,000 demand points
//! (`tools/build_province.py`, seeded) analysed by today's code gives the figures the code
//! path before the province-scale work gave (commit 67b795d, `tests/golden/province_100k.json`).
//!
//! Compared: the summary; each rule's status and figures (value, people covered and in all,
//! units meeting / judged / unknown …); per rule, the units' statuses counted and their
//! deficits and values summed; per rule, the uncovered points and people. Numbers agree to
//! 1e-9 relative (sums run in another order on other threads); strings and counts exactly.
//!
//! Needs the real Heilongjiang data (`../shared/data/heilongjiang`, or `CARECIRCLE_SHARED`)
//! and a Python with numpy, shapely and scipy (`scripts/peers.sh`); skipped with a message
//! without them.
//!
//! The golden file was made from a report JSON of the reference code: 67b795d built in a
//! worktree, `carecircle analyze <the 100k dataset> --json report.json`, then
//! `CARECIRCLE_GOLDEN_FROM=report.json cargo test --test province` (which writes it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

const POINTS: usize = 100_000;

fn shared() -> Option<PathBuf> {
    let d = std::env::var_os("CARECIRCLE_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    d.join("data/heilongjiang").is_dir().then_some(d)
}

/// The dataset, generated once per generator version under the tests' target folder.
fn dataset(shared: &Path, py: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script = std::fs::read(root.join("tools/build_province.py")).unwrap();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("province/p{POINTS}"));
    let stamp = dir.join(".script");
    if std::fs::read(&stamp).ok().as_deref() == Some(&script[..]) {
        return dir;
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let o = Command::new(py)
        .arg(root.join("tools/build_province.py"))
        .arg(&dir)
        .args(["--points", &POINTS.to_string(), "--shared"])
        .arg(shared)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "generator: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    carecircle::io::write::write_atomic(&stamp, &script).unwrap();
    dir
}

/// What is compared of a report (see the module's text).
fn digest(report: &Value) -> Value {
    const RULE_FIELDS: [&str; 13] = [
        "id",
        "status",
        "pass",
        "value",
        "achieved",
        "amount",
        "amount_upper",
        "people_covered",
        "people_total",
        "units_total",
        "units_meeting",
        "units_unknown",
        "target",
    ];
    let rules: Vec<Value> = report["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let m: serde_json::Map<String, Value> = RULE_FIELDS
                .iter()
                .map(|k| (k.to_string(), r[*k].clone()))
                .collect();
            Value::Object(m)
        })
        .collect();
    let mut units: BTreeMap<String, BTreeMap<String, f64>> = BTreeMap::new();
    for u in report["units"].as_array().unwrap() {
        for (rule, s) in u["rules"].as_object().unwrap() {
            let e = units.entry(rule.clone()).or_default();
            *e.entry(format!("status:{}", s["status"].as_str().unwrap()))
                .or_default() += 1.0;
            *e.entry("deficit".into()).or_default() += s["deficit"].as_f64().unwrap_or(0.0);
            *e.entry("value".into()).or_default() += s["value"].as_f64().unwrap_or(0.0);
        }
    }
    let mut uncovered: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for p in report["uncovered"].as_array().unwrap() {
        let e = uncovered
            .entry(p["rule"].as_str().unwrap().to_owned())
            .or_default();
        e.0 += 1.0;
        e.1 += p["people"].as_f64().unwrap();
    }
    json!({
        "summary": report["summary"],
        "rules": rules,
        "units": units,
        "uncovered": uncovered
            .iter()
            .map(|(k, (n, p))| (k.clone(), json!({"points": n, "people": p})))
            .collect::<serde_json::Map<_, _>>(),
    })
}

/// Equal but for the last bits of floating point; `path` names the place in messages.
fn same(a: &Value, b: &Value, path: &str, diffs: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if (x - y).abs() > 1e-9 * x.abs().max(y.abs()).max(1.0) {
                diffs.push(format!("{path}: {x} vs {y}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for k in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                same(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{path}/{k}"),
                    diffs,
                );
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same(p, q, &format!("{path}[{i}]"), diffs);
            }
        }
        _ if a == b => {}
        _ => diffs.push(format!("{path}: {a} vs {b}")),
    }
}

#[test]
fn province_subset_gives_the_answers_of_the_code_before_the_speed_work() {
    let golden_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/province_100k.json");
    if let Some(from) = std::env::var_os("CARECIRCLE_GOLDEN_FROM") {
        let report: Value = serde_json::from_slice(&std::fs::read(from).unwrap()).unwrap();
        let text = serde_json::to_string_pretty(&digest(&report)).unwrap();
        carecircle::io::write::write_atomic(&golden_path, (text + "\n").as_bytes()).unwrap();
        eprintln!("wrote {}", golden_path.display());
        return;
    }
    let Some(shared) = shared() else {
        eprintln!("skipped: no ../shared/data/heilongjiang (set CARECIRCLE_SHARED to the folder holding data/)");
        return;
    };
    let Some(py) = carecircle::testkit::peer_python("numpy, shapely, scipy") else {
        eprintln!(
            "skipped: no Python with numpy, shapely and scipy (scripts/peers.sh installs them)"
        );
        return;
    };
    let dir = dataset(&shared, &py);
    let out = tempfile::tempdir().unwrap();
    let json_path = out.path().join("report.json");
    let o = Command::new(env!("CARGO_BIN_EXE_carecircle"))
        .arg("analyze")
        .arg(&dir)
        .args(["--uncovered", "points", "--json"])
        .arg(&json_path)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let report: Value = serde_json::from_slice(&std::fs::read(&json_path).unwrap()).unwrap();
    let now = digest(&report);
    let golden: Value = serde_json::from_slice(&std::fs::read(&golden_path).unwrap()).unwrap();
    let mut diffs = Vec::new();
    same(&golden, &now, "", &mut diffs);
    assert!(
        diffs.is_empty(),
        "{} differences from the reference, first: {:#?}",
        diffs.len(),
        &diffs[..diffs.len().min(20)]
    );
    // The comparison has something to compare: a province's worth of rules and gaps.
    assert!(now["rules"].as_array().unwrap().len() >= 10);
    assert!(!now["uncovered"].as_object().unwrap().is_empty());
}
