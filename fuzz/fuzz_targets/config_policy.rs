//! The config and policy loaders: arbitrary bytes as `.claimlint.yaml` (first byte even) or as
//! a user policy file the config names.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let tenant: &[u8] = br#"{"friendly_name": "fuzz"}"#;
    let rule: &[u8] = b"function (user, context, callback) { context.idToken.role = user.role; callback(null, user, context); }";
    let mut files = vec![("tenant.json", tenant), ("rules/a.js", rule), ("rules/a.json", claimlint_fuzz::RULE_META)];
    if first % 2 == 0 {
        files.push((".claimlint.yaml", rest));
    } else {
        files.push((".claimlint.yaml", b"policies: [policies]\n"));
        files.push(("policies/fuzz.yaml", rest));
    }
    claimlint_fuzz::lint_tree(&files, |_, _| {});
});
