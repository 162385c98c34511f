//! Rendering of findings holding arbitrary strings in every output format: the input becomes a
//! claim name and a rule name, so CL101 findings carry them into messages, labels and proofs.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (claim, name) = data.split_at(data.len() / 2);
    let claim = claimlint_fuzz::js_string(claim);
    let script = format!(
        "function (user, context, callback) {{\n  context.idToken[{claim}] = user.email;\n  context.accessToken[{claim}] = 1;\n  callback(null, user, context);\n}}\n"
    );
    let meta = format!(
        r#"{{"name": {}, "enabled": true, "order": 1}}"#,
        claimlint_fuzz::js_string(name)
    );
    claimlint_fuzz::lint_tree(
        &[("rules/fuzz.js", script.as_bytes()), ("rules/fuzz.json", meta.as_bytes())],
        |_, _| {},
    );
});
