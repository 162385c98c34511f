//! `claim-missing-on-refresh` (CL106): a claim the login issues but the refresh does not.
//!
//! ### What it flags
//! A claim that a script sets on a login (`oidc-basic-profile`), on every path or on those where
//! a condition on the user or the request holds, and that is absent from every path of the
//! token issued on the refresh-token flow of the same client and connection: the users who get
//! it at login lose it at the first refresh.
//! Tokens from a refresh token do not inherit earlier custom claims; rules and post-login
//! actions run again with the protocol `oauth2-refresh-token`, so a script that returns early
//! there (or sets the claim only on other protocols) issues refreshed tokens without the claim. The proof is the refresh login's token;
//! an evaluation cut short by a bound proves no absence and is skipped.

use std::collections::HashMap;
use std::sync::Arc;

use super::{Context, Hit};
use crate::eval::pipeline::Evaluation;
use crate::eval::{ScriptWrite, trace_of};
use crate::model::Loc;
use crate::proof::{LOGIN_PROTOCOLS, Outcome, Proof, REFRESH_PROTOCOL, Statement, TokenKind};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    use rayon::prelude::*;
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    // Each login with the refresh of the same client and connection, when both finished and
    // the refresh issues tokens (a denied refresh issues none: nothing is missing from it).
    let ordered: Vec<&Evaluation> = analysis
        .ordered()
        .filter(|e| e.scenario.protocol == LOGIN_PROTOCOLS[0])
        .collect();
    let pairs: Vec<(&Evaluation, &Evaluation)> = ordered
        .par_iter()
        .filter_map(|&login| {
            let refresh = login.members.iter().find_map(|client| {
                analysis.login(
                    ctx.tenant,
                    client,
                    login.scenario.connection.as_deref(),
                    REFRESH_PROTOCOL,
                )
            })?;
            let issues = !matches!(
                refresh.outcome,
                crate::eval::summary::LoginOutcome::Denied | crate::eval::summary::LoginOutcome::Unfinished
            );
            (issues && refresh.incomplete().next().is_none() && login.incomplete().next().is_none())
                .then_some((login, refresh))
        })
        .collect();
    // Per pair of script outcomes (shared by many logins), the positions of the login's writes
    // that may be missing on refresh: what the scripts issue decides it, up to the profile's
    // standard claims, which are checked per login below.
    // (Outcomes by address: `ScriptOutcome` has no cheap equality.)
    type Pair = (usize, usize);
    let key = |(login, refresh): (&Evaluation, &Evaluation)| -> Pair {
        (
            Arc::as_ptr(&login.scripts).addr(),
            Arc::as_ptr(&refresh.scripts).addr(),
        )
    };
    let mut unique: Vec<(&Evaluation, &Evaluation)> = Vec::new();
    let mut seen_pairs = std::collections::HashSet::new();
    for &pair in &pairs {
        if seen_pairs.insert(key(pair)) {
            unique.push(pair);
        }
    }
    let candidates_of: HashMap<Pair, Vec<usize>> = unique
        .par_iter()
        .map(|&(login, refresh)| {
            let candidates = login
                .writes()
                .enumerate()
                .filter(|(_, write)| {
                    write.name().is_some_and(|claim| {
                        write.decision.outcome == Outcome::Kept
                            && (write.token() == TokenKind::IdToken || login.issues(write.token(), claim))
                            && !refresh.issues(write.token(), claim)
                    })
                })
                .map(|(i, _)| i)
                .collect();
            (key((login, refresh)), candidates)
        })
        .collect();
    // Each login's writes missing on its refresh, then each write once, at its first login in
    // proof order.
    let missing: Vec<Vec<&ScriptWrite>> = pairs
        .par_iter()
        .map(|&(login, refresh)| {
            let Some(candidates) = candidates_of.get(&key((login, refresh))) else {
                return Vec::new();
            };
            let writes: Vec<&ScriptWrite> = login.writes().collect();
            candidates
                .iter()
                .filter_map(|&i| writes.get(i).copied())
                .filter(|write| {
                    write.name().is_some_and(|claim| {
                        write.decision.outcome == Outcome::Kept
                            && login.has(write.token(), claim)
                            && !refresh.has(write.token(), claim)
                    })
                })
                .collect()
        })
        .collect();
    let mut seen = std::collections::HashSet::new();
    let mut hits: Vec<Hit> = Vec::new();
    for (&(login, refresh), writes) in pairs.iter().zip(&missing) {
        for &write in writes {
            let Some(claim) = write.name() else { continue };
            if !seen.insert((write.file, write.span(), write.token(), claim.to_string())) {
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
            // Where the refresh finishes the script before the write, it returns early; where
            // it finishes after it (or the completion is the whole handler an action returns
            // from at its end), the write sits in a branch the refresh does not take.
            let early = refresh.completions().find(|(label, file, span)| {
                *file == write.file && *label == write.script && span.end <= write.span().start
            });
            let skips = if early.is_some() {
                "returns early on `oauth2-refresh-token` before setting it"
            } else {
                "does not set it on `oauth2-refresh-token`"
            };
            let mut hit = Hit::for_write(write, claim)
                .wording("skips", skips)
                .proof(Proof::new(refresh, trace, shows, statement));
            if let Some((_, file, span)) = early {
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
