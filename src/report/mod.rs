//! Exports of a coverage [`Report`]: JSON (read by other tools — key names are a contract),
//! GeoJSON (units coloured by status, uncovered demand, for any GIS), CSV tables, and the
//! readable table the CLI prints. All files are written atomically.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::coverage::analysis::{Report, UnitResult};
use crate::io::geojson::{geometry_value, write_atomic};
use crate::model::Dataset;
use crate::{Error, Result};

pub mod map;

/// The report as JSON: `rules`, `units`, `summary` (the contract), plus `preset`, `mode`,
/// `demand`, `uncovered` and `skipped`.
pub fn to_json(report: &Report) -> Value {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "title": r.title, "title_en": r.title_en, "test": r.test,
                "level": r.level, "kinds": r.kinds, "target": r.target, "achieved": r.achieved,
                "units_total": r.units_total, "units_meeting": r.units_meeting, "pass": r.pass,
                "distance_m": r.distance_m, "distance": r.distance, "group": r.group,
                "people_covered": r.people_covered, "people_total": r.people_total,
                "people_overclaimed": r.people_overclaimed,
                "clause": r.clause, "notes": r.notes,
            })
        })
        .collect();
    let units: Vec<Value> = report.units.iter().map(unit_json).collect();
    json!({
        "dataset": report.dataset,
        "preset": report.preset,
        "preset_title": report.preset_title,
        "mode": report.mode,
        "statuses_counted": report.statuses_counted,
        "rules": rules,
        "units": units,
        "summary": report.summary,
        "demand": report.demand,
        "uncovered": report.uncovered,
        "skipped": report.skipped,
    })
}

fn unit_json(u: &UnitResult) -> Value {
    let rules: Map<String, Value> = u
        .rules
        .iter()
        .map(|(k, s)| (k.clone(), serde_json::to_value(s).expect("plain data")))
        .collect();
    json!({
        "code": u.code, "name": u.name, "level": u.level, "parent_code": u.parent_code,
        "population": u.population, "pop_60plus": u.pop_60plus, "pop_0_3": u.pop_0_3,
        "nursery_places": u.nursery_places, "nursery_places_per_1000": u.nursery_places_per_1000,
        "nursery_2sfca_per_1000": u.nursery_2sfca_per_1000,
        "facilities": u.facilities, "rules": rules,
    })
}

pub fn write_json(report: &Report, path: &Path) -> Result<()> {
    let text = serde_json::to_string_pretty(&to_json(report)).expect("serialisable");
    write_atomic(path, text.as_bytes())
}

/// Overall status of a unit: "fail" if any evaluated rule fails, "pass" if all evaluated
/// rules pass, "not_evaluated" if none applies.
pub fn unit_status(u: &UnitResult) -> &'static str {
    let evaluated: Vec<bool> = u.rules.values().filter_map(|s| s.pass).collect();
    if evaluated.is_empty() {
        "not_evaluated"
    } else if evaluated.iter().all(|p| *p) {
        "pass"
    } else {
        "fail"
    }
}

/// One FeatureCollection: every unit with a shape (properties: code, name, level, status,
/// `fill` colour per the simplestyle convention, each rule's pass and deficit) and every
/// uncovered demand point (`feature_type = "uncovered_demand"`). WGS84 lon/lat.
pub fn to_geojson(report: &Report, ds: &Dataset) -> Value {
    let mut features = Vec::new();
    let to_wgs = |g: &geo::MultiPolygon<f64>| {
        use geo::MapCoords;
        g.map_coords(|c| {
            let (lon, lat) = ds.projection.inverse(c.x, c.y);
            geo::Coord { x: lon, y: lat }
        })
    };
    for u in &report.units {
        let Some(g) = &ds.unit(u.id).geometry else {
            continue;
        };
        let status = unit_status(u);
        let mut props = Map::new();
        props.insert("feature_type".into(), json!("unit"));
        props.insert("code".into(), json!(u.code));
        props.insert("name".into(), json!(u.name));
        props.insert("level".into(), json!(u.level));
        props.insert("status".into(), json!(status));
        props.insert(
            "fill".into(),
            json!(match status {
                "pass" => "#2e9e4f",
                "fail" => "#d43d2f",
                _ => "#9e9e9e",
            }),
        );
        props.insert("population".into(), json!(u.population));
        props.insert("pop_60plus".into(), json!(u.pop_60plus));
        props.insert("pop_0_3".into(), json!(u.pop_0_3));
        props.insert("nursery_places".into(), json!(u.nursery_places));
        props.insert(
            "nursery_places_per_1000".into(),
            json!(u.nursery_places_per_1000),
        );
        for (id, s) in &u.rules {
            props.insert(format!("{id}.pass"), json!(s.pass));
            props.insert(format!("{id}.deficit"), json!(s.deficit));
        }
        features.push(json!({
            "type": "Feature",
            "properties": props,
            "geometry": geometry_value(&geo::Geometry::MultiPolygon(to_wgs(g))),
        }));
    }
    for p in &report.uncovered {
        features.push(json!({
            "type": "Feature",
            "properties": {
                "feature_type": "uncovered_demand", "rule": p.rule, "unit_code": p.unit_code,
                "people": p.people, "marker-color": "#d43d2f",
            },
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
        }));
    }
    json!({"type": "FeatureCollection", "features": features})
}

pub fn write_geojson(report: &Report, ds: &Dataset, path: &Path) -> Result<()> {
    let text = serde_json::to_string(&to_geojson(report, ds)).expect("serialisable");
    write_atomic(path, text.as_bytes())
}

fn csv_bytes(rows: Vec<Vec<String>>, path: &Path) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r)
            .map_err(|e| Error::format(path, e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| Error::format(path, e.to_string()))
}

fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{}", (v * 1000.0).round() / 1000.0))
        .unwrap_or_default()
}

/// `units.csv` (one row per unit, a pass/deficit column pair per rule), `rules.csv` and
/// `uncovered_demand.csv` in `dir`. UTF-8 with BOM so Excel on Chinese Windows opens it.
pub fn write_csv_dir(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let rule_ids: Vec<&str> = report.rules.iter().map(|r| r.id.as_str()).collect();
    let mut head: Vec<String> = [
        "code",
        "name",
        "level",
        "parent_code",
        "population",
        "pop_60plus",
        "pop_0_3",
        "nursery_places",
        "nursery_places_per_1000",
        "nursery_2sfca_per_1000",
        "status",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for id in &rule_ids {
        head.push(format!("{id}.pass"));
        head.push(format!("{id}.deficit"));
    }
    let mut rows = vec![head];
    for u in &report.units {
        let mut r = vec![
            u.code.clone(),
            u.name.clone(),
            u.level.key().into(),
            u.parent_code.clone().unwrap_or_default(),
            opt(u.population),
            opt(u.pop_60plus),
            opt(u.pop_0_3),
            opt(Some(u.nursery_places)),
            opt(u.nursery_places_per_1000),
            opt(u.nursery_2sfca_per_1000),
            unit_status(u).into(),
        ];
        for id in &rule_ids {
            match u.rules.get(*id) {
                Some(s) => {
                    r.push(s.pass.map(|p| p.to_string()).unwrap_or_default());
                    r.push(opt(s.deficit));
                }
                None => {
                    r.push(String::new());
                    r.push(String::new());
                }
            }
        }
        rows.push(r);
    }
    let mut rrows = vec![[
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
        "clause_source",
        "clause_section",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for r in &report.rules {
        rrows.push(vec![
            r.id.clone(),
            r.title.clone(),
            r.test.into(),
            r.level.clone(),
            r.kinds.join(";"),
            r.target.to_string(),
            opt(r.achieved),
            r.units_total.to_string(),
            r.units_meeting.to_string(),
            r.pass.map(|p| p.to_string()).unwrap_or_default(),
            opt(r.distance_m),
            r.clause.source.clone(),
            r.clause.section.clone(),
        ]);
    }
    let mut urows = vec![vec![
        "rule".to_string(),
        "lon".into(),
        "lat".into(),
        "unit_code".into(),
        "people".into(),
    ]];
    for p in &report.uncovered {
        urows.push(vec![
            p.rule.clone(),
            format!("{:.6}", p.lon),
            format!("{:.6}", p.lat),
            p.unit_code.clone(),
            opt(Some(p.people)),
        ]);
    }
    for (name, rows) in [
        ("units.csv", rows),
        ("rules.csv", rrows),
        ("uncovered_demand.csv", urows),
    ] {
        let path = dir.join(name);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(csv_bytes(rows, &path)?);
        write_atomic(&path, &bytes)?;
    }
    Ok(())
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The readable report the CLI prints: rules with verdicts and clauses, the worst units, the
/// summary and what was skipped. Chinese unless `english`.
pub fn to_text(report: &Report, english: bool, max_units: usize) -> String {
    let t = |zh: &'static str, en: &'static str| if english { en } else { zh };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} {} · {} {} · {} {}",
        t("数据集", "Dataset"),
        report.dataset,
        t("规则", "Rules"),
        report.preset,
        t("距离", "Mode"),
        match (report.mode, english) {
            ("euclidean", false) => "直线距离",
            ("network", false) => "步行路网",
            (m, _) => m,
        }
    );
    let _ = writeln!(
        s,
        "{} {} {}: {} · {} {:.0} · 60+ {:.0} · 0-3 {:.0}",
        t("需求点", "Demand points"),
        report.demand.points,
        t("个", ""),
        report
            .demand
            .by_source
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect::<Vec<_>>()
            .join(", "),
        t("人口", "people"),
        report.demand.population,
        report.demand.pop_60plus,
        report.demand.pop_0_3
    );
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<4} {} {:>12} {:>10} {:>10} {:>9}",
        "",
        truncate(t("规则", "Rule"), 44),
        t("达标单元", "Units met"),
        t("实际", "Achieved"),
        t("目标", "Target"),
        t("结论", "Result")
    );
    for r in &report.rules {
        let verdict = match r.pass {
            Some(true) => t("达标", "PASS"),
            Some(false) => t("未达标", "FAIL"),
            None => t("无法评估", "n/a"),
        };
        let fmt_v = |v: f64| {
            if r.test == "places_per_1000" {
                format!("{v:.2}{}", t("/千人", "/1000"))
            } else {
                pct(v)
            }
        };
        let target = if r.test == "presence" {
            format!("≥{}", r.target)
        } else {
            fmt_v(r.target)
        };
        let title = if english { &r.title_en } else { &r.title };
        let _ = writeln!(
            s,
            "{:<4} {} {:>12} {:>10} {:>10} {:>9}",
            match r.pass {
                Some(true) => "✔",
                Some(false) => "✘",
                None => "·",
            },
            truncate(title, 44),
            format!("{}/{}", r.units_meeting, r.units_total),
            r.achieved.map(fmt_v).unwrap_or("-".into()),
            target,
            verdict
        );
        if let Some(d) = &r.distance {
            let _ = writeln!(s, "     {}: {}", t("距离", "distance"), d);
        }
        if let (Some(c), Some(a)) = (r.people_covered, r.people_total) {
            let _ = writeln!(
                s,
                "     {}: {:.0} / {:.0}",
                t("可达人数", "people within reach"),
                c,
                a
            );
        }
        if let Some(o) = r.people_overclaimed {
            let _ = writeln!(
                s,
                "     {}: {:.0}",
                t(
                    "直线距离多算的人数（直线距离内、步行不可达）",
                    "over-claimed by a straight-line circle (inside the distance, beyond the walk)"
                ),
                o
            );
        }
        let _ = writeln!(
            s,
            "     {}: {} {}",
            t("依据", "clause"),
            r.clause.source,
            r.clause.section
        );
        for n in &r.notes {
            let _ = writeln!(s, "     ! {n}");
        }
    }
    let _ = writeln!(s);
    let sm = &report.summary;
    if let (Some(c), Some(d)) = (sm.elderly_covered_share, sm.elderly_distance_m) {
        let _ = writeln!(
            s,
            "{} {:.0} m {}: {}",
            t("60岁以上老人在", "People 60+ within"),
            d,
            t("内的比例", ""),
            pct(c)
        );
    }
    if let Some(p) = sm.nursery_places_per_1000 {
        let _ = writeln!(
            s,
            "{}: {:.0} {} / {:.0} {} = {:.2}{}{}",
            t("每千人托位", "Nursery places per 1000"),
            sm.nursery_places,
            t("托位", "places"),
            sm.population.unwrap_or(0.0),
            t("人", "people"),
            p,
            t("/千人", " per 1000"),
            sm.nursery_places_short
                .map(|x| format!(" · {} {:.0}", t("缺口", "short by"), x))
                .unwrap_or_default()
        );
        if sm.nursery_places_estimated > 0.0 {
            let _ = writeln!(
                s,
                "  {} {:.0} {}",
                t("其中", "of which"),
                sm.nursery_places_estimated,
                t(
                    "托位为估计值（数据无容量）",
                    "places are estimates (no capacity in the data)"
                )
            );
        }
    }
    if sm.synthetic_facilities > 0 {
        let _ = writeln!(
            s,
            "{} {} {}",
            t("注意：", "Note:"),
            sm.synthetic_facilities,
            t(
                "处设施为模拟数据，不是真实设施",
                "facilities are SYNTHETIC, not real"
            )
        );
    }
    // Worst units: failing units with the largest deficits per rule.
    let _ = writeln!(s);
    let _ = writeln!(s, "{}", t("差距最大的单元：", "Largest gaps:"));
    for r in &report.rules {
        let mut fails: Vec<(&UnitResult, f64)> = report
            .units
            .iter()
            .filter_map(|u| {
                let st = u.rules.get(&r.id)?;
                (st.pass == Some(false)).then_some((u, st.deficit.unwrap_or(0.0)))
            })
            .collect();
        if fails.is_empty() {
            continue;
        }
        fails.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.code.cmp(&b.0.code)));
        let unit_word = match r.test {
            "presence" | "presence_share" => t("缺设施", "missing"),
            "places_per_1000" => t("缺托位", "places short"),
            "public_benefit_share" => t("缺普惠托位", "public places short"),
            _ => t("未覆盖人数", "people out of reach"),
        };
        let _ = writeln!(
            s,
            "  {} ({} {}):",
            if english { &r.title_en } else { &r.title },
            fails.len(),
            t("个单元未达标", "units fail")
        );
        for (u, d) in fails.iter().take(max_units) {
            let _ = writeln!(
                s,
                "    {:<14} {:<16} {} {:.0}",
                u.code, u.name, unit_word, d
            );
        }
        if fails.len() > max_units {
            let _ = writeln!(s, "    … {}", fails.len() - max_units);
        }
    }
    if !report.skipped.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{} ({}):",
            t("跳过与假设", "Skipped and assumed"),
            report.skipped.len()
        );
        for k in report.skipped.iter().take(20) {
            let _ = writeln!(s, "  - {k}");
        }
        if report.skipped.len() > 20 {
            let _ = writeln!(
                s,
                "  … {} {}",
                report.skipped.len() - 20,
                t("条（见 JSON）", "more (see JSON)")
            );
        }
    }
    s
}

fn truncate(s: &str, n: usize) -> String {
    // Approximate display width: CJK characters take two columns.
    let mut w = 0;
    let mut out = String::new();
    for c in s.chars() {
        let cw = if c as u32 > 0x2E80 { 2 } else { 1 };
        if w + cw > n {
            out.push('…');
            break;
        }
        w += cw;
        out.push(c);
    }
    let pad = n.saturating_sub(w);
    out.extend(std::iter::repeat_n(
        ' ',
        pad.saturating_sub(if out.ends_with('…') { 1 } else { 0 }),
    ));
    out
}

/// Gaps table as CSV (UTF-8 with BOM): one row per failing unit × rule.
pub fn gaps_csv(report: &Report, english: bool) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record([
        "unit_code",
        "unit_name",
        "level",
        "rule",
        "rule_title",
        "value",
        "target",
        "deficit",
        "clause",
    ]);
    for u in &report.units {
        for (id, st) in &u.rules {
            if st.pass != Some(false) {
                continue;
            }
            let Some(r) = report.rules.iter().find(|r| &r.id == id) else {
                continue;
            };
            let _ = w.write_record([
                u.code.clone(),
                u.name.clone(),
                u.level.key().to_owned(),
                id.clone(),
                if english {
                    r.title_en.clone()
                } else {
                    r.title.clone()
                },
                st.value.map(|v| format!("{v:.4}")).unwrap_or_default(),
                format!("{}", r.target),
                st.deficit.map(|v| format!("{v:.1}")).unwrap_or_default(),
                format!("{} {}", r.clause.source, r.clause.section)
                    .trim()
                    .to_owned(),
            ]);
        }
    }
    let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    format!("\u{feff}{body}")
}
