//! `sensitive-attribute-not-denied` (CL202): a connection can receive a sensitive attribute
//! that its deny list does not hold.
//!
//! ### What it flags
//! For each connection exported with `options`, the attributes it can receive: its enterprise
//! mapping (`fieldsMap`, `attribute_map.attributes`), what its strategy delivers (the platform
//! model's `strategies`, including the attributes of option flags that are on, such as
//! Facebook's `user_birthday`), the profile its custom-database `login`/`get_user` scripts return, and,
//! for connections whose profiles are not a fixed list (enterprise and custom databases), the
//! attributes rules and actions read in logins through it. An attribute that matches the
//! policy's `attributes` (case- and separator-insensitively, on the last segment of URL-shaped
//! names) and is not on the deny list is flagged once, at the first place it comes from.
//! A connection exported without `options` says nothing about its deny list: nothing is guessed.

use serde::Deserialize;

use super::{Context, Hit, options};
use crate::model::{Connection, Loc};
use crate::proof::{Pipeline, Proof, Statement};
use crate::syntax::{Node, pointer_join};

#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    attributes: Vec<String>,
    #[serde(default)]
    r#match: Option<String>,
}

/// The comparable form of an attribute name.
fn normalise(name: &str, exact: bool) -> String {
    if exact {
        return name.to_string();
    }
    let last = if name.contains("://") || name.starts_with("urn:") {
        name.rsplit(['/', ':']).next().unwrap_or(name)
    } else {
        name
    };
    last.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

struct Source<'a> {
    attribute: String,
    loc: Loc,
    source: String,
    /// The login that reads the attribute and what it shows; the proof is built from it only
    /// for an attribute that is reported.
    read_in: Option<(&'a crate::eval::Evaluation, String)>,
}

/// One source for each of `attributes`, all written at `loc` and coming from `source` (what a
/// strategy delivers, an option flag).
fn push_each(out: &mut Vec<Source<'_>>, attributes: &[&String], loc: Loc, source: String) {
    for attribute in attributes {
        out.push(Source {
            attribute: (*attribute).clone(),
            loc: loc.clone(),
            source: source.clone(),
            read_in: None,
        });
    }
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let exact = options.r#match.as_deref() == Some("exact");
    let sensitive: Vec<(usize, String)> = options
        .attributes
        .iter()
        .enumerate()
        .map(|(i, a)| (i, normalise(a, exact)))
        .collect();
    // Connections are independent: checked on every core, reported in export order.
    let per_connection = |(index, connection): (usize, &Connection)| -> Vec<Hit> {
        let mut hits = Vec::new();
        let Some(opts) = &connection.options else {
            return hits;
        };
        let denied: Vec<String> = connection
            .deny_list
            .as_ref()
            .map(|d| d.entries.iter().map(|e| normalise(&e.value, exact)).collect())
            .unwrap_or_default();
        let mut reported: Vec<String> = Vec::new();
        // Only a sensitive attribute the deny list misses can be reported: nothing is built
        // for the others, and for most connections (none of whose attributes are) nothing at all.
        let reportable = |attribute: &str| {
            let key = normalise(attribute, exact);
            sensitive.iter().any(|(_, s)| *s == key) && !denied.contains(&key)
        };
        let found = sources(ctx, index, connection, opts, &reportable);
        if found.is_empty() {
            return hits;
        }
        // The stored profile a proof shows holds every attribute, sensitive or not.
        let extras: Vec<(String, String)> = sources(ctx, index, connection, opts, &|_| true)
            .into_iter()
            .map(|s| (s.attribute, s.source))
            .collect();
        let profile = crate::eval::profile::persisted(connection, ctx.platform, &extras);
        for source in found {
            let key = normalise(&source.attribute, exact);
            let Some((entry, _)) = sensitive.iter().find(|(_, s)| *s == key) else {
                continue;
            };
            if denied.contains(&key) || reported.contains(&key) {
                continue;
            }
            reported.push(key);
            let mut hit = Hit::at(source.loc)
                .var("attribute", source.attribute.clone())
                .var("connection", connection.name.clone())
                .var("source", source.source.clone())
                .subject("connection", &connection.name)
                .attribute(&source.attribute)
                .policy_entry(format!("/options/attributes/{entry}"));
            if let Some(deny_list) = &connection.deny_list {
                hit = hit.related("the deny list, which does not hold it", deny_list.loc.clone());
            }
            if profile.stored.contains_key(&source.attribute) {
                let mut proof = match source.read_in {
                    Some((evaluation, shows)) => Proof::new(
                        evaluation,
                        Vec::new(),
                        shows,
                        Statement::AttributeStored {
                            attribute: source.attribute.clone(),
                        },
                    ),
                    None => storage_proof(ctx, connection, &source.attribute),
                };
                proof.profile = Some(profile.clone());
                proof.shows = format!(
                    "the profile stored for logins through `{}` keeps `{}` ({})",
                    connection.name, source.attribute, source.source
                );
                proof.statement = Statement::AttributeStored {
                    attribute: source.attribute.clone(),
                };
                hit = hit.proof(proof);
            }
            hits.push(hit);
        }
        hits
    };
    use rayon::prelude::*;
    let hits: Vec<Vec<Hit>> = ctx
        .tenant
        .connections
        .par_iter()
        .enumerate()
        .map(per_connection)
        .collect();
    hits.into_iter().flatten().collect()
}

/// A storage proof's login: the first evaluated login through the connection, or a login
/// through it by any client.
pub(crate) fn storage_proof(ctx: &Context<'_>, connection: &Connection, attribute: &str) -> Proof {
    let scenario = crate::eval::storage_scenario(ctx.tenant, connection, ctx.platform);
    Proof {
        scenario,
        tokens: Default::default(),
        may: Default::default(),
        profile: None,
        trace: Vec::new(),
        shows: String::new(),
        statement: Statement::AttributeStored {
            attribute: attribute.to_string(),
        },
        tokens_pending: false,
        looked_at: None,
    }
}

/// Where a connection's attributes come from, most direct first.
/// Every attribute the `index`-th connection can receive, with where it comes from, as this
/// check finds them (what `claimlint fix` compares before and after a fix).
pub(crate) fn received(ctx: &Context<'_>, index: usize, connection: &Connection) -> Vec<(String, String)> {
    let Some(opts) = &connection.options else {
        return Vec::new();
    };
    sources(ctx, index, connection, opts, &|_| true)
        .into_iter()
        .map(|s| (s.attribute, s.source))
        .collect()
}

/// Those of them that `wanted` keeps, the others passed over before anything is built for them.
fn sources<'a>(
    ctx: &Context<'a>,
    index: usize,
    connection: &Connection,
    opts: &Node,
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<Source<'a>> {
    let mut out = Vec::new();
    let options_pointer = pointer_join(&connection.loc.pointer, "options");
    let strategy = connection.strategy.as_deref().unwrap_or("");
    let data = ctx.platform.strategy(strategy);
    let mapping = data.and_then(|d| d.mapping());
    for option in mapping.into_iter().chain(["fieldsMap"]) {
        let Some(map) = opts.get(option) else { continue };
        let map = match option {
            "attribute_map" => map.get("attributes"),
            _ => Some(map),
        };
        let members = map.and_then(Node::as_object).unwrap_or_default();
        let mut members = members.iter().filter(|m| wanted(&m.key)).peekable();
        if members.peek().is_none() {
            continue;
        }
        let pointer = match option {
            "attribute_map" => pointer_join(&pointer_join(&options_pointer, option), "attributes"),
            _ => pointer_join(&options_pointer, option),
        };
        for member in members {
            let loc = Loc {
                file: connection.loc.file,
                span: member.key_span,
                pointer: pointer_join(&pointer, &member.key),
            };
            let source = format!("the `{option}` mapping");
            out.push(Source {
                attribute: member.key.clone(),
                loc,
                source,
                read_in: None,
            });
        }
    }
    if let Some(data) = data {
        let delivered: Vec<&String> = data.delivers().iter().filter(|a| wanted(a)).collect();
        if !delivered.is_empty() {
            let loc = connection
                .node
                .get("strategy")
                .map_or(connection.loc.clone(), |n| Loc {
                    file: connection.loc.file,
                    span: n.span,
                    pointer: pointer_join(&connection.loc.pointer, "strategy"),
                });
            push_each(
                &mut out,
                &delivered,
                loc,
                format!("what `{strategy}` connections deliver"),
            );
        }
        // Attributes behind an option flag that is on (`user_birthday: true`).
        for (flag, attributes) in data.flags() {
            let Some(member) = opts.member(flag).filter(|m| m.value.as_bool() == Some(true)) else {
                continue;
            };
            let attributes: Vec<&String> = attributes.iter().filter(|a| wanted(a)).collect();
            if attributes.is_empty() {
                continue;
            }
            let loc = Loc {
                file: connection.loc.file,
                span: member.key_span,
                pointer: pointer_join(&options_pointer, flag),
            };
            push_each(
                &mut out,
                &attributes,
                loc,
                format!("the `{flag}` option of `{strategy}`"),
            );
        }
    }
    let profiles = ctx
        .analysis
        .map(|a| a.database_profiles(index, ctx.scripts))
        .unwrap_or_default();
    for (unit, profile) in profiles {
        for (attribute, span) in profile.iter().filter(|(a, _)| wanted(a)).cloned() {
            let loc = Loc {
                file: unit.file,
                span,
                pointer: String::new(),
            };
            out.push(Source {
                attribute,
                loc,
                source: format!("the profile the {} returns", unit.label()),
                read_in: None,
            });
        }
    }
    let open_profile = mapping.is_some() || data.is_none() || !connection.scripts.is_empty();
    if open_profile && let Some(analysis) = ctx.analysis {
        // Only the first place each attribute is read matters (the finding and the stored
        // profile both name the first source): later reads are passed over before anything
        // is built for them. Every login of a large export reads the same attributes.
        let mut read = std::collections::HashSet::new();
        // Logins that share their scripts' outcome read the same: only the first can add.
        let mut outcomes = std::collections::HashSet::new();
        for evaluation in analysis
            .by_connection(&connection.name)
            .filter(|e| e.scenario.pipeline == Pipeline::OidcConformant)
            .filter(|e| outcomes.insert(std::sync::Arc::as_ptr(&e.scripts)))
        {
            for (root, (_, file, span)) in evaluation.first_reads() {
                if matches!(root, "user_metadata" | "app_metadata") || !wanted(root) || !read.insert(root) {
                    continue;
                }
                let script = ctx.scripts.by_file(*file).map(|u| u.label()).unwrap_or_default();
                let shows = format!(
                    "{script} reads `user.{root}` in this login through `{}`",
                    connection.name
                );
                out.push(Source {
                    attribute: root.to_string(),
                    loc: Loc {
                        file: *file,
                        span: *span,
                        pointer: String::new(),
                    },
                    source: format!("{script}, which reads `user.{root}`"),
                    read_in: Some((evaluation, shows)),
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_loosely() {
        assert_eq!(normalise("Date_Of-Birth", false), "dateofbirth");
        assert_eq!(
            normalise(
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/gender",
                false
            ),
            "gender"
        );
        assert_eq!(normalise("urn:oid:ethnicity", false), "ethnicity");
        assert_eq!(normalise("Gender", true), "Gender");
    }

    #[test]
    fn only_the_attributes_asked_for_are_built() {
        crate::checks::test_support::with_context("sensitive-attribute-not-denied", "yaml", |ctx| {
            let mut every = 0;
            for (index, connection) in ctx.tenant.connections.iter().enumerate() {
                let Some(opts) = &connection.options else { continue };
                let all = sources(ctx, index, connection, opts, &|_| true);
                every += all.len();
                assert!(sources(ctx, index, connection, opts, &|_| false).is_empty());
                // Keeping one attribute keeps exactly its sources, in the same order.
                let Some(first) = all.first().map(|s| s.attribute.clone()) else {
                    continue;
                };
                let kept = sources(ctx, index, connection, opts, &|a| a == first);
                let expected: Vec<_> = all
                    .iter()
                    .filter(|s| s.attribute == first)
                    .map(|s| (&s.source, &s.loc))
                    .collect();
                let got: Vec<_> = kept.iter().map(|s| (&s.source, &s.loc)).collect();
                assert_eq!(got, expected, "{}", connection.name);
            }
            assert!(every > 5, "the fixture's connections receive attributes");
        });
    }

    #[test]
    fn a_proof_shows_the_whole_stored_profile_not_only_the_sensitive_part() {
        crate::checks::test_support::with_context("sensitive-attribute-not-denied", "yaml", |ctx| {
            let hits = crate::checks::test_support::raw_hits(
                ctx,
                "sensitive-attribute-not-denied",
                &serde_json::json!({"attributes": ["ssn", "medical", "date_of_birth", "birthday"]}),
            );
            let profiles: Vec<_> = hits
                .iter()
                .filter_map(|h| h.proof.as_ref()?.profile.as_ref())
                .collect();
            assert_eq!(
                profiles.len(),
                4,
                "each sensitive attribute stored is reported with its profile"
            );
            // `health_plan`, which a rule reads in logins through `legacy-db`, is not
            // sensitive, but Auth0 stores it all the same.
            let legacy = profiles
                .iter()
                .find(|p| p.connection == "legacy-db")
                .expect("`legacy-db` stores `ssn`");
            assert!(legacy.stored.contains_key("health_plan"), "{:?}", legacy.stored);
        });
    }
}
