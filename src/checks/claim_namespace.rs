//! `claim-namespace` (CL101): a custom claim without an `http://`/`https://` namespace.
//!
//! ### What it flags
//! A claim a rule, action or hook sets on an ID or access token whose name is known and is
//! neither namespaced nor a standard OIDC claim, where the evaluator shows a login whose issued
//! token lacks it (OIDC-conformant logins drop such claims; client-credentials tokens keep only
//! namespaced ones). With `required_namespace`, every namespaced claim must also start with
//! that namespace; with `require_scheme` (e.g. `[https]`), its scheme must be one of those. Disabled rules and unbound or undeployed actions are never evaluated, so
//! they are never flagged.

use serde::Deserialize;

use super::{Context, Hit, dropped_claims, options};
use crate::eval::trace_of;
use crate::proof::{Filter, Outcome, Proof, Statement, TokenKind};

#[derive(Debug, Default, Deserialize)]
struct Options {
    required_namespace: Option<String>,
    require_scheme: Option<Vec<String>>,
    tokens: Option<Vec<String>>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let wanted = |token: TokenKind| {
        options
            .tokens
            .as_ref()
            .is_none_or(|t| t.iter().any(|n| n == token.as_str()))
    };
    let mut hits: Vec<Hit> = dropped_claims(ctx, Filter::Namespace)
        .into_iter()
        .filter(|hit| {
            hit.token.as_deref().is_none_or(|t| {
                wanted(if t == "id_token" {
                    TokenKind::IdToken
                } else {
                    TokenKind::AccessToken
                })
            })
        })
        .collect();
    let Some(analysis) = ctx.analysis else { return hits };
    // The team's own rules for namespaced claims Auth0 keeps: a required namespace, schemes.
    let outside = |name: &str| -> Option<(&'static str, String)> {
        let scheme = name.split_once("://")?.0;
        if let Some(required) = &options.required_namespace
            && !name.starts_with(required.as_str())
        {
            return Some((
                "/options/required_namespace",
                format!("outside the required namespace `{required}`"),
            ));
        }
        match &options.require_scheme {
            Some(schemes) if !schemes.iter().any(|s| s == scheme) => Some((
                "/options/require_scheme",
                format!("with the `{scheme}` scheme, not {}", schemes.join(" or ")),
            )),
            _ => None,
        }
    };
    for (evaluation, write) in analysis.first_writes(
        |w| {
            w.decision.outcome == Outcome::Kept
                && wanted(w.token())
                && w.name().is_some_and(|k| outside(k).is_some())
        },
        |_, _| true,
    ) {
        let claim = write.name().unwrap_or_default().to_string();
        let Some((entry, why)) = outside(&claim) else {
            continue;
        };
        let trace = trace_of(evaluation, write).into_iter().collect();
        let shows = format!("claim `{claim}` is issued {why}");
        let statement = Statement::ClaimIssued {
            token: write.token(),
            claim: claim.clone(),
        };
        hits.push(
            Hit::for_write(write, &claim)
                .policy_entry(entry)
                .proof(Proof::new(evaluation, trace, shows, statement)),
        );
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;
    use serde_json::json;

    #[test]
    fn team_rules_for_namespaced_claims() {
        let dropped = hits("claim-namespace", "directory", "claim-namespace", json!({}));
        let required = hits(
            "claim-namespace",
            "directory",
            "claim-namespace",
            json!({ "required_namespace": "https://elsewhere.example/" }),
        );
        let namespaced: Vec<_> = required.iter().filter(|h| !dropped.contains(h)).collect();
        assert!(!namespaced.is_empty(), "{required:?}");
        assert!(
            namespaced
                .iter()
                .all(|h| h.3.contains("claim=https://") || h.3.contains("claim=http://")),
            "{namespaced:?}"
        );
        let https_only = hits(
            "claim-namespace",
            "directory",
            "claim-namespace",
            json!({ "require_scheme": ["https"] }),
        );
        assert!(
            https_only
                .iter()
                .filter(|h| !dropped.contains(h))
                .all(|h| h.3.contains("claim=http://")),
            "{https_only:?}"
        );
    }
}
