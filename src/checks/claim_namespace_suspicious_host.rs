//! `claim-namespace-suspicious-host` (CL107): a claim namespaced under an Auth0-hosted domain
//! that is not on Auth0's documented list of forbidden namespaces.
//!
//! ### What it flags
//! A claim whose namespace host is one of the platform model's `suspicious_namespace_hosts`
//! (`auth0app.com`) or a subdomain of one, or one of the `hosts` option's extra hosts, where the
//! evaluator shows a login that issues it. Auth0 documents only `auth0.com`, `webtask.io` and
//! `webtask.run` as forbidden, so such a claim is kept today: the finding is a note that the
//! namespace is Auth0's domain, never a claim that Auth0 drops it.

use serde::Deserialize;

use super::claim_namespace_host::issued_under;
use super::{Context, Hit, options};

#[derive(Debug, Default, Deserialize)]
struct Options {
    hosts: Option<Vec<String>>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let shows =
        |claim: &str, host: &str| format!("claim `{claim}` is issued under `{host}`, an Auth0-hosted domain");
    let mut hits = issued_under(ctx, ctx.platform.suspicious_namespace_hosts(), "/id", shows);
    let extra: Vec<String> = options
        .hosts
        .unwrap_or_default()
        .into_iter()
        .filter(|h| !ctx.platform.suspicious_namespace_hosts().contains(h))
        .collect();
    for hit in issued_under(ctx, &extra, "/options/hosts", shows) {
        // A claim under a platform host and an extra one is reported once.
        if !hits.iter().any(|h| h.loc == hit.loc && h.claim == hit.claim) {
            hits.push(hit);
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;

    #[test]
    fn claims_under_auth0_hosted_domains_are_noted() {
        for form in ["yaml", "directory"] {
            let found = hits(
                "claim-namespace-suspicious-host",
                form,
                "claim-namespace-suspicious-host",
                serde_json::json!({}),
            );
            let claims: Vec<&str> = found.iter().map(|h| h.3.as_str()).collect();
            assert!(
                claims.iter().any(|v| v.contains("host=acme.auth0app.com")),
                "{form}: {claims:?}"
            );
            assert!(
                claims.iter().all(|v| !v.contains("auth0app.example.com")),
                "{form}: a look-alike host is not Auth0's: {claims:?}"
            );
            let extra = hits(
                "claim-namespace-suspicious-host",
                form,
                "claim-namespace-suspicious-host",
                serde_json::json!({ "hosts": ["legacy.acme.example"] }),
            );
            assert_eq!(extra.len(), found.len() + 1, "{form}: {extra:?}");
        }
    }
}
