//! Exports of a coverage [`Report`]: JSON (read by other tools — key names are a contract),
//! GeoJSON (units coloured by status, uncovered demand, for any GIS), CSV tables, and the
//! readable table the CLI prints. All files are written atomically.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::coverage::analysis::{thousands, Report, RuleResult, Status, UnitResult};
use crate::io::geojson::{geometry_value, write_atomic};
use crate::model::Dataset;
use crate::{Error, Result};

pub mod map;
pub mod proposals;

/// The report as JSON: `rules`, `units`, `summary` (the contract), plus `preset`, `mode`,
/// `demand`, `uncovered` and `skipped`.
pub fn to_json(report: &Report) -> Value {
    let rules: Vec<Value> = report
        .rules
        .iter()
        .map(|r| {
            json!({
                "id": r.id, "title": r.title, "title_en": r.title_en, "test": r.test,
                "scope": r.scope, "status": r.status, "value": r.value,
                "range": r.range.map(|(lo, hi)| json!([lo, hi])),
                "level": r.level, "kinds": r.kinds, "qualifiers": r.qualifiers,
                "target": r.target, "target_user_set": r.target_user_set,
                "achieved": r.achieved,
                "units_total": r.units_total, "units_meeting": r.units_meeting,
                "units_unknown": r.units_unknown, "pass": r.status == Status::Pass,
                "deadline": r.deadline, "due": r.due, "area": r.area,
                "base": r.base, "base_population": r.base_population,
                "amount": r.amount, "amount_upper": r.amount_upper,
                "explain": r.explain_en, "explain_zh": r.explain_zh,
                "distance_m": r.distance_m, "distance": r.distance, "group": r.group,
                "people_covered": r.people_covered, "people_total": r.people_total,
                "people_overclaimed": r.people_overclaimed,
                "citation": r.citation, "cite": r.citation.cite(),
                "convention": r.convention, "binding": r.binding, "notes": r.notes,
            })
        })
        .collect();
    let units: Vec<Value> = report.units.iter().map(unit_json).collect();
    json!({
        "dataset": report.dataset,
        "preset": report.preset,
        "preset_title": report.preset_title,
        "preset_citation": report.preset_citation,
        "year": report.year,
        "mode": report.mode,
        "statuses_counted": report.statuses_counted,
        "rules": rules,
        "units": units,
        "summary": report.summary,
        "demand": report.demand,
        "uncovered": report.uncovered,
        "skipped": report.skipped,
        "not_checked": report.not_checked.iter().map(|n| json!({
            "id": n.id, "title": n.title_zh, "title_en": n.title_en,
            "citation": n.citation, "cite": n.citation.cite(), "reason": n.reason,
        })).collect::<Vec<_>>(),
        "planned_year_unknown": report.planned_year_unknown,
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

/// Overall status of a unit: "fail" if any rule fails there, else "unknown" if any is
/// unknown, "pass" if all judged rules pass, "not_evaluated" if none applies. No data is
/// never "fail".
pub fn unit_status(u: &UnitResult) -> &'static str {
    let st: Vec<Status> = u.rules.values().map(|s| s.status).collect();
    if st.contains(&Status::Fail) {
        "fail"
    } else if st.contains(&Status::Unknown) {
        "unknown"
    } else if st.contains(&Status::Pass) {
        "pass"
    } else {
        "not_evaluated"
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
                "unknown" => "#c9b458",
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
            props.insert(format!("{id}.status"), json!(s.status));
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
        head.push(format!("{id}.status"));
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
                    r.push(s.status.key().into());
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
        "scope",
        "level",
        "kinds",
        "qualifiers",
        "target",
        "value",
        "value_upper",
        "status",
        "deadline",
        "units_total",
        "units_meeting",
        "units_unknown",
        "distance_m",
        "citation",
        "quote",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect::<Vec<_>>()];
    for r in &report.rules {
        rrows.push(vec![
            r.id.clone(),
            r.title.clone(),
            r.test.into(),
            r.scope.key().into(),
            r.level.clone(),
            r.kinds.join(";"),
            r.qualifiers.join(";"),
            r.target.to_string(),
            opt(r.value),
            opt(r.range.and_then(|x| x.1)),
            r.status.key().into(),
            r.deadline.map(|d| d.to_string()).unwrap_or_default(),
            r.units_total.to_string(),
            r.units_meeting.to_string(),
            r.units_unknown.to_string(),
            opt(r.distance_m),
            r.citation.cite(),
            r.citation.quote.clone(),
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

/// A rule's value as a reader expects it: "4.52/千人", "62.0%", "5,200".
fn value_text(r: &RuleResult, v: f64, english: bool) -> String {
    match r.test {
        "places_per_1000" | "beds_per_1000" => {
            format!("{v:.2}{}", if english { "/1000" } else { "/千人" })
        }
        "capacity_total" | "count" => thousands(v),
        _ => pct(v),
    }
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
    if let Some(y) = report.year {
        let _ = writeln!(
            s,
            "{} {y}{}",
            t("情景年份", "Scenario year"),
            t(
                "：现有设施加上该年及以前完成的规划项目",
                ": existing facilities plus planned projects completed by then"
            )
        );
    }
    let _ = writeln!(s, "{} {}", t("规划依据", "Plan"), report.preset_citation);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "{:<4} {} {:>10} {:>16} {:>12} {:>6} {:>9}",
        "",
        truncate(t("规则", "Rule"), 44),
        t("范围", "Scope"),
        t("实际", "Value"),
        t("目标", "Target"),
        t("期限", "Due"),
        t("结论", "Result")
    );
    for r in &report.rules {
        let verdict = if english {
            r.status.en()
        } else {
            r.status.zh()
        };
        let fmt_v = |v: f64| value_text(r, v, english);
        let target = match r.test {
            "presence" if r.scope == crate::coverage::rules::Scope::PerUnit => {
                format!("≥{} {}", r.target, t("每单元", "each"))
            }
            _ => fmt_v(r.target),
        };
        let value = match (r.value, r.range) {
            (Some(v), Some((_, Some(h)))) if (h - v).abs() > 1e-9 => {
                format!("{}–{}", fmt_v(v), fmt_v(h))
            }
            (Some(v), Some((_, None))) => format!("≥{}", fmt_v(v)),
            (Some(v), _) => fmt_v(v),
            (None, _) => "-".into(),
        };
        let title = if english { &r.title_en } else { &r.title };
        let _ = writeln!(
            s,
            "{:<4} {} {:>10} {:>16} {:>12} {:>6} {:>9}",
            match r.status {
                Status::Pass => "✔",
                Status::Fail => "✘",
                Status::Unknown => "?",
                Status::NotEvaluable => "·",
            },
            truncate(title, 44),
            if english { r.scope.en() } else { r.scope.zh() },
            value,
            format!(
                "{target}{}",
                if r.target_user_set {
                    t("（用户设定）", " (user)")
                } else {
                    ""
                }
            ),
            r.deadline.map(|d| d.to_string()).unwrap_or("-".into()),
            verdict
        );
        if let Some(due) = r.due {
            if !due {
                let _ = writeln!(
                    s,
                    "     {}",
                    t(
                        "该目标期限晚于情景年份，尚未到期",
                        "not yet due in the scenario year"
                    )
                );
            }
        }
        if matches!(
            r.scope,
            crate::coverage::rules::Scope::PerUnit | crate::coverage::rules::Scope::Share
        ) && r.units_total > 0
        {
            let _ = writeln!(
                s,
                "     {}: {}/{}{}",
                t("达标单元", "units passing"),
                r.units_meeting,
                r.units_total,
                if r.units_unknown > 0 {
                    format!(" · {} {}", r.units_unknown, t("个未知", "unknown"))
                } else {
                    String::new()
                }
            );
        }
        if !r.qualifiers.is_empty() {
            let _ = writeln!(
                s,
                "     {}: {}",
                t("限定", "qualified"),
                r.qualifiers
                    .iter()
                    .filter_map(|q| crate::model::Qualifier::parse(q))
                    .map(|q| if english { q.en() } else { q.zh() })
                    .collect::<Vec<_>>()
                    .join(if english { ", " } else { "、" })
            );
        }
        if let (Some(amount), true) = (r.amount, r.base.is_some() || r.test == "capacity_total") {
            let unit_word = if r.kinds.iter().all(|k| *k == "nursery") {
                t("托位", "places")
            } else {
                t("张床位", "beds")
            };
            let _ = writeln!(
                s,
                "     {}: {} {}{}",
                t("合计", "total"),
                thousands(amount),
                unit_word,
                match r.amount_upper {
                    Some(h) if (h - amount).abs() > 1e-9 => format!(" – {}", thousands(h)),
                    Some(_) => String::new(),
                    None => t("（下限：另有未知部分）", " (lower bound: more unknown)").into(),
                }
            );
        }
        if let Some(b) = &r.base {
            let _ = writeln!(s, "     {}: {}", t("人口基数", "population base"), b);
        }
        if let Some(a) = &r.area {
            let _ = writeln!(s, "     {}: {}", t("范围", "area"), a);
        }
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
        let explain = if english {
            &r.explain_en
        } else {
            &r.explain_zh
        };
        if let Some(e) = explain {
            let _ = writeln!(s, "     {}: {}", t("说明", "why"), e);
        }
        let _ = writeln!(
            s,
            "     {}: {}{}",
            t("依据", "clause"),
            r.citation.cite(),
            if r.convention {
                t(
                    "（规划惯例，非规划目标）",
                    " (planning convention, not a plan target)",
                )
            } else {
                ""
            }
        );
        for n in &r.notes {
            let _ = writeln!(s, "     ! {n}");
        }
    }
    if !report.not_checked.is_empty() {
        let _ = writeln!(s);
        let _ = writeln!(s, "{}", t("未检查的目标：", "Not checked:"));
        for n in &report.not_checked {
            let _ = writeln!(
                s,
                "  · {} — {} ({})",
                if english { &n.title_en } else { &n.title_zh },
                n.citation.cite(),
                n.reason
            );
        }
    }
    if !report.planned_year_unknown.is_empty() {
        let _ = writeln!(
            s,
            "{} {}: {}",
            report.planned_year_unknown.len(),
            t(
                "个规划项目无年份（已计入，年份未知）",
                "planned projects have no year (counted, year unknown)"
            ),
            report.planned_year_unknown.join("; ")
        );
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
            if sm.nursery_places_lower_bound {
                t(
                    "（下限：现有托位不全在数据中）",
                    " (a floor: existing places are not all in the data)",
                )
                .to_owned()
            } else {
                sm.nursery_places_short
                    .map(|x| format!(" · {} {:.0}", t("缺口", "short by"), x))
                    .unwrap_or_default()
            }
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
            "presence" | "presence_share" | "count" => t("缺设施", "missing"),
            "places_per_1000" => t("缺托位", "places short"),
            "beds_per_1000" => t("缺床位", "beds short"),
            "qualified_share" => t("缺合格容量", "qualified capacity short"),
            "nursing_bed_share" => t("缺护理型床位", "nursing beds short"),
            _ => t("未覆盖人数", "people out of reach"),
        };
        let diagnostic = matches!(
            r.scope,
            crate::coverage::rules::Scope::Aggregate | crate::coverage::rules::Scope::Count
        ) && r.test != "population_within";
        let _ = writeln!(
            s,
            "  {} ({} {}{}):",
            if english { &r.title_en } else { &r.title },
            fails.len(),
            t("个单元低于目标", "units below target"),
            if diagnostic {
                t(
                    "；诊断：缺口所在，不是结论",
                    "; diagnostic: where the shortfall sits, not the verdict",
                )
            } else {
                ""
            }
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
        "citation",
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
                r.citation.cite(),
            ]);
        }
    }
    let body = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
    format!("\u{feff}{body}")
}
