//! The coverage engine against hand-computed cases and properties.
//!
//! The fixture: district D = [0,2000]×[0,1000] m with 10 000 people (2 000 aged 60+, 300
//! aged 0–3); sub-district A = [0,1000]×[0,1000] with 4 000 people and no age figures (so it
//! takes D's shares: 800 aged 60+, 120 aged 0–3); B = [1000,2000]×[0,1000] with 6 000
//! people of whom 1 500 aged 60+. No buildings, so demand is the 100 m grid: 100 points per
//! sub-district, each carrying 1 % of its unit.

use carecircle::coverage::rules::RuleSet;
use carecircle::coverage::{analyze, Euclidean, Options, Report};
use carecircle::model::*;
use carecircle::progress::NoProgress;
use geo::{polygon, MultiPolygon, Point};
use proptest::prelude::*;

fn square(x0: f64, x1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1000.0), (x: x0, y: 1000.0)],
    ])
}

fn unit(
    ds: &mut Dataset,
    code: &str,
    level: UnitLevel,
    g: MultiPolygon<f64>,
    pop: Population,
    parent: Option<u32>,
) {
    let id = UnitId(ds.units.len() as u32);
    ds.units.push(Unit {
        id,
        code: code.into(),
        name: format!("单元{code}"),
        level,
        parent_code: None,
        parent: parent.map(UnitId),
        geometry: Some(g),
        population: pop,
        population_source: None,
        central_urban: None,
        layer: LayerId(0),
        attributes: Default::default(),
    });
}

fn facility(
    ds: &mut Dataset,
    kind: FacilityKind,
    x: f64,
    y: f64,
    cap: Option<f64>,
    pb: Option<bool>,
) {
    let id = FacilityId(ds.facilities.len() as u32);
    ds.facilities.push(Facility {
        id,
        source_id: format!("f{}", id.0),
        name: format!("设施{}", id.0),
        kind,
        capacity: cap,
        capacity_estimated: false,
        nursing_beds: None,
        qualifiers: Qualifiers {
            public_benefit: pb,
            ..Default::default()
        },
        renovation: false,
        status: FacilityStatus::Existing,
        synthetic: false,
        location: Some(Point::new(x, y)),
        unit_ref: UnitRef::default(),
        unit: None,
        unit_join: None,
        year: None,
        layer: LayerId(0),
        attributes: Default::default(),
    });
}

fn fixture() -> Dataset {
    let mut ds = Dataset::empty("fixture", 126.0);
    let p = |t: f64, a: Option<f64>, c: Option<f64>| Population {
        total: Some(t),
        aged_60plus: a,
        aged_0_3: c,
    };
    unit(
        &mut ds,
        "230100",
        UnitLevel::District,
        square(0.0, 2000.0),
        p(10_000.0, Some(2_000.0), Some(300.0)),
        None,
    );
    unit(
        &mut ds,
        "230100001",
        UnitLevel::SubDistrict,
        square(0.0, 1000.0),
        p(4_000.0, None, None),
        Some(0),
    );
    unit(
        &mut ds,
        "230100002",
        UnitLevel::SubDistrict,
        square(1000.0, 2000.0),
        p(6_000.0, Some(1_500.0), None),
        Some(0),
    );
    // A day-care room and a station in A; nurseries: 10 places in A (not 普惠), 30 in B (普惠).
    facility(
        &mut ds,
        FacilityKind::DayCare,
        500.0,
        500.0,
        Some(20.0),
        None,
    );
    facility(
        &mut ds,
        FacilityKind::StreetStation,
        500.0,
        500.0,
        Some(40.0),
        None,
    );
    facility(
        &mut ds,
        FacilityKind::Nursery,
        100.0,
        100.0,
        Some(10.0),
        Some(false),
    );
    facility(
        &mut ds,
        FacilityKind::Nursery,
        1500.0,
        500.0,
        Some(30.0),
        Some(true),
    );
    ds
}

const RULES: &str = r#"
id = "test"
title_zh = "测试"
title_en = "test"
document = "测试规划"
number = "测试〔2024〕1号"
[settings]
walk_minutes = 7.5
walk_speed_m_s = 1.0
nursery_radius_m = 300
grid_cell_m = 100
[[rules]]
id = "station"
title_zh = "每个街道一个站"
title_en = "station per street"
test = "presence"
level = "sub_district"
kinds = ["street_station"]
target = 1
citation = { clause = "一", quote = "测试条文" }
[[rules]]
id = "station_share"
title_zh = "半数街道有站"
title_en = "half the streets"
test = "presence_share"
level = "sub_district"
kinds = ["street_station"]
target = 0.5
citation = { clause = "一", quote = "测试条文" }
[[rules]]
id = "places"
title_zh = "千人4.5托位"
title_en = "4.5 per 1000"
test = "places_per_1000"
level = ["district", "sub_district"]
kinds = ["nursery"]
group = "total"
target = 4.5
citation = { clause = "二", quote = "测试条文" }
[[rules]]
id = "pb"
title_zh = "普惠60%"
title_en = "60 % public"
test = "public_benefit_share"
level = ["district", "sub_district"]
kinds = ["nursery"]
target = 0.6
citation = { clause = "二", quote = "测试条文" }
[[rules]]
id = "circle"
title_zh = "步行圈"
title_en = "walk circle"
test = "population_within"
level = ["district", "sub_district"]
kinds = ["day_care"]
group = "aged_60plus"
target = 0.9
citation = { clause = "二", quote = "测试条文" }
[[rules]]
id = "community_rooms"
title_zh = "社区"
title_en = "communities"
test = "presence"
level = "community"
kinds = ["day_care"]
target = 1
citation = { clause = "一", quote = "测试条文" }
"#;

fn run(ds: &Dataset) -> Report {
    let rules = RuleSet::parse(RULES, "test rules").unwrap();
    analyze(ds, &rules, &Options::default(), &Euclidean, &NoProgress).unwrap()
}

fn rule<'a>(r: &'a Report, id: &str) -> &'a carecircle::coverage::RuleResult {
    r.rules.iter().find(|x| x.id == id).unwrap()
}

fn unit_rule<'a>(
    r: &'a Report,
    code: &str,
    id: &str,
) -> &'a carecircle::coverage::analysis::UnitRuleStatus {
    &r.units.iter().find(|u| u.code == code).unwrap().rules[id]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

#[test]
fn presence_and_share_by_hand() {
    let r = run(&fixture());
    let st = rule(&r, "station");
    assert_eq!(
        (st.units_total, st.units_meeting, st.pass),
        (2, 1, Some(false))
    );
    assert_eq!(st.achieved, Some(0.5));
    assert_eq!(unit_rule(&r, "230100002", "station").deficit, Some(1.0));
    assert_eq!(unit_rule(&r, "230100001", "station").pass, Some(true));
    let sh = rule(&r, "station_share");
    assert_eq!((sh.units_meeting, sh.pass), (1, Some(true)));
    // No community units: not evaluated, and it says so.
    let c = rule(&r, "community_rooms");
    assert_eq!((c.units_total, c.pass), (0, None));
    assert!(c.notes[0].contains("社区"), "{:?}", c.notes);
}

#[test]
fn places_per_1000_and_public_benefit_by_hand() {
    let r = run(&fixture());
    let a = &r.units.iter().find(|u| u.code == "230100001").unwrap();
    assert_eq!(a.nursery_places, 10.0);
    assert!(close(a.nursery_places_per_1000.unwrap(), 2.5));
    // A: 4.5 × 4 − 10 = 8 places short; B: 5.0 per 1000, passes; D: 4.0, 5 short.
    assert!(close(
        unit_rule(&r, "230100001", "places").deficit.unwrap(),
        8.0
    ));
    assert_eq!(unit_rule(&r, "230100002", "places").pass, Some(true));
    assert!(close(
        unit_rule(&r, "230100", "places").deficit.unwrap(),
        5.0
    ));
    let p = rule(&r, "places");
    assert_eq!(
        (p.units_total, p.units_meeting, p.pass),
        (3, 1, Some(false))
    );
    // Over the checked units: (40 + 10 + 30) places / (10 000 + 4 000 + 6 000) people.
    assert!(close(p.achieved.unwrap(), 4.0));
    assert!(close(r.summary.nursery_places_per_1000.unwrap(), 4.0));
    assert!(close(r.summary.nursery_places_short.unwrap(), 5.0));
    // 普惠: A 0 % (6 short of 60 % of 10), B 100 %, D 75 % (30 of 40) passes.
    assert!(close(
        unit_rule(&r, "230100001", "pb").deficit.unwrap(),
        6.0
    ));
    assert_eq!(unit_rule(&r, "230100", "pb").pass, Some(true));
    assert!(close(rule(&r, "pb").achieved.unwrap(), 0.75));
}

#[test]
fn fifteen_minute_circle_by_hand() {
    // 7.5 min × 1.0 m/s = 450 m around (500, 500): 60 of A's 100 grid centres lie within
    // (counted by hand over the lattice 50, 150, … 950); none of B's (nearest is 550 m).
    let r = run(&fixture());
    let c = rule(&r, "circle");
    assert_eq!(c.distance.as_deref(), Some("7.5 min × 1.0 m/s = 450 m"));
    assert_eq!(c.distance_m, Some(450.0));
    let a60 = 800.0; // A's 4 000 × D's 20 %
    assert!(close(
        unit_rule(&r, "230100001", "circle").value.unwrap(),
        0.6
    ));
    assert!(close(
        unit_rule(&r, "230100001", "circle").deficit.unwrap(),
        0.4 * a60
    ));
    assert!(close(
        unit_rule(&r, "230100002", "circle").deficit.unwrap(),
        1500.0
    ));
    assert!(close(c.people_covered.unwrap(), 0.6 * a60));
    assert!(close(c.people_total.unwrap(), a60 + 1500.0));
    assert!(close(c.achieved.unwrap(), 480.0 / 2300.0));
    assert_eq!(c.pass, Some(false));
    assert_eq!(c.units_meeting, 0);
    // Uncovered points: 40 in A + 100 in B.
    assert_eq!(
        r.uncovered.iter().filter(|p| &*p.rule == "circle").count(),
        140
    );
    assert!(close(
        r.summary.elderly_covered_share.unwrap(),
        480.0 / 2300.0
    ));
}

#[test]
fn two_step_fca_by_hand() {
    // Nursery catchments (300 m) lie wholly inside their sub-district, so the population-
    // weighted 2SFCA mean equals the unit's own places per 1000: A 2.5, B 5.0, D 4.0.
    let r = run(&fixture());
    let get = |code: &str| {
        r.units
            .iter()
            .find(|u| u.code == code)
            .unwrap()
            .nursery_2sfca_per_1000
            .unwrap()
    };
    assert!(close(get("230100001"), 2.5), "{}", get("230100001"));
    assert!(close(get("230100002"), 5.0), "{}", get("230100002"));
    assert!(close(get("230100"), 4.0), "{}", get("230100"));
}

#[test]
fn two_step_fca_shares_places_between_overlapping_catchments() {
    // One nursery of 60 places at the A/B border reaches 3 columns either side of x = 1000
    // (centres 950, 850, 750 | 1050 …): rows within 300 m. Its 60 places are shared by
    // everyone it reaches, so Σ (accessibility × people) over reached points = 60 × 1000.
    let mut ds = fixture();
    ds.facilities.truncate(2);
    facility(
        &mut ds,
        FacilityKind::Nursery,
        1000.0,
        500.0,
        Some(60.0),
        None,
    );
    let r = run(&ds);
    let a = r.units.iter().find(|u| u.code == "230100001").unwrap();
    let b = r.units.iter().find(|u| u.code == "230100002").unwrap();
    let served =
        a.nursery_2sfca_per_1000.unwrap() * 4000.0 + b.nursery_2sfca_per_1000.unwrap() * 6000.0;
    assert!(close(served, 60.0 * 1000.0), "{served}");
}

#[test]
fn bad_and_missing_input_is_reported_not_fatal() {
    let mut ds = fixture();
    // A sub-district with no population, a facility outside every unit, a nursery with no
    // capacity.
    unit(
        &mut ds,
        "230100003",
        UnitLevel::SubDistrict,
        square(2000.0, 3000.0),
        Population::default(),
        Some(0),
    );
    facility(&mut ds, FacilityKind::DayCare, 9000.0, 9000.0, None, None);
    facility(&mut ds, FacilityKind::Nursery, 1900.0, 900.0, None, None);
    let r = run(&ds);
    let text = r.skipped.join("\n");
    assert!(
        text.contains("230100003") && text.contains("no population"),
        "{text}"
    );
    assert!(
        text.contains("设施") && text.contains("lies in no unit"),
        "{text}"
    );
    assert!(text.contains("1 nurseries have no capacity"), "{text}");
    assert_eq!(unit_rule(&r, "230100003", "places").pass, None);
    assert_eq!(rule(&r, "places").units_total, 3);
}

#[test]
fn no_population_anywhere_still_reports_presence() {
    let mut ds = fixture();
    for u in &mut ds.units {
        u.population = Population::default();
    }
    let r = run(&ds);
    assert_eq!(rule(&r, "station").units_meeting, 1);
    assert_eq!(rule(&r, "places").pass, None);
    assert_eq!(rule(&r, "circle").pass, None);
    assert!(r
        .skipped
        .iter()
        .any(|s| s.contains("no unit has both a shape and a population")));
}

#[test]
fn json_keeps_the_contract_names() {
    let ds = fixture();
    let r = run(&ds);
    let v = carecircle::report::to_json(&r, &ds);
    for k in ["rules", "units", "summary"] {
        assert!(v.get(k).is_some(), "{k}");
    }
    let rule0 = &v["rules"][0];
    for k in [
        "id",
        "title",
        "test",
        "level",
        "kinds",
        "target",
        "achieved",
        "units_total",
        "units_meeting",
        "pass",
        "distance_m",
    ] {
        assert!(rule0.get(k).is_some(), "rules[].{k}");
    }
    let u = &v["units"][1];
    for k in [
        "code",
        "name",
        "level",
        "population",
        "pop_60plus",
        "pop_0_3",
        "nursery_places",
        "nursery_places_per_1000",
        "rules",
    ] {
        assert!(u.get(k).is_some(), "units[].{k}");
    }
    assert_eq!(u["rules"]["station"]["pass"], true);
    assert!(u["rules"]["places"]["deficit"].as_f64().unwrap() > 7.99);
    for k in [
        "elderly_covered_share",
        "elderly_distance_m",
        "nursery_places_per_1000",
        "nursery_places_short",
    ] {
        assert!(v["summary"].get(k).is_some(), "summary.{k}");
    }
    assert_eq!(v["summary"]["elderly_distance_m"], 450.0);
    assert_eq!(v["rules"][5]["distance_m"], serde_json::Value::Null);
}

#[test]
fn exports_write_files() {
    let ds = fixture();
    let r = run(&ds);
    let dir = tempfile::tempdir().unwrap();
    let how = carecircle::report::UncoveredExport::all_points();
    carecircle::report::write_json(&r, &ds, &dir.path().join("r.json"), &how).unwrap();
    carecircle::report::write_geojson(&r, &ds, &dir.path().join("r.geojson"), &how).unwrap();
    carecircle::report::write_csv_dir(&r, &ds, &dir.path().join("csv"), &how).unwrap();
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("r.geojson")).unwrap())
            .unwrap();
    let feats = g["features"].as_array().unwrap();
    assert_eq!(
        feats
            .iter()
            .filter(|f| f["properties"]["feature_type"] == "unit")
            .count(),
        3
    );
    assert!(feats.iter().any(|f| f["properties"]["status"] == "fail"));
    let units = std::fs::read_to_string(dir.path().join("csv/units.csv")).unwrap();
    assert!(
        units.lines().count() == 4 && units.contains("station.deficit"),
        "{units}"
    );
    let text = carecircle::report::to_text(&r, false, 5);
    assert!(
        text.contains("未达标") && text.contains("7.5 min × 1.0 m/s = 450 m"),
        "{text}"
    );
}

/// Random datasets: one district with sub-districts in a row, random population, random
/// facilities.
fn random_ds(pops: &[u32], facs: &[(u8, f64, f64, u16)]) -> Dataset {
    let mut ds = Dataset::empty("prop", 126.0);
    let n = pops.len() as f64;
    let total: f64 = pops.iter().map(|p| *p as f64).sum();
    unit(
        &mut ds,
        "1",
        UnitLevel::District,
        square(0.0, 1000.0 * n),
        Population {
            total: Some(total),
            aged_60plus: Some(total * 0.2),
            aged_0_3: Some(total * 0.03),
        },
        None,
    );
    for (i, p) in pops.iter().enumerate() {
        let pop = if *p == 0 { None } else { Some(*p as f64) };
        unit(
            &mut ds,
            &format!("1{i:03}"),
            UnitLevel::SubDistrict,
            square(1000.0 * i as f64, 1000.0 * (i + 1) as f64),
            Population {
                total: pop,
                ..Default::default()
            },
            Some(0),
        );
    }
    for (k, x, y, cap) in facs {
        let kind = [
            FacilityKind::DayCare,
            FacilityKind::StreetStation,
            FacilityKind::Nursery,
        ][*k as usize % 3];
        facility(
            &mut ds,
            kind,
            x * 1000.0 * n,
            y * 1000.0,
            Some(*cap as f64),
            Some(cap % 2 == 0),
        );
    }
    ds
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn adding_a_facility_never_lowers_coverage(
        pops in prop::collection::vec(0u32..50_000, 1..4),
        facs in prop::collection::vec((0u8..3, 0.0f64..1.0, 0.0f64..1.0, 0u16..200), 0..6),
        extra in (0u8..3, 0.0f64..1.0, 0.0f64..1.0, 0u16..200),
    ) {
        let before = run(&random_ds(&pops, &facs));
        let mut more = facs.clone();
        more.push(extra);
        let after = run(&random_ds(&pops, &more));
        for (b, a) in before.rules.iter().zip(&after.rules) {
            if b.test == "qualified_share" {
                // The 普惠 share can rightly fall when a non-普惠 nursery opens.
                continue;
            }
            prop_assert!(a.units_meeting >= b.units_meeting, "{}: {} < {}", b.id, a.units_meeting, b.units_meeting);
            if let (Some(x), Some(y)) = (b.achieved, a.achieved) {
                prop_assert!(y + 1e-9 >= x, "{}: {} < {}", b.id, y, x);
            }
            if let (Some(x), Some(y)) = (b.people_covered, a.people_covered) {
                prop_assert!(y + 1e-6 >= x);
            }
        }
        for (ub, ua) in before.units.iter().zip(&after.units) {
            prop_assert!(ua.nursery_places >= ub.nursery_places);
        }
    }

    #[test]
    fn demand_totals_equal_unit_population(
        pops in prop::collection::vec(0u32..50_000, 1..5),
        cell in 37.0f64..400.0,
    ) {
        let ds = random_ds(&pops, &[]);
        let mut rules = RuleSet::parse(RULES, "t").unwrap();
        rules.settings.grid_cell_m = cell;
        let m = carecircle::coverage::build_demand(&ds, &rules.settings, &NoProgress).unwrap();
        for (i, p) in pops.iter().enumerate() {
            let uid = UnitId(i as u32 + 1);
            let s: f64 = m.points.iter().filter(|d| d.unit == uid).map(|d| d.total).sum();
            let a: f64 = m.points.iter().filter(|d| d.unit == uid).map(|d| d.aged_60plus).sum();
            prop_assert!((s - *p as f64).abs() < 1e-6 * (*p as f64).max(1.0), "unit {i}: {s} vs {p}");
            // 60+ from the district's 20 % share.
            prop_assert!((a - 0.2 * *p as f64).abs() < 1e-6 * (*p as f64).max(1.0));
        }
    }
}

/// The streamed JSON is `to_json` key for key (the province path did not change answers),
/// and the per-unit and per-cell aggregates are the sums of the points they stand for —
/// summed here by hand from the point list.
#[test]
fn streamed_json_matches_the_report_and_aggregates_sum_the_points() {
    use carecircle::report::UncoveredExport;
    let ds = fixture();
    let r = run(&ds);
    assert!(
        !r.uncovered.is_empty(),
        "the fixture leaves people uncovered"
    );
    let dir = tempfile::tempdir().unwrap();
    let read = |name: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(name)).unwrap()).unwrap()
    };
    carecircle::report::write_json(
        &r,
        &ds,
        &dir.path().join("all.json"),
        &UncoveredExport::all_points(),
    )
    .unwrap();
    let cell = UncoveredExport {
        points: false,
        cell_m: 250.0,
    };
    carecircle::report::write_json(&r, &ds, &dir.path().join("agg.json"), &cell).unwrap();
    let all = read("all.json");
    let agg = read("agg.json");
    let mut reference = carecircle::report::to_json(&r, &ds);
    carecircle::report::no_negative_zero(&mut reference);
    for (k, v) in reference.as_object().unwrap() {
        assert_eq!(&all[k], v, "key {k}");
        if k != "uncovered" {
            assert_eq!(&agg[k], v, "key {k}");
        }
    }
    assert_eq!(all["uncovered_listed"], true);
    assert_eq!(agg["uncovered_listed"], false);
    assert!(
        agg.get("uncovered").is_none(),
        "no empty list that reads as 'none uncovered'"
    );
    // Per unit and per 250 m cell, by hand from the listed points.
    let settings = RuleSet::parse(RULES, "test rules").unwrap().settings;
    let demand = carecircle::coverage::build_demand(&ds, &settings, &NoProgress).unwrap();
    let mut by_unit: std::collections::BTreeMap<(String, String), (u64, f64)> = Default::default();
    let mut by_cell: std::collections::BTreeMap<(String, i64, i64), (u64, f64)> =
        Default::default();
    for p in all["uncovered"].as_array().unwrap() {
        let rule = p["rule"].as_str().unwrap().to_string();
        let people = p["people"].as_f64().unwrap();
        let e = by_unit
            .entry((rule.clone(), p["unit_code"].as_str().unwrap().into()))
            .or_default();
        e.0 += 1;
        e.1 += people;
        // The cell of the point where the demand model put it (local metres): the grid is
        // drawn there, not on the written WGS84 figures, which carry the projection's
        // round-off (a lattice point exactly on a cell line could change sides).
        let at = demand
            .points
            .location(p["demand_index"].as_u64().unwrap() as usize);
        let (lon, lat) = ds.projection.inverse(at.x(), at.y());
        assert_eq!(
            (p["lon"].as_f64(), p["lat"].as_f64()),
            (Some(lon), Some(lat))
        );
        let (x, y) = (at.x(), at.y());
        let e = by_cell
            .entry((rule, (x / 250.0).floor() as i64, (y / 250.0).floor() as i64))
            .or_default();
        e.0 += 1;
        e.1 += people;
    }
    let units = agg["uncovered_by_unit"].as_array().unwrap();
    assert_eq!(units.len(), by_unit.len());
    for g in units {
        let key = (
            g["rule"].as_str().unwrap().to_string(),
            g["unit_code"].as_str().unwrap().to_string(),
        );
        let (n, people) = by_unit[&key];
        assert_eq!(g["points"].as_u64().unwrap(), n, "{key:?}");
        assert!(
            (g["people"].as_f64().unwrap() - people).abs() < 1e-9,
            "{key:?}"
        );
    }
    assert_eq!(agg["uncovered_grid"]["cell_m"], 250.0);
    let cells = agg["uncovered_grid"]["cells"].as_array().unwrap();
    assert_eq!(cells.len(), by_cell.len());
    for c in cells {
        let key = (
            c["rule"].as_str().unwrap().to_string(),
            c["ix"].as_i64().unwrap(),
            c["iy"].as_i64().unwrap(),
        );
        let (n, people) = by_cell[&key];
        assert_eq!(c["points"].as_u64().unwrap(), n, "{key:?}");
        assert!(
            (c["people"].as_f64().unwrap() - people).abs() < 1e-9,
            "{key:?}"
        );
    }
    // CSV: the aggregates always, the point list only when asked for.
    carecircle::report::write_csv_dir(&r, &ds, &dir.path().join("csv"), &cell).unwrap();
    assert!(dir.path().join("csv/uncovered_by_unit.csv").exists());
    assert!(dir.path().join("csv/uncovered_grid.csv").exists());
    assert!(!dir.path().join("csv/uncovered_demand.csv").exists());
}

/// The Harbin demo and its straight-line report under the Heilongjiang preset.
fn harbin_report() -> (Dataset, Report) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    let ds = carecircle::io::load_path(&dir).unwrap();
    let sc = carecircle::coverage::Scenario::new("heilongjiang-2021").unwrap();
    let r = analyze(&ds, sc.rules(), &sc.options(), &Euclidean, &NoProgress).unwrap();
    (ds, r)
}

/// The uncovered-demand aggregates (keyed on every core, grouped by a stable sort) are the
/// one-pass sums to the bit: per (rule, unit) and per (rule, cell), in key order, on the
/// Harbin demo at three cell sizes.
#[test]
fn uncovered_aggregates_equal_one_pass_sums() {
    use std::collections::BTreeMap;
    let (ds, r) = harbin_report();
    assert!(r.uncovered.len() > 1000, "{} uncovered", r.uncovered.len());
    for cell_m in [250.0, 1000.0, 5000.0] {
        let agg = carecircle::report::aggregate(&r, &ds, cell_m);
        let mut units: BTreeMap<(String, String), (u32, u64)> = BTreeMap::new();
        let mut cells: BTreeMap<(String, i64, i64), (u32, f64)> = BTreeMap::new();
        let mut unit_sum: BTreeMap<(String, String), f64> = BTreeMap::new();
        for p in &r.uncovered {
            let k = (p.rule.to_string(), p.unit_code.to_string());
            units.entry(k.clone()).or_default().0 += 1;
            *unit_sum.entry(k).or_default() += p.people;
            let (x, y) = (p.x, p.y);
            let e = cells
                .entry((
                    p.rule.to_string(),
                    (x / cell_m).floor() as i64,
                    (y / cell_m).floor() as i64,
                ))
                .or_default();
            e.0 += 1;
            e.1 += p.people;
        }
        for (k, v) in unit_sum {
            units.get_mut(&k).unwrap().1 = v.to_bits();
        }
        let got: Vec<_> = agg
            .by_unit
            .iter()
            .map(|g| {
                (
                    (g.rule.to_string(), g.unit_code.to_string()),
                    (g.points, g.people.to_bits()),
                )
            })
            .collect();
        assert_eq!(
            got,
            units.into_iter().collect::<Vec<_>>(),
            "by unit, {cell_m} m"
        );
        let got: Vec<_> = agg
            .cells
            .iter()
            .map(|c| {
                (
                    (c.rule.to_string(), c.ix, c.iy),
                    (c.points, c.people.to_bits()),
                )
            })
            .collect();
        let want: Vec<_> = cells
            .into_iter()
            .map(|(k, (n, p))| (k, (n, p.to_bits())))
            .collect();
        assert_eq!(got, want, "cells, {cell_m} m");
    }
}

/// The GeoJSON export makes and serialises unit features on every core, a window at a
/// time: the file must be byte for byte the features of `geojson_features` written one at a
/// time, in order.
#[test]
fn geojson_export_equals_the_features_written_in_order() {
    let (ds, r) = harbin_report();
    let out = tempfile::tempdir().unwrap();
    for points in [false, true] {
        let how = carecircle::report::UncoveredExport {
            points,
            ..Default::default()
        };
        let path = out.path().join(format!("r{points}.geojson"));
        carecircle::report::write_geojson(&r, &ds, &path, &how).unwrap();
        let agg = carecircle::report::aggregate(&r, &ds, how.cell_m);
        let mut want = b"{\"type\": \"FeatureCollection\", \"features\": [".to_vec();
        let mut n = 0;
        carecircle::report::geojson_features(&r, &ds, &agg, &how, &mut |f| {
            want.extend_from_slice(if n == 0 { b"\n" } else { b",\n" });
            n += 1;
            serde_json::to_writer(&mut want, &f).map_err(std::io::Error::other)
        })
        .unwrap();
        want.extend_from_slice(b"\n]}\n");
        assert!(n > ds.units.len() / 2, "{n} features");
        assert!(std::fs::read(&path).unwrap() == want, "points: {points}");
    }
}
