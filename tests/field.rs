//! Field work and the bureau's own files: edits and their log (replay, undo, torn lines,
//! another dataset's log), the edited layer written with every source attribute and id,
//! atomic saves under kill -9, Excel and GeoPackage layers (fixtures built by
//! tools/build_fixtures.py), and source ids through `reach` and `analyze` outputs.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Command;

use carecircle::io::edits::{facility_features, log_place, write_facilities, EditLog};
use carecircle::model::edits::{
    add_layer, apply_edits, Edit, EditHistory, EditKind, FacilityRecord, HistoryStep, Verification,
};
use carecircle::model::{Dataset, FacilityKind, FacilityStatus};
use serde_json::{json, Value};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carecircle"))
}

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/field")
}

/// A 2 × 1 km town of two communities, with `n` day-care rooms in a GeoJSON whose features
/// carry an id, a Chinese name column and a column the model does not know (备注).
fn town(dir: &Path, n: usize) -> PathBuf {
    let sq = |x0: f64| {
        json!({"type": "Polygon", "coordinates": [[[x0, 45.70], [x0 + 0.0128, 45.70],
            [x0 + 0.0128, 45.709], [x0, 45.709], [x0, 45.70]]]})
    };
    let units = json!({"type": "FeatureCollection", "features": [
        {"type": "Feature", "geometry": sq(126.60), "properties":
            {"code": "230102001001", "name": "东社区", "level": "community", "population": 3000, "pop_60plus": 600}},
        {"type": "Feature", "geometry": sq(126.6128), "properties":
            {"code": "230102001002", "name": "西社区", "level": "community", "population": 1000, "pop_60plus": 200}},
    ]});
    let facs: Vec<Value> = (0..n)
        .map(|i| {
            let x = 126.601 + 0.0245 * (i as f64 + 0.5) / n as f64;
            json!({"type": "Feature",
                "geometry": {"type": "Point", "coordinates": [x, 45.7045]},
                "properties": {"编号": format!("D{i:05}"), "名称": format!("照料室{i}"),
                    "类型": "日间照料室", "床位": 10, "备注": format!("note {i}")}})
        })
        .collect();
    std::fs::write(dir.join("units.geojson"), units.to_string()).unwrap();
    std::fs::write(
        dir.join("day_care.geojson"),
        json!({"type": "FeatureCollection", "features": facs}).to_string(),
    )
    .unwrap();
    std::fs::write(
        dir.join("dataset.toml"),
        "name = \"town\"\n[[layers]]\nrole = \"units\"\npath = \"units.geojson\"\n\
         [[layers]]\nrole = \"facilities\"\npath = \"day_care.geojson\"\n\
         kinds = [\"day_care\", \"street_station\", \"district_center\"]\n",
    )
    .unwrap();
    dir.to_path_buf()
}

fn load(p: &Path) -> Dataset {
    carecircle::io::load_path(p).unwrap()
}

fn record_at(ds: &Dataset, x: f64, y: f64, name: &str) -> FacilityRecord {
    let mut r = FacilityRecord::of(&ds.facilities[0], ds);
    r.name = name.into();
    r.location = Some([x, y]);
    r.attributes = Default::default();
    r.capacity = Some(25.0);
    r.status = FacilityStatus::Existing;
    r
}

#[test]
fn edits_apply_undo_and_renumber() {
    let dir = tempfile::tempdir().unwrap();
    let base = load(&town(dir.path(), 3));
    assert_eq!(base.facilities.len(), 3);
    let mut h = EditHistory::default();
    // Add one at the centre of the east community.
    let c = base.units[0].geometry.as_ref().unwrap();
    let centre = geo::Centroid::centroid(c).unwrap();
    let add = Edit::add(
        &base,
        &add_layer(&base, FacilityKind::DayCare),
        record_at(&base, centre.x(), centre.y(), "新站"),
    );
    assert_eq!(add.key.source_id, "edit-1");
    h.step(HistoryStep::Edit {
        edit: Box::new(add),
    });
    let (ds, notes) = apply_edits(&base, &h.done);
    assert!(notes.is_empty());
    assert_eq!(ds.facilities.len(), 4);
    assert_eq!(ds.facilities[3].name, "新站");
    assert_eq!(ds.facilities[3].capacity, Some(25.0));
    // Delete the first, close the second, move the third by 100 m, verify it.
    let del = Edit::delete(&ds, ds.facilities[0].id).unwrap();
    let close = Edit::modify(&ds, ds.facilities[1].id, EditKind::Close, |r| {
        r.status = FacilityStatus::Closed
    })
    .unwrap();
    let old = ds.facilities[2].location.unwrap();
    let mv = Edit::modify(&ds, ds.facilities[2].id, EditKind::Move, |r| {
        r.location = Some([old.x() + 100.0, old.y()])
    })
    .unwrap();
    // An edit that changes nothing is no edit.
    assert!(Edit::modify(&ds, ds.facilities[2].id, EditKind::Change, |_| {}).is_none());
    for e in [del, close, mv] {
        h.step(HistoryStep::Edit { edit: Box::new(e) });
    }
    let (ds2, _) = apply_edits(&base, &h.done);
    assert_eq!(ds2.facilities.len(), 3);
    assert!(ds2
        .facilities
        .iter()
        .enumerate()
        .all(|(i, f)| f.id.index() == i));
    assert_eq!(ds2.facilities[0].status, FacilityStatus::Closed);
    assert!((ds2.facilities[1].location.unwrap().x() - old.x() - 100.0).abs() < 1e-9);
    let v = Verification {
        date: "2026-11-27".into(),
        by: "张三".into(),
        note: "现场核实".into(),
    };
    let ver = Edit::modify(&ds2, ds2.facilities[1].id, EditKind::Verify, |r| {
        r.set_verification(&v)
    })
    .unwrap();
    h.step(HistoryStep::Edit {
        edit: Box::new(ver),
    });
    let (ds3, _) = apply_edits(&base, &h.done);
    assert_eq!(
        FacilityRecord::of(&ds3.facilities[1], &ds3).verification(),
        Some(v)
    );
    // Undo all five: back to the loaded data; redo all: the same state again.
    for _ in 0..5 {
        assert!(h.step(HistoryStep::Undo));
    }
    assert!(!h.step(HistoryStep::Undo));
    let (back, _) = apply_edits(&base, &h.done);
    assert_eq!(
        back.facilities
            .iter()
            .map(|f| FacilityRecord::of(f, &back))
            .collect::<Vec<_>>(),
        base.facilities
            .iter()
            .map(|f| FacilityRecord::of(f, &base))
            .collect::<Vec<_>>()
    );
    for _ in 0..5 {
        assert!(h.step(HistoryStep::Redo));
    }
    let (again, _) = apply_edits(&base, &h.done);
    assert_eq!(again.facilities.len(), ds3.facilities.len());
    assert_eq!(
        FacilityRecord::of(&again.facilities[1], &again),
        FacilityRecord::of(&ds3.facilities[1], &ds3)
    );
    // A new edit after undo drops the redo list.
    h.step(HistoryStep::Undo);
    let e = Edit::delete(&base, base.facilities[2].id).unwrap();
    h.step(HistoryStep::Edit { edit: Box::new(e) });
    assert!(h.undone.is_empty());
}

#[test]
fn edits_to_a_facility_that_is_gone_are_said_not_misapplied() {
    let dir = tempfile::tempdir().unwrap();
    let base = load(&town(dir.path(), 3));
    let mut e = Edit::modify(&base, base.facilities[1].id, EditKind::Change, |r| {
        r.name = "改名".into()
    })
    .unwrap();
    e.key.source_id = "D99999".into();
    let (ds, notes) = apply_edits(&base, &[e]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].en.contains("D99999"), "{}", notes[0].en);
    assert!(ds.facilities.iter().all(|f| f.name != "改名"));
}

#[test]
fn the_log_replays_drops_a_torn_line_and_refuses_another_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let base = load(&town(dir.path(), 3));
    let place = log_place(&base);
    assert_eq!(place.path, dir.path().join("town.edits.jsonl"));
    assert_eq!(place.moved_from, None);
    let mut opened = EditLog::open(&place.path, &base).unwrap();
    assert!(opened.history.is_empty());
    let e1 = Edit::modify(&base, base.facilities[0].id, EditKind::Change, |r| {
        r.capacity = Some(40.0)
    })
    .unwrap();
    let e2 = Edit::delete(&base, base.facilities[1].id).unwrap();
    for s in [
        HistoryStep::Edit {
            edit: Box::new(e1.clone()),
        },
        HistoryStep::Edit {
            edit: Box::new(e2.clone()),
        },
        HistoryStep::Undo,
    ] {
        opened.log.record(&s).unwrap();
    }
    drop(opened);
    let again = EditLog::open(&place.path, &base).unwrap();
    assert_eq!(again.history.done, vec![e1.clone()]);
    assert_eq!(again.history.undone, vec![e2]);
    assert!(again.notes.is_empty());
    drop(again);
    // The process died while writing a line: the line is dropped and said, the rest kept,
    // and the file is cut back so the next edit starts on a line of its own.
    let mut bytes = std::fs::read(&place.path).unwrap();
    let good = bytes.len();
    bytes.extend_from_slice(b"{\"op\":\"edit\",\"edit\":{\"kind\":\"add\",\"key\"");
    std::fs::write(&place.path, &bytes).unwrap();
    let mut torn = EditLog::open(&place.path, &base).unwrap();
    assert_eq!(torn.notes.len(), 1);
    assert!(torn.notes[0].en.contains("dropped"));
    assert_eq!(torn.history.done, vec![e1.clone()]);
    assert_eq!(std::fs::metadata(&place.path).unwrap().len() as usize, good);
    torn.log.record(&HistoryStep::Redo).unwrap();
    drop(torn);
    let after = EditLog::open(&place.path, &base).unwrap();
    assert_eq!(after.history.done.len(), 2);
    assert!(after.notes.is_empty());
    drop(after);
    // A log of another dataset is refused, by name.
    let mut other = base.clone();
    other.name = "另一个数据集".into();
    let err = EditLog::open(&place.path, &other).unwrap_err().to_string();
    assert!(
        err.contains("'town'") && err.contains("另一个数据集"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_read_only_data_folder_keeps_its_log_in_the_user_data_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("ro");
    std::fs::create_dir(&data).unwrap();
    let base = load(&town(&data, 2));
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    // root writes anywhere: the check is meaningful only for other users.
    let probe = data.join("probe");
    let writable = std::fs::write(&probe, b"x").is_ok();
    let _ = std::fs::remove_file(&probe);
    let place = log_place(&base);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    if writable {
        eprintln!("skipped: this user can write a 0555 folder (root)");
        return;
    }
    assert_eq!(place.moved_from.as_deref(), Some(data.as_path()));
    assert!(place.path.starts_with(carecircle::files::user_data_dir()));
    // The walking-graph cache follows the same rule (an installed demo in /usr/share).
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let cache = carecircle::io::graph::cache_dir(&base);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        cache.starts_with(carecircle::files::user_data_dir()),
        "{cache:?}"
    );
}

/// The same rule where even root cannot write (a folder under /proc stands in for
/// read-only media): this part runs on every machine, CI's root included.
#[cfg(target_os = "linux")]
#[test]
fn a_folder_no_one_can_write_keeps_log_and_cache_in_the_user_data_directory() {
    let ds = Dataset::new(
        "只读",
        PathBuf::from("/proc/carecircle-read-only/dataset.toml"),
        carecircle::geom::LocalProjection::for_longitude(126.6),
    );
    let place = log_place(&ds);
    assert_eq!(
        place.moved_from.as_deref(),
        Some(Path::new("/proc/carecircle-read-only"))
    );
    assert!(
        place.path.starts_with(carecircle::files::user_data_dir()),
        "{place:?}"
    );
    let cache = carecircle::io::graph::cache_dir(&ds);
    assert!(
        cache.starts_with(carecircle::files::user_data_dir()),
        "{cache:?}"
    );
}

#[test]
fn the_edited_layer_keeps_every_attribute_and_writes_changes_into_the_source_columns() {
    let dir = tempfile::tempdir().unwrap();
    let base = load(&town(dir.path(), 3));
    let e1 = Edit::modify(&base, base.facilities[0].id, EditKind::Change, |r| {
        r.name = "新名称".into();
        r.capacity = Some(30.0);
    })
    .unwrap();
    let at = base.facilities[1].location.unwrap();
    let add = Edit::add(
        &base,
        &add_layer(&base, FacilityKind::DayCare),
        record_at(&base, at.x(), at.y() + 50.0, "加的"),
    );
    let (ds, _) = apply_edits(&base, &[e1, add]);
    let fs = facility_features(&ds, &base);
    assert_eq!(fs.len(), 4);
    let p0 = &fs[0]["properties"];
    assert_eq!(p0["编号"], "D00000");
    assert_eq!(p0["名称"], "新名称");
    assert_eq!(p0["床位"], 30.0);
    assert_eq!(p0["备注"], "note 0");
    assert!(
        p0.get("name").is_none() && p0.get("capacity").is_none(),
        "{p0}"
    );
    // Unedited: the source's properties exactly.
    assert_eq!(
        fs[1]["properties"],
        json!({"编号": "D00001", "名称": "照料室1", "类型": "日间照料室", "床位": 10, "备注": "note 1"})
    );
    // New: our columns, the generated id said as such.
    assert_eq!(fs[3]["properties"]["id"], "edit-1");
    assert_eq!(fs[3]["properties"]["name"], "加的");
    // Written and read back in every format: ids and the unknown column survive.
    for ext in ["geojson", "gpkg", "xlsx", "csv"] {
        let sub = dir.path().join(format!("out_{ext}"));
        std::fs::create_dir(&sub).unwrap();
        let out = sub.join(format!("edited.{ext}"));
        write_facilities(&out, &ds, &base).unwrap();
        let back = carecircle::io::load_path(&out).unwrap();
        assert_eq!(back.facilities.len(), 4, "{ext}");
        let ids: Vec<&str> = back
            .facilities
            .iter()
            .map(|f| f.source_id.as_str())
            .collect();
        assert_eq!(ids, ["D00000", "D00001", "D00002", "edit-1"], "{ext}");
        assert_eq!(back.facilities[0].name, "新名称", "{ext}");
        assert_eq!(back.facilities[0].capacity, Some(30.0), "{ext}");
        assert_eq!(
            carecircle::io::fields::value_text(&back.facilities[2].attributes["备注"]),
            "note 2",
            "{ext}"
        );
        let (x, y) = (
            back.facilities[2].location.unwrap(),
            ds.facilities[2].location.unwrap(),
        );
        assert!(
            (x.x() - y.x()).hypot(x.y() - y.y()) < 0.05,
            "{ext}: {x:?} vs {y:?}"
        );
    }
}

/// The export a planner saves while the machine dies: killed at random moments, 200 times,
/// the file is always the old or the new state, never a mix or a truncation.
#[test]
fn kill_9_mid_save_leaves_the_old_or_the_new_file() {
    let dir = tempfile::tempdir().unwrap();
    let data = town(&dir.path().join("data").tap_mkdir(), 5_000);
    let base = load(&data);
    // Two logs, two states: renamed facilities in A, a deletion in B.
    let mut logs = Vec::new();
    for (i, edit) in [
        Edit::modify(&base, base.facilities[0].id, EditKind::Change, |r| {
            r.name = "状态A".into()
        })
        .unwrap(),
        Edit::delete(&base, base.facilities[5].id).unwrap(),
    ]
    .into_iter()
    .enumerate()
    {
        let p = dir.path().join(format!("log{i}.jsonl"));
        let mut o = EditLog::open(&p, &base).unwrap();
        o.log
            .record(&HistoryStep::Edit {
                edit: Box::new(edit),
            })
            .unwrap();
        logs.push(p);
    }
    let out_dir = dir.path().join("out");
    std::fs::create_dir(&out_dir).unwrap();
    let run = |log: &Path, out: &Path| {
        bin()
            .args([
                "edits",
                data.to_str().unwrap(),
                "--log",
                log.to_str().unwrap(),
                "--export",
            ])
            .arg(out)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    // The two complete states, and how long a save takes: the quickest of five runs, so
    // a run slowed by other work on the machine does not set the kills too late.
    let mut states = Vec::new();
    let mut full = std::time::Duration::MAX;
    for i in 0..5 {
        let p = dir.path().join(format!("state{i}.geojson"));
        let t0 = std::time::Instant::now();
        assert!(run(&logs[i % 2], &p).wait().unwrap().success());
        full = full.min(t0.elapsed());
        if i < 2 {
            states.push(std::fs::read(&p).unwrap());
        }
    }
    assert_ne!(states[0], states[1]);
    let out = out_dir.join("facilities.geojson");
    std::fs::write(&out, &states[0]).unwrap();
    let mut rng = carecircle::testkit::xorshift(7);
    let (mut killed, mut finished, mut mid_write) = (0, 0, 0);
    // 200 runs; on a machine where none of them happened to die mid-write (timing
    // varies), up to 200 more aimed at the end of a run until one does.
    for i in 0..400 {
        if i >= 200 && mid_write > 0 {
            break;
        }
        let mut child = run(&logs[(i + 1) % 2], &out);
        // Loading comes first and writing last: the kills fall over the second half of a
        // run and a little past its end, where the file is written.
        let wait = if i < 200 {
            full.mul_f64(0.5 + rng() * 0.6)
        } else {
            full.mul_f64(0.8 + rng() * 0.3)
        };
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            finished += 1;
        } else {
            // A temporary beside the output: the kill lands while the file is written.
            if std::fs::read_dir(&out_dir).unwrap().count() > 1 {
                mid_write += 1;
            }
            child.kill().unwrap(); // SIGKILL
            killed += 1;
        }
        child.wait().unwrap();
        let now = std::fs::read(&out).unwrap();
        assert!(
            now == states[0] || now == states[1],
            "iteration {i}: the file is neither state ({} bytes)",
            now.len()
        );
    }
    eprintln!(
        "kill -9 loop: {killed} killed ({mid_write} while the temporary was being written), {finished} finished, each save ~{full:?}"
    );
    assert!(killed >= 50, "only {killed} of 200 runs were killed");
    assert!(
        mid_write >= 1,
        "no kill landed while the file was being written"
    );
    // Temporaries of killed runs do not pile up: the next save clears them.
    assert!(run(&logs[0], &out).wait().unwrap().success());
    let left: Vec<_> = std::fs::read_dir(&out_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");
}

trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}
impl TapMkdir for PathBuf {
    fn tap_mkdir(self) -> Self {
        std::fs::create_dir_all(&self).unwrap();
        self
    }
}

/// The fixtures' sub-districts, from tools/build_fixtures.py.
fn expected() -> Vec<(String, String, f64, f64)> {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("expected.json")).unwrap())
            .unwrap();
    v["subdistricts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[0].as_str().unwrap().into(),
                r[1].as_str().unwrap().into(),
                r[2].as_f64().unwrap(),
                r[3].as_f64().unwrap(),
            )
        })
        .collect()
}

/// Harbin's units with the fixtures beside them, under a manifest of `layers`.
fn harbin_with(layers: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let maps = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    for f in ["districts.geojson", "subdistricts.geojson"] {
        std::fs::copy(maps.join(f), dir.path().join(f)).unwrap();
    }
    for e in std::fs::read_dir(fixtures()).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
    }
    std::fs::write(
        dir.path().join("dataset.toml"),
        format!(
            "name = \"field\"\n[[layers]]\nrole = \"units\"\npath = \"districts.geojson\"\nlevel = \"district\"\n\
             [[layers]]\nrole = \"units\"\npath = \"subdistricts.geojson\"\nlevel = \"sub_district\"\n{layers}"
        ),
    )
    .unwrap();
    dir
}

#[test]
fn an_excel_list_in_gcj02_with_chinese_headers_loads_without_a_manual_step() {
    let dir = harbin_with(
        "[[layers]]\nrole = \"facilities\"\npath = \"facilities_gcj02.xlsx\"\ncrs = \"GCJ-02\"\n\
         [layers.fields]\ntown = \"街道\"\n",
    );
    let ds = load(dir.path());
    let exp = expected();
    let idx = carecircle::spatial::UnitIndexes::new(&ds);
    let by_id = |id: &str| ds.facilities.iter().find(|f| f.source_id == id).unwrap();
    // Five located rows land in the sub-district they were placed in (GCJ-02 undone), the
    // DMS longitude included; the sixth joins by its 街道 name.
    for (i, id) in ["F001", "F002", "F003", "F004", "F005"].iter().enumerate() {
        let f = by_id(id);
        let u = idx.locate_finest(&ds, f.location.unwrap()).expect(id);
        assert_eq!(ds.unit(u).code, exp[i].0, "{id} in {}", ds.unit(u).name);
        let (lon, lat) = ds
            .projection
            .inverse(f.location.unwrap().x(), f.location.unwrap().y());
        let err = carecircle::geom::haversine_m((lon, lat), (exp[i].2, exp[i].3));
        assert!(err < 1.0, "{id}: {err:.2} m from where it was placed");
    }
    assert_eq!(by_id("F001").kind, FacilityKind::DayCare);
    assert_eq!(by_id("F001").capacity, Some(12.0));
    assert_eq!(by_id("F002").kind, FacilityKind::Nursery);
    assert_eq!(by_id("F002").capacity, Some(60.0));
    assert_eq!(by_id("F002").qualifiers.public_benefit, Some(true));
    assert_eq!(
        by_id("F003").capacity,
        Some(20.0),
        "a number stored as text"
    );
    assert_eq!(by_id("F004").kind, FacilityKind::CareHome);
    let f6 = by_id("F006");
    assert!(f6.location.is_none());
    assert_eq!(ds.unit(f6.unit.unwrap()).code, exp[5].0);
    assert_eq!(by_id("F003").attributes["备注"], "备注3");
    // The formula without a saved value is a warning naming file, sheet, row and column.
    let w: Vec<String> = ds.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter().any(|w| w.contains("facilities_gcj02.xlsx")
            && w.contains("sheet '设施名单' row 9 column F")
            && w.contains("=60+30")),
        "{w:#?}"
    );
}

#[test]
fn a_gis_geopackage_loads_each_table_as_a_layer_with_its_srs() {
    // Opened as a file: both tables become layers, roles guessed.
    let dir = harbin_with(
        "[[layers]]\nrole = \"facilities\"\npath = \"qgis_export.gpkg\"\ntable = \"facilities\"\n",
    );
    let ds = load(dir.path());
    let exp = expected();
    let layer = &ds.layers[2];
    assert_eq!(layer.crs.to_string(), "CGCS2000");
    assert_eq!(ds.facilities.len(), 4);
    let idx = carecircle::spatial::UnitIndexes::new(&ds);
    for (i, f) in ds.facilities.iter().enumerate() {
        assert_eq!(f.source_id, format!("G{:02}", i + 1));
        assert_eq!(f.kind, FacilityKind::DayCare);
        let u = idx.locate_finest(&ds, f.location.unwrap()).unwrap();
        assert_eq!(ds.unit(u).code, exp[4 + i].0);
        assert_eq!(f.attributes["调查员"].as_str().unwrap().chars().count(), 1);
    }
    assert_eq!(ds.facilities[1].qualifiers.standardised, Some(false));
    let whole = carecircle::io::load_path(&dir.path().join("qgis_export.gpkg")).unwrap();
    let names: Vec<&str> = whole.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["facilities", "subdistrict_gaps"]);
    assert_eq!(whole.facilities.len(), 4);
    // The gaps table has no unit level: its features are skipped, each said.
    assert_eq!(whole.units.len(), 0);
    assert_eq!(
        whole
            .warnings
            .iter()
            .filter(|w| w.to_string().contains("level"))
            .count(),
        2
    );
}

#[test]
fn bad_geopackages_are_named() {
    let try_load = |layer: &str| {
        let dir = harbin_with(layer);
        carecircle::io::load_path(dir.path())
            .map(|_| ())
            .unwrap_err()
            .to_string()
    };
    let e = try_load("[[layers]]\nrole = \"facilities\"\npath = \"unknown_srs.gpkg\"\n");
    assert!(
        e.contains("'facilities'") && e.contains("unknown SRS 99001"),
        "{e}"
    );
    let e = try_load("[[layers]]\nrole = \"facilities\"\npath = \"polygons_as_facilities.gpkg\"\n");
    assert!(
        e.contains("'care_homes'") && e.contains("not a point"),
        "{e}"
    );
    let e = try_load("[[layers]]\nrole = \"facilities\"\npath = \"corrupt.gpkg\"\n");
    assert!(
        e.contains("corrupt.gpkg") && e.contains("GeoPackage"),
        "{e}"
    );
    let e = try_load(
        "[[layers]]\nrole = \"facilities\"\npath = \"qgis_export.gpkg\"\ntable = \"nope\"\n",
    );
    assert!(
        e.contains("no feature table 'nope'") && e.contains("subdistrict_gaps"),
        "{e}"
    );
    // Declared in the manifest, the unknown SRS is no obstacle.
    let dir = harbin_with(
        "[[layers]]\nrole = \"facilities\"\npath = \"unknown_srs.gpkg\"\ncrs = \"CGCS2000\"\n",
    );
    assert_eq!(load(dir.path()).facilities.len(), 4);
}

#[test]
fn analyze_outputs_keep_source_ids_and_attributes() {
    let dir = tempfile::tempdir().unwrap();
    let data = town(dir.path(), 1);
    // A demand layer whose points carry their own ids, one far from the only facility.
    let pts: Vec<Value> = [(126.6125, 45.7045, "H-1"), (126.6250, 45.7080, "H-2")]
        .iter()
        .map(|(x, y, id)| {
            json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, y]},
                   "properties": {"id": id, "population": 50, "pop_60plus": 20}})
        })
        .collect();
    std::fs::write(
        data.join("homes.geojson"),
        json!({"type": "FeatureCollection", "features": pts}).to_string(),
    )
    .unwrap();
    let mut m = std::fs::read_to_string(data.join("dataset.toml")).unwrap();
    m.push_str("[[layers]]\nrole = \"demand\"\npath = \"homes.geojson\"\n");
    std::fs::write(data.join("dataset.toml"), m).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let o = bin()
        .args([
            "analyze",
            data.to_str().unwrap(),
            "--minutes",
            "5",
            "--uncovered",
            "points",
            "--geojson",
        ])
        .arg(out.join("a.geojson"))
        .arg("--csv")
        .arg(out.join("csv"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let g: Value = serde_json::from_slice(&std::fs::read(out.join("a.geojson")).unwrap()).unwrap();
    let fs = g["features"].as_array().unwrap();
    let unc: Vec<&Value> = fs
        .iter()
        .filter(|f| f["properties"]["feature_type"] == "uncovered_demand")
        .collect();
    assert!(!unc.is_empty());
    assert!(
        unc.iter().all(|f| f["properties"]["demand_id"] == "H-2"),
        "{unc:?}"
    );
    let csv = std::fs::read_to_string(out.join("csv/uncovered_demand.csv")).unwrap();
    assert!(csv.contains(",H-2,"), "{csv}");
    // Units keep their source attributes beside ours.
    let unit = fs
        .iter()
        .find(|f| f["properties"]["feature_type"] == "unit")
        .unwrap();
    assert_eq!(unit["properties"]["code"], "230102001001");
    // And `reach` writes the demand layer's ids, not 0, 1, 2.
    let o = bin()
        .args([
            "reach",
            data.to_str().unwrap(),
            "--kind",
            "day_care",
            "--mode",
            "euclidean",
            "--csv",
        ])
        .arg(out.join("reach.csv"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = std::fs::read_to_string(out.join("reach.csv")).unwrap();
    let ids: Vec<&str> = r
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(ids, ["H-1", "H-2"], "{r}");
    // A GeoPackage of the same analysis: one table per feature type.
    let o = bin()
        .args([
            "analyze",
            data.to_str().unwrap(),
            "--minutes",
            "5",
            "--uncovered",
            "points",
            "--geojson",
        ])
        .arg(out.join("a.gpkg"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = carecircle::io::gpkg::tables(&out.join("a.gpkg")).unwrap();
    let names: Vec<&str> = t.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["unit", "uncovered_cell", "uncovered_demand"]);
    let raw = carecircle::io::gpkg::read(
        &out.join("a.gpkg"),
        Some("uncovered_demand"),
        false,
        &carecircle::progress::NoProgress,
    )
    .unwrap();
    assert!(raw
        .features
        .iter()
        .all(|f| f.properties["demand_id"] == "H-2"));
}

/// An independent reader: GDAL (through pyogrio) opens the GeoPackages we write — the
/// edited facilities and an analysis — with their tables, CRS, rows and attributes.
#[test]
fn gdal_reads_our_geopackages() {
    let Some(py) = carecircle::testkit::peer_python("pyogrio") else {
        eprintln!("skipped: no Python with pyogrio (scripts/peers.sh installs it)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = load(&town(dir.path(), 3));
    let e = Edit::modify(&base, base.facilities[2].id, EditKind::Change, |r| {
        r.name = "改名后".into()
    })
    .unwrap();
    let (ds, _) = apply_edits(&base, &[e]);
    let out = dir.path().join("edited.gpkg");
    write_facilities(&out, &ds, &base).unwrap();
    let script = "import sys, json, pyogrio\n\
        p = sys.argv[1]\n\
        layers = [[str(n), str(t)] for n, t in pyogrio.list_layers(p)]\n\
        info = pyogrio.read_info(p, layer='facilities')\n\
        df = pyogrio.read_dataframe(p, layer='facilities')\n\
        print(json.dumps({'layers': layers, 'crs': str(info['crs']), 'n': len(df),\n\
            'names': list(df['名称']), 'ids': list(df['编号']), 'x': df.geometry.x.tolist()}, ensure_ascii=False))";
    let v = carecircle::testkit::python_json(&py, script, &[out.as_os_str()]);
    assert_eq!(v["layers"], json!([["facilities", "Point"]]));
    assert_eq!(v["crs"], "EPSG:4326");
    assert_eq!(v["n"], 3);
    assert_eq!(v["names"], json!(["照料室0", "照料室1", "改名后"]));
    assert_eq!(v["ids"], json!(["D00000", "D00001", "D00002"]));
    for (i, x) in v["x"].as_array().unwrap().iter().enumerate() {
        let (lon, _) = ds.projection.inverse(
            ds.facilities[i].location.unwrap().x(),
            ds.facilities[i].location.unwrap().y(),
        );
        assert!((x.as_f64().unwrap() - lon).abs() < 1e-12);
    }
}
