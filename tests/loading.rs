//! Loading real and bad input. Fixtures are written by the tests themselves into temp dirs.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

use carecircle::error::Error;
use carecircle::geom::{haversine_m, LocalProjection};
use carecircle::io::crs::{gcj02_to_wgs84, wgs84_to_bd09};
use carecircle::io::graph::network_stats;
use carecircle::io::{dbf, load_path};
use carecircle::model::*;
use serde_json::Value;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn square(x: f64, y: f64, d: f64) -> String {
    format!(
        "[[[{x},{y}],[{},{y}],[{},{}],[{x},{}],[{x},{y}]]]",
        x + d,
        x + d,
        y + d,
        y + d
    )
}

fn warnings_text(ds: &Dataset) -> String {
    ds.warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

// ---------------------------------------------------------------------------------------
// Datums

/// The GCJ-02 county file converted by our inverse must match the reference WGS84 file
/// within 1 m at every vertex.
#[test]
fn heihe_gcj02_matches_wgs84_reference_within_a_metre() {
    let gcj: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("maps/heihe/counties_gcj02.geojson")).unwrap(),
    )
    .unwrap();
    let wgs: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("tests/fixtures/heihe_counties_cnmaps_wgs84.geojson"))
            .unwrap(),
    )
    .unwrap();
    let gf = gcj["features"].as_array().unwrap();
    let wf = wgs["features"].as_array().unwrap();
    assert_eq!(gf.len(), 6);
    let mut n = 0usize;
    let mut worst = 0.0f64;
    for (g, w) in gf.iter().zip(wf) {
        assert_eq!(g["properties"]["adcode"], w["properties"]["adcode"]);
        let gp = g["geometry"]["coordinates"].as_array().unwrap();
        let wp = w["geometry"]["coordinates"].as_array().unwrap();
        for (gpoly, wpoly) in gp.iter().zip(wp) {
            for (gring, wring) in gpoly
                .as_array()
                .unwrap()
                .iter()
                .zip(wpoly.as_array().unwrap())
            {
                let gr = gring.as_array().unwrap();
                let wr = wring.as_array().unwrap();
                assert_eq!(gr.len(), wr.len());
                for (a, b) in gr.iter().zip(wr) {
                    let conv = gcj02_to_wgs84(a[0].as_f64().unwrap(), a[1].as_f64().unwrap());
                    let d = haversine_m(conv, (b[0].as_f64().unwrap(), b[1].as_f64().unwrap()));
                    worst = worst.max(d);
                    n += 1;
                }
            }
        }
    }
    assert!(n > 40_000, "{n} vertices");
    assert!(worst < 1.0, "worst vertex differs by {worst} m");
}

/// Our pure-Rust Gauss-Krüger agrees with PROJ's EPSG:4551 to the millimetre.
#[cfg(feature = "proj")]
#[test]
fn local_projection_matches_proj() {
    let p = proj::Proj::new_known_crs("EPSG:4326", "EPSG:4551", None).unwrap();
    let local = LocalProjection {
        central_meridian: 126.0,
    };
    for &(lon, lat) in &[
        (126.63, 45.75),
        (124.6, 47.2),
        (127.45, 50.2),
        (126.0, 45.0),
    ] {
        let (px, py) = p.convert((lon, lat)).unwrap();
        let (x, y) = local.forward(lon, lat);
        assert!(
            (px - x).abs() < 1e-3 && (py - y).abs() < 1e-3,
            "PROJ {px},{py} vs {x},{y}"
        );
    }
}

#[test]
fn projected_input_in_gauss_kruger_loads_to_the_same_place() {
    let dir = tempfile::tempdir().unwrap();
    let (x, y) = LocalProjection {
        central_meridian: 126.0,
    }
    .forward(126.63, 45.75);
    write(
        dir.path(),
        "f.csv",
        &format!("id,name,kind,x,y\n1,测试托育,nursery,{x},{y}\n"),
    );
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='facilities'\npath='f.csv'\ncrs='EPSG:4551'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let loc = ds.facilities[0].location.unwrap();
    let (lon, lat) = ds.projection.inverse(loc.x(), loc.y());
    assert!(haversine_m((lon, lat), (126.63, 45.75)) < 0.01);
}

#[test]
fn bd09_csv_with_chinese_headers_converts_to_wgs84() {
    let dir = tempfile::tempdir().unwrap();
    let (bl, ba) = wgs84_to_bd09(126.63, 45.75);
    write(
        dir.path(),
        "f.csv",
        &format!("名称,类型,经度,纬度,托位\n百度托育,托育机构,{bl},{ba},80\n"),
    );
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='facilities'\npath='f.csv'\ncrs='BD-09'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let f = &ds.facilities[0];
    assert_eq!(f.kind, FacilityKind::Nursery);
    assert_eq!(f.capacity, Some(80.0));
    assert_eq!(f.name, "百度托育");
    let loc = f.location.unwrap();
    let back = ds.projection.inverse(loc.x(), loc.y());
    assert!(haversine_m(back, (126.63, 45.75)) < 0.01, "{back:?}");
}

// ---------------------------------------------------------------------------------------
// Shapefile and GBK

fn write_shapefile(dir: &Path, stem: &str, cpg: Option<&str>, with_shx: bool) -> PathBuf {
    let shp = dir.join(format!("{stem}.shp"));
    {
        let mut w = shapefile::ShapeWriter::from_path(&shp).unwrap();
        for (x, y) in [(126.60, 45.70), (126.70, 45.70)] {
            let ring = vec![
                shapefile::Point::new(x, y),
                shapefile::Point::new(x, y + 0.05),
                shapefile::Point::new(x + 0.05, y + 0.05),
                shapefile::Point::new(x + 0.05, y),
                shapefile::Point::new(x, y),
            ];
            w.write_shape(&shapefile::Polygon::new(shapefile::PolygonRing::Outer(
                ring,
            )))
            .unwrap();
        }
    }
    if !with_shx {
        std::fs::remove_file(dir.join(format!("{stem}.shx"))).unwrap();
    }
    let bytes = dbf::write(
        &[("代码", b'C', 12), ("名称", b'C', 30), ("人口", b'N', 10)],
        &[
            vec!["230102001".into(), "兆麟街道".into(), "45000".into()],
            vec!["230102002".into(), "尚志街道".into(), "38000".into()],
        ],
        encoding_rs::GBK,
    );
    std::fs::write(dir.join(format!("{stem}.dbf")), bytes).unwrap();
    if let Some(c) = cpg {
        std::fs::write(dir.join(format!("{stem}.cpg")), c).unwrap();
    }
    shp
}

#[test]
fn gbk_shapefile_without_cpg_reads_chinese_names() {
    let dir = tempfile::tempdir().unwrap();
    let shp = write_shapefile(dir.path(), "jd", None, true);
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='units'\npath='jd.shp'\nlevel='sub_district'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let names: Vec<&str> = ds.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["兆麟街道", "尚志街道"]);
    assert_eq!(ds.units[0].population.total, Some(45000.0));
    assert_eq!(ds.units[0].code, "230102001");
    assert!(ds.units[0].geometry.is_some());
    let w = warnings_text(&ds);
    assert!(
        w.contains("GBK") && w.contains(&shp.display().to_string()),
        "{w}"
    );
}

#[test]
fn gbk_shapefile_with_cpg_has_no_fallback_warning() {
    let dir = tempfile::tempdir().unwrap();
    write_shapefile(dir.path(), "jd", Some("GBK"), true);
    let ds = load_path(&dir.path().join("jd.shp")).unwrap();
    assert_eq!(ds.units[1].name, "尚志街道");
    // Level guessed from the name suffix 街道 when opened without a manifest.
    assert_eq!(ds.units[1].level, UnitLevel::SubDistrict);
    assert!(!warnings_text(&ds).contains("GBK"));
}

#[test]
fn shapefile_missing_dbf_is_a_clear_error_and_missing_shx_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let shp = write_shapefile(dir.path(), "a", Some("GBK"), false);
    let ds = load_path(&shp).unwrap();
    assert_eq!(ds.units.len(), 2);
    assert!(warnings_text(&ds).contains(".shx"));
    std::fs::remove_file(dir.path().join("a.dbf")).unwrap();
    let e = load_path(&shp).unwrap_err().to_string();
    assert!(e.contains(".dbf") && e.contains("a.shp"), "{e}");
}

// ---------------------------------------------------------------------------------------
// GeoJSON bad input

#[test]
fn malformed_geojson_names_the_file_and_position() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "bad.geojson",
        "{\"type\": \"FeatureCollection\", \"features\": [ {\"type\": \"Feature\",,] }",
    );
    let e = load_path(&p).unwrap_err();
    assert!(matches!(e, Error::Format { .. }));
    let zh = e.zh();
    assert!(
        zh.contains("bad.geojson") && zh.contains("GeoJSON 格式错误"),
        "{zh}"
    );
    let e = e.to_string();
    assert!(e.contains("bad.geojson") && e.contains("line 1"), "{e}");
}

#[test]
fn a_missing_file_is_said_in_chinese_too() {
    let dir = tempfile::tempdir().unwrap();
    let e = load_path(&dir.path().join("nowhere.geojson")).unwrap_err();
    let zh = e.zh();
    assert!(
        zh.contains("nowhere.geojson") && zh.contains("找不到"),
        "{zh}"
    );
}

#[test]
fn bad_features_become_warnings_and_the_rest_loads() {
    let dir = tempfile::tempdir().unwrap();
    let bowtie = "[[[126.6,45.7],[126.7,45.8],[126.7,45.7],[126.6,45.8],[126.6,45.7]]]";
    let text = format!(
        r#"{{"type":"FeatureCollection","features":[
        {{"type":"Feature","properties":{{"code":"1","name":"好街道","population":"12000","pop_60plus":3000}},"geometry":{{"type":"Polygon","coordinates":{ok}}}}},
        {{"type":"Feature","properties":{{"code":"2","name":"扭街道","population":"很多"}},"geometry":{{"type":"Polygon","coordinates":{bowtie}}}}},
        {{"type":"Feature","properties":{{"code":"3","name":"负街道","population":-5}},"geometry":{{"type":"Polygon","coordinates":[[]]}}}},
        {{"type":"Feature","properties":{{"code":"1","name":"重复街道"}},"geometry":null}},
        {{"type":"Feature","properties":{{"code":"4","name":"坏街道"}},"geometry":{{"type":"Polygon","coordinates":[[[126.6,"x"]]]}}}},
        {{"type":"Feature","properties":{{"code":"5","name":"无形街道","wikidata":"Q1"}},"geometry":null}}
    ]}}"#,
        ok = square(126.6, 45.7, 0.01)
    );
    let p = write(dir.path(), "units.geojson", &text);
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='units'\npath='units.geojson'\nlevel='sub_district'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let w = warnings_text(&ds);
    let file = p.display().to_string();
    // Text population: named file, feature and field.
    assert!(
        w.contains(&format!(
            "{file}, feature #1 (扭街道), field 'population': '很多' is not a number"
        )),
        "{w}"
    );
    assert!(
        w.contains("self-intersecting outer ring near (126.650000, 45.750000)"),
        "{w}"
    );
    assert!(
        w.contains("feature #2 (负街道), field 'population': negative value -5"),
        "{w}"
    );
    assert!(w.contains("empty polygon"), "{w}");
    assert!(
        w.contains("feature #3 (重复街道), field 'code': duplicate sub_district code 1"),
        "{w}"
    );
    assert!(w.contains("feature #4 (坏街道), field 'geometry'"), "{w}");
    // The Chinese UI reads the same warnings in Chinese, file, feature and field named.
    let zh: Vec<String> = ds.warnings.iter().map(|w| w.zh()).collect();
    let zh = zh.join("\n");
    for expected in [
        format!("{file}，要素 #1 (扭街道)，字段“population”：“很多”不是数字，按缺失处理"),
        "第 0 部分：外环自相交，位置约 (126.650000, 45.750000)".to_owned(),
        "要素 #2 (负街道)，字段“population”：负值 -5，按缺失处理".to_owned(),
        "空多边形：保留该单元，但没有边界".to_owned(),
        "要素 #3 (重复街道)，字段“code”：街道代码 1 重复（已被 好街道 使用）；已跳过".to_owned(),
    ] {
        assert!(zh.contains(&expected), "{expected} not in\n{zh}");
    }
    // 5 of 6 kept (the duplicate is skipped); units without shapes are legitimate.
    let names: Vec<&str> = ds.units.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(names, ["好街道", "扭街道", "负街道", "坏街道", "无形街道"]);
    assert_eq!(ds.units[0].population.total, Some(12000.0));
    assert_eq!(ds.units[0].population.aged_60plus, Some(3000.0));
    assert_eq!(ds.units[1].population.total, None);
    assert!(ds.units[2].geometry.is_none());
    // Unknown attributes are kept for round trips.
    assert_eq!(ds.units[4].attributes["wikidata"], "Q1");
}

#[test]
fn projected_coordinates_declared_wgs84_are_refused_with_a_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "u.geojson",
        &format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"name":"甲街道"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
            square(500000.0, 5600000.0, 1000.0)
        ),
    );
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='units'\npath='u.geojson'\ncrs='WGS84'\n",
    );
    let err = load_path(dir.path()).unwrap_err();
    let e = err.to_string();
    assert!(
        e.contains("u.geojson") && e.contains("WGS84") && e.contains("Gauss-Krüger"),
        "{e}"
    );
    // The Chinese UI's text says the same in Chinese: file, declared CRS, the likely one.
    let zh = err.zh();
    assert!(
        zh.contains("u.geojson")
            && zh.contains("坐标与声明的坐标系 WGS84 不符")
            && zh.contains("不是经纬度")
            && zh.contains("不带带号的高斯-克吕格坐标")
            && !zh.contains("looks like"),
        "{zh}"
    );
}

// ---------------------------------------------------------------------------------------
// CSV bad input

#[test]
fn csv_without_coordinates_is_an_error_for_demand_and_a_code_list_for_units() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "d.csv", "名称,人口\n甲,100\n");
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='demand'\npath='d.csv'\n",
    );
    let e = load_path(dir.path()).unwrap_err().to_string();
    assert!(
        e.contains("d.csv") && e.contains("coordinate columns") && e.contains("名称, 人口"),
        "{e}"
    );

    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='units'\npath='d.csv'\nlevel='township'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    assert_eq!(ds.units.len(), 1);
    assert!(ds.units[0].geometry.is_none());
    assert_eq!(ds.units[0].population.total, Some(100.0));
}

#[test]
fn gbk_csv_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let (bytes, _, _) =
        encoding_rs::GBK.encode("名称,经度,纬度,类型\n道里日照,126.6,45.75,日间照料室\n");
    std::fs::write(dir.path().join("f.csv"), &bytes).unwrap();
    let ds = load_path(&dir.path().join("f.csv")).unwrap();
    assert_eq!(ds.facilities[0].name, "道里日照");
    assert_eq!(ds.facilities[0].kind, FacilityKind::DayCare);
    assert!(warnings_text(&ds).contains("GBK"));
}

#[test]
fn facility_rows_without_kind_or_place_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f.csv", "id,name,kind,lon,lat\na,学校,school,126.6,45.7\nb,某托育,nursery,,\nc,某日照,day_care,126.6,45.7\n");
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='facilities'\npath='f.csv'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let w = warnings_text(&ds);
    assert!(w.contains("'school' is not a care facility kind"), "{w}");
    assert!(w.contains("no location and no unit code"), "{w}");
    assert_eq!(ds.facilities.len(), 2);
}

// ---------------------------------------------------------------------------------------
// Manifest

#[test]
fn manifest_errors_and_warnings() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "f.csv", "name,lon,lat\n甲,126.6,45.7\n");
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='clinics'\npath='f.csv'\n",
    );
    let e = load_path(dir.path()).unwrap_err().to_string();
    assert!(e.contains("unknown role 'clinics'"), "{e}");
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='facilities'\npath='f.csv'\nkind='spa'\n",
    );
    assert!(load_path(dir.path())
        .unwrap_err()
        .to_string()
        .contains("unknown facility kind 'spa'"));
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='facilities'\npath='f.csv'\ncrs='Mars-2'\n",
    );
    assert!(load_path(dir.path())
        .unwrap_err()
        .to_string()
        .contains("unknown CRS"));
    write(
        dir.path(),
        "dataset.toml",
        "owner='bureau'\n[[layers]]\nrole='facilities'\npath='f.csv'\nkind='nursery'\ncolour='red'\n[layers.fields]\nnmae='x'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let w = warnings_text(&ds);
    assert!(
        w.contains("'owner': unknown manifest key")
            && w.contains("'colour': unknown layer key")
            && w.contains("'nmae'"),
        "{w}"
    );
    assert_eq!(ds.facilities[0].kind, FacilityKind::Nursery);
}

#[test]
fn field_mapping_overrides_defaults() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "u.geojson",
        &format!(
            r#"{{"type":"FeatureCollection","features":[{{"type":"Feature","properties":{{"name":"别名","zh":"甲镇","dm":"231102100","rk":"5000","lao":"1500"}},"geometry":{{"type":"Polygon","coordinates":{}}}}}]}}"#,
            square(127.4, 50.2, 0.05)
        ),
    );
    write(
        dir.path(),
        "dataset.toml",
        "[[layers]]\nrole='units'\npath='u.geojson'\nlevel='township'\n[layers.fields]\nname='zh'\ncode='dm'\npopulation='rk'\npop_60plus='lao'\n",
    );
    let ds = load_path(dir.path()).unwrap();
    let u = &ds.units[0];
    assert_eq!((u.name.as_str(), u.code.as_str()), ("甲镇", "231102100"));
    assert_eq!(u.population.total, Some(5000.0));
    assert_eq!(u.population.aged_60plus, Some(1500.0));
}

// ---------------------------------------------------------------------------------------
// The demos

#[test]
fn harbin_demo_loads_with_expected_counts() {
    let ds = load_path(&repo("maps/harbin")).unwrap();
    assert_eq!(ds.count_units(UnitLevel::SubDistrict), 77);
    assert_eq!(ds.count_facilities(FacilityKind::Nursery), 20);
    assert_eq!(ds.projection.epsg(), 4551);
    // Synthetic elderly facilities are flagged, real nurseries are not.
    assert!(ds
        .facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::DayCare)
        .all(|f| f.synthetic));
    assert!(ds
        .facilities
        .iter()
        .filter(|f| f.kind == FacilityKind::Nursery)
        .all(|f| !f.synthetic && f.capacity_estimated));
    let stats = network_stats(&ds);
    assert!(stats.edges > 20_000, "{stats:?}");
    // Every sub-district hangs under its district (by code prefix or the parent column).
    assert!(ds
        .units_at(UnitLevel::SubDistrict)
        .all(|u| u.parent.is_some()));
    let xf = ds.units.iter().find(|u| u.name == "先锋路街道").unwrap();
    assert_eq!(xf.population.total, Some(77544.0));
    assert_eq!(
        xf.population_source.as_deref(),
        Some("OSM tag, unverified (no year or source stated)")
    );
    assert_eq!(ds.unit(xf.parent.unwrap()).name, "南岗区");
}

#[test]
fn heihe_demo_loads_and_joins_projects_by_name() {
    let ds = load_path(&repo("maps/heihe")).unwrap();
    let county_level = ds.units.iter().filter(|u| u.level.tier() == 1).count();
    let township_level = ds.units.iter().filter(|u| u.level.tier() == 2).count();
    let village_level = ds.units.iter().filter(|u| u.level.tier() == 3).count();
    assert_eq!((county_level, township_level, village_level), (6, 160, 961));
    assert_eq!(ds.facilities.len(), 77);
    assert!(ds
        .facilities
        .iter()
        .all(|f| f.status == FacilityStatus::Planned && f.location.is_none()));
    // The data README: all 27 projects naming a town match once scoped to the county.
    let named_town: Vec<_> = ds
        .facilities
        .iter()
        .filter(|f| f.unit_ref.town.is_some())
        .collect();
    assert_eq!(named_town.len(), 27);
    assert!(named_town
        .iter()
        .all(|f| f.unit.is_some_and(|u| ds.unit(u).level.tier() >= 2)));
    // 和平街道 exists in two counties; the one in 北安市 is meant.
    let hp = ds
        .facilities
        .iter()
        .find(|f| f.unit_ref.town.as_deref() == Some("和平街道"))
        .unwrap();
    let town = ds.unit(hp.unit.unwrap());
    assert_eq!(ds.unit(town.parent.unwrap()).name, "北安市");
    // 兆麟街道 is written 兆麟街道地区 in the statistical list.
    let zl = ds
        .facilities
        .iter()
        .find(|f| f.unit_ref.town.as_deref() == Some("兆麟街道"))
        .unwrap();
    assert_eq!(ds.unit(zl.unit.unwrap()).name, "兆麟街道地区");
    // Village named: 新胜村 of 海江镇.
    let xs = ds
        .facilities
        .iter()
        .find(|f| f.unit_ref.village.as_deref() == Some("新胜村"))
        .unwrap();
    assert_eq!(ds.unit(xs.unit.unwrap()).level.tier(), 3);
    // County polygons were declared GCJ-02 and converted: 爱辉区 contains Heihe city centre.
    use geo::Contains;
    let aihui = ds.units.iter().find(|u| u.code == "231102").unwrap();
    let (x, y) = ds.projection.forward(127.49, 50.24);
    assert!(aihui
        .geometry
        .as_ref()
        .unwrap()
        .contains(&geo::Point::new(x, y)));
    // City-level projects (黑河市, 五大连池风景区) are reported, not silently attached.
    assert_eq!(ds.facilities.iter().filter(|f| f.unit.is_none()).count(), 5);
    assert_eq!(ds.warnings.len(), 5, "{}", warnings_text(&ds));
}

/// Every built-in system (what the Windows build and every build use without PROJ) agrees
/// with PROJ: CGCS2000 3° and 6° Gauss-Krüger with and without zone numbers, UTM north and
/// south, Web Mercator — points across each zone, to 1 mm (projected) and 1e-8° (back).
#[cfg(feature = "proj")]
#[test]
fn builtin_systems_match_proj() {
    use carecircle::crs::epsg_builtin;
    let mut codes: Vec<u32> = (4491..=4554).collect();
    codes.extend([32649, 32650, 32651, 32652, 32749, 3857]);
    let mut worst_m: f64 = 0.0;
    let mut worst_deg: f64 = 0.0;
    for code in codes {
        let b = epsg_builtin(code).unwrap_or_else(|| panic!("EPSG:{code} built in"));
        let fwd = proj::Proj::new_known_crs("EPSG:4326", &format!("EPSG:{code}"), None).unwrap();
        // The zone's central meridian from a point projected at the origin of its zone.
        let cm = match b {
            carecircle::crs::Builtin::Tm(t) => t.central_meridian,
            carecircle::crs::Builtin::WebMercator => 120.0,
        };
        let lat0 = if (32701..=32760).contains(&code) {
            -30.0
        } else {
            20.0
        };
        for dl in [-3.0, -1.4, 0.0, 0.9, 2.9] {
            for dlat in [0.0, 11.5, 25.0] {
                let (lon, lat) = (cm + dl, lat0 + dlat);
                let (px, py) = fwd.convert((lon, lat)).unwrap();
                let (x, y) = b.from_lonlat(lon, lat);
                worst_m = worst_m.max((px - x).abs()).max((py - y).abs());
                let (blon, blat) = b.to_lonlat(px, py);
                worst_deg = worst_deg.max((blon - lon).abs()).max((blat - lat).abs());
            }
        }
    }
    eprintln!("built-in vs PROJ: worst {worst_m:.2e} m forward, {worst_deg:.2e}° back");
    assert!(worst_m < 1e-3, "{worst_m} m");
    assert!(worst_deg < 1e-8, "{worst_deg}°");
}

/// A .prj of a CGCS2000 Gauss-Krüger zone (as ArcGIS writes it) converts without PROJ, to
/// the same point PROJ gives for its EPSG code.
#[test]
fn prj_gauss_kruger_is_built_in() {
    use carecircle::crs::{epsg_builtin, wkt_builtin};
    let esri = r#"PROJCS["CGCS2000_3_Degree_GK_CM_126E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000",DATUM["D_China_2000",SPHEROID["CGCS2000",6378137.0,298.257222101]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Gauss_Kruger"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",126.0],PARAMETER["Scale_Factor",1.0],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
    let b = wkt_builtin(esri).expect("a GK .prj is built in");
    let e = epsg_builtin(4551).unwrap();
    let (x, y) = (548_123.4, 5_066_000.2);
    let (a, b2) = (b.to_lonlat(x, y), e.to_lonlat(x, y));
    assert!((a.0 - b2.0).abs() < 1e-12 && (a.1 - b2.1).abs() < 1e-12);
    // An OGC WKT with its EPSG authority last.
    let ogc = r#"PROJCS["CGCS2000 / 3-degree Gauss-Kruger zone 42",GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000",SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433],AUTHORITY["EPSG","4490"]],PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",0],PARAMETER["central_meridian",126],PARAMETER["scale_factor",1],PARAMETER["false_easting",42500000],PARAMETER["false_northing",0],UNIT["metre",1],AUTHORITY["EPSG","4530"]]"#;
    assert_eq!(wkt_builtin(ogc), epsg_builtin(4530));
    // Xi'an 1980 needs a datum shift: not built in (PROJ decides).
    let xian = esri.replace("D_China_2000", "D_Xian_1980").replace(
        "CGCS2000\",6378137.0,298.257222101",
        "Xian_1980\",6378140.0,298.257",
    );
    assert!(wkt_builtin(&xian).is_none());
    assert!(epsg_builtin(2383).is_none());
}

/// A demand table is read straight into columns (no property map per row); the points and
/// messages must be those the property-map path gives for the same rows (here as GeoJSON
/// features with the same text values): ids, 万 and 人, missing, not-a-number, negative
/// and implausible figures, empty and impossible coordinates, a repeated header.
#[test]
fn demand_table_read_into_columns_matches_the_feature_path() {
    // Quoted cells: the table is read in one piece; unquoted: in pieces on every core.
    demand_table_matches(true);
    demand_table_matches(false);
}

fn demand_table_matches(quoted: bool) {
    let dir = tempfile::tempdir().unwrap();
    // id, coordinates, population / 60+ / 0–3, name
    type Row<'a> = (&'a str, Option<(&'a str, &'a str)>, [&'a str; 3], &'a str);
    let rows: &[Row] = &[
        ("d0", Some(("126.60", "45.75")), ["100", "20", "3"], "甲"),
        ("d1", Some(("126.61", "45.76")), ["", "", ""], ""),
        ("d2", Some(("126.62", "45.77")), ["abc", "10", ""], ""),
        ("d3", Some(("126.63", "45.78")), ["-5", "", "1"], "丙"),
        ("d4", None, ["50", "", ""], ""),
        (
            "d5",
            Some(("126.64", "45.79")),
            [if quoted { "1,234人" } else { "1234人" }, "", ""],
            "",
        ),
        ("d6", Some(("126.65", "45.80")), ["3.2万", "", "x"], ""),
        ("", Some(("126.66", "45.81")), ["7", "", ""], ""),
        ("d8", Some(("500000", "5000000")), ["5", "", ""], ""),
        ("d9", Some(("126.67", "45.82")), ["inf", "1", ""], ""),
    ];
    let mut csv = String::from("id,lon,lat,population,pop_60plus,pop_0_3,name,id\n");
    let mut features = Vec::new();
    for (id, at, pop, name) in rows {
        let (x, y) = at.unwrap_or(("", ""));
        let q = if quoted { "\"" } else { "" };
        csv += &format!(
            "{id},{x},{y},{q}{}{q},{},{},{name},{id}\n",
            pop[0], pop[1], pop[2]
        );
        let text = |s: &str| {
            if s.is_empty() {
                Value::Null
            } else {
                Value::from(s)
            }
        };
        let geometry = match at {
            Some((x, y)) => serde_json::json!({"type": "Point",
                "coordinates": [x.parse::<f64>().unwrap(), y.parse::<f64>().unwrap()]}),
            None => Value::Null,
        };
        features.push(serde_json::json!({"type": "Feature", "geometry": geometry,
            "properties": {"id": text(id), "population": text(pop[0]),
                "pop_60plus": text(pop[1]), "pop_0_3": text(pop[2]), "name": text(name)}}));
    }
    // Coordinates that are not numbers: a CSV-only case, last so the rows before keep
    // their numbers in both files.
    csv += "d10,东经abc,45.83,9,,,,d10\n";
    write(dir.path(), "demand.csv", &csv);
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    write(dir.path(), "demand.geojson", &fc.to_string());
    let load = |file: &str| {
        let sub = dir.path().join(file.replace('.', "_"));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::copy(dir.path().join(file), sub.join(file)).unwrap();
        write(
            &sub,
            "dataset.toml",
            &format!("[[layers]]\nrole = \"demand\"\npath = \"{file}\"\ncrs = \"WGS84\"\n"),
        );
        load_path(&sub).unwrap()
    };
    let (columns, features) = (load("demand.csv"), load("demand.geojson"));
    assert_eq!(columns.layers[0].features_read, rows.len() + 1);
    assert_eq!(features.layers[0].features_read, rows.len());
    let points = |ds: &Dataset| -> Vec<String> {
        ds.demand
            .iter()
            .map(|d| {
                format!(
                    "{:?} {:?} {:?} {:?}",
                    d.source_id,
                    (d.location.x().to_bits(), d.location.y().to_bits()),
                    d.population,
                    d.id
                )
            })
            .collect()
    };
    assert_eq!(points(&columns), points(&features));
    assert_eq!(columns.demand.len(), 8, "{:#?}", points(&columns));
    let said = |ds: &Dataset| -> Vec<String> {
        ds.warnings
            .iter()
            .map(|w| format!("{:?} {:?} {} {:?}", w.feature, w.field, w.message, w.zh))
            // The messages name the file; the two files differ only in that.
            .map(|t| {
                t.replace("demand_csv/demand.csv", "F")
                    .replace("demand_geojson/demand.geojson", "F")
            })
            .collect()
    };
    let mut csv_said = said(&columns);
    let only_csv: Vec<String> = csv_said
        .iter()
        .filter(|t| t.contains("#10 (d10)"))
        .cloned()
        .collect();
    assert_eq!(only_csv.len(), 2, "{only_csv:#?}");
    assert!(only_csv[0].starts_with("Some(\"row 12 #10 (d10)\") Some(\"lon\") coordinates '东经abc', '45.83' are not numbers"), "{}", only_csv[0]);
    assert!(
        only_csv[1].contains("demand must be a point"),
        "{}",
        only_csv[1]
    );
    csv_said.retain(|t| !t.contains("#10 (d10)"));
    assert_eq!(csv_said, said(&features));
    let all = said(&columns).join("\n");
    for expect in [
        "'abc' is not a number",
        "negative value -5",
        "'x' is not a number",
        "'inf' is not a number",
        "no population figure",
        "#4 (d4)\") Some(\"geometry\") demand must be a point",
        "#8 (d8)\") Some(\"geometry\")",
    ] {
        assert!(all.contains(expect), "{expect} not in\n{all}");
    }
    let d5 = columns
        .demand
        .iter()
        .find(|d| d.source_id.as_deref() == Some("d5"));
    assert_eq!(d5.unwrap().population.total, Some(1234.0));
    let d6 = columns
        .demand
        .iter()
        .find(|d| d.source_id.as_deref() == Some("d6"));
    assert_eq!(d6.unwrap().population.total, Some(32000.0));
}
