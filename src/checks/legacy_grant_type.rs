//! `legacy-grant-type` (CL304): legacy grant types on clients, and the tenant flags that keep
//! legacy endpoints open.
//!
//! ### What it flags
//! Every entry of a client's `grant_types` that starts with the platform model's legacy prefix
//! (`http://auth0.com/oauth/legacy/grant-type/`: resource owner `/oauth/ro`, delegation,
//! access-token exchange), and every tenant flag of `legacy.tenant_flags`
//! (`allow_legacy_delegation_grant_types`, `allow_legacy_ro_grant_types`,
//! `allow_legacy_tokeninfo_endpoint`) that is on. Both lists are data in
//! `policies/platform/auth0.yaml`.

use super::{Context, Hit};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let legacy = &ctx.platform.data.legacy;
    let mut hits = Vec::new();
    for client in &ctx.tenant.clients {
        for grant in &client.grant_types {
            if grant.value.starts_with(&legacy.grant_type_prefix) {
                let item = format!(
                    "client `{}` is granted the legacy grant type `{}`",
                    client.name, grant.value
                );
                hits.push(
                    Hit::at(grant.loc.clone())
                        .var("item", item)
                        .subject("client", &client.name),
                );
            }
        }
    }
    for name in &legacy.tenant_flags {
        if let Some(flag) = ctx.tenant.flag(name)
            && flag.value == Some(true)
        {
            let item = format!("tenant flag `{}` is on", flag.name);
            hits.push(
                Hit::at(flag.loc.clone())
                    .var("item", item)
                    .subject("tenant", "flags"),
            );
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;

    #[test]
    fn flags_legacy_grants_and_flags_in_both_formats() {
        for form in ["directory", "yaml"] {
            let found = hits(
                "legacy-grant-type",
                form,
                "legacy-grant-type",
                serde_json::json!({}),
            );
            let items: Vec<_> = found.iter().map(|h| h.3.as_str()).collect();
            assert_eq!(found.len(), 3, "{form}: {items:?}");
            assert!(
                items
                    .iter()
                    .any(|i| i.contains("legacy grant type `http://auth0.com/oauth/legacy/grant-type/ro`"))
            );
            assert!(
                items
                    .iter()
                    .any(|i| i.contains("tenant flag `allow_legacy_ro_grant_types` is on"))
            );
            assert!(!items.iter().any(|i| i.contains("jwt-bearer")), "{items:?}");
        }
    }
}
