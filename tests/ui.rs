//! The desktop app driven headless with egui_kittest: load the Harbin demo (on the worker
//! thread: frames keep coming while it loads), switch to English, read the dashboard, click
//! a sub-district on the map and read its status in Inspect, run a proposal and accept one.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use carecircle::app::layers::LayerId;
use carecircle::app::{install_fonts, CareCircleApp, Command, ExportKind, Lang};
use egui::{Event, PointerButton, Pos2};
use egui_kittest::kittest::{By, Queryable};
use egui_kittest::Harness;

fn harness() -> Harness<'static, CareCircleApp> {
    harness_on(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin"))
}

/// Tall enough that the side panels are on screen whole (a clipped button takes no click).
fn tall_harness() -> Harness<'static, CareCircleApp> {
    Harness::builder()
        .with_size(egui::vec2(1600.0, 3200.0))
        .with_context_setup(install_fonts)
        .build_eframe(|cc| {
            CareCircleApp::new(
                &cc.egui_ctx,
                Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin")),
            )
        })
}

fn harness_on(demo: PathBuf) -> Harness<'static, CareCircleApp> {
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1400.0))
        .with_context_setup(install_fonts)
        .build_eframe(move |cc| CareCircleApp::new(&cc.egui_ctx, Some(demo)))
}

/// Steps frames until the app has no job running; returns the slowest frame.
fn wait_idle(h: &mut Harness<'static, CareCircleApp>, what: &str) -> Duration {
    let t0 = Instant::now();
    let mut slowest = Duration::ZERO;
    loop {
        let t = Instant::now();
        h.step();
        slowest = slowest.max(t.elapsed());
        if !h.state().is_busy() {
            h.step();
            return slowest;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "{what} did not finish"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Moves the pointer onto a widget, then clicks it (a click right after a layout change
/// can land on the previous frame's position otherwise).
fn press(h: &mut Harness<'static, CareCircleApp>, label: &str) {
    h.get_by_label(label).hover();
    h.step();
    h.get_by_label(label).click();
    h.step();
    h.step();
}

fn click_at(h: &mut Harness<'static, CareCircleApp>, pos: Pos2) {
    let input = h.input_mut();
    input.events.push(Event::PointerMoved(pos));
    input.events.push(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Default::default(),
    });
    h.step();
    h.input_mut().events.push(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Default::default(),
    });
    h.step();
    h.step();
}

#[test]
fn load_switch_language_inspect_propose_accept() {
    let mut h = harness();
    // The first frame starts the load on the worker and returns at once.
    let t = Instant::now();
    h.step();
    assert!(h.state().is_busy(), "loading must run off the UI thread");
    assert!(t.elapsed() < Duration::from_secs(2));
    let slowest = wait_idle(&mut h, "load + analysis");
    // A frame while loading/analysing never waits for the job (the job takes longer).
    assert!(
        slowest < Duration::from_millis(1500),
        "a frame took {slowest:?}"
    );
    assert!(h.state().dataset().is_some());
    let report = h.state().report().expect("analysis ran after load");
    let covered = report
        .rules
        .iter()
        .find(|r| r.id == "elderly_15min_circle")
        .unwrap()
        .achieved
        .unwrap();
    assert!((covered - 0.981).abs() < 0.001, "{covered}");
    // The Targets panel cites the plan as a bureau does and shows unknown as unknown: the
    // nursing-bed share has no nursing-bed data in Harbin.
    assert!(
        h.query_all_by_label_contains(
            "依据 《黑龙江省“十四五”促进养老托育服务健康发展实施方案》(黑政办规〔2021〕26号) 附件2 一(城区)"
        )
        .count()
            >= 2
    );
    assert!(h.query_by_label_contains("未知 · 实际: ≥ 0.0%").is_some());
    assert!(h
        .query_by_label_contains("范围: 每个单元 (63/77)")
        .is_some());

    // Chinese first; the toggle switches the whole UI to English.
    assert_eq!(h.state().lang(), Lang::Zh);
    h.get_by_label("English").click();
    h.step();
    h.step();
    assert_eq!(h.state().lang(), Lang::En);
    assert!(h.query_by_label("Run proposal").is_some());

    // Click inside 七政街道 on the map: Inspect shows it with each rule's verdict.
    let (x, y) = {
        use geo::InteriorPoint;
        let ds = h.state().dataset().unwrap();
        let u = ds.units.iter().find(|u| u.name == "七政街道").unwrap();
        let p = u.geometry.as_ref().unwrap().interior_point().unwrap();
        (p.x(), p.y())
    };
    let pos = h.state().screen_pos(x, y).expect("map drawn");
    click_at(&mut h, pos);
    let sel = h.state().selected().expect("a unit is selected");
    assert_eq!(h.state().dataset().unwrap().unit(sel).name, "七政街道");
    // The spot query (nearest facilities, walking distances) runs off the UI thread.
    wait_idle(&mut h, "spot query");
    for _ in 0..3 {
        h.step();
    }
    // The Inspect window names the unit with its level and code.
    assert!(h
        .query_by_label_contains("sub_district 七政街道 ·")
        .is_some());
    let status = {
        let r = h.state().report().unwrap();
        r.units[sel.index()].rules["station_per_street"].pass
    };
    let verdict = if status == Some(true) { "PASS" } else { "FAIL" };
    assert!(h.query_all_by_label(verdict).count() >= 1);
    // The surveyor's question: the nearest station from the clicked spot.
    assert!(h
        .query_by_label_contains("Street care station: 模拟居家养老服务站（七政街道）")
        .is_some());

    // Run a proposal (day-care, MCLP, p = 10) and accept the first site.
    h.get_by_label("Run proposal").click();
    h.step(); // the click queues the command
    h.step(); // the command starts the job
    assert!(
        h.state().is_busy(),
        "the proposal runs on the worker thread"
    );
    wait_idle(&mut h, "proposal");
    assert_eq!(h.state().proposal_decisions().len(), 10);
    h.get_by_label("Accept 1").click();
    h.step();
    h.step();
    assert_eq!(h.state().proposal_decisions()[0], Some(true));
    assert!(h.query_by_label_contains("Accepted 1 / 10").is_some());
    press(&mut h, "Reject 2");
    assert_eq!(h.state().proposal_decisions()[1], Some(false));

    // Zoom in with the map's + button.
    let before = h.state().map_scale().unwrap();
    press(&mut h, "+");
    let after = h.state().map_scale().unwrap();
    assert!((after / before - 1.5).abs() < 1e-9, "{before} -> {after}");

    // Layers: hide the choropleth.
    press(&mut h, "Units by rule status");
    let units = |h: &mut Harness<'static, CareCircleApp>| {
        h.state_mut()
            .layers_mut()
            .iter()
            .find(|l| l.id == LayerId::Units)
            .unwrap()
            .visible
    };
    assert!(!units(&mut h));

    // The file dialog lists the demo folder's files.
    press(&mut h, "Open data…");
    assert!(h.state().dialog_open());
    // A new window is laid out invisibly first, then shown.
    h.step();
    h.step();
    assert!(h.query_by_label("dataset.toml").is_some());
    assert!(h.query_by_label("File name").is_some());

    // Exports: the map (PNG, on the worker) and the proposals without the rejected one.
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("map.png");
    h.state_mut()
        .push(Command::Export(ExportKind::Map, png.clone()));
    h.step();
    wait_idle(&mut h, "map export");
    let bytes = std::fs::read(&png).expect("map exported");
    assert_eq!(&bytes[1..4], b"PNG");
    let gj = dir.path().join("proposals.geojson");
    h.state_mut()
        .push(Command::Export(ExportKind::ProposalsGeoJson, gj.clone()));
    h.step();
    wait_idle(&mut h, "proposals export");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&gj).unwrap()).unwrap();
    let fs = v["features"].as_array().unwrap();
    assert_eq!(fs.len(), 9, "the rejected site is left out");
    assert_eq!(fs[0]["properties"]["rank"], 1);
    assert_eq!(fs[0]["properties"]["decision"], "accepted");
    assert_eq!(fs[1]["properties"]["rank"], 3);
    assert_eq!(fs[1]["properties"]["decision"], "undecided");

    // Save the project, open it in a new app: settings, layers, view and decisions return.
    let proj = dir.path().join("harbin.ccproj");
    h.state_mut().push(Command::SaveProject(proj.clone()));
    h.step();
    assert!(proj.exists(), "{:?}", h.state().errors());
    let mut h2 = harness();
    h2.step();
    wait_idle(&mut h2, "demo load");
    assert_eq!(h2.state().lang(), Lang::Zh);
    h2.state_mut().push(Command::OpenProject(proj));
    h2.step();
    wait_idle(&mut h2, "project load");
    assert_eq!(h2.state().lang(), Lang::En);
    assert!(!units(&mut h2));
    assert_eq!(h2.state().map_scale(), Some(after));
    let d = h2.state().proposal_decisions();
    assert_eq!(d.len(), 10);
    assert_eq!((d[0], d[1], d[2]), (Some(true), Some(false), None));
}

/// A file in projected metres read as WGS84: the load fails, the import dialog opens with
/// the reason, and choosing the right CRS there loads it.
#[test]
fn unsure_load_opens_the_import_dialog_and_the_chosen_crs_loads() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("streets.geojson");
    let ring =
        "[[500000,5600000],[501000,5600000],[501000,5601000],[500000,5601000],[500000,5600000]]";
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"名称":"甲街道","人口":"12000"}},"geometry":{{"type":"Polygon","coordinates":[{ring}]}}}}]}}"#
        ),
    )
    .unwrap();
    let mut h = harness_on(file);
    h.step();
    wait_idle(&mut h, "failing load");
    // The load failed, then the worker read the file's columns for the dialog.
    for _ in 0..3 {
        h.step();
        wait_idle(&mut h, "inspect");
    }
    assert!(h.state().dataset().is_none());
    let problem = h
        .state()
        .import_problem()
        .expect("import dialog opened")
        .to_owned();
    assert!(problem.contains("streets.geojson"), "{problem}");
    assert!(
        h.query_by_label("Load with these settings").is_some()
            || h.query_by_label("按此设置加载").is_some()
    );
    // The file's own columns are offered for mapping.
    assert!(h.query_by_value("自动 (名称)").is_some());
    let load = h
        .query_by_label("按此设置加载")
        .map(|_| "按此设置加载")
        .unwrap_or("Load with these settings");
    // A wrong choice fails again: the dialog comes back with the user's edit, not the
    // file's defaults.
    h.state_mut().import_manifest_mut().unwrap().layers[0].crs = Some("CGCS2000".into());
    h.step();
    h.get_by_label(load).click();
    h.step();
    h.step();
    wait_idle(&mut h, "load with a wrong CRS");
    h.step();
    assert!(h.state().dataset().is_none());
    assert_eq!(
        h.state_mut()
            .import_manifest_mut()
            .expect("dialog back")
            .layers[0]
            .crs
            .as_deref(),
        Some("CGCS2000")
    );
    // Gauss-Krüger 3° zone CM 126E without zone prefix.
    h.state_mut().import_manifest_mut().unwrap().layers[0].crs = Some("EPSG:4551".into());
    h.step();
    h.step();
    h.get_by_label(load).click();
    h.step();
    h.step();
    wait_idle(&mut h, "load with the chosen CRS");
    let ds = h.state().dataset().expect("loaded with the chosen CRS");
    assert_eq!(ds.units.len(), 1);
    assert_eq!(ds.units[0].name, "甲街道");
    assert_eq!(ds.units[0].population.total, Some(12000.0));
}

/// The load reads a named pipe, so it cannot finish before the test presses 取消: the data
/// arrive only afterwards, and the loader's first cancellation check stops it. (With a real
/// file the load could finish before the click and the test raced; CI caught it.)
#[test]
fn a_cancelled_job_says_so_without_an_error() {
    // A layer big enough that loading it takes seconds (a FIFO used to stand in for a slow
    // disk; the loader now refuses special files before reading them).
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("dataset.toml"),
        "name = \"big\"\n[[layers]]\nrole = \"units\"\npath = \"units.geojson\"\ncrs = \"WGS84\"\n",
    )
    .unwrap();
    let mut text = String::from(r#"{"type":"FeatureCollection","features":["#);
    for k in 0..300_000 {
        let (x, y) = (
            126.0 + (k % 1000) as f64 * 0.001,
            45.0 + (k / 1000) as f64 * 0.001,
        );
        if k > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            r#"{{"type":"Feature","properties":{{"name":"u{k}","code":"{k}","level":"community"}},"geometry":{{"type":"Polygon","coordinates":[[[{x},{y}],[{},{y}],[{},{}],[{x},{y}]]]}}}}"#,
            x + 0.0009,
            x + 0.0009,
            y + 0.0009
        ));
    }
    text.push_str("]}");
    std::fs::write(dir.path().join("units.geojson"), text).unwrap();
    let mut h = harness_on(dir.path().to_owned());
    h.step();
    assert!(h.state().is_busy());
    // The progress line is in Chinese, stage included, with a cancel button.
    assert!(h.query_by_label_contains("正在加载").is_some());
    press(&mut h, "取消");
    wait_idle(&mut h, "the cancelled load");
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
    assert!(
        h.state().dataset().is_none(),
        "a cancelled load loads nothing"
    );
    let said = h.state().cancelled().expect("the cancel is reported");
    assert!(said.starts_with("已取消"), "{said}");
    assert!(h.query_by_label_contains("已取消").is_some());
}

/// A second load replaces everything the first one knew: its analysis, selection and
/// proposals never show against the new data (the state of the open data is one value,
/// replaced whole, not fifteen fields reset by hand).
#[test]
fn a_new_load_leaves_nothing_of_the_old_data() {
    let mut h = harness();
    h.step();
    wait_idle(&mut h, "first load");
    let first = h.state().dataset().unwrap().name.clone();
    let unit = h.state().dataset().unwrap().units[0].id;
    h.state_mut().push(Command::Inspect(unit));
    h.step();
    assert_eq!(h.state().selected(), Some(unit));
    h.state_mut().push(Command::Propose);
    h.step();
    wait_idle(&mut h, "proposal");
    assert!(!h.state().proposal_decisions().is_empty());

    let heihe = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/heihe");
    h.state_mut().push(Command::Load(heihe));
    h.step();
    // While the new data loads, the old stays on screen; once it lands nothing of it does.
    wait_idle(&mut h, "second load + analysis");
    let ds = h.state().dataset().unwrap();
    assert_ne!(ds.name, first);
    assert_eq!(h.state().selected(), None);
    assert!(h.state().proposal_decisions().is_empty());
    let report = h.state().report().expect("the new data is analysed");
    assert_eq!(report.dataset, ds.name, "the report is the new data's");
    assert!(h.state().errors().is_empty(), "{:?}", h.state().errors());
}

/// The dashboard's equity section: Gini and Palma of the map's rule, the Lorenz curve, and
/// the furthest-behind units ranked, each zooming the map to itself when clicked.
#[test]
fn the_dashboard_shows_equity_and_zooms_to_the_worst_unit() {
    let mut h = tall_harness();
    h.step();
    wait_idle(&mut h, "load + analysis");
    let report = h.state().report().unwrap();
    let e = report
        .equity
        .iter()
        .find(|e| e.rule == "elderly_15min_circle")
        .expect("the circle has an equity figure")
        .clone();
    // The worst unit is the one with the lowest share within reach at its level.
    let worst = report
        .units
        .iter()
        .filter(|u| u.level.key() == e.level)
        .filter_map(|u| Some((u, u.rules.get("elderly_15min_circle")?.value?)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(u, _)| (u.id, format!("1. {} {}", u.name, u.code)))
        .unwrap();
    h.step();
    assert!(
        h.query_by_label_contains(&format!("Gini {:.3}", e.equity.gini))
            .is_some(),
        "Gini not shown"
    );
    press(&mut h, &worst.1);
    for _ in 0..3 {
        h.step();
    }
    assert_eq!(h.state().selected(), Some(worst.0));
}

/// Scenarios: keep 现状, run and accept a proposal, keep 方案A, compare on the worker, see
/// both maps side by side; the saved project gives the CLI the same comparison.
#[test]
fn scenarios_are_kept_compared_side_by_side_and_read_by_the_cli() {
    let mut h = tall_harness();
    h.step();
    wait_idle(&mut h, "load + analysis");
    h.state_mut().push(Command::KeepScenario("现状".into()));
    h.step();
    h.state_mut().push(Command::Propose);
    h.step();
    wait_idle(&mut h, "proposal");
    for i in 0..3 {
        h.state_mut().push(Command::Decide(i, true));
    }
    h.step();
    h.state_mut().push(Command::KeepScenario("方案A".into()));
    h.step();
    assert_eq!(h.state().scenario_names(), ["现状", "方案A"]);
    press(&mut h, "比较");
    wait_idle(&mut h, "comparison");
    let c = h.state().comparison().expect("compared").clone();
    let circle = c
        .rules
        .iter()
        .find(|r| r.id == "elderly_15min_circle")
        .unwrap();
    assert!(circle.value_b.unwrap() > circle.value_a.unwrap());
    assert!(circle.units_changed > 0);
    // Side by side: both halves carry their scenario's name.
    press(&mut h, "并排地图（A 左 / B 右）");
    h.step();
    assert!(h.query_by_label("A: 现状").is_some());
    assert!(h.query_by_label("B: 方案A").is_some());

    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("s.ccproj");
    h.state_mut().push(Command::SaveProject(proj.clone()));
    h.step();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_carecircle"))
        .args(["analyze", "--compare"])
        .arg(format!("{}#现状", proj.display()))
        .arg(format!("{}#方案A", proj.display()))
        .args(["--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let r = v["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "elderly_15min_circle")
        .unwrap();
    // The same figures (to rounding: sums may run in another order).
    let near = |x: Option<f64>, y: Option<f64>| (x.unwrap() - y.unwrap()).abs() < 1e-12;
    assert!(near(r["value_a"].as_f64(), circle.value_a));
    assert!(near(r["value_b"].as_f64(), circle.value_b));
    assert_eq!(
        r["units_changed"].as_u64(),
        Some(circle.units_changed as u64)
    );
}

/// Presentation mode: F5 enters on the summary slide, the arrow keys step through one slide
/// per evaluated rule (the map coloured by it), Esc leaves and restores the map, and the
/// sequence exports as the PDF report.
#[test]
fn presentation_enters_steps_exits_and_exports() {
    let mut h = harness();
    h.step();
    wait_idle(&mut h, "load + analysis");
    let before = h.state().map_rule().map(str::to_owned);
    let rules: Vec<String> = h
        .state()
        .report()
        .unwrap()
        .rules
        .iter()
        .filter(|r| r.status != carecircle::coverage::analysis::Status::NotEvaluable)
        .map(|r| r.id.clone())
        .collect();
    h.key_press(egui::Key::F5);
    h.step();
    h.step();
    assert_eq!(h.state().presenting(), Some((0, rules.len() + 1)));
    assert!(h.query_by_label_contains("达标情况").is_some());
    for (k, id) in rules.iter().enumerate() {
        h.key_press(egui::Key::ArrowRight);
        h.step();
        h.step();
        assert_eq!(h.state().presenting().map(|p| p.0), Some(k + 1));
        assert_eq!(h.state().map_rule(), Some(id.as_str()));
    }
    // Past the last slide it stays on the last; back one with the left arrow (a clicker's
    // PageUp does the same).
    h.key_press(egui::Key::ArrowRight);
    h.step();
    assert_eq!(h.state().presenting().map(|p| p.0), Some(rules.len()));
    h.key_press(egui::Key::PageUp);
    h.step();
    h.step();
    assert_eq!(h.state().presenting().map(|p| p.0), Some(rules.len() - 1));
    // Export the sequence as the PDF report, on the worker.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("briefing.pdf");
    h.state_mut()
        .push(Command::Export(ExportKind::ReportPdf, pdf.clone()));
    h.step();
    wait_idle(&mut h, "report export");
    assert_eq!(&std::fs::read(&pdf).expect("exported")[..5], b"%PDF-");
    h.key_press(egui::Key::Escape);
    h.step();
    h.step();
    assert_eq!(h.state().presenting(), None);
    assert_eq!(h.state().map_rule().map(str::to_owned), before);
}

/// A town of two 1 × 1 km communities, east (3000 people, 600 aged 60+) and west (1000,
/// 200), one demand point at each centre, one day-care room at the east centre. The centres
/// are 997 m apart: beyond the 900 m (15 min × 1.0 m/s) of the elderly circle.
fn edit_town(dir: &std::path::Path) -> PathBuf {
    use serde_json::json;
    let sq = |x0: f64| {
        json!({"type": "Polygon", "coordinates": [[[x0, 45.70], [x0 + 0.0128, 45.70],
            [x0 + 0.0128, 45.709], [x0, 45.709], [x0, 45.70]]]})
    };
    let fc = |features: serde_json::Value| {
        json!({"type": "FeatureCollection", "features": features}).to_string()
    };
    std::fs::write(
        dir.join("units.geojson"),
        fc(json!([
            {"type": "Feature", "geometry": sq(126.60), "properties":
                {"code": "230102001001", "name": "东社区", "level": "community", "population": 3000, "pop_60plus": 600}},
            {"type": "Feature", "geometry": sq(126.6128), "properties":
                {"code": "230102001002", "name": "西社区", "level": "community", "population": 1000, "pop_60plus": 200}}
        ])),
    )
    .unwrap();
    std::fs::write(
        dir.join("homes.geojson"),
        fc(json!([
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [126.6064, 45.7045]},
             "properties": {"id": "E", "population": 3000, "pop_60plus": 600}},
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [126.6192, 45.7045]},
             "properties": {"id": "W", "population": 1000, "pop_60plus": 200}}
        ])),
    )
    .unwrap();
    std::fs::write(
        dir.join("day_care.geojson"),
        fc(json!([
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [126.6064, 45.7045]},
             "properties": {"编号": "D1", "名称": "东照料室", "类型": "日间照料室", "床位": 10, "备注": "保留"}}
        ])),
    )
    .unwrap();
    std::fs::write(
        dir.join("dataset.toml"),
        "name = \"edit-town\"\n\
         [[layers]]\nrole = \"units\"\npath = \"units.geojson\"\n\
         [[layers]]\nrole = \"demand\"\npath = \"homes.geojson\"\n\
         [[layers]]\nrole = \"facilities\"\npath = \"day_care.geojson\"\n\
         kinds = [\"day_care\", \"street_station\", \"district_center\"]\n",
    )
    .unwrap();
    dir.to_path_buf()
}

/// The circle's share and the communities with a day-care room, from the app's report.
fn town_figures(h: &Harness<'static, CareCircleApp>) -> (f64, usize) {
    let r = h.state().report().unwrap();
    let rule = |id: &str| r.rules.iter().find(|x| x.id == id).unwrap();
    (
        rule("elderly_15min_circle").achieved.unwrap(),
        rule("day_care_per_community").units_meeting,
    )
}

fn drag(h: &mut Harness<'static, CareCircleApp>, from: Pos2, to: Pos2) {
    h.input_mut().events.push(Event::PointerMoved(from));
    h.step();
    h.input_mut().events.push(Event::PointerButton {
        pos: from,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Default::default(),
    });
    h.step();
    for k in 1..=10 {
        let p = from + (to - from) * (k as f32 / 10.0);
        h.input_mut().events.push(Event::PointerMoved(p));
        h.step();
    }
    h.input_mut().events.push(Event::PointerButton {
        pos: to,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Default::default(),
    });
    h.step();
    h.step();
}

fn key(h: &mut Harness<'static, CareCircleApp>, key: egui::Key, shift: bool) {
    let modifiers = egui::Modifiers {
        ctrl: true,
        command: true,
        shift,
        ..Default::default()
    };
    h.input_mut().events.push(Event::Key {
        key,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers,
    });
    h.step();
}

/// Add, undo, redo, move, edit, mark closed and delete in edit mode, each changing the
/// Targets panel as worked out by hand; then the app "crashes" (dropped without saving) and
/// the next start offers the edits back.
#[test]
fn edit_facilities_with_undo_and_restore_after_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let data = edit_town(dir.path());
    let mut h = harness_on(data.clone());
    wait_idle(&mut h, "load");
    h.state_mut().push(Command::SetLang(Lang::En));
    h.step();
    // By hand: the east point (600 aged 60+) is covered, the west (200) is 997 m away:
    // 600 / 800 = 75 %; one of two communities has a day-care room.
    assert_eq!(town_figures(&h), (0.75, 1));
    assert!(h.query_all_by_label_contains("value: 75.0%").count() > 0);
    assert_eq!(h.state().edit_counts(), Some((0, 0)));
    let ds = h.state().dataset().unwrap();
    let (ex, ey) = ds.projection.forward(126.6064, 45.7045);
    let (wx, wy) = ds.projection.forward(126.6192, 45.7045);
    press(&mut h, "Edit mode");
    // Add a day-care room at the west centre: 800 / 800 and both communities.
    let west = h.state().screen_pos(wx, wy).unwrap();
    click_at(&mut h, west);
    wait_idle(&mut h, "add");
    assert_eq!(h.state().edit_counts(), Some((1, 0)));
    assert_eq!(town_figures(&h), (1.0, 2));
    assert!(h.query_all_by_label_contains("value: 100.0%").count() > 0);
    assert_eq!(h.state().dataset().unwrap().facilities.len(), 2);
    // Undo (Ctrl+Z), redo (Ctrl+Shift+Z).
    key(&mut h, egui::Key::Z, false);
    wait_idle(&mut h, "undo");
    assert_eq!(town_figures(&h), (0.75, 1));
    assert_eq!(h.state().edit_counts(), Some((0, 1)));
    key(&mut h, egui::Key::Z, true);
    wait_idle(&mut h, "redo");
    assert_eq!(town_figures(&h), (1.0, 2));
    // Drag the new room 600 m towards the east centre, over the boundary (500 m from the
    // west centre): both points stay within 900 m (600 m and 397 m: 800 / 800) but the
    // west community has no room now (1 of 2).
    let (mx, my) = (wx - 600.0, wy);
    let from = h.state().screen_pos(wx, wy).unwrap();
    let to = h.state().screen_pos(mx, my).unwrap();
    drag(&mut h, from, to);
    wait_idle(&mut h, "move");
    assert_eq!(h.state().edit_counts(), Some((2, 0)));
    let moved = h.state().dataset().unwrap().facilities[1].location.unwrap();
    assert!(
        (moved.x() - mx).abs() < 2.0 / h.state().map_scale().unwrap() + 1e-6,
        "moved to {moved:?}, expected ({mx}, {my})"
    );
    assert_eq!(town_figures(&h), (1.0, 1));
    // Select the east room, give it 25 beds, then mark it closed: a closed room counts for
    // nothing (the moved room still covers both points: 600 m and 397 m).
    let east = h.state().screen_pos(ex, ey).unwrap();
    click_at(&mut h, east);
    assert_eq!(h.state().selected_facility().unwrap().source_id, "D1");
    press(&mut h, "Mark closed");
    wait_idle(&mut h, "close");
    assert_eq!(h.state().edit_counts(), Some((3, 0)));
    assert_eq!(town_figures(&h), (1.0, 1));
    let d1 = &h.state().dataset().unwrap().facilities[0];
    assert_eq!(d1.status, carecircle::model::FacilityStatus::Closed);
    // Delete the moved room: nothing open is left: 0 % and no community.
    let at = h.state().screen_pos(moved.x(), moved.y()).unwrap();
    click_at(&mut h, at);
    assert_eq!(h.state().selected_facility().unwrap().source_id, "edit-1");
    press(&mut h, "Delete");
    wait_idle(&mut h, "delete");
    assert_eq!(h.state().edit_counts(), Some((4, 0)));
    assert_eq!(town_figures(&h), (0.0, 0));
    assert!(h.query_all_by_label_contains("value: 0.0%").count() > 0);
    let log = h.state().edit_log().unwrap().to_path_buf();
    assert_eq!(log, data.join("edit-town.edits.jsonl"));
    // The source files are untouched.
    let src = std::fs::read_to_string(data.join("day_care.geojson")).unwrap();
    assert!(src.contains("东照料室") && !src.contains("closed"));
    // The app dies here (no save, no exit): the next start finds the four edits.
    drop(h);
    let mut h = harness_on(data.clone());
    wait_idle(&mut h, "reload");
    h.state_mut().push(Command::SetLang(Lang::En));
    h.step();
    assert!(h.state().restore_offered());
    assert_eq!(
        town_figures(&h),
        (0.75, 1),
        "not applied before the user says so"
    );
    press(&mut h, "Restore edits");
    wait_idle(&mut h, "restore");
    assert_eq!(h.state().edit_counts(), Some((4, 0)));
    assert_eq!(town_figures(&h), (0.0, 0));
    // Undo the delete after the restart: the moved room is back.
    key(&mut h, egui::Key::Z, false);
    wait_idle(&mut h, "undo after restore");
    assert_eq!(town_figures(&h), (1.0, 1));
    // A third start, declining: the log is set aside (renamed), not deleted.
    drop(h);
    let mut h = harness_on(data.clone());
    wait_idle(&mut h, "reload");
    h.state_mut().push(Command::SetLang(Lang::En));
    h.step();
    press(&mut h, "Do not restore (log set aside)");
    h.step();
    assert!(!h.state().restore_offered());
    assert_eq!(town_figures(&h), (0.75, 1));
    let aside: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.contains("discarded").then_some(n)
        })
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert!(h.state().notices().iter().any(|n| n.contains("set aside")));
}

/// The form: capacity typed in, saved as one edit; a bad number is refused by name and
/// makes no edit; the exported layer has the new figure in the source's own column.
#[test]
fn edit_a_facility_s_attributes_and_export_the_edited_layer() {
    let dir = tempfile::tempdir().unwrap();
    let data = edit_town(dir.path());
    let mut h = harness_on(data.clone());
    wait_idle(&mut h, "load");
    h.state_mut().push(Command::SetLang(Lang::En));
    h.step();
    press(&mut h, "Edit mode");
    let ds = h.state().dataset().unwrap();
    let (ex, ey) = ds.projection.forward(126.6064, 45.7045);
    let east = h.state().screen_pos(ex, ey).unwrap();
    click_at(&mut h, east);
    assert_eq!(h.state().selected_facility().unwrap().source_id, "D1");
    // The Beds field is the third text field of the form: find it by its label's row.
    let beds = |v| By::new().role(egui::accesskit::Role::TextInput).value(v);
    h.get(beds("10")).click();
    h.step();
    h.get(beds("10")).type_text("x");
    h.step();
    press(&mut h, "Save changes");
    assert!(
        h.state()
            .errors()
            .iter()
            .any(|e| e.contains("capacity must be a number")),
        "{:?}",
        h.state().errors()
    );
    assert_eq!(h.state().edit_counts(), Some((0, 0)));
    h.get(beds("10x")).click();
    h.step();
    h.key_press(egui::Key::Backspace);
    h.step();
    h.get(beds("10")).type_text("0");
    h.step();
    press(&mut h, "Save changes");
    wait_idle(&mut h, "save");
    assert_eq!(h.state().edit_counts(), Some((1, 0)));
    assert_eq!(
        h.state().dataset().unwrap().facilities[0].capacity,
        Some(100.0)
    );
    let out = dir.path().join("edited.geojson");
    h.state_mut()
        .push(Command::Export(ExportKind::EditedFacilities, out.clone()));
    wait_idle(&mut h, "export");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let p = &v["features"][0]["properties"];
    assert_eq!(p["床位"], 100.0);
    assert_eq!(p["编号"], "D1");
    assert_eq!(p["备注"], "保留");
}

/// Inspect lists the facilities inside a clicked unit (by their points) and its "Edit"
/// button opens one in the Edit panel's form, edit mode on.
#[test]
fn inspect_opens_a_facility_for_editing() {
    let dir = tempfile::tempdir().unwrap();
    let data = edit_town(dir.path());
    let mut h = harness_on(data);
    wait_idle(&mut h, "load");
    h.state_mut().push(Command::SetLang(Lang::En));
    h.step();
    let ds = h.state().dataset().unwrap();
    // Beside the room, not on it: a click on the unit.
    let (x, y) = ds.projection.forward(126.6030, 45.7020);
    let at = h.state().screen_pos(x, y).unwrap();
    click_at(&mut h, at);
    wait_idle(&mut h, "spot query");
    for _ in 0..3 {
        h.step();
    }
    press(&mut h, "Facilities and attributes (1)");
    assert!(h
        .query_all_by_label_contains("东照料室 — Day-care room")
        .next()
        .is_some());
    press(&mut h, "Edit");
    assert_eq!(h.state().selected_facility().unwrap().source_id, "D1");
    assert!(h.query_by_label("Save changes").is_some());
}

/// The map rule's uncovered demand and its raster are computed on a thread of their own and
/// land through `apply`: the map gets exactly that rule's points, and switching the rule
/// replaces them (never another rule's points on screen).
#[test]
fn uncovered_demand_of_the_map_rule_arrives_from_its_thread() {
    let mut h = harness();
    h.step();
    wait_idle(&mut h, "load + analysis");
    let report = h.state().report().unwrap();
    let mut counts: Vec<(String, usize)> = report
        .rules
        .iter()
        .map(|r| {
            let n = carecircle::report::map::uncovered_points(report, &r.id).len();
            (r.id.clone(), n)
        })
        .filter(|(_, n)| *n > 0)
        .collect();
    counts.sort_by_key(|c| std::cmp::Reverse(c.1));
    assert!(
        !counts.is_empty(),
        "Harbin has uncovered demand for some rule"
    );
    for (rule, n) in &counts {
        h.state_mut().set_map_rule(Some(rule.clone()));
        h.step();
        wait_idle(&mut h, "uncovered demand");
        assert_eq!(
            h.state().uncovered_on_map(),
            Some((Some(rule.as_str()), *n)),
            "{rule}"
        );
    }
    h.state_mut().set_map_rule(None);
    h.step();
    wait_idle(&mut h, "no rule");
    assert_eq!(h.state().uncovered_on_map(), None);
}
