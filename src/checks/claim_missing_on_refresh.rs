//! `claim-missing-on-refresh` (CL106): a claim the login issues but the refresh does not.
//!
//! ### What it flags
//! A claim present in the token of a login (`oidc-basic-profile`) but absent from the token
//! issued on the refresh-token flow of the same client and connection. Tokens from a refresh
//! token do not inherit earlier custom claims; rules run again with `context.protocol ===
//! 'oauth2-refresh-token'`, so a script that returns early on that protocol issues refreshed
//! tokens without the claim. The proof is the refresh login's token.

use super::{Context, Hit};
use crate::eval::{Outcome, Proof, trace_of};
use crate::model::Loc;

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    let mut hits: Vec<Hit> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let refreshes: std::collections::HashMap<_, &crate::eval::Evaluation> = analysis
        .evaluations
        .iter()
        .filter(|e| e.scenario.protocol == "oauth2-refresh-token")
        .map(|e| {
            (
                (&e.scenario.client, &e.scenario.connection, e.scenario.pipeline),
                e,
            )
        })
        .collect();
    for login in analysis
        .evaluations
        .iter()
        .filter(|e| e.scenario.protocol == "oidc-basic-profile")
    {
        let key = (
            &login.scenario.client,
            &login.scenario.connection,
            login.scenario.pipeline,
        );
        let Some(refresh) = refreshes.get(&key).copied() else {
            continue;
        };
        for write in &login.writes {
            let Some(claim) = write.write.key.known_text() else {
                continue;
            };
            if write.decision.outcome != Outcome::Kept
                || write.write.may
                || !login.has(write.write.token, &claim)
                || refresh.has(write.write.token, &claim)
                || !seen.insert((write.file, write.write.span, write.write.token, claim.clone()))
            {
                continue;
            }
            let mut trace: Vec<_> = trace_of(login, write).cloned().into_iter().collect();
            trace
                .iter_mut()
                .for_each(|t| t.reason = format!("set on the login; {}", t.reason));
            let shows = format!(
                "claim `{claim}` is in the {} of the login but absent from the one issued on refresh",
                write.write.token.label()
            );
            let mut hit = Hit::for_write(write, &claim).proof(Proof::new(refresh, trace, shows));
            if let Some((_, file, span, _)) = refresh
                .returns
                .iter()
                .find(|(label, file, _, may)| *file == write.file && label == &write.script && !may)
            {
                hit = hit.related(
                    "the refresh-token flow returns here first",
                    Loc {
                        file: *file,
                        span: *span,
                        pointer: String::new(),
                    },
                );
            }
            hits.push(hit);
        }
    }
    hits.sort_by_key(|h| (h.loc.file, h.loc.span.start));
    hits
}
