//! Scenarios side by side: projects with named scenarios and accepted proposals, compared
//! rule by rule and unit by unit with `analyze --compare`; the figures agree with the
//! proposal run's own before → after.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carecircle"))
}

fn harbin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin")
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A.ccproj holds the named scenarios 现状 (nothing added) and 方案A (the five proposals);
/// B.ccproj is a project whose five proposals were all accepted.
fn projects(dir: &Path) -> serde_json::Value {
    let pj = dir.join("p.json");
    let o = bin()
        .arg("propose")
        .arg(harbin())
        .args(["--kind", "day_care", "--p", "5", "--json"])
        .arg(&pj)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&pj).unwrap()).unwrap();
    let added: Vec<serde_json::Value> = p["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            serde_json::json!({"kind": "day_care", "id": x["candidate_id"], "name": x["name"],
                "lon": x["lon"], "lat": x["lat"], "capacity": x["places"]})
        })
        .collect();
    let settings = serde_json::json!({"preset": "heilongjiang-2021", "minutes": 15.0,
        "speed": 1.0, "network": false, "with_planned": false});
    let named = |name: &str, added: Vec<serde_json::Value>| {
        let mut s = settings.clone();
        s["name"] = name.into();
        s["added"] = added.into();
        s
    };
    let mut a = settings.clone();
    a["version"] = 1.into();
    // Relative to the project's folder: the data is found from there.
    a["dataset"] = harbin().display().to_string().into();
    a["scenarios"] = serde_json::json!([named("现状", vec![]), named("方案A", added)]);
    // Unknown keys of the app (layers, view) are ignored.
    a["layers"] = serde_json::json!([]);
    std::fs::write(dir.join("A.ccproj"), a.to_string()).unwrap();
    let mut b = a.clone();
    b["scenarios"] = serde_json::json!([]);
    b["decisions"] = serde_json::json!(vec![true; 5]);
    b["proposals"] = p.clone();
    std::fs::write(dir.join("B.ccproj"), b.to_string()).unwrap();
    p
}

#[test]
fn compare_agrees_with_the_proposal_run_and_lists_changed_units() {
    let dir = tempfile::tempdir().unwrap();
    let p = projects(dir.path());
    let after = p["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "elderly_15min_circle")
        .unwrap();
    let a = dir.path().join("A.ccproj");
    let b = dir.path().join("B.ccproj");
    for (x, y) in [
        (format!("{}#现状", a.display()), b.display().to_string()),
        (
            format!("{}#现状", a.display()),
            format!("{}#方案A", a.display()),
        ),
    ] {
        let o = bin()
            .args(["analyze", "--compare", &x, &y, "--json", "-"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", out(&o));
        let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let r = c["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "elderly_15min_circle")
            .unwrap();
        let (va, vb) = (
            r["value_a"].as_f64().unwrap(),
            r["value_b"].as_f64().unwrap(),
        );
        assert!(
            (va - after["before"].as_f64().unwrap()).abs() < 1e-9,
            "{va}"
        );
        assert!((vb - after["after"].as_f64().unwrap()).abs() < 1e-9, "{vb}");
        assert_eq!(r["units_meeting_b"], after["units_meeting_after"]);
        // Every unit listed differs, and each unit that changed status is listed.
        let units = c["units"].as_array().unwrap();
        assert!(!units.is_empty());
        assert_eq!(
            r["units_changed"].as_u64().unwrap() as usize,
            units
                .iter()
                .filter(|u| u["rule"] == "elderly_15min_circle")
                .count()
        );
        assert!(units
            .iter()
            .any(|u| u["status_a"] == "fail" && u["status_b"] == "pass"));
        // Rules about other kinds do not move.
        let nursery = c["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["id"] == "nursery_places_per_1000")
            .unwrap();
        assert_eq!(nursery["units_changed"], 0);
    }
    // The same scenario twice: nothing differs.
    let o = bin()
        .args(["analyze", "--compare"])
        .arg(format!("{}#现状", a.display()))
        .arg(&a)
        .args(["--json", "-"])
        .output()
        .unwrap();
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(c["units"].as_array().unwrap().is_empty(), "{c}");
}

#[test]
fn compare_says_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    projects(dir.path());
    let a = dir.path().join("A.ccproj").display().to_string();
    let run = |args: &[&str]| {
        let o = bin().arg("analyze").args(args).output().unwrap();
        (o.status.success(), out(&o))
    };
    let (ok, t) = run(&["--compare", &format!("{a}#方案B"), &a]);
    assert!(
        !ok && t.contains("no scenario named '方案B' (it has: 现状, 方案A)"),
        "{t}"
    );
    let (ok, t) = run(&["--compare", &a, &a, "--year", "2025"]);
    assert!(
        !ok && t.contains("takes each scenario's settings from its project"),
        "{t}"
    );
    let junk = dir.path().join("junk.ccproj");
    std::fs::write(&junk, "{}").unwrap();
    let (ok, t) = run(&["--compare", &a, &junk.display().to_string()]);
    assert!(!ok && t.contains("not a CareCircle project file"), "{t}");
    // A comparison never writes over a project it read.
    let (ok, t) = run(&["--compare", &a, &a, "--json", &a]);
    assert!(!ok, "{t}");
}
