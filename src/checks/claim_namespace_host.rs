//! `claim-namespace-host` (CL102): a claim namespaced under an Auth0 domain.
//!
//! ### What it flags
//! A claim whose namespace host is `auth0.com`, `webtask.io`, `webtask.run` or one of their
//! subdomains (the platform model's `forbidden_namespace_hosts`), where the evaluator shows a
//! login whose issued token lacks it. A name whose beginning is known is enough:
//! `'https://acme.auth0.com/' + configuration.NAME` is under `auth0.com` whatever follows.
//! The `hosts` option adds hosts of the team's own (a retired domain, say): claims under them
//! are reported with the login that issues them.

use serde::Deserialize;

use super::{Context, Hit, dropped_claims, options};
use crate::eval::{host_within, namespace_host, trace_of};
use crate::proof::{Filter, Outcome, Proof, Statement};

#[derive(Debug, Default, Deserialize)]
struct Options {
    hosts: Option<Vec<String>>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let mut hits: Vec<Hit> = dropped_claims(ctx, Filter::Auth0Domain)
        .into_iter()
        .filter_map(|hit| {
            let host = namespace_host(hit.claim.as_deref()?)?;
            Some(hit.var("host", host))
        })
        .collect();
    let extra = options.hosts.unwrap_or_default();
    let Some(analysis) = ctx.analysis else { return hits };
    if extra.is_empty() {
        return hits;
    }
    let under_extra =
        |name: &str| namespace_host(name).filter(|host| extra.iter().any(|d| host_within(host, d)));
    for (evaluation, write) in analysis.first_writes(|e, w| {
        w.decision.outcome == Outcome::Kept
            && w.claim.key.prefix().and_then(under_extra).is_some()
            && e.has(w.token(), &w.claim.key.label())
    }) {
        let claim = write.claim.key.label();
        let Some(host) = write.claim.key.prefix().and_then(under_extra) else {
            continue;
        };
        let trace = trace_of(evaluation, write).cloned().into_iter().collect();
        let shows = format!("claim `{claim}` is issued under `{host}`, a host this policy forbids");
        let statement = Statement::ClaimIssued {
            token: write.token(),
            claim: claim.clone(),
        };
        hits.push(
            Hit::for_write(write, &claim)
                .var("host", host)
                .policy_entry("/options/hosts")
                .proof(Proof::new(evaluation, trace, shows, statement)),
        );
    }
    hits
}
