//! `claim-missing-on-refresh` (CL106): a claim the login issues but the refresh does not.
//!
//! ### What it flags
//! A claim that a script sets on every path of a login (`oidc-basic-profile`) and that is
//! absent from the token issued on the refresh-token flow of the same client and connection.
//! Tokens from a refresh token do not inherit earlier custom claims; rules and post-login
//! actions run again with the protocol `oauth2-refresh-token`, so a script that returns early
//! there issues refreshed tokens without the claim. The proof is the refresh login's token;
//! an evaluation cut short by a bound proves no absence and is skipped.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Context, Hit};
use crate::eval::pipeline::ScriptOutcome;
use crate::eval::{ScriptWrite, trace_of};
use crate::model::Loc;
use crate::proof::{LOGIN_PROTOCOLS, Outcome, Proof, REFRESH_PROTOCOL, Statement, TokenKind};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    let mut hits: Vec<Hit> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    // Per pair of script outcomes (shared by many logins), the positions of the login's writes
    // that may be missing on refresh: what the scripts issue decides it, up to the profile's
    // standard claims, which are checked per login below.
    type Pair = (*const ScriptOutcome, *const ScriptOutcome);
    let mut candidates_of: HashMap<Pair, Vec<usize>> = HashMap::new();
    for login in analysis
        .ordered()
        .filter(|e| e.scenario.protocol == LOGIN_PROTOCOLS[0])
    {
        let refresh = login.members.iter().find_map(|client| {
            analysis.login(client, login.scenario.connection.as_deref(), REFRESH_PROTOCOL)
        });
        let Some(refresh) = refresh else { continue };
        // A refresh that is denied issues no token at all: nothing is missing from it.
        let issues = !matches!(
            refresh.outcome,
            crate::eval::summary::LoginOutcome::Denied | crate::eval::summary::LoginOutcome::Unfinished
        );
        if !issues || refresh.incomplete().next().is_some() || login.incomplete().next().is_some() {
            continue;
        }
        let writes: Vec<&ScriptWrite> = login.writes().collect();
        let pair = (Arc::as_ptr(&login.scripts), Arc::as_ptr(&refresh.scripts));
        let candidates = candidates_of.entry(pair).or_insert_with(|| {
            (0..writes.len())
                .filter(|&i| {
                    let write = writes[i];
                    write.name().is_some_and(|claim| {
                        write.decision.outcome == Outcome::Kept
                            && write.claim.must
                            && (write.token() == TokenKind::IdToken || login.issues(write.token(), claim))
                            && !refresh.issues(write.token(), claim)
                    })
                })
                .collect()
        });
        for &i in candidates.iter() {
            let write = writes[i];
            let Some(claim) = write.name() else { continue };
            if write.decision.outcome != Outcome::Kept
                || !write.claim.must
                || !login.has(write.token(), claim)
                || refresh.has(write.token(), claim)
                || !seen.insert((write.file, write.span(), write.token(), claim.to_string()))
            {
                continue;
            }
            let mut trace: Vec<_> = trace_of(login, write).into_iter().collect();
            trace
                .iter_mut()
                .for_each(|t| t.reason = format!("set on the login; {}", t.reason));
            let shows = format!(
                "claim `{claim}` is in the {} of the login but absent from the one issued on refresh",
                write.token().label()
            );
            let statement = Statement::MissingOnRefresh {
                token: write.token(),
                claim: claim.to_string(),
                login: Box::new(login.scenario.clone()),
            };
            let mut hit = Hit::for_write(write, claim).proof(Proof::new(refresh, trace, shows, statement));
            if let Some((_, file, span)) = refresh
                .completions()
                .find(|(label, file, _)| *file == write.file && *label == write.script)
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
