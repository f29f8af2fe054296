//! `propose` on the Harbin demo: gains add up and agree with the coverage engine's own
//! before/after figures (two independent computations of coverage), the exact MILP proves
//! the heuristic's answer, the capacitated nursery model closes every unit's places gap, and
//! bad inputs (p too small, a candidate file in the wrong CRS, duplicate ids) say what to
//! change.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;

use carecircle::coverage::rules::RuleSet;
use carecircle::coverage::Euclidean;
use carecircle::model::{Dataset, FacilityKind};
use carecircle::progress::NoProgress;
use carecircle::siting::propose::{
    candidates_from, propose, Candidate, ProposeModel, ProposeOptions,
};

/// A candidate file read as the CLI reads it: the layer by `io`, the sites by `siting`.
fn read_candidates(
    ds: &carecircle::Dataset,
    path: &std::path::Path,
    crs: Option<&str>,
    kind: FacilityKind,
) -> carecircle::Result<Vec<Candidate>> {
    let layer = carecircle::io::load::load_candidate_layer(path, crs, kind)?;
    candidates_from(ds, &layer, path)
}

fn harbin() -> Dataset {
    carecircle::io::load_path(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin"))
        .unwrap()
}

/// People the coverage engine counts inside the 15-minute elderly-care circle.
fn circle_covered(r: &carecircle::coverage::Report) -> f64 {
    r.rules
        .iter()
        .find(|x| x.id == "elderly_15min_circle")
        .unwrap()
        .people_covered
        .unwrap()
}

fn rules() -> RuleSet {
    RuleSet::preset("heilongjiang-2021").unwrap()
}

fn day_care(p: usize, exact: bool) -> ProposeOptions {
    ProposeOptions {
        kind: FacilityKind::DayCare,
        model: ProposeModel::Mclp,
        p: Some(p),
        exact,
        time_limit: 30.0,
        ..Default::default()
    }
}

#[test]
fn day_care_mclp_gains_add_up_and_match_the_coverage_engine() {
    let ds = harbin();
    let out = propose(
        &ds,
        &rules(),
        &day_care(10, false),
        None,
        &Euclidean,
        &NoProgress,
    )
    .unwrap();
    let pr = &out.proposals;
    assert_eq!(pr.proposals.len(), 10);
    assert_eq!(pr.radius_m, 900.0);
    // Marginal gains are ranked (non-increasing) and add up to the after coverage.
    let gains: Vec<f64> = pr.proposals.iter().map(|p| p.marginal_people).collect();
    assert!(gains.windows(2).all(|w| w[0] >= w[1]), "{gains:?}");
    let sum: f64 = gains.iter().sum();
    assert!((pr.people_covered_before + sum - pr.people_covered_after).abs() < 1e-6);
    assert!((pr.objective - pr.people_covered_after).abs() < 1e-6);
    // The coverage engine, re-run with the proposals as facilities, agrees.
    assert!((circle_covered(&out.before) - pr.people_covered_before).abs() < 1e-6);
    assert!((circle_covered(&out.after) - pr.people_covered_after).abs() < 1e-6);
    assert!(pr.people_covered_after > pr.people_covered_before);
    // Every proposal lies in a unit and carries its code.
    assert!(pr.proposals.iter().all(|p| !p.unit_code.is_empty()));
    // GeoJSON and CSV carry every proposal.
    let gj = pr.to_geojson();
    assert_eq!(gj["features"].as_array().unwrap().len(), 10);
    assert_eq!(pr.to_csv().lines().count(), 11);
    // The demo has no community units: the community day-care rule is said to be not
    // evaluable, not shown as "– → – (0/0)"; the 15-minute circle is evaluated.
    let text = pr.to_text(true);
    let line = |id: &str| {
        let d = pr.rules.iter().find(|d| d.id == id).unwrap();
        let title = d.title_en.clone();
        (
            d.evaluable(),
            text.lines()
                .find(|l| l.contains(&title))
                .unwrap()
                .to_owned(),
        )
    };
    let (ok, community) = line("day_care_per_community");
    assert!(!ok && community.contains("not evaluable"), "{community}");
    let (ok, circle) = line("elderly_15min_circle");
    assert!(
        ok && circle.contains("→") && !circle.contains("not evaluable"),
        "{circle}"
    );
}

#[test]
fn exact_proves_the_day_care_answer() {
    let ds = harbin();
    let heur = propose(
        &ds,
        &rules(),
        &day_care(10, false),
        None,
        &Euclidean,
        &NoProgress,
    )
    .unwrap()
    .proposals;
    let ex = propose(
        &ds,
        &rules(),
        &day_care(10, true),
        None,
        &Euclidean,
        &NoProgress,
    )
    .unwrap()
    .proposals;
    assert!(ex.objective >= heur.objective - 1e-6);
    let gap = ex.gap.unwrap();
    assert!(gap <= 1e-6, "gap {gap} ({})", ex.status);
    assert!(ex.bound.unwrap() >= ex.objective - 1e-6);
}

#[test]
fn capacitated_nurseries_close_every_units_places_gap() {
    let ds = harbin();
    let opts = ProposeOptions {
        kind: FacilityKind::Nursery,
        model: ProposeModel::Capacitated,
        ..Default::default()
    };
    let out = propose(&ds, &rules(), &opts, None, &Euclidean, &NoProgress).unwrap();
    let places = |r: &carecircle::coverage::Report| {
        r.rules
            .iter()
            .find(|x| x.id == "nursery_places_per_1000")
            .map(|x| (x.units_meeting, x.units_total))
            .unwrap()
    };
    let (before, total) = places(&out.before);
    assert!(before < total);
    assert_eq!(places(&out.after), (total, total));
    let pr = &out.proposals;
    assert!(pr
        .proposals
        .iter()
        .all(|p| p.places == Some(80.0) || p.places == Some(150.0)));
    let added: f64 = pr.proposals.iter().filter_map(|p| p.places).sum();
    assert_eq!(added, pr.places_added);
    // Each unit's gap needs at least ceil(short / 150) sites: asking for fewer is refused
    // with the number to raise p to.
    let few = ProposeOptions {
        p: Some(5),
        ..opts.clone()
    };
    let err = propose(&ds, &rules(), &few, None, &Euclidean, &NoProgress)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("raise p to"), "{err}");
    // Nurseries only.
    let wrong = ProposeOptions {
        kind: FacilityKind::DayCare,
        ..opts
    };
    assert!(propose(&ds, &rules(), &wrong, None, &Euclidean, &NoProgress).is_err());
}

/// `propose` with the day-care sites of a candidate file; the error as text.
fn with_file(ds: &Dataset, file: &std::path::Path, opts: ProposeOptions) -> Result<(), String> {
    let c = read_candidates(ds, file, None, FacilityKind::DayCare).map_err(|e| e.to_string())?;
    propose(ds, &rules(), &opts, Some(c), &Euclidean, &NoProgress)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[test]
fn candidate_files_are_checked() {
    let ds = harbin();
    let dir = std::env::temp_dir().join(format!("cc-propose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Two sites inside Harbin, in WGS84.
    let inside: Vec<(f64, f64)> = ds
        .units
        .iter()
        .filter(|u| u.level == carecircle::model::UnitLevel::SubDistrict)
        .take(2)
        .map(|u| {
            use geo::InteriorPoint;
            let p = u.geometry.as_ref().unwrap().interior_point().unwrap();
            ds.projection.inverse(p.x(), p.y())
        })
        .collect();
    let write = |name: &str, pts: &[(String, f64, f64)]| {
        let feats: Vec<serde_json::Value> = pts
            .iter()
            .map(|(id, x, y)| {
                serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                    "properties": {"id": id, "name": format!("闲置用房 {id}"), "owner": "街道办"}})
            })
            .collect();
        let p = dir.join(name);
        std::fs::write(
            &p,
            serde_json::json!({"type": "FeatureCollection", "features": feats}).to_string(),
        )
        .unwrap();
        p
    };
    let good = write(
        "good.geojson",
        &[
            ("a".into(), inside[0].0, inside[0].1),
            ("b".into(), inside[1].0, inside[1].1),
        ],
    );
    let c = read_candidates(&ds, &good, None, FacilityKind::DayCare).unwrap();
    assert_eq!(c.len(), 2);
    assert!(c.iter().all(|c| c.unit.is_some() && c.origin == "file"));
    // Unknown attributes ride along to the proposals.
    assert_eq!(c[0].attributes.get("owner").unwrap(), "街道办");
    let out = propose(
        &ds,
        &rules(),
        &day_care(1, false),
        Some(c),
        &Euclidean,
        &NoProgress,
    )
    .unwrap();
    assert_eq!(out.proposals.candidates, 2);
    // p larger than the candidates.
    let err = with_file(&ds, &good, day_care(3, false)).unwrap_err();
    assert!(err.contains("larger than the 2 candidate"), "{err}");
    // Projected metres declared (by default) as WGS84: refused, naming the file.
    let (x, y) = (523_456.0, 5_067_890.0);
    let bad = write("metres.geojson", &[("m".into(), x, y)]);
    let err = read_candidates(&ds, &bad, None, FacilityKind::DayCare)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("metres.geojson"), "{err}");
    // Somewhere else on Earth: no candidate in any unit.
    let far = write("far.geojson", &[("f".into(), 116.4, 39.9)]);
    let err = with_file(&ds, &far, day_care(1, false)).unwrap_err();
    assert!(err.contains("another CRS"), "{err}");
    // Duplicate ids.
    let dup = write(
        "dup.geojson",
        &[
            ("a".into(), inside[0].0, inside[0].1),
            ("a".into(), inside[1].0, inside[1].1),
        ],
    );
    let err = read_candidates(&ds, &dup, None, FacilityKind::DayCare)
        .map(|_| ())
        .unwrap_err()
        .to_string();
    assert!(err.contains("duplicate candidate id 'a'"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn pmedian_on_walking_distances_is_proven_and_says_where_searches_stop() {
    let ds = harbin();
    let graph = carecircle::io::graph::graph_of(&ds);
    let acc = carecircle::coverage::NetworkAccess::new(&graph, 300.0);
    let opts = |exact| ProposeOptions {
        kind: FacilityKind::DayCare,
        model: ProposeModel::Pmedian,
        p: Some(3),
        exact,
        time_limit: 60.0,
        ..Default::default()
    };
    let heur = propose(&ds, &rules(), &opts(false), None, &acc, &NoProgress).unwrap();
    let ex = propose(&ds, &rules(), &opts(true), None, &acc, &NoProgress).unwrap();
    let (h, e) = (&heur.proposals, &ex.proposals);
    assert_eq!(e.proposals.len(), 3);
    assert!(e.objective <= h.objective + 1e-6 * h.objective);
    assert!(e.gap.unwrap() <= 1e-6, "{}", e.status);
    // Coverage after, counted by the ranking (within the circle, not the search cutoff),
    // agrees with the coverage engine's own walking count.
    assert!(
        (circle_covered(&ex.after) - e.people_covered_after).abs() < 1e-6,
        "engine {} vs proposals {}",
        circle_covered(&ex.after),
        e.people_covered_after
    );
    // The cutoff is reported, not silently applied.
    assert!(
        e.notes.iter().any(|n| n.contains("2700 m")),
        "{:?}",
        e.notes
    );
    // Opening more sites can only shorten walks.
    let more = propose(
        &ds,
        &rules(),
        &ProposeOptions {
            p: Some(6),
            ..opts(false)
        },
        None,
        &acc,
        &NoProgress,
    )
    .unwrap();
    assert!(more.proposals.objective < h.objective);
    // Sites past the point where coverage grows gain nothing, and say 0, never "-0".
    let many = propose(
        &ds,
        &rules(),
        &ProposeOptions {
            p: Some(60),
            ..opts(false)
        },
        None,
        &acc,
        &NoProgress,
    )
    .unwrap();
    for p in &many.proposals.proposals {
        assert!(
            p.marginal_people >= 0.0 && !p.marginal_people.is_sign_negative(),
            "rank {}: {}",
            p.rank,
            p.marginal_people
        );
    }
    assert!(!many.proposals.to_text(true).contains(" -0 "));
}

/// Site roles: a site chosen without them is refused with them — inside an excluded area,
/// or within the forbidden radius of an existing day-care room — and the notes say so.
#[test]
fn excluded_areas_and_forbidden_radii_are_honoured() {
    use carecircle::siting::propose::Excluded;
    let ds = harbin();
    let free = propose(
        &ds,
        &rules(),
        &day_care(3, false),
        None,
        &Euclidean,
        &NoProgress,
    )
    .unwrap();
    let top = free.proposals.proposals[0].clone();
    let ids = |o: &carecircle::siting::propose::Outcome| -> Vec<String> {
        o.proposals
            .proposals
            .iter()
            .map(|p| p.candidate_id.clone())
            .collect()
    };
    assert!(ids(&free).contains(&top.candidate_id));

    // A 40 m square around the top site.
    let sq = geo::Polygon::new(
        geo::LineString::from(vec![
            (top.x - 20.0, top.y - 20.0),
            (top.x + 20.0, top.y - 20.0),
            (top.x + 20.0, top.y + 20.0),
            (top.x - 20.0, top.y + 20.0),
            (top.x - 20.0, top.y - 20.0),
        ]),
        vec![],
    );
    let mut opts = day_care(3, false);
    opts.excluded = Some(Excluded {
        shapes: vec![geo::Geometry::Polygon(sq)],
        buffer_m: 0.0,
        label: "--exclude parks.geojson".into(),
    });
    let out = propose(&ds, &rules(), &opts, None, &Euclidean, &NoProgress).unwrap();
    assert!(!ids(&out).contains(&top.candidate_id), "{:?}", ids(&out));
    assert!(
        out.proposals
            .notes
            .iter()
            .any(|n| n.contains("--exclude parks.geojson: 1 of")),
        "{:?}",
        out.proposals.notes
    );

    // The forbidden radius: just past the top site's distance to the nearest existing
    // day-care room.
    let near = ds
        .facilities
        .iter()
        .filter(|f| {
            f.kind == FacilityKind::DayCare
                && f.status == carecircle::model::FacilityStatus::Existing
        })
        .filter_map(|f| f.location)
        .map(|p| ((p.x() - top.x).powi(2) + (p.y() - top.y).powi(2)).sqrt())
        .fold(f64::INFINITY, f64::min);
    let mut opts = day_care(3, false);
    opts.forbidden_radius_m = Some(near + 1.0);
    let out = propose(&ds, &rules(), &opts, None, &Euclidean, &NoProgress).unwrap();
    assert!(!ids(&out).contains(&top.candidate_id), "{:?}", ids(&out));
    assert!(
        out.proposals
            .notes
            .iter()
            .any(|n| n.contains("--forbidden-radius")),
        "{:?}",
        out.proposals.notes
    );

    // Options that leave nothing are errors naming the option.
    let mut opts = day_care(3, false);
    opts.forbidden_radius_m = Some(50_000.0);
    let e = match propose(&ds, &rules(), &opts, None, &Euclidean, &NoProgress) {
        Ok(_) => panic!("a forbidden radius over every candidate must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("--forbidden-radius") && e.contains("every one of"),
        "{e}"
    );
}

/// The fewest day-care sites to bring 99.5 % of people 60+ within 900 m, proven, and the
/// coverage engine agreeing that the share is met.
#[test]
fn threshold_proposals_meet_the_share() {
    let ds = harbin();
    let mut opts = day_care(1, true);
    opts.p = None;
    opts.model = ProposeModel::Threshold;
    opts.share = Some(0.995);
    let out = propose(&ds, &rules(), &opts, None, &Euclidean, &NoProgress).unwrap();
    let pr = &out.proposals;
    assert_eq!(pr.gap, Some(0.0), "{}", pr.status);
    assert!(pr.people_covered_after >= 0.995 * pr.people_total - 1e-6);
    assert!((circle_covered(&out.after) - pr.people_covered_after).abs() < 1e-6);
    // One site fewer cannot reach it: the best p = n − 1 falls short.
    let mut fewer = day_care(pr.proposals.len() - 1, true);
    fewer.time_limit = 30.0;
    let f = propose(&ds, &rules(), &fewer, None, &Euclidean, &NoProgress).unwrap();
    assert_eq!(f.proposals.gap, Some(0.0));
    assert!(f.proposals.people_covered_after < 0.995 * pr.people_total);
}

/// The command line's site-role and threshold options, refused by name when wrong.
#[test]
fn propose_options_for_roles_and_threshold_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let pts = dir.path().join("military.geojson");
    std::fs::write(
        &pts,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[126.63,45.75]}}]}"#,
    )
    .unwrap();
    let harbin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    let run = |args: &[&str]| {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_carecircle"))
            .arg("propose")
            .arg(&harbin)
            .args(["--kind", "day_care"])
            .args(args)
            .output()
            .unwrap();
        (
            o.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let p = pts.display().to_string();
    for (args, says) in [
        (
            vec!["--model", "threshold"],
            "--model threshold needs --share",
        ),
        (
            vec!["--model", "threshold", "--share", "1.5"],
            "--share 1.5: must be more than 0",
        ),
        (
            vec!["--p", "3", "--share", "0.5"],
            "--share applies to --model threshold",
        ),
        (
            vec!["--p", "3", "--exclude", &p],
            "holds points only; give --exclude-buffer",
        ),
        (
            vec!["--p", "3", "--exclude-buffer", "50"],
            "need --exclude FILE",
        ),
        (
            vec!["--p", "3", "--forbidden-radius=-1"],
            "--forbidden-radius -1",
        ),
    ] {
        let (ok, out) = run(&args);
        assert!(!ok, "{args:?}");
        assert!(out.contains(says), "{args:?}: {out}");
    }
    // A point on the top site, 100 m around it excluded: another site, and a note.
    let json = dir.path().join("p.json");
    let (ok, out) = run(&["--p", "3", "--json", &json.display().to_string()]);
    assert!(ok, "{out}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let top = &v["proposals"][0];
    std::fs::write(
        &pts,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[{},{}]}}}}]}}"#,
            top["lon"], top["lat"]
        ),
    )
    .unwrap();
    let (ok, out) = run(&[
        "--p",
        "3",
        "--exclude",
        &p,
        "--exclude-buffer",
        "100",
        "--lang",
        "en",
    ]);
    assert!(ok, "{out}");
    let id = top["candidate_id"].as_str().unwrap();
    assert!(
        !out.contains(&format!(" {id} ")),
        "{id} still proposed: {out}"
    );
    assert!(
        out.contains("lie in an excluded area (or within 100 m of one)"),
        "{out}"
    );
}

/// The sized model on Harbin's nurseries: sizes chosen within the budget, proven, the
/// places it adds counted by the coverage engine afterwards; bad costs named.
#[test]
fn sized_nurseries_stay_within_budget_and_add_their_places() {
    let ds = harbin();
    let opts = ProposeOptions {
        kind: FacilityKind::Nursery,
        model: ProposeModel::Sized,
        exact: true,
        time_limit: 30.0,
        modules: vec![80.0, 150.0],
        module_costs: vec![1.0, 1.6],
        budget: Some(4.2),
        ..Default::default()
    };
    let out = propose(&ds, &rules(), &opts, None, &Euclidean, &NoProgress).unwrap();
    let pr = &out.proposals;
    assert_eq!(pr.gap, Some(0.0), "{}", pr.status);
    let places: Vec<f64> = pr.proposals.iter().map(|p| p.places.unwrap()).collect();
    let cost: f64 = places
        .iter()
        .map(|p| if *p == 80.0 { 1.0 } else { 1.6 })
        .sum();
    assert!(cost <= 4.2 + 1e-9, "{places:?}");
    assert!((pr.places_added - places.iter().sum::<f64>()).abs() < 1e-9);
    assert!(
        (out.after.summary.nursery_places - out.before.summary.nursery_places - pr.places_added)
            .abs()
            < 1e-6
    );
    assert!(pr.objective >= pr.greedy_objective - 1e-9);
    let mut bad = opts.clone();
    bad.module_costs = vec![1.0];
    let e = match propose(&ds, &rules(), &bad, None, &Euclidean, &NoProgress) {
        Ok(_) => panic!("one cost for two sizes must be refused"),
        Err(e) => e.to_string(),
    };
    assert!(
        e.contains("--module-costs: 1 costs for 2 module sizes"),
        "{e}"
    );
}
