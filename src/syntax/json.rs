//! JSON files of the directory format, parsed into spanned [`Node`] trees.
//!
//! Parsing is strict, like the `JSON.parse` a0deploy uses (no comments, no trailing commas), and
//! done by `jsonc-parser`, which keeps the byte range of every value and key. Before parsing, one
//! pass over the text rejects nesting deeper than [`MAX_DEPTH`] (so no input can exhaust the
//! stack) and swaps bare keyword markers for same-length string placeholders.

use std::collections::HashSet;

use jsonc_parser::ast;
use jsonc_parser::{CollectOptions, ParseOptions};

use super::keywords::{find_markers, whole_json_marker};
use super::{MAX_DEPTH, Member, Node, Parsed, SyntaxError, Value};
use crate::source::Span;

/// Parses one JSON document.
pub fn parse(text: &str) -> Parsed {
    let prepared = match prepare(text) {
        Ok(prepared) => prepared,
        Err(error) => {
            return Parsed {
                root: None,
                errors: vec![error],
            };
        }
    };
    let options = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let source = prepared.text.as_deref().unwrap_or(text);
    match jsonc_parser::parse_to_ast(source, &CollectOptions::default(), &options) {
        Ok(result) => match result.value {
            Some(value) => Parsed {
                root: Some(convert(value, &prepared.placeholders)),
                errors: Vec::new(),
            },
            None => Parsed {
                root: None,
                errors: vec![SyntaxError {
                    span: Span::empty(0),
                    message: "expected a JSON value, found an empty file".into(),
                }],
            },
        },
        Err(error) => {
            let range = error.range();
            Parsed {
                root: None,
                errors: vec![SyntaxError {
                    span: Span::new(range.start, range.end),
                    message: format!("invalid JSON: {}", describe(error.kind())),
                }],
            }
        }
    }
}

fn describe(kind: &jsonc_parser::errors::ParseErrorKind) -> String {
    let text = kind.to_string();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}

struct Prepared {
    /// The text with bare markers swapped, when there were any.
    text: Option<String>,
    /// Start offsets of the placeholder strings that stand for bare markers.
    placeholders: HashSet<usize>,
}

/// Checks nesting depth and swaps bare (unquoted) markers for `"@KEY@"` / `"#KEY#"`.
fn prepare(text: &str) -> Result<Prepared, SyntaxError> {
    let bytes = text.as_bytes();
    let markers = find_markers(text);
    let mut next_marker = markers.iter().peekable();
    let mut swapped: Option<Vec<u8>> = None;
    let mut placeholders = HashSet::new();
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'[' | b'{' => {
                    depth += 1;
                    if depth > MAX_DEPTH {
                        return Err(SyntaxError {
                            span: Span::new(i, i + 1),
                            message: format!(
                                "JSON nested deeper than {MAX_DEPTH} levels; an export never nests this deep"
                            ),
                        });
                    }
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        while next_marker.peek().is_some_and(|m| m.start < i) {
            next_marker.next();
        }
        if !in_string && let Some(marker) = next_marker.next_if(|m| m.start == i) {
            marker.quote_in(swapped.get_or_insert_with(|| bytes.to_vec()));
            placeholders.insert(marker.start);
            i = marker.end;
            continue;
        }
        i += 1;
    }
    Ok(Prepared {
        // Only ASCII bytes were swapped for ASCII bytes, so the text is still UTF-8.
        text: swapped.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        placeholders,
    })
}

fn span(range: jsonc_parser::common::Range) -> Span {
    Span::new(range.start, range.end)
}

fn convert(value: ast::Value<'_>, placeholders: &HashSet<usize>) -> Node {
    match value {
        ast::Value::StringLit(s) => {
            let text = s.value.into_owned();
            let value = if placeholders.contains(&s.range.start) {
                Value::Keyword(text.trim_matches(['@', '#']).to_string())
            } else if let Some(name) = whole_json_marker(&text) {
                Value::Keyword(name.to_string())
            } else {
                Value::String(text)
            };
            Node::new(span(s.range), value)
        }
        ast::Value::NumberLit(n) => Node::new(span(n.range), Value::Number(n.value.to_string())),
        ast::Value::BooleanLit(b) => Node::new(span(b.range), Value::Bool(b.value)),
        ast::Value::NullKeyword(n) => Node::new(span(n.range), Value::Null),
        ast::Value::Array(a) => Node::new(
            span(a.range),
            Value::Array(a.elements.into_iter().map(|v| convert(v, placeholders)).collect()),
        ),
        ast::Value::Object(o) => Node::new(
            span(o.range),
            Value::Object(
                o.properties
                    .into_iter()
                    .map(|p| {
                        let (key, key_span) = match p.name {
                            ast::ObjectPropName::String(s) => (s.value.into_owned(), span(s.range)),
                            ast::ObjectPropName::Word(w) => (w.value.to_string(), span(w.range)),
                        };
                        Member {
                            key,
                            key_span,
                            value: convert(p.value, placeholders),
                        }
                    })
                    .collect(),
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_spans_of_values_and_keys() {
        let text = r#"{"a": [true, "x"]}"#;
        let root = parse(text).root.unwrap();
        let member = root.member("a").unwrap();
        assert_eq!(
            &text[member.key_span.start as usize..member.key_span.end as usize],
            "\"a\""
        );
        let x = &member.value.as_array().unwrap()[1];
        assert_eq!(&text[x.span.start as usize..x.span.end as usize], "\"x\"");
    }

    #[test]
    fn bare_and_quoted_markers_become_keywords() {
        let text = r##"{"a": @@ORIGINS@@, "b": "@@X@@", "c": "https://##H##/"}"##;
        let root = parse(text).root.unwrap();
        assert_eq!(root.get("a").unwrap().value, Value::Keyword("ORIGINS".into()));
        assert_eq!(root.get("b").unwrap().value, Value::Keyword("X".into()));
        assert_eq!(root.get("c").unwrap().as_str(), Some("https://##H##/"));
        let a = root.get("a").unwrap().span;
        assert_eq!(&text[a.start as usize..a.end as usize], "@@ORIGINS@@");
    }

    #[test]
    fn strict_like_json_parse() {
        for bad in ["{\"a\": 1,}", "// c\n{}", "{'a': 1}", "{a: 1}", "", "[1 2]"] {
            let parsed = parse(bad);
            assert!(parsed.root.is_none(), "{bad:?} should not parse");
            assert_eq!(parsed.errors.len(), 1, "{bad:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000) + &"]".repeat(100_000);
        let parsed = parse(&text);
        assert!(parsed.root.is_none());
        assert_eq!(parsed.errors[0].span.start as usize, MAX_DEPTH);
        assert!(parsed.errors[0].message.contains("nested deeper"));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let text = format!("{{\"a\": \"{}\"}}", "[".repeat(1000));
        assert!(parse(&text).root.is_some());
    }
}
