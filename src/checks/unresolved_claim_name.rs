//! `unresolved-claim-name` (CL104): a claim whose name cannot be computed statically.
//!
//! ### What it flags
//! A claim write whose name depends on something claimlint cannot know (`configuration.NS`,
//! `event.secrets.NS`, an unresolved a0deploy keyword, a value from an HTTP call) so that no
//! filter can decide it. A name that starts with a known namespace (`https://acme.com/`) is
//! namespaced whatever follows and is not reported. A note: nothing is proven dropped.

use super::{Context, Hit};
use crate::model::Loc;
use crate::proof::Outcome;

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    analysis
        .first_writes(|w| w.decision.outcome == Outcome::Unresolved, |_, _| true)
        .into_iter()
        .map(|(_, write)| {
            let known = write
                .decision
                .known
                .clone()
                .unwrap_or_else(|| write.decision.reason.clone());
            let mut hit = Hit::at(Loc {
                file: write.file,
                span: write.span(),
                pointer: String::new(),
            })
            .var("known", known)
            .var("token", write.token().label())
            .var("script", write.script.to_string());
            hit.token = Some(write.token().as_str().to_string());
            hit.claim = Some(write.claim.key.label());
            hit
        })
        .collect()
}
