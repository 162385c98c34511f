//! Script lowering and evaluation on arbitrary JavaScript: the bytes as a rule, or (first byte
//! odd) as a post-login action.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, script)) = data.split_first() else { return };
    // The lowering alone, as every entry point runs it.
    let _ = claimlint::js::analyse(&String::from_utf8_lossy(script));
    if first % 2 == 0 {
        claimlint_fuzz::lint_tree(
            &[("rules/fuzz.js", script), ("rules/fuzz.json", claimlint_fuzz::RULE_META)],
            |_, _| {},
        );
    } else {
        let meta: &[u8] = br#"{"name": "fuzz", "code": "./code.js", "supported_triggers": [{"id": "post-login", "version": "v3"}], "deployed": true}"#;
        let flow: &[u8] = br#"{"bindings": [{"action_name": "fuzz"}]}"#;
        claimlint_fuzz::lint_tree(
            &[("actions/fuzz/code.js", script), ("actions/fuzz.json", meta), ("triggers/post-login.json", flow)],
            |_, _| {},
        );
    }
});
