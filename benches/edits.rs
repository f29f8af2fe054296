//! What one field edit costs in the app, on the Harbin demo (release): replaying the edit
//! history onto the data as loaded, and re-running every rule with the demand model kept
//! (what the app does after an edit) beside a run that rebuilds it (what a reload costs).
//! Also the log append (write + fsync). Run with `cargo bench --bench edits`.

use std::path::Path;
use std::time::Instant;

use carecircle::coverage::{analyze_reusing, Euclidean, Scenario};
use carecircle::io::edits::EditLog;
use carecircle::model::edits::{apply_edits, Edit, EditKind, HistoryStep};
use carecircle::progress::NoProgress;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let harbin = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    let base = carecircle::io::load_path(&harbin).expect("the Harbin demo loads");
    let sc = Scenario::new("heilongjiang-2021").expect("preset");
    let (rules, opts) = (sc.rules(), sc.options());
    // Twenty edits: each moves a facility 50 m, as a surveyor's morning might.
    let mut edits = Vec::new();
    let mut ds = base.clone();
    for i in 0..20 {
        let id = ds.facilities[i * 7 % ds.facilities.len()].id;
        let e = Edit::modify(&ds, id, EditKind::Move, |r| {
            if let Some(l) = r.location.as_mut() {
                l[0] += 50.0;
            }
        })
        .expect("a move changes the record");
        edits.push(e);
        ds = apply_edits(&base, &edits).0;
    }
    let runs = 7;
    let (mut replay, mut reuse, mut rebuild) = (Vec::new(), Vec::new(), Vec::new());
    let (_, demand) =
        analyze_reusing(&ds, rules, &opts, &Euclidean, None, &NoProgress).expect("analysis");
    for _ in 0..runs {
        let t = Instant::now();
        let (edited, _) = apply_edits(&base, &edits);
        replay.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let (r1, _) = analyze_reusing(
            &edited,
            rules,
            &opts,
            &Euclidean,
            Some(demand.clone()),
            &NoProgress,
        )
        .expect("analysis");
        reuse.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let (r2, _) = analyze_reusing(&edited, rules, &opts, &Euclidean, None, &NoProgress)
            .expect("analysis");
        rebuild.push(t.elapsed().as_secs_f64() * 1e3);
        // Same answer either way: the demand model does not depend on facilities.
        assert_eq!(
            serde_json::to_string(&carecircle::report::to_json(&r1, &edited)).unwrap(),
            serde_json::to_string(&carecircle::report::to_json(&r2, &edited)).unwrap()
        );
    }
    let dir = std::env::temp_dir().join(format!("carecircle-edits-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut log = EditLog::open(&dir.join("bench.edits.jsonl"), &base)
        .expect("log")
        .log;
    let mut append = Vec::new();
    for e in &edits {
        let t = Instant::now();
        log.record(&HistoryStep::Edit {
            edit: Box::new(e.clone()),
        })
        .expect("append");
        append.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "Harbin: {} units, {} facilities, {} demand points; 20 moves in the history ({runs} runs, median)",
        base.units.len(),
        base.facilities.len(),
        demand.points.len()
    );
    println!(
        "  replay 20 edits onto the data as loaded   {:>8.1} ms",
        median(replay)
    );
    println!(
        "  re-analyse, demand model kept (the app)    {:>8.1} ms",
        median(reuse)
    );
    println!(
        "  re-analyse, demand model rebuilt (reload)  {:>8.1} ms",
        median(rebuild)
    );
    println!(
        "  log append + fsync, per edit               {:>8.2} ms (median of 20)",
        median(append)
    );
}
