//! GeoJSON reading: any bytes give a layer or an error, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.geojson");
    let _ = carecircle::io::geojson::read_bytes(data, path, &carecircle::progress::NoProgress);
});
