//! Rule preset TOML parsing and its checks (scopes, qualifiers, citations).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = carecircle::coverage::rules::RuleSet::parse(text, "fuzz.toml");
    }
});
