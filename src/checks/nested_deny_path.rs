//! `nested-deny-path` (CL201): a deny-list entry that is a nested path.
//!
//! ### What it flags
//! Entries of a connection's `options.non_persistent_attrs` such as `address.street`,
//! `user_metadata.ssn` or `identities[0].x`. Auth0 denies root attributes only, so such an entry
//! denies nothing. `user.email` is read as prose for the root field `email`, and flagged with
//! that root as the fix. URL-shaped names (`http://schemas.xmlsoap.org/.../gender`) are how
//! upstream identity providers name root claims, and are not flagged.
//!
//! ### Options
//! `allow`: entries never flagged.

use serde::Deserialize;

use super::{Context, Hit, options};

#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    allow: Vec<String>,
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let mut hits = Vec::new();
    for connection in &ctx.tenant.connections {
        let Some(deny_list) = &connection.deny_list else {
            continue;
        };
        for entry in &deny_list.entries {
            if options.allow.contains(&entry.value) {
                continue;
            }
            if let Some(root) = nested_root(&entry.value) {
                let mut proof = super::sensitive_attribute_not_denied::storage_proof(ctx, connection, &root);
                let profile = crate::eval::profile::persisted(connection, ctx.platform, &[]);
                proof.shows = format!(
                    "the entry `{}` removes nothing from the profile stored for logins through `{}`: only root attributes are denied",
                    entry.value, connection.name
                );
                proof.profile = Some(profile);
                proof.statement = crate::proof::Statement::EntryRemovesNothing {
                    entry: entry.value.clone(),
                };
                hits.push(
                    Hit::at(entry.loc.clone())
                        .var("entry", entry.value.clone())
                        .var("root", root.clone())
                        .var("connection", connection.name.clone())
                        .subject("connection", &connection.name)
                        .attribute(&root)
                        .proof(proof),
                );
            }
        }
    }
    hits
}

/// The root attribute of a nested deny-list path; `None` for a root field or a URL-shaped name.
pub fn nested_root(entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry.contains("://") || entry.starts_with("urn:") {
        return None;
    }
    let path = entry.strip_prefix("user.").unwrap_or(entry);
    let nested = path.len() < entry.len() || path.contains(['.', '[']);
    if !nested {
        return None;
    }
    let root = crate::eval::pipeline::root_of(path);
    (!root.is_empty()).then(|| root.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::hits;

    #[test]
    fn recognises_nested_paths() {
        assert_eq!(nested_root("address.street").as_deref(), Some("address"));
        assert_eq!(nested_root("user.email").as_deref(), Some("email"));
        assert_eq!(
            nested_root("user.user_metadata.ssn").as_deref(),
            Some("user_metadata")
        );
        assert_eq!(
            nested_root("identities[0].profileData.x").as_deref(),
            Some("identities")
        );
        assert_eq!(nested_root("ethnicity"), None);
        assert_eq!(
            nested_root("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/gender"),
            None
        );
        assert_eq!(nested_root("https://acme.com/temporary_idtoken"), None);
        assert_eq!(nested_root("urn:oid:2.5.4.42"), None);
    }

    #[test]
    fn flags_nested_entries_in_both_formats() {
        let expected_pointer = "/options/non_persistent_attrs/1";
        for (form, file, line) in [
            ("directory", "connections/corp-saml.json", 7),
            ("yaml", "tenant.yaml", 9),
        ] {
            let found = hits(
                "nested-deny-path",
                form,
                "nested-deny-path",
                serde_json::json!({}),
            );
            let pointers: Vec<_> = found.iter().map(|h| h.2.as_str()).collect();
            assert_eq!(found.len(), 3, "{form}: {found:?}");
            assert_eq!(found[0].0, file, "{form}");
            assert!(
                pointers.iter().any(|p| p.ends_with(expected_pointer)),
                "{form}: {pointers:?}"
            );
            assert!(
                found
                    .iter()
                    .any(|h| h.1 == line && h.3.contains("entry=address.street root=address")),
                "{form}: {found:?}"
            );
        }
    }

    #[test]
    fn allowed_entries_and_missing_options_are_quiet() {
        let found = hits(
            "nested-deny-path",
            "directory",
            "nested-deny-path",
            serde_json::json!({ "allow": ["address.street", "user.email", "user_metadata.ssn"] }),
        );
        assert!(found.is_empty(), "{found:?}");
    }
}
