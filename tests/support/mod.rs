//! Helpers shared by the fixture tests (`tests/checks.rs`, `tests/analysis.rs`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use claimlint::finding::Finding;
use claimlint::model::ExportFormat;
use claimlint::{CheckOptions, CheckRun, INPUT_ERROR};

/// A check and the built-in policy bound to it.
pub struct Case {
    pub check: &'static str,
    pub policy: &'static str,
    pub name: &'static str,
}

/// `tests/fixtures/<check>/<form>`.
pub fn fixture(check: &str, form: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(check)
        .join(form)
}

/// Runs `claimlint check` on `tests/fixtures/<check>/<form>` with one worker thread; the
/// fixture must load without input errors, as one export of the format its name says.
pub fn run(check: &str, form: &str) -> CheckRun {
    let root = fixture(check, form);
    let run = claimlint::check(&CheckOptions {
        paths: vec![root.clone()],
        jobs: Some(1),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{}: {e}", root.display()));
    let input_errors: Vec<&str> = run
        .report
        .findings
        .iter()
        .filter(|f| f.policy == INPUT_ERROR.0)
        .map(|f| f.message.as_str())
        .collect();
    assert!(input_errors.is_empty(), "{check}/{form}: {input_errors:?}");
    // Every proof a check attached was re-derived by the engine; a refused one is a bug.
    assert!(
        run.refused_proofs.is_empty(),
        "{check}/{form}: refused proofs: {:#?}",
        run.refused_proofs
    );
    assert_eq!(run.report.exports.len(), 1, "{check}/{form}: one export");
    let expected = if form.ends_with("yaml") {
        ExportFormat::Yaml
    } else {
        ExportFormat::Directory
    };
    assert_eq!(run.report.exports[0].format, expected, "{check}/{form}");
    run
}

/// The findings of `case`'s policy, in report order.
pub fn findings_of<'a>(case: &Case, run: &'a CheckRun) -> Vec<&'a Finding> {
    let found: Vec<&Finding> = run
        .report
        .findings
        .iter()
        .filter(|f| f.name == case.name)
        .collect();
    for f in &found {
        assert_eq!(f.policy, case.policy, "{} is bound to {}", case.name, case.policy);
    }
    found
}
