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

/// The result of evaluating one login (and every login that agrees with it on what the
/// scripts read: its `members`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Evaluation {
    pub scenario: Scenario,
    pub outcome: LoginOutcome,
    /// Claims as issued, by token.
    pub tokens: Tokens,
    /// Claims issued on some paths only, with the condition.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub may: MayClaims,
    pub trace: Vec<TraceEntry>,
    /// Where the evaluation stopped short (the step budget, a summarised loop...).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub incomplete: Vec<String>,
    /// Clients whose logins this evaluation stands for.
    #[serde(skip)]
    pub members: Vec<String>,
    #[serde(skip)]
    pub writes: Vec<ScriptWrite>,
    #[serde(skip)]
    pub signals: Vec<SignalAt>,
    #[serde(skip)]
    pub reads: Vec<(Arc<str>, SourceId, Span)>,
    /// Where scripts complete the login with tokens: (script, file, span).
    #[serde(skip)]
    pub completions: Vec<(Arc<str>, SourceId, Span)>,
    /// Root attributes of `user` scripts change: (attribute, value, must, script, file, span).
    #[serde(skip)]
    pub user_writes: Vec<(summary::UserWrite, Arc<str>, SourceId)>,
    /// Places where a script stopped short: (script, file, span, what).
    #[serde(skip)]
    pub bounds: Vec<(Arc<str>, SourceId, Span, String)>,
}

impl Evaluation {
    /// Whether the issued `token` carries `claim`.
    pub fn has(&self, token: TokenKind, claim: &str) -> bool {
        self.tokens.get(&token).is_some_and(|t| t.contains_key(claim))
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
            tokens: evaluation.tokens.clone(),
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
    let connection = scenario.connection.as_ref().and_then(|n| tenant.connection(n));
    let machine = scenario.protocol == CREDENTIALS_PROTOCOL;
    let legacy_profile = tenant
        .flag(&platform.data.legacy.profile_flag)
        .is_some_and(|f| f.value == Some(true));
    let mut evaluation = Evaluation {
        scenario: scenario.clone(),
        outcome: LoginOutcome::Issued,
        tokens: BTreeMap::from([
            (TokenKind::IdToken, BTreeMap::new()),
            (TokenKind::AccessToken, BTreeMap::new()),
        ]),
        may: BTreeMap::new(),
        trace: Vec::new(),
        incomplete: Vec::new(),
        members: Vec::new(),
        writes: Vec::new(),
        signals: Vec::new(),
        reads: Vec::new(),
        completions: Vec::new(),
        user_writes: Vec::new(),
        bounds: Vec::new(),
    };
    if machine {
        evaluation.tokens.remove(&TokenKind::IdToken);
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
                && let Some(token) = evaluation.tokens.get_mut(&claim.token)
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
            evaluation.trace.push(TraceEntry {
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
                && let Some(token) = evaluation.tokens.get_mut(&TokenKind::IdToken)
            {
                token.insert(write.attribute.clone(), write.value.clone());
                let line = file.line_col(write.span.start).line;
                evaluation.trace.push(TraceEntry {
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
        for token in evaluation.tokens.values_mut() {
            token.clear();
        }
        evaluation.may.clear();
        return evaluation;
    }
    evaluation.may.retain(|_, m| !m.is_empty());
    if let Some(connection) = connection {
        profile::profile_claims(&mut evaluation, tenant, connection, platform, sources);
    }
    evaluation
}

/// The trace entry of one write in an evaluation.
pub fn trace_of<'e>(evaluation: &'e Evaluation, write: &ScriptWrite) -> Option<&'e TraceEntry> {
    let claim = write.claim.key.label();
    evaluation.trace.iter().find(|t| {
        t.source == Some(write.file)
            && t.span == write.claim.span
            && t.token == write.claim.token
            && t.claim == claim
    })
}
