//! `duplicate-deny-entry` (CL206): a deny-list entry that repeats an earlier one.
//!
//! ### What it flags
//! An entry of a connection's `options.non_persistent_attrs` equal to an earlier entry of the
//! same list once surrounding whitespace is trimmed. Attribute names are case-sensitive, so
//! `Gender` does not repeat `gender`. The later entry is flagged, with the first one as a
//! related location; it denies nothing the first does not, so it is noise, not a leak. A nested
//! path (CL201's concern) is flagged here only when it is itself repeated.

use std::collections::HashMap;

use super::{Context, Hit};

pub fn run(ctx: &Context<'_>, _options: &serde_json::Value) -> Vec<Hit> {
    let mut hits = Vec::new();
    for connection in &ctx.tenant.connections {
        let Some(deny_list) = &connection.deny_list else {
            continue;
        };
        let mut first = HashMap::new();
        for entry in &deny_list.entries {
            let name = entry.value.trim();
            let Some(earlier) = first.get(name) else {
                first.insert(name, entry);
                continue;
            };
            hits.push(
                Hit::at(entry.loc.clone())
                    .var("entry", entry.value.clone())
                    .var("connection", connection.name.clone())
                    .subject("connection", &connection.name)
                    .attribute(name)
                    .related(format!("`{name}` is first listed here"), earlier.loc.clone()),
            );
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use crate::checks::test_support::{hits, raw_hits, with_context};

    #[test]
    fn repeated_entries_are_flagged_at_the_later_one_in_both_formats() {
        for form in ["directory", "yaml"] {
            let found = hits(
                "duplicate-deny-entry",
                form,
                "duplicate-deny-entry",
                serde_json::json!({}),
            );
            let described: Vec<(&str, &str)> = found.iter().map(|h| (h.2.as_str(), h.3.as_str())).collect();
            assert_eq!(found.len(), 3, "{form}: {described:?}");
            for (pointer, vars) in [
                (
                    "/options/non_persistent_attrs/2",
                    "entry=ssn connection=Username-Password-Authentication",
                ),
                (
                    "/options/non_persistent_attrs/3",
                    "entry= birthdate  connection=Username-Password-Authentication",
                ),
                (
                    "/options/non_persistent_attrs/4",
                    "entry=address.street connection=corp-saml",
                ),
            ] {
                assert!(
                    described.iter().any(|(p, v)| p.ends_with(pointer) && *v == vars),
                    "{form}: {pointer} {vars}: {described:?}"
                );
            }
        }
    }

    #[test]
    fn the_first_occurrence_is_related() {
        with_context("duplicate-deny-entry", "directory", |ctx| {
            for hit in raw_hits(ctx, "duplicate-deny-entry", &serde_json::json!({})) {
                assert_eq!(hit.related.len(), 1, "{hit:?}");
                let (label, first) = &hit.related[0];
                assert!(label.contains("first listed here"), "{label}");
                assert_eq!(first.file, hit.loc.file);
                assert!(first.span.start < hit.loc.span.start);
                assert_ne!(first.pointer, hit.loc.pointer);
            }
        });
    }

    #[test]
    fn case_differences_and_single_entries_are_quiet() {
        for form in ["pass-directory", "pass-yaml"] {
            let found = hits(
                "duplicate-deny-entry",
                form,
                "duplicate-deny-entry",
                serde_json::json!({}),
            );
            assert!(found.is_empty(), "{form}: {found:?}");
        }
    }
}
