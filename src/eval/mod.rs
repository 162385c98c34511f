//! The claim evaluator: what the tenant's login pipeline puts into ID and access tokens.
//!
//! The evaluator is split by job:
//! - [`domain`]: the abstract values, conditions and states the interpreter works on;
//! - [`machine`] and [`builtins`]: JavaScript semantics (the interpreter core);
//! - [`host`]: the Auth0 host API (`user`, `context`, `event`, `api`, `callback`);
//! - [`summary`]: one run of one script, summarised as plain data;
//! - [`filters`]: Auth0's platform filters, from the platform data;
//! - [`profile`]: standard profile claims and the persisted profile;
//! - this module: the scripts of an export, the logins (scenarios) worth evaluating, and the
//!   [`Analysis`] that evaluates each script once per distinct set of login facts it reads and
//!   composes those summaries into each login's issued tokens.
//!
//! Nothing here runs tenant code.

pub mod builtins;
pub mod closed;
pub mod domain;
pub mod filters;
pub mod host;
pub mod machine;
pub mod profile;
pub mod summary;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rayon::prelude::*;

use crate::js::Lowered;
use crate::model::{Connection, ExportFormat, Tenant};
use crate::platform::{Platform, Signals};
pub use crate::proof::{
    ANY_CLIENT, CREDENTIALS_PROTOCOL, DEFAULT_SCOPES, Filter, LOGIN_PROTOCOLS, MayClaims, Outcome, Pipeline,
    Proof, REFRESH_PROTOCOL, Scenario, Statement, TokenKind, Tokens, TraceEntry,
};
use crate::source::{SourceId, SourceMap, Span};
pub use filters::{Decision, host_within, namespace_host, namespace_scheme};
use host::{Fact, LoginFacts, Mode, ScriptKind};
use summary::{ClaimSet, LoginOutcome, SignalKind, Summary};

/// A script of the tenant, lowered, with what the evaluator needs to name it.
#[derive(Debug, Clone)]
pub struct ScriptUnit {
    /// `rule`, `action`, `hook` or `database script`.
    pub kind: &'static str,
    pub name: String,
    pub file: SourceId,
    pub lowered: Lowered,
    pub text: Arc<str>,
}

impl ScriptUnit {
    pub fn label(&self) -> String {
        format!("{} `{}`", self.kind, self.name)
    }
}

/// Every script of an export, lowered once.
#[derive(Debug, Clone, Default)]
pub struct Scripts {
    pub rules: Vec<(usize, ScriptUnit)>,
    pub actions: Vec<(usize, ScriptUnit)>,
    pub hooks: Vec<(usize, ScriptUnit)>,
    /// Custom-database scripts, by connection index.
    pub databases: Vec<(usize, ScriptUnit)>,
}

impl Scripts {
    /// Every script, in a stable order.
    pub fn all(&self) -> impl Iterator<Item = &ScriptUnit> {
        self.rules
            .iter()
            .chain(&self.actions)
            .chain(&self.hooks)
            .chain(&self.databases)
            .map(|(_, unit)| unit)
    }
}

/// Lowers every rule, action and hook of the export, in parallel.
pub fn lower_scripts(tenant: &Tenant, sources: &SourceMap) -> Scripts {
    let unit = |kind: &'static str, name: &str, script: Option<&crate::model::Script>| {
        let file = script?.file?;
        Some(ScriptUnit {
            kind,
            name: name.to_string(),
            file,
            lowered: Lowered::default(),
            text: sources.get(file).text.clone(),
        })
    };
    let mut units: Vec<(char, usize, ScriptUnit)> = Vec::new();
    for (i, rule) in tenant.rules.iter().enumerate() {
        units.extend(unit("rule", &rule.name, rule.script.as_ref()).map(|u| ('r', i, u)));
    }
    for (i, action) in tenant.actions.iter().enumerate() {
        units.extend(unit("action", &action.name, action.code.as_ref()).map(|u| ('a', i, u)));
    }
    for (i, hook) in tenant.hooks.iter().enumerate() {
        units.extend(unit("hook", &hook.name, hook.script.as_ref()).map(|u| ('h', i, u)));
    }
    for (i, connection) in tenant.connections.iter().enumerate() {
        for named in &connection.scripts {
            let name = format!("{} {}", connection.name, named.name);
            units.extend(unit("database script", &name, Some(&named.script)).map(|u| ('d', i, u)));
        }
    }
    let lowered: Vec<Lowered> = units
        .par_iter()
        .map(|(_, _, u)| crate::js::analyse(&u.text))
        .collect();
    let mut scripts = Scripts::default();
    for ((kind, i, mut unit), lowered) in units.into_iter().zip(lowered) {
        unit.lowered = lowered;
        match kind {
            'r' => scripts.rules.push((i, unit)),
            'a' => scripts.actions.push((i, unit)),
            'd' => scripts.databases.push((i, unit)),
            _ => scripts.hooks.push((i, unit)),
        }
    }
    scripts
}

/// A claim a script set, with the filter's verdict in one login.
#[derive(Debug, Clone)]
pub struct ScriptWrite {
    pub claim: ClaimSet,
    pub script: String,
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
    pub script: String,
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
    pub reads: Vec<(String, SourceId, Span)>,
    /// Where scripts complete the login with tokens: (script, file, span).
    #[serde(skip)]
    pub completions: Vec<(String, SourceId, Span)>,
    /// Root attributes of `user` scripts change: (attribute, value, must, script, file, span).
    #[serde(skip)]
    pub user_writes: Vec<(summary::UserWrite, String, SourceId)>,
    /// Places where a script stopped short: (script, file, span, what).
    #[serde(skip)]
    pub bounds: Vec<(String, SourceId, Span, String)>,
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

fn pipeline_of(client: &crate::model::Client) -> Pipeline {
    if client.oidc_conformant.as_ref().is_some_and(|c| !c.value) {
        Pipeline::Legacy
    } else {
        Pipeline::OidcConformant
    }
}

/// Whether a connection is enabled for a client.
pub fn enabled_for(tenant: &Tenant, connection: &Connection, client: &str) -> bool {
    let any_lists = tenant.connections.iter().any(|c| !c.enabled_clients.is_empty());
    !any_lists || connection.enabled_clients.iter().any(|c| c.value == client)
}

/// Every concrete login worth evaluating: each interactive client with each connection enabled
/// for it, on each login protocol (the refresh only when the client may use refresh tokens);
/// each machine-to-machine client on client credentials. Where the scripts of a kind run in no
/// such login, generic logins stand in (see [`Scenario::generic`]).
pub fn scenarios(tenant: &Tenant, scripts: &Scripts, platform: &Platform) -> Vec<Scenario> {
    let mut out = Vec::new();
    let base = |client: &str, connection: Option<String>, protocol: &str, pipeline: Pipeline| Scenario {
        client: client.to_string(),
        connection,
        protocol: protocol.to_string(),
        scopes: if protocol == CREDENTIALS_PROTOCOL {
            Vec::new()
        } else {
            DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
        },
        pipeline,
        platform: platform.profile_name.clone(),
        generic: false,
        profile: None,
    };
    for client in &tenant.clients {
        let pipeline = pipeline_of(client);
        let machine = client.app_type.as_deref() == Some("non_interactive");
        if machine || client.grant_types.iter().any(|g| g.value == "client_credentials") {
            out.push(base(
                &client.name,
                None,
                CREDENTIALS_PROTOCOL,
                Pipeline::OidcConformant,
            ));
        }
        if machine {
            continue;
        }
        // With no grant types exported, Auth0's defaults apply, which include refresh tokens.
        let refreshes =
            client.grant_types.is_empty() || client.grant_types.iter().any(|g| g.value == "refresh_token");
        for connection in tenant
            .connections
            .iter()
            .filter(|c| enabled_for(tenant, c, &client.name))
        {
            for protocol in LOGIN_PROTOCOLS {
                if *protocol == REFRESH_PROTOCOL && !refreshes {
                    continue;
                }
                out.push(base(
                    &client.name,
                    Some(connection.name.clone()),
                    protocol,
                    pipeline,
                ));
            }
        }
    }
    let interactive = out.iter().any(|s| s.protocol != CREDENTIALS_PROTOCOL);
    let credentials = out.iter().any(|s| s.protocol == CREDENTIALS_PROTOCOL);
    let loose = tenant.format == ExportFormat::Sources;
    if !interactive && (loose || !scripts.rules.is_empty() || !scripts.actions.is_empty()) {
        for protocol in LOGIN_PROTOCOLS {
            let mut s = base(ANY_CLIENT, None, protocol, Pipeline::OidcConformant);
            s.generic = true;
            out.push(s);
        }
    }
    if !credentials && (!scripts.hooks.is_empty() || !scripts.actions.is_empty()) {
        let mut s = base(ANY_CLIENT, None, CREDENTIALS_PROTOCOL, Pipeline::OidcConformant);
        s.generic = true;
        out.push(s);
    }
    out
}

/// The login a storage proof stands on: the first interactive client (by name) the
/// connection is enabled for, or any client.
pub fn storage_scenario(tenant: &Tenant, connection: &Connection, platform: &Platform) -> Scenario {
    let client = tenant
        .clients
        .iter()
        .filter(|c| c.app_type.as_deref() != Some("non_interactive"))
        .find(|c| enabled_for(tenant, connection, &c.name));
    Scenario {
        client: client.map_or_else(|| ANY_CLIENT.to_string(), |c| c.name.clone()),
        connection: Some(connection.name.clone()),
        protocol: LOGIN_PROTOCOLS[0].to_string(),
        scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
        pipeline: client.map_or(Pipeline::OidcConformant, pipeline_of),
        platform: platform.profile_name.clone(),
        generic: client.is_none(),
        profile: None,
    }
}

/// What `claimlint token` asks for: a client (empty for a generic login), and optionally a
/// connection, protocol, scopes and a sample profile.
pub struct LoginRequest<'a> {
    /// The export, as shown in messages.
    pub export: &'a str,
    pub client: &'a str,
    pub connection: Option<&'a str>,
    pub protocol: Option<&'a str>,
    pub scopes: &'a [String],
    /// A sample user profile, as JSON text.
    pub profile: Option<String>,
}

/// The login a request names, with the defaults filled in (the first connection enabled for
/// the client, `oidc-basic-profile`, `openid profile email`); `Err` says what does not exist.
pub fn requested_scenario(
    tenant: &Tenant,
    platform: &Platform,
    request: &LoginRequest<'_>,
) -> Result<Scenario, String> {
    let protocol = request
        .protocol
        .map_or_else(|| LOGIN_PROTOCOLS[0].to_string(), str::to_string);
    let scopes: Vec<String> = if protocol == CREDENTIALS_PROTOCOL {
        Vec::new()
    } else if request.scopes.is_empty() {
        DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect()
    } else {
        request
            .scopes
            .iter()
            .flat_map(|s| s.split_whitespace().map(str::to_string))
            .collect()
    };
    let scenario = if request.client.is_empty() {
        // A generic login: whatever the export's clients and connections, scripts run for an
        // unknown OIDC-conformant client through an unknown (or the named) connection.
        let connection = match request.connection {
            Some(name) if tenant.connections.iter().any(|c| c.name == name) => Some(name.to_string()),
            Some(name) => return Err(format!("no connection `{name}` in {}", request.export)),
            None => None,
        };
        Scenario {
            client: ANY_CLIENT.to_string(),
            connection,
            protocol,
            scopes,
            pipeline: Pipeline::OidcConformant,
            platform: platform.profile_name.clone(),
            generic: true,
            profile: request.profile.clone(),
        }
    } else {
        let Some(client) = tenant.client(request.client) else {
            let names: Vec<&str> = tenant.clients.iter().map(|c| c.name.as_str()).collect();
            return Err(format!(
                "no client `{}` in {}; its clients are: {} (leave out --client for a generic login)",
                request.client,
                request.export,
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            ));
        };
        let connection = if protocol == CREDENTIALS_PROTOCOL {
            None
        } else {
            let enabled: Vec<&str> = tenant
                .connections
                .iter()
                .filter(|c| enabled_for(tenant, c, &client.name))
                .map(|c| c.name.as_str())
                .collect();
            match request.connection {
                Some(name) if tenant.connections.iter().any(|c| c.name == name) => Some(name.to_string()),
                Some(name) => {
                    return Err(format!(
                        "no connection `{name}`; connections enabled for `{}`: {}",
                        client.name,
                        enabled.join(", ")
                    ));
                }
                None => Some(
                    enabled
                        .first()
                        .ok_or_else(|| {
                            format!(
                                "no connection is enabled for `{}`; give --connection",
                                client.name
                            )
                        })?
                        .to_string(),
                ),
            }
        };
        let pipeline = if client.oidc_conformant.as_ref().is_some_and(|c| !c.value) {
            Pipeline::Legacy
        } else {
            Pipeline::OidcConformant
        };
        Scenario {
            client: client.name.clone(),
            connection,
            protocol,
            scopes,
            pipeline,
            platform: platform.profile_name.clone(),
            generic: false,
            profile: request.profile.clone(),
        }
    };
    Ok(scenario)
}

/// The facts of a login that scripts can read.
pub fn login_facts(tenant: &Tenant, scenario: &Scenario) -> LoginFacts {
    let mut facts = LoginFacts::default().with(Fact::Protocol, scenario.protocol.clone());
    facts.profile = scenario.profile.clone();
    if scenario.generic {
        return facts;
    }
    facts = facts.with(Fact::ClientName, scenario.client.clone());
    if let Some(client) = tenant.client(&scenario.client) {
        if let Some(id) = client.node.get("client_id").and_then(|n| n.as_str()) {
            facts = facts.with(Fact::ClientId, id);
        }
        facts.client_metadata = Some(
            client
                .node
                .get("client_metadata")
                .map_or_else(|| "{}".to_string(), |m| m.to_json().to_string()),
        );
    }
    if let Some(connection) = scenario
        .connection
        .as_ref()
        .and_then(|n| tenant.connections.iter().find(|c| &c.name == n))
    {
        facts = facts.with(Fact::Connection, connection.name.clone());
        if let Some(strategy) = &connection.strategy {
            facts = facts.with(Fact::Strategy, strategy.clone());
        }
    }
    facts
}

/// Which scripts run in a login, in order: `(unit index into the run list, kind)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum UnitRef {
    Rule(usize),
    Action(usize, ScriptKind),
    Hook(usize),
}

fn run_list(tenant: &Tenant, scripts: &Scripts, scenario: &Scenario) -> Vec<UnitRef> {
    let mut out = Vec::new();
    let action_named = |name: &str| {
        scripts.actions.iter().position(|(i, _)| {
            let action = &tenant.actions[*i];
            action.name == name && action.deployed
        })
    };
    if scenario.protocol == CREDENTIALS_PROTOCOL {
        for (k, (i, _)) in scripts.hooks.iter().enumerate() {
            let hook = &tenant.hooks[*i];
            let trigger = hook.trigger_id.as_deref().unwrap_or("");
            if hook.enabled && (trigger == "credentials-exchange" || trigger == "client-credentials-exchange")
            {
                out.push(UnitRef::Hook(k));
            }
        }
        for binding in tenant
            .triggers
            .iter()
            .filter(|b| b.trigger == "credentials-exchange")
        {
            if let Some(k) = action_named(&binding.action_name) {
                out.push(UnitRef::Action(k, ScriptKind::CredentialsExchangeAction));
            }
        }
    } else {
        let mut rules: Vec<usize> = (0..scripts.rules.len())
            .filter(|&k| {
                let rule = &tenant.rules[scripts.rules[k].0];
                rule.enabled && rule.stage.as_deref().is_none_or(|s| s == "login_success")
            })
            .collect();
        rules.sort_by_key(|&k| {
            let rule = &tenant.rules[scripts.rules[k].0];
            (rule.order.unwrap_or(i64::MAX), rule.name.clone())
        });
        out.extend(rules.into_iter().map(UnitRef::Rule));
        for binding in tenant.triggers.iter().filter(|b| b.trigger == "post-login") {
            if let Some(k) = action_named(&binding.action_name) {
                out.push(UnitRef::Action(k, ScriptKind::PostLoginAction));
            }
        }
    }
    out
}

fn unit_of(scripts: &Scripts, r: UnitRef) -> (&ScriptUnit, ScriptKind) {
    match r {
        UnitRef::Rule(k) => (&scripts.rules[k].1, ScriptKind::Rule),
        UnitRef::Action(k, kind) => (&scripts.actions[k].1, kind),
        UnitRef::Hook(k) => (&scripts.hooks[k].1, ScriptKind::Hook),
    }
}

/// The scripts a login runs, in order, each with the summary that applies to it.
type RunSummaries = Vec<(UnitRef, Arc<Summary>)>;

/// Summaries of one script, one per distinct set of facts it read.
#[derive(Debug, Default)]
struct Memo {
    summaries: Vec<Arc<Summary>>,
}

impl Memo {
    fn get(&mut self, unit: &ScriptUnit, kind: ScriptKind, facts: &LoginFacts, signals: &Signals) -> usize {
        if let Some(i) = self.summaries.iter().position(|s| s.applies_to(facts)) {
            return i;
        }
        let summary = summary::run(
            &unit.lowered.ir,
            &unit.text,
            kind,
            Mode::Abstract(facts.clone()),
            machine::STEP_BUDGET,
            signals,
        );
        self.summaries.push(Arc::new(summary));
        self.summaries.len() - 1
    }
}

/// Everything the token checks need for one export: every script summarised once per
/// distinct set of facts it reads, and every login's evaluation built from those summaries.
#[derive(Debug)]
pub struct Analysis {
    /// One evaluation per group of logins that agree on everything the evaluation depends on.
    pub evaluations: Vec<Evaluation>,
    /// `(client, connection, protocol)` → index into `evaluations`.
    logins: HashMap<(String, Option<String>, String), usize>,
    /// Indices into `evaluations` by connection name.
    connections: HashMap<String, Vec<usize>>,
    /// Indices into `evaluations` in proof order: logins before refreshes, OIDC-conformant
    /// before legacy, clients by name.
    order: Vec<usize>,
    memos: Vec<std::sync::Mutex<(UnitRef, Memo)>>,
    /// The profile each custom-database script hands to its callback, by script.
    databases: Vec<Vec<(String, Span)>>,
}

impl Analysis {
    pub fn new(tenant: &Tenant, scripts: &Scripts, platform: &Platform, sources: &SourceMap) -> Analysis {
        let scenarios = scenarios(tenant, scripts, platform);
        let facts: Vec<LoginFacts> = scenarios.iter().map(|s| login_facts(tenant, s)).collect();
        let lists: Vec<Vec<UnitRef>> = scenarios.iter().map(|s| run_list(tenant, scripts, s)).collect();
        // Every (script, kind) that runs somewhere, summarised in parallel: each script's memo
        // sees the logins in order, so the result does not depend on threads.
        let mut units: Vec<UnitRef> = lists.iter().flatten().copied().collect();
        units.sort();
        units.dedup();
        let per_unit: Vec<(UnitRef, Memo, Vec<Option<usize>>)> = units
            .par_iter()
            .map(|&r| {
                let (unit, kind) = unit_of(scripts, r);
                let mut memo = Memo::default();
                let picks: Vec<Option<usize>> = lists
                    .iter()
                    .zip(&facts)
                    .map(|(list, f)| {
                        list.contains(&r)
                            .then(|| memo.get(unit, kind, f, platform.signals()))
                    })
                    .collect();
                // Summaries that read different facts but do the same (a rule that checks the
                // client name and does nothing for most clients) are one for composing logins.
                let mut canonical: Vec<usize> = Vec::with_capacity(memo.summaries.len());
                let mut keys: HashMap<String, usize> = HashMap::new();
                for (i, summary) in memo.summaries.iter().enumerate() {
                    canonical.push(*keys.entry(summary.effects_key()).or_insert(i));
                }
                let picks = picks.into_iter().map(|p| p.map(|i| canonical[i])).collect();
                (r, memo, picks)
            })
            .collect();
        // Logins that use the same summaries through the same connection and pipeline share
        // one evaluation.
        let mut representatives: Vec<(usize, RunSummaries)> = Vec::new();
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut logins = HashMap::new();
        let mut keys: Vec<(Scenario, Vec<(usize, usize)>)> = Vec::new();
        for (i, scenario) in scenarios.iter().enumerate() {
            let picks: Vec<(usize, usize)> = lists[i]
                .iter()
                .filter_map(|r| {
                    let u = units.binary_search(r).ok()?;
                    Some((u, per_unit[u].2[i]?))
                })
                .collect();
            // What the evaluation depends on besides the scripts: the login's shape, and of
            // the client only its Auth0-side SSO setting (a deny-list exclusion).
            let mut shape = scenario.clone();
            let sso = tenant
                .client(&scenario.client)
                .and_then(|c| c.sso.as_ref())
                .is_some_and(|s| s.value);
            shape.client = if sso { "sso".into() } else { String::new() };
            keys.push((shape, picks));
        }
        let mut by_shape: BTreeMap<(Scenario, Vec<(usize, usize)>), usize> = BTreeMap::new();
        for (i, key) in keys.into_iter().enumerate() {
            let group = match by_shape.get(&key) {
                Some(g) => *g,
                None => {
                    let g = representatives.len();
                    let summaries = key
                        .1
                        .iter()
                        .map(|(u, s)| (per_unit[*u].0, per_unit[*u].1.summaries[*s].clone()))
                        .collect();
                    representatives.push((i, summaries));
                    members.push(Vec::new());
                    by_shape.insert(key, g);
                    g
                }
            };
            members[group].push(i);
            let s = &scenarios[i];
            logins.insert(
                (s.client.clone(), s.connection.clone(), s.protocol.clone()),
                group,
            );
        }
        let evaluations: Vec<Evaluation> = representatives
            .par_iter()
            .enumerate()
            .map(|(g, (i, summaries))| {
                let mut e = compose(tenant, scripts, platform, sources, &scenarios[*i], summaries);
                e.members = members[g].iter().map(|&m| scenarios[m].client.clone()).collect();
                e
            })
            .collect();
        let mut connections: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, evaluation) in evaluations.iter().enumerate() {
            if let Some(name) = &evaluation.scenario.connection {
                connections.entry(name.clone()).or_default().push(i);
            }
        }
        let mut order: Vec<usize> = (0..evaluations.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |e: &Evaluation| (e.scenario.is_refresh(), e.scenario.pipeline);
            let (ea, eb) = (&evaluations[a], &evaluations[b]);
            key(ea)
                .cmp(&key(eb))
                .then_with(|| ea.scenario.client.cmp(&eb.scenario.client))
                .then_with(|| ea.scenario.connection.cmp(&eb.scenario.connection))
        });
        let memos = per_unit
            .into_iter()
            .map(|(r, memo, _)| std::sync::Mutex::new((r, memo)))
            .collect();
        let databases = scripts
            .databases
            .par_iter()
            .map(|(_, unit)| {
                let facts = LoginFacts::default();
                summary::run(
                    &unit.lowered.ir,
                    &unit.text,
                    ScriptKind::Database,
                    Mode::Abstract(facts),
                    machine::STEP_BUDGET,
                    platform.signals(),
                )
                .profile
            })
            .collect();
        Analysis {
            databases,
            evaluations,
            logins,
            connections,
            order,
            memos,
        }
    }

    /// The custom-database scripts of connection `index`, each with the profile attributes it
    /// hands to its callback (and where each is written).
    pub fn database_profiles<'s>(
        &'s self,
        index: usize,
        scripts: &'s Scripts,
    ) -> Vec<(&'s ScriptUnit, &'s [(String, Span)])> {
        scripts
            .databases
            .iter()
            .zip(&self.databases)
            .filter(|((i, _), _)| *i == index)
            .map(|((_, unit), profile)| (unit, profile.as_slice()))
            .collect()
    }

    /// The evaluation of the login of `client` through `connection` on `protocol`.
    pub fn login(&self, client: &str, connection: Option<&str>, protocol: &str) -> Option<&Evaluation> {
        let key = (
            client.to_string(),
            connection.map(str::to_string),
            protocol.to_string(),
        );
        self.logins.get(&key).map(|&i| &self.evaluations[i])
    }

    /// Evaluates any scenario (a twin of an evaluated login, a `claimlint token` request),
    /// reusing the summaries already computed.
    pub fn evaluate(
        &self,
        tenant: &Tenant,
        scripts: &Scripts,
        platform: &Platform,
        sources: &SourceMap,
        scenario: &Scenario,
    ) -> Evaluation {
        let facts = login_facts(tenant, scenario);
        let mut summaries = Vec::new();
        for r in run_list(tenant, scripts, scenario) {
            let (unit, kind) = unit_of(scripts, r);
            let memo = self
                .memos
                .iter()
                .find(|m| m.lock().map(|g| g.0 == r).unwrap_or(false));
            let summary = match memo {
                Some(m) => {
                    let mut guard = m.lock().unwrap_or_else(|p| p.into_inner());
                    let i = guard.1.get(unit, kind, &facts, platform.signals());
                    guard.1.summaries[i].clone()
                }
                None => {
                    let mut memo = Memo::default();
                    let i = memo.get(unit, kind, &facts, platform.signals());
                    memo.summaries[i].clone()
                }
            };
            summaries.push((r, summary));
        }
        let mut e = compose(tenant, scripts, platform, sources, scenario, &summaries);
        e.members = vec![scenario.client.clone()];
        e
    }

    /// The evaluations of logins through connection `name`.
    pub fn by_connection<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Evaluation> + 'a {
        self.connections
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.evaluations[i])
    }

    /// Evaluations in proof order: logins before refreshes, OIDC-conformant before legacy.
    pub fn ordered(&self) -> impl Iterator<Item = &Evaluation> {
        self.order.iter().map(|&i| &self.evaluations[i])
    }

    /// Each claim write once (by file, position, token and claim) with the first evaluation
    /// where `pick` accepts it, in proof order.
    pub fn first_writes(
        &self,
        mut pick: impl FnMut(&Evaluation, &ScriptWrite) -> bool,
    ) -> Vec<(&Evaluation, &ScriptWrite)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for evaluation in self.ordered() {
            for write in &evaluation.writes {
                if pick(evaluation, write) {
                    let key = (
                        write.file,
                        write.claim.span,
                        write.claim.token,
                        write.claim.key.label(),
                    );
                    if seen.insert(key) {
                        out.push((evaluation, write));
                    }
                }
            }
        }
        out.sort_by_key(|(_, w)| (w.file, w.claim.span.start));
        out
    }
}

/// Builds one login's evaluation from the summaries of the scripts it runs, in order.
fn compose(
    tenant: &Tenant,
    scripts: &Scripts,
    platform: &Platform,
    sources: &SourceMap,
    scenario: &Scenario,
    summaries: &[(UnitRef, Arc<Summary>)],
) -> Evaluation {
    let connection = scenario
        .connection
        .as_ref()
        .and_then(|n| tenant.connections.iter().find(|c| &c.name == n));
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
        let label = unit.label();
        let file = sources.get(unit.file);
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
            LoginOutcome::Denied | LoginOutcome::Unfinished => {
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
                file: file.display.clone(),
                line,
                filter: decision.filter,
                outcome: decision.outcome,
                reason: decision.reason.clone(),
                when: claim.condition.clone(),
                condition: None,
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
                    file: file.display.clone(),
                    line,
                    filter: Filter::LegacyProfile,
                    outcome: Outcome::Kept,
                    reason: format!(
                        "the script sets `user.{}`, which the legacy profile copies into the ID token of a client that is not OIDC-conformant",
                        write.attribute
                    ),
                    when: None,
                    condition: None,
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
