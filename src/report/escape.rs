//! Text from the export made safe for a terminal or a CI log.
//!
//! Claim names, attribute names, file names and the exported text itself reach the human,
//! concise and `github` outputs. A control character there could move the cursor, rewrite a
//! line (CR), ring the bell, start an escape sequence (ESC) or, in a CI log, begin a forged
//! workflow command on a new line; the bidirectional overrides of "Trojan Source" reorder what a
//! reviewer sees. Each becomes `\u{..}` (JSON and SARIF are escaped by serde instead).

use std::borrow::Cow;

/// Whether `c` must not reach a terminal or log as itself.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

fn escaped(c: char) -> String {
    format!("\\u{{{:x}}}", u32::from(c))
}

/// `text` with every control character escaped: for text printed on one line.
pub fn line(text: &str) -> Cow<'_, str> {
    escape(text, |_, _| false)
}

/// `text` with every control character but the line break escaped: for text printed as lines.
pub fn lines(text: &str) -> Cow<'_, str> {
    escape(text, |c, _| c == '\n')
}

fn escape(text: &str, keep: impl Fn(char, Option<char>) -> bool) -> Cow<'_, str> {
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if hidden(c) && !keep(c, chars.peek().copied()) {
            out.push_str(&escaped(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// An exported file's text made safe to show as a snippet, with the offsets of the original
/// mapped onto it. Line breaks (LF, CRLF) and tabs stay.
pub struct Snippet {
    pub text: String,
    /// (offset in the original after an escaped character, bytes added so far), ascending.
    shifts: Vec<(usize, usize)>,
}

impl Snippet {
    pub fn new(text: &str) -> Option<Snippet> {
        if !text.chars().any(hidden) {
            return None;
        }
        let mut out = String::with_capacity(text.len() + 64);
        let mut shifts = Vec::new();
        let mut added = 0;
        let mut chars = text.char_indices().peekable();
        while let Some((at, c)) = chars.next() {
            let keep = c == '\n' || c == '\t' || (c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n'));
            if hidden(c) && !keep {
                let e = escaped(c);
                added += e.len() - c.len_utf8();
                out.push_str(&e);
                shifts.push((at + c.len_utf8(), added));
            } else {
                out.push(c);
            }
        }
        (!shifts.is_empty()).then_some(Snippet { text: out, shifts })
    }

    /// Where byte `offset` of the original text is in [`Snippet::text`].
    pub fn offset(&self, offset: usize) -> usize {
        let before = self.shifts.partition_point(|&(end, _)| end <= offset);
        offset + before.checked_sub(1).map_or(0, |i| self.shifts[i].1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_become_visible_escapes() {
        assert_eq!(line("a\u{1b}[2Jb\u{7}"), "a\\u{1b}[2Jb\\u{7}");
        assert_eq!(line("x\n::error::forged\r"), "x\\u{a}::error::forged\\u{d}");
        assert_eq!(lines("one\ntwo\u{202e}"), "one\ntwo\\u{202e}");
        assert!(matches!(line("plain `claim` é"), Cow::Borrowed(_)));
    }

    #[test]
    fn snippets_keep_line_breaks_and_map_offsets() {
        let text = "{\r\n  \"a\u{1b}b\": 1,\n  \"c\": 2\n}";
        let snippet = Snippet::new(text).unwrap();
        assert_eq!(snippet.text, "{\r\n  \"a\\u{1b}b\": 1,\n  \"c\": 2\n}");
        let c = text.find("\"c\"").unwrap();
        assert_eq!(&snippet.text[snippet.offset(c)..snippet.offset(c) + 3], "\"c\"");
        let a = text.find("\"a").unwrap();
        assert_eq!(snippet.offset(a), a);
        assert!(Snippet::new("clean\r\n").is_none());
    }
}
