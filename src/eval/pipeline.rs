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

/// One script's part in a login, each claim through the platform's filters. Logins that run
/// the same summary of a script in the same shape (protocol, pipeline, and the connection only
/// where its deny list drops one of the script's claims) share one.
#[derive(Debug, Clone)]
pub struct ScriptPart {
    /// How the script ends the login; an `Unfinished` part holds only its notes, a `Denied`
    /// one its notes and reads.
    pub outcome: LoginOutcome,
    pub trace: Vec<TraceEntry>,
    /// Where the evaluation stopped short (the step budget, a summarised loop...).
    pub incomplete: Vec<String>,
    pub writes: Vec<ScriptWrite>,
    pub signals: Vec<SignalAt>,
    pub reads: Vec<(Arc<str>, SourceId, Span)>,
    /// Where the script completes the login with tokens: (script, file, span).
    pub completions: Vec<(Arc<str>, SourceId, Span)>,
    /// Root attributes of `user` the script changes: (write, script, file).
    pub user_writes: Vec<(summary::UserWrite, Arc<str>, SourceId)>,
    /// Places where the script stopped short: (script, file, span, what).
    pub bounds: Vec<(Arc<str>, SourceId, Span, String)>,
    /// What the script puts into the tokens, in order.
    token_writes: Vec<TokenWrite>,
}

/// A claim a script puts into a token. `may`: `Some(condition)` for a claim set on some paths
/// only, `Some(None)` for one set on every path, `None` for a legacy-profile copy (which leaves
/// the conditions as they are).
#[derive(Debug, Clone)]
struct TokenWrite {
    token: TokenKind,
    claim: String,
    value: serde_json::Value,
    may: Option<Option<String>>,
}

/// What the scripts of a login do: their parts in pipeline order (up to a denial) and the
/// tokens they issue. Logins with the same parts share one (an `Arc`).
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    pub outcome: LoginOutcome,
    /// Claims the scripts set, as issued, by token (the profile's standard claims are not here:
    /// see [`Evaluation::tokens`]).
    pub script_tokens: Tokens,
    /// Claims issued on some paths only, with the condition.
    pub may: MayClaims,
    pub parts: Vec<Arc<ScriptPart>>,
}

impl ScriptOutcome {
    /// The scripts' trace (see [`Evaluation::trace`] for the whole one).
    pub fn script_trace(&self) -> impl Iterator<Item = &TraceEntry> {
        self.parts.iter().flat_map(|p| &p.trace)
    }

    pub fn incomplete(&self) -> impl Iterator<Item = &String> {
        self.parts.iter().flat_map(|p| &p.incomplete)
    }

    pub fn writes(&self) -> impl Iterator<Item = &ScriptWrite> {
        self.parts.iter().flat_map(|p| &p.writes)
    }

    pub fn signals(&self) -> impl Iterator<Item = &SignalAt> {
        self.parts.iter().flat_map(|p| &p.signals)
    }

    pub fn reads(&self) -> impl Iterator<Item = &(Arc<str>, SourceId, Span)> {
        self.parts.iter().flat_map(|p| &p.reads)
    }

    pub fn completions(&self) -> impl Iterator<Item = &(Arc<str>, SourceId, Span)> {
        self.parts.iter().flat_map(|p| &p.completions)
    }

    pub fn user_writes(&self) -> impl Iterator<Item = &(summary::UserWrite, Arc<str>, SourceId)> {
        self.parts.iter().flat_map(|p| &p.user_writes)
    }

    pub fn bounds(&self) -> impl Iterator<Item = &(Arc<str>, SourceId, Span, String)> {
        self.parts.iter().flat_map(|p| &p.bounds)
    }
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
        let incomplete: Vec<&String> = self.incomplete().collect();
        if !incomplete.is_empty() {
            out.serialize_field("incomplete", &incomplete)?;
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
        self.profile_trace.iter().chain(self.script_trace())
    }

    /// Whether some script line at `file`/`span` runs in this login.
    pub fn runs(&self, file: SourceId, span: Span) -> bool {
        self.writes().any(|w| w.file == file && w.claim.span == span)
            || self.user_writes().any(|(w, _, f)| *f == file && w.span == span)
            || self.reads().any(|(_, f, s)| *f == file && *s == span)
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
    let login = filters::Login::new(tenant, platform, scenario);
    let parts = summaries
        .iter()
        .map(|(r, summary)| Arc::new(compose_part(scripts, platform, sources, &login, *r, summary)))
        .collect();
    let outcome = assemble(parts, login.machine);
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

/// One script's part in a login.
pub(crate) fn compose_part(
    scripts: &Scripts,
    platform: &Platform,
    sources: &SourceMap,
    login: &filters::Login<'_>,
    r: UnitRef,
    summary: &Summary,
) -> ScriptPart {
    let (unit, _) = unit_of(scripts, r);
    let label: Arc<str> = unit.label().into();
    let file = sources.get(unit.file);
    let display: Arc<str> = file.display.as_str().into();
    let mut part = ScriptPart {
        outcome: summary.outcome,
        trace: Vec::new(),
        incomplete: Vec::new(),
        writes: Vec::new(),
        signals: Vec::new(),
        reads: Vec::new(),
        completions: Vec::new(),
        user_writes: Vec::new(),
        bounds: Vec::new(),
        token_writes: Vec::new(),
    };
    for bound in &summary.incomplete {
        let line = file.line_col(bound.span.start).line;
        part.incomplete
            .push(format!("{label}, line {line}: {}", bound.what));
        part.bounds
            .push((label.clone(), unit.file, bound.span, bound.what.clone()));
    }
    match summary.outcome {
        LoginOutcome::Unfinished => {
            // No path calls back: a rule like that would hang every login, so more likely
            // the evaluator lost track of how it completes. Say so and go on with the others.
            let what = "no path the evaluator followed completes the login (calls back)".to_string();
            part.incomplete.push(format!("{label}: {what}"));
            part.bounds
                .push((label.clone(), unit.file, Span::default(), what));
            return part;
        }
        LoginOutcome::Denied => {
            // No path of this script issues tokens: the login ends here.
            for (path, span) in &summary.reads {
                part.reads.push((path.clone(), unit.file, *span));
            }
            return part;
        }
        LoginOutcome::MayDeny | LoginOutcome::Issued => {}
    }
    // A client-credentials exchange issues no ID token.
    let issued = |token: TokenKind| !(login.machine && token == TokenKind::IdToken);
    for claim in &summary.claims {
        let decision = filters::decide(claim, login, platform);
        let line = file.line_col(claim.span.start).line;
        let label_claim = claim.key.label();
        if decision.outcome == Outcome::Kept && issued(claim.token) {
            part.token_writes.push(TokenWrite {
                token: claim.token,
                claim: label_claim.clone(),
                value: claim.value.clone(),
                may: Some(match (&claim.condition, claim.must) {
                    (Some(c), false) => Some(c.clone()),
                    _ => None,
                }),
            });
        }
        part.trace.push(TraceEntry {
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
        part.writes.push(ScriptWrite {
            claim: claim.clone(),
            script: label.clone(),
            file: unit.file,
            decision,
        });
    }
    // The legacy profile copies new or changed root attributes into a non-conformant
    // client's ID token.
    for write in &summary.user_writes {
        if login.scenario.pipeline == Pipeline::Legacy && login.legacy_profile && !login.machine {
            part.token_writes.push(TokenWrite {
                token: TokenKind::IdToken,
                claim: write.attribute.clone(),
                value: write.value.clone(),
                may: None,
            });
            let line = file.line_col(write.span.start).line;
            part.trace.push(TraceEntry {
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
        part.user_writes.push((write.clone(), label.clone(), unit.file));
    }
    for signal in &summary.signals {
        part.signals.push(SignalAt {
            kind: signal.kind,
            must: signal.must,
            script: label.clone(),
            file: unit.file,
            span: signal.span,
        });
    }
    for (path, span) in &summary.reads {
        part.reads.push((path.clone(), unit.file, *span));
    }
    for span in &summary.completions {
        part.completions.push((label.clone(), unit.file, *span));
    }
    part
}

/// The scripts' outcome from their parts in pipeline order: a denial ends the login (and its
/// tokens), a script that never completes is noted and passed over.
pub(crate) fn assemble(parts: Vec<Arc<ScriptPart>>, machine: bool) -> ScriptOutcome {
    let mut outcome = ScriptOutcome {
        outcome: LoginOutcome::Issued,
        script_tokens: BTreeMap::from([
            (TokenKind::IdToken, BTreeMap::new()),
            (TokenKind::AccessToken, BTreeMap::new()),
        ]),
        may: BTreeMap::new(),
        parts: Vec::with_capacity(parts.len()),
    };
    if machine {
        outcome.script_tokens.remove(&TokenKind::IdToken);
    }
    for part in parts {
        match part.outcome {
            LoginOutcome::Unfinished => {
                outcome.parts.push(part);
                continue;
            }
            LoginOutcome::Denied => {
                outcome.outcome = LoginOutcome::Denied;
                outcome.parts.push(part);
                break;
            }
            LoginOutcome::MayDeny => outcome.outcome = LoginOutcome::MayDeny,
            LoginOutcome::Issued => {}
        }
        for write in &part.token_writes {
            let Some(token) = outcome.script_tokens.get_mut(&write.token) else {
                continue;
            };
            token.insert(write.claim.clone(), write.value.clone());
            if let Some(condition) = &write.may {
                let may = outcome.may.entry(write.token).or_default();
                match condition {
                    Some(c) => {
                        may.insert(write.claim.clone(), c.clone());
                    }
                    None => {
                        may.remove(&write.claim);
                    }
                }
            }
        }
        outcome.parts.push(part);
    }
    if matches!(outcome.outcome, LoginOutcome::Denied | LoginOutcome::Unfinished) {
        for token in outcome.script_tokens.values_mut() {
            token.clear();
        }
        outcome.may.clear();
        return outcome;
    }
    outcome.may.retain(|_, m| !m.is_empty());
    outcome
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
