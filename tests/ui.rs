//! The desktop app driven headless with egui_kittest: load the Harbin demo (on the worker
//! thread: frames keep coming while it loads), switch to English, read the dashboard, click
//! a sub-district on the map and read its status in Inspect, run a proposal and accept one.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use carecircle::app::{install_fonts, CareCircleApp, Lang};
use egui::{Event, PointerButton, Pos2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

fn harness() -> Harness<'static, CareCircleApp> {
    let demo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    Harness::builder()
        .with_size(egui::vec2(1600.0, 1000.0))
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
    h.get_by_label("Reject 2").click();
    h.step();
    h.step();
    assert_eq!(h.state().proposal_decisions()[1], Some(false));
}
