//! The fast path of [`super::json::parse`]: a strict JSON reader that builds [`Node`] trees
//! directly, for files that are plain RFC 8259 JSON (every export file a0deploy writes).
//!
//! It gives up (`None`) at the first thing it does not read exactly as the full parser would: a
//! syntax error, whitespace other than JSON's four, a control character or lone surrogate in a
//! string. The caller then parses the file again with `jsonc-parser`, which locates and words
//! the error; for every text it accepts, the tree is the one that parser's path builds (a test
//! compares the two on the fixtures and on generated documents).

use std::collections::HashSet;

use super::keywords::whole_json_marker;
use super::{MAX_DEPTH, Member, Node, Value};
use crate::source::Span;

/// The tree of `text`, or `None` when the full parser must decide (nesting deeper than
/// [`MAX_DEPTH`] included, which bounds the recursion). `placeholders` holds the start offsets
/// of strings that stand for bare keyword markers.
pub(super) fn parse(text: &str, placeholders: &HashSet<usize>) -> Option<Node> {
    let mut reader = Reader {
        bytes: text.as_bytes(),
        at: 0,
        depth: 0,
        placeholders,
    };
    reader.whitespace();
    let root = reader.value()?;
    reader.whitespace();
    (reader.at == reader.bytes.len()).then_some(root)
}

struct Reader<'t> {
    bytes: &'t [u8],
    at: usize,
    /// Arrays and objects open around the reader.
    depth: usize,
    placeholders: &'t HashSet<usize>,
}

impl Reader<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn value(&mut self) -> Option<Node> {
        let start = self.at;
        match self.peek()? {
            b'{' | b'[' if self.depth == MAX_DEPTH => None,
            b'{' => {
                self.depth += 1;
                let object = self.object();
                self.depth -= 1;
                object
            }
            b'[' => {
                self.depth += 1;
                let array = self.array();
                self.depth -= 1;
                array
            }
            b'"' => {
                let text = self.string()?;
                let value = if self.placeholders.contains(&start) {
                    Value::Keyword(text.trim_matches(['@', '#']).to_string())
                } else if let Some(name) = whole_json_marker(&text) {
                    Value::Keyword(name.to_string())
                } else {
                    Value::String(text)
                };
                Some(Node::new(Span::new(start, self.at), value))
            }
            b't' => self.literal(b"true", Value::Bool(true)),
            b'f' => self.literal(b"false", Value::Bool(false)),
            b'n' => self.literal(b"null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], value: Value) -> Option<Node> {
        let start = self.at;
        if !self.bytes[start..].starts_with(word) {
            return None;
        }
        self.at += word.len();
        // `truex` is a word the full parser reports.
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80)
        {
            return None;
        }
        Some(Node::new(Span::new(start, self.at), value))
    }

    fn digits(&mut self) -> usize {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        self.at - start
    }

    fn number(&mut self) -> Option<Node> {
        let start = self.at;
        if self.peek() == Some(b'-') {
            self.at += 1;
        }
        match self.peek()? {
            b'0' => self.at += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.at += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.at += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.at += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        // `01`, `1a`, `1.2.3`: left to the full parser.
        if self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b >= 0x80)
        {
            return None;
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        Some(Node::new(
            Span::new(start, self.at),
            Value::Number(text.to_string()),
        ))
    }

    /// A string's value; `self.at` is at its opening quote and ends after its closing one.
    fn string(&mut self) -> Option<String> {
        self.at += 1;
        let run_start = self.at;
        // Most strings have no escape: one copy of the bytes between the quotes.
        while let Some(b) = self.peek() {
            match b {
                b'"' => {
                    let text = std::str::from_utf8(&self.bytes[run_start..self.at]).ok()?;
                    self.at += 1;
                    return Some(text.to_string());
                }
                b'\\' => break,
                0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        let mut out: Vec<u8> = self.bytes[run_start..self.at].to_vec();
        loop {
            let b = self.peek()?;
            self.at += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                0..=0x1f => return None,
                b'\\' => {
                    let escape = self.peek()?;
                    self.at += 1;
                    let c = match escape {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode_escape()?,
                        _ => return None,
                    };
                    let mut buffer = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buffer).as_bytes());
                }
                _ => out.push(b),
            }
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let digits = self.bytes.get(self.at..self.at + 4)?;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.at += 4;
        u32::from_str_radix(text, 16).ok()
    }

    /// The character of `\uXXXX` (after the `u`), joining a surrogate pair; a lone surrogate is
    /// left to the full parser.
    fn unicode_escape(&mut self) -> Option<char> {
        let first = self.hex4()?;
        if (0xD800..0xDC00).contains(&first) {
            if self.bytes.get(self.at..self.at + 2) != Some(b"\\u") {
                return None;
            }
            self.at += 2;
            let second = self.hex4()?;
            if !(0xDC00..0xE000).contains(&second) {
                return None;
            }
            return char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00));
        }
        char::from_u32(first)
    }

    fn array(&mut self) -> Option<Node> {
        let start = self.at;
        self.at += 1;
        let mut items = Vec::new();
        self.whitespace();
        if self.peek() == Some(b']') {
            self.at += 1;
            return Some(Node::new(Span::new(start, self.at), Value::Array(items)));
        }
        loop {
            self.whitespace();
            items.push(self.value()?);
            self.whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b']' => {
                    self.at += 1;
                    return Some(Node::new(Span::new(start, self.at), Value::Array(items)));
                }
                _ => return None,
            }
        }
    }

    fn object(&mut self) -> Option<Node> {
        let start = self.at;
        self.at += 1;
        let mut members = Vec::new();
        self.whitespace();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Some(Node::new(Span::new(start, self.at), Value::Object(members)));
        }
        loop {
            self.whitespace();
            if self.peek()? != b'"' {
                return None;
            }
            let key_start = self.at;
            let key = self.string()?;
            let key_span = Span::new(key_start, self.at);
            self.whitespace();
            if self.peek()? != b':' {
                return None;
            }
            self.at += 1;
            self.whitespace();
            let value = self.value()?;
            members.push(Member { key, key_span, value });
            self.whitespace();
            match self.peek()? {
                b',' => self.at += 1,
                b'}' => {
                    self.at += 1;
                    return Some(Node::new(Span::new(start, self.at), Value::Object(members)));
                }
                _ => return None,
            }
        }
    }
}
