//! Suppressions, in one place: `.claimlint.yaml` suppressions and ignores, inline
//! `claimlint-disable` comments in scripts ([`inline`]), and baselines ([`baseline`]); which
//! findings they cover, and the findings about suppressions themselves (CL002 expired, CL003
//! unused, CL004 without a reason).

pub mod baseline;
pub mod inline;

use crate::checks::Hit;
use crate::config;
use crate::engine::{Setup, finding};
use crate::finding::{Finding, Suppression};
use crate::source::SourceMap;
use inline::InlineSuppression;

/// What happened to each suppression of a setup during the run.
#[derive(Debug, Clone, Default)]
pub struct SuppressionUse {
    /// Indices of suppressions that suppressed something.
    pub used: Vec<usize>,
    /// Indices of expired suppressions that matched a finding.
    pub expired: Vec<usize>,
    /// Indices of inline suppressions (of the export being filtered) that matched.
    pub inline_used: Vec<usize>,
    /// Indices of `ignore:` patterns that cover a file of an export.
    pub ignore_used: Vec<usize>,
}

/// The variables of a CL003 finding: what matches nothing, and what it was to match.
fn unused(hit: Hit, suppression: String, unmatched: &str) -> Hit {
    hit.var("suppression", suppression)
        .var("unmatched", unmatched.to_string())
}

impl Setup {
    /// Records the `ignore:` patterns that cover one of `files` (the files of an export linted
    /// with this setup): a pattern that covers no file is reported (CL003).
    pub fn note_ignored_files<'p>(
        &self,
        files: impl IntoIterator<Item = &'p std::path::Path>,
        uses: &mut SuppressionUse,
    ) {
        for file in files {
            for (i, ignore) in self.config.ignore.iter().enumerate() {
                if !uses.ignore_used.contains(&i) && ignore.covers(file) {
                    uses.ignore_used.push(i);
                }
            }
        }
    }

    /// Drops findings in ignored paths, and marks the ones a config or inline suppression
    /// covers; records which suppressions were used.
    pub fn filter(
        &self,
        findings: Vec<Finding>,
        sources: &SourceMap,
        inline: &[InlineSuppression],
        uses: &mut SuppressionUse,
    ) -> Vec<Finding> {
        // Asked of the system (its time zone) only when a suppression that matches has an
        // expiry date: it takes a millisecond.
        let today = std::cell::LazyCell::new(config::today);
        // The inline suppressions of each file and line, in order (the first that covers a
        // finding is the one used).
        let mut inline_at: std::collections::HashMap<(crate::source::SourceId, u32), Vec<usize>> =
            std::collections::HashMap::new();
        for (i, s) in inline.iter().enumerate() {
            inline_at.entry((s.file, s.line)).or_default().push(i);
        }
        let mut kept = Vec::new();
        for mut finding in findings {
            let path = &sources.get(finding.location.source).path;
            let ignored = self.config.ignore.iter().any(|ignore| ignore.covers(path));
            if ignored {
                continue;
            }
            // Input errors cannot be suppressed: the file was not fully linted.
            if finding.policy == crate::INPUT_ERROR.0 {
                kept.push(finding);
                continue;
            }
            for (i, s) in self.config.suppressions.iter().enumerate() {
                let matches = (finding.policy.eq_ignore_ascii_case(&s.policy) || finding.name == s.policy)
                    && s.covers_file(path)
                    && s.pointer
                        .as_ref()
                        .is_none_or(|p| finding.location.pointer.as_ref() == Some(p))
                    && s.line.is_none_or(|l| l == finding.location.line);
                if !matches {
                    continue;
                }
                let expired = s
                    .expires
                    .as_ref()
                    .and_then(|e| config::parse_date(&e.value))
                    .is_some_and(|d| d < *today);
                if expired {
                    if !uses.expired.contains(&i) {
                        uses.expired.push(i);
                    }
                    continue;
                }
                if !uses.used.contains(&i) {
                    uses.used.push(i);
                }
                finding.suppression = Some(Suppression {
                    kind: "config",
                    reason: s.reason.clone(),
                });
                break;
            }
            if finding.suppression.is_none()
                && let Some(i) = inline_at
                    .get(&(finding.location.source, finding.location.line))
                    .and_then(|at| {
                        at.iter()
                            .copied()
                            .find(|&i| inline[i].covers(&finding.policy, &finding.name))
                    })
            {
                uses.inline_used.push(i);
                let reason = inline[i].reason.clone().unwrap_or_default();
                finding.suppression = Some(Suppression {
                    kind: "inline",
                    reason,
                });
            }
            kept.push(finding);
        }
        kept
    }

    /// CL004 for inline suppressions without a reason and CL003 for those that matched nothing.
    pub fn inline_findings(
        &self,
        inline: &[InlineSuppression],
        uses: &SuppressionUse,
        sources: &SourceMap,
    ) -> Vec<Finding> {
        let mut findings = Vec::new();
        let mut used = vec![false; inline.len()];
        for &i in &uses.inline_used {
            if let Some(u) = used.get_mut(i) {
                *u = true;
            }
        }
        for (i, s) in inline.iter().enumerate() {
            if s.reason.is_none()
                && let Some(policy) = self.policy("CL004")
            {
                findings.push(finding(
                    policy,
                    Hit::at(s.loc.clone()).var("policy", s.named()),
                    sources,
                ));
            }
            // A suppression of policies that did not run (`--ignore`, `off`) had nothing to match.
            let ran = s.policies.is_empty() || s.policies.iter().any(|p| self.runs(p));
            if ran
                && !used[i]
                && let Some(policy) = self.policy("CL003")
            {
                let hit = Hit::at(s.loc.clone()).var("policy", s.named());
                let what = format!("suppression of `{}`", s.named());
                findings.push(finding(policy, unused(hit, what, "no finding"), sources));
            }
        }
        findings
    }

    /// Whether the policy `reference` (id or name) ran.
    fn runs(&self, reference: &str) -> bool {
        self.policies.iter().any(|p| p.is(reference) && p.enabled)
    }

    /// CL002 for expired suppressions that matched, CL003 for suppressions that matched nothing.
    pub fn suppression_findings(&self, uses: &SuppressionUse, sources: &SourceMap) -> Vec<Finding> {
        let mut findings = Vec::new();
        for (i, s) in self.config.suppressions.iter().enumerate() {
            if uses.expired.contains(&i) {
                if let (Some(policy), Some(expires)) = (self.policy("CL002"), &s.expires) {
                    let hit = Hit::at(expires.loc.clone())
                        .var("policy", s.policy.clone())
                        .var("expires", expires.value.clone());
                    findings.push(finding(policy, hit, sources));
                }
            } else if !uses.used.contains(&i)
                && self.runs(&s.policy)
                && let Some(policy) = self.policy("CL003")
            {
                let hit = Hit::at(s.loc.clone()).var("policy", s.policy.clone());
                let what = format!("suppression of `{}`", s.policy);
                findings.push(finding(policy, unused(hit, what, "no finding"), sources));
            }
        }
        // `ignore:` is a suppression of every policy in some files; one that covers no file of
        // the exports it applies to (a typo, a moved folder) is reported like an unused one.
        for (i, ignore) in self.config.ignore.iter().enumerate() {
            if !uses.ignore_used.contains(&i)
                && let Some(policy) = self.policy("CL003")
            {
                let hit = Hit::at(ignore.loc.clone()).var("policy", "all policies".to_string());
                let what = format!("ignore pattern `{}`", ignore.glob);
                findings.push(finding(
                    policy,
                    unused(hit, what, "no file of the export"),
                    sources,
                ));
            }
        }
        findings
    }

    /// CL003 at a baseline entry that matched no finding.
    pub fn unused_baseline_entry(&self, entry: &baseline::Entry, sources: &SourceMap) -> Option<Finding> {
        if !self.runs(&entry.policy) {
            return None;
        }
        let policy = self.policy("CL003")?;
        let hit = Hit::at(entry.loc.clone()).var("policy", entry.policy.clone());
        let what = format!("suppression of `{}`", entry.policy);
        Some(finding(policy, unused(hit, what, "no finding"), sources))
    }
}

/// Marks the findings a baseline records as suppressed; returns the baseline's entries that
/// matched no finding (stale entries, reported as CL003).
pub fn apply_baseline<'b>(
    findings: &mut [Finding],
    baseline: &'b baseline::Baseline,
) -> Vec<&'b baseline::Entry> {
    let mut used = vec![false; baseline.entries.len()];
    // The first entry of each policy and fingerprint, looked up once per finding.
    let mut first: std::collections::HashMap<(&str, &str), usize> =
        std::collections::HashMap::with_capacity(baseline.entries.len());
    for (i, entry) in baseline.entries.iter().enumerate() {
        first
            .entry((entry.policy.as_str(), entry.fingerprint.as_str()))
            .or_insert(i);
    }
    for finding in findings
        .iter_mut()
        .filter(|f| f.suppression.is_none() && f.policy != crate::INPUT_ERROR.0)
    {
        if let Some(&i) = first.get(&(finding.policy.as_str(), finding.fingerprint.as_str())) {
            used[i] = true;
            finding.suppression = Some(Suppression {
                kind: "baseline",
                reason: "recorded in the baseline".into(),
            });
        }
    }
    baseline
        .entries
        .iter()
        .zip(used)
        .filter(|(_, used)| !used)
        .map(|(e, _)| e)
        .collect()
}
