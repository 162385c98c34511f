//! `claim-namespace-host` (CL102): a claim namespaced under an Auth0 domain.
//!
//! ### What it flags
//! A claim whose namespace host is `auth0.com`, `webtask.io`, `webtask.run` or one of their
//! subdomains (the platform model's `forbidden_namespace_hosts`, or the `hosts` option), where
//! the evaluator shows a login whose issued token lacks it.

use serde::Deserialize;

use super::{Context, Hit, dropped_claims, options};
use crate::eval::namespace_host;

#[derive(Debug, Default, Deserialize)]
struct Options {
    hosts: Option<Vec<String>>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let hosts = options
        .hosts
        .as_ref()
        .unwrap_or(&ctx.platform.data.forbidden_namespace_hosts);
    dropped_claims(ctx, "auth0-domain")
        .into_iter()
        .filter_map(|hit| {
            let host = namespace_host(hit.claim.as_deref()?)?;
            hosts
                .iter()
                .any(|d| crate::eval::host_within(&host, d))
                .then(|| hit.var("host", host))
        })
        .collect()
}
