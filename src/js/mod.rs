//! Script analysis: rules, actions and hooks parsed with oxc and lowered to a small IR.
//!
//! Every script is parsed once (in parallel) and lowered to [`ir`]: the subset of JavaScript the
//! claim evaluator interprets (bindings, member access, assignments, calls, conditions, loops,
//! templates, object and array literals, functions). Anything else lowers to `Unknown`, which
//! the evaluator treats as a value it cannot know. Syntax errors are reported with their
//! location and the rest of the export is still analysed. No script is ever executed.

pub mod ir;
mod lower;
pub mod prescan;
pub mod walk;

pub use lower::parseable;

use crate::source::Span;

/// A script, lowered, with its syntax errors.
#[derive(Debug, Clone, Default)]
pub struct Lowered {
    /// The script lowered to [`ir`].
    pub ir: ir::Program,
    pub errors: Vec<(Span, String)>,
}

/// Parses and lowers one script. Keyword markers become unresolved values first. A script that
/// would exhaust the parser (see [`prescan`]) is refused with a located error instead.
pub fn analyse(text: &str) -> Lowered {
    analyse_within(text, prescan::Limits::default())
}

/// As [`analyse`], with the config's script budgets.
pub fn analyse_within(text: &str, limits: prescan::Limits) -> Lowered {
    let refused = |at: usize, message: String| {
        let at = at.min(text.len());
        Lowered {
            ir: ir::Program::default(),
            errors: vec![(Span::new(at, (at + 1).min(text.len())), message)],
        }
    };
    if text.len() > limits.bytes {
        return refused(0, prescan::too_large(text.len(), limits));
    }
    // Markers are neutralised first, so the prescan sees what the parser will (same length).
    let prepared = neutralise_markers(text);
    // A bare `function (user, context, callback) {…}` is parsed as `void function…` (see
    // `lower::parseable`); it is scanned the same way, so its body is an expression's.
    let bare = lower::is_bare_function(&prepared);
    if let Some(refusal) = prescan::prescan_from(&prepared, limits, bare) {
        return refused(refusal.at, refusal.message);
    }
    // The prescan bounds the parser's recursion from above, but it is a lexical estimate. As a
    // second line, a script too large to be safe on a worker's stack whatever its shape is parsed
    // on a thread whose stack fits its size: no script within the size limit can overflow it.
    let stack = prepared.len().saturating_mul(STACK_PER_BYTE);
    if stack <= SAFE_ON_WORKER {
        return lower::lower(&prepared);
    }
    let parsed = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("claimlint-parse".into())
            .stack_size(stack)
            .spawn_scoped(scope, || lower::lower(&prepared))
            .ok()
            .and_then(|thread| thread.join().ok())
    });
    parsed.unwrap_or_else(|| {
        refused(
            0,
            "script could not be analysed: no thread with a stack large enough to parse it safely".into(),
        )
    })
}

/// The most scripts one parallel task takes (in the lowering and in the analysis). rayon splits a list
/// only until each thread has a part and then when a part is stolen, so the last part runs
/// alone on one thread while the others wait; scripts vary in cost by a hundred times, and a
/// part of a few hundred of them left a core idle for a fifth of the lowering. Eight scripts
/// are a few milliseconds at most, and a split costs about a microsecond.
pub(crate) const SCRIPTS_PER_TASK: usize = 8;

/// Scripts lowered ahead of the list of scripts being known, by their text: a loader lowers the
/// script files it has read while it goes on building the rest of the export, and the scripts
/// take their results when they are listed (see `eval::lower_scripts_within`). A script whose
/// text is not one of these (not read ahead, or read again) is lowered then.
#[derive(Debug, Default)]
pub struct LoweredTexts {
    /// By the address of the text's bytes; the text is held so that the address stays its own.
    by_text: std::collections::HashMap<usize, (std::sync::Arc<str>, Lowered), foldhash::fast::RandomState>,
    /// The limits they were lowered within.
    limits: prescan::Limits,
}

impl LoweredTexts {
    /// Lowers every text on every core, as [`analyse_within`] does.
    pub fn lower(texts: Vec<std::sync::Arc<str>>, limits: prescan::Limits) -> LoweredTexts {
        use rayon::prelude::*;
        let lowered: Vec<Lowered> = texts
            .par_iter()
            .with_max_len(SCRIPTS_PER_TASK)
            .map(|text| analyse_within(text, limits))
            .collect();
        LoweredTexts {
            by_text: texts
                .into_iter()
                .zip(lowered)
                .map(|(text, lowered)| (text.as_ptr() as usize, (text, lowered)))
                .collect(),
            limits,
        }
    }

    /// The lowered script of exactly this text (the same allocation, not merely equal bytes)
    /// within `limits`, taken out: each result serves one script.
    pub fn take(&mut self, text: &std::sync::Arc<str>, limits: prescan::Limits) -> Option<Lowered> {
        if limits != self.limits {
            return None;
        }
        let key = text.as_ptr() as usize;
        match self.by_text.get(&key) {
            Some((held, _)) if std::sync::Arc::ptr_eq(held, text) => {
                self.by_text.remove(&key).map(|(_, lowered)| lowered)
            }
            _ => None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.by_text.is_empty()
    }
}

/// Parser stack a script can need per byte at most: each level of nesting takes at least one
/// byte and, measured, about 1.5 KiB of oxc's parser and semantic analysis.
const STACK_PER_BYTE: usize = 4 << 10;

/// Scripts whose worst case fits in this much stack are parsed on the worker (its stack is
/// 256 MiB, see `lib.rs`); larger ones get a thread of their own.
const SAFE_ON_WORKER: usize = 128 << 20;

/// Replaces `@@KEY@@` and `##KEY##` outside string literals by the identifier `__KEY__` of the
/// same length, which the evaluator knows as an unresolved keyword. Markers inside strings stay.
fn neutralise_markers(text: &str) -> std::borrow::Cow<'_, str> {
    let markers = crate::syntax::keywords::find_markers(text);
    if markers.is_empty() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for marker in markers {
        if in_string_or_comment(text, marker.start) {
            continue;
        }
        for i in [marker.start, marker.start + 1, marker.end - 2, marker.end - 1] {
            bytes[i] = b'_';
        }
    }
    std::borrow::Cow::Owned(String::from_utf8(bytes).unwrap_or_else(|_| text.to_string()))
}

/// Whether byte `at` is inside a string, template or comment (a light scan, good for markers).
fn in_string_or_comment(text: &str, at: usize) -> bool {
    let bytes = text.as_bytes();
    let mut quote: Option<u8> = None;
    let mut i = 0;
    while i < at {
        let b = bytes[i];
        match quote {
            Some(q) => {
                if b == b'\\' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'\'' | b'"' | b'`' => quote = Some(b),
                b'/' if bytes.get(i + 1) == Some(&b'/') => match text[i..].find('\n') {
                    Some(end) if i + end < at => i += end,
                    _ => return true,
                },
                b'/' if bytes.get(i + 1) == Some(&b'*') => match text[i + 2..].find("*/") {
                    Some(end) if i + 2 + end + 2 <= at => i += 2 + end + 1,
                    _ => return true,
                },
                _ => {}
            },
        }
        i += 1;
    }
    quote.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_outside_strings_become_identifiers() {
        let text = "const env = @@ENV@@; const u = 'https://##H##/x'; // ##C##";
        let out = neutralise_markers(text);
        assert_eq!(out, "const env = __ENV__; const u = 'https://##H##/x'; // ##C##");
        assert_eq!(out.len(), text.len());
    }

    /// Editors on Windows put a byte-order mark first; JavaScript reads it as white space.
    #[test]
    fn a_rule_after_a_byte_order_mark_parses() {
        let lowered = analyse(
            "\u{feff}function (user, context, callback) {\r\n  callback(null, user, context);\r\n}\r\n",
        );
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        assert!(!lowered.ir.body.is_empty());
        let hook = analyse(
            "\u{feff}#!/usr/bin/env node\nmodule.exports = function (client, scope, audience, context, cb) { cb(null, {}); };",
        );
        assert!(hook.errors.is_empty(), "{:?}", hook.errors);
    }

    #[test]
    fn syntax_errors_are_located() {
        let lowered = analyse("function (user, context, callback) {\n  context.idToken[ = 1;\n}");
        assert_eq!(lowered.errors.len(), 1, "{:?}", lowered.errors);
        assert!(lowered.errors[0].0.start > 30);
    }

    #[test]
    fn markers_are_neutralised_before_the_prescan() {
        // `@@A@@` would read as decorators, and each marker as stray characters.
        let p = format!("{}1{}", "(".repeat(1_000), ")".repeat(1_000));
        let lowered = analyse(&format!("x = @@A@@ / {p} / 1;"));
        assert!(lowered.errors[0].1.contains("brackets"), "{:?}", lowered.errors);
        let markers = "x = ##KEY## + 1;\n".repeat(100);
        assert!(analyse(&markers).errors.is_empty());
    }

    #[test]
    fn a_bare_function_is_scanned_as_the_expression_it_is_parsed_as() {
        let p = format!("{}1{}", "(".repeat(1_000), ")".repeat(1_000));
        let lowered = analyse(&format!("function (user, context, callback) {{}} / {p} / 1"));
        assert!(lowered.errors[0].1.contains("brackets"), "{:?}", lowered.errors);
    }

    #[test]
    fn deep_nesting_is_refused_without_parsing() {
        let text = "(".repeat(100_000);
        let lowered = analyse(&text);
        assert!(lowered.errors[0].1.contains("deeper than"));
    }
}
