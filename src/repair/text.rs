//! Edits to JSON and YAML text that leave everything around them as it was: key order,
//! indentation, quoting style, comments and line endings.
//!
//! The edits work from the spans the parsers keep ([`crate::syntax::Node`]): a list entry is
//! removed with its separator (or its whole line, in a YAML block sequence), replaced in the
//! quoting style it was written in, or appended after the last entry with that entry's
//! indentation. Anything laid out in a way these rules do not cover gets no edit (`None`), so a
//! fix is never applied to text it does not understand.

use crate::source::Span;
use crate::syntax::Node;

/// A replacement of `span` in one file's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextEdit {
    pub span: Span,
    pub content: String,
}

/// The file format a value is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Syntax {
    Json,
    Yaml,
}

impl Syntax {
    /// By file name: `.json` is JSON, anything else an export holds (`.yaml`, `.yml`) YAML.
    pub fn of(path: &str) -> Syntax {
        if path.to_ascii_lowercase().ends_with(".json") {
            Syntax::Json
        } else {
            Syntax::Yaml
        }
    }
}

/// A list of strings as written in a file.
pub struct ListText<'a> {
    pub text: &'a str,
    pub syntax: Syntax,
    /// The list's own span (for a YAML block sequence, from its first `-`).
    pub list: Span,
    pub items: Vec<Span>,
}

impl ListText<'_> {
    fn slice(&self, span: Span) -> &str {
        self.text
            .get(span.start as usize..span.end as usize)
            .unwrap_or("")
    }

    /// A YAML block sequence (`- a` lines, the dashes indented or not) rather than a flow one
    /// (`[a, b]`) or JSON.
    fn is_block(&self) -> bool {
        self.syntax == Syntax::Yaml
            && (self.slice(self.list).trim_start().starts_with('-')
                || self
                    .items
                    .first()
                    .is_some_and(|&i| dash_before(self.text, i).is_some()))
    }

    /// The whole line of a flow-list entry that has a line to itself (with its comma and, in
    /// YAML, a comment): `[start, end)` past the line break.
    fn own_line(&self, item: Span) -> Option<(usize, usize)> {
        let start = line_start(self.text, item.start as usize);
        let end = line_end_with_newline(self.text, item.end as usize);
        let before = &self.text[start..item.start as usize];
        let after = self.text[item.end as usize..end].trim();
        let after = after.strip_prefix(',').unwrap_or(after).trim_start();
        let alone = before.chars().all(|c| c == ' ' || c == '\t')
            && (after.is_empty() || (self.syntax == Syntax::Yaml && after.starts_with('#')));
        alone.then_some((start, end))
    }

    /// Removes entry `index`; never the last one left (that would leave an empty or null list,
    /// which a fix never means to write). Comments on other entries' lines stay where they are.
    pub fn remove(&self, index: usize) -> Option<Vec<TextEdit>> {
        let item = *self.items.get(index)?;
        if self.items.len() < 2 {
            return None;
        }
        let delete = |start: usize, end: usize| TextEdit {
            span: Span::new(start, end),
            content: String::new(),
        };
        if self.is_block() {
            let dash = dash_before(self.text, item)?;
            let start = line_start(self.text, dash);
            let end = line_end_with_newline(self.text, item.end as usize);
            return Some(vec![delete(start, end)]);
        }
        // A flow list written one entry per line loses the entry's line, and, for the last
        // entry, the comma after the one before it.
        if let Some((start, end)) = self.own_line(item) {
            let Some(&previous) = index.checked_sub(1).and_then(|i| self.items.get(i)) else {
                return Some(vec![delete(start, end)]);
            };
            if self.items.get(index + 1).is_some() {
                return Some(vec![delete(start, end)]);
            }
            let gap = &self.text[previous.end as usize..];
            let comma = previous.end as usize + gap.len() - gap.trim_start_matches([' ', '\t']).len();
            if self.text.as_bytes().get(comma) == Some(&b',') && comma < start {
                return Some(vec![delete(comma, comma + 1), delete(start, end)]);
            }
            return None;
        }
        // Otherwise an entry goes with the separator after it, or, the last one, with the
        // separator before it.
        let span = match self.items.get(index + 1) {
            Some(next) => Span::new(item.start as usize, next.start as usize),
            None => Span::new(self.items[index - 1].end as usize, item.end as usize),
        };
        let between = self.slice(span);
        if !between.contains(',') || between.contains('#') || between.contains("//") {
            return None;
        }
        Some(vec![delete(span.start as usize, span.end as usize)])
    }

    /// Replaces entry `index` with `value`, quoted as the entry was.
    pub fn replace(&self, index: usize, value: &str) -> Option<TextEdit> {
        let item = *self.items.get(index)?;
        Some(TextEdit {
            span: item,
            content: render_string(value, self.syntax, Some(self.slice(item))),
        })
    }

    /// Appends `value` after the last entry, laid out as that entry is.
    pub fn append(&self, value: &str) -> Option<TextEdit> {
        let like = self.items.last().map(|&i| self.slice(i));
        let rendered = render_string(value, self.syntax, like);
        let Some(&last) = self.items.last() else {
            // An empty flow list, `[]`: the value goes inside the brackets.
            let open = self.list.start as usize;
            if self.text.as_bytes().get(open) != Some(&b'[') {
                return None;
            }
            return Some(TextEdit {
                span: Span::empty(open + 1),
                content: rendered,
            });
        };
        if self.is_block() {
            let dash = dash_before(self.text, last)?;
            let start = line_start(self.text, dash);
            let indent = &self.text[start..dash];
            let end = line_end_with_newline(self.text, last.end as usize);
            let newline = line_ending(self.text);
            let (lead, tail) = if self.text[..end].ends_with('\n') {
                ("", newline)
            } else {
                (newline, "")
            };
            return Some(TextEdit {
                span: Span::empty(end),
                content: format!("{lead}{indent}- {rendered}{tail}"),
            });
        }
        let before = match self.items.len() {
            1 => self.list.start as usize,
            n => self.items[n - 2].end as usize,
        };
        let gap = self.text.get(before..last.start as usize)?;
        let content = if gap.contains('\n') {
            let start = line_start(self.text, last.start as usize);
            let indent = &self.text[start..last.start as usize];
            if !indent.chars().all(|c| c == ' ' || c == '\t') {
                return None;
            }
            format!(",{}{indent}{rendered}", line_ending(self.text))
        } else {
            format!(", {rendered}")
        };
        Some(TextEdit {
            span: Span::empty(last.end as usize),
            content,
        })
    }
}

/// Adds `key: [value]` as the first member of the object `node` (a mapping written in `text`).
/// `None` for an object laid out in a way this does not handle.
pub fn insert_list_member(
    text: &str,
    syntax: Syntax,
    node: &Node,
    key: &str,
    value: &str,
) -> Option<TextEdit> {
    let members = node.as_object()?;
    let span = node.span;
    let starts_flow = text.as_bytes().get(span.start as usize) == Some(&b'{');
    let key_text = match syntax {
        Syntax::Json => serde_json::to_string(key).ok()?,
        Syntax::Yaml => render_string(key, syntax, None),
    };
    let first = members.first();
    if starts_flow {
        let entry = format!(
            "{key_text}: [{}]",
            render_string(value, syntax, first.map(|m| member_value_text(text, m)))
        );
        let Some(first) = first else {
            return Some(TextEdit {
                span: Span::empty(span.start as usize + 1),
                content: entry,
            });
        };
        let gap = text.get(span.start as usize + 1..first.key_span.start as usize)?;
        if !gap.chars().all(char::is_whitespace) {
            return None;
        }
        let separator = if gap.contains('\n') {
            let start = line_start(text, first.key_span.start as usize);
            format!(
                "{}{}",
                line_ending(text),
                &text[start..first.key_span.start as usize]
            )
        } else {
            " ".to_string()
        };
        return Some(TextEdit {
            span: Span::empty(first.key_span.start as usize),
            content: format!("{entry},{separator}"),
        });
    }
    // A YAML block mapping: a new first key at the first key's indentation.
    let first = first?;
    let start = line_start(text, first.key_span.start as usize);
    let indent = &text[start..first.key_span.start as usize];
    if syntax != Syntax::Yaml || !indent.chars().all(|c| c == ' ') {
        return None;
    }
    let newline = line_ending(text);
    Some(TextEdit {
        span: Span::empty(start),
        content: format!(
            "{indent}{key_text}:{newline}{indent}  - {}{newline}",
            render_string(value, syntax, None)
        ),
    })
}

fn member_value_text<'t>(text: &'t str, member: &crate::syntax::Member) -> &'t str {
    text.get(member.value.span.start as usize..member.value.span.end as usize)
        .unwrap_or("")
}

/// `value` as a string literal of `syntax`, quoted as `like` (a neighbouring literal) is.
pub fn render_string(value: &str, syntax: Syntax, like: Option<&str>) -> String {
    let double = || serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\""));
    if syntax == Syntax::Json {
        return double();
    }
    match like.and_then(|l| l.chars().next()) {
        Some('"') => double(),
        Some('\'') => format!("'{}'", value.replace('\'', "''")),
        _ if plain_yaml_safe(value) => value.to_string(),
        _ => double(),
    }
}

/// Whether `value` reads back as the same string when written as a plain YAML scalar, in block
/// and flow context alike.
fn plain_yaml_safe(value: &str) -> bool {
    let mut chars = value.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    let reserved = [
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf",
    ];
    first_ok && rest_ok && !reserved.contains(&value.to_ascii_lowercase().as_str())
}

/// Where the `-` of a block sequence entry is: before `item`, past spaces only.
fn dash_before(text: &str, item: Span) -> Option<usize> {
    let before = text.get(..item.start as usize)?;
    let trimmed = before.trim_end_matches([' ', '\t']);
    let dash = trimmed.len().checked_sub(1)?;
    if trimmed.as_bytes()[dash] != b'-' {
        return None;
    }
    // Only spaces between the line's start and the dash: one entry per line.
    let start = line_start(text, dash);
    text[start..dash].chars().all(|c| c == ' ').then_some(dash)
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// The end of the line holding `at`, past its line break (the text's end on its last line).
fn line_end_with_newline(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

/// The file's line break: `\r\n` when its first line ends so, else `\n`.
pub fn line_ending(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

/// Whether `span` lies in `text` on character boundaries: every span a fix starts from is
/// checked, so no slice taken from it can panic.
pub fn in_text(text: &str, span: Span) -> bool {
    let (start, end) = (span.start as usize, span.end as usize);
    start <= end && text.is_char_boundary(start) && text.is_char_boundary(end)
}

/// `text` with `edits` (non-overlapping, any order) applied.
pub fn apply(text: &str, edits: &[TextEdit]) -> String {
    let mut sorted: Vec<&TextEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.span.start, e.span.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        let (start, end) = (edit.span.start as usize, edit.span.end as usize);
        if start < at || end > text.len() {
            continue;
        }
        out.push_str(&text[at..start]);
        out.push_str(&edit.content);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::{json, yaml};

    fn list_in(text: &str, syntax: Syntax, pointer: &str) -> ListText<'static> {
        let text: &'static str = Box::leak(text.to_string().into_boxed_str());
        let parsed = match syntax {
            Syntax::Json => json::parse(text),
            Syntax::Yaml => yaml::parse(text),
        };
        let root = parsed.root.unwrap();
        let node = root.pointer(pointer).unwrap();
        ListText {
            text,
            syntax,
            list: node.span,
            items: node.as_array().unwrap().iter().map(|n| n.span).collect(),
        }
    }

    fn edited(list: &ListText<'_>, edit: Option<TextEdit>) -> String {
        apply(list.text, &[edit.unwrap()])
    }

    fn removed(list: &ListText<'_>, index: usize) -> String {
        apply(list.text, &list.remove(index).unwrap())
    }

    const YAML: &str = "options:\n  # the deny list\n  attrs:\n    - ethnicity   # keep\n    - \"address.street\"\n    - 'gender'\n  other: 1\n";

    #[test]
    fn yaml_block_entries_are_removed_with_their_line_and_nothing_else() {
        let list = list_in(YAML, Syntax::Yaml, "/options/attrs");
        assert_eq!(
            removed(&list, 1),
            "options:\n  # the deny list\n  attrs:\n    - ethnicity   # keep\n    - 'gender'\n  other: 1\n"
        );
        assert_eq!(
            removed(&list, 2),
            "options:\n  # the deny list\n  attrs:\n    - ethnicity   # keep\n    - \"address.street\"\n  other: 1\n"
        );
    }

    #[test]
    fn yaml_replacements_keep_the_quoting_style() {
        let list = list_in(YAML, Syntax::Yaml, "/options/attrs");
        assert!(edited(&list, list.replace(1, "address")).contains("    - \"address\"\n"));
        assert!(edited(&list, list.replace(2, "it's")).contains("    - 'it''s'\n"));
        assert!(edited(&list, list.replace(0, "race")).contains("    - race   # keep\n"));
    }

    #[test]
    fn yaml_block_appends_follow_the_last_entry() {
        let list = list_in(YAML, Syntax::Yaml, "/options/attrs");
        assert!(
            edited(&list, list.append("birthdate"))
                .contains("    - 'gender'\n    - 'birthdate'\n  other: 1\n")
        );
        let crlf = "attrs:\r\n  - a\r\n  - b";
        let list = list_in(crlf, Syntax::Yaml, "/attrs");
        assert_eq!(
            edited(&list, list.append("c")),
            "attrs:\r\n  - a\r\n  - b\r\n  - c"
        );
    }

    #[test]
    fn flow_lists_lose_an_entry_with_one_separator() {
        let text = "{\n  \"a\": [\n    \"x\",\n    \"y\",\n    \"z\"\n  ]\n}\n";
        let list = list_in(text, Syntax::Json, "/a");
        assert_eq!(
            removed(&list, 0),
            "{\n  \"a\": [\n    \"y\",\n    \"z\"\n  ]\n}\n"
        );
        assert_eq!(
            removed(&list, 2),
            "{\n  \"a\": [\n    \"x\",\n    \"y\"\n  ]\n}\n"
        );
        assert_eq!(
            edited(&list, list.append("w")),
            "{\n  \"a\": [\n    \"x\",\n    \"y\",\n    \"z\",\n    \"w\"\n  ]\n}\n"
        );
        let flow = "a: [x, 'y']\n";
        let list = list_in(flow, Syntax::Yaml, "/a");
        assert_eq!(removed(&list, 1), "a: [x]\n");
        assert_eq!(edited(&list, list.append("z w")), "a: [x, 'y', 'z w']\n");
        let empty = "{\"a\": []}";
        let list = list_in(empty, Syntax::Json, "/a");
        assert_eq!(edited(&list, list.append("x")), "{\"a\": [\"x\"]}");
    }

    #[test]
    fn multi_line_flow_lists_keep_each_comment_on_its_entry() {
        let text = "a: [\n  x, # keep x\n  user.x # nested\n]\n";
        let list = list_in(text, Syntax::Yaml, "/a");
        assert_eq!(removed(&list, 1), "a: [\n  x # keep x\n]\n");
        let text = "a: [\n  user.x, # nested\n  x # keep x\n]\n";
        let list = list_in(text, Syntax::Yaml, "/a");
        assert_eq!(removed(&list, 0), "a: [\n  x # keep x\n]\n");
    }

    #[test]
    fn compact_yaml_sequences_are_block_sequences() {
        let text = "a:\n- x\n- y\n";
        let list = list_in(text, Syntax::Yaml, "/a");
        assert_eq!(removed(&list, 1), "a:\n- x\n");
        assert_eq!(edited(&list, list.append("z")), "a:\n- x\n- y\n- z\n");
    }

    #[test]
    fn the_last_entry_is_never_removed() {
        let list = list_in("{\"a\": [\"x\"]}", Syntax::Json, "/a");
        assert_eq!(list.remove(0), None);
    }

    #[test]
    fn a_list_member_is_inserted_first_in_the_object() {
        let text = "{\n  \"options\": {\n    \"a\": 1\n  }\n}\n";
        let root = json::parse(text).root.unwrap();
        let node = root.pointer("/options").unwrap();
        let edit = insert_list_member(text, Syntax::Json, node, "attrs", "x").unwrap();
        assert_eq!(
            apply(text, &[edit]),
            "{\n  \"options\": {\n    \"attrs\": [\"x\"],\n    \"a\": 1\n  }\n}\n"
        );
        let text = "c:\n  options:\n    # first\n    a: 1\n";
        let root = yaml::parse(text).root.unwrap();
        let node = root.pointer("/c/options").unwrap();
        let edit = insert_list_member(text, Syntax::Yaml, node, "attrs", "x.y").unwrap();
        assert_eq!(
            apply(text, &[edit]),
            "c:\n  options:\n    # first\n    attrs:\n      - x.y\n    a: 1\n"
        );
        let text = "{\"options\": {}}";
        let root = json::parse(text).root.unwrap();
        let node = root.pointer("/options").unwrap();
        let edit = insert_list_member(text, Syntax::Json, node, "attrs", "x").unwrap();
        assert_eq!(apply(text, &[edit]), "{\"options\": {\"attrs\": [\"x\"]}}");
    }

    #[test]
    fn plain_yaml_scalars_are_used_only_when_they_read_back_the_same() {
        assert_eq!(render_string("ethnicity", Syntax::Yaml, None), "ethnicity");
        assert_eq!(render_string("yes", Syntax::Yaml, None), "\"yes\"");
        assert_eq!(render_string("123", Syntax::Yaml, None), "\"123\"");
        assert_eq!(render_string("http://x/y", Syntax::Yaml, None), "\"http://x/y\"");
    }
}
