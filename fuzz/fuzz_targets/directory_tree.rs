//! The directory loader over a generated tree: the input, split at NUL bytes, is up to eight
//! files, each chunk's first byte choosing the file's path among those an export holds.
#![no_main]
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 16] = [
    "tenant.json",
    "clients/a.json",
    "clients/b.json",
    "rules/a.json",
    "rules/a.js",
    "rules/b.json",
    "rules/b.js",
    "connections/a.json",
    "database-connections/a/database.json",
    "database-connections/a/login.js",
    "actions/a.json",
    "actions/a/code.js",
    "hooks/a.json",
    "hooks/a.js",
    "resource-servers/a.json",
    "rules-configs/a.json",
];

fuzz_target!(|data: &[u8]| {
    let files: Vec<(&str, &[u8])> = data
        .split(|&b| b == 0)
        .take(8)
        .filter_map(|chunk| {
            let (&first, rest) = chunk.split_first()?;
            Some((PATHS[usize::from(first) % PATHS.len()], rest))
        })
        .collect();
    claimlint_fuzz::lint_tree(&files, |_, _| {});
});
