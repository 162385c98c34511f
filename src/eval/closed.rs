//! Closed runs: a script with every input given as a concrete value, evaluated exactly.
//!
//! This is the interface the differential test uses to compare the interpreter with node: the
//! claims, root-attribute writes and login outcome a script produces before any of Auth0's
//! platform filters apply.

use serde::{Deserialize, Serialize};

use super::host::{Mode, ScriptKind};
use super::summary::{self, ClaimKey, ClaimValue, LoginOutcome};
use crate::proof::TokenKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClosedKind {
    Rule,
    PostLoginAction,
    CredentialsExchangeAction,
    Hook,
}

/// What a closed run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClosedRun {
    /// `issued`, `denied`, or `none` (the script never completed the login).
    pub outcome: String,
    pub id_token: serde_json::Map<String, serde_json::Value>,
    pub access_token: serde_json::Map<String, serde_json::Value>,
    /// Root attributes of `user` the script added or changed, with their final values
    /// (`null` for a deleted one).
    pub user: serde_json::Map<String, serde_json::Value>,
    /// `false` when something could not be decided.
    pub exact: bool,
}

/// Runs one closed script.
pub fn run_closed(kind: ClosedKind, source: &str, input: &serde_json::Value) -> ClosedRun {
    let lowered = crate::js::analyse(source);
    let script_kind = match kind {
        ClosedKind::Rule => ScriptKind::Rule,
        ClosedKind::PostLoginAction => ScriptKind::PostLoginAction,
        ClosedKind::CredentialsExchangeAction => ScriptKind::CredentialsExchangeAction,
        ClosedKind::Hook => ScriptKind::Hook,
    };
    let s = summary::run(
        &lowered.ir,
        source,
        script_kind,
        Mode::Closed(input.clone()),
        super::machine::STEP_BUDGET,
        // A closed run has no tenant configuration: the built-in platform's signals.
        &crate::platform::Platform::builtin_signals(),
    );
    let mut run = ClosedRun {
        outcome: match s.outcome {
            LoginOutcome::Issued => "issued",
            LoginOutcome::Denied => "denied",
            LoginOutcome::Unfinished => "none",
            LoginOutcome::MayDeny => "may-deny",
        }
        .into(),
        id_token: serde_json::Map::new(),
        access_token: serde_json::Map::new(),
        user: serde_json::Map::new(),
        exact: lowered.errors.is_empty() && s.incomplete.is_empty() && s.outcome != LoginOutcome::MayDeny,
    };
    if s.outcome != LoginOutcome::Issued {
        return run;
    }
    for claim in &s.claims {
        let ClaimKey::Exact(name) = &claim.key else {
            run.exact = false;
            continue;
        };
        // A closed run has every fact concrete: a claim standing for a fact is not exact.
        let value = claim.value.resolve(|_| None);
        if !claim.must || contains_unknown(&value) || matches!(claim.value, ClaimValue::Fact(_)) {
            run.exact = false;
        }
        let token = match claim.token {
            TokenKind::IdToken => &mut run.id_token,
            TokenKind::AccessToken => &mut run.access_token,
        };
        token.insert(name.clone(), value);
    }
    if kind == ClosedKind::Hook {
        run.access_token.remove("scope");
    }
    if kind == ClosedKind::Rule {
        for write in &s.user_writes {
            if !write.must || contains_unknown(&write.value) {
                run.exact = false;
            }
            run.user.insert(write.attribute.clone(), write.value.clone());
        }
    }
    run
}

/// Whether a rendered value holds a stand-in for something unknown (`"<...>"`).
fn contains_unknown(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::String(s) => s.starts_with('<') && s.ends_with('>'),
        serde_json::Value::Array(items) => items.iter().any(contains_unknown),
        serde_json::Value::Object(map) => map.values().any(contains_unknown),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule(source: &str, input: serde_json::Value) -> ClosedRun {
        run_closed(ClosedKind::Rule, source, &input)
    }

    #[test]
    fn a_rule_sets_claims_and_calls_back() {
        let run = rule(
            "function (user, context, callback) {
               const ns = 'https://x.com/';
               context.idToken[ns + 'plan'] = user.app_metadata.plan;
               context.accessToken.n = 1 + 2;
               callback(null, user, context);
             }",
            json!({"user": {"app_metadata": {"plan": "gold"}}, "context": {"clientName": "A"}}),
        );
        assert_eq!(run.outcome, "issued", "{run:?}");
        assert_eq!(run.id_token.get("https://x.com/plan"), Some(&json!("gold")));
        assert_eq!(run.access_token.get("n"), Some(&json!(3)));
        assert!(run.exact);
    }

    /// A closed run has one path: it follows a recursion deeper than the abstract runs do.
    #[test]
    fn a_deep_recursion_is_followed_to_the_end() {
        let run = rule(
            "function (user, context, callback) {
               function depth(o) { return o && typeof o === 'object' ? 1 + depth(o.next) : 0; }
               context.idToken['https://x.com/depth'] = depth(user.app_metadata.chain);
               callback(null, user, context);
             }",
            json!({"user": {"app_metadata": {"chain": {"next": {"next": {"next": {"next": {"next": {"next": {}}}}}}}}}}),
        );
        assert_eq!(
            run.id_token.get("https://x.com/depth"),
            Some(&json!(7)),
            "{run:?}"
        );
        assert!(run.exact);
    }

    #[test]
    fn unauthorized_errors_deny() {
        let run = rule(
            "function (user, context, callback) {
               if (context.clientName === 'A') return callback(new UnauthorizedError('no'));
               callback(null, user, context);
             }",
            json!({"user": {}, "context": {"clientName": "A"}}),
        );
        assert_eq!(run.outcome, "denied", "{run:?}");
    }

    #[test]
    fn closures_see_their_own_variables() {
        let run = rule(
            "function (user, context, callback) {
               const ns = 'https://a.com/';
               function make(prefix) { return function (k) { return prefix + k; }; }
               const f = make(ns);
               const ns2 = 'ignored';
               context.idToken[f('x')] = [1, 2].map(n => n * 2);
               switch (user.tier) { case 'a': context.idToken.t = 'A'; case 'b': context.idToken.u = 'B'; break; default: context.idToken.v = 1; }
               try { throw new Error('e'); } catch (e) { context.idToken.m = e.message; } finally { context.idToken.f = true; }
               const { a = 5, ...rest } = { b: 2, c: 3 };
               context.idToken.rest = rest; context.idToken.a = a;
               context.idToken.keys = Object.keys(rest).join('|');
               callback(null, user, context);
             }",
            json!({"user": {"tier": "a"}, "context": {}}),
        );
        assert_eq!(run.outcome, "issued", "{run:?}");
        assert_eq!(
            serde_json::Value::Object(run.id_token.clone()),
            json!({"https://a.com/x": [2, 4], "t": "A", "u": "B", "m": "e", "f": true, "rest": {"b": 2, "c": 3}, "a": 5, "keys": "b|c"}),
            "{run:?}"
        );
        assert!(run.exact, "{run:?}");
    }

    #[test]
    fn actions_set_claims_through_the_api() {
        let run = run_closed(
            ClosedKind::PostLoginAction,
            "exports.onExecutePostLogin = handler;
             async function handler(event, api) {
               const { user, client } = event;
               if (event.transaction.protocol === 'oauth2-refresh-token') return;
               api.idToken.setCustomClaim(`${event.secrets.NS}roles`, user.app_metadata?.roles ?? []);
             }",
            &json!({"event": {"user": {"app_metadata": {}}, "client": {"name": "A"}, "transaction": {"protocol": "oidc-basic-profile"}, "secrets": {"NS": "https://n.com/"}}}),
        );
        assert_eq!(run.outcome, "issued", "{run:?}");
        assert_eq!(
            run.id_token.get("https://n.com/roles"),
            Some(&json!([])),
            "{run:?}"
        );
    }
}

#[cfg(test)]
mod probe {
    /// `CLAIMLINT_PROBE=file.json` (`{"kind": "rule", "source": ..., "input": ...}`) prints the
    /// closed run of one script.
    #[test]
    fn probe() {
        let Some(path) = std::env::var_os("CLAIMLINT_PROBE") else {
            return;
        };
        let text = std::fs::read_to_string(path).expect("probe file");
        let case: serde_json::Value = serde_json::from_str(&text).expect("json");
        let kind = match case["kind"].as_str() {
            Some("post-login-action") => super::ClosedKind::PostLoginAction,
            Some("credentials-exchange-action") => super::ClosedKind::CredentialsExchangeAction,
            Some("hook") => super::ClosedKind::Hook,
            _ => super::ClosedKind::Rule,
        };
        let run = super::run_closed(kind, case["source"].as_str().unwrap_or(""), &case["input"]);
        eprintln!("{run:#?}");
    }
}
