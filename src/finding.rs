//! Findings: what claimlint reports, as plain serialisable data.
//!
//! A [`Finding`] knows nothing of terminals or SARIF; reporters in [`crate::report`] render it.
//! Its location is resolved to line and column when it is made, and its fingerprint is built
//! from what it is about (policy, export-relative file, JSON pointer, claim, attribute), never
//! from line numbers, so it survives reformatting of the export.

use serde::{Deserialize, Serialize};

use crate::model::Loc;
use crate::source::{SourceId, SourceMap, Span};

/// How bad a finding is. Ordered: `Note < Warning < Error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A resolved position in a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// Relative to the current directory, forward slashes.
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// JSON pointer of the value inside the file, when the finding is about a value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    #[serde(skip)]
    pub source: SourceId,
    #[serde(skip)]
    pub span: Span,
}

impl Location {
    pub fn resolve(sources: &SourceMap, loc: &Loc) -> Location {
        let file = sources.get(loc.file);
        let start = file.line_col(loc.span.start);
        let end = file.line_col(loc.span.end);
        Location {
            file: file.display.clone(),
            line: start.line,
            column: start.column,
            end_line: end.line,
            end_column: end.column,
            pointer: (!loc.pointer.is_empty()).then(|| loc.pointer.clone()),
            source: loc.file,
            span: loc.span,
        }
    }
}

/// Why a finding was accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppression {
    /// `config` (a `.claimlint.yaml` suppression), `inline` (a comment in the script) or
    /// `baseline`.
    pub kind: &'static str,
    pub reason: String,
}

/// What a finding is about: a client, a connection, a rule...
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Subject {
    pub kind: String,
    pub name: String,
}

/// A secondary place that explains the finding (the policy entry, the deny-list entry...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Related {
    pub message: String,
    pub location: Location,
}

#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The policy id, e.g. `CL201`.
    pub policy: String,
    /// The policy name, e.g. `nested-deny-path`.
    pub name: String,
    pub severity: Severity,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    pub location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attribute: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
    pub fingerprint: String,
    /// Set when a suppression matched and the run was asked to keep suppressed findings
    /// (`--include-suppressed`); such findings never fail the run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppression: Option<Suppression>,
    /// The repair `claimlint fix` can apply, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<crate::fix::Fix>,
    /// For token findings: the evaluated login that shows the finding is real.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proof: Option<crate::eval::Proof>,
    /// The file's path relative to its export, which the fingerprint is built from.
    #[serde(skip)]
    pub export_file: String,
}

impl Finding {
    /// A finding at `loc`; the fingerprint is computed by [`Finding::seal`].
    pub fn new(
        policy: &str,
        name: &str,
        severity: Severity,
        message: String,
        sources: &SourceMap,
        loc: &Loc,
    ) -> Finding {
        Finding {
            policy: policy.to_string(),
            name: name.to_string(),
            severity,
            message,
            help: None,
            location: Location::resolve(sources, loc),
            subject: None,
            claim: None,
            attribute: None,
            token: None,
            related: Vec::new(),
            fingerprint: String::new(),
            proof: None,
            fix: None,
            suppression: None,
            export_file: sources.get(loc.file).export_relative.clone(),
        }
    }

    /// Computes the fingerprint from what the finding is about. `identity` stands in for the
    /// pointer where a finding has none (an input error's message, say).
    pub fn seal(mut self, identity: &str) -> Finding {
        self.reseal(identity);
        self
    }

    /// Recomputes the fingerprint from `identity`: the value's stable pointer, or for findings
    /// without one (scripts, input errors) their message, which names claim and script.
    pub fn reseal(&mut self, identity: &str) {
        let pointer = identity;
        let key = [
            self.policy.as_str(),
            self.export_file.as_str(),
            pointer,
            self.claim.as_deref().unwrap_or(""),
            self.attribute.as_deref().unwrap_or(""),
        ]
        .join("\u{0}");
        self.fingerprint = format!("{:016x}", fnv1a(key.as_bytes()));
    }

    /// The order findings are reported in: file, position, policy, message.
    pub fn sort_key(&self) -> (&str, u32, u32, &str, &str) {
        (
            &self.location.file,
            self.location.line,
            self.location.column,
            &self.policy,
            &self.message,
        )
    }
}

/// 64-bit FNV-1a: small, stable across platforms and releases, enough for fingerprints.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_order_by_weight() {
        assert!(Severity::Note < Severity::Warning && Severity::Warning < Severity::Error);
    }

    #[test]
    fn fnv_is_stable() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
