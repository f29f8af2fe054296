//! The OSM PBF wrapper (osmpbf + our scan of ways, buildings and care amenities).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = carecircle::io::osm::read_from(
        std::io::Cursor::new(data),
        std::path::Path::new("fuzz.osm.pbf"),
        &carecircle::progress::NoProgress,
    );
});
