//! Exports of a coverage [`Report`]: JSON (read by other tools — key names are a contract),
//! GeoJSON (units coloured by status, uncovered demand, for any GIS), CSV tables, and the
//! readable table the CLI prints. All files are written atomically.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::coverage::analysis::{thousands, Report, RuleResult, Status, UnitResult};
use crate::io::geojson::geometry_value;
use crate::io::write::{write_atomic, write_atomic_with};
use crate::model::Dataset;
use crate::{Error, Result};

pub mod geoparquet;
pub mod map;
pub mod pdf;
pub mod proposals;
pub mod scenarios;
mod tables;
mod text;
pub mod uncovered;
pub mod xlsx;
pub use tables::*;
pub use text::*;
pub use uncovered::{aggregate, Aggregates, UncoveredExport};

/// The report as JSON: `rules`, `units`, `summary` (the contract), plus `preset`, `mode`,
/// `demand`, `uncovered`, `skipped` and `equity`.
pub fn to_json(report: &Report, ds: &Dataset) -> Value {
    let mut v = to_json_head(report);
    let rows: Vec<_> = report
        .uncovered
        .iter()
        .map(|p| p.row(&ds.projection))
        .collect();
    v["uncovered"] = serde_json::to_value(rows).expect("plain data");
    v
}

/// Everything of [`to_json`] but the uncovered points.
fn to_json_head(report: &Report) -> Value {
    let mut head = to_json_head_but_units(report);
    let units: Vec<Value> = report.units.iter().map(unit_json).collect();
    head.insert("units".into(), Value::Array(units));
    Value::Object(head)
}

/// [`to_json_head`] without `units` (a province's are tens of MB as values: the stream
/// writes them one by one).
fn to_json_head_but_units(report: &Report) -> Map<String, Value> {
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
    let head = json!({
        "dataset": report.dataset,
        "preset": report.preset,
        "preset_title": report.preset_title,
        "preset_citation": report.preset_citation,
        "year": report.year,
        "mode": report.mode,
        "statuses_counted": report.statuses_counted,
        "rules": rules,
        "summary": report.summary,
        "demand": report.demand,
        "skipped": report.skipped,
        "not_checked": report.not_checked.iter().map(|n| json!({
            "id": n.id, "title": n.title_zh, "title_en": n.title_en,
            "citation": n.citation, "cite": n.citation.cite(), "reason": n.reason,
        })).collect::<Vec<_>>(),
        "planned_year_unknown": report.planned_year_unknown,
        // Per rule id (and `nursery_2sfca`): Gini, Lorenz curve, Palma ratio, worst decile.
        "equity": report.equity.iter().map(|e| {
            (e.rule.clone(), serde_json::to_value(e).expect("plain data"))
        }).collect::<Map<String, Value>>(),
    });
    let Value::Object(head) = head else {
        unreachable!("the report is an object")
    };
    head
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

/// [`to_json`] written to `path` as a stream (no whole-document value: a province's
/// report is hundreds of MB as one), with the uncovered demand aggregated per unit
/// (`uncovered_by_unit`) and on a grid (`uncovered_grid`), and every point (`uncovered`)
/// only when `how.points` — `uncovered_listed` says which, so a missing list is never read
/// as "nothing uncovered". Every other key is [`to_json`]'s, with the same values.
pub fn write_json(report: &Report, ds: &Dataset, path: &Path, how: &UncoveredExport) -> Result<()> {
    let agg = aggregate(report, ds, how.cell_m);
    write_json_with(report, &agg, path, how)
}

/// [`write_json`] with the aggregates already made (the CLI prints their warnings too).
pub fn write_json_with(
    report: &Report,
    agg: &Aggregates,
    path: &Path,
    how: &UncoveredExport,
) -> Result<()> {
    let mut head = to_json_head_but_units(report);
    head.insert("uncovered_listed".into(), Value::Bool(how.points));
    // `units` and `uncovered_by_unit` (tens of MB as values at province scale) are
    // written item by item, each at its place in the keys' order.
    const ITEMISED: [&str; 2] = ["units", "uncovered_by_unit"];
    let mut keys: Vec<String> = head.keys().cloned().collect();
    keys.extend(ITEMISED.map(String::from));
    keys.sort();
    write_atomic_with(path, &mut |w| {
        // The short keys as values, the lists among them item by item; the two long lists
        // after them, one item a line.
        w.write_all(b"{")?;
        for k in &keys {
            write!(w, "\n  {}: ", Value::from(k.as_str()))?;
            match (k.as_str(), head.get_mut(k)) {
                ("units", None) => compact_array(w, report.units.iter().map(unit_json))?,
                ("uncovered_by_unit", None) => compact_array(
                    w,
                    agg.by_unit
                        .iter()
                        .map(|g| serde_json::to_value(g).expect("plain data")),
                )?,
                (_, Some(v)) => {
                    no_negative_zero(v);
                    serde_json::to_writer(&mut *w, v)?;
                }
                (_, None) => unreachable!("every key is the head's or itemised"),
            }
            w.write_all(b",")?;
        }
        write!(
            w,
            "\n  \"uncovered_grid\": {{\"cell_m\": {}, \"warnings\": ",
            Value::from(agg.cell_m)
        )?;
        serde_json::to_writer(&mut *w, &agg.warnings)?;
        w.write_all(b", \"cells\": ")?;
        stream_array(w, &agg.cells)?;
        w.write_all(b"}")?;
        if how.points {
            w.write_all(b",\n  \"uncovered\": ")?;
            stream_array(w, report.uncovered.iter().map(|p| p.row(&agg.projection)))?;
        }
        w.write_all(b"\n}\n")
    })
}

/// A JSON array of values written item by item, as `serde_json` writes a whole array
/// (no spaces or line breaks), each with [`no_negative_zero`] applied.
fn compact_array(
    w: &mut dyn std::io::Write,
    items: impl IntoIterator<Item = Value>,
) -> std::io::Result<()> {
    w.write_all(b"[")?;
    for (j, mut item) in items.into_iter().enumerate() {
        if j > 0 {
            w.write_all(b",")?;
        }
        no_negative_zero(&mut item);
        serde_json::to_writer(&mut *w, &item)?;
    }
    w.write_all(b"]")
}

/// A JSON array written item by item, one per line.
fn stream_array<T: serde::Serialize>(
    w: &mut dyn std::io::Write,
    items: impl IntoIterator<Item = T>,
) -> std::io::Result<()> {
    w.write_all(b"[")?;
    for (j, item) in items.into_iter().enumerate() {
        w.write_all(if j == 0 { b"\n    " } else { b",\n    " })?;
        serde_json::to_writer(&mut *w, &item)?;
    }
    w.write_all(b"\n  ]")
}

/// Turns every `-0.0` into `0` (arithmetic on empty or cancelling sums yields it, and a
/// reader sees "minus zero people").
pub fn no_negative_zero(v: &mut Value) {
    match v {
        Value::Number(n) if n.as_f64().is_some_and(|x| x == 0.0 && x.is_sign_negative()) => {
            *v = Value::from(0.0);
        }
        Value::Array(a) => a.iter_mut().for_each(no_negative_zero),
        Value::Object(o) => o.values_mut().for_each(no_negative_zero),
        _ => {}
    }
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
