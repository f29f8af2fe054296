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
    // The synthetic layer declares it lists every centre: none means none.
    let c = rule(&r, "centre_per_district");
    assert_eq!(
        (c.units_total, c.units_meeting, c.pass),
        (5, 0, Some(false))
    );
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
    use carecircle::coverage::analysis::Status;
    let before = run("maps/heihe", "heihe-2022", false);
    // No existing nursery has a location or a number of places (the plan gives 82
    // providers, no places): 0 places is a floor, never "0 per 1000, fail".
    let p0 = rule(&before, "nursery_places_per_1000");
    assert_eq!(
        (p0.status, p0.value, p0.amount_upper),
        (Status::Unknown, Some(0.0), None)
    );
    let ds = carecircle::io::load_path(&repo("maps/heihe")).unwrap();
    let rules = RuleSet::preset("heihe-2022").unwrap();
    let y = |year| Options {
        year: Some(year),
        ..Default::default()
    };
    let after = analyze(&ds, &rules, &y(2025), &Euclidean, &NoProgress).unwrap();
    // planned_projects.csv, by county with Python's csv module: 嫩江 1590, 五大连池 1080,
    // 爱辉 890, 北安 810, 逊克 297, 孙吴 100, plus the city's 黑河市托育中心 150 and the
    // 风景区 50 (in no county, counted for the city) = 4967 places for 1 286 401 residents.
    let p1 = rule(&after, "nursery_places_per_1000");
    assert_eq!(p1.status, Status::Unknown);
    assert_eq!(p1.amount, Some(4967.0));
    assert_eq!(p1.base_population, Some(1_286_401.0));
    let want = 4967.0 / 1_286_401.0 * 1000.0;
    assert!((p1.value.unwrap() - want).abs() < 1e-9, "{:?}", p1.value);
    assert_eq!(rule(&after, "nursery_places_total").amount, Some(4967.0));
    assert_eq!(rule(&after, "nursery_places_total").status, Status::Unknown);
    // Beds: the 2020 stock of 12 080 (known total) + 2 136 new beds of planned
    // institutions and community centres (renovations add none) = 14 216 ≥ 13 500, and
    // 14 216 / 296 613 people 60+ = 47.9 per 1000 ≥ 45: met, whatever else exists.
    let b = rule(&after, "beds_total");
    assert_eq!((b.status, b.amount), (Status::Pass, Some(14_216.0)));
    let b = rule(&after, "beds_per_1000_elderly");
    assert_eq!(b.status, Status::Pass);
    assert!((b.value.unwrap() - 14_216.0 / 296_613.0 * 1000.0).abs() < 1e-9);
    let aihui = after.units.iter().find(|u| u.code == "231102").unwrap();
    assert_eq!(aihui.nursery_places, 890.0);
    let d = aihui.rules["nursery_places_per_1000"].deficit.unwrap();
    assert!((d - (4.5 * 223.832 - 890.0)).abs() < 1e-6, "{d}");
    // A county below 4.5 is a diagnostic here, and its own status is unknown too.
    assert_eq!(
        aihui.rules["nursery_places_per_1000"].status,
        Status::Unknown
    );
    // The city-level (黑河市) and 风景区 projects are in no county: said, not hidden.
    assert!(
        after
            .skipped
            .iter()
            .any(|s| s.contains("HH-03") && s.contains("jurisdiction totals")),
        "{:#?}",
        after.skipped
    );
    // Township rules count 乡/镇 and 街道 (65 + 11), not the 84 farms, mines and prisons.
    let t = rule(&after, "institution_or_centre_per_township");
    assert_eq!(t.units_total, 76);
    assert!(t.units_meeting > 0 && t.notes.iter().any(|n| n.contains("no shape")));
    assert_eq!(t.status, Status::Unknown);
    // No located elderly facilities in Heihe: the circle is not evaluated, not 0 %.
    assert_eq!(
        rule(&after, "elderly_15min_circle").status,
        Status::NotEvaluable
    );
    // 2022: only the projects due by then (summed with Python's csv module over rows
    // with year ≤ 2022: 2005 places).
    let y22 = analyze(&ds, &rules, &y(2022), &Euclidean, &NoProgress).unwrap();
    assert_eq!(rule(&y22, "nursery_places_total").amount, Some(2005.0));
    assert_eq!(rule(&y22, "nursery_places_total").due, Some(false));
}
