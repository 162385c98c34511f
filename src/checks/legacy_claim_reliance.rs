//! `legacy-claim-reliance` (CL303): a claim that reaches a client only through the legacy
//! pipeline.
//!
//! ### What it flags
//! A non-namespaced ID-token claim kept only because the client is not OIDC-conformant and
//! the tenant has the legacy user profile on, and a root attribute of `user` a script sets
//! (`user.country = …`), which the legacy profile copies into such a client's ID token. The
//! check evaluates the same login twice, through the legacy pipeline and OIDC-conformant, and
//! reports the claim only when the second token lacks it. The proof is the OIDC-conformant
//! login's token: what the client gets once either condition goes away.

use super::{Context, Hit};
use crate::model::Loc;
use crate::proof::{Filter, Pipeline, Proof, Statement, TokenKind};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let Some(analysis) = ctx.analysis else {
        return Vec::new();
    };
    let mut hits = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for evaluation in analysis
        .ordered()
        .filter(|e| e.scenario.pipeline == Pipeline::Legacy)
    {
        let mut twin_scenario = evaluation.scenario.clone();
        twin_scenario.pipeline = Pipeline::OidcConformant;
        let mut twin = None;
        for entry in evaluation
            .trace_where(|filter, token| filter == Filter::LegacyProfile && token == TokenKind::IdToken)
        {
            let Some(file) = entry.source else { continue };
            if !evaluation.has(TokenKind::IdToken, &entry.claim)
                || !seen.insert((file, entry.span, entry.claim.clone()))
            {
                continue;
            }
            let conformant = twin.get_or_insert_with(|| {
                analysis.evaluate(ctx.tenant, ctx.scripts, ctx.platform, ctx.sources, &twin_scenario)
            });
            if conformant.has(TokenKind::IdToken, &entry.claim) {
                continue;
            }
            let claim = entry.claim.clone();
            let mut trace: Vec<_> = conformant
                .trace()
                .filter(|t| t.source == Some(file) && t.span == entry.span && t.claim == claim)
                .collect();
            trace.push(entry.clone());
            let shows = format!(
                "client `{}` gets claim `{claim}` only through the legacy pipeline; an OIDC-conformant login lacks it",
                evaluation.scenario.client
            );
            let statement = Statement::ClaimAbsent {
                token: TokenKind::IdToken,
                claim: claim.clone(),
            };
            let mut hit = Hit::at(Loc {
                file,
                span: entry.span,
                pointer: String::new(),
            })
            .var("claim", claim.clone())
            .var("client", evaluation.scenario.client.clone())
            .var("script", entry.script.to_string())
            .claim(&claim, TokenKind::IdToken)
            .subject("client", &evaluation.scenario.client)
            .proof(Proof::new(conformant, trace, shows, statement));
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
    }
    hits.sort_by_key(|h| (h.loc.file, h.loc.span.start));
    hits
}
