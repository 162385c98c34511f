//! One login's evaluation: the scripts' summaries composed in pipeline order, each claim passed
//! through the platform filters, the legacy profile's copy of changed user attributes, and the
//! standard profile claims, into issued tokens with a trace.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::analysis::{UnitRef, unit_of};
use super::*;

/// A claim a script set, with the filter's verdict in one login.
#[derive(Debug, Clone)]
pub struct ScriptWrite {
    pub claim: Arc<ClaimSet>,
    pub script: Arc<str>,
    pub file: SourceId,
    pub decision: Decision,
}

impl ScriptWrite {
    pub fn span(&self) -> Span {
        self.claim.span
    }

    pub fn token(&self) -> TokenKind {
        self.claim.token
    }

    /// The claim's name when it is known exactly.
    pub fn name(&self) -> Option<&str> {
        self.claim.key.exact()
    }
}

/// A script's MFA or redirect signal in one login.
#[derive(Debug, Clone)]
pub struct SignalAt {
    pub kind: SignalKind,
    pub must: bool,
    pub script: Arc<str>,
    pub file: SourceId,
    pub span: Span,
}

/// What the scripts of a login do once the platform's filters have decided each claim. Logins
/// that run the same summaries in the same shape share one (an `Arc`): it depends on the
/// connection only where the connection's deny list drops a claim.
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    pub outcome: LoginOutcome,
    /// Claims the scripts set, as issued, by token (the profile's standard claims are not here:
    /// see [`Evaluation::tokens`]).
    pub script_tokens: Tokens,
    /// Claims issued on some paths only, with the condition.
    pub may: MayClaims,
    /// The scripts' trace (see [`Evaluation::trace`] for the whole one).
    pub script_trace: Vec<TraceEntry>,
    /// Where the evaluation stopped short (the step budget, a summarised loop...).
    pub incomplete: Vec<String>,
    pub writes: Vec<ScriptWrite>,
    pub signals: Vec<SignalAt>,
    pub reads: Vec<(Arc<str>, SourceId, Span)>,
    /// Where scripts complete the login with tokens: (script, file, span).
    pub completions: Vec<(Arc<str>, SourceId, Span)>,
    /// Root attributes of `user` scripts change: (attribute, value, must, script, file, span).
    pub user_writes: Vec<(summary::UserWrite, Arc<str>, SourceId)>,
    /// Places where a script stopped short: (script, file, span, what).
    pub bounds: Vec<(Arc<str>, SourceId, Span, String)>,
}

/// The result of evaluating one login (and every login that agrees with it on what the
/// scripts read: its `members`): the scripts' shared outcome (its fields read through this
/// type: `evaluation.writes`) and what the login's connection adds to the ID token.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub scenario: Scenario,
    pub scripts: Arc<ScriptOutcome>,
    /// Standard claims the connection's profile puts into the ID token, where no script set
    /// the same name.
    pub profile_claims: BTreeMap<String, serde_json::Value>,
    /// The profile's trace entries, which come before the scripts' in [`Evaluation::trace`].
    pub profile_trace: Vec<TraceEntry>,
    /// Clients whose logins this evaluation stands for.
    pub members: Vec<String>,
}

impl std::ops::Deref for Evaluation {
    type Target = ScriptOutcome;

    fn deref(&self) -> &ScriptOutcome {
        &self.scripts
    }
}

impl serde::Serialize for Evaluation {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut out = serializer.serialize_struct("Evaluation", 6)?;
        out.serialize_field("scenario", &self.scenario)?;
        out.serialize_field("outcome", &self.outcome)?;
        out.serialize_field("tokens", &self.tokens())?;
        if !self.may.is_empty() {
            out.serialize_field("may", &self.may)?;
        }
        out.serialize_field("trace", &self.trace().collect::<Vec<_>>())?;
        if !self.incomplete.is_empty() {
            out.serialize_field("incomplete", &self.incomplete)?;
        }
        out.end()
    }
}

impl Evaluation {
    /// Whether the issued `token` carries `claim`.
    pub fn has(&self, token: TokenKind, claim: &str) -> bool {
        self.script_tokens
            .get(&token)
            .is_some_and(|t| t.contains_key(claim))
            || (token == TokenKind::IdToken && self.profile_claims.contains_key(claim))
    }

    /// The claims as issued, by token: the scripts' and the profile's.
    pub fn tokens(&self) -> Tokens {
        let mut tokens = self.script_tokens.clone();
        if let Some(id_token) = tokens.get_mut(&TokenKind::IdToken) {
            for (claim, value) in &self.profile_claims {
                id_token.entry(claim.clone()).or_insert_with(|| value.clone());
            }
        }
        tokens
    }

    /// The whole trace: the profile's standard claims, then the scripts' claims.
    pub fn trace(&self) -> impl Iterator<Item = &TraceEntry> {
        self.profile_trace.iter().chain(&self.script_trace)
    }

    /// Whether some script line at `file`/`span` runs in this login.
    pub fn runs(&self, file: SourceId, span: Span) -> bool {
        self.writes.iter().any(|w| w.file == file && w.claim.span == span)
            || self
                .user_writes
                .iter()
                .any(|(w, _, f)| *f == file && w.span == span)
            || self.reads.iter().any(|(_, f, s)| *f == file && *s == span)
    }
}

/// Renders the issued tokens compactly, for human output.
pub fn compact_tokens(tokens: &Tokens) -> String {
    tokens
        .iter()
        .map(|(token, claims)| {
            format!(
                "{}: {}",
                token.label(),
                serde_json::to_string(claims).unwrap_or_default()
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Proof {
    /// A token proof from an evaluation.
    pub fn new(
        evaluation: &Evaluation,
        trace: Vec<TraceEntry>,
        shows: String,
        statement: Statement,
    ) -> Proof {
        Proof {
            scenario: evaluation.scenario.clone(),
            tokens: evaluation.tokens(),
            may: evaluation.may.clone(),
            profile: None,
            trace,
            shows,
            statement,
        }
    }
}

/// Builds one login's evaluation from the summaries of the scripts it runs, in order.
pub(crate) fn compose(
    tenant: &Tenant,
    scripts: &Scripts,
    platform: &Platform,
    sources: &SourceMap,
    scenario: &Scenario,
    summaries: &[(UnitRef, Arc<Summary>)],
) -> Evaluation {
    let outcome = compose_scripts(tenant, scripts, platform, sources, scenario, summaries);
    with_profile(tenant, platform, sources, scenario, Arc::new(outcome))
}

/// A login's evaluation from its scripts' outcome: the profile's standard claims are added
/// unless the login is denied.
pub(crate) fn with_profile(
    tenant: &Tenant,
    platform: &Platform,
    sources: &SourceMap,
    scenario: &Scenario,
    scripts: Arc<ScriptOutcome>,
) -> Evaluation {
    let mut evaluation = Evaluation {
        scenario: scenario.clone(),
        scripts,
        profile_claims: BTreeMap::new(),
        profile_trace: Vec::new(),
        members: Vec::new(),
    };
    let denied = matches!(
        evaluation.outcome,
        LoginOutcome::Denied | LoginOutcome::Unfinished
    );
    if let Some(connection) = scenario.connection.as_ref().and_then(|n| tenant.connection(n))
        && !denied
    {
        profile::profile_claims(&mut evaluation, tenant, connection, platform, sources);
    }
    evaluation
}

/// What the scripts of a login do, each claim through the platform's filters.
pub(crate) fn compose_scripts(
    tenant: &Tenant,
    scripts: &Scripts,
    platform: &Platform,
    sources: &SourceMap,
    scenario: &Scenario,
    summaries: &[(UnitRef, Arc<Summary>)],
) -> ScriptOutcome {
    let connection = scenario.connection.as_ref().and_then(|n| tenant.connection(n));
    let machine = scenario.protocol == CREDENTIALS_PROTOCOL;
    let legacy_profile = tenant
        .flag(&platform.data.legacy.profile_flag)
        .is_some_and(|f| f.value == Some(true));
    let mut evaluation = ScriptOutcome {
        outcome: LoginOutcome::Issued,
        script_tokens: BTreeMap::from([
            (TokenKind::IdToken, BTreeMap::new()),
            (TokenKind::AccessToken, BTreeMap::new()),
        ]),
        may: BTreeMap::new(),
        script_trace: Vec::new(),
        incomplete: Vec::new(),
        writes: Vec::new(),
        signals: Vec::new(),
        reads: Vec::new(),
        completions: Vec::new(),
        user_writes: Vec::new(),
        bounds: Vec::new(),
    };
    if machine {
        evaluation.script_tokens.remove(&TokenKind::IdToken);
    }
    let login = filters::Login {
        scenario,
        connection,
        legacy_profile,
        machine,
    };
    for (r, summary) in summaries {
        let (unit, _) = unit_of(scripts, *r);
        let label: Arc<str> = unit.label().into();
        let file = sources.get(unit.file);
        let display: Arc<str> = file.display.as_str().into();
        for bound in &summary.incomplete {
            let line = file.line_col(bound.span.start).line;
            evaluation
                .incomplete
                .push(format!("{label}, line {line}: {}", bound.what));
            evaluation
                .bounds
                .push((label.clone(), unit.file, bound.span, bound.what.clone()));
        }
        match summary.outcome {
            LoginOutcome::Unfinished => {
                // No path calls back: a rule like that would hang every login, so more likely
                // the evaluator lost track of how it completes. Say so and go on with the others.
                let what = "no path the evaluator followed completes the login (calls back)".to_string();
                evaluation.incomplete.push(format!("{label}: {what}"));
                evaluation
                    .bounds
                    .push((label.clone(), unit.file, Span::default(), what));
                continue;
            }
            LoginOutcome::Denied => {
                // No path of this script issues tokens: the login ends here.
                evaluation.outcome = summary.outcome;
                for (path, span) in &summary.reads {
                    evaluation.reads.push((path.clone(), unit.file, *span));
                }
                break;
            }
            LoginOutcome::MayDeny => evaluation.outcome = LoginOutcome::MayDeny,
            LoginOutcome::Issued => {}
        }
        for claim in &summary.claims {
            let decision = filters::decide(claim, &login, platform);
            let line = file.line_col(claim.span.start).line;
            let label_claim = claim.key.label();
            if decision.outcome == Outcome::Kept
                && let Some(token) = evaluation.script_tokens.get_mut(&claim.token)
            {
                token.insert(label_claim.clone(), claim.value.clone());
                let may = evaluation.may.entry(claim.token).or_default();
                match (&claim.condition, claim.must) {
                    (Some(c), false) => {
                        may.insert(label_claim.clone(), c.clone());
                    }
                    _ => {
                        may.remove(&label_claim);
                    }
                }
            }
            evaluation.script_trace.push(TraceEntry {
                claim: label_claim,
                token: claim.token,
                script: label.clone(),
                file: display.clone(),
                line,
                filter: decision.filter,
                outcome: decision.outcome,
                reason: decision.reason.clone(),
                when: claim.condition.clone(),
                condition: None,
                clause: None,
                source: Some(unit.file),
                span: claim.span,
                pointer: String::new(),
            });
            evaluation.writes.push(ScriptWrite {
                claim: claim.clone(),
                script: label.clone(),
                file: unit.file,
                decision,
            });
        }
        // The legacy profile copies new or changed root attributes into a non-conformant
        // client's ID token.
        for write in &summary.user_writes {
            if scenario.pipeline == Pipeline::Legacy
                && legacy_profile
                && !machine
                && let Some(token) = evaluation.script_tokens.get_mut(&TokenKind::IdToken)
            {
                token.insert(write.attribute.clone(), write.value.clone());
                let line = file.line_col(write.span.start).line;
                evaluation.script_trace.push(TraceEntry {
                    claim: write.attribute.clone(),
                    token: TokenKind::IdToken,
                    script: label.clone(),
                    file: display.clone(),
                    line,
                    filter: Filter::LegacyProfile,
                    outcome: Outcome::Kept,
                    reason: format!(
                        "the script sets `user.{}`, which the legacy profile copies into the ID token of a client that is not OIDC-conformant",
                        write.attribute
                    ),
                    when: None,
                    condition: None,
                    clause: None,
                    source: Some(unit.file),
                    span: write.span,
                    pointer: String::new(),
                });
            }
            evaluation
                .user_writes
                .push((write.clone(), label.clone(), unit.file));
        }
        for signal in &summary.signals {
            evaluation.signals.push(SignalAt {
                kind: signal.kind,
                must: signal.must,
                script: label.clone(),
                file: unit.file,
                span: signal.span,
            });
        }
        for (path, span) in &summary.reads {
            evaluation.reads.push((path.clone(), unit.file, *span));
        }
        for span in &summary.completions {
            evaluation.completions.push((label.clone(), unit.file, *span));
        }
    }
    if matches!(
        evaluation.outcome,
        LoginOutcome::Denied | LoginOutcome::Unfinished
    ) {
        for token in evaluation.script_tokens.values_mut() {
            token.clear();
        }
        evaluation.may.clear();
        return evaluation;
    }
    evaluation.may.retain(|_, m| !m.is_empty());
    evaluation
}

/// The trace entry of one write in an evaluation.
pub fn trace_of<'e>(evaluation: &'e Evaluation, write: &ScriptWrite) -> Option<&'e TraceEntry> {
    let claim = write.claim.key.label();
    evaluation.trace().find(|t| {
        t.source == Some(write.file)
            && t.span == write.claim.span
            && t.token == write.claim.token
            && t.claim == claim
    })
}
