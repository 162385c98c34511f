//! `value-match`: a generic check over the model, for policies written without Rust.
//!
//! ### What it does
//! `select` is a JSON-pointer-style path over the tenant with `*` matching any key or list index,
//! e.g. `/connections/*/options/non_persistent_attrs/*` or `/clients/*/oidc_conformant`. The
//! roots are `tenant` (tenant settings), `clients`, `connections` (databases included),
//! `resourceServers` and every other resource kind by its a0deploy YAML key (`roles`,
//! `emailTemplates`...). Each selected value must satisfy `pattern` (regex), `not_pattern`,
//! `enum` and `type`; with `required`/`forbidden`, the last segment of `select` must (not) exist
//! under each value selected by the segments before it. Every failure is one hit at the value.

use regex::Regex;
use serde::Deserialize;

use super::{Context, Hit, options};
use crate::model::Loc;
use crate::syntax::{Node, Value, pointer_join};

#[derive(Debug, Default, Deserialize)]
struct Options {
    #[serde(default)]
    select: String,
    pattern: Option<String>,
    not_pattern: Option<String>,
    #[serde(rename = "enum")]
    allowed: Option<Vec<serde_json::Value>>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    forbidden: bool,
    #[serde(rename = "type")]
    kind: Option<String>,
}

/// Problems with options that a schema cannot express (regexes that do not compile).
pub fn validate(raw: &serde_json::Value) -> Vec<(String, String)> {
    let options: Options = options(raw);
    let mut problems = Vec::new();
    for (key, pattern) in [
        ("pattern", &options.pattern),
        ("not_pattern", &options.not_pattern),
    ] {
        if let Some(pattern) = pattern
            && let Err(error) = Regex::new(pattern)
        {
            let reason = error
                .to_string()
                .lines()
                .last()
                .unwrap_or("invalid")
                .trim()
                .to_string();
            problems.push((
                format!("/options/{key}"),
                format!("`{key}` is not a valid regular expression: {reason}"),
            ));
        }
    }
    if !options.select.starts_with('/') {
        problems.push((
            "/options/select".into(),
            "`select` must start with `/`, e.g. `/clients/*/app_type`".into(),
        ));
    }
    problems
}

/// A selected value and where it is.
struct Selected<'a> {
    node: &'a Node,
    loc: Loc,
}

fn roots<'a>(ctx: &'a Context<'a>, kind: &str) -> Vec<Selected<'a>> {
    let tenant = ctx.tenant;
    let pick = |node: &'a Node, loc: &Loc| Selected {
        node,
        loc: loc.clone(),
    };
    match kind {
        "tenant" => tenant.settings.iter().map(|s| pick(&s.node, &s.loc)).collect(),
        "clients" => tenant.clients.iter().map(|c| pick(&c.node, &c.loc)).collect(),
        "connections" => tenant.connections.iter().map(|c| pick(&c.node, &c.loc)).collect(),
        "resourceServers" => tenant
            .resource_servers
            .iter()
            .map(|r| pick(&r.node, &r.loc))
            .collect(),
        other => tenant
            .other
            .iter()
            .filter(|o| o.kind == other)
            .map(|o| pick(&o.node, &o.loc))
            .collect(),
    }
}

fn children<'a>(selected: &Selected<'a>, segment: &str) -> Vec<Selected<'a>> {
    let child = |node: &'a Node, key: &str| Selected {
        node,
        loc: Loc {
            file: selected.loc.file,
            span: node.span,
            pointer: pointer_join(&selected.loc.pointer, key),
        },
    };
    match &selected.node.value {
        Value::Object(members) => members
            .iter()
            .filter(|m| segment == "*" || m.key == segment)
            .map(|m| child(&m.value, &m.key))
            .collect(),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .filter(|(i, _)| segment == "*" || segment == i.to_string())
            .map(|(i, item)| child(item, &i.to_string()))
            .collect(),
        _ => Vec::new(),
    }
}

fn select<'a>(ctx: &'a Context<'a>, segments: &[String]) -> Vec<Selected<'a>> {
    let Some((root, rest)) = segments.split_first() else {
        return Vec::new();
    };
    // The root segment names a resource kind; for lists, the next segment picks items.
    let is_list = root != "tenant";
    let mut current = roots(ctx, root);
    let mut rest = rest;
    if is_list {
        let Some((item, tail)) = rest.split_first() else {
            return current;
        };
        if item != "*" {
            current = match item.parse::<usize>() {
                Ok(i) => current.into_iter().nth(i).into_iter().collect(),
                Err(_) => current
                    .into_iter()
                    .filter(|s| s.node.get("name").and_then(Node::as_str) == Some(item))
                    .collect(),
            };
        }
        rest = tail;
    }
    for segment in rest {
        current = current.iter().flat_map(|s| children(s, segment)).collect();
    }
    current
}

fn segments(select: &str) -> Vec<String> {
    select
        .trim_start_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

fn type_of(node: &Node) -> &'static str {
    match node.value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) | Value::Keyword(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn shown(node: &Node) -> String {
    match &node.value {
        Value::String(s) => s.clone(),
        _ => node.to_json().to_string(),
    }
}

/// Whether a policy with these options reads the values of resources of `kind` (`clients`...).
pub fn reads_resource(raw: &serde_json::Value, kind: &str) -> bool {
    let options: Options = options(raw);
    segments(&options.select)
        .first()
        .is_some_and(|first| first == kind)
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let segments = segments(&options.select);
    let mut hits = Vec::new();
    let hit = |selected: &Selected<'_>, problem: String| {
        Hit::at(selected.loc.clone())
            .var("value", shown(selected.node))
            .var("pointer", selected.loc.pointer.clone())
            .var("problem", problem)
    };
    if options.required || options.forbidden {
        let (parents, last) = segments.split_at(segments.len().saturating_sub(1));
        let Some(last) = last.first() else { return hits };
        for parent in select(ctx, parents) {
            let found = children(&parent, last);
            if options.required && found.is_empty() {
                hits.push(hit(&parent, format!("`{last}` is missing")));
            }
            if options.forbidden {
                hits.extend(found.iter().map(|f| hit(f, format!("`{last}` is not allowed"))));
            }
        }
    }
    let pattern = options.pattern.as_deref().and_then(|p| Regex::new(p).ok());
    let not_pattern = options.not_pattern.as_deref().and_then(|p| Regex::new(p).ok());
    if pattern.is_none() && not_pattern.is_none() && options.allowed.is_none() && options.kind.is_none() {
        return hits;
    }
    for selected in select(ctx, &segments) {
        // A keyword marker is filled in at deploy time: nothing can be said of its value.
        if matches!(selected.node.value, Value::Keyword(_)) {
            continue;
        }
        let text = matches!(
            selected.node.value,
            Value::String(_) | Value::Number(_) | Value::Bool(_)
        )
        .then(|| shown(selected.node));
        if let (Some(re), Some(text)) = (&pattern, &text)
            && !re.is_match(text)
        {
            hits.push(hit(&selected, format!("does not match `{}`", re.as_str())));
        }
        if let (Some(re), Some(text)) = (&not_pattern, &text)
            && re.is_match(text)
        {
            hits.push(hit(&selected, format!("matches `{}`", re.as_str())));
        }
        if let Some(allowed) = &options.allowed
            && !allowed.contains(&selected.node.to_json())
        {
            let list = allowed
                .iter()
                .map(|v| v.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            hits.push(hit(&selected, format!("is not one of {list}")));
        }
        if let Some(kind) = &options.kind
            && type_of(selected.node) != kind
        {
            hits.push(hit(
                &selected,
                format!("is {}, not {kind}", type_of(selected.node)),
            ));
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::hits;
    use serde_json::json;

    #[test]
    fn patterns_apply_to_every_selected_value() {
        for form in ["directory", "yaml"] {
            let found = hits(
                "value-match",
                form,
                "value-match",
                json!({ "select": "/connections/*/options/non_persistent_attrs/*", "pattern": "^[a-z_]+$" }),
            );
            let values: Vec<_> = found
                .iter()
                .map(|h| h.3.split(' ').next().unwrap_or("").to_string())
                .collect();
            assert_eq!(values, ["value=address.street"], "{form}: {found:?}");
        }
    }

    #[test]
    fn required_and_forbidden_look_under_each_parent() {
        let missing = hits(
            "value-match",
            "directory",
            "value-match",
            json!({ "select": "/clients/*/app_type", "required": true }),
        );
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].3.contains("`app_type` is missing"));
        let forbidden = hits(
            "value-match",
            "yaml",
            "value-match",
            json!({ "select": "/tenant/flags/enable_legacy_profile", "forbidden": true }),
        );
        assert_eq!(forbidden.len(), 1, "{forbidden:?}");
    }

    #[test]
    fn enum_and_type() {
        let found = hits(
            "value-match",
            "directory",
            "value-match",
            json!({ "select": "/clients/*/app_type", "enum": ["spa"] }),
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].3.contains("value=regular_web"));
        let typed = hits(
            "value-match",
            "directory",
            "value-match",
            json!({ "select": "/clients/*/app_type", "type": "number" }),
        );
        assert_eq!(typed.len(), 2, "{typed:?}");
        let booleans = hits(
            "value-match",
            "yaml",
            "value-match",
            json!({ "select": "/tenant/flags/*", "type": "boolean" }),
        );
        assert!(booleans.is_empty());
    }

    #[test]
    fn bad_regexes_are_reported_at_the_option() {
        let problems = validate(&json!({ "select": "/clients", "pattern": "(" }));
        assert_eq!(problems[0].0, "/options/pattern");
        assert!(
            validate(&json!({ "select": "clients", "type": "string" }))[0]
                .1
                .contains("must start with `/`")
        );
    }
}
