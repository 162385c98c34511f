//! Listing and explaining policies (`claimlint policies`, `claimlint explain`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::policy::Policy;

#[derive(Serialize)]
struct Listed<'a> {
    id: &'a str,
    name: &'a str,
    severity: &'a str,
    check: &'a str,
    summary: &'a str,
    enabled: bool,
    builtin: bool,
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// The policies as a JSON array.
pub fn json(policies: &[Policy]) -> String {
    let listed: Vec<Listed<'_>> = policies
        .iter()
        .map(|p| Listed {
            id: &p.id,
            name: &p.name,
            severity: p.severity.as_str(),
            check: p.check.name,
            summary: &p.summary,
            enabled: p.enabled,
            builtin: p.builtin,
            tags: &p.tags,
            url: p.docs_url(),
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&listed).unwrap_or_else(|_| "[]".into());
    text.push('\n');
    text
}

/// The policies as an aligned table.
pub fn table(policies: &[Policy]) -> String {
    let rows: Vec<[String; 5]> = policies
        .iter()
        .map(|p| {
            let mut summary = p.summary.clone();
            if !p.enabled {
                summary.push_str(" [off]");
            }
            [
                p.id.clone(),
                p.name.clone(),
                p.severity.as_str().to_string(),
                p.check.name.to_string(),
                summary,
            ]
        })
        .collect();
    let header = ["ID", "NAME", "SEVERITY", "CHECK", "SUMMARY"].map(String::from);
    let mut widths = [0usize; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter().zip(row.iter()) {
            let _ = write!(out, "{cell:<w$}  ");
        }
        out.push_str(&row[4]);
        out.push('\n');
    }
    super::escape::lines(&out).into_owned()
}

/// A policy's documentation, for the terminal.
pub fn explain(policy: &Policy) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({})",
        policy.id,
        policy.name,
        policy.severity.as_str()
    );
    let mut facts = vec![format!("check: {}", policy.check.name)];
    if !policy.tags.is_empty() {
        facts.push(format!("tags: {}", policy.tags.join(", ")));
    }
    if let Some(score) = &policy.security_severity {
        facts.push(format!("security severity: {score}"));
    }
    let _ = writeln!(out, "{}", facts.join(" | "));
    let _ = writeln!(out, "\n{}", policy.summary);
    if !policy.docs.trim().is_empty() {
        let _ = writeln!(out, "\n{}", policy.docs.trim_end());
    }
    if let Some(url) = policy.docs_url() {
        let _ = writeln!(out, "\nSee {url}");
    }
    super::escape::lines(&out).into_owned()
}

/// The policy reference (`docs/policies.md`), generated from the policy files.
pub fn markdown(policies: &[Policy]) -> String {
    let mut out = String::from(
        "# Policy reference\n\n<!-- Generated from policies/*.yaml by the `policy_reference_is_current` test; \
         edit the policy files, then run `UPDATE_DOCS=1 cargo test --test policies`. -->\n\n",
    );
    out.push_str("| id | name | severity | check | summary |\n|---|---|---|---|---|\n");
    for p in policies {
        let _ = writeln!(
            out,
            "| [{}](#{}) | `{}` | {} | `{}` | {} |",
            p.id,
            p.docs_anchor(),
            p.name,
            p.severity.as_str(),
            p.check.name,
            p.summary
        );
    }
    for p in policies {
        let _ = write!(out, "\n## {}\n\n", p.docs_heading());
        let _ = writeln!(
            out,
            "Severity: **{}**. Check: `{}`.",
            p.severity.as_str(),
            p.check.name
        );
        let _ = write!(out, "\n{}\n", p.summary);
        if !p.docs.trim().is_empty() {
            let docs = p.docs.trim_end().replace("\n### ", "\n#### ");
            let docs = docs
                .strip_prefix("### ")
                .map(|d| format!("#### {d}"))
                .unwrap_or(docs);
            let _ = write!(out, "\n{docs}\n");
        }
    }
    out
}
