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

/// An exported file's text made safe to show as a snippet: each control character or bidi
/// override becomes a visible character of the same length in bytes and characters (`?`, `¿`
/// or `�`), so every span and every line and column miette computes stays true to the file.
/// Line breaks (LF, CRLF) and tabs stay. `None` when the text needs nothing.
pub fn snippet(text: &str) -> Option<String> {
    let mut chars = text.char_indices().peekable();
    let mut out: Option<String> = None;
    while let Some((at, c)) = chars.next() {
        let keep = c == '\n' || c == '\t' || (c == '\r' && chars.peek().is_some_and(|&(_, n)| n == '\n'));
        if hidden(c) && !keep {
            let out = out.get_or_insert_with(|| text[..at].to_string());
            out.push(match c.len_utf8() {
                1 => '?',
                2 => '\u{bf}',
                _ => '\u{fffd}',
            });
        } else if let Some(out) = &mut out {
            out.push(c);
        }
    }
    out
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
    fn snippets_keep_every_offset() {
        let text = "{\r\n  \"a\u{1b}b\u{85}c\u{202e}d\": 1,\n  \"c\": 2\n}";
        let shown = snippet(text).unwrap();
        assert_eq!(shown, "{\r\n  \"a?b\u{bf}c\u{fffd}d\": 1,\n  \"c\": 2\n}");
        assert_eq!(shown.len(), text.len());
        assert_eq!(shown.chars().count(), text.chars().count());
        assert!(snippet("clean\r\n").is_none());
    }
}
