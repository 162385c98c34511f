//! `denied-attribute-in-claim` (CL105): a custom claim copies a deny-listed attribute.
//!
//! ### What it flags
//! A claim whose value is, or is computed from, a user attribute that the login's connection
//! lists in `options.non_persistent_attrs` (`user.email`, `user.email.toLowerCase()`); Auth0
//! does not deliver a denied attribute into a custom claim, and the evaluator shows the login
//! whose issued token lacks it.

use super::{Context, Hit, dropped_claims};
use crate::proof::Filter;

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    dropped_claims(ctx, Filter::DenyList)
        .into_iter()
        .filter_map(|mut hit| {
            let proof = hit.proof.as_ref()?;
            let connection_name = proof.scenario.connection.clone()?;
            let claim = hit.claim.clone()?;
            let write = analysis
                .login(
                    ctx.tenant,
                    &proof.scenario.client,
                    Some(&connection_name),
                    &proof.scenario.protocol,
                )?
                .writes()
                .find(|w| {
                    w.file == hit.loc.file
                        && w.span() == hit.loc.span
                        && w.claim.key.label() == claim
                        && w.decision.attribute.is_some()
                })?;
            let attribute = write.decision.attribute.clone()?;
            let connection = ctx
                .tenant
                .connections
                .iter()
                .find(|c| c.name == connection_name)?;
            if let Some(entry) = connection
                .deny_list
                .as_ref()
                .and_then(|d| d.entries.iter().find(|e| e.value == attribute))
            {
                hit = hit.related(format!("`{attribute}` is denied here"), entry.loc.clone());
            }
            Some(
                hit.var("attribute", attribute.clone())
                    .var("connection", connection_name.clone())
                    .attribute(&attribute),
            )
        })
        .collect()
}
