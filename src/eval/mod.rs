//! The claim evaluator: what the tenant's login pipeline puts into ID and access tokens.
//!
//! A [`Scenario`] is one login: client × connection × protocol × scopes × pipeline. The
//! evaluator runs the enabled rules in `order`, then the deployed actions bound to the trigger
//! in binding order (or, for client credentials, the hooks and actions of that trigger), each
//! with the abstract [`interp`]reter; then applies the platform filters from
//! `policies/platform/auth0.yaml` in order (restricted claims, namespace rule with its legacy
//! exception, Auth0-domain rule, scope filter for standard claims, deny list) and produces the
//! issued tokens with a trace: which script line set each claim and which filter kept or dropped
//! it, and why. Nothing here runs tenant code.

pub mod interp;
pub mod value;

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::Serialize;

use crate::js::Lowered;
use crate::model::{Connection, Tenant};
use crate::platform::Platform;
use crate::source::{SourceId, SourceMap, Span};
use interp::{Effect, Entry, Facts, TokenKind, Write};
use value::Val;

/// Protocols evaluated for interactive logins: the login itself and the refresh that follows.
pub const LOGIN_PROTOCOLS: &[&str] = &["oidc-basic-profile", "oauth2-refresh-token"];
pub const CREDENTIALS_PROTOCOL: &str = "oauth2-client-credentials";
pub const DEFAULT_SCOPES: &[&str] = &["openid", "profile", "email"];

/// Which pipeline a login goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Pipeline {
    OidcConformant,
    /// The client is not OIDC-conformant and the login sends no `audience`.
    Legacy,
}

/// One login to evaluate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scenario {
    pub client: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    pub protocol: String,
    pub scopes: Vec<String>,
    pub pipeline: Pipeline,
    pub platform: String,
    /// A sample user profile (`claimlint token --profile FILE`); attributes it holds have
    /// their real values instead of symbolic ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<serde_json::Value>,
}

impl Scenario {
    /// The scenario in one line, for people.
    pub fn describe(&self) -> String {
        let via = self
            .connection
            .as_ref()
            .map(|c| format!(" via `{c}`"))
            .unwrap_or_default();
        let scopes = if self.scopes.is_empty() {
            String::new()
        } else {
            format!(", scopes `{}`", self.scopes.join(" "))
        };
        let kind = if self.protocol == "oauth2-refresh-token" {
            "a refresh-token"
        } else {
            "a"
        };
        format!(
            "{kind} login of `{}`{via} ({}{scopes}, {} pipeline, platform {})",
            self.client,
            self.protocol,
            match self.pipeline {
                Pipeline::OidcConformant => "OIDC-conformant",
                Pipeline::Legacy => "legacy",
            },
            self.platform
        )
    }
}

/// A script of the tenant, lowered, with what the evaluator needs to name it.
#[derive(Debug, Clone)]
pub struct ScriptUnit {
    /// `rule`, `action` or `hook`.
    pub kind: &'static str,
    pub name: String,
    pub file: SourceId,
    pub lowered: Lowered,
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

/// What happened to a claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceEntry {
    pub claim: String,
    pub token: TokenKind,
    pub script: String,
    pub file: String,
    pub line: u32,
    /// The platform filter that decided.
    pub filter: String,
    pub outcome: Outcome,
    pub reason: String,
    /// Set only on some paths the evaluator could not decide.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub may: bool,
    /// For claims the deny list takes out of a token: the condition that does it (`mfa`,
    /// `redirect`, `legacy-sso`, or `never` for a denied `name`/`nickname`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip)]
    pub source: Option<SourceId>,
    #[serde(skip)]
    pub span: Span,
    /// JSON pointer of the deny-list entry, for profile claims.
    #[serde(skip)]
    pub pointer: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    Kept,
    Dropped,
    /// The claim name is not known statically.
    Unresolved,
}

/// A claim write with its script, as the checks see it.
#[derive(Debug, Clone)]
pub struct ScriptWrite {
    pub write: Write,
    pub script: String,
    pub file: SourceId,
    pub decision: Decision,
}

/// A filter's verdict on one write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub filter: &'static str,
    pub outcome: Outcome,
    pub reason: String,
    /// For deny-list drops: the denied attribute.
    pub attribute: Option<String>,
}

/// The result of evaluating one scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub scenario: Scenario,
    /// Claims as issued, by token.
    pub tokens: BTreeMap<TokenKind, BTreeMap<String, serde_json::Value>>,
    pub trace: Vec<TraceEntry>,
    #[serde(skip)]
    pub writes: Vec<ScriptWrite>,
    #[serde(skip)]
    pub effects: Vec<(Effect, String, SourceId)>,
    #[serde(skip)]
    pub reads: Vec<(String, SourceId, Span)>,
    /// Returns reached in scripts: (script label, file, span, may).
    #[serde(skip)]
    pub returns: Vec<(String, SourceId, Span, bool)>,
}

impl Evaluation {
    /// Whether the issued `token` carries `claim`.
    pub fn has(&self, token: TokenKind, claim: &str) -> bool {
        self.tokens.get(&token).is_some_and(|t| t.contains_key(claim))
    }
}

/// Lowers every rule, action and hook of the export, in parallel.
pub fn lower_scripts(tenant: &Tenant, sources: &SourceMap) -> Scripts {
    let lower = |kind: &'static str, name: &str, script: Option<&crate::model::Script>| {
        let file = script?.file?;
        Some(ScriptUnit {
            kind,
            name: name.to_string(),
            file,
            lowered: Lowered::default(),
        })
    };
    let mut units: Vec<(char, usize, ScriptUnit)> = Vec::new();
    for (i, rule) in tenant.rules.iter().enumerate() {
        units.extend(lower("rule", &rule.name, rule.script.as_ref()).map(|u| ('r', i, u)));
    }
    for (i, action) in tenant.actions.iter().enumerate() {
        units.extend(lower("action", &action.name, action.code.as_ref()).map(|u| ('a', i, u)));
    }
    for (i, hook) in tenant.hooks.iter().enumerate() {
        units.extend(lower("hook", &hook.name, hook.script.as_ref()).map(|u| ('h', i, u)));
    }
    for (i, connection) in tenant.connections.iter().enumerate() {
        for named in &connection.scripts {
            let name = format!("{} {}", connection.name, named.name);
            units.extend(lower("database script", &name, Some(&named.script)).map(|u| ('d', i, u)));
        }
    }
    let texts: Vec<std::sync::Arc<str>> = units
        .iter()
        .map(|(_, _, u)| sources.get(u.file).text.clone())
        .collect();
    let lowered: Vec<Lowered> = texts.par_iter().map(|t| crate::js::analyse(t)).collect();
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

/// Every scenario worth evaluating for the tenant: each interactive client with each connection
/// enabled for it, on each login protocol (the refresh only when the client may use refresh
/// tokens); each machine-to-machine client on client credentials.
pub fn scenarios(tenant: &Tenant, platform: &Platform) -> Vec<Scenario> {
    let mut out = Vec::new();
    let any_enabled_lists = tenant.connections.iter().any(|c| !c.enabled_clients.is_empty());
    for client in &tenant.clients {
        let pipeline = if client.oidc_conformant.as_ref().is_some_and(|c| !c.value) {
            Pipeline::Legacy
        } else {
            Pipeline::OidcConformant
        };
        let machine = client.app_type.as_deref() == Some("non_interactive");
        if machine || client.grant_types.iter().any(|g| g.value == "client_credentials") {
            out.push(Scenario {
                client: client.name.clone(),
                connection: None,
                protocol: CREDENTIALS_PROTOCOL.into(),
                scopes: Vec::new(),
                pipeline: Pipeline::OidcConformant,
                platform: platform.profile_name.clone(),
                profile: None,
            });
        }
        if machine {
            continue;
        }
        // A client whose grant types leave out `refresh_token` never refreshes a token. With no
        // grant types exported, Auth0's defaults apply, which include it.
        let refreshes =
            client.grant_types.is_empty() || client.grant_types.iter().any(|g| g.value == "refresh_token");
        for connection in &tenant.connections {
            let enabled =
                !any_enabled_lists || connection.enabled_clients.iter().any(|c| c.value == client.name);
            if !enabled {
                continue;
            }
            for protocol in LOGIN_PROTOCOLS {
                if *protocol == "oauth2-refresh-token" && !refreshes {
                    continue;
                }
                out.push(Scenario {
                    client: client.name.clone(),
                    connection: Some(connection.name.clone()),
                    protocol: (*protocol).into(),
                    scopes: DEFAULT_SCOPES.iter().map(|s| s.to_string()).collect(),
                    pipeline,
                    platform: platform.profile_name.clone(),
                    profile: None,
                });
            }
        }
    }
    out
}

/// Evaluates every scenario, in parallel; results are in scenario order.
pub fn evaluate_all(
    tenant: &Tenant,
    scripts: &Scripts,
    platform: &Platform,
    sources: &SourceMap,
    scenarios: &[Scenario],
) -> Vec<Evaluation> {
    scenarios
        .par_iter()
        .map(|s| evaluate(tenant, scripts, platform, sources, s))
        .collect()
}

fn facts(tenant: &Tenant, scenario: &Scenario) -> Facts {
    let mut facts = Facts::new();
    let text = |s: &str| Val::Str(s.to_string());
    facts.insert("context.clientName".into(), text(&scenario.client));
    facts.insert("event.client.name".into(), text(&scenario.client));
    facts.insert("hook.client.name".into(), text(&scenario.client));
    if let Some(id) = tenant
        .client(&scenario.client)
        .and_then(|c| c.node.get("client_id"))
        .and_then(|n| n.as_str())
    {
        for path in ["context.clientID", "event.client.client_id", "hook.client.id"] {
            facts.insert(path.into(), text(id));
        }
    }
    if let Some(serde_json::Value::Object(profile)) = &scenario.profile {
        for (key, value) in profile {
            facts.insert(format!("user.{key}"), Val::from_json(value));
            facts.insert(format!("event.user.{key}"), Val::from_json(value));
        }
    }
    facts.insert("context.protocol".into(), text(&scenario.protocol));
    facts.insert("event.transaction.protocol".into(), text(&scenario.protocol));
    if let Some(connection) = scenario
        .connection
        .as_ref()
        .and_then(|n| tenant.connections.iter().find(|c| &c.name == n))
    {
        facts.insert("context.connection".into(), text(&connection.name));
        facts.insert("event.connection.name".into(), text(&connection.name));
        if let Some(strategy) = &connection.strategy {
            facts.insert("context.connectionStrategy".into(), text(strategy));
            facts.insert("event.connection.strategy".into(), text(strategy));
        }
    }
    facts
}

/// Evaluates one scenario.
pub fn evaluate(
    tenant: &Tenant,
    scripts: &Scripts,
    platform: &Platform,
    sources: &SourceMap,
    scenario: &Scenario,
) -> Evaluation {
    let facts = facts(tenant, scenario);
    let mut runs: Vec<(&ScriptUnit, interp::Outcome)> = Vec::new();
    if scenario.protocol == CREDENTIALS_PROTOCOL {
        for (i, unit) in &scripts.hooks {
            let hook = &tenant.hooks[*i];
            let trigger = hook.trigger_id.as_deref().unwrap_or("");
            if hook.enabled && (trigger == "credentials-exchange" || trigger == "client-credentials-exchange")
            {
                runs.push((unit, interp::run(&unit.lowered.program, Entry::Hook, &facts)));
            }
        }
        for binding in tenant
            .triggers
            .iter()
            .filter(|b| b.trigger == "credentials-exchange")
        {
            if let Some((_, unit)) = deployed_action(tenant, scripts, &binding.action_name) {
                runs.push((
                    unit,
                    interp::run(&unit.lowered.program, Entry::CredentialsExchangeAction, &facts),
                ));
            }
        }
    } else {
        let mut rules: Vec<&(usize, ScriptUnit)> = scripts
            .rules
            .iter()
            .filter(|(i, _)| {
                let rule = &tenant.rules[*i];
                rule.enabled && rule.stage.as_deref().is_none_or(|s| s == "login_success")
            })
            .collect();
        rules.sort_by_key(|(i, _)| {
            (
                tenant.rules[*i].order.unwrap_or(i64::MAX),
                tenant.rules[*i].name.clone(),
            )
        });
        for (_, unit) in rules {
            runs.push((unit, interp::run(&unit.lowered.program, Entry::Rule, &facts)));
        }
        for binding in tenant.triggers.iter().filter(|b| b.trigger == "post-login") {
            if let Some((_, unit)) = deployed_action(tenant, scripts, &binding.action_name) {
                runs.push((
                    unit,
                    interp::run(&unit.lowered.program, Entry::PostLoginAction, &facts),
                ));
            }
        }
    }
    let connection = scenario
        .connection
        .as_ref()
        .and_then(|n| tenant.connections.iter().find(|c| &c.name == n));
    let mut evaluation = Evaluation {
        scenario: scenario.clone(),
        tokens: BTreeMap::from([
            (TokenKind::IdToken, BTreeMap::new()),
            (TokenKind::AccessToken, BTreeMap::new()),
        ]),
        trace: Vec::new(),
        writes: Vec::new(),
        effects: Vec::new(),
        reads: Vec::new(),
        returns: Vec::new(),
    };
    if scenario.protocol == CREDENTIALS_PROTOCOL {
        evaluation.tokens.remove(&TokenKind::IdToken);
    }
    let legacy_profile = tenant
        .flag(&platform.data.legacy.profile_flag)
        .is_some_and(|f| f.value == Some(true));
    for (unit, outcome) in runs {
        for write in outcome.writes {
            let decision = decide(&write, scenario, unit, connection, legacy_profile, platform);
            let file = sources.get(unit.file);
            let line = file.line_col(write.span.start).line;
            let claim = claim_label(&write.key);
            if decision.outcome == Outcome::Kept
                && let Some(name) = write.key.known_text()
                && let Some(token) = evaluation.tokens.get_mut(&write.token)
            {
                token.insert(name, write.value.to_token_json());
            }
            if decision.outcome == Outcome::Dropped
                && let Some(name) = write.key.known_text()
                && let Some(token) = evaluation.tokens.get_mut(&write.token)
            {
                // A later write that is dropped does not remove an earlier kept one.
                let _ = token.get(&name);
            }
            evaluation.trace.push(TraceEntry {
                claim,
                token: write.token,
                script: unit.label(),
                file: file.display.clone(),
                line,
                filter: decision.filter.to_string(),
                outcome: decision.outcome,
                reason: decision.reason.clone(),
                may: write.may,
                condition: None,
                source: Some(unit.file),
                span: write.span,
                pointer: String::new(),
            });
            evaluation.writes.push(ScriptWrite {
                write,
                script: unit.label(),
                file: unit.file,
                decision,
            });
        }
        for effect in outcome.effects {
            evaluation.effects.push((effect, unit.label(), unit.file));
        }
        for (attribute, span) in outcome.reads {
            evaluation.reads.push((attribute, unit.file, span));
        }
        for (span, may) in outcome.returns {
            evaluation.returns.push((unit.label(), unit.file, span, may));
        }
    }
    if let Some(connection) = connection {
        profile_claims(&mut evaluation, tenant, connection, platform, sources);
    }
    evaluation
}

/// Conditions under which Auth0 leaves denied attributes out of this login's tokens:
/// `(id, clause)`, as far as the export and the evaluated scripts show them.
fn exclusion_conditions(evaluation: &Evaluation, tenant: &Tenant) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    let policies = tenant
        .guardian
        .policies
        .as_ref()
        .map(|p| p.value.clone())
        .unwrap_or_default();
    let factors: Vec<&str> = tenant
        .guardian
        .factors
        .iter()
        .filter(|f| f.enabled)
        .map(|f| f.name.as_str())
        .collect();
    if !policies.is_empty() && !factors.is_empty() {
        out.push((
            "mfa",
            format!(
                "MFA is on (policy `{}`, factor `{}`)",
                policies.join(", "),
                factors.join("`, `")
            ),
        ));
    }
    for (effect, script, _) in evaluation.effects.iter().filter(|(e, _, _)| !e.may) {
        let (id, clause) = match effect.kind {
            interp::EffectKind::Mfa => ("mfa", format!("{script} triggers MFA")),
            interp::EffectKind::Redirect => ("redirect", format!("{script} redirects the user")),
        };
        if !out.iter().any(|(known, _)| *known == id) {
            out.push((id, clause));
        }
    }
    if tenant
        .client(&evaluation.scenario.client)
        .and_then(|c| c.sso.as_ref())
        .is_some_and(|s| s.value)
    {
        out.push((
            "legacy-sso",
            "the client has Auth0 instead of the IdP do single sign-on (`sso: true`)".into(),
        ));
    }
    out
}

/// Whether `connection` delivers the root attribute `claim`, by the platform's strategy data.
fn delivers(connection: &Connection, claim: &str, platform: &Platform) -> bool {
    let Some(data) = connection
        .strategy
        .as_ref()
        .and_then(|s| platform.data.strategies.get(s))
    else {
        return false;
    };
    if let Some(list) = data.as_array() {
        return list.iter().any(|a| a.as_str() == Some(claim));
    }
    let Some(option) = data.get("from").and_then(|f| f.as_str()) else {
        return false;
    };
    let map = connection.options.as_ref().and_then(|o| o.get(option));
    let map = if option == "attribute_map" {
        map.and_then(|m| m.get("attributes"))
    } else {
        map
    };
    map.and_then(|m| m.member(claim)).is_some()
}

/// The standard claims the requested scopes put into the ID token, as the connection delivers
/// them, after the deny list's exclusions; each with a trace entry.
fn profile_claims(
    evaluation: &mut Evaluation,
    tenant: &Tenant,
    connection: &Connection,
    platform: &Platform,
    sources: &SourceMap,
) {
    let conditions = exclusion_conditions(evaluation, tenant);
    let file = sources.get(connection.loc.file);
    let mut entries = Vec::new();
    for scope in &evaluation.scenario.scopes {
        let Some(claims) = platform.data.standard_claims.get(scope) else {
            continue;
        };
        for claim in claims
            .iter()
            .filter(|c| *c != "sub" && delivers(connection, c, platform))
        {
            let denied = connection
                .deny_list
                .as_ref()
                .and_then(|d| d.entries.iter().find(|e| e.value == *claim));
            let (filter, outcome, reason, condition) = match denied {
                None => (
                    "scope",
                    Outcome::Kept,
                    format!(
                        "standard claim of the `{scope}` scope, delivered by `{}`",
                        connection.name
                    ),
                    None,
                ),
                Some(_) if platform.data.denied_never_in_tokens.contains(claim) => (
                    "deny-list",
                    Outcome::Dropped,
                    format!(
                        "`{claim}` is denied on connection `{}`, and a denied `{claim}` is never in tokens",
                        connection.name
                    ),
                    Some("never".to_string()),
                ),
                Some(_) => match conditions.first() {
                    Some((id, clause)) => (
                        "deny-list-exclusion",
                        Outcome::Dropped,
                        format!(
                            "`{claim}` is denied on connection `{}` and {clause}; Auth0 then leaves denied attributes out of tokens",
                            connection.name
                        ),
                        Some((*id).to_string()),
                    ),
                    None => (
                        "deny-list",
                        Outcome::Kept,
                        format!(
                            "`{claim}` is denied on connection `{}` but still delivered in this login's tokens",
                            connection.name
                        ),
                        None,
                    ),
                },
            };
            let (span, pointer) = match denied {
                Some(entry) => (entry.loc.span, entry.loc.pointer.clone()),
                None => (connection.loc.span, connection.loc.pointer.clone()),
            };
            if outcome == Outcome::Kept
                && let Some(token) = evaluation.tokens.get_mut(&TokenKind::IdToken)
            {
                let value = match evaluation
                    .scenario
                    .profile
                    .as_ref()
                    .and_then(|p| p.get(claim.as_str()))
                {
                    Some(value) => value.clone(),
                    None => serde_json::Value::String(format!("<user.{claim}>")),
                };
                token.entry(claim.clone()).or_insert(value);
            }
            entries.push(TraceEntry {
                claim: claim.clone(),
                token: TokenKind::IdToken,
                script: format!("the user profile from connection `{}`", connection.name),
                file: file.display.clone(),
                line: file.line_col(span.start).line,
                filter: filter.to_string(),
                outcome,
                reason,
                may: false,
                condition,
                source: Some(connection.loc.file),
                span,
                pointer,
            });
        }
    }
    entries.append(&mut evaluation.trace);
    evaluation.trace = entries;
}

fn deployed_action<'s>(tenant: &Tenant, scripts: &'s Scripts, name: &str) -> Option<&'s (usize, ScriptUnit)> {
    scripts.actions.iter().find(|(i, _)| {
        let action = &tenant.actions[*i];
        action.name == name && action.deployed
    })
}

/// The claim name as shown in traces: the name, or what is known of it.
pub fn claim_label(key: &Val) -> String {
    match key {
        Val::Partial { prefix, .. } => format!("{prefix}…"),
        other => other
            .known_text()
            .unwrap_or_else(|| format!("<{}>", other.describe())),
    }
}

/// Whether a claim name is namespaced by the profile's schemes (`https://...`).
pub fn namespace_scheme<'p>(name: &str, platform: &'p Platform) -> Option<&'p str> {
    platform
        .profile
        .namespace_schemes
        .iter()
        .find(|scheme| {
            name.len() > scheme.len() + 3
                && name.starts_with(scheme.as_str())
                && name[scheme.len()..].starts_with("://")
        })
        .map(String::as_str)
}

/// The host of a namespaced claim name, lower-cased (`acme.auth0.com` in `https://acme.auth0.com/x`).
pub fn namespace_host(name: &str) -> Option<String> {
    let rest = name.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Whether `host` is `domain` or one of its subdomains.
pub fn host_within(host: &str, domain: &str) -> bool {
    host == domain || host.ends_with(&format!(".{domain}"))
}

fn standard_scope<'p>(name: &str, platform: &'p Platform) -> Option<&'p str> {
    platform
        .data
        .standard_claims
        .iter()
        .find(|(_, claims)| claims.iter().any(|c| c == name))
        .map(|(scope, _)| scope.as_str())
}

/// The root attribute that deny-list `entry` denies in the attribute `path` (`email` in
/// `email`, `address` in `address.street`), if any. Only root fields can be denied: a nested
/// entry (`user_metadata.ssn`) denies nothing, while a URL-shaped name
/// (`http://schemas.xmlsoap.org/.../gender`, as an upstream IdP sends it) is one root field,
/// dots and all.
fn denied_root<'e>(path: &str, entry: &'e str) -> Option<&'e str> {
    let url = entry.contains("://") || entry.starts_with("urn:");
    if entry.is_empty() || (!url && entry.contains(['.', '['])) {
        return None;
    }
    let rest = path.strip_prefix(entry)?;
    (rest.is_empty() || rest.starts_with(['.', '['])).then_some(entry)
}

/// The deny-list filter: a custom claim whose value is an attribute the login's connection
/// denies is not delivered.
fn deny_list_drop(write: &Write, connection: Option<&Connection>) -> Option<Decision> {
    let (Val::Attr(path), Some(connection)) = (&write.value, connection) else {
        return None;
    };
    let root = connection
        .deny_list
        .as_ref()?
        .entries
        .iter()
        .find_map(|e| denied_root(path, &e.value))?;
    Some(Decision {
        filter: "deny-list",
        outcome: Outcome::Dropped,
        reason: format!("`{root}` is on the deny list of connection `{}`", connection.name),
        attribute: Some(root.to_string()),
    })
}

/// Applies the platform filters, in order, to one claim write.
fn decide(
    write: &Write,
    scenario: &Scenario,
    unit: &ScriptUnit,
    connection: Option<&Connection>,
    legacy_profile: bool,
    platform: &Platform,
) -> Decision {
    let decision = |filter: &'static str, outcome: Outcome, reason: String| Decision {
        filter,
        outcome,
        reason,
        attribute: None,
    };
    let name = match &write.key {
        Val::Str(name) => name.clone(),
        other => {
            let known = match other.known_prefix() {
                Some(prefix) if namespace_scheme(prefix, platform).is_some() => {
                    format!("starts with the namespace `{prefix}`")
                }
                Some(prefix) if !prefix.is_empty() => format!("starts with `{prefix}`"),
                _ => format!("comes from {}", other.describe()),
            };
            return decision(
                "unresolved",
                Outcome::Unresolved,
                format!("the claim name is not known statically; it {known}"),
            );
        }
    };
    if name.contains("##") || name.contains("@@") {
        return decision(
            "unresolved",
            Outcome::Unresolved,
            "the claim name holds an unresolved a0deploy keyword".into(),
        );
    }
    if platform.data.restricted_claims.iter().any(|c| c == &name) {
        return decision(
            "restricted",
            Outcome::Dropped,
            format!("`{name}` is a restricted claim; Auth0 ignores writes to it"),
        );
    }
    let hook = unit.kind == "hook" || scenario.protocol == CREDENTIALS_PROTOCOL;
    match namespace_scheme(&name, platform) {
        None => {
            if let Some(scope) = standard_scope(&name, platform) {
                if hook {
                    return decision(
                        "namespace",
                        Outcome::Dropped,
                        "client-credentials tokens keep only namespaced claims".into(),
                    );
                }
                return if scenario.scopes.iter().any(|s| s == scope) {
                    decision(
                        "scope",
                        Outcome::Kept,
                        format!("standard claim, and the `{scope}` scope was requested"),
                    )
                } else {
                    decision(
                        "scope",
                        Outcome::Dropped,
                        format!("standard claim whose `{scope}` scope was not requested"),
                    )
                };
            }
            if hook {
                return decision(
                    "namespace",
                    Outcome::Dropped,
                    "client-credentials tokens keep only namespaced claims".into(),
                );
            }
            // The namespace rule keeps the claims below; the deny list still applies to them.
            if !platform.profile.namespace_required {
                return deny_list_drop(write, connection).unwrap_or_else(|| {
                    decision(
                        "namespace",
                        Outcome::Kept,
                        format!("profile `{}` allows non-namespaced claims", platform.profile_name),
                    )
                });
            }
            if scenario.pipeline == Pipeline::Legacy && legacy_profile {
                if let Some(denied) = deny_list_drop(write, connection) {
                    return denied;
                }
                return decision(
                    "legacy-profile",
                    Outcome::Kept,
                    "not namespaced, kept only because the client is not OIDC-conformant and the tenant has the legacy profile on"
                        .into(),
                );
            }
            return decision(
                "namespace",
                Outcome::Dropped,
                "not namespaced: OIDC-conformant logins drop custom claims without an http:// or https:// namespace".into(),
            );
        }
        Some(_) => {
            if let Some(host) = namespace_host(&name)
                && let Some(domain) = platform
                    .data
                    .forbidden_namespace_hosts
                    .iter()
                    .find(|d| host_within(&host, d))
            {
                return decision(
                    "auth0-domain",
                    Outcome::Dropped,
                    format!("namespace host `{host}` is within `{domain}`, an Auth0 domain"),
                );
            }
        }
    }
    if let Some(denied) = deny_list_drop(write, connection) {
        return denied;
    }
    let namespace = namespace_host(&name).map_or_else(|| "a namespace".to_string(), |h| format!("`{h}`"));
    decision(
        "namespace",
        Outcome::Kept,
        format!("namespaced under {namespace}"),
    )
}

/// Renders the issued tokens compactly, for human output.
pub fn compact_tokens(evaluation: &Evaluation) -> String {
    evaluation
        .tokens
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

/// The evidence behind a token finding: the login, the tokens it issues, and the trace entries
/// that make the finding true.
#[derive(Debug, Clone, Serialize)]
pub struct Proof {
    pub scenario: Scenario,
    pub tokens: BTreeMap<TokenKind, BTreeMap<String, serde_json::Value>>,
    pub trace: Vec<TraceEntry>,
    /// What the proof shows, in one line (`claim \`country\` is absent from the ID token`).
    pub shows: String,
}

impl Proof {
    pub fn new(evaluation: &Evaluation, trace: Vec<TraceEntry>, shows: String) -> Proof {
        Proof {
            scenario: evaluation.scenario.clone(),
            tokens: evaluation.tokens.clone(),
            trace,
            shows,
        }
    }
}

/// Everything the token checks need for one export: the lowered scripts and every scenario's
/// evaluation.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub evaluations: Vec<Evaluation>,
    /// Indices into `evaluations` by connection name.
    connections: std::collections::HashMap<String, Vec<usize>>,
    /// Indices into `evaluations` in proof order: logins before refreshes, OIDC-conformant
    /// before legacy, clients by name.
    order: Vec<usize>,
}

impl Analysis {
    pub fn new(tenant: &Tenant, scripts: &Scripts, platform: &Platform, sources: &SourceMap) -> Analysis {
        let scenarios = scenarios(tenant, platform);
        let evaluations = evaluate_all(tenant, scripts, platform, sources, &scenarios);
        let mut connections: std::collections::HashMap<String, Vec<usize>> = std::collections::HashMap::new();
        for (i, evaluation) in evaluations.iter().enumerate() {
            if let Some(name) = &evaluation.scenario.connection {
                connections.entry(name.clone()).or_default().push(i);
            }
        }
        let mut order: Vec<usize> = (0..evaluations.len()).collect();
        order.sort_by(|&a, &b| {
            let key = |e: &Evaluation| (e.scenario.protocol != "oidc-basic-profile", e.scenario.pipeline);
            let (ea, eb) = (&evaluations[a], &evaluations[b]);
            key(ea)
                .cmp(&key(eb))
                .then_with(|| ea.scenario.client.cmp(&eb.scenario.client))
        });
        Analysis {
            evaluations,
            connections,
            order,
        }
    }

    /// The evaluations of logins through connection `name`, in scenario order.
    pub fn by_connection<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Evaluation> + 'a {
        self.connections
            .get(name)
            .into_iter()
            .flatten()
            .map(|&i| &self.evaluations[i])
    }

    /// Each claim write once (by file, position, token and claim name: a loop writes several
    /// claims at one position) with the first evaluation where `pick` accepts it, in scenario
    /// order: logins before refreshes, clients by name.
    pub fn first_writes(
        &self,
        mut pick: impl FnMut(&Evaluation, &ScriptWrite) -> bool,
    ) -> Vec<(&Evaluation, &ScriptWrite)> {
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for evaluation in self.order.iter().map(|&i| &self.evaluations[i]) {
            for write in &evaluation.writes {
                // `pick` is pure, so asking it first spares building keys for most writes.
                if pick(evaluation, write) {
                    let key = (
                        write.file,
                        write.write.span,
                        write.write.token,
                        claim_label(&write.write.key),
                    );
                    if seen.insert(key) {
                        out.push((evaluation, write));
                    }
                }
            }
        }
        out.sort_by_key(|(_, w)| (w.file, w.write.span.start));
        out
    }
}

/// The trace entry of one write in an evaluation (a loop writes several claims at one position,
/// so the claim name is matched too).
pub fn trace_of<'e>(evaluation: &'e Evaluation, write: &ScriptWrite) -> Option<&'e TraceEntry> {
    let claim = claim_label(&write.write.key);
    evaluation.trace.iter().find(|t| {
        t.source == Some(write.file)
            && t.span == write.write.span
            && t.token == write.write.token
            && t.claim == claim
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{discover::export_at, load_export};
    use crate::syntax::keywords::KeywordMap;

    /// Loads a YAML export written to a temporary folder: `tenant.yaml` and side `files`.
    fn load(tenant_yaml: &str, files: &[(&str, &str)]) -> (tempfile::TempDir, Tenant, SourceMap) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tenant.yaml"), tenant_yaml).unwrap();
        for (path, text) in files {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        let export = export_at(dir.path()).unwrap();
        let mut sources = SourceMap::default();
        let loaded = load_export(&export, &KeywordMap::default(), &mut sources, dir.path());
        assert!(loaded.errors.is_empty(), "{:?}", loaded.errors);
        (dir, loaded.tenant, sources)
    }

    #[test]
    fn deny_list_entries_deny_root_attributes_urls_included() {
        assert_eq!(denied_root("email", "email"), Some("email"));
        assert_eq!(denied_root("address.street", "address"), Some("address"));
        assert_eq!(denied_root("email_verified", "email"), None);
        let gender = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/gender";
        assert_eq!(denied_root(gender, gender), Some(gender));
        // A nested entry denies nothing, so the attribute is still delivered.
        assert_eq!(denied_root("user_metadata.ssn", "user_metadata.ssn"), None);
        assert_eq!(denied_root("user_metadata", ""), None);
    }

    #[test]
    fn the_deny_list_applies_to_claims_kept_without_a_namespace() {
        let (_dir, tenant, sources) = load(
            "tenant:\n  flags:\n    enable_legacy_profile: true\n\
             clients:\n  - name: Old\n    app_type: regular_web\n    oidc_conformant: false\n\
             databases:\n  - name: db\n    strategy: auth0\n    options:\n      non_persistent_attrs: [email]\n\
             rules:\n  - name: r\n    script: ./rules/r.js\n    order: 1\n",
            &[(
                "rules/r.js",
                "function (user, context, callback) {\n  context.idToken.work_email = user.email;\n  \
                 context.idToken.tier = user.app_metadata.tier;\n  callback(null, user, context);\n}\n",
            )],
        );
        let scripts = lower_scripts(&tenant, &sources);
        for (profile, pipeline, kept_by) in [
            ("auth0-oidc", Pipeline::Legacy, "legacy-profile"),
            ("auth0-current", Pipeline::OidcConformant, "namespace"),
        ] {
            let platform = Platform::load(profile).unwrap();
            let scenario = Scenario {
                client: "Old".into(),
                connection: Some("db".into()),
                protocol: "oidc-basic-profile".into(),
                scopes: vec!["openid".into()],
                pipeline,
                platform: profile.into(),
                profile: None,
            };
            let evaluation = evaluate(&tenant, &scripts, &platform, &sources, &scenario);
            let decided: Vec<(&str, &str, Outcome)> = evaluation
                .trace
                .iter()
                .map(|t| (t.claim.as_str(), t.filter.as_str(), t.outcome))
                .collect();
            assert_eq!(
                decided,
                [
                    ("work_email", "deny-list", Outcome::Dropped),
                    ("tier", kept_by, Outcome::Kept),
                ],
                "{profile}"
            );
            assert!(!evaluation.has(TokenKind::IdToken, "work_email"));
        }
    }

    #[test]
    fn only_clients_with_the_refresh_token_grant_refresh() {
        let (_dir, tenant, _) = load(
            "clients:\n  - name: Kiosk\n    app_type: spa\n    grant_types: [authorization_code, implicit]\n\
             \x20 - name: Web\n    app_type: regular_web\n    grant_types: [authorization_code, refresh_token]\n\
             \x20 - name: Old\n    app_type: regular_web\n\
             databases:\n  - name: db\n    strategy: auth0\n",
            &[],
        );
        let platform = Platform::load("auth0-oidc").unwrap();
        let refreshing: Vec<String> = scenarios(&tenant, &platform)
            .into_iter()
            .filter(|s| s.protocol == "oauth2-refresh-token")
            .map(|s| s.client)
            .collect();
        assert_eq!(refreshing, ["Old", "Web"]);
    }

    #[test]
    fn a_loop_reports_each_claim_it_writes_at_one_position() {
        let (_dir, tenant, sources) = load(
            "clients:\n  - name: App\n    app_type: spa\n\
             databases:\n  - name: db\n    strategy: auth0\n    enabled_clients: [App]\n\
             rules:\n  - name: prefs\n    script: ./rules/prefs.js\n    order: 1\n    enabled: true\n",
            &[(
                "rules/prefs.js",
                "function (user, context, callback) {\n  for (const k of ['language', 'currency']) {\n    \
                 context.idToken[k] = user.user_metadata[k];\n  }\n  callback(null, user, context);\n}\n",
            )],
        );
        let platform = Platform::load("auth0-oidc").unwrap();
        let scripts = lower_scripts(&tenant, &sources);
        let analysis = Analysis::new(&tenant, &scripts, &platform, &sources);
        let dropped = analysis.first_writes(|_, w| w.decision.outcome == Outcome::Dropped);
        let claims: Vec<String> = dropped
            .iter()
            .map(|(_, w)| w.write.key.known_text().unwrap())
            .collect();
        assert_eq!(claims, ["language", "currency"]);
        for (evaluation, write) in dropped {
            let trace = trace_of(evaluation, write).unwrap();
            assert_eq!(Some(trace.claim.clone()), write.write.key.known_text());
        }
    }
}
