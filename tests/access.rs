//! Accessibility measures and equity: hand-computed cases, a conservation property, PySAL
//! `access` on a seeded city-sized case, and the `access`/`matrix` commands on files.

// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::Path;
use std::process::Command;

use carecircle::coverage::equity::{equity, lorenz_at, Weighted};
use carecircle::coverage::measure::{Decay, Measure, Method};
use carecircle::coverage::{Accessibility, Euclidean, Reach};
use carecircle::progress::NoProgress;
use geo::Point;

fn reach_of(demand: &[(f64, f64)], facilities: &[(f64, f64)], d0: f64) -> Reach {
    let o: Vec<Point<f64>> = demand.iter().map(|p| Point::new(p.0, p.1)).collect();
    let t: Vec<Point<f64>> = facilities.iter().map(|p| Point::new(p.0, p.1)).collect();
    Euclidean.all_within(&o, &t, d0, &NoProgress).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()) + 1e-12
}

/// Three people, two facilities, catchment 500 m, all on a line (metres):
/// P0 (0) 100 people, P1 (400) 300, P2 (2000) 50; F0 (100) supply 20, F1 (700) supply 10.
/// Pairs within 500 m: P0–F0 100 m, P1–F0 300 m, P1–F1 300 m.
fn line_case() -> (Vec<f64>, Vec<f64>, Reach) {
    let r = reach_of(
        &[(0.0, 0.0), (400.0, 0.0), (2000.0, 0.0)],
        &[(100.0, 0.0), (700.0, 0.0)],
        500.0,
    );
    (vec![100.0, 300.0, 50.0], vec![20.0, 10.0], r)
}

fn run(method: Method) -> Vec<Option<f64>> {
    let (p, s, r) = line_case();
    Measure {
        method,
        catchment_m: 500.0,
    }
    .compute(&p, &s, &r)
    .unwrap()
}

#[test]
fn two_step_by_hand() {
    // R0 = 20 / (100 + 300) = 0.05, R1 = 10 / 300; A = Σ R × 1000.
    let a = run(Method::TwoStep);
    assert!(close(a[0].unwrap(), 50.0), "{a:?}");
    assert!(close(a[1].unwrap(), 50.0 + 1000.0 / 30.0), "{a:?}");
    assert_eq!(a[2], Some(0.0), "no supply in reach is 0, not unknown");
}

#[test]
fn enhanced_two_step_with_linear_decay_by_hand() {
    // W = 1 − d/500: P0–F0 0.8, P1–F0 0.4, P1–F1 0.4.
    // F0: 20 / (100×0.8 + 300×0.4) = 0.1; F1: 10 / (300×0.4) = 1/12.
    let a = run(Method::Enhanced {
        decay: Decay::Linear,
    });
    assert!(close(a[0].unwrap(), 0.1 * 0.8 * 1000.0), "{a:?}");
    assert!(
        close(a[1].unwrap(), (0.1 * 0.4 + 0.4 / 12.0) * 1000.0),
        "{a:?}"
    );
    assert_eq!(a[2], Some(0.0));
}

#[test]
fn gravity_by_hand() {
    let a = run(Method::Gravity {
        decay: Decay::Linear,
    });
    assert!(close(a[0].unwrap(), 20.0 * 0.8));
    assert!(close(a[1].unwrap(), 20.0 * 0.4 + 10.0 * 0.4));
    let g = run(Method::Gravity {
        decay: Decay::Gaussian { sigma_m: 250.0 },
    });
    let w = |d: f64| (-d * d / (2.0 * 250.0 * 250.0)).exp();
    assert!(close(g[1].unwrap(), 20.0 * w(300.0) + 10.0 * w(300.0)));
}

#[test]
fn nearest_n_by_hand() {
    let a = run(Method::NearestN { n: 2 });
    assert_eq!(a[0], None, "one facility within 500 m: no mean of two");
    assert!(close(a[1].unwrap(), 300.0));
    let b = run(Method::NearestN { n: 1 });
    assert!(close(b[0].unwrap(), 100.0));
}

#[test]
fn step_decay_bands_follow_luo_and_qi() {
    // Bands over 900 m: ≤300 ×1, ≤600 ×0.68, ≤900 ×0.22.
    let r = reach_of(
        &[(0.0, 0.0), (0.0, 500.0)],
        &[(0.0, 250.0), (0.0, 1300.0)],
        900.0,
    );
    // P0–F0 250 (1), P1–F0 250 (1), P1–F1 800 (0.22). F0: 5/(10+10); F1: 4/(10×0.22).
    let a = Measure {
        method: Method::Enhanced {
            decay: Decay::luo_qi(900.0),
        },
        catchment_m: 900.0,
    }
    .compute(&[10.0, 10.0], &[5.0, 4.0], &r)
    .unwrap();
    assert!(close(a[0].unwrap(), 250.0));
    assert!(close(a[1].unwrap(), 250.0 + 0.22 * 4.0 / 2.2 * 1000.0));
}

/// Two-step measures share out exactly the supply that anyone reaches: Σ P_i A_i / 1000 =
/// Σ S_j over facilities with demand in reach, whatever the layout and the decay.
#[test]
fn two_step_measures_conserve_supply() {
    let mut rnd = carecircle::testkit::xorshift(7);
    for case in 0..20 {
        let dem: Vec<(f64, f64)> = (0..300).map(|_| (rnd() * 3000.0, rnd() * 3000.0)).collect();
        let fac: Vec<(f64, f64)> = (0..25).map(|_| (rnd() * 3000.0, rnd() * 3000.0)).collect();
        let p: Vec<f64> = dem.iter().map(|_| 1.0 + rnd() * 99.0).collect();
        let s: Vec<f64> = fac.iter().map(|_| 1.0 + rnd() * 50.0).collect();
        let r = reach_of(&dem, &fac, 600.0);
        let mut reached = vec![false; fac.len()];
        for i in 0..dem.len() {
            for (j, _) in r.of(i) {
                reached[j as usize] = true;
            }
        }
        let want: f64 = s.iter().zip(&reached).filter(|x| *x.1).map(|x| x.0).sum();
        for decay in [
            None,
            Some(Decay::Gaussian { sigma_m: 300.0 }),
            Some(Decay::luo_qi(600.0)),
        ] {
            let method = match decay {
                None => Method::TwoStep,
                Some(decay) => Method::Enhanced { decay },
            };
            let a = Measure {
                method,
                catchment_m: 600.0,
            }
            .compute(&p, &s, &r)
            .unwrap();
            let got: f64 = a.iter().zip(&p).map(|(a, p)| a.unwrap() * p / 1000.0).sum();
            assert!(
                (got - want).abs() < 1e-9 * want,
                "case {case}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn gini_palma_and_worst_decile_by_hand() {
    // Four units of one person each with values 0, 1, 2, 5 (mean 2). Mean absolute
    // difference: Σ|xi − xj| over ordered pairs = 32; G = 32 / (2 × 4² × 2) = 0.5.
    let e = equity(&[
        Weighted {
            value: 2.0,
            people: 1.0,
        },
        Weighted {
            value: 0.0,
            people: 1.0,
        },
        Weighted {
            value: 5.0,
            people: 1.0,
        },
        Weighted {
            value: 1.0,
            people: 1.0,
        },
    ])
    .unwrap();
    assert!(close(e.gini, 0.5), "{e:?}");
    // Lorenz at 40 % of people: 0.15 of the way into the second unit's segment
    // (0.25 → 0.5 holds 0 → 1/8): 0.6 × 1/8 = 0.075. At 90 %: 0.375 + 0.6 × 0.625 = 0.75.
    assert!(close(lorenz_at(&e.lorenz, 0.4), 0.075));
    assert!(close(e.palma.unwrap(), 0.25 / 0.075));
    assert_eq!(e.worst_decile_units, 1);
    assert!(close(e.worst_decile_people_share, 0.25));
    // Weights count: the same values with 3 people in the best unit. Pairs weighted by
    // people: G = Σ wi wj |xi − xj| / (2 W² μ) with W = 6, μ = (0+1+2+15)/6 = 3.
    let e = equity(&[
        Weighted {
            value: 0.0,
            people: 1.0,
        },
        Weighted {
            value: 1.0,
            people: 1.0,
        },
        Weighted {
            value: 2.0,
            people: 1.0,
        },
        Weighted {
            value: 5.0,
            people: 3.0,
        },
    ])
    .unwrap();
    let xs = [(0.0, 1.0), (1.0, 1.0), (2.0, 1.0), (5.0, 3.0)];
    let mut s = 0.0;
    for a in xs {
        for b in xs {
            s += a.1 * b.1 * f64::abs(a.0 - b.0);
        }
    }
    assert!(
        close(e.gini, s / (2.0 * 36.0 * 3.0)),
        "{} vs {}",
        e.gini,
        s / 216.0
    );
}

// ---------------------------------------------------------------------------------------
// PySAL `access` on a seeded city-sized case.

struct City {
    people: Vec<f64>,
    supply: Vec<f64>,
    reach: Reach,
}

/// 12 × 12 km: 20,000 demand points, denser towards three centres; 400 facilities.
fn city(d0: f64) -> City {
    let mut rnd = carecircle::testkit::xorshift(2026);
    let centres = [(3000.0, 4000.0), (8000.0, 7000.0), (5000.0, 10000.0)];
    let mut pt = |spread: f64| {
        let c = centres[(rnd() * 3.0) as usize % 3];
        let (r, a) = (rnd() * rnd() * spread, rnd() * std::f64::consts::TAU);
        (
            (c.0 + r * a.cos()).clamp(0.0, 12000.0),
            (c.1 + r * a.sin()).clamp(0.0, 12000.0),
        )
    };
    let dem: Vec<(f64, f64)> = (0..20_000).map(|_| pt(6000.0)).collect();
    let fac: Vec<(f64, f64)> = (0..400).map(|_| pt(7000.0)).collect();
    let mut rnd = carecircle::testkit::xorshift(99);
    City {
        people: dem.iter().map(|_| (5.0 + rnd() * 400.0).round()).collect(),
        supply: fac.iter().map(|_| (20.0 + rnd() * 180.0).round()).collect(),
        reach: reach_of(&dem, &fac, d0),
    }
}

#[test]
fn measures_agree_with_pysal_access() {
    let Some(py) = carecircle::testkit::peer_python("access, pandas") else {
        eprintln!(
            "SKIPPED: no Python with PySAL `access` (install: python3 -m venv ~/.cache/carecircle-peers && ~/.cache/carecircle-peers/bin/pip install access==1.1.10)"
        );
        return;
    };
    let d0 = 900.0;
    let c = city(d0);
    let cases: Vec<(&str, Method)> = vec![
        ("2sfca", Method::TwoStep),
        (
            "e2sfca_step",
            Method::Enhanced {
                decay: Decay::luo_qi(d0),
            },
        ),
        (
            "e2sfca_gaussian",
            Method::Enhanced {
                decay: Decay::Gaussian { sigma_m: 450.0 },
            },
        ),
        (
            "e2sfca_linear",
            Method::Enhanced {
                decay: Decay::Linear,
            },
        ),
        (
            "e2sfca_exponential",
            Method::Enhanced {
                decay: Decay::Exponential {
                    beta_per_m: 10f64.ln() / d0,
                },
            },
        ),
        (
            "gravity_gaussian",
            Method::Gravity {
                decay: Decay::Gaussian { sigma_m: 450.0 },
            },
        ),
        (
            "gravity_exponential",
            Method::Gravity {
                decay: Decay::Exponential { beta_per_m: 0.002 },
            },
        ),
        ("nearest3", Method::NearestN { n: 3 }),
    ];
    let dir = tempfile::tempdir().unwrap();
    write_case(dir.path(), &c, d0, &cases);
    let o = Command::new(&py)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tools/access_check.py"))
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(dir.path().join("pysal.csv")).unwrap();
    let mut theirs: std::collections::HashMap<(String, usize), Option<f64>> = Default::default();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        theirs.insert(
            (f[0].to_string(), f[1].parse().unwrap()),
            (!f[2].is_empty()).then(|| f[2].parse().unwrap()),
        );
    }
    for (name, method) in &cases {
        let ours = Measure {
            method: method.clone(),
            catchment_m: d0,
        }
        .compute(&c.people, &c.supply, &c.reach)
        .unwrap();
        let mut worst = 0.0f64;
        let mut nonzero = 0;
        for (i, a) in ours.iter().enumerate() {
            let b = theirs[&(name.to_string(), i)];
            match (a, b) {
                (Some(a), Some(b)) => {
                    let rel = (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
                    if a.abs().max(b.abs()) > 0.0 {
                        worst = worst.max(rel);
                        nonzero += 1;
                    }
                }
                (None, None) => {}
                _ => panic!("{name}, point {i}: ours {a:?}, PySAL {b:?}"),
            }
        }
        eprintln!("{name}: {nonzero} non-zero values, worst relative difference {worst:.2e}");
        assert!(nonzero > 1000, "{name}: too few values to compare");
        assert!(worst <= 1e-9, "{name}: worst relative difference {worst:e}");
    }
}

fn write_case(dir: &Path, c: &City, d0: f64, cases: &[(&str, Method)]) {
    let mut d = String::from("id,people\n");
    for (i, p) in c.people.iter().enumerate() {
        d += &format!("{i},{p}\n");
    }
    std::fs::write(dir.join("demand.csv"), d).unwrap();
    let mut s = String::from("id,supply\n");
    for (j, x) in c.supply.iter().enumerate() {
        s += &format!("f{j},{x}\n");
    }
    std::fs::write(dir.join("supply.csv"), s).unwrap();
    let mut m = String::from("origin,dest,cost\n");
    for i in 0..c.people.len() {
        for (j, dist) in c.reach.of(i) {
            m += &format!("{i},f{j},{}\n", f64::from(dist));
        }
    }
    std::fs::write(dir.join("cost.csv"), m).unwrap();
    let cases: Vec<serde_json::Value> = cases
        .iter()
        .map(|(name, method)| {
            let (kind, decay, n) = match method {
                Method::TwoStep => ("2sfca", None, 0),
                Method::Enhanced { decay } => ("e2sfca", Some(decay), 0),
                Method::Gravity { decay } => ("gravity", Some(decay), 0),
                Method::NearestN { n } => ("nearest-n", None, *n),
            };
            serde_json::json!({"name": name, "method": kind, "catchment": d0, "decay": decay, "n": n})
        })
        .collect();
    std::fs::write(
        dir.join("cases.json"),
        serde_json::to_string(&cases).unwrap(),
    )
    .unwrap();
}

// ---------------------------------------------------------------------------------------
// The commands on files.

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carecircle"))
}

const UNITS: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"name":"甲","code":"230102001","level":"community","population":1000,"pop_60plus":300},"geometry":{"type":"Polygon","coordinates":[[[126.60,45.70],[126.62,45.70],[126.62,45.72],[126.60,45.72],[126.60,45.70]]]}},
{"type":"Feature","properties":{"name":"乙","code":"230102002","level":"community","population":800,"pop_60plus":200},"geometry":{"type":"Polygon","coordinates":[[[126.62,45.70],[126.64,45.70],[126.64,45.72],[126.62,45.72],[126.62,45.70]]]}}]}"#;

const DEMAND: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"楼-17","population":600,"pop_60plus":180},"geometry":{"type":"Point","coordinates":[126.605,45.705]}},
{"type":"Feature","properties":{"id":"楼-18","population":400,"pop_60plus":120},"geometry":{"type":"Point","coordinates":[126.615,45.715]}},
{"type":"Feature","properties":{"id":"楼-40","population":800,"pop_60plus":200},"geometry":{"type":"Point","coordinates":[126.635,45.715]}}]}"#;

const FACILITIES: &str = r#"{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{"id":"DC-1","name":"日间照料一","kind":"day_care","capacity":30},"geometry":{"type":"Point","coordinates":[126.606,45.706]}},
{"type":"Feature","properties":{"id":"DC-2","name":"日间照料二","kind":"day_care"},"geometry":{"type":"Point","coordinates":[126.634,45.714]}}]}"#;

fn small_dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("u.geojson"), UNITS).unwrap();
    std::fs::write(dir.path().join("d.geojson"), DEMAND).unwrap();
    std::fs::write(dir.path().join("f.geojson"), FACILITIES).unwrap();
    std::fs::write(
        dir.path().join("dataset.toml"),
        "[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\n[[layers]]\nrole = \"demand\"\npath = \"d.geojson\"\n[[layers]]\nrole = \"facilities\"\npath = \"f.geojson\"\nkinds = [\"day_care\", \"street_station\", \"district_center\"]\n",
    )
    .unwrap();
    dir
}

fn out(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn access_keeps_source_ids_and_names_missing_capacity() {
    let ds = small_dataset();
    let p = ds.path().display().to_string();
    let csv = ds.path().join("out.csv");
    // DC-2 has no capacity: refused with its name, not counted as 0.
    let o = bin()
        .args(["access", &p, "--kind", "day_care", "--csv"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(out(&o).contains("日间照料二 (DC-2)"), "{}", out(&o));
    assert!(out(&o).contains("--supply count"), "{}", out(&o));
    let units = ds.path().join("units.csv");
    let o = bin()
        .args([
            "access",
            &p,
            "--kind",
            "day_care",
            "--supply",
            "count",
            "--method",
            "e2sfca",
            "--decay",
            "linear",
            "--catchment-m",
            "1000",
            "--csv",
        ])
        .arg(&csv)
        .arg("--units")
        .arg(&units)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    assert!(!out(&o).contains("generated"), "{}", out(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let ids: Vec<&str> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["楼-17", "楼-18", "楼-40"]);
    let u = std::fs::read_to_string(&units).unwrap();
    assert!(u.contains("230102001,甲,community"), "{u}");
}

#[test]
fn access_options_are_checked_by_name() {
    let ds = small_dataset();
    let p = ds.path().display().to_string();
    let csv = ds.path().join("o.csv").display().to_string();
    for (args, says) in [
        (
            vec!["--method", "nearest-n", "--n", "5"],
            "n = 5 is more than the 2 facilities",
        ),
        (
            vec!["--method", "nearest-n", "--n", "0"],
            "n must be at least 1",
        ),
        (
            vec!["--method", "gravity", "--decay", "cubic"],
            "unknown decay 'cubic'",
        ),
        (
            vec!["--method", "2sfca", "--decay", "gaussian"],
            "--decay applies to e2sfca and gravity",
        ),
        (vec!["--method", "hansen"], "unknown method 'hansen'"),
        (vec!["--catchment-m=-5"], "--catchment-m -5"),
    ] {
        let o = bin()
            .args([
                "access", &p, "--kind", "day_care", "--supply", "count", "--csv", &csv,
            ])
            .args(&args)
            .output()
            .unwrap();
        assert!(!o.status.success(), "{args:?}");
        assert!(out(&o).contains(says), "{args:?}: {}", out(&o));
    }
}

#[test]
fn matrix_lists_pairs_within_the_limit_with_source_ids() {
    let ds = small_dataset();
    let p = ds.path().display().to_string();
    let csv = ds.path().join("m.csv");
    let o = bin()
        .args([
            "matrix",
            &p,
            "--to",
            "day_care",
            "--max-minutes",
            "5",
            "--speed",
            "1",
            "--csv",
        ])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    // 300 m at 1 m/s: 楼-17 is ~137 m from DC-1, 楼-40 ~137 m from DC-2; 楼-18 is
    // ~1100 m from both.
    assert_eq!(rows.len(), 2, "{text}");
    assert_eq!((rows[0][0], rows[0][1]), ("楼-17", "DC-1"));
    assert_eq!((rows[1][0], rows[1][1]), ("楼-40", "DC-2"));
    let m: f64 = rows[0][2].parse().unwrap();
    assert!((100.0..200.0).contains(&m), "{m}");
    let minutes: f64 = rows[0][3].parse().unwrap();
    assert!((minutes - m / 60.0).abs() < 0.001);
}

#[test]
fn analyze_json_has_equity_by_hand() {
    // 甲 (60+: 300) has 楼-17 (60 % of its people) within 900 m of DC-1 and 楼-18 (~1.2 km)
    // beyond; 乙 (60+: 200) is all within reach of DC-2. Shares 0.6 and 1.0:
    // G = Σ wi wj |xi − xj| / (2 W² μ) = 2 × 300 × 200 × 0.4 / (2 × 500² × 0.76) = 0.126316.
    let ds = small_dataset();
    let o = bin()
        .args(["analyze", &ds.path().display().to_string(), "--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let e = &v["equity"]["elderly_15min_circle"];
    assert_eq!(e["level"], "community", "{e}");
    assert_eq!(e["units"], 2, "{e}");
    let g = e["gini"].as_f64().unwrap();
    assert!((g - 48000.0 / 380000.0).abs() < 1e-9, "{g}");
    let lorenz = e["lorenz"].as_array().unwrap();
    assert_eq!(lorenz.len(), 3);
    assert!((lorenz[1][0].as_f64().unwrap() - 0.6).abs() < 1e-12);
    assert!((lorenz[1][1].as_f64().unwrap() - 180.0 / 380.0).abs() < 1e-12);
}

/// Decay parameters in a preset are checked on load, naming the table and the parameter.
#[test]
fn preset_access_parameters_are_checked() {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/rules/heilongjiang-2021.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let with = |table: &str| {
        let text = base.replacen("[[rules]]", &format!("{table}\n\n[[rules]]"), 1);
        let p = dir.path().join("p.toml");
        std::fs::write(&p, text).unwrap();
        carecircle::coverage::RuleSet::load(&p.display().to_string())
    };
    let e = with("[settings.access]\nsigma_m = -1")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("settings.access") && e.contains("sigma_m"),
        "{e}"
    );
    let e = with("[settings.access]\nsteps = [[600, 1.0], [300, 0.5]]")
        .unwrap_err()
        .to_string();
    assert!(e.contains("ascending"), "{e}");
    let e = with("[settings.access]\ndecay = \"cubic\"")
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown decay 'cubic'"), "{e}");
    let ok = with("[settings.access]\ndecay = \"exponential\"\nbeta_per_km = 2.0\nn = 4").unwrap();
    let d = ok.settings.access.decay(None, 900.0).unwrap();
    assert_eq!(d, Decay::Exponential { beta_per_m: 0.002 });
    assert_eq!(ok.settings.access.n, Some(4));
}
