//! A dataset that will not fit is refused before loading, naming the estimate, its largest
//! files and `--max-memory` — in the CLI and in the library call the app's loader makes.
//! (A binary of its own: the limit is set once per process.)

use std::process::Command;

#[test]
fn a_dataset_over_the_limit_is_refused_by_name_before_loading() {
    let o = Command::new(env!("CARGO_BIN_EXE_carecircle"))
        .args(["--max-memory", "1M", "info", "maps/harbin"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for want in [
        "maps/harbin",
        "estimated",
        "harbin.osm.pbf",
        "--max-memory",
        "1 MB",
    ] {
        assert!(err.contains(want), "{want} missing from: {err}");
    }
    // With room, the same command loads.
    let o = Command::new(env!("CARGO_BIN_EXE_carecircle"))
        .args(["--max-memory", "8G", "info", "maps/harbin"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_library_check_the_app_loader_makes_says_it_in_both_languages() {
    use carecircle::io::load::{check_memory, set_memory_limit};
    set_memory_limit(Some(1 << 20));
    let e = check_memory(std::path::Path::new("maps/heihe")).unwrap_err();
    assert!(e.to_string().contains("--max-memory"), "{e}");
    assert!(
        e.zh().contains("内存") && e.zh().contains("--max-memory"),
        "{}",
        e.zh()
    );
}
