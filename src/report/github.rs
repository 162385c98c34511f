//! The `github` format: GitHub Actions workflow commands, one per finding, which GitHub shows
//! as annotations on the pull request's diff without code scanning.

use super::Report;
use crate::finding::{Finding, Severity};

/// Escapes a command's message (`%`, CR, LF), as the Actions runner expects; other control
/// characters (ESC, which the log viewer would read as colours) become `\u{..}`.
fn escape_data(text: &str) -> String {
    let text = text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    super::escape::line(&text).into_owned()
}

/// Escapes a property value (`%`, CR, LF, `:` and `,`).
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

fn command(finding: &Finding) -> String {
    let level = match finding.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "notice",
    };
    let at = &finding.location;
    let title = format!("{} {}", finding.policy, finding.name);
    let mut message = finding.message.clone();
    if let Some(help) = &finding.help {
        message.push('\n');
        message.push_str(help);
    }
    if let Some(proof) = &finding.proof {
        message.push_str("\nProof: ");
        message.push_str(&proof.scenario.describe());
        message.push_str("; ");
        message.push_str(&proof.shows);
    }
    format!(
        "::{level} file={},line={},endLine={},col={},endColumn={},title={}::{}",
        escape_property(&at.file),
        at.line,
        at.end_line,
        at.column,
        at.end_column,
        escape_property(&title),
        escape_data(&message)
    )
}

pub fn render(report: &Report) -> String {
    let mut out = String::new();
    for finding in report.findings.iter().filter(|f| f.suppression.is_none()) {
        out.push_str(&command(finding));
        out.push('\n');
    }
    // File names in these lines are escaped by `human`; a line break in one cannot start a
    // command.
    out.push_str(&super::human::files_read(report));
    out.push_str(&super::human::summary_line(&report.summary));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_the_actions_runner() {
        assert_eq!(escape_data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
