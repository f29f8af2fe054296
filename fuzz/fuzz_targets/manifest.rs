//! `dataset.toml` parsing and checks.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = carecircle::io::manifest::Manifest::from_str(
            text,
            std::path::Path::new("dataset.toml"),
        );
    }
});
