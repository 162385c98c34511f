//! The `human` format: source snippets with labels and help (miette), then a summary line.
//!
//! This is the only module that knows miette's types: findings stay plain data.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use super::{Report, Summary};
use crate::finding::{Finding, Severity};
use crate::source::SourceMap;

/// Renders every finding and the summary line. `color` picks the themed or plain renderer.
pub fn render(report: &Report, sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&handler, finding, sources, &mut out);
    }
    out.push_str(&files_read(report));
    out.push_str(&summary_line(&report.summary));
    out.push('\n');
    out
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

fn render_finding(
    handler: &GraphicalReportHandler,
    finding: &Finding,
    sources: &SourceMap,
    out: &mut String,
) {
    let location = &finding.location;
    let file = sources.get(location.source);
    let mut diagnostic = MietteDiagnostic::new(finding.message.clone())
        .with_code(format!("{}/{}", finding.policy, finding.name))
        .with_severity(miette_severity(finding.severity));
    if let Some(help) = &finding.help {
        diagnostic = diagnostic.with_help(help.clone());
    }
    let has_text = !file.text.is_empty();
    if has_text {
        let span = location.span;
        let primary =
            LabeledSpan::new_primary_with_span(Some(label_for(finding)), (span.start as usize, span.len()));
        diagnostic = diagnostic.with_label(primary);
    }
    // Related places in the same file become secondary labels; others are listed as notes.
    let mut elsewhere = Vec::new();
    for related in &finding.related {
        // miette draws one snippet per file; a label spanning lines elsewhere in the file would
        // crowd out the primary one, so those become notes instead.
        let single_line = related.location.line == related.location.end_line;
        if related.location.source == location.source && has_text && single_line {
            let span = related.location.span;
            diagnostic = diagnostic.with_label(LabeledSpan::new_with_span(
                Some(related.message.clone()),
                (span.start as usize, span.len()),
            ));
        } else {
            elsewhere.push(related);
        }
    }
    let report = miette::Report::new(diagnostic)
        .with_source_code(NamedSource::new(file.display.clone(), file.text.clone()).with_language("json"));
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, report.as_ref()).is_err() {
        rendered = format!("{}: {}\n", finding.severity.as_str(), finding.message);
    }
    if !has_text {
        let _ = writeln!(rendered, "  --> {}", location.file);
    }
    for related in elsewhere {
        let r = &related.location;
        let _ = writeln!(
            rendered,
            "  note: {} ({}:{}:{})",
            related.message, r.file, r.line, r.column
        );
    }
    if let Some(proof) = &finding.proof {
        let _ = writeln!(rendered, "  proof: {}", proof.scenario.describe());
        for (token, claims) in &proof.tokens {
            let issued = serde_json::to_string(claims).unwrap_or_default();
            let _ = writeln!(rendered, "         issued {}: {issued}", token.label());
            if let Some(may) = proof.may.get(token) {
                for (claim, when) in may {
                    let _ = writeln!(rendered, "           (`{claim}` only {when})");
                }
            }
        }
        if let Some(profile) = &proof.profile {
            let stored: Vec<&str> = profile.stored.keys().map(String::as_str).collect();
            let _ = writeln!(
                rendered,
                "         stored profile through `{}`: {}",
                profile.connection,
                stored.join(", ")
            );
        }
        for entry in &proof.trace {
            let outcome = match entry.outcome {
                crate::eval::Outcome::Kept => "kept",
                crate::eval::Outcome::Dropped => "dropped",
                crate::eval::Outcome::Unresolved => "unresolved",
            };
            let _ = writeln!(
                rendered,
                "         `{}` ({}:{}): {outcome} by {}: {}",
                entry.claim,
                entry.file,
                entry.line,
                entry.filter.as_str(),
                entry.reason
            );
        }
        let _ = writeln!(rendered, "         so {}", proof.shows);
    }
    out.push_str(&rendered);
    out.push('\n');
}

fn label_for(finding: &Finding) -> String {
    match (&finding.claim, &finding.attribute) {
        (Some(claim), _) => format!("claim `{claim}`"),
        (None, Some(attribute)) => format!("attribute `{attribute}`"),
        (None, None) => finding.severity.as_str().to_string(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// One line per export read from a YAML file not named `tenant.yaml` (`prod.yaml`): the folder
/// alone does not say which file was linted.
pub fn files_read(report: &Report) -> String {
    report
        .exports
        .iter()
        .filter_map(|e| e.file.as_ref())
        .map(|file| format!("Read the YAML export {file}.\n"))
        .collect()
}

/// `Found 2 errors, 1 warning and 0 notes in 31 files of 2 exports.`
pub fn summary_line(summary: &Summary) -> String {
    let scope = format!(
        "{} of {}",
        plural(summary.files, "file", "files"),
        plural(summary.exports, "export", "exports")
    );
    if summary.errors + summary.warnings + summary.notes == 0 {
        return format!("No findings in {scope}.");
    }
    format!(
        "Found {}, {} and {} in {scope}.",
        plural(summary.errors, "error", "errors"),
        plural(summary.warnings, "warning", "warnings"),
        plural(summary.notes, "note", "notes"),
    )
}
