//! The report for other tools: GeoJSON (units with status and fill, uncovered demand),
//! CSV tables (units, rules, uncovered demand; gaps), UTF-8 with BOM for Excel.

use std::collections::HashMap;

use super::*;

/// The report as GeoJSON features, one at a time: every unit with a shape (properties:
/// code, name, level, status, `fill` colour per the simplestyle convention, each rule's
/// pass, deficit and uncovered people), the uncovered demand per grid cell
/// (`feature_type = "uncovered_cell"`, polygons) and, when `how.points`, every uncovered
/// demand point (`feature_type = "uncovered_demand"`). WGS84 lon/lat.
pub fn geojson_features(
    report: &Report,
    ds: &Dataset,
    agg: &Aggregates,
    how: &UncoveredExport,
    emit: &mut dyn FnMut(Value) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let gaps = gaps_of(agg);
    for u in &report.units {
        if let Some(f) = unit_feature(ds, &gaps, u) {
            emit(f)?;
        }
    }
    other_features(report, ds, agg, how, emit)
}

/// Uncovered points and people per (unit code, rule).
fn gaps_of(agg: &Aggregates) -> HashMap<(&str, &str), (u32, f64)> {
    agg.by_unit
        .iter()
        .map(|g| ((&*g.unit_code, &*g.rule), (g.points, g.people)))
        .collect()
}

/// A unit with a shape as a GeoJSON feature (WGS84): its source attributes, then ours.
fn unit_feature(
    ds: &Dataset,
    gaps: &HashMap<(&str, &str), (u32, f64)>,
    u: &crate::coverage::analysis::UnitResult,
) -> Option<Value> {
    let g = ds.unit(u.id).geometry.as_ref()?;
    let to_wgs = |g: &geo::MultiPolygon<f64>| {
        use geo::MapCoords;
        g.map_coords(|c| {
            let (lon, lat) = ds.projection.inverse(c.x, c.y);
            geo::Coord { x: lon, y: lat }
        })
    };
    let status = unit_status(u);
    // The source's own attributes first (unknown columns kept), ours over them.
    let mut props = ds.unit(u.id).attributes.clone();
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
        if let Some((n, people)) = gaps.get(&(u.code.as_str(), id.as_str())) {
            props.insert(format!("{id}.uncovered_points"), json!(n));
            props.insert(format!("{id}.uncovered_people"), json!(people));
        }
    }
    Some(json!({
        "type": "Feature",
        "properties": props,
        "geometry": geometry_value(&geo::Geometry::MultiPolygon(to_wgs(g))),
    }))
}

/// The uncovered-demand features: grid cells, then (with `how.points`) every point.
fn other_features(
    report: &Report,
    ds: &Dataset,
    agg: &Aggregates,
    how: &UncoveredExport,
    emit: &mut dyn FnMut(Value) -> std::io::Result<()>,
) -> std::io::Result<()> {
    for c in &agg.cells {
        emit(json!({
            "type": "Feature",
            "properties": {
                "feature_type": "uncovered_cell", "rule": c.rule, "ix": c.ix, "iy": c.iy,
                "cell_m": agg.cell_m, "points": c.points, "people": c.people,
                "fill": "#d43d2f",
            },
            "geometry": {"type": "Polygon", "coordinates": [agg.ring(ds, c)]},
        }))?;
    }
    if how.points {
        for p in &report.uncovered {
            let (lon, lat) = p.lon_lat(&ds.projection);
            emit(json!({
                "type": "Feature",
                "properties": {
                    "feature_type": "uncovered_demand", "rule": p.rule, "demand_id": p.source_id,
                    "unit_code": p.unit_code,
                    "people": p.people, "marker-color": "#d43d2f",
                },
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }))?;
        }
    }
    Ok(())
}

/// Units serialised together before writing (see [`write_geojson_with`]): a few MB.
const UNIT_WINDOW: usize = 1024;

/// The report's features written to `path`, streamed (see [`geojson_features`]); a
/// `.gpkg` path gets a GeoPackage with a table per feature type (`unit`,
/// `uncovered_cell`, `uncovered_demand`).
pub fn write_geojson(
    report: &Report,
    ds: &Dataset,
    path: &Path,
    how: &UncoveredExport,
) -> Result<()> {
    let agg = aggregate(report, ds, how.cell_m);
    write_geojson_with(report, ds, &agg, path, how)
}

/// [`write_geojson`] with the aggregates already made.
pub fn write_geojson_with(
    report: &Report,
    ds: &Dataset,
    agg: &Aggregates,
    path: &Path,
    how: &UncoveredExport,
) -> Result<()> {
    if crate::io::gpkg::is_gpkg(path) {
        let mut features = Vec::new();
        geojson_features(report, ds, agg, how, &mut |f| {
            features.push(f);
            Ok(())
        })
        .map_err(|e| Error::io(path, e))?;
        return crate::io::gpkg::write_collection(path, &features);
    }
    crate::io::write::write_atomic_with(path, &mut |w| {
        w.write_all(b"{\"type\": \"FeatureCollection\", \"features\": [")?;
        let mut first = true;
        // Units (most of the bytes: a province's polygons) made and serialised on every
        // core, a window at a time so the writer holds a window, not the file; written in
        // order, the same bytes as one at a time.
        let gaps = gaps_of(agg);
        for window in report.units.chunks(UNIT_WINDOW) {
            use rayon::prelude::*;
            let parts: Vec<Option<Vec<u8>>> = window
                .par_iter()
                .map(|u| {
                    unit_feature(ds, &gaps, u)
                        .map(|f| serde_json::to_vec(&f))
                        .transpose()
                })
                .collect::<std::result::Result<_, _>>()?;
            for bytes in parts.into_iter().flatten() {
                w.write_all(if first { b"\n" } else { b",\n" })?;
                first = false;
                w.write_all(&bytes)?;
            }
        }
        other_features(report, ds, agg, how, &mut |f| {
            w.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut *w, &f)?;
            Ok(())
        })?;
        w.write_all(b"\n]}\n")
    })
}

pub(super) fn csv_bytes(rows: Vec<Vec<String>>, path: &Path) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(&r)
            .map_err(|e| Error::format(path, e.to_string()))?;
    }
    w.into_inner()
        .map_err(|e| Error::format(path, e.to_string()))
}

pub(super) fn opt(x: Option<f64>) -> String {
    x.map(|v| format!("{}", (v * 1000.0).round() / 1000.0))
        .unwrap_or_default()
}

/// The files [`write_csv_dir`] writes into its folder: always the first four,
/// `uncovered_demand.csv` (every point) only when `how.points`.
pub const CSV_FILES: [&str; 5] = [
    "units.csv",
    "rules.csv",
    "uncovered_by_unit.csv",
    "uncovered_grid.csv",
    "uncovered_demand.csv",
];

/// `units.csv` (one row per unit, a pass/deficit column pair per rule), `rules.csv`, the
/// uncovered demand per unit and per grid cell, and — when `how.points` — every uncovered
/// point, in `dir`. UTF-8 with BOM so Excel on Chinese Windows opens it.
pub fn write_csv_dir(
    report: &Report,
    ds: &Dataset,
    dir: &Path,
    how: &UncoveredExport,
) -> Result<()> {
    let agg = aggregate(report, ds, how.cell_m);
    write_csv_dir_with(report, &agg, dir, how)
}

/// [`write_csv_dir`] with the aggregates already made.
pub fn write_csv_dir_with(
    report: &Report,
    agg: &Aggregates,
    dir: &Path,
    how: &UncoveredExport,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tables = [
        unit_rows(report),
        rule_rows(report),
        by_unit_rows(agg),
        grid_rows(agg),
    ];
    for (name, rows) in CSV_FILES.into_iter().zip(tables) {
        let path = dir.join(name);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(csv_bytes(rows, &path)?);
        write_atomic(&path, &bytes)?;
    }
    if how.points {
        let path = dir.join(CSV_FILES[4]);
        crate::io::write::write_atomic_with(&path, &mut |w| {
            w.write_all(b"\xEF\xBB\xBF")?;
            let mut c = csv::Writer::from_writer(w);
            c.write_record(["rule", "demand_id", "lon", "lat", "unit_code", "people"])?;
            for p in &report.uncovered {
                let (lon, lat) = p.lon_lat(&agg.projection);
                c.write_record([
                    &*p.rule,
                    p.source_id.as_deref().unwrap_or_default(),
                    &format!("{lon:.6}"),
                    &format!("{lat:.6}"),
                    &*p.unit_code,
                    &opt(Some(p.people)),
                ])?;
            }
            c.flush()
        })?;
    }
    Ok(())
}

fn by_unit_rows(agg: &Aggregates) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "rule",
        "unit_code",
        "unit_name",
        "level",
        "points",
        "people",
    ]
    .map(String::from)
    .to_vec()];
    for g in &agg.by_unit {
        rows.push(vec![
            g.rule.to_string(),
            g.unit_code.to_string(),
            g.unit_name.clone(),
            g.level.clone(),
            g.points.to_string(),
            opt(Some(g.people)),
        ]);
    }
    rows
}

fn grid_rows(agg: &Aggregates) -> Vec<Vec<String>> {
    let mut rows = vec![[
        "rule", "ix", "iy", "cell_m", "lon", "lat", "points", "people",
    ]
    .map(String::from)
    .to_vec()];
    for c in &agg.cells {
        rows.push(vec![
            c.rule.to_string(),
            c.ix.to_string(),
            c.iy.to_string(),
            agg.cell_m.to_string(),
            format!("{:.6}", c.lon),
            format!("{:.6}", c.lat),
            c.points.to_string(),
            opt(Some(c.people)),
        ]);
    }
    rows
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
                r.title_in(english).to_owned(),
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

/// `units.csv`: one row per unit, a status/deficit column pair per rule.
fn unit_rows(report: &Report) -> Vec<Vec<String>> {
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
    rows
}

/// `rules.csv`: one row per rule with scope, value, status, deadline and citation.
fn rule_rows(report: &Report) -> Vec<Vec<String>> {
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
    rrows
}
