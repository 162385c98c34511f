//! `denied-attribute-in-claim` (CL105): a custom claim copies a deny-listed attribute.
//!
//! ### What it flags
//! A claim whose value is a user attribute that the login's connection lists in
//! `options.non_persistent_attrs`; Auth0 does not deliver a denied attribute into a custom
//! claim, and the evaluator shows the login whose issued token lacks it.

use super::{Context, Hit, dropped_claims};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    dropped_claims(ctx, "deny-list")
        .into_iter()
        .filter_map(|mut hit| {
            let proof = hit.proof.as_ref()?;
            let connection_name = proof.scenario.connection.clone()?;
            let claim = hit.claim.clone()?;
            let write = analysis.evaluations.iter().flat_map(|e| &e.writes).find(|w| {
                w.file == hit.loc.file
                    && w.write.span == hit.loc.span
                    && w.write.key.known_text().as_deref() == Some(claim.as_str())
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
