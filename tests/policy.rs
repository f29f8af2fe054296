//! What the plans say, checked on hand-computed cases: aggregate vs per-unit verdicts,
//! qualifiers that are unknown either way, the scenario year, closed facilities, layers that
//! hold no data, known totals, the central urban area, beds and counts, citations.
//!
//! The fixture: two counties side by side, A = [0,1000]×[0,1000] m and B = [1000,2000]×
//! [0,1000] m, 10 000 residents each (2 000 aged 60+ each); each has one township
//! (A1 covering A, B1 covering B). Facilities are added per test.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use carecircle::coverage::analysis::Status;
use carecircle::coverage::rules::RuleSet;
use carecircle::coverage::{analyze, Euclidean, Options, Report};
use carecircle::model::*;
use carecircle::progress::NoProgress;
use geo::{polygon, MultiPolygon, Point};

fn square(x0: f64, x1: f64) -> MultiPolygon<f64> {
    MultiPolygon(vec![
        polygon![(x: x0, y: 0.0), (x: x1, y: 0.0), (x: x1, y: 1000.0), (x: x0, y: 1000.0)],
    ])
}

fn unit(ds: &mut Dataset, code: &str, level: UnitLevel, x0: f64, parent: Option<u32>, pop: bool) {
    let id = UnitId(ds.units.len() as u32);
    ds.units.push(Unit {
        id,
        code: code.into(),
        name: format!("单元{code}"),
        level,
        parent_code: None,
        parent: parent.map(UnitId),
        geometry: Some(square(x0, x0 + 1000.0)),
        population: if pop {
            Population {
                total: Some(10_000.0),
                aged_60plus: Some(2_000.0),
                aged_0_3: Some(300.0),
            }
        } else {
            Population::default()
        },
        population_source: Some("hand-made".into()),
        central_urban: None,
        layer: LayerId(0),
        attributes: Default::default(),
    });
}

fn fixture() -> Dataset {
    let mut ds = Dataset::empty("policy", 126.0);
    unit(&mut ds, "230001", UnitLevel::County, 0.0, None, true);
    unit(&mut ds, "230002", UnitLevel::County, 1000.0, None, true);
    unit(
        &mut ds,
        "230001100",
        UnitLevel::Township,
        0.0,
        Some(0),
        false,
    );
    unit(
        &mut ds,
        "230002100",
        UnitLevel::Township,
        1000.0,
        Some(1),
        false,
    );
    ds
}

/// A facility at (x, 500): x < 1000 lies in A, else in B.
fn add(ds: &mut Dataset, kind: FacilityKind, x: f64, cap: Option<f64>) -> FacilityId {
    let id = FacilityId(ds.facilities.len() as u32);
    ds.facilities.push(Facility {
        id,
        source_id: format!("f{}", id.0),
        name: format!("设施{}", id.0),
        kind,
        capacity: cap,
        capacity_estimated: false,
        nursing_beds: None,
        qualifiers: Qualifiers::default(),
        renovation: false,
        status: FacilityStatus::Existing,
        synthetic: false,
        location: Some(Point::new(x, 500.0)),
        unit_ref: UnitRef::default(),
        unit: None,
        unit_join: None,
        year: None,
        layer: LayerId(0),
        attributes: Default::default(),
    });
    id
}

/// A known total of one kind without locations, from the test plan; tests set the figures.
fn known(label: &str, kind: FacilityKind) -> KnownTotal {
    KnownTotal {
        label: label.into(),
        kinds: vec![kind],
        facilities: None,
        capacity: None,
        nursing_beds: None,
        qualifiers: Qualifiers::default(),
        year: None,
        at_least: false,
        source: "《测试规划》一".into(),
    }
}

fn rules(body: &str) -> RuleSet {
    RuleSet::parse(
        &format!(
            "id='t'\ntitle_zh='测试'\ntitle_en='test'\ndocument='测试规划'\nnumber='测〔2024〕1号'\n{body}"
        ),
        "test preset",
    )
    .unwrap()
}

fn run_with(ds: &Dataset, rs: &RuleSet, opts: &Options) -> Report {
    analyze(ds, rs, opts, &Euclidean, &NoProgress).unwrap()
}

fn run(ds: &Dataset, rs: &RuleSet) -> Report {
    run_with(ds, rs, &Options::default())
}

fn rule<'a>(r: &'a Report, id: &str) -> &'a carecircle::coverage::RuleResult {
    r.rules.iter().find(|x| x.id == id).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9 * b.abs().max(1.0)
}

const PLACES: &str = "
[[rules]]
id='places'
title_zh='千人4.5托位'
title_en='4.5 per 1000'
test='places_per_1000'
scope='SCOPE'
level='county'
kinds=['nursery']
group='total'
target=4.5
deadline=2025
citation={clause='二(二)', quote='全市每千人口拥有托位数达到4.5个'}
";

#[test]
fn aggregate_places_are_one_figure_for_the_jurisdiction() {
    // A: 62 places / 10 000 = 6.2 per 1000; B: 29 / 10 000 = 2.9. Together 91 / 20 000
    // = 4.55 per 1000 ≥ 4.5: the city passes; B is where places are short (16 = 45 − 29).
    let mut ds = fixture();
    add(&mut ds, FacilityKind::Nursery, 500.0, Some(62.0));
    add(&mut ds, FacilityKind::Nursery, 1500.0, Some(29.0));
    let r = run(&ds, &rules(&PLACES.replace("SCOPE", "aggregate")));
    let p = rule(&r, "places");
    assert_eq!(p.status, Status::Pass);
    assert_eq!(p.pass, Some(true));
    assert!(close(p.value.unwrap(), 4.55));
    assert_eq!(p.base_population, Some(20_000.0));
    assert!(
        p.base.as_deref().unwrap().contains("20,000"),
        "{:?}",
        p.base
    );
    assert_eq!((p.units_total, p.units_meeting), (2, 1));
    let b = &r.units[1].rules["places"];
    assert_eq!(b.status, Status::Fail);
    assert!(close(b.deficit.unwrap(), 16.0));
    // The same target read per unit fails: B is below 4.5.
    let r = run(&ds, &rules(&PLACES.replace("SCOPE", "per_unit")));
    assert_eq!(rule(&r, "places").status, Status::Fail);
    // And the summary agrees with the rule: 91 places, nothing short.
    assert_eq!(r.summary.nursery_places, 91.0);
    assert_eq!(r.summary.nursery_places_short, Some(0.0));
}

const STANDARDISED: &str = "
[[rules]]
id='inst'
title_zh='每个乡镇至少建有1个标准化养老机构'
title_en='standardised institution per township'
test='presence'
scope='per_unit'
level='township'
kinds=['township_institution']
qualifiers=['standardised']
target=1
deadline=2025
citation={clause='附件2 一', quote='每個鄉鎮至少建有1個標準化養老機構'}
";

#[test]
fn unknown_qualifiers_are_unknown_not_pass_or_fail() {
    let rs = rules(STANDARDISED);
    let mut ds = fixture();
    let a = add(
        &mut ds,
        FacilityKind::TownshipInstitution,
        500.0,
        Some(40.0),
    );
    let b = add(
        &mut ds,
        FacilityKind::TownshipInstitution,
        1500.0,
        Some(40.0),
    );
    ds.facilities[a.index()].qualifiers.standardised = Some(true);
    // B's institution does not say: B unknown, the rule unknown (1 of 2 pass, 50 %–100 %).
    let r = run(&ds, &rs);
    let x = rule(&r, "inst");
    assert_eq!(x.status, Status::Unknown);
    assert_eq!((x.units_meeting, x.units_unknown), (1, 1));
    assert_eq!(x.range, Some((0.5, Some(1.0))));
    assert_eq!(r.units[3].rules["inst"].status, Status::Unknown);
    assert!(x.explain_zh.as_deref().unwrap().contains("标准化"));
    // Either way the data could go, the verdict follows.
    ds.facilities[b.index()].qualifiers.standardised = Some(true);
    assert_eq!(rule(&run(&ds, &rs), "inst").status, Status::Pass);
    ds.facilities[b.index()].qualifiers.standardised = Some(false);
    let r = run(&ds, &rs);
    assert_eq!(rule(&r, "inst").status, Status::Fail);
    assert_eq!(r.units[3].rules["inst"].status, Status::Fail);
}

#[test]
fn public_benefit_share_gives_the_range_when_some_are_unknown() {
    // Places: 30 普惠, 30 unknown, 20 not. Share 30/80 = 37.5 % to 60/80 = 75 %.
    let mut ds = fixture();
    let x = add(&mut ds, FacilityKind::Nursery, 500.0, Some(30.0));
    add(&mut ds, FacilityKind::Nursery, 600.0, Some(30.0));
    let z = add(&mut ds, FacilityKind::Nursery, 1500.0, Some(20.0));
    ds.facilities[x.index()].qualifiers.public_benefit = Some(true);
    ds.facilities[z.index()].qualifiers.public_benefit = Some(false);
    let body = |t: f64| {
        format!(
            "[[rules]]\nid='pb'\ntitle_zh='普惠'\ntitle_en='pb'\ntest='qualified_share'\nscope='aggregate'\nlevel='county'\nkinds=['nursery']\nqualifiers=['public_benefit']\ntarget={t}\ncitation={{clause='二(二)', quote='普惠性托位占比达到60%以上'}}\n"
        )
    };
    let r = run(&ds, &rules(&body(0.6)));
    let pb = rule(&r, "pb");
    assert_eq!(pb.status, Status::Unknown);
    let (lo, hi) = pb.range.unwrap();
    assert!(
        close(lo, 0.375) && close(hi.unwrap(), 0.75),
        "{:?}",
        pb.range
    );
    assert_eq!(
        rule(&run(&ds, &rules(&body(0.3))), "pb").status,
        Status::Pass
    );
    assert_eq!(
        rule(&run(&ds, &rules(&body(0.8))), "pb").status,
        Status::Fail
    );
}

#[test]
fn the_scenario_year_counts_projects_due_by_then_and_closed_never() {
    let mut ds = fixture();
    let rs = rules(&PLACES.replace("SCOPE", "aggregate"));
    add(&mut ds, FacilityKind::Nursery, 500.0, Some(40.0));
    let p27 = add(&mut ds, FacilityKind::Nursery, 1500.0, Some(30.0));
    let p24 = add(&mut ds, FacilityKind::Nursery, 1500.0, Some(20.0));
    let nodate = add(&mut ds, FacilityKind::Nursery, 600.0, Some(5.0));
    let closed = add(&mut ds, FacilityKind::Nursery, 700.0, Some(100.0));
    for (f, y) in [(p27, Some(2027)), (p24, Some(2024)), (nodate, None)] {
        ds.facilities[f.index()].status = FacilityStatus::Planned;
        ds.facilities[f.index()].year = y;
    }
    ds.facilities[closed.index()].status = FacilityStatus::Closed;
    // Existing only: 40 places (the closed 100 never count).
    let r = run(&ds, &rs);
    assert!(close(rule(&r, "places").amount.unwrap(), 40.0));
    // 2025: + 20 (2024) + 5 (no year, listed) = 65; the 2027 project waits.
    let y25 = Options {
        year: Some(2025),
        ..Default::default()
    };
    let r = run_with(&ds, &rs, &y25);
    let p = rule(&r, "places");
    assert!(close(p.amount.unwrap(), 65.0));
    assert_eq!((p.deadline, p.due), (Some(2025), Some(true)));
    assert_eq!(r.planned_year_unknown.len(), 1);
    // 2027: all projects, 95 places.
    let r = run_with(
        &ds,
        &rs,
        &Options {
            year: Some(2027),
            ..Default::default()
        },
    );
    assert!(close(rule(&r, "places").amount.unwrap(), 95.0));
    // 2022: the 2025 target is not due yet.
    let r = run_with(
        &ds,
        &rs,
        &Options {
            year: Some(2022),
            ..Default::default()
        },
    );
    assert_eq!(rule(&r, "places").due, Some(false));
}

#[test]
fn no_data_on_a_kind_is_never_zero() {
    // No nursery anywhere: not "0 places per 1000, fail" but not evaluable.
    let ds = fixture();
    let rs = rules(&PLACES.replace("SCOPE", "aggregate"));
    let p = rule(&run(&ds, &rs), "places").clone();
    assert_eq!(p.status, Status::NotEvaluable);
    assert_eq!(p.pass, None);
    assert!(p
        .explain_en
        .as_deref()
        .unwrap()
        .contains("no data on existing"));
    // Only planned nurseries in the data: existing ones are unknown, so 15 planned places
    // (0.75 per 1000) cannot fail the target; the rule is unknown, "at least 0.75".
    let mut planned = fixture();
    let f = add(&mut planned, FacilityKind::Nursery, 500.0, Some(15.0));
    planned.facilities[f.index()].status = FacilityStatus::Planned;
    let opts = Options {
        include_planned: true,
        ..Default::default()
    };
    let p = rule(&run_with(&planned, &rs, &opts), "places").clone();
    assert_eq!(p.status, Status::Unknown);
    assert!(close(p.value.unwrap(), 0.75));
    assert_eq!(p.range.unwrap().1, None);
    // A layer that declares it lists all nurseries: then none means none, and it fails.
    let mut declared = fixture();
    declared.declared_kinds.push(FacilityKind::Nursery);
    let p = rule(&run(&declared, &rs), "places").clone();
    assert_eq!(p.status, Status::Fail);
    assert_eq!(p.value, Some(0.0));
}

#[test]
fn known_totals_count_in_aggregates_and_bound_per_unit_verdicts() {
    // 2020: 3 day-care rooms known citywide without locations (the whole stock).
    let mut ds = fixture();
    ds.known_totals.push(KnownTotal {
        facilities: Some(3.0),
        capacity: None,
        nursing_beds: None,
        year: Some(2020),
        ..known("日间照料室", FacilityKind::DayCare)
    });
    let presence = "[[rules]]\nid='dc'\ntitle_zh='每个乡镇1处'\ntitle_en='dc'\ntest='presence'\nscope='per_unit'\nlevel='township'\nkinds=['day_care']\ntarget=1\ncitation={clause='一', quote='q'}\n";
    // Two townships, three rooms somewhere: each township unknown, the rule unknown.
    let r = run(&ds, &rules(presence));
    assert_eq!(rule(&r, "dc").status, Status::Unknown);
    assert_eq!(r.units[2].rules["dc"].status, Status::Unknown);
    // Only one room in the whole city: two townships cannot both have one — fail for sure,
    // though neither township's own status is known.
    ds.known_totals[0].facilities = Some(1.0);
    let r = run(&ds, &rules(presence));
    assert_eq!(rule(&r, "dc").status, Status::Fail);
    assert_eq!(r.units[2].rules["dc"].status, Status::Unknown);
    // "At least one" proves nothing missing.
    ds.known_totals[0].at_least = true;
    assert_eq!(
        rule(&run(&ds, &rules(presence)), "dc").status,
        Status::Unknown
    );
    // A total from after the scenario year does not count.
    ds.known_totals[0].at_least = false;
    ds.known_totals[0].facilities = Some(3.0);
    let count = "[[rules]]\nid='n'\ntitle_zh='全市至少3处'\ntitle_en='n'\ntest='count'\nscope='count'\nlevel='county'\nkinds=['day_care']\ntarget=3\ncitation={clause='一', quote='q'}\n";
    assert_eq!(rule(&run(&ds, &rules(count)), "n").status, Status::Pass);
    let y2019 = Options {
        year: Some(2019),
        ..Default::default()
    };
    let r = run_with(&ds, &rules(count), &y2019);
    assert_eq!(rule(&r, "n").status, Status::NotEvaluable);
}

#[test]
fn beds_per_1000_elderly_and_nursing_share_by_hand() {
    // 4 000 people 60+. Beds: 100 (40 nursing) in A, 90 (nursing unknown) in B, and a
    // known total of 20 beds (10 nursing). 210 beds / 4 000 × 1000 = 52.5 ≥ 45.
    // Nursing share: 50 of 210 = 23.8 % to (50 + 90) / 210 = 66.7 %.
    let mut ds = fixture();
    let a = add(&mut ds, FacilityKind::CareHome, 500.0, Some(100.0));
    add(&mut ds, FacilityKind::CareHome, 1500.0, Some(90.0));
    ds.facilities[a.index()].nursing_beds = Some(40.0);
    ds.known_totals.push(KnownTotal {
        facilities: Some(1.0),
        capacity: Some(20.0),
        nursing_beds: Some(10.0),
        year: None,
        ..known("其他养老机构", FacilityKind::CareHome)
    });
    let body = "
[[rules]]
id='beds'
title_zh='每千名老年人床位45张'
title_en='beds'
test='beds_per_1000'
level='county'
kinds=['care_home']
group='aged_60plus'
target=45
citation={clause='二(一)', quote='每千名老年人养老床位数达到45张'}
[[rules]]
id='nursing'
title_zh='护理型床位55%'
title_en='nursing'
test='nursing_bed_share'
level='county'
kinds=['care_home']
target=0.55
citation={clause='二(一)', quote='护理型床位占55%'}
[[rules]]
id='total'
title_zh='床位200张'
title_en='total'
test='capacity_total'
level='county'
kinds=['care_home']
target=200
citation={clause='二(一)', quote='q'}
";
    let r = run(&ds, &rules(body));
    let b = rule(&r, "beds");
    assert_eq!(b.status, Status::Pass);
    assert!(close(b.value.unwrap(), 52.5));
    assert_eq!(b.base_population, Some(4_000.0));
    let n = rule(&r, "nursing");
    assert_eq!(n.status, Status::Unknown);
    let (lo, hi) = n.range.unwrap();
    assert!(
        close(lo, 50.0 / 210.0) && close(hi.unwrap(), 140.0 / 210.0),
        "{:?}",
        n.range
    );
    assert_eq!(rule(&r, "total").status, Status::Pass);
    assert_eq!(rule(&r, "total").amount, Some(210.0));
}

#[test]
fn the_central_urban_area_limits_the_circle() {
    // One day-care room at (500, 500) covers only A's people within 450 m; B has none.
    // Over all units: A's covered share / 2; with A marked central urban, A alone.
    let mut ds = fixture();
    add(&mut ds, FacilityKind::DayCare, 500.0, Some(20.0));
    let body = "[[rules]]\nid='circle'\ntitle_zh='15分钟圈'\ntitle_en='circle'\ntest='population_within'\nlevel=['county','township']\nkinds=['day_care']\ngroup='aged_60plus'\nminutes=7.5\nspeed_m_s=1.0\ntarget=1.0\ntarget_user_set=true\narea='central_urban'\ncitation={document='黑龙江省人民政府办公厅关于推进养老服务发展的实施意见', number='黑政办规〔2020〕8号', clause='二', quote='在中心城区构建“15分钟养老服务圈”'}\n";
    let rs = rules(body);
    let all = rule(&run(&ds, &rs), "circle").clone();
    assert!(all.area.as_deref().unwrap().contains("no unit is marked"));
    ds.units[0].central_urban = Some(true);
    let central = rule(&run(&ds, &rs), "circle").clone();
    assert!(central
        .area
        .as_deref()
        .unwrap()
        .contains("central urban units only"));
    // 60 of A's 100 grid points lie within 450 m (tests/coverage.rs counts them).
    assert!(close(central.value.unwrap(), 0.6), "{:?}", central.value);
    assert!(close(all.value.unwrap(), 0.3), "{:?}", all.value);
    assert_eq!(central.people_total, Some(2_000.0));
    assert!(central.target_user_set);
    assert_eq!(
        central.citation.cite(),
        "《黑龙江省人民政府办公厅关于推进养老服务发展的实施意见》(黑政办规〔2020〕8号) 二"
    );
}

#[test]
fn json_carries_the_contract() {
    let mut ds = fixture();
    add(&mut ds, FacilityKind::Nursery, 500.0, Some(62.0));
    let r = run(&ds, &rules(&PLACES.replace("SCOPE", "aggregate")));
    let j = carecircle::report::to_json(&r, &ds);
    let rule = &j["rules"][0];
    for key in [
        "scope",
        "status",
        "value",
        "units_unknown",
        "deadline",
        "citation",
        "pass",
        "target",
    ] {
        assert!(rule.get(key).is_some(), "missing {key}");
    }
    assert_eq!(rule["scope"], "aggregate");
    assert_eq!(rule["status"], "fail");
    assert_eq!(rule["pass"], false);
    assert_eq!(rule["deadline"], 2025);
    assert_eq!(rule["citation"]["document"], "测试规划");
    assert_eq!(rule["citation"]["number"], "测〔2024〕1号");
    assert_eq!(rule["citation"]["clause"], "二(二)");
    assert_eq!(rule["citation"]["quote"], "全市每千人口拥有托位数达到4.5个");
}

#[test]
fn bad_qualifier_values_warn_and_stay_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("facilities.csv");
    std::fs::write(
        &csv,
        "name,kind,lon,lat,标准化,公办,普惠,示范性,等级\n甲敬老院,township_institution,126.6,45.7,也许,公办,是,否,一级\n乙院,township_institution,126.61,45.71,1,民办,N,Y,三星\n",
    )
    .unwrap();
    let ds = carecircle::io::load::load_path(&csv).unwrap();
    let a = &ds.facilities[0].qualifiers;
    assert_eq!(
        (
            a.standardised,
            a.public,
            a.public_benefit,
            a.demonstration,
            a.grade
        ),
        (None, Some(true), Some(true), Some(false), Some(1))
    );
    let b = &ds.facilities[1].qualifiers;
    assert_eq!(
        (
            b.standardised,
            b.public,
            b.public_benefit,
            b.demonstration,
            b.grade
        ),
        (Some(true), Some(false), Some(false), Some(true), Some(3))
    );
    let w = ds
        .warnings
        .iter()
        .find(|w| w.field.as_deref() == Some("标准化"))
        .expect("a warning on the 标准化 column");
    assert!(w.file.ends_with("facilities.csv"));
    assert!(w.feature.is_some());
    assert!(
        w.message.contains("'也许'") && w.message.contains("unknown"),
        "{w}"
    );
}

#[test]
fn shipped_presets_cite_as_a_bureau_does() {
    for (name, _) in carecircle::coverage::rules::PRESETS {
        let s = RuleSet::preset(name).unwrap();
        for r in &s.rules {
            let c = r.citation.cite();
            assert!(
                c.starts_with('《') && c.contains('》'),
                "{name}/{}: {c}",
                r.id
            );
            assert!(
                !c.contains(".txt") && !c.contains("seed"),
                "{name}/{}: {c}",
                r.id
            );
        }
    }
}

#[test]
fn reach_needs_located_facilities_not_totals() {
    // The city reports 5 nurseries but none is located: whether children are within 300 m
    // cannot be told — not "0 % within reach, fail", and no demand painted as uncovered.
    let mut ds = fixture();
    ds.known_totals.push(KnownTotal {
        facilities: Some(5.0),
        capacity: None,
        nursing_beds: None,
        year: Some(2020),
        ..known("托育机构", FacilityKind::Nursery)
    });
    let body = "[[rules]]\nid='r'\ntitle_zh='300米'\ntitle_en='r'\ntest='population_within'\nlevel='county'\nkinds=['nursery']\ngroup='aged_0_3'\ndistance_m=300\ntarget=1.0\nconvention=true\ncitation={document='城市居住区规划设计标准', number='GB 50180-2018', clause='附录B', quote='q'}\n";
    let r = run(&ds, &rules(body));
    assert_eq!(rule(&r, "r").status, Status::NotEvaluable);
    assert!(r.uncovered.is_empty());
    // One located nursery beside the 5 unlocated ones: the share is a floor, unknown.
    add(&mut ds, FacilityKind::Nursery, 500.0, Some(30.0));
    let r = run(&ds, &rules(body));
    let x = rule(&r, "r");
    assert_eq!(x.status, Status::Unknown);
    assert!(x.value.unwrap() > 0.0 && x.value.unwrap() < 1.0);
    assert!(r.uncovered.is_empty());
    // With the list complete (no unlocated total), the same people out of reach fail.
    ds.known_totals.clear();
    let r = run(&ds, &rules(body));
    assert_eq!(rule(&r, "r").status, Status::Fail);
    assert!(!r.uncovered.is_empty());
}
