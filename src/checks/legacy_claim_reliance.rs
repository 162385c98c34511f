//! `legacy-claim-reliance` (CL303): a claim that reaches a client only through the legacy
//! pipeline.
//!
//! ### What it flags
//! A non-namespaced claim kept only because the client is not OIDC-conformant and the tenant
//! has the legacy user profile on. The check evaluates the same login twice, once through the
//! legacy pipeline and once OIDC-conformant; it reports the claim only when the second token
//! lacks it. The proof is the OIDC-conformant login's token: what the client gets once either
//! condition goes away.

use super::{Context, Hit};
use crate::eval::{Pipeline, Proof, evaluate, trace_of};
use crate::model::Loc;

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    for (evaluation, write) in analysis
        .first_writes(|e, w| e.scenario.pipeline == Pipeline::Legacy && w.decision.filter == "legacy-profile")
    {
        let Some(claim) = write.write.key.known_text() else {
            continue;
        };
        let mut twin = evaluation.scenario.clone();
        twin.pipeline = Pipeline::OidcConformant;
        let conformant = evaluate(ctx.tenant, ctx.scripts, ctx.platform, ctx.sources, &twin);
        if conformant.has(write.write.token, &claim) || !evaluation.has(write.write.token, &claim) {
            continue;
        }
        let mut trace: Vec<_> = trace_of(&conformant, write).cloned().into_iter().collect();
        trace.extend(trace_of(evaluation, write).cloned());
        let shows = format!(
            "client `{}` gets claim `{claim}` only through the legacy pipeline; an OIDC-conformant login lacks it",
            evaluation.scenario.client
        );
        let mut hit = Hit::at(Loc {
            file: write.file,
            span: write.write.span,
            pointer: String::new(),
        })
        .var("claim", claim.clone())
        .var("client", evaluation.scenario.client.clone())
        .var("script", write.script.clone())
        .claim(&claim, write.write.token)
        .subject("client", &evaluation.scenario.client)
        .proof(Proof::new(&conformant, trace, shows));
        if let Some(flag) = ctx
            .tenant
            .client(&evaluation.scenario.client)
            .and_then(|c| c.oidc_conformant.as_ref())
        {
            hit = hit.related("the client is not OIDC-conformant", flag.loc.clone());
        }
        if let Some(flag) = ctx.tenant.flag(&ctx.platform.data.legacy.profile_flag) {
            hit = hit.related("the tenant has the legacy profile on", flag.loc.clone());
        }
        hits.push(hit);
    }
    hits
}
