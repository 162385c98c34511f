//! `restricted-claim` (CL103): a script sets a claim Auth0 reserves.
//!
//! ### What it flags
//! A write to a restricted claim name (`iss`, `sub`, `aud`, `exp`, `azp`, `nonce`,
//! `permissions`...: the platform model's `restricted_claims`, plus `extra_claims`), which Auth0
//! ignores; the evaluator shows a login whose issued token lacks the script's value.

use serde::Deserialize;

use super::{Context, Hit, dropped_claims, options};

#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    extra_claims: Vec<String>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let mut hits: Vec<Hit> = dropped_claims(ctx, crate::proof::Filter::Restricted)
        .into_iter()
        .collect();
    if !options.extra_claims.is_empty()
        && let Some(analysis) = ctx.analysis
    {
        for (evaluation, write) in analysis.first_writes(
            |w| {
                w.name()
                    .is_some_and(|k| options.extra_claims.iter().any(|e| e == k))
                    && w.decision.filter != crate::proof::Filter::Restricted
            },
            |_, _| true,
        ) {
            let claim = write.name().unwrap_or_default().to_string();
            if !evaluation.has(write.token(), &claim) {
                continue;
            }
            let trace = crate::eval::trace_of(evaluation, write).into_iter().collect();
            hits.push(
                Hit::for_write(write, &claim)
                    .policy_entry("/options/extra_claims")
                    .proof(crate::eval::Proof::new(
                        evaluation,
                        trace,
                        format!(
                            "a script sets `{claim}`, which this policy reserves, and the login issues it"
                        ),
                        crate::proof::Statement::ClaimIssued {
                            token: write.token(),
                            claim: claim.clone(),
                        },
                    )),
            );
        }
    }
    hits
}
