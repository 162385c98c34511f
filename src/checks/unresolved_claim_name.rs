//! `unresolved-claim-name` (CL104): a claim whose name cannot be computed statically.
//!
//! ### What it flags
//! A claim write whose name depends on something claimlint cannot know (`configuration.NS`,
//! `event.secrets.NS`, an unresolved a0deploy keyword, a value from an HTTP call). It says what
//! is known: a name that starts with `https://acme.com/` is namespaced whatever follows, so
//! only the rest is unknown. A note: nothing is proven dropped.

use super::{Context, Hit};
use crate::eval::{Outcome, claim_label};
use crate::model::Loc;

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    analysis
        .first_writes(|_, w| w.decision.outcome == Outcome::Unresolved)
        .into_iter()
        .map(|(_, write)| {
            let known = write
                .decision
                .reason
                .split_once("; it ")
                .map_or(write.decision.reason.clone(), |(_, k)| k.to_string());
            let mut hit = Hit::at(Loc {
                file: write.file,
                span: write.write.span,
                pointer: String::new(),
            })
            .var("known", known)
            .var("token", write.write.token.label())
            .var("script", write.script.clone());
            hit.token = Some(write.write.token.as_str().to_string());
            hit.claim = Some(claim_label(&write.write.key));
            hit
        })
        .collect()
}
