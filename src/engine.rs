//! The policy engine: which policies run for an export, and what becomes of their hits.
//!
//! A [`Setup`] is one configuration (a `.claimlint.yaml` and what it extends, or none) with its
//! policies and platform profile; exports that share a config share a setup. It runs the
//! enabled policies' checks, renders hits into findings with the policy's templates, drops
//! ignored paths and suppressed findings, and reports suppressions that expired or went unused.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::checks::{Context, Hit, Runner};
use crate::config::{self, Config, Override};
use crate::eval::{Analysis, Scripts};
use crate::finding::{Finding, Location, Related, Suppression};
use crate::inline::InlineSuppression;
use crate::model::{InputError, Tenant};
use crate::platform::{DEFAULT_PROFILE, Platform};
use crate::policy::{self, Policy, template};
use crate::source::SourceMap;
use crate::{CheckOptions, Error};

pub struct Setup {
    pub config: Config,
    pub policies: Vec<Policy>,
    pub platform: Platform,
}

/// What happened to each suppression of a setup during the run.
#[derive(Debug, Clone, Default)]
pub struct SuppressionUse {
    /// Indices of suppressions that suppressed something.
    pub used: Vec<usize>,
    /// Indices of expired suppressions that matched a finding.
    pub expired: Vec<usize>,
    /// Indices of inline suppressions (of the export being filtered) that matched.
    pub inline_used: Vec<usize>,
}

impl Setup {
    pub fn new(
        config_path: Option<PathBuf>,
        options: &CheckOptions,
        cwd: &Path,
        sources: &mut SourceMap,
        problems: &mut Vec<InputError>,
    ) -> Result<Setup, Error> {
        let config = match &config_path {
            Some(path) => {
                config::load(path, cwd, sources, problems).map_err(|message| Error::Config { message })?
            }
            None => Config::default(),
        };
        let mut policies = policy::load_builtin(sources, problems);
        for dir in config.policy_dirs.iter().chain(&options.policy_dirs) {
            let loaded =
                policy::load_dir(dir, cwd, sources, problems).map_err(|message| Error::Config { message })?;
            policies.extend(loaded);
        }
        policy::check_unique(&policies, sources, problems);
        for entry in &config.overrides {
            let mut matched = false;
            for policy in policies.iter_mut().filter(|p| p.is(&entry.policy)) {
                matched = true;
                match entry.setting {
                    Override::Off => policy.enabled = false,
                    Override::Severity(severity) => policy.severity = severity,
                }
            }
            if !matched {
                problems.push(InputError {
                    loc: entry.loc.clone(),
                    message: format!(
                        "`{}` names no policy; `claimlint policies` lists them",
                        entry.policy
                    ),
                });
            }
        }
        for suppression in &config.suppressions {
            if !policies.iter().any(|p| p.is(&suppression.policy)) {
                problems.push(InputError {
                    loc: suppression.loc.clone(),
                    message: format!("suppression names no policy: `{}`", suppression.policy),
                });
            }
        }
        let platform = match (&options.platform, &config.platform) {
            (Some(profile), _) => Platform::load(profile),
            // The config schema has already reported an unknown profile.
            (None, Some(profile)) => Platform::load(profile).or_else(|_| Platform::load(DEFAULT_PROFILE)),
            (None, None) => Platform::load(DEFAULT_PROFILE),
        }
        .map_err(|message| Error::Config { message })?;
        policies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Setup {
            config,
            policies,
            platform,
        })
    }

    fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id && p.enabled)
    }

    /// Runs every enabled policy over `tenant`; the scenarios are evaluated once, and only when
    /// an enabled policy needs them.
    pub fn check(&self, tenant: &Tenant, scripts: &Scripts, sources: &SourceMap) -> Vec<Finding> {
        let enabled = || self.policies.iter().filter(|p| p.enabled);
        let analysis = enabled()
            .any(|p| matches!(p.check.runner, Runner::Analysis(_)))
            .then(|| Analysis::new(tenant, scripts, &self.platform, sources));
        let ctx = Context {
            tenant,
            platform: &self.platform,
            sources,
            scripts,
            analysis: analysis.as_ref(),
        };
        // Policies are independent: they run in parallel, and `collect` keeps their order.
        let policies: Vec<&Policy> = enabled()
            .filter(|p| !matches!(p.check.runner, Runner::Engine))
            .collect();
        let hits: Vec<Vec<Hit>> = policies
            .par_iter()
            .map(|policy| match policy.check.runner {
                Runner::Model(run) | Runner::Analysis(run) => run(&ctx, &policy.options),
                Runner::Engine => Vec::new(),
            })
            .collect();
        policies
            .iter()
            .zip(hits)
            .flat_map(|(policy, hits)| {
                hits.into_iter()
                    .map(|hit| finding(policy, hit, sources))
                    .collect::<Vec<_>>()
            })
            .collect()
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
        let today = config::today();
        let mut kept = Vec::new();
        for mut finding in findings {
            let path = &sources.get(finding.location.source).path;
            let ignored = self.config.ignore.iter().any(|ignore| {
                config::relative_to(path, &ignore.base)
                    .is_some_and(|rel| config::glob_match(&ignore.glob, &rel))
            });
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
                    && config::relative_to(path, &s.base)
                        .is_some_and(|rel| config::glob_match(&s.file, &rel))
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
                    .is_some_and(|d| d < today);
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
                && let Some(i) = inline.iter().position(|s| {
                    s.file == finding.location.source
                        && s.line == finding.location.line
                        && s.covers(&finding.policy, &finding.name)
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
            if !uses.inline_used.contains(&i)
                && let Some(policy) = self.policy("CL003")
            {
                findings.push(finding(
                    policy,
                    Hit::at(s.loc.clone()).var("policy", s.named()),
                    sources,
                ));
            }
        }
        findings
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
                && let Some(policy) = self.policy("CL003")
            {
                let hit = Hit::at(s.loc.clone()).var("policy", s.policy.clone());
                findings.push(finding(policy, hit, sources));
            }
        }
        findings
    }

    /// CL003 at a baseline entry that matched no finding.
    pub fn unused_baseline_entry(
        &self,
        entry: &crate::baseline::Entry,
        sources: &SourceMap,
    ) -> Option<Finding> {
        let policy = self.policy("CL003")?;
        Some(finding(
            policy,
            Hit::at(entry.loc.clone()).var("policy", entry.policy.clone()),
            sources,
        ))
    }
}

/// Renders a hit into a finding with the policy's templates and labels.
pub fn finding(policy: &Policy, hit: Hit, sources: &SourceMap) -> Finding {
    let message = template::render(&policy.message, &hit.vars);
    let mut finding = Finding::new(
        &policy.id,
        &policy.name,
        policy.severity,
        message,
        sources,
        &hit.loc,
    );
    finding.help = policy.help.as_ref().map(|help| template::render(help, &hit.vars));
    finding.subject = hit.subject;
    finding.claim = hit.claim;
    finding.attribute = hit.attribute;
    finding.token = hit.token;
    finding.proof = hit.proof;
    finding.related = hit
        .related
        .iter()
        .map(|(message, loc)| Related {
            message: message.clone(),
            location: Location::resolve(sources, loc),
        })
        .collect();
    let entry = hit.policy_entry.as_deref().unwrap_or("/id");
    finding.related.push(Related {
        message: format!("required by policy {} ({})", policy.id, policy.name),
        location: Location::resolve(sources, &policy.loc_of(entry)),
    });
    let identity = finding
        .location
        .pointer
        .clone()
        .unwrap_or_else(|| finding.message.clone());
    finding.seal(&identity)
}
