//! The YAML export loader, and everything after it, on arbitrary `tenant.yaml` bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    claimlint_fuzz::lint_tree(&[("tenant.yaml", data)], |_, _| {});
});
