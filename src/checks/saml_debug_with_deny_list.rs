//! `saml-debug-with-deny-list` (CL203): a SAML connection in debug mode that has a deny list.
//!
//! ### What it flags
//! A connection whose strategy is in `strategies` (default `samlp`) with `options.debug: true`
//! and a non-empty `options.non_persistent_attrs`. In debug mode Auth0 logs the SAML assertion,
//! denied attributes included, so the values the deny list keeps out of the user store end up
//! in the tenant logs.

use serde::Deserialize;

use super::{Context, Hit, options};
use crate::syntax::pointer_join;

#[derive(Debug, Deserialize)]
struct Options {
    #[serde(default = "default_strategies")]
    strategies: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            strategies: default_strategies(),
        }
    }
}

fn default_strategies() -> Vec<String> {
    vec!["samlp".into()]
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let mut hits = Vec::new();
    for connection in &ctx.tenant.connections {
        let Some(strategy) = &connection.strategy else {
            continue;
        };
        if !options.strategies.contains(strategy) {
            continue;
        }
        let (Some(opts), Some(deny_list)) = (&connection.options, &connection.deny_list) else {
            continue;
        };
        if deny_list.entries.is_empty() {
            continue;
        }
        let Some(debug) = opts.get("debug").filter(|d| d.as_bool() == Some(true)) else {
            continue;
        };
        let loc = crate::model::Loc {
            file: connection.loc.file,
            span: debug.span,
            pointer: pointer_join(&pointer_join(&connection.loc.pointer, "options"), "debug"),
        };
        let attributes = deny_list
            .entries
            .iter()
            .map(|e| format!("`{}`", e.value))
            .collect::<Vec<_>>()
            .join(", ");
        hits.push(
            Hit::at(loc)
                .var("connection", connection.name.clone())
                .var("attributes", attributes)
                .subject("connection", &connection.name)
                .related("these attributes will appear in the logs", deny_list.loc.clone()),
        );
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::hits;

    #[test]
    fn flags_debug_saml_with_deny_list_in_both_formats() {
        for (form, file, line) in [
            ("directory", "connections/corp-saml.json", 5),
            ("yaml", "tenant.yaml", 7),
        ] {
            let found = hits(
                "saml-debug-with-deny-list",
                form,
                "saml-debug-with-deny-list",
                serde_json::json!({}),
            );
            assert_eq!(found.len(), 1, "{form}: {found:?}");
            assert_eq!((found[0].0.as_str(), found[0].1), (file, line), "{form}");
            assert!(found[0].2.ends_with("/options/debug"));
            assert!(found[0].3.contains("connection=corp-saml"));
        }
    }

    #[test]
    fn other_strategies_can_be_chosen() {
        let found = hits(
            "saml-debug-with-deny-list",
            "directory",
            "saml-debug-with-deny-list",
            serde_json::json!({ "strategies": ["adfs"] }),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].3.contains("connection=corp-adfs"));
    }
}
