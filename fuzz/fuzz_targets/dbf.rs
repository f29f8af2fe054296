//! Our dBASE reader, with and without a declared encoding.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = carecircle::io::dbf::parse(data, None);
    let _ = carecircle::io::dbf::parse(data, Some(encoding_rs::GBK));
});
