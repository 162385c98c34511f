//! Management API request bodies for connections whose deny list a fix changes
//! (`claimlint fix --emit-patch DIR`).
//!
//! `PATCH /api/v2/connections/{id}` replaces the whole `options` object: a body holding only
//! `non_persistent_attrs` wipes every other option. So a body here always carries the **whole**
//! `options` object, as exported and fixed. a0deploy exports secrets masked or as keyword
//! markers; sending those back would overwrite the real values, so such a body is blocked until
//! `--keywords` supplies the values.

use serde::Serialize;

use crate::model::Connection;
use crate::syntax::keywords::has_marker;
use crate::syntax::{Node, Value, pointer_join};

/// What a0deploy writes in place of a secret it does not export.
const MASKS: [&str; 1] = ["_VALUE_NOT_SHOWN_"];

/// The environment variable the `curl` line reads the Management API token from.
pub const TOKEN_VARIABLE: &str = "AUTH0_MGMT_TOKEN";

/// One connection's update request.
#[derive(Debug, Clone, Serialize)]
pub struct PatchBody {
    pub connection: String,
    /// `<connection>.json`, the body's file name (the connection's name made safe as a file
    /// name).
    pub file: String,
    /// The request body (pretty JSON), when nothing blocks it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Why the body was not written: each masked value or keyword marker, by JSON pointer.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked: Vec<String>,
    /// The request, as a `curl` command line.
    pub curl: String,
    #[serde(skip)]
    url: String,
}

/// The update request for `connection`, with its options as they are now.
pub fn body_for(connection: &Connection) -> Option<PatchBody> {
    let options = connection.options.as_ref()?;
    let mut blocked = Vec::new();
    masked_values(options, "/options", &mut blocked);
    let file = format!("{}.json", crate::load::files::sanitize(&connection.name));
    let body = blocked.is_empty().then(|| {
        let mut text = String::from("{\n  \"options\": ");
        write_json(options, 1, &mut text);
        text.push_str("\n}\n");
        text
    });
    // An exported id is used only when it looks like one (`con_` and letters or digits).
    let id = connection
        .node
        .get("id")
        .and_then(Node::as_str)
        .filter(|id| {
            id.strip_prefix("con_")
                .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric()))
        })
        .map_or_else(|| "{connectionId}".to_string(), str::to_string);
    let mut patch = PatchBody {
        connection: connection.name.clone(),
        file,
        body,
        blocked,
        curl: String::new(),
        url: format!("https://{{yourDomain}}/api/v2/connections/{id}"),
    };
    patch.refile();
    Some(patch)
}

/// `node` as pretty JSON at nesting `level`, keys in the order the export has them.
fn write_json(node: &Node, level: usize, out: &mut String) {
    let quoted = |s: &str| serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into());
    let indent = |level: usize| "  ".repeat(level);
    match &node.value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        // As written; a number that is not JSON (YAML's `.inf`, `0x1F`) goes as a string.
        Value::Number(n) if serde_json::from_str::<serde_json::Number>(n).is_ok() => out.push_str(n),
        Value::Number(n) | Value::String(n) => out.push_str(&quoted(n)),
        Value::Keyword(key) => out.push_str(&quoted(&format!("@@{key}@@"))),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&indent(level + 1));
                write_json(item, level + 1, out);
            }
            out.push('\n');
            out.push_str(&indent(level));
            out.push(']');
        }
        Value::Object(members) if members.is_empty() => out.push_str("{}"),
        Value::Object(members) => {
            out.push('{');
            // A repeated key counts once, with its last value (as `JSON.parse` reads it).
            let kept: Vec<&crate::syntax::Member> = members
                .iter()
                .enumerate()
                .filter(|(i, m)| !members[i + 1..].iter().any(|later| later.key == m.key))
                .map(|(_, m)| m)
                .collect();
            for (i, member) in kept.iter().enumerate() {
                out.push_str(if i == 0 { "\n" } else { ",\n" });
                out.push_str(&indent(level + 1));
                out.push_str(&quoted(&member.key));
                out.push_str(": ");
                write_json(&member.value, level + 1, out);
            }
            out.push('\n');
            out.push_str(&indent(level));
            out.push('}');
        }
    }
}

/// `text` as one single-quoted shell word: nothing in a connection's name can end the quote.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

impl PatchBody {
    /// Writes the `curl` command for the body's file name (after the name changes).
    pub fn refile(&mut self) {
        self.curl = format!(
            "curl --fail --request PATCH --url {} --header \"authorization: Bearer ${TOKEN_VARIABLE}\" --header 'content-type: application/json' --data-binary @{}",
            shell_quoted(&self.url),
            shell_quoted(&self.file)
        );
    }

    /// `<connection>.sh`: the `curl` command as a script run from the body's folder.
    pub fn script_file(&self) -> String {
        match self.file.strip_suffix(".json") {
            Some(stem) => format!("{stem}.sh"),
            None => format!("{}.sh", self.file),
        }
    }

    /// The script: what it does, what to fill in, and the command.
    pub fn script(&self) -> String {
        format!(
            "#!/bin/sh\n\
             # Updates connection `{name}` with its whole `options` object ({file}): the Management\n\
             # API replaces `options`, it never merges them, so a partial body would wipe the rest.\n\
             # Fill in {{yourDomain}} and {{connectionId}} (GET /api/v2/connections?name={name}\n\
             # gives the id); the token (scope update:connections) is read from ${TOKEN_VARIABLE}.\n\
             set -eu\n\
             cd \"$(dirname \"$0\")\"\n\
             {curl}\n",
            name = self.connection.replace(|c: char| c.is_control(), " "),
            file = self.file,
            curl = self.curl,
        )
    }
}

/// Every value under `node` that a0deploy masked or left as a keyword marker.
fn masked_values(node: &Node, pointer: &str, out: &mut Vec<String>) {
    match &node.value {
        Value::Keyword(key) => out.push(format!("`{pointer}` is the keyword marker `@@{key}@@`")),
        Value::String(s) if MASKS.iter().any(|m| s.contains(m)) => {
            out.push(format!("`{pointer}` is masked in the export (`{s}`)"));
        }
        Value::String(s) if has_marker(s) => {
            out.push(format!("`{pointer}` holds a keyword marker (`{s}`)"));
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                masked_values(item, &format!("{pointer}/{i}"), out);
            }
        }
        Value::Object(members) => {
            for member in members {
                masked_values(&member.value, &pointer_join(pointer, &member.key), out);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_their_shell_quotes() {
        assert_eq!(shell_quoted("a'b"), "'a'\\''b'");
        let patch = PatchBody {
            connection: "x'; rm -rf ~; '\nnext".into(),
            file: "x'; rm -rf ~; '.json".into(),
            body: Some("{}".into()),
            blocked: Vec::new(),
            curl: format!("curl --data-binary @{}", shell_quoted("x'; rm -rf ~; '.json")),
            url: String::new(),
        };
        let script = patch.script();
        assert!(script.contains("@'x'\\''; rm -rf ~; '\\''.json'"), "{script}");
        // The name in the comment stays on its comment line.
        assert!(
            script.lines().all(|l| l.starts_with('#') || !l.contains("next")),
            "{script}"
        );
    }
}
