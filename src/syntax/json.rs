//! JSON files of the directory format, parsed into spanned [`Node`] trees.
//!
//! Parsing is strict, like the `JSON.parse` a0deploy uses (no comments, no trailing commas). A
//! direct reader ([`super::json_fast`]) builds the tree of plain JSON; anything else goes to
//! `jsonc-parser`, which keeps the byte range of every value and key and words every error. Before parsing, one
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
    // Plain JSON with no bare marker (nearly every file) is read in one pass; with none, the
    // text needs no swapping, so a failed read goes straight to the full parser.
    let plain = find_markers(text).is_empty();
    if plain && let Some(root) = super::json_fast::parse(text, &HashSet::new()) {
        return Parsed {
            root: Some(root),
            errors: Vec::new(),
        };
    }
    let prepared = match prepare(text) {
        Ok(prepared) => prepared,
        Err(error) => {
            return Parsed {
                root: None,
                errors: vec![error],
            };
        }
    };
    let source = prepared.text.as_deref().unwrap_or(text);
    if !plain && let Some(root) = super::json_fast::parse(source, &prepared.placeholders) {
        return Parsed {
            root: Some(root),
            errors: Vec::new(),
        };
    }
    parse_fully(source, &prepared.placeholders)
}

/// Parses with `jsonc-parser`, which locates and words every error.
fn parse_fully(source: &str, placeholders: &HashSet<usize>) -> Parsed {
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
    match jsonc_parser::parse_to_ast(source, &CollectOptions::default(), &options) {
        Ok(result) => match result.value {
            Some(value) => Parsed {
                root: Some(convert(value, placeholders)),
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

    /// Both paths of one text: the fast reader's tree (if it reads the text) and the full
    /// parser's result.
    fn both(text: &str) -> (Option<Node>, Parsed) {
        let prepared = prepare(text).expect("within the depth bound");
        let source = prepared.text.as_deref().unwrap_or(text);
        (
            crate::syntax::json_fast::parse(source, &prepared.placeholders),
            parse_fully(source, &prepared.placeholders),
        )
    }

    fn agrees(text: &str) -> bool {
        match both(text) {
            (Some(fast), full) => full.errors.is_empty() && full.root.as_ref() == Some(&fast),
            (None, _) => true,
        }
    }

    #[test]
    fn the_fast_reader_builds_the_full_parsers_tree() {
        let texts = [
            r#"{"a": [true, false, null, -0, 1.5e+3, 2E-2, 10], "b": {}, "c": []}"#,
            "  {\n\t\"k\" :\r\n \"v\" }  ",
            r#"{"esc": "q\" b\\ s\/ \b\f\n\r\t \u00e9 \ud83d\ude00 é", "dup": 1, "dup": 2}"#,
            r##"{"a": @@ORIGINS@@, "b": "@@X@@", "c": "https://##H##/", "@@K@@": 1}"##,
            r#""just a string""#,
            "42",
        ];
        for text in texts {
            let (fast, full) = both(text);
            assert!(fast.is_some(), "{text:?} is plain JSON");
            assert_eq!(fast, full.root, "{text:?}");
        }
    }

    #[test]
    fn the_fast_reader_leaves_errors_to_the_full_parser() {
        for text in [
            "{\"a\": 1,}",
            "[1 2]",
            "{a: 1}",
            "{'a': 1}",
            "// c\n{}",
            "",
            "01",
            "1.",
            "-",
            "1e",
            "tru",
            "truex",
            "[1]x",
            "\u{feff}{}",
            "\"a\u{1}b\"",
            "\"\\ud800\"",
            "\"\\x\"",
            "{\"a\" 1}",
            "[,]",
            "\"open",
            "1.2.3",
            "{\"a\":1 \"b\":2}",
            "\u{a0}1",
        ] {
            let (fast, full) = both(text);
            assert!(fast.is_none(), "{text:?} should be left to the full parser");
            assert_eq!(parse(text).errors, full.errors, "{text:?}");
        }
    }

    #[test]
    fn the_fast_reader_agrees_on_every_fixture() {
        fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else if path.extension().is_some_and(|e| e == "json") {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"),
            &mut files,
        );
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"),
            &mut files,
        );
        assert!(files.len() > 100, "fixtures found: {}", files.len());
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            if prepare(&text).is_err() {
                continue;
            }
            assert!(agrees(&text), "{}", file.display());
        }
    }

    mod generated {
        use super::*;
        use proptest::prelude::*;

        fn value() -> impl Strategy<Value = serde_json::Value> {
            let leaf = prop_oneof![
                Just(serde_json::Value::Null),
                any::<bool>().prop_map(serde_json::Value::Bool),
                any::<i64>().prop_map(|n| serde_json::json!(n)),
                any::<f64>()
                    .prop_filter("finite", |f| f.is_finite())
                    .prop_map(|f| serde_json::json!(f)),
                "\\PC{0,12}".prop_map(serde_json::Value::String),
                "(@@|##)?[A-Z_]{0,4}(@@|##)?".prop_map(serde_json::Value::String),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                    prop::collection::vec(("\\PC{0,6}", inner), 0..6)
                        .prop_map(|members| serde_json::Value::Object(members.into_iter().collect())),
                ]
            })
        }

        proptest! {
            #[test]
            fn generated_documents_read_the_same(value in value(), pretty in any::<bool>()) {
                let text = if pretty {
                    serde_json::to_string_pretty(&value).unwrap()
                } else {
                    serde_json::to_string(&value).unwrap()
                };
                let (fast, full) = both(&text);
                prop_assert!(fast.is_some(), "{}", text);
                prop_assert_eq!(fast, full.root);
            }

            #[test]
            fn mangled_documents_read_the_same_or_fall_back(
                value in value(),
                cut in any::<prop::sample::Index>(),
                insert in prop::sample::select(vec!["", ",", "}", "]", "\"", "\\", "\u{1}", " x", "0", "\u{2028}", "@@A@@", ":"]),
            ) {
                let text = serde_json::to_string(&value).unwrap();
                let mut at = cut.index(text.len() + 1);
                while !text.is_char_boundary(at) {
                    at -= 1;
                }
                let mangled = format!("{}{}{}", &text[..at], insert, &text[at..]);
                prop_assert!(agrees(&mangled), "{}", mangled);
            }
        }
    }

    #[test]
    fn the_depth_bound_holds_on_the_fast_path() {
        let at_bound = "[".repeat(MAX_DEPTH) + &"]".repeat(MAX_DEPTH);
        assert!(parse(&at_bound).root.is_some());
        let deeper = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(crate::syntax::json_fast::parse(&deeper, &HashSet::new()).is_none());
        let parsed = parse(&deeper);
        assert!(parsed.root.is_none());
        assert!(parsed.errors[0].message.contains("nested deeper"));
    }

    #[test]
    fn brackets_inside_strings_do_not_count() {
        let text = format!("{{\"a\": \"{}\"}}", "[".repeat(1000));
        assert!(parse(&text).root.is_some());
    }
}
