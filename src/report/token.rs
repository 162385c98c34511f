//! `claimlint token`: an evaluated login's tokens and trace, for people or as JSON.

use std::fmt::Write as _;

use crate::eval::{Evaluation, Outcome};

/// The evaluation as JSON: scenario, issued tokens, trace.
pub fn json(evaluation: &Evaluation) -> String {
    let mut text = serde_json::to_string_pretty(evaluation).unwrap_or_else(|_| "{}".into());
    text.push('\n');
    text
}

/// The evaluation for the terminal; every string from the export is escaped on its own line
/// (a line break in a claim name cannot fake a line of output).
pub fn human(evaluation: &Evaluation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Scenario: {}", line(&evaluation.scenario.describe()));
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
        let _ = writeln!(out, "Incomplete: {}", line(&note.to_string()));
    }
    out.push('\n');
    for (token, claims) in &evaluation.tokens() {
        let _ = writeln!(
            out,
            "{} (custom and script-set claims):",
            capitalise(token.label())
        );
        let body = serde_json::to_string_pretty(claims).unwrap_or_default();
        // JSON escapes C0 controls but not DEL, C1 controls or bidi overrides.
        for text in body.lines() {
            let _ = writeln!(out, "  {}", line(text));
        }
        for (claim, when) in evaluation.conditions(*token) {
            let _ = writeln!(out, "  `{}` is issued only {}", line(claim), line(when));
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
        let may = entry
            .when
            .as_ref()
            .map(|w| format!(" ({})", line(w)))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {mark} {} `{}`{may}\n          set by {} at {}:{}\n          {}: {}",
            entry.token.label(),
            line(&entry.claim),
            line(&entry.script),
            line(&entry.file),
            entry.line,
            entry.filter.as_str(),
            line(&entry.reason)
        );
    }
    out
}

fn line(text: &str) -> std::borrow::Cow<'_, str> {
    super::escape::line(text)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
