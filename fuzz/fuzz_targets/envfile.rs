//! The `KEY=value` env-file reader.
#![no_main]
use libfuzzer_sys::fuzz_target;
use promolint::extract::Format;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    promolint_fuzz::extract_and_check(Format::EnvFile, "clusters/live/.versions.env", &text);
});
