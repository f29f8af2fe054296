//! Data safety and trust, tried as a hostile-but-realistic user would: outputs never land
//! on inputs, `write_atomic` keeps what a path is (symlink, device, FIFO, permissions, hard
//! links, `-`), bad numbers are refused with their name, and nothing aborts.
// Fixtures are scratch files in temporary folders: plain writes are fine here.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use carecircle::io::write::{write_atomic, Inputs, OutputFormat};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_carecircle"))
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("the binary runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A copy of the Heihe demo in a temporary folder (a failed refusal must not destroy the
/// repository's files).
fn heihe_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/heihe");
    let dst = dir.path().join("heihe");
    std::fs::create_dir(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), dst.join(e.file_name())).unwrap();
        }
    }
    (dir, dst)
}

/// Runs `args` (with `{}` replaced by the dataset copy) and checks it fails, says `why`,
/// and leaves `victim` byte-identical.
fn refuses_over(args: &[&str], victim: &str, why: &str) {
    let (_tmp, ds) = heihe_copy();
    let victim = ds.join(victim);
    let before = std::fs::read(&victim).unwrap();
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{}", &ds.display().to_string()))
        .collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&args);
    let t = text(&o);
    assert!(!o.status.success(), "{args:?} succeeded: {t}");
    assert!(t.contains(why), "{t}");
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        before,
        "{args:?} changed the input"
    );
}

const OVER_INPUT: &str = "refusing to write the output over an input";

#[test]
fn outputs_never_overwrite_inputs() {
    refuses_over(
        &["analyze", "{}", "--json", "{}/../heihe/dataset.toml"],
        "dataset.toml",
        "this output is Json",
    );
    refuses_over(
        &["analyze", "{}", "--geojson", "{}/counties_gcj02.geojson"],
        "counties_gcj02.geojson",
        OVER_INPUT,
    );
    refuses_over(
        &[
            "reach",
            "{}",
            "--kind",
            "day_care",
            "--csv",
            "{}/villages.csv",
        ],
        "villages.csv",
        OVER_INPUT,
    );
    refuses_over(
        &[
            "propose",
            "{}",
            "--kind",
            "day_care",
            "--out",
            "{}/townships.csv",
        ],
        "townships.csv",
        OVER_INPUT,
    );
    refuses_over(
        &[
            "propose",
            "{}",
            "--kind",
            "day_care",
            "--json",
            "{}/./planned_projects.csv",
        ],
        "planned_projects.csv",
        "this output is Json",
    );
    refuses_over(
        &["map", "{}", "--out", "{}/counties_gcj02.geojson"],
        "counties_gcj02.geojson",
        ".png",
    );
}

#[test]
fn candidates_are_inputs_too() {
    let (_tmp, ds) = heihe_copy();
    let cands = ds.join("cands.geojson");
    std::fs::write(
        &cands,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":"c1"},"geometry":{"type":"Point","coordinates":[127.5,50.2]}}]}"#,
    )
    .unwrap();
    let before = std::fs::read(&cands).unwrap();
    let c = cands.display().to_string();
    let o = run(&[
        "propose",
        &ds.display().to_string(),
        "--kind",
        "day_care",
        "--candidates",
        &c,
        "--out",
        &c,
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains(OVER_INPUT), "{}", text(&o));
    assert_eq!(std::fs::read(&cands).unwrap(), before);
}

#[test]
fn a_symlinked_input_is_still_an_input() {
    let (_tmp, ds) = heihe_copy();
    let link = ds.join("out.json");
    std::os::unix::fs::symlink(ds.join("dataset.toml"), &link).unwrap();
    let before = std::fs::read(ds.join("dataset.toml")).unwrap();
    let o = run(&[
        "analyze",
        &ds.display().to_string(),
        "--json",
        &link.display().to_string(),
    ]);
    assert!(!o.status.success(), "{}", text(&o));
    assert_eq!(std::fs::read(ds.join("dataset.toml")).unwrap(), before);
}

#[test]
fn the_graph_cache_is_an_input() {
    let dir = tempfile::tempdir().unwrap();
    let ds = carecircle::io::load_path(&Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/heihe"))
        .unwrap();
    let inputs = Inputs::of_dataset(&ds);
    let cache = carecircle::io::graph::cache_dir(&ds).join("graph-0123.bin");
    assert!(inputs.check(&cache).is_err());
    assert!(inputs.check(&dir.path().join("fine.json")).is_ok());
    assert!(inputs.check(Path::new("-")).is_ok());
}

#[test]
fn an_extension_must_match_the_format() {
    let (_tmp, ds) = heihe_copy();
    let out = ds.join("map.jpg");
    let o = run(&[
        "map",
        &ds.display().to_string(),
        "--out",
        &out.display().to_string(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains(".png"), "{}", text(&o));
    assert!(!out.exists(), "PNG bytes were written under a .jpg name");
    assert!(OutputFormat::Csv.check(Path::new("a.json")).is_err());
    assert!(OutputFormat::GeoJson.check(Path::new("a.GeoJSON")).is_ok());
    assert!(OutputFormat::Json.check(Path::new("-")).is_ok());
    assert!(OutputFormat::Json.check(Path::new("/dev/null")).is_ok());
}

#[test]
fn dash_is_standard_output() {
    let (tmp, ds) = heihe_copy();
    let o = bin()
        .current_dir(tmp.path())
        .args(["analyze", &ds.display().to_string(), "--json", "-"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("stdout is the JSON alone");
    assert!(v.get("rules").is_some());
    assert!(
        !tmp.path().join("-").exists(),
        "a file named '-' was written"
    );
}

#[test]
fn a_symlink_is_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("real.json");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.path().join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    write_atomic(&link, b"new").unwrap();
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(&target).unwrap(), b"new");
    // A dangling link creates its target.
    let dangling = dir.path().join("dangling.json");
    std::os::unix::fs::symlink("made.json", &dangling).unwrap();
    write_atomic(&dangling, b"x").unwrap();
    assert_eq!(std::fs::read(dir.path().join("made.json")).unwrap(), b"x");
    assert!(std::fs::symlink_metadata(&dangling)
        .unwrap()
        .file_type()
        .is_symlink());
}

#[test]
fn devices_are_written_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    for dev in ["/dev/null", "/dev/full"] {
        let p = Path::new(dev);
        if !p.exists() {
            continue;
        }
        let r = write_atomic(p, b"bytes");
        let t = std::fs::metadata(p).unwrap().file_type();
        assert!(t.is_char_device(), "{dev} was replaced");
        if dev == "/dev/full" {
            let e = r.expect_err("/dev/full is full");
            assert!(e.to_string().contains("/dev/full"), "{e}");
        } else {
            r.unwrap();
        }
    }
}

#[test]
fn a_fifo_is_written_not_replaced() {
    use std::os::unix::fs::FileTypeExt;
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.csv");
    let made = Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("mkfifo unavailable: skipped");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(&fifo).unwrap())
    };
    write_atomic(&fifo, b"a,b\n").unwrap();
    assert_eq!(reader.join().unwrap(), b"a,b\n");
    assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
}

#[test]
fn permissions_and_hard_links_are_kept() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("private.csv");
    std::fs::write(&f, b"old").unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    write_atomic(&f, b"new").unwrap();
    let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "{mode:o}");
    assert_eq!(std::fs::read(&f).unwrap(), b"new");

    let other = dir.path().join("other-name.csv");
    std::fs::hard_link(&f, &other).unwrap();
    write_atomic(&f, b"newer").unwrap();
    assert_eq!(
        std::fs::read(&other).unwrap(),
        b"newer",
        "the hard link broke"
    );
    // Nothing of ours is left behind.
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".tmp-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn stale_temporaries_are_cleaned() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("gaps.csv");
    // PIDs above the kernel's maximum never run; PID 1 always does.
    let stale = dir.path().join(".gaps.csv.tmp-4194399");
    let live = dir.path().join(".gaps.csv.tmp-1");
    std::fs::write(&stale, b"half").unwrap();
    std::fs::write(&live, b"someone else's").unwrap();
    write_atomic(&f, b"x").unwrap();
    assert!(!stale.exists(), "the dead run's temporary is still there");
    assert!(live.exists(), "a running process's temporary was removed");
}

#[test]
fn a_folder_is_not_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = write_atomic(dir.path(), b"x").unwrap_err();
    assert!(e.to_string().contains(&dir.path().display().to_string()));
}

#[test]
fn numbers_out_of_range_are_refused_by_name() {
    let ds = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    let ds = ds.display().to_string();
    for (args, name) in [
        (vec!["analyze", &ds, "--minutes", "inf"], "--minutes"),
        (
            vec!["analyze", &ds, "--speed", "inf"],
            "--minutes / --speed",
        ),
        (vec!["analyze", &ds, "--speed", "0"], "--minutes / --speed"),
        (vec!["analyze", &ds, "--max-snap=-1"], "--max-snap"),
        (vec!["analyze", &ds, "--max-snap", "NaN"], "--max-snap"),
        (
            vec![
                "reach",
                &ds,
                "--kind",
                "day_care",
                "--max-minutes",
                "inf",
                "--csv",
                "/tmp/x.csv",
            ],
            "--max-minutes",
        ),
        (
            vec![
                "catchments",
                &ds,
                "--kind",
                "day_care",
                "--bands",
                "1e9",
                "--geojson",
                "/tmp/x.geojson",
            ],
            "--bands",
        ),
        (
            vec![
                "catchments",
                &ds,
                "--kind",
                "day_care",
                "--cell",
                "0.01",
                "--geojson",
                "/tmp/x.geojson",
            ],
            "--cell",
        ),
    ] {
        let o = run(&args);
        let t = text(&o);
        assert!(!o.status.success(), "{args:?} was accepted: {t}");
        assert!(t.contains(name), "{args:?}: {t}");
        assert_eq!(
            o.status.code(),
            Some(1),
            "{args:?} did not exit cleanly: {t}"
        );
    }
}

#[test]
fn a_cell_too_fine_for_the_extent_is_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bands.geojson");
    let ds = Path::new(env!("CARGO_MANIFEST_DIR")).join("maps/harbin");
    let t0 = std::time::Instant::now();
    let o = run(&[
        "catchments",
        &ds.display().to_string(),
        "--kind",
        "day_care",
        "--cell",
        "1",
        "--geojson",
        &out.display().to_string(),
    ]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(t.contains("--cell 1: the band raster would need"), "{t}");
    assert!(t0.elapsed().as_secs() < 30, "took {:?}", t0.elapsed());
}

/// Loads a folder holding `files` (name, text) and a manifest; returns the load's result.
fn load_files(
    manifest: &str,
    files: &[(&str, &str)],
) -> (
    tempfile::TempDir,
    carecircle::Result<carecircle::model::Dataset>,
) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dataset.toml"), manifest).unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let r = carecircle::io::load_path(dir.path());
    (dir, r)
}

fn warnings(ds: &carecircle::model::Dataset) -> String {
    ds.warnings
        .iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

const UNIT: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"甲","code":"230102001","level":"community","population":1000,"pop_60plus":300},"geometry":{"type":"Polygon","coordinates":[[[126.6,45.7],[126.7,45.7],[126.7,45.8],[126.6,45.7]]]}}]}"#;

#[test]
fn special_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("units.geojson");
    if !Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        return;
    }
    std::fs::write(
        dir.path().join("dataset.toml"),
        "[[layers]]\nrole = \"units\"\npath = \"units.geojson\"\n",
    )
    .unwrap();
    // Would hang forever if the loader opened the FIFO.
    let e = carecircle::io::load_path(dir.path())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a regular file"), "{e}");
    assert!(e.contains("units.geojson"), "{e}");
    // A symlink to a device is refused the same way.
    let dev = dir.path().join("dev.geojson");
    std::os::unix::fs::symlink("/dev/zero", &dev).unwrap();
    let e = carecircle::io::load_path(&dev).unwrap_err().to_string();
    assert!(e.contains("not a regular file"), "{e}");
}

#[test]
fn a_semicolon_csv_is_read_by_its_separator() {
    let (_d, r) = load_files(
        "[[layers]]\nrole = \"facilities\"\npath = \"f.csv\"\nkind = \"day_care\"\n",
        &[("f.csv", "name;lon;lat\nA;126.65;45.75\nB;126.66;45.76\n")],
    );
    let ds = r.unwrap();
    assert_eq!(ds.facilities.len(), 2);
    assert!(ds.facilities.iter().all(|f| f.location.is_some()));
    assert!(warnings(&ds).contains("semicolons"), "{}", warnings(&ds));
}

#[test]
fn a_txt_holding_geojson_is_read_as_geojson_with_a_warning() {
    let (_d, r) = load_files(
        "[[layers]]\nrole = \"units\"\npath = \"units.txt\"\n",
        &[("units.txt", UNIT)],
    );
    let ds = r.unwrap();
    assert_eq!(ds.units.len(), 1);
    assert!(warnings(&ds).contains("holds GeoJson"), "{}", warnings(&ds));
}

#[test]
fn a_null_geometry_is_said() {
    let text = UNIT.replace(
        r#"{"type":"Polygon","coordinates":[[[126.6,45.7],[126.7,45.7],[126.7,45.8],[126.6,45.7]]]}"#,
        "null",
    );
    let two = text.replace(
        r#"]}"#,
        r#",{"type":"Feature","properties":{"name":"乙","code":"230102002","level":"community"},"geometry":{"type":"Polygon","coordinates":[[[126.6,45.7],[126.7,45.7],[126.7,45.8],[126.6,45.7]]]}}]}"#,
    );
    let (_d, r) = load_files(
        "[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\n",
        &[("u.geojson", &two)],
    );
    let ds = r.unwrap();
    let w = warnings(&ds);
    assert!(w.contains("no geometry (null)") && w.contains("甲"), "{w}");
}

#[test]
fn impossible_populations_are_dropped_with_a_warning() {
    let text = UNIT
        .replace(r#""population":1000"#, r#""population":1e308"#)
        .replace(
            r#"]}"#,
            r#",{"type":"Feature","properties":{"name":"乙","code":"230102002","level":"community","population":100,"pop_60plus":500},"geometry":{"type":"Polygon","coordinates":[[[126.6,45.7],[126.7,45.7],[126.7,45.8],[126.6,45.7]]]}}]}"#,
        );
    let (_d, r) = load_files(
        "[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\n",
        &[("u.geojson", &text)],
    );
    let ds = r.unwrap();
    let w = warnings(&ds);
    assert!(w.contains("more than live in China"), "{w}");
    assert!(
        w.contains("pop_60plus 500 is more than the whole population 100"),
        "{w}"
    );
    assert_eq!(ds.units[0].population.total, None);
    assert_eq!(ds.units[1].population.aged_60plus, None);
    assert_eq!(ds.units[1].population.total, Some(100.0));
}

#[test]
fn crs_problems_name_the_file() {
    let (_d, r) = load_files(
        "[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\ncrs = \"EPSG:999999\"\n",
        &[("u.geojson", UNIT)],
    );
    let e = r.unwrap_err().to_string();
    assert!(e.contains("u.geojson") && e.contains("EPSG:999999"), "{e}");
    // Swiss coordinates, correctly declared: outside China, said as such (the extent used
    // to come out with min > max).
    let swiss = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"A","code":"1","level":"community"},"geometry":{"type":"Polygon","coordinates":[[[2600000,1200000],[2601000,1200000],[2601000,1201000],[2600000,1200000]]]}}]}"#;
    let (_d, r) = load_files(
        "[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\ncrs = \"EPSG:2056\"\n",
        &[("u.geojson", swiss)],
    );
    let e = r.unwrap_err().to_string();
    // With PROJ it converts, and lands outside China; without, the build says it cannot.
    let why = if cfg!(feature = "proj") {
        "outside China"
    } else {
        "EPSG:2056 needs PROJ"
    };
    assert!(e.contains(why) && e.contains("u.geojson"), "{e}");
}

#[test]
fn json_never_says_minus_zero() {
    let mut v = serde_json::json!({"people": -0.0, "list": [-0.0, 1.5], "deep": {"x": -0.0}});
    carecircle::report::no_negative_zero(&mut v);
    let t = v.to_string();
    assert!(!t.contains("-0"), "{t}");
}

#[test]
fn info_says_where_a_layer_outside_the_folder_was_read_from() {
    let dir = tempfile::tempdir().unwrap();
    let ds = dir.path().join("ds");
    std::fs::create_dir(&ds).unwrap();
    std::fs::write(dir.path().join("u.geojson"), UNIT).unwrap();
    std::fs::write(
        ds.join("dataset.toml"),
        "[[layers]]\nrole = \"units\"\npath = \"../u.geojson\"\n",
    )
    .unwrap();
    let o = run(&["info", &ds.display().to_string()]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("outside the dataset folder"), "{t}");
}

#[test]
fn demand_points_outside_every_unit_are_said() {
    let demand = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"population":10},"geometry":{"type":"Point","coordinates":[126.65,45.72]}},{"type":"Feature","properties":{"population":10},"geometry":{"type":"Point","coordinates":[127.5,46.5]}}]}"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("u.geojson"), UNIT).unwrap();
    std::fs::write(dir.path().join("d.geojson"), demand).unwrap();
    std::fs::write(
        dir.path().join("dataset.toml"),
        "[[layers]]\nrole = \"units\"\npath = \"u.geojson\"\n[[layers]]\nrole = \"demand\"\npath = \"d.geojson\"\n",
    )
    .unwrap();
    let o = run(&["analyze", &dir.path().display().to_string(), "--json", "-"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let said = v.to_string();
    assert!(said.contains("1 demand points lie in no unit"), "{said}");
}
