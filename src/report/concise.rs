//! The `concise` format: one line per finding, `file:line:col: CL101 message`, as ruff's
//! `concise` and oxlint's `unix` formats print, for editors' problem matchers and `grep`.

use std::fmt::Write as _;

use super::Report;
use crate::finding::Finding;

/// One finding on one line: control characters (a newline in a claim name) are escaped as
/// `\u{a}`, so a line is always one finding and nothing reaches the terminal raw.
pub fn line(finding: &Finding) -> String {
    let at = &finding.location;
    let mut text = format!(
        "{}:{}:{}: {} {}",
        at.file, at.line, at.column, finding.policy, finding.message
    );
    if let Some(suppression) = &finding.suppression {
        let _ = write!(text, " (suppressed: {})", suppression.reason);
    }
    super::escape::line(&text).into_owned()
}

/// Every finding, one per line, in report order.
pub fn render_findings(report: &Report) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&line(finding));
        out.push('\n');
    }
    out
}

/// Every finding, then the summary line.
pub fn render(report: &Report) -> String {
    let mut out = render_findings(report);
    out.push_str(&super::human::summary_line(&report.summary));
    out.push('\n');
    out
}
