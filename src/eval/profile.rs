//! The user profile side of a login: the standard claims a connection delivers into the ID
//! token (after the deny list's exclusions), and the profile Auth0 stores for a connection.

use std::collections::BTreeMap;

use crate::model::{Connection, Tenant};
use crate::platform::Platform;
use crate::proof::{Filter, Outcome, PersistedProfile, TokenKind, TraceEntry};
use crate::source::SourceMap;

use super::filters::{denied_root, is_nested_entry};
use super::pipeline::ScriptOutcome;
use super::summary::{LoginOutcome, SignalKind};
use super::{Evaluation, Scenario};

/// The deny-list exclusion conditions claimlint can tell apart (the ids of the platform data's
/// `deny_list_exclusions`).
pub const EXCLUSION_IDS: &[&str] = &["mfa", "redirect", "delegation", "impersonation", "legacy-sso"];

/// Conditions under which Auth0 leaves denied attributes out of this login's tokens:
/// `(id, clause)`, as far as the export and the evaluated scripts show them, and only those the
/// platform data lists in `deny_list_exclusions`.
pub fn exclusion_conditions(
    evaluation: &Evaluation,
    tenant: &Tenant,
    platform: &Platform,
) -> Vec<(&'static str, String)> {
    conditions_of(&evaluation.scenario, &evaluation.scripts, tenant, platform)
}

/// [`exclusion_conditions`] of the login `scenario` whose scripts have `outcome`.
fn conditions_of(
    scenario: &Scenario,
    outcome: &ScriptOutcome,
    tenant: &Tenant,
    platform: &Platform,
) -> Vec<(&'static str, String)> {
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
    // Only the platform's every-login policies count: `confidence-score` (adaptive MFA)
    // challenges only risky logins.
    let every_login: Vec<&String> = policies
        .iter()
        .filter(|p| platform.every_login_mfa_policies().contains(p))
        .collect();
    if !every_login.is_empty() && !factors.is_empty() {
        out.push((
            "mfa",
            format!(
                "MFA is on (policy `{}`, factor `{}`)",
                every_login
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                factors.join("`, `")
            ),
        ));
    }
    for (id, clause) in script_conditions(outcome) {
        if !out.iter().any(|(known, _)| *known == id) {
            out.push((id, clause));
        }
    }
    if client_sso(tenant, scenario) {
        out.push((
            "legacy-sso",
            "the client has Auth0 instead of the IdP do single sign-on (`sso: true`)".into(),
        ));
    }
    out.retain(|(id, _)| platform.excludes_when(id));
    out
}

/// The exclusion conditions the scripts bring about: `(id, clause)`, the first script of each
/// kind, one that does so on every path before one that does so on some paths (`if
/// (user.app_metadata.use_mfa)`): the logins that take those paths leave denied attributes out.
fn script_conditions(outcome: &ScriptOutcome) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::new();
    let (every, some): (Vec<_>, Vec<_>) = outcome.signals().partition(|s| s.must);
    for signal in every.into_iter().chain(some) {
        let when = signal
            .condition
            .as_ref()
            .map(|c| format!(" {c}"))
            .unwrap_or_default();
        let (id, clause) = match signal.kind {
            SignalKind::Mfa => ("mfa", format!("{} triggers MFA{when}", signal.script)),
            SignalKind::Redirect => ("redirect", format!("{} redirects the user{when}", signal.script)),
        };
        if !out.iter().any(|(known, _)| *known == id) {
            out.push((id, clause));
        }
    }
    out
}

/// All that [`profile_claims`] (through `pipeline::profile_of`) reads of the scripts' outcome:
/// whether the login ends before its tokens, whether it issues an ID token, and the exclusion
/// conditions the scripts bring about. Outcomes that agree on it give the same profile claims.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProfileInputs {
    ended: bool,
    issues_id_token: bool,
    conditions: Vec<(&'static str, String)>,
}

impl ProfileInputs {
    pub fn of(outcome: &ScriptOutcome) -> ProfileInputs {
        ProfileInputs {
            ended: ends_before_tokens(outcome),
            issues_id_token: outcome.script_tokens.contains_key(&TokenKind::IdToken),
            conditions: script_conditions(outcome),
        }
    }
}

/// Whether a login with this outcome ends before its tokens (denied, or a script never
/// finishes): its profile puts no claims in them.
pub(crate) fn ends_before_tokens(outcome: &ScriptOutcome) -> bool {
    matches!(outcome.outcome, LoginOutcome::Denied | LoginOutcome::Unfinished)
}

/// Whether the login's client has Auth0 do single sign-on (`sso: true`), a deny-list exclusion.
pub(crate) fn client_sso(tenant: &Tenant, scenario: &Scenario) -> bool {
    tenant
        .client(&scenario.client)
        .and_then(|c| c.sso.as_ref())
        .is_some_and(|s| s.value)
}

/// The standard claims the connection's profile puts into a login's ID token, where no script
/// set the same name, with their trace entries (which come before the scripts'). Logins through
/// one connection with the same scopes and scripts' outcome share one.
#[derive(Debug, Default)]
pub struct ProfileClaims {
    pub claims: BTreeMap<String, serde_json::Value>,
    pub trace: Vec<TraceEntry>,
}

/// The root attributes `connection` delivers by the platform's strategy data, each with where
/// it comes from: the strategy's own list, its mapping option's keys, and the attributes of
/// each option flag that is `true` in the connection's `options` (`user_birthday`).
pub fn delivered(connection: &Connection, platform: &Platform) -> Vec<(String, String)> {
    let Some(strategy) = connection.strategy.as_deref() else {
        return Vec::new();
    };
    let Some(data) = platform.strategy(strategy) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = data
        .delivers()
        .iter()
        .map(|a| (a.clone(), format!("what `{strategy}` connections deliver")))
        .collect();
    let options = connection.options.as_ref();
    if let Some(option) = data.mapping() {
        let map = options.and_then(|o| o.get(option));
        let map = if option == "attribute_map" {
            map.and_then(|m| m.get("attributes"))
        } else {
            map
        };
        out.extend(
            map.and_then(|m| m.as_object())
                .unwrap_or_default()
                .iter()
                .map(|member| (member.key.clone(), format!("the `{option}` mapping"))),
        );
    }
    for (flag, attributes) in data.flags() {
        if options.and_then(|o| o.get(flag)).and_then(|f| f.as_bool()) == Some(true) {
            out.extend(
                attributes
                    .iter()
                    .map(|a| (a.clone(), format!("the `{flag}` option of `{strategy}`"))),
            );
        }
    }
    out
}

/// The profile Auth0 stores for logins through `connection`: what it delivers (strategy data,
/// mappings, custom-database profiles, and `extra` attributes such as those scripts read),
/// minus the root attributes its deny list removes.
pub fn persisted(
    connection: &Connection,
    platform: &Platform,
    extra: &[(String, String)],
) -> PersistedProfile {
    let mut stored: BTreeMap<String, String> = BTreeMap::new();
    for (attribute, source) in delivered(connection, platform)
        .into_iter()
        .chain(extra.iter().cloned())
    {
        stored.entry(attribute).or_insert(source);
    }
    let mut removed = Vec::new();
    let mut ineffective = Vec::new();
    for entry in connection.deny_list.iter().flat_map(|d| &d.entries) {
        if is_nested_entry(&entry.value) {
            ineffective.push(entry.value.clone());
            continue;
        }
        let before = stored.len();
        stored.retain(|attribute, _| denied_root(attribute, &entry.value).is_none());
        if stored.len() != before || !removed.contains(&entry.value) {
            removed.push(entry.value.clone());
        }
    }
    PersistedProfile {
        connection: connection.name.clone(),
        stored,
        removed,
        ineffective,
    }
}

/// The standard claims the requested scopes of the login `scenario` put into the ID token, as
/// the connection delivers them, after the deny list's exclusions; each with a trace entry.
pub fn profile_claims(
    scenario: &Scenario,
    scripts: &ScriptOutcome,
    tenant: &Tenant,
    connection: &Connection,
    platform: &Platform,
    sources: &SourceMap,
) -> ProfileClaims {
    let mut out = ProfileClaims::default();
    let conditions = conditions_of(scenario, scripts, tenant, platform);
    let issues_id_token = scripts.script_tokens.contains_key(&TokenKind::IdToken);
    let file = sources.get(connection.loc.file);
    let delivered: Vec<String> = delivered(connection, platform)
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let mut entries = Vec::new();
    for scope in &scenario.scopes {
        let Some(claims) = platform.data.standard_claims.get(scope) else {
            continue;
        };
        for claim in claims.iter().filter(|c| *c != "sub" && delivered.contains(c)) {
            let denied = connection
                .deny_list
                .as_ref()
                .and_then(|d| d.entries.iter().find(|e| e.value == *claim));
            let (filter, outcome, reason, condition, clause) = match denied {
                None => (
                    Filter::Scope,
                    Outcome::Kept,
                    format!(
                        "standard claim of the `{scope}` scope, delivered by `{}`",
                        connection.name
                    ),
                    None,
                    None,
                ),
                Some(_) if platform.data.denied_never_in_tokens.contains(claim) => (
                    Filter::DenyList,
                    Outcome::Dropped,
                    format!(
                        "`{claim}` is denied on connection `{}`, and a denied `{claim}` is never in tokens",
                        connection.name
                    ),
                    Some("never".to_string()),
                    Some(format!("a denied `{claim}` is never in tokens")),
                ),
                Some(_) => match conditions.first() {
                    Some((id, clause)) => (
                        Filter::DenyListExclusion,
                        Outcome::Dropped,
                        format!(
                            "`{claim}` is denied on connection `{}` and {clause}; Auth0 then leaves denied attributes out of tokens",
                            connection.name
                        ),
                        Some((*id).to_string()),
                        Some(clause.clone()),
                    ),
                    None => (
                        Filter::DenyList,
                        Outcome::Kept,
                        format!(
                            "`{claim}` is denied on connection `{}` but still delivered in this login's tokens",
                            connection.name
                        ),
                        None,
                        None,
                    ),
                },
            };
            let (span, pointer) = match denied {
                Some(entry) => (entry.loc.span, entry.loc.pointer.clone()),
                None => (connection.loc.span, connection.loc.pointer.clone()),
            };
            if outcome == Outcome::Kept && issues_id_token {
                let value = scenario
                    .profile
                    .as_ref()
                    .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
                    .and_then(|p| p.get(claim.as_str()).cloned())
                    .unwrap_or_else(|| serde_json::Value::String(format!("<user.{claim}>")));
                out.claims.entry(claim.clone()).or_insert(value);
            }
            entries.push(TraceEntry {
                claim: claim.clone(),
                token: TokenKind::IdToken,
                script: format!("the user profile from connection `{}`", connection.name).into(),
                file: file.display.as_str().into(),
                line: file.line_col(span.start).line,
                filter,
                outcome,
                reason,
                when: None,
                condition,
                clause,
                source: Some(connection.loc.file),
                span,
                pointer,
            });
        }
    }
    out.trace = entries;
    out
}
