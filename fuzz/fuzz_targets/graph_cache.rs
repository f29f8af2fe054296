//! The walking-graph cache reader: header, version, checksum, then the graph's own bytes.
//! The checksum makes random bytes fail early; the raw graph reader is fuzzed as well.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = carecircle::io::graph::from_cache_bytes(data);
    if let Some(g) = carecircle::network::Graph::from_bytes(data) {
        // A graph that parsed must be usable.
        let _ = g.edges_csv();
        let _ = g.to_bytes();
    }
});
