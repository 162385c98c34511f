//! `claimlint token`: an evaluated login's tokens and trace, for people or as JSON.

use std::fmt::Write as _;

use crate::eval::{Evaluation, Outcome};

/// The evaluation as JSON: scenario, issued tokens, trace.
pub fn json(evaluation: &Evaluation) -> String {
    let mut text = serde_json::to_string_pretty(evaluation).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The evaluation for the terminal, control characters from the export escaped.
pub fn human(evaluation: &Evaluation) -> String {
    super::escape::lines(&human_raw(evaluation)).into_owned()
}

fn human_raw(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Scenario: {}", evaluation.scenario.describe());
    let outcome = match evaluation.outcome {
        crate::eval::summary::LoginOutcome::Issued => "tokens are issued",
        crate::eval::summary::LoginOutcome::MayDeny => {
            "some paths deny the login; the others issue these tokens"
        }
        crate::eval::summary::LoginOutcome::Denied => "the login is denied: no tokens",
        crate::eval::summary::LoginOutcome::Unfinished => "no script path completes the login: no tokens",
    };
    let _ = writeln!(out, "Outcome: {outcome}");
    for note in evaluation.incomplete() {
        let _ = writeln!(out, "Incomplete: {note}");
    }
    out.push('\n');
    for (token, claims) in &evaluation.tokens() {
        let _ = writeln!(
            out,
            "{} (custom and script-set claims):",
            capitalise(token.label())
        );
        let body = serde_json::to_string_pretty(claims).unwrap_or_default();
        for line in body.lines() {
            let _ = writeln!(out, "  {line}");
        }
        for (claim, when) in evaluation.conditions(*token) {
            let _ = writeln!(out, "  `{claim}` is issued only {when}");
        }
        out.push('\n');
    }
    if evaluation.trace().next().is_none() {
        out.push_str("Trace: no script sets a claim in this login.\n");
        return out;
    }
    out.push_str("Trace:\n");
    for entry in evaluation.trace() {
        let mark = match entry.outcome {
            Outcome::Kept => "kept   ",
            Outcome::Dropped => "DROPPED",
            Outcome::Unresolved => "unknown",
        };
        let may = entry.when.as_ref().map(|w| format!(" ({w})")).unwrap_or_default();
        let _ = writeln!(
            out,
            "  {mark} {} `{}`{may}\n          set by {} at {}:{}\n          {}: {}",
            entry.token.label(),
            entry.claim,
            entry.script,
            entry.file,
            entry.line,
            entry.filter.as_str(),
            entry.reason
        );
    }
    out
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
