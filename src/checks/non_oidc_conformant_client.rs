//! `non-oidc-conformant-client` (CL302): a client with `oidc_conformant: false`.
//!
//! ### What it flags
//! Clients exported with the "OIDC Conformant" toggle off. Such a client can use the legacy
//! pipeline (non-namespaced claims with the legacy profile, `/oauth/ro`, delegation), so its
//! tokens change shape when the toggle is turned on or the legacy behaviour is retired. A
//! client without the field is not flagged: the export does not say.

use super::{Context, Hit};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    ctx.tenant
        .clients
        .iter()
        .filter_map(|client| {
            let conformant = client.oidc_conformant.as_ref()?;
            (!conformant.value).then(|| {
                Hit::at(conformant.loc.clone())
                    .var("client", client.name.clone())
                    .subject("client", &client.name)
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;

    #[test]
    fn flags_only_clients_with_the_toggle_off() {
        for (form, file, line) in [
            ("directory", "clients/Legacy Portal.json", 4),
            ("yaml", "tenant.yaml", 7),
        ] {
            let found = hits(
                "non-oidc-conformant-client",
                form,
                "non-oidc-conformant-client",
                serde_json::json!({}),
            );
            assert_eq!(found.len(), 1, "{form}: {found:?}");
            assert_eq!((found[0].0.as_str(), found[0].1), (file, line), "{form}");
            assert!(found[0].2.ends_with("/oidc_conformant"));
            assert_eq!(found[0].3, "client=Legacy Portal");
        }
    }
}
