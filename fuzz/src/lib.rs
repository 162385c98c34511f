//! What the fuzz targets share: writing an input into a temporary export, linting it the way
//! the CLI does, and rendering the report in every output format with the checks every output
//! must pass whatever the input.

use std::path::Path;

use claimlint::report::{concise, github, human, json, sarif};
use claimlint::{CheckOptions, CheckRun};

/// Writes `files` (relative path, bytes) under a fresh temporary folder, lints it with one
/// worker (the fuzzer runs one input at a time) and checks every rendering.
pub fn lint_tree(files: &[(&str, &[u8])], extra: impl FnOnce(&mut CheckOptions, &Path)) {
    let Ok(dir) = tempfile::tempdir() else { return };
    for (path, bytes) in files {
        let target = dir.path().join(path);
        if let Some(parent) = target.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        let _ = std::fs::write(target, bytes);
    }
    let mut options = CheckOptions {
        paths: vec![dir.path().to_path_buf()],
        jobs: Some(1),
        ..CheckOptions::default()
    };
    extra(&mut options, dir.path());
    if let Ok(run) = claimlint::check(&options) {
        render_all(&run);
    }
}

/// Renders `run` in every format and checks what holds for any input: JSON and SARIF parse,
/// and no control character but the line break reaches human, concise or `github` output.
pub fn render_all(run: &CheckRun) {
    let report = &run.report;
    let text = json::render(report);
    assert!(serde_json_ok(&text), "JSON output does not parse");
    let text = sarif::render(report, &run.sources, &run.policies);
    assert!(serde_json_ok(&text), "SARIF output does not parse");
    for text in [
        human::render(report, &run.sources, &human::Style::default()),
        concise::render(report),
        github::render(report),
    ] {
        if let Some(c) = text.chars().find(|&c| c.is_control() && c != '\n') {
            panic!("control character {c:?} in output:\n{text}");
        }
    }
    // One workflow command per finding, however the strings in it look.
    let commands = github::render(report)
        .lines()
        .filter(|line| line.starts_with("::"))
        .count();
    let shown = report.findings.iter().filter(|f| f.suppression.is_none()).count();
    assert_eq!(commands, shown, "a finding spans several workflow commands");
}

fn serde_json_ok(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok()
}

/// A JavaScript string literal holding `bytes` (lossily decoded): JSON strings are.
pub fn js_string(bytes: &[u8]) -> String {
    serde_json::to_string(&String::from_utf8_lossy(bytes)).unwrap_or_else(|_| "''".into())
}

pub const RULE_META: &[u8] = br#"{"name": "fuzz", "enabled": true, "order": 1}"#;
