//! YAML files (`tenant.yaml`, policy and config files) parsed into spanned [`Node`] trees.
//!
//! `saphyr-parser` produces events with positions and never panics on bad input; this module
//! builds the tree from them with an explicit stack. Nesting deeper than [`MAX_DEPTH`] and alias
//! expansion beyond [`MAX_ALIAS_NODES`] are errors, so alias bombs ("billion laughs") cost
//! bounded time and memory. Plain scalars are typed by the YAML 1.2 core schema, as js-yaml
//! (which a0deploy uses) types them; merge keys (`<<`) are honoured.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use saphyr_parser::{Event, Parser, ScalarStyle};

use super::keywords::{find_markers, whole_json_marker};
use super::{MAX_DEPTH, Member, Node, Parsed, SyntaxError, Value};
use crate::source::Span;

/// Most nodes that aliases may copy into one document.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// Most bytes of text (scalars and keys) that aliases may copy into one document: one large
/// scalar repeated by aliases passes the node count but not this.
pub const MAX_ALIAS_BYTES: usize = 16 << 20;

/// Parses one YAML document.
pub fn parse(text: &str) -> Parsed {
    let prepared = prepare(text);
    let source = prepared.text.as_deref().unwrap_or(text);
    let mut builder = Builder {
        offsets: CharOffsets::new(source),
        placeholders: &prepared.placeholders,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        alias_bytes: 0,
        root: None,
        documents: 0,
    };
    let mut parser = Parser::new_from_str(source);
    loop {
        let (event, span) = match parser.next_event() {
            None => break,
            Some(Ok(next)) => next,
            Some(Err(error)) => {
                let at = builder.offsets.byte(error.marker().index());
                return failed(at, format!("invalid YAML: {}", error.info()));
            }
        };
        let start = builder.offsets.byte(span.start.index());
        let end = builder.offsets.byte(span.end.index()).max(start);
        match builder.event(event, Span::new(start, end)) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                return Parsed {
                    root: None,
                    errors: vec![error],
                };
            }
        }
    }
    Parsed {
        root: Some(
            builder
                .root
                .unwrap_or_else(|| Node::new(Span::empty(0), Value::Null)),
        ),
        errors: Vec::new(),
    }
}

fn failed(at: usize, message: String) -> Parsed {
    Parsed {
        root: None,
        errors: vec![SyntaxError {
            span: Span::empty(at),
            message,
        }],
    }
}

/// Maps saphyr's character indices to byte offsets.
struct CharOffsets {
    /// `None` for ASCII text, where the two are the same.
    bytes: Option<Vec<usize>>,
    len: usize,
}

impl CharOffsets {
    fn new(text: &str) -> CharOffsets {
        let bytes = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
        CharOffsets {
            bytes,
            len: text.len(),
        }
    }

    fn byte(&self, char_index: usize) -> usize {
        match &self.bytes {
            None => char_index.min(self.len),
            Some(table) => table.get(char_index).copied().unwrap_or(self.len),
        }
    }
}

enum Frame {
    Sequence {
        start: usize,
        anchor: usize,
        items: Vec<Node>,
        size: usize,
    },
    Mapping {
        start: usize,
        anchor: usize,
        members: Vec<Member>,
        key: Option<(String, Span)>,
        size: usize,
    },
}

struct Builder<'a> {
    offsets: CharOffsets,
    placeholders: &'a HashSet<usize>,
    stack: Vec<Frame>,
    /// Anchored nodes with their size (in nodes), nesting depth and text bytes.
    anchors: HashMap<usize, (Node, usize, usize, usize)>,
    alias_nodes: usize,
    alias_bytes: usize,
    root: Option<Node>,
    documents: usize,
}

impl Builder<'_> {
    /// Takes one event; `Ok(false)` ends the parse.
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<bool, SyntaxError> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(SyntaxError {
                        span,
                        message: "expected one YAML document, found a second (`---`)".into(),
                    });
                }
            }
            Event::StreamEnd => return Ok(false),
            Event::Scalar(text, style, anchor, _) => {
                let node = self.scalar(text, style, span);
                self.remember(anchor, &node, 1);
                self.push(node, 1)?;
            }
            Event::Alias(id) => {
                let Some((node, size, depth, bytes)) = self.anchors.get(&id).cloned() else {
                    return Err(SyntaxError {
                        span,
                        message: "alias to an unknown anchor".into(),
                    });
                };
                if self.stack.len() + depth > MAX_DEPTH {
                    return Err(SyntaxError {
                        span,
                        message: format!(
                            "aliases nest values deeper than {MAX_DEPTH} levels; an export never nests this deep"
                        ),
                    });
                }
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(SyntaxError {
                        span,
                        message: format!(
                            "aliases expand to more than {MAX_ALIAS_NODES} values; refusing a likely alias bomb"
                        ),
                    });
                }
                self.alias_bytes += bytes;
                if self.alias_bytes > MAX_ALIAS_BYTES {
                    return Err(SyntaxError {
                        span,
                        message: format!(
                            "aliases copy more than {} MiB of text; refusing a likely alias bomb",
                            MAX_ALIAS_BYTES >> 20
                        ),
                    });
                }
                let node = Node::new(span, node.value);
                self.push(node, size)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(SyntaxError {
                        span,
                        message: format!(
                            "YAML nested deeper than {MAX_DEPTH} levels; an export never nests this deep"
                        ),
                    });
                }
                let start = span.start as usize;
                self.stack.push(if matches!(event, Event::SequenceStart(..)) {
                    Frame::Sequence {
                        start,
                        anchor,
                        items: Vec::new(),
                        size: 1,
                    }
                } else {
                    Frame::Mapping {
                        start,
                        anchor,
                        members: Vec::new(),
                        key: None,
                        size: 1,
                    }
                });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = self.stack.pop() else {
                    return Ok(true);
                };
                let (node, anchor, size) = match frame {
                    Frame::Sequence {
                        start,
                        anchor,
                        items,
                        size,
                    } => {
                        let end = items.last().map_or(span.end as usize, |n| n.span.end as usize);
                        (
                            Node::new(Span::new(start, end), Value::Array(items)),
                            anchor,
                            size,
                        )
                    }
                    Frame::Mapping {
                        start,
                        anchor,
                        members,
                        size,
                        ..
                    } => {
                        let end = members
                            .last()
                            .map_or(span.end as usize, |m| m.value.span.end as usize);
                        let members = merge_keys(members);
                        (
                            Node::new(Span::new(start, end), Value::Object(members)),
                            anchor,
                            size,
                        )
                    }
                };
                self.remember(anchor, &node, size);
                self.push(node, size)?;
            }
            Event::Nothing | Event::StreamStart | Event::DocumentEnd => {}
        }
        Ok(true)
    }

    fn remember(&mut self, anchor: usize, node: &Node, size: usize) {
        if anchor != 0 {
            let entry = (node.clone(), size, depth_of(node), bytes_of(node));
            self.anchors.insert(anchor, entry);
        }
    }

    fn push(&mut self, node: Node, node_size: usize) -> Result<(), SyntaxError> {
        match self.stack.last_mut() {
            None => {
                if self.root.is_none() {
                    self.root = Some(node);
                }
            }
            Some(Frame::Sequence { items, size, .. }) => {
                *size += node_size;
                items.push(node);
            }
            Some(Frame::Mapping {
                members, key, size, ..
            }) => {
                *size += node_size;
                match key.take() {
                    Some((name, key_span)) => members.push(Member {
                        key: name,
                        key_span,
                        value: node,
                    }),
                    None => {
                        let name = match &node.value {
                            Value::String(s) => s.clone(),
                            Value::Number(n) => n.clone(),
                            Value::Bool(b) => b.to_string(),
                            Value::Null => "null".into(),
                            Value::Keyword(k) => format!("@@{k}@@"),
                            Value::Array(_) | Value::Object(_) => {
                                return Err(SyntaxError {
                                    span: node.span,
                                    message:
                                        "expected a plain mapping key, found a list or mapping used as a key"
                                            .into(),
                                });
                            }
                        };
                        *key = Some((name, node.span));
                    }
                }
            }
        }
        Ok(())
    }

    fn scalar(&self, text: Cow<'_, str>, style: ScalarStyle, span: Span) -> Node {
        if self.placeholders.contains(&(span.start as usize)) {
            let name = text.trim_matches(['@', '#']).to_string();
            return Node::new(span, Value::Keyword(name));
        }
        if style != ScalarStyle::Plain {
            if let Some(name) = whole_json_marker(&text) {
                return Node::new(span, Value::Keyword(name.to_string()));
            }
            return Node::new(span, Value::String(text.into_owned()));
        }
        Node::new(span, plain_scalar(&text))
    }
}

/// How deep a node nests (0 for a scalar). Trees here never exceed [`MAX_DEPTH`], so the
/// recursion is bounded.
fn depth_of(node: &Node) -> usize {
    match &node.value {
        Value::Array(items) => 1 + items.iter().map(depth_of).max().unwrap_or(0),
        Value::Object(members) => 1 + members.iter().map(|m| depth_of(&m.value)).max().unwrap_or(0),
        _ => 0,
    }
}

/// Bytes of text in a node: its scalars and keys. Bounded recursion, as for [`depth_of`].
fn bytes_of(node: &Node) -> usize {
    match &node.value {
        Value::String(s) | Value::Number(s) | Value::Keyword(s) => s.len(),
        Value::Array(items) => items.iter().map(bytes_of).sum(),
        Value::Object(members) => members.iter().map(|m| m.key.len() + bytes_of(&m.value)).sum(),
        Value::Null | Value::Bool(_) => 0,
    }
}

/// Types a plain scalar by the YAML 1.2 core schema.
fn plain_scalar(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        _ if is_number(text) => Value::Number(text.to_string()),
        _ => Value::String(text.to_string()),
    }
}

fn is_number(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if let Some(hex) = digits.strip_prefix("0x") {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if let Some(oct) = digits.strip_prefix("0o") {
        return !oct.is_empty() && oct.bytes().all(|b| (b'0'..=b'7').contains(&b));
    }
    if matches!(digits, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let (mantissa, exponent) = match digits.find(['e', 'E']) {
        Some(i) => (&digits[..i], Some(&digits[i + 1..])),
        None => (digits, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (mantissa, None),
    };
    let int_ok = int.bytes().all(|b| b.is_ascii_digit());
    let frac_ok = frac.is_none_or(|f| f.bytes().all(|b| b.is_ascii_digit()));
    let has_digits = !int.is_empty() || frac.is_some_and(|f| !f.is_empty());
    let exp_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit())
    });
    int_ok && frac_ok && has_digits && exp_ok
}

/// Applies `<<` merge keys: merged members never override the mapping's own keys.
fn merge_keys(members: Vec<Member>) -> Vec<Member> {
    if !members.iter().any(|m| m.key == "<<") {
        return members;
    }
    let (merges, mut own): (Vec<Member>, Vec<Member>) = members.into_iter().partition(|m| m.key == "<<");
    for merge in merges {
        let sources = match merge.value.value {
            Value::Object(_) => vec![merge.value],
            Value::Array(items) => items,
            _ => Vec::new(),
        };
        for source in sources {
            if let Value::Object(inherited) = source.value {
                for member in inherited {
                    if !own.iter().any(|m| m.key == member.key) {
                        own.push(member);
                    }
                }
            }
        }
    }
    own
}

struct Prepared {
    text: Option<String>,
    placeholders: HashSet<usize>,
}

/// Swaps markers that stand in value position for same-length quoted placeholders:
/// `value: ##SECRET##` would otherwise be a comment, and `@@X@@` cannot start a plain scalar.
/// Markers inside quoted or plain scalars (`"https://##HOST##/"`) and in block scalars stay.
fn prepare(text: &str) -> Prepared {
    let markers = find_markers(text);
    if markers.is_empty() {
        return Prepared {
            text: None,
            placeholders: HashSet::new(),
        };
    }
    let mut bytes = text.as_bytes().to_vec();
    let mut placeholders = HashSet::new();
    let mut block_indent: Option<usize> = None;
    let mut markers = markers.into_iter().peekable();
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let line_end = line_start + line.len();
        let indent = line.len() - line.trim_start_matches(' ').len();
        let blank = line.trim().is_empty();
        if let Some(parent) = block_indent {
            if blank || indent > parent {
                while markers.peek().is_some_and(|m| m.start < line_end) {
                    markers.next();
                }
                line_start = line_end;
                continue;
            }
            block_indent = None;
        }
        while let Some(marker) = markers.next_if(|m| m.start < line_end) {
            let before = &line[..marker.start - line_start];
            if in_value_position(before) {
                marker.quote_in(&mut bytes);
                placeholders.insert(marker.start);
            }
        }
        if opens_block_scalar(line) {
            block_indent = Some(indent);
        }
        line_start = line_end;
    }
    Prepared {
        // Only ASCII bytes were swapped for ASCII bytes, so the text is still UTF-8.
        text: Some(String::from_utf8_lossy(&bytes).into_owned()),
        placeholders,
    }
}

/// Whether a marker preceded on its line by `before` starts a value outside any quotes.
fn in_value_position(before: &str) -> bool {
    let (mut single, mut double) = (false, false);
    let mut prev = ' ';
    for c in before.chars() {
        match c {
            '\'' if !double => single = !single,
            '"' if !single && prev != '\\' => double = !double,
            '#' if !single && !double && prev.is_whitespace() => return false,
            _ => {}
        }
        prev = c;
    }
    if single || double {
        return false;
    }
    let last = before.chars().last().unwrap_or(' ');
    let significant = before.trim_end().chars().last();
    (last.is_whitespace() || matches!(last, '[' | '{' | ','))
        && matches!(significant, Some(':' | '-' | '[' | '{' | ','))
}

fn opens_block_scalar(line: &str) -> bool {
    let content = line.trim_end();
    let indicator = content.trim_end_matches(|c: char| c == '-' || c == '+' || c.is_ascii_digit());
    (indicator.ends_with(": |")
        || indicator.ends_with(": >")
        || indicator.ends_with("- |")
        || indicator.ends_with("- >"))
        || indicator == "|"
        || indicator == ">"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(text: &str) -> Node {
        let parsed = parse(text);
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        parsed.root.unwrap()
    }

    #[test]
    fn spans_point_at_values_and_keys() {
        let text = "tenant:\n  flags:\n    enable_legacy_profile: true\n";
        let root = root(text);
        let member = root
            .pointer("/tenant/flags")
            .unwrap()
            .member("enable_legacy_profile")
            .unwrap();
        let key = &text[member.key_span.start as usize..member.key_span.end as usize];
        assert_eq!(key, "enable_legacy_profile");
        let value = &text[member.value.span.start as usize..member.value.span.end as usize];
        assert_eq!(value, "true");
        assert_eq!(member.value.value, Value::Bool(true));
    }

    #[test]
    fn spans_are_bytes_after_non_ascii_text() {
        let text = "name: \"Zoë\"\nx: 1\n";
        let node = root(text).get("x").cloned().unwrap();
        assert_eq!(&text[node.span.start as usize..node.span.end as usize], "1");
    }

    #[test]
    fn core_schema_typing() {
        let root = root("a: 1\nb: '1'\nc: ~\nd: yes\ne: 1.5e3\nf: False\n");
        assert_eq!(root.get("a").unwrap().value, Value::Number("1".into()));
        assert_eq!(root.get("b").unwrap().value, Value::String("1".into()));
        assert_eq!(root.get("c").unwrap().value, Value::Null);
        assert_eq!(root.get("d").unwrap().value, Value::String("yes".into()));
        assert_eq!(root.get("e").unwrap().value, Value::Number("1.5e3".into()));
        assert_eq!(root.get("f").unwrap().value, Value::Bool(false));
    }

    #[test]
    fn unquoted_markers_are_keywords_not_comments() {
        let text = "secret: ##JWT_SECRET##\nlist: [ \"a\", ##MORE## ]\nurl: \"https://##H##/\"\nenv: @@ENV@@\n# ##NOTE##\n";
        let root = root(text);
        assert_eq!(
            root.get("secret").unwrap().value,
            Value::Keyword("JWT_SECRET".into())
        );
        assert_eq!(
            root.get("list").unwrap().as_array().unwrap()[1].value,
            Value::Keyword("MORE".into())
        );
        assert_eq!(root.get("url").unwrap().as_str(), Some("https://##H##/"));
        assert_eq!(root.get("env").unwrap().value, Value::Keyword("ENV".into()));
    }

    #[test]
    fn markers_in_block_scalars_are_content() {
        let root = root("script: |\n  x = ##Y##;\nz: 1\n");
        assert_eq!(root.get("script").unwrap().as_str(), Some("x = ##Y##;\n"));
    }

    #[test]
    fn merge_keys_do_not_override() {
        let root = root("base: &b {a: 1, b: 2}\nx:\n  <<: *b\n  b: 3\n");
        let x = root.get("x").unwrap();
        assert_eq!(x.get("a").unwrap().value, Value::Number("1".into()));
        assert_eq!(x.get("b").unwrap().value, Value::Number("3".into()));
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let prev = i - 1;
            let refs = vec![format!("*a{prev}"); 9].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let parsed = parse(&text);
        assert!(parsed.root.is_none());
        assert!(
            parsed.errors[0].message.contains("alias bomb"),
            "{:?}",
            parsed.errors
        );
    }

    #[test]
    fn aliases_repeating_one_large_scalar_are_refused() {
        let big = "x".repeat(1 << 20);
        let text = format!("a: &a {big}\nb: [{}]\n", vec!["*a"; 40].join(", "));
        let parsed = parse(&text);
        assert!(parsed.root.is_none());
        assert!(
            parsed.errors[0].message.contains("MiB of text"),
            "{:?}",
            parsed.errors
        );
        // A few copies are fine.
        let text = format!("a: &a {big}\nb: [{}]\n", ["*a"; 4].join(", "));
        assert!(parse(&text).errors.is_empty());
    }

    #[test]
    fn aliases_cannot_nest_past_the_depth_limit() {
        let mut text = String::from("a0: &a0 [x]\n");
        for i in 1..40 {
            let open = "[".repeat(100);
            let close = "]".repeat(100);
            text.push_str(&format!("a{i}: &a{i} {open}*a{}{close}\n", i - 1));
        }
        let parsed = parse(&text);
        assert!(parsed.root.is_none());
        assert!(parsed.errors[0].message.contains("nest"), "{:?}", parsed.errors);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = "[".repeat(100_000);
        let parsed = parse(&text);
        assert!(parsed.root.is_none());
        assert_eq!(parsed.errors.len(), 1);
    }

    #[test]
    fn syntax_errors_are_located() {
        let text = "a: 1\nb: [1, 2\nc: 3\n";
        let parsed = parse(text);
        assert!(parsed.root.is_none());
        assert!(parsed.errors[0].message.starts_with("invalid YAML"));
    }

    #[test]
    fn a_second_document_is_an_error() {
        assert!(parse("a: 1\n---\nb: 2\n").root.is_none());
    }
}
