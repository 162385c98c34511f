//! The JSON resource loader: arbitrary bytes as one resource file of the directory form, the
//! first byte choosing which.
#![no_main]
use libfuzzer_sys::fuzz_target;

const PLACES: [&str; 8] = [
    "tenant.json",
    "clients/fuzz.json",
    "rules/fuzz.json",
    "connections/fuzz.json",
    "database-connections/fuzz/database.json",
    "actions/fuzz.json",
    "resource-servers/fuzz.json",
    "hooks/fuzz.json",
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let place = PLACES[usize::from(first) % PLACES.len()];
    let script: &[u8] = b"function (user, context, callback) { callback(null, user, context); }";
    claimlint_fuzz::lint_tree(
        &[(place, rest), ("rules/fuzz.js", script), ("actions/fuzz/code.js", b"exports.onExecutePostLogin = async () => {};")],
        |_, _| {},
    );
});
