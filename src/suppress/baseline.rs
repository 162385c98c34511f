//! Baselines: adopting claimlint on a tenant that already has findings.
//!
//! `--write-baseline FILE` records the current findings by their semantic fingerprint (policy,
//! file within the export, JSON pointer with list items named, claim or attribute: never a line
//! number), so reformatting or reordering the export does not change them. `--baseline FILE`
//! then reports only findings that are not in it, and reports entries that no longer match
//! anything (CL003), so the file shrinks as the debt is paid.

use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::finding::Finding;
use crate::model::Loc;
use crate::source::{SourceFile, SourceId, SourceMap, Span, display_path};
use crate::syntax::{Node, json};

pub const BASELINE_VERSION: u32 = 1;

/// One recorded finding.
#[derive(Debug, Clone)]
pub struct Entry {
    pub fingerprint: String,
    pub policy: String,
    /// Where the entry is written in the baseline file.
    pub loc: Loc,
}

#[derive(Debug, Clone)]
pub struct Baseline {
    pub file: SourceId,
    pub entries: Vec<Entry>,
}

#[derive(Serialize)]
struct Written<'a> {
    version: u32,
    tool: &'static str,
    findings: Vec<WrittenEntry<'a>>,
}

#[derive(Serialize)]
struct WrittenEntry<'a> {
    fingerprint: &'a str,
    policy: &'a str,
    file: &'a str,
    message: &'a str,
}

/// The baseline file's text for `findings` (input errors and suppressed findings left out).
pub fn render(findings: &[Finding]) -> String {
    let mut entries: Vec<WrittenEntry<'_>> = findings
        .iter()
        .filter(|f| f.suppression.is_none() && f.policy != crate::INPUT_ERROR.0)
        .map(|f| WrittenEntry {
            fingerprint: &f.fingerprint,
            policy: &f.policy,
            file: &f.location.file,
            message: &f.message,
        })
        .collect();
    entries.sort_by(|a, b| (a.policy, a.file, a.fingerprint).cmp(&(b.policy, b.file, b.fingerprint)));
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint && a.policy == b.policy);
    let written = Written {
        version: BASELINE_VERSION,
        tool: "claimlint",
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&written).unwrap_or_default();
    text.push('\n');
    text
}

/// A baseline file read and checked, not yet added to a source map: a run reads it before it
/// lints (its entries say which findings need no proof tokens) and adds it once every export's
/// files are in the map.
#[derive(Debug)]
pub struct Read {
    source: SourceFile,
    /// Each entry's fingerprint, policy, and span in the file.
    entries: Vec<(String, String, Span)>,
}

impl Read {
    /// The policy and fingerprint of each entry.
    pub fn keys(&self) -> impl Iterator<Item = (&str, &str)> {
        self.entries.iter().map(|(f, p, _)| (p.as_str(), f.as_str()))
    }

    /// The baseline, its file added to `sources`.
    pub fn register(self, sources: &mut SourceMap) -> Baseline {
        let file = sources.add(self.source);
        let entries = self
            .entries
            .into_iter()
            .enumerate()
            .map(|(i, (fingerprint, policy, span))| Entry {
                fingerprint,
                policy,
                loc: Loc {
                    file,
                    span,
                    pointer: format!("/findings/{i}"),
                },
            })
            .collect();
        Baseline { file, entries }
    }
}

/// Reads and checks the baseline file at `path`; a malformed one is an error naming the file,
/// line and problem.
pub fn read(path: &Path, cwd: &Path) -> Result<Read, String> {
    let shown = display_path(path, cwd);
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read the baseline {shown}: {e}"))?;
    let parsed = json::parse(&text);
    let source = SourceFile::new(path.to_path_buf(), shown.clone(), shown.clone(), Arc::from(text));
    let located = |node: &Node, message: &str| {
        let at = source.line_col(node.span.start);
        format!("{shown}:{}:{}: {message}", at.line, at.column)
    };
    let Some(root) = parsed.root else {
        let error = parsed
            .errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_default();
        return Err(format!("the baseline {shown} is not valid JSON: {error}"));
    };
    let Some(items) = root.get("findings").and_then(Node::as_array) else {
        return Err(located(
            &root,
            "expected a claimlint baseline: an object with a `findings` list",
        ));
    };
    let mut entries = Vec::with_capacity(items.len());
    for item in items {
        let text = |key: &str| item.get(key).and_then(Node::as_str).map(str::to_string);
        let (Some(fingerprint), Some(policy)) = (text("fingerprint"), text("policy")) else {
            return Err(located(
                item,
                "expected every baseline entry to have a `fingerprint` and a `policy`",
            ));
        };
        entries.push((fingerprint, policy, item.span));
    }
    Ok(Read { source, entries })
}
