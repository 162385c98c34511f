//! One login's evaluation: the scripts' summaries composed in pipeline order, each claim passed
//! through the platform filters, the legacy profile's copy of changed user attributes, and the
//! standard profile claims, into issued tokens with a trace.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::analysis::{UnitRef, unit_of};
use super::profile::ProfileClaims;
use super::*;

/// A claim a script set, with the filter's verdict in one login.
#[derive(Debug, Clone)]
pub struct ScriptWrite {
    pub claim: Arc<ClaimSet>,
    pub script: Arc<str>,
    pub file: SourceId,
    /// The line of the write, for its trace entry.
    pub line: u32,
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
    /// For a signal on some paths only: when, in words.
    pub condition: Option<String>,
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
    /// The script's file as displayed, for its trace entries.
    display: Arc<str>,
    /// The lines of `user_writes` when the legacy profile copies them into the ID token (one
    /// per write), empty when it does not.
    legacy_copies: Vec<u32>,
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
    claim: Arc<str>,
    /// The claim's place among every claim name of the analysis's parts (see [`rank_claims`]),
    /// so that sorting an outcome's claims compares numbers; 0 when unranked.
    rank: u32,
    value: ClaimValue,
    may: Option<Option<Arc<str>>>,
}

/// The claims of one token (what they are set to, or when they are issued), sorted by claim
/// name, each as where its last write is in the outcome's parts: no name or value is copied,
/// and building an outcome touches no reference count (outcomes are built on every core from
/// the same parts).
#[derive(Debug, Clone, Default)]
pub struct ClaimList(Vec<WriteAt>);

/// A token write of an outcome: its part and its position among the part's token writes.
#[derive(Debug, Clone, Copy)]
struct WriteAt {
    part: u32,
    write: u32,
}

impl ClaimList {
    /// The last of `writes` (in order) for each claim name, by name; `keep` says whether a
    /// claim whose last write that is stays.
    fn from_writes(
        parts: &[Arc<ScriptPart>],
        writes: Vec<WriteAt>,
        keep: impl Fn(&TokenWrite) -> bool,
    ) -> ClaimList {
        let at = |w: WriteAt| &parts[w.part as usize].token_writes[w.write as usize];
        let mut numbered: Vec<(usize, WriteAt)> = writes.into_iter().enumerate().collect();
        // By name, the latest write first; then only that one of each name stays.
        numbered.sort_unstable_by(|(a, wa), (b, wb)| by_name(at(*wa), at(*wb)).then(b.cmp(a)));
        numbered.dedup_by(|(_, later), (_, kept)| by_name(at(*later), at(*kept)).is_eq());
        let mut claims = Vec::with_capacity(numbered.len());
        claims.extend(numbered.into_iter().map(|(_, w)| w).filter(|&w| keep(at(w))));
        claims.shrink_to_fit();
        ClaimList(claims)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What the scripts of a login do: their parts in pipeline order (up to a denial) and the
/// tokens they issue. Logins with the same parts share one (an `Arc`).
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    pub outcome: LoginOutcome,
    /// Claims the scripts set, as issued, by token (the profile's standard claims are not here:
    /// see [`Evaluation::tokens`]); read through [`ScriptOutcome::issued`].
    pub script_tokens: BTreeMap<TokenKind, ClaimList>,
    /// Claims issued on some paths only; read through [`ScriptOutcome::conditions`].
    pub may: BTreeMap<TokenKind, ClaimList>,
    pub parts: Vec<Arc<ScriptPart>>,
    /// The login facts some issued claim stands for (see [`ClaimValue::Fact`]), sorted.
    pub facts: Vec<Fact>,
    /// Indices into [`ScriptOutcome::reads`] of the first read of each root attribute, found
    /// on first use: every login through every connection sharing this outcome asks for them.
    first_reads: std::sync::OnceLock<Vec<u32>>,
}

impl ScriptPart {
    /// The part's trace: each claim the script sets with the filters' verdict, then each root
    /// attribute the legacy profile copies into the ID token. Built when asked (for proofs and
    /// `claimlint token`), not kept: a large export has hundreds of thousands of entries.
    pub fn trace(&self) -> impl Iterator<Item = TraceEntry> + '_ {
        self.trace_where(|_, _| true)
    }

    /// The entries of [`ScriptPart::trace`] whose filter and token `keep` accepts, built only
    /// for those.
    pub fn trace_where<'p>(
        &'p self,
        keep: impl Fn(Filter, TokenKind) -> bool + 'p,
    ) -> impl Iterator<Item = TraceEntry> + 'p {
        let copies_kept = keep(Filter::LegacyProfile, TokenKind::IdToken);
        let writes = self
            .writes
            .iter()
            .filter(move |w| keep(w.decision.filter, w.claim.token))
            .map(|w| self.write_entry(w));
        let copies = self
            .user_writes
            .iter()
            .zip(&self.legacy_copies)
            .filter(move |_| copies_kept)
            .map(|((write, script, file), &line)| TraceEntry {
                claim: write.attribute.clone(),
                token: TokenKind::IdToken,
                script: script.clone(),
                file: self.display.clone(),
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
                source: Some(*file),
                span: write.span,
                pointer: String::new(),
            });
        writes.chain(copies)
    }

    fn write_entry(&self, write: &ScriptWrite) -> TraceEntry {
        TraceEntry {
            claim: write.claim.key.label(),
            token: write.claim.token,
            script: write.script.clone(),
            file: self.display.clone(),
            line: write.line,
            filter: write.decision.filter,
            outcome: write.decision.outcome,
            reason: write.decision.reason.clone(),
            when: write.claim.condition.clone(),
            condition: None,
            clause: None,
            source: Some(write.file),
            span: write.claim.span,
            pointer: String::new(),
        }
    }

    /// The trace entry of `write`, when it is this part's.
    fn entry_of(&self, write: &ScriptWrite, claim: &str) -> Option<TraceEntry> {
        let own = self.writes.iter().find(|w| {
            w.file == write.file
                && w.claim.span == write.claim.span
                && w.claim.token == write.claim.token
                && w.claim.key.label() == claim
        });
        if let Some(own) = own {
            return Some(self.write_entry(own));
        }
        if write.claim.token != TokenKind::IdToken {
            return None;
        }
        self.trace_where(|filter, _| filter == Filter::LegacyProfile)
            .find(|t| t.source == Some(write.file) && t.span == write.claim.span && t.claim == claim)
    }
}

impl ScriptOutcome {
    /// Whether the scripts issue `claim` on `token` (the profile's standard claims aside: see
    /// [`Evaluation::has`]).
    pub fn issues(&self, token: TokenKind, claim: &str) -> bool {
        self.script_tokens.get(&token).is_some_and(|list| {
            list.0
                .binary_search_by(|&w| (*self.write_at(w).claim).cmp(claim))
                .is_ok()
        })
    }

    fn write_at(&self, w: WriteAt) -> &TokenWrite {
        &self.parts[w.part as usize].token_writes[w.write as usize]
    }

    /// The claims the scripts issue on `token`, by name, with their values (a login fact's
    /// value is the login's: see [`Evaluation::tokens`]).
    pub fn issued(&self, token: TokenKind) -> impl Iterator<Item = (&str, &ClaimValue)> {
        self.script_tokens.get(&token).into_iter().flat_map(|list| {
            list.0.iter().map(|&w| {
                let write = self.write_at(w);
                (&*write.claim, &write.value)
            })
        })
    }

    /// The claims issued on `token` on some paths only, by name, with the condition in words.
    pub fn conditions(&self, token: TokenKind) -> impl Iterator<Item = (&str, &str)> {
        self.may.get(&token).into_iter().flat_map(|list| {
            list.0.iter().filter_map(|&w| {
                let write = self.write_at(w);
                let when = write.may.as_ref()?.as_deref()?;
                Some((&*write.claim, when))
            })
        })
    }

    /// The scripts' trace (see [`Evaluation::trace`] for the whole one).
    pub fn script_trace(&self) -> impl Iterator<Item = TraceEntry> + '_ {
        self.parts.iter().flat_map(|p| p.trace())
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

    /// The first read of each root attribute (`user.address.city` reads `address`), in read
    /// order, with the root.
    pub fn first_reads(&self) -> impl Iterator<Item = (&str, &(Arc<str>, SourceId, Span))> {
        let firsts = self.first_reads.get_or_init(|| {
            let mut seen = std::collections::HashSet::new();
            self.reads()
                .enumerate()
                .filter(|(_, (path, _, _))| seen.insert(root_of(path)))
                .map(|(i, _)| i as u32)
                .collect()
        });
        let mut reads = self.reads().enumerate();
        firsts.iter().filter_map(move |&i| {
            let (_, read) = reads.find(|(k, _)| *k == i as usize)?;
            Some((root_of(&read.0), read))
        })
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
    /// Standard claims the connection's profile puts into the ID token, with their trace
    /// entries (which come before the scripts' in [`Evaluation::trace`]).
    pub profile: Arc<ProfileClaims>,
    /// Clients whose logins this evaluation stands for.
    pub members: Vec<String>,
    /// The login's values of the facts in [`ScriptOutcome::facts`].
    pub facts: Vec<(Fact, Option<String>)>,
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
            out.serialize_field("may", &self.may_claims())?;
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
        self.issues(token, claim) || (token == TokenKind::IdToken && self.profile.claims.contains_key(claim))
    }

    /// The claims as issued, by token: the scripts' and the profile's.
    pub fn tokens(&self) -> Tokens {
        let value_of = |fact: Fact| {
            self.facts
                .iter()
                .find(|(f, _)| *f == fact)
                .and_then(|(_, value)| value.clone())
        };
        let mut tokens: Tokens = self
            .script_tokens
            .keys()
            .map(|&token| {
                let claims = self
                    .issued(token)
                    .map(|(claim, value)| (claim.to_string(), value.resolve(value_of)))
                    .collect();
                (token, claims)
            })
            .collect();
        if let Some(id_token) = tokens.get_mut(&TokenKind::IdToken) {
            for (claim, value) in &self.profile.claims {
                id_token.entry(claim.clone()).or_insert_with(|| value.clone());
            }
        }
        tokens
    }

    /// The claims issued on some paths only, with the condition in words, by token.
    pub fn may_claims(&self) -> MayClaims {
        self.may
            .keys()
            .map(|&token| {
                let claims = self
                    .conditions(token)
                    .map(|(claim, when)| (claim.to_string(), when.to_string()))
                    .collect();
                (token, claims)
            })
            .collect()
    }

    /// The whole trace: the profile's standard claims, then the scripts' claims.
    pub fn trace(&self) -> impl Iterator<Item = TraceEntry> + '_ {
        self.profile.trace.iter().cloned().chain(self.script_trace())
    }

    /// The entries of [`Evaluation::trace`] whose filter and token `keep` accepts, built only
    /// for those.
    pub fn trace_where<'e>(
        &'e self,
        keep: impl Fn(Filter, TokenKind) -> bool + Copy + 'e,
    ) -> impl Iterator<Item = TraceEntry> + 'e {
        self.profile
            .trace
            .iter()
            .filter(move |t| keep(t.filter, t.token))
            .cloned()
            .chain(self.parts.iter().flat_map(move |p| p.trace_where(keep)))
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
    /// A token proof from an evaluation, its tokens still to be filled in (see
    /// [`Proof::tokens_pending`] and [`Proof::fill_tokens`]). Test builds keep the
    /// evaluation's tokens apart, for [`Proof::fill_tokens`] to hold the witness login's
    /// against them.
    pub fn new(
        evaluation: &Evaluation,
        trace: Vec<TraceEntry>,
        shows: String,
        statement: Statement,
    ) -> Proof {
        Proof {
            scenario: evaluation.scenario.clone(),
            tokens: Default::default(),
            may: Default::default(),
            profile: None,
            trace,
            shows,
            statement,
            tokens_pending: true,
            looked_at: cfg!(debug_assertions)
                .then(|| Box::new((evaluation.tokens(), evaluation.may_claims()))),
        }
    }

    /// Fills in the tokens and conditional claims of `evaluation`, the witness login's.
    ///
    /// # Panics
    /// In test builds, when they are not the ones of the evaluation the proof was made from:
    /// a check whose proof names another login than the one it looked at.
    pub fn fill_tokens(&mut self, evaluation: &Evaluation) {
        let (tokens, may) = (evaluation.tokens(), evaluation.may_claims());
        if let Some(looked_at) = self.looked_at.take() {
            assert!(
                looked_at.0 == tokens && looked_at.1 == may,
                "the proof's tokens are not the ones its witness login issues: {:?}",
                self.scenario
            );
        }
        self.tokens = tokens;
        self.may = may;
        self.tokens_pending = false;
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
    let profile = Arc::new(profile_of(tenant, platform, sources, scenario, &scripts));
    with_shared_profile(tenant, scenario, scripts, profile)
}

/// The standard claims the login's connection adds to the ID token (none when the scripts
/// deny the login).
pub(crate) fn profile_of(
    tenant: &Tenant,
    platform: &Platform,
    sources: &SourceMap,
    scenario: &Scenario,
    scripts: &ScriptOutcome,
) -> ProfileClaims {
    let denied = profile::ends_before_tokens(scripts);
    match scenario.connection.as_ref().and_then(|n| tenant.connection(n)) {
        Some(connection) if !denied => {
            profile::profile_claims(scenario, scripts, tenant, connection, platform, sources)
        }
        _ => ProfileClaims::default(),
    }
}

/// A login's evaluation from its scripts' outcome and its [`profile_of`], which logins with
/// the same connection, scopes, client SSO setting and outcome share.
pub(crate) fn with_shared_profile(
    tenant: &Tenant,
    scenario: &Scenario,
    scripts: Arc<ScriptOutcome>,
    profile: Arc<ProfileClaims>,
) -> Evaluation {
    let facts = scripts
        .facts
        .iter()
        .map(|&fact| (fact, super::scenario::fact_value(tenant, scenario, fact)))
        .collect();
    Evaluation {
        scenario: scenario.clone(),
        scripts,
        profile,
        members: Vec::new(),
        facts,
    }
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
    let label = unit.shared_label.clone();
    let file = sources.get(unit.file);
    let display = unit.shared_display.clone();
    let mut part = ScriptPart {
        outcome: summary.outcome,
        display,
        legacy_copies: Vec::new(),
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
    // Parts are many and kept to the end: no room to spare.
    part.writes.reserve_exact(summary.claims.len());
    part.token_writes
        .reserve_exact(summary.claims.len() + summary.user_writes.len());
    part.user_writes.reserve_exact(summary.user_writes.len());
    part.signals.reserve_exact(summary.signals.len());
    part.reads.reserve_exact(summary.reads.len());
    part.completions.reserve_exact(summary.completions.len());
    let issued = |token: TokenKind| !(login.machine && token == TokenKind::IdToken);
    for claim in &summary.claims {
        let decision = filters::decide(claim, login, platform);
        if decision.outcome == Outcome::Kept && issued(claim.token) {
            part.token_writes.push(TokenWrite {
                token: claim.token,
                claim: claim.key.label().into(),
                rank: 0,
                value: claim.value.clone(),
                may: Some(match (&claim.condition, claim.must) {
                    (Some(c), false) => Some(c.as_str().into()),
                    _ => None,
                }),
            });
        }
        part.writes.push(ScriptWrite {
            claim: claim.clone(),
            script: label.clone(),
            file: unit.file,
            line: file.line_col(claim.span.start).line,
            decision,
        });
    }
    // The legacy profile copies new or changed root attributes into a non-conformant
    // client's ID token.
    for write in &summary.user_writes {
        if login.scenario.pipeline == Pipeline::Legacy && login.legacy_profile && !login.machine {
            part.token_writes.push(TokenWrite {
                token: TokenKind::IdToken,
                claim: write.attribute.as_str().into(),
                rank: 0,
                value: ClaimValue::json(write.value.clone()),
                may: None,
            });
            part.legacy_copies.push(file.line_col(write.span.start).line);
        }
        part.user_writes.push((write.clone(), label.clone(), unit.file));
    }
    for signal in &summary.signals {
        part.signals.push(SignalAt {
            kind: signal.kind,
            must: signal.must,
            condition: signal.condition.clone(),
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

/// Two writes in the order of their claim names: by rank when both are ranked (the same order,
/// without comparing text), else by the names.
fn by_name(a: &TokenWrite, b: &TokenWrite) -> std::cmp::Ordering {
    if a.rank != 0 && b.rank != 0 {
        a.rank.cmp(&b.rank)
    } else {
        a.claim.cmp(&b.claim)
    }
}

/// Ranks the claim names written in `parts` (1 for the first name in text order, equal names
/// equal ranks), so that outcomes assembled from them sort their claims by number.
/// Parts shared already (none are, when they were just made) keep rank 0.
pub(crate) fn rank_claims(parts: &mut [Arc<ScriptPart>]) {
    let mut names: Vec<Arc<str>> = parts
        .iter()
        .flat_map(|p| p.token_writes.iter().map(|w| w.claim.clone()))
        .collect();
    names.sort_unstable();
    names.dedup();
    let ranked = parts
        .iter_mut()
        .filter_map(Arc::get_mut)
        .flat_map(|p| p.token_writes.iter_mut());
    for write in ranked {
        write.rank = names
            .binary_search(&write.claim)
            .map_or(0, |i| u32::try_from(i + 1).unwrap_or(0));
    }
}

/// The root attribute of an attribute path: `address` of `address.city` or `emails[0]`.
pub fn root_of(path: &str) -> &str {
    path.split(['.', '[']).next().unwrap_or(path)
}

/// The scripts' outcome from their parts in pipeline order: a denial ends the login (and its
/// tokens), a script that never completes is noted and passed over.
pub(crate) fn assemble(parts: Vec<Arc<ScriptPart>>, machine: bool) -> ScriptOutcome {
    let mut outcome = ScriptOutcome {
        outcome: LoginOutcome::Issued,
        script_tokens: BTreeMap::new(),
        may: BTreeMap::new(),
        parts: Vec::with_capacity(parts.len()),
        facts: Vec::new(),
        first_reads: std::sync::OnceLock::new(),
    };
    // A client-credentials exchange issues no ID token.
    let mut id_token = (!machine).then(Vec::new);
    let mut access_token = Vec::new();
    // The writes that set or clear a condition, by token.
    let mut conditions: BTreeMap<TokenKind, Vec<WriteAt>> = BTreeMap::new();
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
        let position = outcome.parts.len() as u32;
        for (i, write) in part.token_writes.iter().enumerate() {
            let token = match write.token {
                TokenKind::IdToken => match &mut id_token {
                    Some(claims) => claims,
                    None => continue,
                },
                TokenKind::AccessToken => &mut access_token,
            };
            let at = WriteAt {
                part: position,
                write: i as u32,
            };
            token.push(at);
            if write.may.is_some() {
                conditions.entry(write.token).or_default().push(at);
            }
        }
        outcome.parts.push(part);
    }
    if matches!(outcome.outcome, LoginOutcome::Denied | LoginOutcome::Unfinished) {
        if let Some(claims) = &mut id_token {
            claims.clear();
        }
        access_token.clear();
        conditions.clear();
    }
    let parts = &outcome.parts;
    // A claim set on every path since its last conditional write has no condition.
    let may: BTreeMap<TokenKind, ClaimList> = conditions
        .into_iter()
        .map(|(token, writes)| {
            let conditional = |w: &TokenWrite| matches!(w.may, Some(Some(_)));
            (token, ClaimList::from_writes(parts, writes, conditional))
        })
        .filter(|(_, list)| !list.is_empty())
        .collect();
    let mut script_tokens = BTreeMap::new();
    if let Some(claims) = id_token {
        script_tokens.insert(
            TokenKind::IdToken,
            ClaimList::from_writes(parts, claims, |_| true),
        );
    }
    script_tokens.insert(
        TokenKind::AccessToken,
        ClaimList::from_writes(parts, access_token, |_| true),
    );
    let mut facts: Vec<Fact> = script_tokens
        .values()
        .flat_map(|list| &list.0)
        .filter_map(
            |&w| match &parts[w.part as usize].token_writes[w.write as usize].value {
                ClaimValue::Fact(fact) => Some(*fact),
                ClaimValue::Json(_) => None,
            },
        )
        .collect();
    facts.sort_unstable();
    facts.dedup();
    outcome.facts = facts;
    outcome.may = may;
    outcome.script_tokens = script_tokens;
    outcome
}

/// The trace entry of one write in an evaluation.
pub fn trace_of(evaluation: &Evaluation, write: &ScriptWrite) -> Option<TraceEntry> {
    let claim = write.claim.key.label();
    let profile = evaluation.profile.trace.iter().find(|t| {
        t.source == Some(write.file)
            && t.span == write.claim.span
            && t.token == write.claim.token
            && t.claim == claim
    });
    if let Some(entry) = profile {
        return Some(entry.clone());
    }
    evaluation
        .parts
        .iter()
        .find_map(|part| part.entry_of(write, &claim))
}
