//! `analyze` on the shipped demos, against figures computed independently of this code:
//! station presence with shapely's `covers` over the same GeoJSON, and the Heihe nursery
//! places summed from `planned_projects.csv` by county with Python's csv module.

use std::path::PathBuf;

use carecircle::coverage::rules::RuleSet;
use carecircle::coverage::{analyze, Euclidean, Options, Report};
use carecircle::progress::NoProgress;

fn repo(p: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn run(dataset: &str, preset: &str, planned: bool) -> Report {
    let ds = carecircle::io::load_path(&repo(dataset)).unwrap();
    let rules = RuleSet::preset(preset).unwrap();
    let opts = Options {
        include_planned: planned,
        ..Default::default()
    };
    analyze(&ds, &rules, &opts, &Euclidean, &NoProgress).unwrap()
}

fn rule<'a>(r: &'a Report, id: &str) -> &'a carecircle::coverage::RuleResult {
    r.rules.iter().find(|x| x.id == id).unwrap()
}

#[test]
fn harbin_report() {
    let r = run("maps/harbin", "heilongjiang-2021", false);
    // shapely: 63 of the 77 sub-district polygons cover a synthetic street station.
    let st = rule(&r, "station_per_street");
    assert_eq!(
        (st.units_total, st.units_meeting, st.pass),
        (77, 63, Some(false))
    );
    assert_eq!(rule(&r, "centre_per_district").units_total, 5);
    assert_eq!(rule(&r, "day_care_per_community").pass, None);
    let c = rule(&r, "elderly_15min_circle");
    assert_eq!(c.distance_m, Some(900.0));
    let share = c.achieved.unwrap();
    assert!(share > 0.5 && share < 1.0, "{share}");
    assert_eq!(r.summary.elderly_distance_m, Some(900.0));
    assert_eq!(r.summary.synthetic_facilities, 383);
    // 20 OSM nurseries × the manifest's 60-place estimate.
    assert_eq!(r.summary.nursery_places_estimated, 1200.0);
    // Three sub-districts carry no population tag and are reported, not guessed.
    let no_pop = r
        .skipped
        .iter()
        .filter(|s| s.contains("no population"))
        .count();
    assert_eq!(no_pop, 3, "{:#?}", r.skipped);
    // Demand preserves the 74 populated sub-districts' total exactly.
    let sub_total: f64 = r
        .units
        .iter()
        .filter(|u| u.level == carecircle::model::UnitLevel::SubDistrict)
        .filter_map(|u| u.population)
        .sum();
    assert!((r.demand.population - sub_total).abs() < 1e-6 * sub_total);
}

#[test]
fn heihe_2025_scenario_with_the_planned_projects() {
    let before = run("maps/heihe", "heihe-2022", false);
    let after = run("maps/heihe", "heihe-2022", true);
    let p0 = rule(&before, "nursery_places_per_1000");
    assert_eq!(
        (p0.units_total, p0.units_meeting, p0.achieved),
        (6, 0, Some(0.0))
    );
    // planned_projects.csv, by county: 嫩江 1590, 五大连池 1080, 爱辉 890, 北安 810, 逊克 297,
    // 孙吴 100 = 4767 places for 1 286 401 residents (census 2020).
    let p1 = rule(&after, "nursery_places_per_1000");
    assert_eq!((p1.units_total, p1.units_meeting), (6, 0));
    let want = 4767.0 / 1_286_401.0 * 1000.0;
    assert!(
        (p1.achieved.unwrap() - want).abs() < 1e-9,
        "{:?}",
        p1.achieved
    );
    assert!((after.summary.nursery_places_short.unwrap() - (4.5 * 1286.401 - 4767.0)).abs() < 1e-6);
    let aihui = after.units.iter().find(|u| u.code == "231102").unwrap();
    assert_eq!(aihui.nursery_places, 890.0);
    let d = aihui.rules["nursery_places_per_1000"].deficit.unwrap();
    assert!((d - (4.5 * 223.832 - 890.0)).abs() < 1e-6, "{d}");
    // The city-level (黑河市) and 风景区 projects are in no county: said, not hidden.
    assert!(
        after
            .skipped
            .iter()
            .any(|s| s.contains("200 nursery places lie outside")),
        "{:#?}",
        after.skipped
    );
    // Shapeless townships: presence counted by the name join of the projects.
    let t = rule(&after, "institution_per_township");
    assert_eq!(t.units_total, 160);
    assert!(t.units_meeting > 0 && t.notes.iter().any(|n| n.contains("no shape")));
    // No located elderly facilities in Heihe: the circle is not evaluated, not 0 %.
    assert_eq!(rule(&after, "elderly_15min_circle").pass, None);
}
