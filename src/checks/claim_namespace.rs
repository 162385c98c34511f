//! `claim-namespace` (CL101): a custom claim without an `http://`/`https://` namespace.
//!
//! ### What it flags
//! A claim a rule, action or hook sets on an ID or access token whose name is known and is
//! neither namespaced nor a standard OIDC claim, where the evaluator shows a login whose issued
//! token lacks it (OIDC-conformant logins drop such claims; client-credentials tokens keep only
//! namespaced ones). With `required_namespace`, every namespaced claim must also start with
//! that namespace. Disabled rules and unbound or undeployed actions are never evaluated, so
//! they are never flagged.

use serde::Deserialize;

use super::{Context, Hit, dropped_claims, options};
use crate::eval::interp::TokenKind;
use crate::eval::{Outcome, Proof, trace_of};

#[derive(Debug, Default, Deserialize)]
struct Options {
    required_namespace: Option<String>,
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
    let mut hits: Vec<Hit> = dropped_claims(ctx, "namespace")
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
    if let (Some(required), Some(analysis)) = (&options.required_namespace, ctx.analysis) {
        for (evaluation, write) in analysis.first_writes(|_, w| {
            w.decision.outcome == Outcome::Kept
                && wanted(w.write.token)
                && w.write
                    .key
                    .known_text()
                    .is_some_and(|k| k.contains("://") && !k.starts_with(required.as_str()))
        }) {
            let claim = write.write.key.known_text().unwrap_or_default();
            let trace = trace_of(evaluation, write).cloned().into_iter().collect();
            let shows = format!("claim `{claim}` is issued outside the required namespace `{required}`");
            hits.push(
                Hit::for_write(write, &claim)
                    .policy_entry("/options/required_namespace")
                    .proof(Proof::new(evaluation, trace, shows)),
            );
        }
    }
    hits
}
