//! Shapes read and converted to geometries (shapefile crate + our conversion).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = carecircle::io::shp::shapes_from_bytes(data, std::path::Path::new("fuzz.shp"));
});
