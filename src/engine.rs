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
use crate::error::Error;
use crate::eval::{Analysis, Scripts};
use crate::finding::{Finding, Location, Related};
use crate::fix::Behaviour;
use crate::model::{InputError, Tenant};
use crate::options::CheckOptions;
use crate::platform::{Choice, DEFAULT_PROFILE, Platform};
use crate::policy::{self, Policy, template};
use crate::source::SourceMap;

pub struct Setup {
    pub config: Config,
    pub policies: Vec<Policy>,
    pub platform: Platform,
    /// Policy files that could not be read: reported, while the rest is linted.
    pub unread: Vec<InputError>,
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
            Some(path) => config::load(path, options.config.is_some(), cwd, sources, problems)
                .map_err(|message| Error::Config { message })?,
            None => Config::default(),
        };
        let mut policies = policy::load_builtin(sources, problems);
        let mut unread = Vec::new();
        // Policy folders a config names stay inside its repository, and so do their files;
        // folders named with `--policies` are the user's, their files stay inside them.
        for (dir, at) in config.policy_dirs.iter().zip(&config.policy_dir_locs) {
            let boundary = config.boundary.as_deref().unwrap_or(dir);
            if !crate::load::files::inside(boundary, dir) {
                problems.push(InputError {
                    loc: at.clone(),
                    message: format!(
                        "`policies` names {}, outside the repository ({}); only folders inside it are read",
                        crate::source::display_path(dir, cwd),
                        crate::source::display_path(boundary, cwd)
                    ),
                });
                continue;
            }
            let loaded = policy::load_dir(dir, boundary, cwd, sources, problems, &mut unread)
                .map_err(|message| Error::Config { message })?;
            policies.extend(loaded);
        }
        for dir in &options.policy_dirs {
            let loaded = policy::load_dir(dir, dir, cwd, sources, problems, &mut unread)
                .map_err(|message| Error::Config { message })?;
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
        // `--select`/`--ignore` narrow what the configuration enabled; input errors always run.
        for policy in policies.iter_mut().filter(|p| p.id != crate::INPUT_ERROR.0) {
            if !options.selection.runs(&policy.id, &policy.name) {
                policy.enabled = false;
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
        // `--platform` is relative to the current directory, `platform:` to its config file.
        let (choice, at) = match (&options.platform, &config.platform) {
            (Some(value), _) => (Some(Choice::parse(value, cwd)), None),
            (None, Some(setting)) => (Some(setting.choice.clone()), Some(&setting.loc)),
            (None, None) => (None, None),
        };
        let platform = match choice {
            Some(Choice::Builtin(profile)) if at.is_none() => Platform::load(&profile),
            // The config schema has already reported an unknown profile.
            Some(Choice::Builtin(profile)) => {
                Platform::load(&profile).or_else(|_| Platform::load(DEFAULT_PROFILE))
            }
            Some(Choice::File { path, profile }) => {
                // A file with problems has them reported; nothing is linted, so the built-in
                // data stands in.
                // A platform file a config names stays inside its repository.
                let within = at.and(config.boundary.as_deref());
                match Platform::load_file(&path, profile.as_deref(), cwd, at, within, sources, problems) {
                    Ok(Some(platform)) => Ok(platform),
                    Ok(None) => Platform::load(DEFAULT_PROFILE),
                    Err(message) => Err(message),
                }
            }
            None => Platform::load(DEFAULT_PROFILE),
        }
        .map_err(|message| Error::Config { message })?;
        policies.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Setup {
            config,
            policies,
            platform,
            unread,
        })
    }

    /// Whether an enabled policy reads client fields the model does not name (a `value-match`
    /// policy selecting `/clients/...`), so the clients' syntax trees must be kept.
    pub fn reads_client_nodes(&self) -> bool {
        self.policies.iter().any(|p| {
            p.enabled
                && p.check.name == "value-match"
                && crate::checks::value_match::reads_resource(&p.options, "clients")
        })
    }

    pub(crate) fn policy(&self, id: &str) -> Option<&Policy> {
        self.policies.iter().find(|p| p.id == id && p.enabled)
    }

    /// Runs every enabled policy over `tenant`; the scenarios are evaluated once, and only when
    /// an enabled policy needs them. Every proof a check attaches is re-derived here: a finding
    /// whose proof does not hold is refused (returned in the second list, never reported).
    /// Runs the enabled policies over one export: the findings, the hits refused because
    /// their proof did not hold, when `behaviour` is asked for what the tenant issues and
    /// stores, and the analysis (if one was made), for the caller to free when it suits.
    pub fn check(
        &self,
        tenant: &Tenant,
        scripts: &Scripts,
        sources: &SourceMap,
        behaviour: bool,
    ) -> (Vec<Finding>, Vec<String>, Option<Behaviour>, Option<Analysis>) {
        let enabled = || self.policies.iter().filter(|p| p.enabled);
        let analysis = (behaviour || enabled().any(|p| matches!(p.check.runner, Runner::Analysis(_))))
            .then(|| Analysis::new(tenant, scripts, &self.platform, sources));
        crate::memory::give_back_freed();
        let ctx = Context {
            tenant,
            platform: &self.platform,
            sources,
            scripts,
            analysis: analysis.as_ref(),
        };
        let behaviour = behaviour.then(|| Self::behaviour(&ctx));
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
        // Each proof is checked, and each finding rendered, on any core; `collect` keeps the
        // order of policies and of each policy's hits.
        let checked: Vec<Result<Finding, String>> = policies
            .iter()
            .zip(hits)
            .flat_map(|(policy, hits)| hits.into_iter().map(move |hit| (*policy, hit)))
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|(policy, hit)| match verify(&ctx, &hit) {
                Ok(()) => Ok(finding(policy, hit, sources)),
                Err(why) => Err(format!("{} at {:?}: {why}", policy.id, hit.loc)),
            })
            .collect();
        let mut refused = Vec::new();
        let mut findings = Vec::new();
        for result in checked {
            match result {
                Ok(finding) => findings.push(finding),
                Err(why) => refused.push(why),
            }
        }
        (findings, refused, behaviour, analysis)
    }

    /// Fills in the tokens of the proofs of `findings` (see [`fill_proof_tokens`]) from the
    /// analysis [`Setup::check`] returned.
    pub fn fill_proof_tokens(
        &self,
        tenant: &Tenant,
        scripts: &Scripts,
        sources: &SourceMap,
        analysis: Option<&Analysis>,
        findings: &mut [Finding],
        shown: &(dyn Fn(&Finding) -> bool + Sync),
    ) {
        let ctx = Context {
            tenant,
            platform: &self.platform,
            sources,
            scripts,
            analysis,
        };
        fill_proof_tokens(&ctx, findings, shown);
    }

    /// The claims of every evaluated login, for each client it stands for, and the attributes
    /// stored for logins through each connection.
    fn behaviour(ctx: &Context<'_>) -> Behaviour {
        let mut behaviour = Behaviour::default();
        for evaluation in ctx.analysis.into_iter().flat_map(Analysis::ordered) {
            let tokens: std::collections::BTreeMap<_, std::collections::BTreeSet<String>> = evaluation
                .tokens()
                .into_iter()
                .map(|(token, claims)| (token, claims.into_keys().collect()))
                .collect();
            let scenario = &evaluation.scenario;
            for client in &evaluation.members {
                let login = (
                    client.clone(),
                    scenario.connection.clone(),
                    scenario.protocol.clone(),
                );
                behaviour.logins.insert(login, tokens.clone());
            }
        }
        for (index, connection) in ctx.tenant.connections.iter().enumerate() {
            // What CL202 sees the connection receive: mappings, strategy data, custom-database
            // profiles and the attributes scripts read in logins through it.
            let received = crate::checks::received_attributes(ctx, index, connection);
            let profile = crate::eval::profile::persisted(connection, ctx.platform, &received);
            behaviour
                .stored
                .insert(connection.name.clone(), profile.stored.into_keys().collect());
        }
        behaviour
    }
}

/// Renders a hit into a finding with the policy's templates and labels.
pub fn finding(policy: &Policy, hit: Hit, sources: &SourceMap) -> Finding {
    let mut facts: Vec<String> = hit.vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    facts.sort();
    let mut vars = hit.vars;
    vars.extend(hit.wording);
    let message = template::render(&policy.message, &vars);
    let mut finding = Finding::new(
        &policy.id,
        &policy.name,
        policy.severity,
        message,
        sources,
        &hit.loc,
    );
    finding.help = policy.help.as_ref().map(|help| template::render(help, &vars));
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
    // What the finding is about, never its wording: the value's pointer, or for script findings
    // the script (subject), the token and the claim or attribute (part of the fingerprint).
    let identity = finding.location.pointer.clone().unwrap_or_else(|| {
        let subject = finding
            .subject
            .as_ref()
            .map(|s| format!("{}:{}", s.kind, s.name))
            .unwrap_or_default();
        format!("{subject}\u{0}{}", facts.join("\u{0}"))
    });
    finding.seal(&identity)
}

/// Re-derives what a hit's proof states from the evaluator's own results: the witness login is
/// evaluated again and must issue (or lack) the claim, run the script line the hit points at,
/// or store (or fail to remove) the attribute. `Err` says why a proof does not hold.
pub fn verify(ctx: &Context<'_>, hit: &Hit) -> Result<(), String> {
    use crate::proof::Statement;
    let Some(proof) = &hit.proof else {
        return Ok(());
    };
    let evaluate = |scenario: &crate::proof::Scenario| witness(ctx, scenario);
    // A hit in a script must point at a line the witness runs.
    let in_script = hit.loc.pointer.is_empty() && ctx.scripts.by_file(hit.loc.file).is_some();
    match &proof.statement {
        Statement::ClaimAbsent { token, claim } | Statement::ClaimIssued { token, claim } => {
            let e = evaluate(&proof.scenario)?;
            let issued = e.has(*token, claim);
            let wanted = matches!(proof.statement, Statement::ClaimIssued { .. });
            if issued != wanted {
                return Err(format!(
                    "the witness login {} `{claim}` in its {}",
                    if issued { "issues" } else { "does not issue" },
                    token.label()
                ));
            }
            if in_script && !e.runs(hit.loc.file, hit.loc.span) {
                return Err("the witness login does not run the line the finding points at".into());
            }
            if !proof.tokens_pending && proof.tokens != e.tokens() {
                return Err("the proof's tokens are not the ones the witness login issues".into());
            }
        }
        Statement::MissingOnRefresh { token, claim, login } => {
            let first = evaluate(login)?;
            if !first.has(*token, claim) || !first.runs(hit.loc.file, hit.loc.span) {
                return Err(format!(
                    "the login does not issue `{claim}` from the line the finding points at"
                ));
            }
            let refresh = evaluate(&proof.scenario)?;
            if !refresh.scenario.is_refresh() || refresh.has(*token, claim) {
                return Err(format!("the refresh login issues `{claim}` after all"));
            }
        }
        Statement::AttributeStored { attribute } => {
            let (profile, connection) = storage_of(ctx, proof)?;
            let extras: Vec<(String, String)> = profile
                .stored
                .iter()
                .map(|(a, s)| (a.clone(), s.clone()))
                .collect();
            let again = crate::eval::profile::persisted(connection, ctx.platform, &extras);
            if !again.stored.contains_key(attribute) || &again != profile {
                return Err(format!("the persisted profile does not keep `{attribute}`"));
            }
        }
        Statement::EntryRemovesNothing { entry } => {
            let (profile, connection) = storage_of(ctx, proof)?;
            let again = crate::eval::profile::persisted(connection, ctx.platform, &[]);
            if !again.ineffective.contains(entry) || &again != profile {
                return Err(format!("the deny-list entry `{entry}` does remove something"));
            }
        }
    }
    Ok(())
}

/// The evaluation of the login a proof names: the export's own login of that client,
/// connection, protocol, pipeline and scopes, or else that scenario evaluated afresh.
fn witness<'a>(
    ctx: &Context<'a>,
    scenario: &crate::proof::Scenario,
) -> Result<std::borrow::Cow<'a, crate::eval::Evaluation>, String> {
    let analysis = ctx.analysis.ok_or("no evaluation to check the proof against")?;
    let known = analysis
        .login(
            ctx.tenant,
            &scenario.client,
            scenario.connection.as_deref(),
            &scenario.protocol,
        )
        .filter(|e| e.scenario.pipeline == scenario.pipeline && e.scenario.scopes == scenario.scopes);
    Ok(match known {
        Some(e) => std::borrow::Cow::Borrowed(e),
        None => std::borrow::Cow::Owned(analysis.evaluate(
            ctx.tenant,
            ctx.scripts,
            ctx.platform,
            ctx.sources,
            scenario,
        )),
    })
}

/// Fills in the tokens of the proofs of the `shown` `findings` that are still to have them
/// (see [`crate::proof::Proof::tokens_pending`]), on every core: a check leaves them out
/// because many of its hits are never shown with their tokens (refused, suppressed, left out
/// of a pre-commit run, or reported with `--proof none`), and a large tenant's tokens are
/// large. They are the witness login's, which [`verify`] has checked the proof against.
pub fn fill_proof_tokens(
    ctx: &Context<'_>,
    findings: &mut [Finding],
    shown: &(dyn Fn(&Finding) -> bool + Sync),
) {
    findings.par_iter_mut().filter(|f| shown(f)).for_each(|finding| {
        let Some(proof) = finding.proof.as_mut().filter(|p| p.tokens_pending) else {
            return;
        };
        match witness(ctx, &proof.scenario) {
            Ok(evaluation) => proof.fill_tokens(&evaluation),
            // Never after `verify`, which looked the same login up.
            Err(_) => proof.tokens_pending = false,
        }
    });
}

fn storage_of<'c>(
    ctx: &Context<'c>,
    proof: &'c crate::proof::Proof,
) -> Result<(&'c crate::proof::PersistedProfile, &'c crate::model::Connection), String> {
    let profile = proof
        .profile
        .as_ref()
        .ok_or("a storage proof without a persisted profile")?;
    let connection = ctx
        .tenant
        .connection(&profile.connection)
        .filter(|c| Some(&c.name) == proof.scenario.connection.as_ref())
        .ok_or("the proof's connection is not in the export")?;
    Ok((profile, connection))
}

#[cfg(test)]
mod tests {
    //! The engine refuses a finding whose proof does not hold.

    use super::*;
    use crate::proof::{Statement, TokenKind};

    /// The built-in CL101 policy.
    fn builtin_cl101() -> Policy {
        let mut sources = SourceMap::default();
        let mut problems = Vec::new();
        let policies = policy::load_builtin(&mut sources, &mut problems);
        let Some(policy) = policies.into_iter().find(|p| p.id == "CL101") else {
            panic!("CL101 is built in")
        };
        policy
    }

    /// Runs `check` on a fixture's YAML form and hands the context and the hits to `inspect`.
    fn with_hits(fixture: &str, check: &str, inspect: impl Fn(&Context<'_>, Vec<Hit>)) {
        crate::checks::test_support::with_context(fixture, "yaml", |ctx| {
            let hits = crate::checks::test_support::raw_hits(ctx, check, &serde_json::json!({}));
            inspect(ctx, hits);
        });
    }

    #[test]
    fn true_proofs_are_accepted_and_wrong_ones_refused() {
        with_hits("claim-namespace", "claim-namespace", |ctx, hits| {
            assert!(!hits.is_empty());
            for hit in &hits {
                assert_eq!(verify(ctx, hit), Ok(()), "{:?}", hit.vars);
            }
            let hit = hits[0].clone();
            let Some(proof) = &hit.proof else {
                panic!("CL101 carries a proof")
            };
            let Statement::ClaimAbsent { token, claim } = proof.statement.clone() else {
                panic!("{:?}", proof.statement)
            };

            // Stating the opposite of what the login issues.
            let mut wrong = hit.clone();
            if let Some(p) = wrong.proof.as_mut() {
                p.statement = Statement::ClaimIssued {
                    token,
                    claim: claim.clone(),
                };
            }
            assert!(verify(ctx, &wrong).is_err());

            // Tokens filled in are the witness login's; others are refused.
            let mut filled = hit.clone();
            if let Some(p) = filled.proof.as_mut() {
                let witness = witness(ctx, &p.scenario).expect("the witness login is the export's");
                p.fill_tokens(&witness);
            }
            assert_eq!(verify(ctx, &filled), Ok(()));
            let mut forged = filled.clone();
            if let Some(p) = forged.proof.as_mut() {
                p.tokens
                    .entry(TokenKind::IdToken)
                    .or_default()
                    .insert(claim.clone(), serde_json::json!("forged"));
            }
            assert!(verify(ctx, &forged).is_err());

            // A witness that never runs the line the finding points at.
            let mut elsewhere = hit.clone();
            elsewhere.loc.span = crate::source::Span::new(0, 1);
            assert!(verify(ctx, &elsewhere).is_err());
        });
    }

    #[test]
    fn only_the_findings_shown_get_their_proofs_tokens() {
        with_hits("claim-namespace", "claim-namespace", |ctx, hits| {
            let policy = &builtin_cl101();
            let mut findings: Vec<Finding> = hits
                .iter()
                .map(|h| finding(policy, h.clone(), ctx.sources))
                .collect();
            assert!(findings.len() >= 2);
            let pending = |f: &Finding| {
                f.proof
                    .as_ref()
                    .is_some_and(|p| p.tokens_pending && p.tokens.is_empty())
            };
            assert!(
                findings.iter().all(pending),
                "checks leave the tokens to the engine"
            );
            let first = findings[0].fingerprint.clone();
            fill_proof_tokens(ctx, &mut findings, &|f: &Finding| f.fingerprint != first);
            assert!(pending(&findings[0]), "a finding not shown is not filled in");
            for finding in &findings[1..] {
                let Some(proof) = &finding.proof else {
                    panic!("CL101 carries a proof")
                };
                let witness = witness(ctx, &proof.scenario).expect("the witness login is the export's");
                assert!(!proof.tokens_pending);
                assert!(!proof.tokens.is_empty());
                assert_eq!(proof.tokens, witness.tokens());
                assert_eq!(proof.may, witness.may_claims());
            }
        });
    }

    #[test]
    #[should_panic(expected = "not the ones its witness login issues")]
    fn test_builds_catch_a_proof_filled_from_another_login() {
        with_hits("claim-namespace", "claim-namespace", |ctx, hits| {
            let Some(mut proof) = hits.first().and_then(|h| h.proof.clone()) else {
                panic!("CL101 carries a proof")
            };
            let analysis = ctx.analysis.expect("an analysis");
            let looked_at = proof
                .looked_at
                .clone()
                .expect("test builds keep the tokens looked at");
            let Some(other) = analysis.ordered().find(|e| e.tokens() != looked_at.0) else {
                panic!("the fixture has logins that issue other tokens")
            };
            proof.fill_tokens(other);
        });
    }

    #[test]
    fn a_storage_proof_must_match_the_persisted_profile() {
        with_hits("nested-deny-path", "nested-deny-path", |ctx, hits| {
            let hit = hits.first().expect("a nested entry").clone();
            assert_eq!(verify(ctx, &hit), Ok(()));
            let mut wrong = hit.clone();
            if let Some(p) = wrong.proof.as_mut() {
                p.statement = Statement::EntryRemovesNothing {
                    entry: "email".into(),
                };
            }
            assert!(verify(ctx, &wrong).is_err());
        });
    }

    #[test]
    fn rewording_a_message_keeps_the_fingerprint() {
        with_hits("claim-namespace", "claim-namespace", |ctx, hits| {
            let policy = &builtin_cl101();
            let mut reworded = policy.clone();
            reworded.message = "claim {claim} is dropped (reworded)".into();
            let fingerprints = |policy: &Policy| -> Vec<String> {
                hits.iter()
                    .map(|h| finding(policy, h.clone(), ctx.sources).fingerprint)
                    .collect()
            };
            let before = fingerprints(policy);
            assert_eq!(before, fingerprints(&reworded));
            // Different claims keep different fingerprints.
            let distinct: std::collections::BTreeSet<&String> = before.iter().collect();
            assert_eq!(distinct.len(), before.len(), "{before:?}");
        });
    }
}
