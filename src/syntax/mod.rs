//! Spanned document trees: what JSON and YAML files parse into.
//!
//! Both export formats are read into the same [`Node`] tree, in which every value and every
//! object key keeps the byte span it came from. The model is built from these trees, so a finding
//! can point at the exact list entry, flag or field it is about. The parsers never panic, bound
//! nesting depth and alias expansion, and report every problem as a located [`SyntaxError`].

pub mod json;
mod json_fast;
pub mod keywords;
pub mod yaml;

use crate::source::Span;

/// Deepest nesting accepted in a JSON or YAML file. Real exports nest about ten levels; the
/// limit keeps hostile files from exhausting the stack in the parser, the model or `Drop`.
pub const MAX_DEPTH: usize = 128;

/// A value with the span of its text.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number as written, so nothing is lost to float rounding.
    Number(String),
    String(String),
    /// A keyword-replacement marker (`@@KEY@@`, or an unquoted `##KEY##` in YAML) standing for a
    /// whole value that a0deploy fills in at deploy time. Holds the key name.
    Keyword(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

/// One `key: value` pair of an object, with the key's own span.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// A problem found while parsing a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

/// A parsed file: the tree (when any could be built) and every problem found on the way.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    pub root: Option<Node>,
    pub errors: Vec<SyntaxError>,
}

impl Node {
    pub fn new(span: Span, value: Value) -> Node {
        Node { span, value }
    }

    /// The member `key` of an object (the last one, as `JSON.parse` and js-yaml keep it).
    pub fn member(&self, key: &str) -> Option<&Member> {
        match &self.value {
            Value::Object(members) => members.iter().rev().find(|m| m.key == key),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        self.member(key).map(|m| &m.value)
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A number written as a non-negative integer (`42`, not `4.2e1` or `-1`).
    pub fn as_u64(&self) -> Option<u64> {
        match &self.value {
            Value::Number(n) => n.parse().ok(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Array(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&[Member]> {
        match &self.value {
            Value::Object(members) => Some(members),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// The kind of value, as error messages name it.
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Keyword(_) => "an unresolved keyword",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        }
    }

    /// Follows an RFC 6901 JSON pointer from this node.
    pub fn pointer(&self, pointer: &str) -> Option<&Node> {
        if pointer.is_empty() {
            return Some(self);
        }
        let mut node = self;
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = unescape_pointer_token(token);
            node = match &node.value {
                Value::Object(_) => node.get(&token)?,
                Value::Array(items) => items.get(token.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// The value as plain JSON (spans dropped; a keyword becomes its `@@KEY@@` text).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => n
                .parse::<serde_json::Number>()
                .map(J::Number)
                .unwrap_or_else(|_| J::String(n.clone())),
            Value::String(s) => J::String(s.clone()),
            Value::Keyword(k) => J::String(format!("@@{k}@@")),
            Value::Array(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Object(members) => J::Object(
                members
                    .iter()
                    .map(|m| (m.key.clone(), m.value.to_json()))
                    .collect(),
            ),
        }
    }
}

/// Appends one reference token to a JSON pointer, escaping `~` and `/`.
pub fn pointer_join(base: &str, token: &str) -> String {
    let mut pointer = String::with_capacity(base.len() + 1 + token.len());
    pointer.push_str(base);
    pointer.push('/');
    if !token.contains(['~', '/']) {
        pointer.push_str(token);
        return pointer;
    }
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
    pointer
}

fn unescape_pointer_token(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_escape_and_resolve() {
        let root = json::parse(r#"{"a/b": [{"~x": 1}]}"#).root.unwrap();
        let ptr = pointer_join(&pointer_join(&pointer_join("", "a/b"), "0"), "~x");
        assert_eq!(ptr, "/a~1b/0/~0x");
        assert_eq!(root.pointer(&ptr).unwrap().value, Value::Number("1".into()));
    }
}
