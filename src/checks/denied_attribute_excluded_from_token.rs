//! `denied-attribute-excluded-from-token` (CL204): a denied attribute that a token would carry,
//! left out because of how the login runs.
//!
//! ### What it flags
//! Denied attributes stay available to scripts and tokens during a login, except when MFA
//! applies (tenant MFA policy with an enabled factor, or a script that triggers it, on every
//! path or only on some: the token shown is then that of a login taking such a path), a rule
//! or action redirects, the client uses delegation or impersonation, or the legacy "Use Auth0
//! instead of the IdP to do Single Sign-On" setting is on; and a denied `name` or `nickname` is
//! never in tokens. The evaluator puts each standard claim the requested scopes ask for (and the
//! connection delivers) into the ID token, then applies these conditions; this check reports a
//! standard claim the deny list takes out of the token in an evaluated login, at the deny-list
//! entry, with that login as proof. `conditions` limits which conditions count.

use serde::Deserialize;

use super::{Context, Hit, options};
use crate::model::Loc;
use crate::proof::{Filter, Outcome, Proof, Statement, TokenKind};

#[derive(Debug, Default, Deserialize)]
struct Options {
    conditions: Option<Vec<String>>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    let mut seen = std::collections::HashSet::new();
    let mut hits = Vec::new();
    for evaluation in analysis.ordered() {
        let Some(connection) = evaluation.scenario.connection.as_deref() else {
            continue;
        };
        // Only the profile's entries name a deny-list condition: they are read where they are,
        // and copied only into a finding's proof.
        for entry in evaluation
            .profile
            .trace
            .iter()
            .filter(|e| matches!(e.filter, Filter::DenyListExclusion | Filter::DenyList))
        {
            let (Some(file), Some(condition)) = (entry.source, entry.condition.as_deref()) else {
                continue;
            };
            let excluded = entry.filter == Filter::DenyListExclusion
                || (entry.filter == Filter::DenyList && condition == "never");
            if !excluded || entry.outcome != Outcome::Dropped {
                continue;
            }
            // A denied `name` or `nickname` is never in tokens, whatever the conditions.
            let chosen = condition == "never"
                || options
                    .conditions
                    .as_ref()
                    .is_none_or(|w| w.iter().any(|c| c == condition));
            if !chosen {
                continue;
            }
            if evaluation.has(TokenKind::IdToken, &entry.claim)
                || !seen.insert((connection.to_string(), entry.claim.clone()))
            {
                continue;
            }
            let shows = format!(
                "claim `{}` is absent from the ID token this login issues",
                entry.claim
            );
            hits.push(
                Hit::at(Loc {
                    file,
                    span: entry.span,
                    pointer: entry.pointer.clone(),
                })
                .var("attribute", entry.claim.clone())
                .var("claim", entry.claim.clone())
                .var("connection", connection)
                .var(
                    "condition",
                    entry.clause.clone().unwrap_or_else(|| entry.reason.clone()),
                )
                // A denied `name` is never in tokens by itself; other conditions leave every
                // denied attribute out.
                .wording(
                    "effect",
                    if condition == "never" {
                        ""
                    } else {
                        "; Auth0 then leaves denied attributes out of tokens"
                    },
                )
                .subject("connection", connection)
                .attribute(&entry.claim)
                .claim(&entry.claim, TokenKind::IdToken)
                .proof(Proof::new(
                    evaluation,
                    vec![entry.clone()],
                    shows,
                    Statement::ClaimAbsent {
                        token: TokenKind::IdToken,
                        claim: entry.claim.clone(),
                    },
                )),
            );
        }
    }
    hits
}
