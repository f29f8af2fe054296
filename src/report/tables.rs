//! The report for other tools: GeoJSON (units with status and fill, uncovered demand),
//! CSV tables (units, rules, uncovered demand; gaps), UTF-8 with BOM for Excel.

use super::*;

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
                "feature_type": "uncovered_demand", "rule": p.rule, "demand_id": p.source_id,
                "unit_code": p.unit_code,
                "people": p.people, "marker-color": "#d43d2f",
            },
            "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
        }));
    }
    json!({"type": "FeatureCollection", "features": features})
}

/// [`to_geojson`] written to `path`; a `.gpkg` path gets a GeoPackage with a `unit` and an
/// `uncovered_demand` table.
pub fn write_geojson(report: &Report, ds: &Dataset, path: &Path) -> Result<()> {
    if crate::io::gpkg::is_gpkg(path) {
        let fc = to_geojson(report, ds);
        let features = fc["features"].as_array().cloned().unwrap_or_default();
        return crate::io::gpkg::write_collection(path, &features);
    }
    let text = serde_json::to_string(&to_geojson(report, ds)).expect("serialisable");
    write_atomic(path, text.as_bytes())
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

/// `units.csv` (one row per unit, a pass/deficit column pair per rule), `rules.csv` and
/// `uncovered_demand.csv` in `dir`. UTF-8 with BOM so Excel on Chinese Windows opens it.
/// The files `write_csv_dir` writes into its folder.
pub const CSV_FILES: [&str; 3] = ["units.csv", "rules.csv", "uncovered_demand.csv"];

pub fn write_csv_dir(report: &Report, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let rows = unit_rows(report);
    let rrows = rule_rows(report);
    let urows = uncovered_rows(report);
    for (name, rows) in CSV_FILES.into_iter().zip([rows, rrows, urows]) {
        let path = dir.join(name);
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend(csv_bytes(rows, &path)?);
        write_atomic(&path, &bytes)?;
    }
    Ok(())
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

/// `uncovered_demand.csv`: every demand point out of reach, WGS84.
fn uncovered_rows(report: &Report) -> Vec<Vec<String>> {
    let mut urows = vec![vec![
        "rule".to_string(),
        "demand_id".into(),
        "lon".into(),
        "lat".into(),
        "unit_code".into(),
        "people".into(),
    ]];
    for p in &report.uncovered {
        urows.push(vec![
            p.rule.clone(),
            p.source_id.clone().unwrap_or_default(),
            format!("{:.6}", p.lon),
            format!("{:.6}", p.lat),
            p.unit_code.clone(),
            opt(Some(p.people)),
        ]);
    }
    urows
}
