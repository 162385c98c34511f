//! The `human` format: source snippets with labels and help (miette), a proof for token and
//! profile findings, where to read more, then a summary line.
//!
//! This is the only module that knows miette's types: findings stay plain data. It never asks
//! the terminal anything: width, colour and hyperlinks come in a [`Style`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteDiagnostic, NamedSource};

use super::escape;
use super::{Report, Summary};
use crate::finding::{Finding, Severity};
use crate::proof::{Outcome, Proof, Statement, TraceEntry};
use crate::source::SourceMap;

/// How much of a finding's proof to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProofDetail {
    /// Every claim issued and every trace entry.
    Full,
    /// The login, and only the claims, attributes and trace entries that make the finding true.
    #[default]
    Short,
    /// No proof.
    None,
}

/// How to draw: decided by the caller (the CLI asks the terminal).
#[derive(Debug, Clone)]
pub struct Style {
    pub color: bool,
    /// Columns to fit the output in.
    pub width: usize,
    pub proof: ProofDetail,
    /// Whether to wrap docs references in OSC 8 hyperlinks.
    pub hyperlinks: bool,
    /// Policy id → the URL of its documentation.
    pub docs: BTreeMap<String, String>,
}

impl Default for Style {
    fn default() -> Style {
        Style {
            color: false,
            width: 100,
            proof: ProofDetail::Short,
            hyperlinks: false,
            docs: BTreeMap::new(),
        }
    }
}

/// Renders every finding and the summary line.
pub fn render(report: &Report, sources: &SourceMap, style: &Style) -> String {
    let mut out = render_findings(report, sources, style);
    out.push_str(&files_read(report));
    out.push_str(&summary_wrapped(&report.summary, style.width));
    out
}

/// Renders every finding, without the summary line.
pub fn render_findings(report: &Report, sources: &SourceMap, style: &Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false)
        .with_break_words(false)
        .with_word_separator(textwrap::WordSeparator::AsciiSpace)
        .with_word_splitter(textwrap::WordSplitter::NoHyphenation);
    let mut out = String::new();
    for finding in &report.findings {
        render_finding(&handler, finding, sources, style, &mut out);
    }
    out
}

fn miette_severity(severity: Severity) -> miette::Severity {
    match severity {
        Severity::Error => miette::Severity::Error,
        Severity::Warning => miette::Severity::Warning,
        Severity::Note => miette::Severity::Advice,
    }
}

/// Built-in policies live inside the binary (`claimlint:policies/...`): a note pointing there
/// tells the reader nothing they can open.
fn is_builtin_policy_file(file: &str) -> bool {
    file.starts_with("claimlint:")
}

fn render_finding(
    handler: &GraphicalReportHandler,
    finding: &Finding,
    sources: &SourceMap,
    style: &Style,
    out: &mut String,
) {
    let location = &finding.location;
    let file = sources.get(location.source);
    let mut diagnostic = MietteDiagnostic::new(escape::line(&finding.message).into_owned())
        .with_code(format!("{}/{}", finding.policy, finding.name))
        .with_severity(miette_severity(finding.severity));
    if let Some(help) = &finding.help {
        diagnostic = diagnostic.with_help(escape::lines(help).into_owned());
    }
    let has_text = !file.text().is_empty();
    // Control characters in the file are shown as placeholders of the same length.
    let snippet = escape::snippet(file.text());
    let at = |span: crate::source::Span| (span.start as usize, span.len());
    if has_text {
        let label = escape::line(&label_for(finding)).into_owned();
        let primary = LabeledSpan::new_primary_with_span(Some(label), at(location.span));
        diagnostic = diagnostic.with_label(primary);
    }
    // Related places in the same file become secondary labels; others are listed as notes.
    let mut elsewhere = Vec::new();
    for related in &finding.related {
        if is_builtin_policy_file(&related.location.file) {
            continue;
        }
        // miette draws one snippet per file; a label spanning lines elsewhere in the file would
        // crowd out the primary one, so those become notes instead.
        let single_line = related.location.line == related.location.end_line;
        if related.location.source == location.source && has_text && single_line {
            diagnostic = diagnostic.and_label(LabeledSpan::new_with_span(
                Some(escape::line(&related.message).into_owned()),
                at(related.location.span),
            ));
        } else {
            elsewhere.push(related);
        }
    }
    let name = escape::line(&file.display).into_owned();
    let source = match snippet {
        Some(snippet) => NamedSource::new(name, std::sync::Arc::<str>::from(snippet)),
        None => NamedSource::new(name, file.shared_text()),
    };
    let report = miette::Report::new(diagnostic).with_source_code(source.with_language("json"));
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, report.as_ref()).is_err() {
        rendered = format!(
            "{}: {}\n",
            finding.severity.as_str(),
            escape::line(&finding.message)
        );
    }
    if !has_text {
        let _ = writeln!(rendered, "  --> {}", escape::line(&location.file));
    }
    for related in elsewhere {
        let r = &related.location;
        let note = format!("note: {} ({}:{}:{})", related.message, r.file, r.line, r.column);
        wrap_into(&mut rendered, &escape::line(&note), "  ", "        ", style.width);
    }
    if let Some(suppression) = &finding.suppression {
        let note = format!("suppressed ({}): {}", suppression.kind, suppression.reason);
        wrap_into(&mut rendered, &escape::line(&note), "  ", "        ", style.width);
    }
    if let Some(fix) = &finding.fix {
        let command = match fix.applicability {
            crate::fix::Applicability::Safe => "claimlint fix",
            crate::fix::Applicability::Unsafe => "claimlint fix --unsafe-fixes",
        };
        let note = format!(
            "fix ({}, `{command}`): {}",
            fix.applicability.as_str(),
            fix.message
        );
        wrap_into(&mut rendered, &escape::line(&note), "  ", "        ", style.width);
    }
    if let Some(proof) = &finding.proof {
        // `proof:` heads a block whose lines start under the login's description.
        for (i, line) in proof_lines(finding, proof, style.proof).iter().enumerate() {
            let first = if i == 0 { "  " } else { "         " };
            wrap_into(
                &mut rendered,
                &escape::line(line),
                first,
                "           ",
                style.width,
            );
        }
    }
    let docs = docs_line(finding, style);
    wrap_into(&mut rendered, &docs, "  ", "        ", style.width);
    out.push_str(&rendered);
    out.push('\n');
}

/// `see: claimlint explain CL201`, with the policy's docs as an OSC 8 hyperlink where the
/// terminal shows them.
fn docs_line(finding: &Finding, style: &Style) -> String {
    let command = format!("claimlint explain {}", finding.policy);
    match style.docs.get(&finding.policy) {
        Some(url) if style.hyperlinks => format!(
            "see: `{command}` or \u{1b}]8;;{}\u{1b}\\the {} docs\u{1b}]8;;\u{1b}\\",
            escape::line(url),
            escape::line(&finding.policy)
        ),
        _ => format!("see: `{command}`"),
    }
}

/// Writes `text` wrapped to `width`, its first line after `first`, the others after `rest`;
/// words (paths, claim names with hyphens) are never split.
fn wrap_into(out: &mut String, text: &str, first: &str, rest: &str, width: usize) {
    // Hyperlinks carry escape sequences that must not be split; such lines are kept whole.
    if text.contains('\u{1b}') {
        let _ = writeln!(out, "{first}{text}");
        return;
    }
    let options = textwrap::Options::new(width)
        .initial_indent(first)
        .subsequent_indent(rest)
        .break_words(false)
        .word_separator(textwrap::WordSeparator::AsciiSpace)
        .word_splitter(textwrap::WordSplitter::NoHyphenation);
    for line in textwrap::wrap(text, options) {
        let _ = writeln!(out, "{line}");
    }
}

/// The proof as lines: `proof: <login>`, what it issues or stores, the trace, `so ...`.
fn proof_lines(finding: &Finding, proof: &Proof, detail: ProofDetail) -> Vec<String> {
    let mut lines = Vec::new();
    if detail == ProofDetail::None {
        return lines;
    }
    lines.push(format!("proof: {}", proof.scenario.describe()));
    match detail {
        ProofDetail::Full => full_proof(proof, &mut lines),
        _ => short_proof(finding, proof, &mut lines),
    }
    lines.push(format!("so {}", proof.shows));
    lines
}

fn full_proof(proof: &Proof, lines: &mut Vec<String>) {
    for (token, claims) in &proof.tokens {
        let issued = serde_json::to_string(claims).unwrap_or_default();
        lines.push(format!("issued {}: {issued}", token.label()));
        if let Some(may) = proof.may.get(token) {
            for (claim, when) in may {
                lines.push(format!("(`{claim}` only {when})"));
            }
        }
    }
    if let Some(profile) = &proof.profile {
        let stored: Vec<&str> = profile.stored.keys().map(String::as_str).collect();
        lines.push(format!(
            "stored profile through `{}`: {}",
            profile.connection,
            stored.join(", ")
        ));
    }
    for entry in &proof.trace {
        lines.push(trace_line(entry));
    }
}

/// Only what makes the finding true: the claim (or attribute) the statement is about, in the
/// token (or profile) it is about, and the trace entries for that claim.
fn short_proof(finding: &Finding, proof: &Proof, lines: &mut Vec<String>) {
    match &proof.statement {
        Statement::ClaimAbsent { token, claim } => {
            lines.push(format!("issued {} without `{claim}`", token.label()));
        }
        Statement::ClaimIssued { token, claim } => {
            let value = proof
                .tokens
                .get(token)
                .and_then(|claims| claims.get(claim))
                .map(|v| serde_json::to_string(v).unwrap_or_default());
            match value {
                Some(value) => lines.push(format!("issued {} with `{claim}`: {value}", token.label())),
                None => lines.push(format!("issued {} with `{claim}`", token.label())),
            }
            if let Some(when) = proof.may.get(token).and_then(|may| may.get(claim)) {
                lines.push(format!("(only {when})"));
            }
        }
        Statement::MissingOnRefresh { token, claim, login } => {
            lines.push(format!(
                "issued {} without `{claim}`, which {} issues",
                token.label(),
                login.describe()
            ));
        }
        Statement::AttributeStored { attribute } => {
            if let Some(profile) = &proof.profile {
                let from = profile
                    .stored
                    .get(attribute)
                    .map(String::as_str)
                    .unwrap_or("delivered");
                lines.push(format!(
                    "stored profile through `{}` keeps `{attribute}` ({from})",
                    profile.connection
                ));
            }
        }
        Statement::EntryRemovesNothing { entry } => {
            if let Some(profile) = &proof.profile {
                let removed = if profile.removed.is_empty() {
                    "no attribute".to_string()
                } else {
                    profile
                        .removed
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                lines.push(format!(
                    "the deny list of `{}` removes {removed}; `{entry}` removes nothing",
                    profile.connection
                ));
            }
        }
    }
    let claim = match &proof.statement {
        Statement::ClaimAbsent { claim, .. }
        | Statement::ClaimIssued { claim, .. }
        | Statement::MissingOnRefresh { claim, .. } => Some(claim.as_str()),
        _ => finding.claim.as_deref(),
    };
    for entry in proof.trace.iter().filter(|e| Some(e.claim.as_str()) == claim) {
        lines.push(trace_line(entry));
    }
}

fn trace_line(entry: &TraceEntry) -> String {
    let outcome = match entry.outcome {
        Outcome::Kept => "kept",
        Outcome::Dropped => "dropped",
        Outcome::Unresolved => "unresolved",
    };
    let when = entry
        .when
        .as_deref()
        .map(|w| format!(" (only {w})"))
        .unwrap_or_default();
    format!(
        "`{}` ({}:{}): {outcome} by {}: {}{when}",
        entry.claim,
        entry.file,
        entry.line,
        entry.filter.as_str(),
        entry.reason
    )
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
        .map(|file| format!("Read the YAML export {}.\n", escape::line(file)))
        .collect()
}

/// `Found 2 errors, 1 warning and 0 notes in 31 files of 2 exports.`, and how many findings
/// were left out for involving none of the named files.
pub fn summary_line(summary: &Summary) -> String {
    let scope = format!(
        "{} of {}",
        plural(summary.files, "file", "files"),
        plural(summary.exports, "export", "exports")
    );
    let mut line = if summary.errors + summary.warnings + summary.notes == 0 {
        format!("No findings in {scope}.")
    } else {
        format!(
            "Found {}, {} and {} in {scope}.",
            plural(summary.errors, "error", "errors"),
            plural(summary.warnings, "warning", "warnings"),
            plural(summary.notes, "note", "notes"),
        )
    };
    if summary.left_out > 0 {
        let _ = write!(
            line,
            " Left out {} that involve none of the named files (`--all` shows them).",
            plural(summary.left_out, "finding", "findings")
        );
    }
    line
}

/// The summary line wrapped to `width`, ending in a newline.
pub fn summary_wrapped(summary: &Summary, width: usize) -> String {
    let mut out = String::new();
    wrap_into(&mut out, &summary_line(summary), "", "", width);
    out
}

/// `--statistics`: one line per policy with findings, most frequent first, as in ruff.
pub fn statistics(report: &Report) -> String {
    let mut counts: BTreeMap<(&str, &str), (usize, Severity)> = BTreeMap::new();
    for finding in report.findings.iter().filter(|f| f.suppression.is_none()) {
        let entry = counts
            .entry((finding.policy.as_str(), finding.name.as_str()))
            .or_insert((0, finding.severity));
        entry.0 += 1;
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let width = rows.first().map_or(1, |(_, (n, _))| n.to_string().len());
    let mut out = String::new();
    for ((id, name), (count, severity)) in rows {
        let _ = writeln!(
            out,
            "{count:>width$}  {}  {} ({})",
            escape::line(id),
            escape::line(name),
            severity.as_str()
        );
    }
    out
}
