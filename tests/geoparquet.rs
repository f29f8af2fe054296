//! `analyze --format geoparquet`: the files hold what the JSON report says (row counts, per
//! rule sums, unit codes), carry GeoParquet 1.1 metadata, and open in GeoPandas — the check
//! that another reader, not ours, understands them (run when geopandas is present;
//! `scripts/peers.sh` installs it for `./test.sh`).

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::RowAccessor;
use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carecircle"))
}

/// Rows of a Parquet file, and its `geo` metadata if any.
fn read(path: &Path) -> (Vec<parquet::record::Row>, Option<Value>) {
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let geo = r
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == "geo"))
        .and_then(|k| k.value.as_deref())
        .map(|v| serde_json::from_str(v).unwrap());
    let rows = r.get_row_iter(None).unwrap().map(|r| r.unwrap()).collect();
    (rows, geo)
}

fn col(row: &parquet::record::Row, name: &str) -> usize {
    row.get_column_iter()
        .position(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// People per rule of a JSON list with `rule` and `people`.
fn by_rule(items: &[Value]) -> BTreeMap<String, f64> {
    let mut m = BTreeMap::new();
    for i in items {
        *m.entry(i["rule"].as_str().unwrap().to_owned()).or_default() +=
            i["people"].as_f64().unwrap();
    }
    m
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn geoparquet_export_holds_the_report_and_opens_in_geopandas() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pq");
    let json = dir.path().join("report.json");
    let o = bin()
        .args(["analyze", "maps/harbin", "--uncovered", "points", "--json"])
        .arg(&json)
        .args(["--format", "geoparquet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("GeoParquet: "));
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let dataset = report["dataset"].as_str().unwrap().to_owned();
    let units = report["units"].as_array().unwrap();
    let by_unit = report["uncovered_by_unit"].as_array().unwrap();
    let cells = report["uncovered_grid"]["cells"].as_array().unwrap();
    let points = report["uncovered"].as_array().unwrap();
    assert!(!points.is_empty() && !cells.is_empty());

    // units.parquet: every unit once, with the dataset's name, GeoParquet 1.1 metadata.
    let (rows, geo) = read(&out.join("units.parquet"));
    assert_eq!(rows.len(), units.len());
    let geo = geo.expect("units.parquet has geo metadata");
    assert_eq!(geo["version"], "1.1.0");
    assert_eq!(geo["primary_column"], "geometry");
    assert_eq!(geo["columns"]["geometry"]["encoding"], "WKB");
    assert_eq!(
        geo["columns"]["geometry"]["geometry_types"],
        serde_json::json!(["MultiPolygon"])
    );
    let bbox: Vec<f64> = geo["columns"]["geometry"]["bbox"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    // Harbin's core: around 126.6 E, 45.8 N.
    assert!(bbox[0] > 125.0 && bbox[2] < 128.0 && bbox[1] > 45.0 && bbox[3] < 47.0);
    let (c_code, c_ds) = (col(&rows[0], "code"), col(&rows[0], "dataset"));
    let mut codes: Vec<String> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.get_string(c_ds).unwrap(), &dataset);
            r.get_string(c_code).unwrap().clone()
        })
        .collect();
    let mut want: Vec<String> = units
        .iter()
        .map(|u| u["code"].as_str().unwrap().to_owned())
        .collect();
    codes.sort();
    want.sort();
    assert_eq!(codes, want);

    // unit_rules.parquet: a row per unit and rule; the gaps equal uncovered_by_unit.
    let (rows, geo) = read(&out.join("unit_rules.parquet"));
    assert!(geo.is_none(), "the long table has no geometry");
    let n_rules: usize = units
        .iter()
        .map(|u| u["rules"].as_object().unwrap().len())
        .sum();
    assert_eq!(rows.len(), n_rules);
    let (cu, cr, cp) = (
        col(&rows[0], "unit_code"),
        col(&rows[0], "rule"),
        col(&rows[0], "uncovered_people"),
    );
    let mut gaps = BTreeMap::new();
    for r in &rows {
        if let Ok(p) = r.get_double(cp) {
            gaps.insert(
                (
                    r.get_string(cu).unwrap().clone(),
                    r.get_string(cr).unwrap().clone(),
                ),
                p,
            );
        }
    }
    let judged: std::collections::BTreeSet<(String, String)> = units
        .iter()
        .flat_map(|u| {
            let code = u["code"].as_str().unwrap().to_owned();
            u["rules"]
                .as_object()
                .unwrap()
                .keys()
                .map(move |r| (code.clone(), r.clone()))
        })
        .collect();
    let mut matched = 0;
    for g in by_unit {
        let key = (
            g["unit_code"].as_str().unwrap().to_owned(),
            g["rule"].as_str().unwrap().to_owned(),
        );
        // Every gap of a unit judged for the rule is in the long table, with its people.
        if judged.contains(&key) {
            let p = gaps.get(&key).unwrap_or_else(|| panic!("{key:?} missing"));
            assert!(close(*p, g["people"].as_f64().unwrap()), "{key:?}");
            matched += 1;
        }
    }
    assert!(
        matched > 0 && matched == gaps.len(),
        "{matched} of {}",
        gaps.len()
    );

    // uncovered_grid.parquet and uncovered_demand.parquet: the same rows and sums.
    for (file, items, kind) in [
        ("uncovered_grid.parquet", cells, "Polygon"),
        ("uncovered_demand.parquet", points, "Point"),
    ] {
        let (rows, geo) = read(&out.join(file));
        assert_eq!(rows.len(), items.len(), "{file}");
        assert_eq!(
            geo.unwrap()["columns"]["geometry"]["geometry_types"],
            serde_json::json!([kind])
        );
        let (cr, cp) = (col(&rows[0], "rule"), col(&rows[0], "people"));
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for r in &rows {
            *sums.entry(r.get_string(cr).unwrap().clone()).or_default() +=
                r.get_double(cp).unwrap();
        }
        let want = by_rule(items);
        assert_eq!(
            sums.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        for (k, v) in &want {
            assert!(close(sums[k], *v), "{file} {k}: {} vs {v}", sums[k]);
        }
    }

    // Another reader: GeoPandas.
    let Some(py) = carecircle::testkit::peer_python("geopandas") else {
        eprintln!(
            "skipped the GeoPandas half: no Python with geopandas (scripts/peers.sh installs it)"
        );
        return;
    };
    let script = "import sys, json, geopandas as gpd\n\
        d = sys.argv[1]\n\
        out = {}\n\
        for name in ['units', 'uncovered_grid', 'uncovered_demand']:\n\
        \x20   g = gpd.read_parquet(f'{d}/{name}.parquet')\n\
        \x20   out[name] = {'n': len(g), 'crs': g.crs.to_string(), 'types': sorted(set(g.geom_type.dropna())),\n\
        \x20       'people': {str(k): float(v) for k, v in g.groupby('rule')['people'].sum().items()} if 'rule' in g else None,\n\
        \x20       'valid': bool(g.geometry.is_valid.all()), 'datasets': sorted(set(g['dataset']))}\n\
        p = gpd.read_parquet(f'{d}/uncovered_demand.parquet')\n\
        out['first'] = [p.geometry.x.iloc[0], p.geometry.y.iloc[0], p['rule'].iloc[0]]\n\
        print(json.dumps(out, ensure_ascii=False))";
    let v = carecircle::testkit::python_json(&py, script, &[out.as_os_str()]);
    for (name, n, kind) in [
        ("units", units.len(), "MultiPolygon"),
        ("uncovered_grid", cells.len(), "Polygon"),
        ("uncovered_demand", points.len(), "Point"),
    ] {
        let t = &v[name];
        assert_eq!(t["n"], n, "{name}");
        assert_eq!(t["crs"], "OGC:CRS84", "{name}");
        assert_eq!(t["types"], serde_json::json!([kind]), "{name}");
        assert_eq!(t["valid"], true, "{name}");
        assert_eq!(t["datasets"], serde_json::json!([dataset]), "{name}");
    }
    for (name, items) in [("uncovered_grid", cells), ("uncovered_demand", points)] {
        for (rule, people) in by_rule(items) {
            let got = v[name]["people"][&rule].as_f64().unwrap();
            assert!(close(got, people), "{name} {rule}: {got} vs {people}");
        }
    }
    let first = &points[0];
    assert!(close(
        v["first"][0].as_f64().unwrap(),
        first["lon"].as_f64().unwrap()
    ));
    assert!(close(
        v["first"][1].as_f64().unwrap(),
        first["lat"].as_f64().unwrap()
    ));
    assert_eq!(v["first"][2], first["rule"]);
}

/// The format writes into a folder, and only with a folder named.
#[test]
fn geoparquet_needs_an_output_folder() {
    let o = bin()
        .args(["analyze", "maps/heihe", "--format", "geoparquet"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out"));
}
