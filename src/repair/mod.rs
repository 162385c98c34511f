//! Repairs: proposing a [`Fix`] for a finding, choosing fixes that can be applied together,
//! and saying what applying them changes.
//!
//! Fixes are proposed by the check function a policy uses (so a user's policy built on
//! `nested-deny-path` gets the same fix as CL201), from the finding and the tenant it was found
//! in: [`deny_list`] edits connections' deny lists, [`script`] edits claim writes. The edits
//! themselves ([`text`]) keep the file's formatting. [`plan`] picks fixes whose edits do not
//! touch each other (the rest wait for the next round, as in ruff), and [`Consequences`] says
//! what the fixed tenant issues, stores and reports differently. The `claimlint fix` run that
//! strings these together lives in the crate root, since it re-runs the whole check.

pub mod deny_list;
pub mod patch;
pub mod script;
pub mod text;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::config::FixSettings;
use crate::finding::{Finding, Location, Severity};
use crate::fix::{Applicability, Behaviour, Edit, Fix, Login};
use crate::model::{Loc, Tenant};
use crate::proof::TokenKind;
use crate::source::{SourceId, SourceMap, Span};
use text::TextEdit;

/// What proposing a fix looks at.
pub struct Proposer<'t> {
    pub tenant: &'t Tenant,
    pub sources: &'t SourceMap,
    pub settings: &'t FixSettings,
}

/// A fix before its edits are located for output.
pub struct Proposal {
    pub applicability: Applicability,
    pub message: String,
    pub file: SourceId,
    pub edits: Vec<TextEdit>,
    pub connection: Option<String>,
}

impl Proposer<'_> {
    /// The fix for `finding`, reported by a policy using the check function `check`.
    pub fn propose(&self, check: &str, finding: &Finding) -> Option<Fix> {
        let proposal = match check {
            "nested-deny-path" => deny_list::nested_entry(self, finding),
            "duplicate-deny-entry" => deny_list::duplicate_entry(self, finding),
            "sensitive-attribute-not-denied" => deny_list::sensitive_attribute(self, finding),
            "restricted-claim" => script::restricted_write(self, finding),
            "claim-namespace" => {
                let namespace = self.settings.namespace.as_deref()?;
                let claim = finding.claim.as_deref()?;
                script::rename_claim(self, finding, &script::namespaced(namespace, claim))
            }
            "claim-namespace-host" => {
                let namespace = self.settings.namespace.as_deref()?;
                let renamed = script::rehomed(namespace, finding.claim.as_deref()?)?;
                script::rename_claim(self, finding, &renamed)
            }
            _ => None,
        }?;
        let mut edits: Vec<Edit> = proposal
            .edits
            .into_iter()
            .map(|e| Edit {
                location: Location::resolve(
                    self.sources,
                    &Loc {
                        file: proposal.file,
                        span: e.span,
                        pointer: String::new(),
                    },
                ),
                content: e.content,
            })
            .collect();
        edits.sort_by_key(|e| (e.location.source, e.location.span.start, e.location.span.end));
        Some(Fix {
            applicability: proposal.applicability,
            message: proposal.message,
            edits,
            connection: proposal.connection,
        })
    }
}

/// Fixes that can be applied together, and the files they produce.
#[derive(Debug, Default)]
pub struct Plan {
    /// Indices (into the fixes given to [`plan`]) of the fixes taken.
    pub taken: Vec<usize>,
    /// Each touched file's new text.
    pub texts: BTreeMap<SourceId, String>,
}

/// Takes fixes in order, skipping any whose edits overlap (or insert at the same place as) an
/// edit already taken; they are proposed again, on the new text, in the next round.
pub fn plan(fixes: &[&Fix], sources: &SourceMap) -> Plan {
    let mut taken_edits: BTreeMap<SourceId, Vec<Span>> = BTreeMap::new();
    let mut plan = Plan::default();
    for (index, fix) in fixes.iter().enumerate() {
        let clashes = fix.edits.iter().any(|edit| {
            taken_edits
                .get(&edit.location.source)
                .is_some_and(|spans| spans.iter().any(|&s| touches(s, edit.location.span)))
        });
        if clashes || fix.edits.is_empty() {
            continue;
        }
        for edit in &fix.edits {
            taken_edits
                .entry(edit.location.source)
                .or_default()
                .push(edit.location.span);
        }
        plan.taken.push(index);
    }
    let mut by_file: BTreeMap<SourceId, Vec<TextEdit>> = BTreeMap::new();
    for &index in &plan.taken {
        for edit in &fixes[index].edits {
            by_file.entry(edit.location.source).or_default().push(TextEdit {
                span: edit.location.span,
                content: edit.content.clone(),
            });
        }
    }
    for (file, edits) in by_file {
        plan.texts
            .insert(file, text::apply(sources.get(file).text(), &edits));
    }
    plan
}

/// Whether two edited ranges would interfere: they overlap, or are insertions at one place,
/// or one inserts inside the other.
fn touches(a: Span, b: Span) -> bool {
    if a.is_empty() || b.is_empty() {
        return a.start == b.start
            || (a.start > b.start && a.start < b.end)
            || (b.start > a.start && b.start < a.end);
    }
    a.start < b.end && b.start < a.end
}

/// What a set of fixes changes, found by evaluating the fixed export.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Consequences {
    /// Findings of the export before that the fixed export no longer has.
    pub fixed: Vec<Finding>,
    /// Findings the fixed export has that it did not have before.
    pub introduced: Vec<Finding>,
    /// Logins whose tokens gain or lose claims.
    pub tokens: Vec<TokenChange>,
    /// Connections whose stored profile gains or loses attributes.
    pub storage: Vec<StorageChange>,
}

/// How one group of logins' token changes: the same change for each login listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenChange {
    pub export: String,
    pub token: TokenKind,
    pub gained: Vec<String>,
    pub lost: Vec<String>,
    /// The logins (client, connection, protocol) this change applies to.
    pub logins: Vec<LoginName>,
}

/// A login, as shown.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LoginName {
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    pub protocol: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StorageChange {
    pub export: String,
    pub connection: String,
    /// Attributes no longer stored for logins through the connection.
    pub no_longer_stored: Vec<String>,
    /// Attributes stored that were not before.
    pub newly_stored: Vec<String>,
}

impl Consequences {
    /// Compares two runs over the same exports: `before` and `after` a fix.
    pub fn between(
        before: &[Finding],
        after: &[Finding],
        behaviour_before: &[(String, Behaviour)],
        behaviour_after: &[(String, Behaviour)],
    ) -> Consequences {
        let (fixed, introduced) = finding_changes(before, after);
        let mut tokens = Vec::new();
        let mut storage = Vec::new();
        for (export, old) in behaviour_before {
            let Some((_, new)) = behaviour_after.iter().find(|(e, _)| e == export) else {
                continue;
            };
            tokens.extend(token_changes(export, old, new));
            for connection in old
                .stored
                .keys()
                .chain(new.stored.keys())
                .collect::<BTreeSet<_>>()
            {
                let empty = BTreeSet::new();
                let was = old.stored.get(connection).unwrap_or(&empty);
                let is = new.stored.get(connection).unwrap_or(&empty);
                let no_longer_stored: Vec<String> = was.difference(is).cloned().collect();
                let newly_stored: Vec<String> = is.difference(was).cloned().collect();
                if !no_longer_stored.is_empty() || !newly_stored.is_empty() {
                    storage.push(StorageChange {
                        export: export.clone(),
                        connection: connection.clone(),
                        no_longer_stored,
                        newly_stored,
                    });
                }
            }
        }
        Consequences {
            fixed,
            introduced,
            tokens,
            storage,
        }
    }

    /// The introduced findings at error level: what keeps a fix from being applied without
    /// `--force`.
    pub fn new_errors(&self) -> impl Iterator<Item = &Finding> {
        self.introduced.iter().filter(|f| f.severity == Severity::Error)
    }

    /// The token and storage changes in a few words (empty when there are none).
    pub fn behaviour_changes(&self) -> String {
        let mut parts = Vec::new();
        for t in &self.tokens {
            for claim in &t.lost {
                parts.push(format!("the {} loses `{claim}`", t.token.label()));
            }
            for claim in &t.gained {
                parts.push(format!("the {} gains `{claim}`", t.token.label()));
            }
        }
        for s in &self.storage {
            for attribute in &s.no_longer_stored {
                parts.push(format!("`{}` no longer stores `{attribute}`", s.connection));
            }
            for attribute in &s.newly_stored {
                parts.push(format!("`{}` now stores `{attribute}`", s.connection));
            }
        }
        parts.sort();
        parts.dedup();
        parts.join("; ")
    }

    pub fn is_empty(&self) -> bool {
        self.fixed.is_empty()
            && self.introduced.is_empty()
            && self.tokens.is_empty()
            && self.storage.is_empty()
    }
}

/// What a finding is about, independent of where it is and of its wording: a fix moves lines
/// and list indices, and may change a finding's details (a SAML debug finding then names one
/// more denied attribute) without making it a new finding.
pub fn identity(f: &Finding) -> String {
    let subject = f.subject.as_ref().map(|s| format!("{}:{}", s.kind, s.name));
    [
        f.policy.as_str(),
        f.export_file.as_str(),
        f.claim.as_deref().unwrap_or(""),
        f.attribute.as_deref().unwrap_or(""),
        subject.as_deref().unwrap_or(""),
    ]
    .join("\u{0}")
}

/// Findings only `before` has, and findings only `after` has (as multisets of identities).
fn finding_changes(before: &[Finding], after: &[Finding]) -> (Vec<Finding>, Vec<Finding>) {
    (only_in(before, after), only_in(after, before))
}

/// The findings of `these` that `others` does not have, counting repeats.
fn only_in(these: &[Finding], others: &[Finding]) -> Vec<Finding> {
    let mut left: BTreeMap<String, usize> = BTreeMap::new();
    for f in others {
        *left.entry(identity(f)).or_default() += 1;
    }
    let mut out = Vec::new();
    for f in these {
        match left.get_mut(&identity(f)) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(f.clone()),
        }
    }
    out
}

/// Token changes of one export, logins with the same change grouped.
fn token_changes(export: &str, old: &Behaviour, new: &Behaviour) -> Vec<TokenChange> {
    let empty_tokens = BTreeMap::new();
    let empty = BTreeSet::new();
    let mut grouped: BTreeMap<(TokenKind, Vec<String>, Vec<String>), Vec<LoginName>> = BTreeMap::new();
    let logins: BTreeSet<&Login> = old.logins.keys().chain(new.logins.keys()).collect();
    for login in logins {
        let was = old.logins.get(login).unwrap_or(&empty_tokens);
        let is = new.logins.get(login).unwrap_or(&empty_tokens);
        let kinds: BTreeSet<&TokenKind> = was.keys().chain(is.keys()).collect();
        for &token in kinds {
            let a = was.get(&token).unwrap_or(&empty);
            let b = is.get(&token).unwrap_or(&empty);
            let gained: Vec<String> = b.difference(a).cloned().collect();
            let lost: Vec<String> = a.difference(b).cloned().collect();
            if gained.is_empty() && lost.is_empty() {
                continue;
            }
            grouped.entry((token, gained, lost)).or_default().push(LoginName {
                client: login.0.clone(),
                connection: login.1.clone(),
                protocol: login.2.clone(),
            });
        }
    }
    grouped
        .into_iter()
        .map(|((token, gained, lost), logins)| TokenChange {
            export: export.to_string(),
            token,
            gained,
            lost,
            logins,
        })
        .collect()
}

/// A file a fix changes.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: std::path::PathBuf,
    /// As shown to users.
    pub display: String,
    pub before: String,
    pub after: String,
}

/// A fix applied, with the finding it fixes (as reported before any fix).
#[derive(Debug, Clone, Serialize)]
pub struct AppliedFix {
    pub finding: Finding,
}

/// A fix not applied: it would add error-level findings, or a safe fix would change what
/// Auth0 issues or stores.
#[derive(Debug, Clone, Serialize)]
pub struct RefusedFix {
    pub finding: Finding,
    pub reason: String,
    /// The error-level findings the fix would add.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_add: Vec<Finding>,
    /// The option that applies it anyway (`--force`, `--unsafe-fixes`).
    pub overridden_by: &'static str,
}

/// A fix not applied because its file cannot be edited safely.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFix {
    pub finding: Finding,
    pub reason: String,
}

/// What `claimlint fix` did and what it changes: the contract its JSON output follows.
#[derive(Debug, Clone, Serialize)]
pub struct FixReport {
    pub applied: Vec<AppliedFix>,
    pub refused: Vec<RefusedFix>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<SkippedFix>,
    /// Unsafe fixes `--unsafe-fixes` would also apply.
    pub unsafe_available: usize,
    /// The files changed (or, with `--diff`, that would change), as shown.
    pub files: Vec<String>,
    /// Whether they were written.
    pub written: bool,
    pub consequences: Consequences,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub patches: Vec<patch::PatchBody>,
    /// The findings of the export as it is after the command.
    pub remaining: crate::report::Summary,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insertions_at_one_place_and_overlaps_clash() {
        let s = |a: usize, b: usize| Span::new(a, b);
        assert!(touches(s(5, 5), s(5, 5)));
        assert!(touches(s(3, 8), s(5, 5)));
        assert!(!touches(s(3, 5), s(5, 5)));
        assert!(touches(s(3, 6), s(5, 9)));
        assert!(!touches(s(3, 5), s(5, 9)));
    }
}
