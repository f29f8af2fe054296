//! CSV reading, separator sniffing and GBK fallback included.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::path::Path::new("fuzz.csv");
    let mapping = carecircle::io::fields::FieldMapping::default();
    let _ =
        carecircle::io::csv::read_bytes(data, path, &mapping, &carecircle::progress::NoProgress);
});
