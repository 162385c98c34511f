//! What `claimlint fix` prints: the fixes applied and refused, what they change, and (with
//! `--diff`) the unified diff of every file they touch.

use std::fmt::Write;

use crate::finding::Finding;
use crate::repair::{Consequences, FileChange, FixReport, LoginName};

/// Logins listed by name for one token change; the rest are counted.
const LOGINS_SHOWN: usize = 3;

/// The unified diff of every changed file, headed by its path as shown.
pub fn diff(files: &[FileChange]) -> String {
    let mut out = String::new();
    for file in files {
        let diff = similar::TextDiff::from_lines(&file.before, &file.after);
        let _ = write!(
            out,
            "{}",
            diff.unified_diff()
                .context_radius(3)
                .header(&file.display, &file.display)
        );
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    crate::report::escape::lines(&out).into_owned()
}

/// The fixes and their consequences, for people. `dry_run` words it as what would happen.
pub fn human(report: &FixReport, dry_run: bool) -> String {
    let mut out = String::new();
    for applied in &report.applied {
        let f = &applied.finding;
        if let Some(fix) = &f.fix {
            let verb = if dry_run { "would fix" } else { "fixed" };
            let _ = writeln!(
                out,
                "{verb} ({}) {} {}: {}",
                fix.applicability.as_str(),
                f.policy,
                at(f),
                fix.message
            );
        }
    }
    for refused in &report.refused {
        let f = &refused.finding;
        let message = f.fix.as_ref().map_or("", |x| x.message.as_str());
        let _ = writeln!(out, "not fixed {} {}: {message}", f.policy, at(f));
        let _ = writeln!(out, "  because {}", refused.reason);
        for added in &refused.would_add {
            let _ = writeln!(out, "  it would add {}", described(added));
        }
        let _ = writeln!(out, "  {} applies it anyway", refused.overridden_by);
    }
    for skipped in &report.skipped {
        let f = &skipped.finding;
        let _ = writeln!(out, "not fixed {} {}: {}", f.policy, at(f), skipped.reason);
    }
    if !report.applied.is_empty() {
        out.push('\n');
        out.push_str(&consequences(&report.consequences, dry_run));
    }
    for patch in &report.patches {
        if patch.body.is_some() {
            let _ = writeln!(
                out,
                "\nupdate body for `{}`: {} (the whole `options` object; the endpoint replaces it)\n  {}",
                patch.connection, patch.file, patch.curl
            );
        } else {
            let _ = writeln!(
                out,
                "\nno update body for `{}`: the export does not hold every option's value",
                patch.connection
            );
            for why in &patch.blocked {
                let _ = writeln!(out, "  {why}");
            }
            let _ = writeln!(
                out,
                "  give the values with --keywords FILE, then run `claimlint fix --emit-patch` again"
            );
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    if report.unsafe_available > 0 {
        let _ = writeln!(
            out,
            "{} more {} available with --unsafe-fixes (they change what Auth0 stores or issues; --diff shows them first).",
            report.unsafe_available,
            if report.unsafe_available == 1 {
                "fix is"
            } else {
                "fixes are"
            }
        );
    }
    let files = report.files.len();
    let plural = if files == 1 { "" } else { "s" };
    let _ = match (files, dry_run || !report.written) {
        (0, _) => writeln!(out, "Nothing to fix."),
        (_, true) => writeln!(out, "Would change {files} file{plural}; nothing was written."),
        (_, false) => writeln!(out, "Changed {files} file{plural}."),
    };
    let remaining = &report.remaining;
    let total = remaining.errors + remaining.warnings + remaining.notes;
    let remain = match (dry_run, total) {
        (true, _) => "would remain",
        (false, 1) => "remains",
        (false, _) => "remain",
    };
    let _ = writeln!(
        out,
        "{total} {} {remain} ({} error{}, {} warning{}, {} note{}).",
        if total == 1 { "finding" } else { "findings" },
        remaining.errors,
        if remaining.errors == 1 { "" } else { "s" },
        remaining.warnings,
        if remaining.warnings == 1 { "" } else { "s" },
        remaining.notes,
        if remaining.notes == 1 { "" } else { "s" },
    );
    // Names and messages come from the export: no control character reaches the terminal.
    crate::report::escape::lines(&out).into_owned()
}

/// The consequences, one line each.
fn consequences(c: &Consequences, dry_run: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        if dry_run {
            "What it would change:"
        } else {
            "What changed:"
        }
    );
    for s in &c.storage {
        if !s.no_longer_stored.is_empty() {
            let _ = writeln!(
                out,
                "  logins through `{}` no longer store {}",
                s.connection,
                names(&s.no_longer_stored)
            );
        }
        if !s.newly_stored.is_empty() {
            let _ = writeln!(
                out,
                "  logins through `{}` now store {}",
                s.connection,
                names(&s.newly_stored)
            );
        }
    }
    for t in &c.tokens {
        let mut parts = Vec::new();
        if !t.gained.is_empty() {
            parts.push(format!("gains {}", names(&t.gained)));
        }
        if !t.lost.is_empty() {
            parts.push(format!("loses {}", names(&t.lost)));
        }
        let _ = writeln!(
            out,
            "  the {} {} in {}",
            t.token.label(),
            parts.join(" and "),
            logins(&t.logins)
        );
    }
    if c.storage.is_empty() && c.tokens.is_empty() {
        let _ = writeln!(out, "  no login's tokens or stored profile");
    }
    let _ = writeln!(
        out,
        "  findings: {} fixed, {} added",
        c.fixed.len(),
        c.introduced.len()
    );
    for added in &c.introduced {
        let _ = writeln!(out, "    added {}", described(added));
    }
    out
}

/// `CL105 (error) at file:line:col: message`.
fn described(f: &Finding) -> String {
    format!(
        "{} ({}) at {}: {}",
        f.policy,
        f.severity.as_str(),
        at(f),
        f.message
    )
}

fn at(f: &Finding) -> String {
    format!("{}:{}:{}", f.location.file, f.location.line, f.location.column)
}

fn names(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn logins(logins: &[LoginName]) -> String {
    let shown: Vec<String> = logins
        .iter()
        .take(LOGINS_SHOWN)
        .map(|l| match &l.connection {
            Some(connection) => format!("{} via {} ({})", l.client, connection, l.protocol),
            None => format!("{} ({})", l.client, l.protocol),
        })
        .collect();
    let more = logins.len().saturating_sub(LOGINS_SHOWN);
    let noun = if logins.len() == 1 { "login" } else { "logins" };
    if more > 0 {
        format!("{} {noun}: {} and {more} more", logins.len(), shown.join("; "))
    } else {
        format!("{} {noun}: {}", logins.len(), shown.join("; "))
    }
}

/// The report as JSON.
pub fn json(report: &FixReport) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    text
}
