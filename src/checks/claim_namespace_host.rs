//! `claim-namespace-host` (CL102): a claim namespaced under an Auth0 domain.
//!
//! ### What it flags
//! A claim whose namespace host is `auth0.com`, `webtask.io`, `webtask.run` or one of their
//! subdomains (the platform model's `forbidden_namespace_hosts`), where the evaluator shows a
//! login whose issued token lacks it. A name whose beginning is known is enough:
//! `'https://acme.auth0.com/' + configuration.NAME` is under `auth0.com` whatever follows.
//! The `hosts` option extends that list with hosts of the team's own (a retired domain, say):
//! claims under them are reported with the login that issues them (Auth0 keeps them, so the
//! proof shows the claim issued).

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
    hits.extend(issued_under(ctx, &extra, "/options/hosts", |claim, host| {
        format!("claim `{claim}` is issued under `{host}`, a host this policy forbids")
    }));
    hits
}

/// Hits for claims that some evaluated login issues under one of `hosts` (or a subdomain),
/// each with the first such login as proof; `entry` is the policy entry behind the verdict and
/// `shows` says what the proof shows, from the claim and the host.
pub(crate) fn issued_under(
    ctx: &Context<'_>,
    hosts: &[String],
    entry: &str,
    shows: impl Fn(&str, &str) -> String,
) -> Vec<Hit> {
    let mut hits = Vec::new();
    let Some(analysis) = ctx.analysis else { return hits };
    if hosts.is_empty() {
        return hits;
    }
    let under = |name: &str| namespace_host(name).filter(|host| hosts.iter().any(|d| host_within(host, d)));
    for (evaluation, write) in analysis.first_writes(
        |w| w.decision.outcome == Outcome::Kept && w.claim.key.prefix().and_then(under).is_some(),
        |e, w| e.has(w.token(), &w.claim.key.label()),
    ) {
        let claim = write.claim.key.label();
        let Some(host) = write.claim.key.prefix().and_then(under) else {
            continue;
        };
        let trace = trace_of(evaluation, write).into_iter().collect();
        let shows = shows(&claim, &host);
        let statement = Statement::ClaimIssued {
            token: write.token(),
            claim: claim.clone(),
        };
        hits.push(
            Hit::for_write(write, &claim)
                .var("host", host)
                .policy_entry(entry)
                .proof(Proof::new(evaluation, trace, shows, statement)),
        );
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;

    #[test]
    fn the_hosts_option_extends_the_platform_list() {
        for form in ["yaml", "directory"] {
            let builtin = hits(
                "claim-namespace-host",
                form,
                "claim-namespace-host",
                serde_json::json!({}),
            );
            assert!(
                builtin.iter().all(|h| !h.3.contains("auth0app.com")),
                "{form}: {builtin:?}"
            );
            let extended = hits(
                "claim-namespace-host",
                form,
                "claim-namespace-host",
                serde_json::json!({ "hosts": ["auth0app.com"] }),
            );
            // Every platform host is still reported, and the extra host's issued claim too.
            for hit in &builtin {
                assert!(extended.contains(hit), "{form}: {hit:?} lost");
            }
            let extra: Vec<_> = extended.iter().filter(|h| !builtin.contains(h)).collect();
            assert_eq!(extra.len(), 1, "{form}: {extra:?}");
            assert!(
                extra[0].3.contains("claim=https://acme.auth0app.com/beta")
                    && extra[0].3.contains("host=acme.auth0app.com"),
                "{form}: {extra:?}"
            );
        }
    }
}
