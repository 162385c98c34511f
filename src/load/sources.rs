//! Loose rule, action and hook sources: scripts kept in git without an a0deploy export around them.
//!
//! A folder of such scripts (or one script named on the command line) is an export of the
//! `sources` format. Which files are Auth0 scripts is decided by [`recognise`], a light textual
//! check of their signature (no parse): comments, strings, template text and regular-expression
//! literals are blanked first, so a signature in a comment or a string does not count, and
//! whitespace or comments inside a signature do not hide it. Files that match no signature are
//! ignored: a repository holds other JavaScript.
//!
//! [`load`] turns the recognised files into a [`Tenant`](crate::model::Tenant) with no clients
//! and no connections: each rule file an enabled rule (ordered by file name), each action a
//! deployed action bound to its trigger, each hook an enabled `credentials-exchange` hook. Their
//! locations point at the script file, at the signature that made it recognisable.

use std::path::{Path, PathBuf};

use super::Files;
use crate::model::{Action, Builder, Hook, Loc, Rule, Script, Spanned, TriggerBinding};
use crate::source::Span;

/// Which kind of Auth0 script a loose file is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LooseKind {
    /// `function (user, context, callback) {...}`: a rule.
    Rule,
    /// `exports.onExecutePostLogin = ...` and the other trigger handlers: an action, with the
    /// trigger ids it has handlers for (`post-login`, `credentials-exchange`...), deduplicated,
    /// in [`ACTION_HANDLERS`] order.
    Action { triggers: Vec<&'static str> },
    /// `module.exports = function (client, scope, audience, context, cb) {...}`: a
    /// client-credentials-exchange hook.
    Hook,
}

/// A file recognised as an Auth0 script, and where its signature is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recognised {
    pub kind: LooseKind,
    /// Byte span of the signature (the rule's or hook's function head, the action's first
    /// `exports.<handler>`).
    pub span: Span,
}

/// One loose script of a `sources` export: its path and what discovery recognised it as.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LooseScript {
    pub path: PathBuf,
    pub kind: LooseKind,
}

/// Action handler exports and the trigger id each one is for (the ids a0deploy writes in
/// `triggers`/`supported_triggers`).
pub const ACTION_HANDLERS: &[(&str, &str)] = &[
    ("onExecutePostLogin", "post-login"),
    ("onContinuePostLogin", "post-login"),
    ("onExecuteCredentialsExchange", "credentials-exchange"),
    ("onExecutePreUserRegistration", "pre-user-registration"),
    ("onExecutePostUserRegistration", "post-user-registration"),
    ("onExecutePostChangePassword", "post-change-password"),
    ("onExecuteSendPhoneMessage", "send-phone-message"),
];

/// The trigger id of a client-credentials-exchange hook.
pub const HOOK_TRIGGER: &str = "credentials-exchange";

/// The stage of every loose rule.
pub const RULE_STAGE: &str = "login_success";

/// What kind of Auth0 script `text` is, if it is one.
///
/// - a **rule** is a file whose first code (after comments) is a `function` (optionally named,
///   optionally `async`) with three plain parameters, and nothing but `;` after its body;
/// - an **action** assigns `exports.<handler>` for one of [`ACTION_HANDLERS`];
/// - a **hook** assigns `module.exports = function (client, scope, audience, context, cb)`
///   (five plain parameters, optionally named or `async`).
pub fn recognise(text: &str) -> Option<Recognised> {
    let code = code_only(text);
    let code = code.as_slice();
    if let Some(span) = rule_signature(code) {
        return Some(Recognised {
            kind: LooseKind::Rule,
            span,
        });
    }
    if let Some((triggers, span)) = action_signature(code) {
        return Some(Recognised {
            kind: LooseKind::Action { triggers },
            span,
        });
    }
    hook_signature(code).map(|span| Recognised {
        kind: LooseKind::Hook,
        span,
    })
}

/// Whether `path` names a JavaScript file (`.js`).
pub fn is_script_path(path: &Path) -> bool {
    crate::plain_path::has_extension(path, "js")
}

/// Adds the loose `scripts` (sorted by path) to the tenant being built.
pub fn load(files: &mut Files<'_>, scripts: &[LooseScript], b: &mut Builder) {
    files.prefetch(scripts.iter().map(|s| s.path.clone()).collect());
    let mut order = 0;
    for loose in scripts {
        let file = files.open(&loose.path, &mut b.errors);
        let text = files.text(file);
        // Recognised again on the text as read (keywords filled in) for the signature's span;
        // a file that changed since discovery keeps the kind discovery saw.
        let (kind, span) = match recognise(&text) {
            Some(found) => (found.kind, found.span),
            None => (loose.kind.clone(), Span::empty(0)),
        };
        let name = loose
            .path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file_name = loose
            .path
            .file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let loc = Loc {
            file,
            span,
            pointer: String::new(),
        };
        let script = Script {
            reference: Spanned {
                value: format!("./{file_name}"),
                loc: Loc {
                    span: Span::empty(0),
                    ..loc.clone()
                },
            },
            file: Some(file),
            text,
        };
        match kind {
            LooseKind::Rule => {
                order += 1;
                b.tenant.rules.push(Rule {
                    name,
                    loc,
                    enabled: true,
                    order: Some(order),
                    stage: Some(RULE_STAGE.to_string()),
                    script: Some(script),
                });
            }
            LooseKind::Action { triggers } => {
                for trigger in &triggers {
                    b.tenant.triggers.push(TriggerBinding {
                        trigger: (*trigger).to_string(),
                        action_name: name.clone(),
                        display_name: None,
                        loc: loc.clone(),
                    });
                }
                b.tenant.actions.push(Action {
                    name,
                    loc,
                    deployed: true,
                    status: None,
                    runtime: None,
                    supported_triggers: triggers.iter().map(|t| (*t).to_string()).collect(),
                    code: Some(script),
                });
            }
            LooseKind::Hook => b.tenant.hooks.push(Hook {
                name,
                loc,
                trigger_id: Some(HOOK_TRIGGER.to_string()),
                enabled: true,
                script: Some(script),
            }),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Signatures, on code with everything but code blanked

fn is_ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80
}

fn skip_ws(code: &[u8], mut at: usize) -> usize {
    while code.get(at).is_some_and(|c| c.is_ascii_whitespace()) {
        at += 1;
    }
    at
}

/// The end of the word `word` at `at`, if it stands there as a whole word.
fn word(code: &[u8], at: usize, word: &str) -> Option<usize> {
    let end = at + word.len();
    let here = code.get(at..end)?;
    let before_ok = at == 0 || code.get(at - 1).is_none_or(|&c| !is_ident_byte(c));
    let after_ok = code.get(end).is_none_or(|&c| !is_ident_byte(c));
    (here == word.as_bytes() && before_ok && after_ok).then_some(end)
}

/// The end of the identifier starting at `at`, if one does.
fn identifier(code: &[u8], at: usize) -> Option<usize> {
    let first = *code.get(at)?;
    if !is_ident_byte(first) || first.is_ascii_digit() {
        return None;
    }
    let mut end = at;
    while code.get(end).is_some_and(|&c| is_ident_byte(c)) {
        end += 1;
    }
    Some(end)
}

fn byte(code: &[u8], at: usize, expected: u8) -> Option<usize> {
    (code.get(at) == Some(&expected)).then_some(at + 1)
}

/// A function head from `at`: `[async] function [name] (params)`. Returns the number of plain
/// parameters (`None` when one is not a plain identifier) and the end of the `)`.
fn function_head(code: &[u8], at: usize) -> Option<(usize, usize)> {
    let mut p = at;
    if let Some(end) = word(code, p, "async") {
        p = skip_ws(code, end);
    }
    p = skip_ws(code, word(code, p, "function")?);
    if let Some(end) = identifier(code, p) {
        p = skip_ws(code, end);
    }
    let open = byte(code, p, b'(')?;
    let close = open + code.get(open..)?.iter().position(|&c| c == b')')?;
    let params = code.get(open..close)?;
    let mut count = 0;
    let parts: Vec<&[u8]> = params.split(|&c| c == b',').collect();
    for (i, part) in parts.iter().enumerate() {
        let start = skip_ws(part, 0);
        if start == part.len() {
            // `()` has no parameter; `(a, b,)` ends in a trailing comma; `(a, , b)` is wrong.
            if parts.len() == 1 || (i > 0 && i == parts.len() - 1) {
                continue;
            }
            return None;
        }
        let end = identifier(part, start)?;
        if skip_ws(part, end) != part.len() {
            return None;
        }
        count += 1;
    }
    Some((count, close + 1))
}

/// The end of the block whose `{` is at `open`: just past its matching `}`.
fn block_end(code: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &c) in code.iter().enumerate().skip(open) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            _ => {}
        }
    }
    None
}

fn rule_signature(code: &[u8]) -> Option<Span> {
    let start = skip_ws(code, 0);
    let (params, head_end) = function_head(code, start)?;
    if params != 3 {
        return None;
    }
    let body = skip_ws(code, head_end);
    if code.get(body) != Some(&b'{') {
        return None;
    }
    // A file that goes on after the function is a library that starts with a function, not a
    // rule; a body that never closes is still a rule (its syntax error is reported later).
    if let Some(end) = block_end(code, body)
        && code
            .get(end..)
            .is_some_and(|rest| rest.iter().any(|&c| !c.is_ascii_whitespace() && c != b';'))
    {
        return None;
    }
    Some(Span::new(start, head_end))
}

/// `exports.<handler> =` (also `module.exports.<handler> =`): the triggers and the first span.
fn action_signature(code: &[u8]) -> Option<(Vec<&'static str>, Span)> {
    let mut triggers: Vec<&'static str> = Vec::new();
    let mut first = None;
    let mut from = 0;
    while let Some(found) = find(code, from, b"exports") {
        from = found + 1;
        let Some(mut p) = word(code, found, "exports") else {
            continue;
        };
        p = skip_ws(code, p);
        let Some(dot) = byte(code, p, b'.') else {
            continue;
        };
        let name_start = skip_ws(code, dot);
        let Some(name_end) = identifier(code, name_start) else {
            continue;
        };
        let Some(&(_, trigger)) = ACTION_HANDLERS
            .iter()
            .find(|(handler, _)| code.get(name_start..name_end) == Some(handler.as_bytes()))
        else {
            continue;
        };
        if !assignment(code, name_end) {
            continue;
        }
        first.get_or_insert(Span::new(found, name_end));
        if !triggers.contains(&trigger) {
            triggers.push(trigger);
        }
    }
    let span = first?;
    triggers.sort_by_key(|t| ACTION_HANDLERS.iter().position(|(_, id)| id == t));
    Some((triggers, span))
}

/// Whether a plain `=` (not `==`, `=>`) follows `at`.
fn assignment(code: &[u8], at: usize) -> bool {
    let p = skip_ws(code, at);
    code.get(p) == Some(&b'=') && !matches!(code.get(p + 1), Some(b'=' | b'>'))
}

/// `module.exports = [async] function [name] (a, b, c, d, e)`.
fn hook_signature(code: &[u8]) -> Option<Span> {
    let mut from = 0;
    while let Some(found) = find(code, from, b"module") {
        from = found + 1;
        let Some(p) = word(code, found, "module") else {
            continue;
        };
        let Some(p) = byte(code, skip_ws(code, p), b'.') else {
            continue;
        };
        let Some(p) = word(code, skip_ws(code, p), "exports") else {
            continue;
        };
        if !assignment(code, p) {
            continue;
        }
        let value = skip_ws(code, skip_ws(code, p) + 1);
        if let Some((5, head_end)) = function_head(code, value) {
            return Some(Span::new(found, head_end));
        }
    }
    None
}

fn find(code: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    code.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

// ---------------------------------------------------------------------------------------------
// Blanking everything that is not code

/// Words after which a `/` starts a regular expression rather than a division.
const REGEX_AFTER_WORDS: &[&str] = &[
    "return",
    "typeof",
    "case",
    "do",
    "else",
    "in",
    "of",
    "new",
    "delete",
    "void",
    "throw",
    "yield",
    "await",
    "instanceof",
];

/// `text` with comments, the insides of string and template literals (not the `${...}` code in
/// templates) and regular-expression literals replaced by spaces, byte for byte, so offsets
/// stay. Quotes, backticks and the `{` of `${` are kept so that brackets still balance.
fn code_only(text: &str) -> Vec<u8> {
    let b = text.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut [u8], from: usize, to: usize| {
        for c in out.iter_mut().take(to.min(b.len())).skip(from) {
            if *c != b'\n' {
                *c = b' ';
            }
        }
    };
    let mut i = 0;
    // Brace depth at which each open template expression (`${`) started.
    let mut templates: Vec<usize> = Vec::new();
    let mut depth = 0usize;
    // Index of the last code byte that is not whitespace.
    let mut last: Option<usize> = None;
    // A byte-order mark that an editor put first is white space to JavaScript.
    if b.starts_with("\u{feff}".as_bytes()) {
        blank(&mut out, 0, 3);
        i = 3;
    }
    if b[i..].starts_with(b"#!") {
        i = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
        blank(&mut out, 0, i);
    }
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        match c {
            b'/' if next == Some(b'/') => {
                let end = b[i..].iter().position(|&c| c == b'\n').map_or(b.len(), |p| i + p);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if next == Some(b'*') => {
                let end = find(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'\'' | b'"' => {
                let mut j = i + 1;
                while j < b.len() && b[j] != c && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(b.len());
                blank(&mut out, i + 1, end);
                last = Some(i);
                i = end + 1;
            }
            b'`' => {
                i = template(b, &mut out, i + 1, &mut templates, &mut depth, &blank);
                last = Some(i.saturating_sub(1).min(b.len().saturating_sub(1)));
            }
            b'/' if regex_may_start(b, last) => match regex_end(b, i) {
                Some(end) => {
                    blank(&mut out, i + 1, end);
                    last = Some(end.saturating_sub(1));
                    i = end;
                }
                None => {
                    last = Some(i);
                    i += 1;
                }
            },
            b'{' => {
                depth += 1;
                last = Some(i);
                i += 1;
            }
            b'}' => {
                if templates.last() == Some(&depth) {
                    templates.pop();
                    depth = depth.saturating_sub(1);
                    i = template(b, &mut out, i + 1, &mut templates, &mut depth, &blank);
                    last = Some(i.saturating_sub(1).min(b.len().saturating_sub(1)));
                } else {
                    depth = depth.saturating_sub(1);
                    last = Some(i);
                    i += 1;
                }
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                last = Some(i);
                i += 1;
            }
        }
    }
    out
}

/// Blanks template text from `from` to the closing backtick or the next `${`; returns where
/// code goes on.
fn template(
    b: &[u8],
    out: &mut [u8],
    from: usize,
    templates: &mut Vec<usize>,
    depth: &mut usize,
    blank: &impl Fn(&mut [u8], usize, usize),
) -> usize {
    let mut j = from;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 2,
            b'`' => {
                blank(out, from, j);
                return j + 1;
            }
            b'$' if b.get(j + 1) == Some(&b'{') => {
                // Keep the `{` so the expression's `}` balances.
                blank(out, from, j + 1);
                *depth += 1;
                templates.push(*depth);
                return j + 2;
            }
            _ => j += 1,
        }
    }
    blank(out, from, b.len());
    b.len()
}

/// Whether a `/` after the code byte at `last` starts a regular expression.
fn regex_may_start(b: &[u8], last: Option<usize>) -> bool {
    let Some(last) = last else { return true };
    let c = b[last];
    if b"(,=:[!&|?{};+-*%<>~^".contains(&c) {
        return true;
    }
    if !is_ident_byte(c) {
        return false;
    }
    let mut start = last;
    while start > 0 && is_ident_byte(b[start - 1]) {
        start -= 1;
    }
    let word = &b[start..=last];
    REGEX_AFTER_WORDS.iter().any(|w| w.as_bytes() == word)
}

/// The end (after the flags) of the regular-expression literal starting at `start`, or `None`
/// when the line ends first (then it was a division after all).
fn regex_end(b: &[u8], start: usize) -> Option<usize> {
    let mut j = start + 1;
    let mut class = false;
    while j < b.len() {
        match b[j] {
            b'\\' => j += 1,
            b'\n' => return None,
            b'[' => class = true,
            b']' => class = false,
            b'/' if !class => {
                j += 1;
                while j < b.len() && is_ident_byte(b[j]) {
                    j += 1;
                }
                return Some(j);
            }
            _ => {}
        }
        j += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_only_blanks_comments_strings_and_regexes() {
        let text = "a = 'x{' + `t ${b + `u`} {` // c {\n/* { */ r = /\\/{/g; d = e / f;";
        let code = String::from_utf8(code_only(text)).unwrap();
        assert_eq!(code.len(), text.len());
        assert!(!code.contains("x{"));
        assert!(!code.contains("// c"));
        assert!(!code.contains("/*"));
        assert!(code.contains(" {b + `"), "{code}");
        assert!(code.contains("e / f"));
        let opens = code.matches('{').count();
        let closes = code.matches('}').count();
        assert_eq!(opens, closes, "{code}");
    }

    #[test]
    fn function_heads_count_plain_parameters() {
        assert_eq!(function_head(b"function (a, b, c) {}", 0), Some((3, 18)));
        assert_eq!(
            function_head(b"async function f(a,b,c,) {}", 0).map(|h| h.0),
            Some(3)
        );
        assert_eq!(function_head(b"function () {}", 0).map(|h| h.0), Some(0));
        assert_eq!(function_head(b"function (a, {b}, c) {}", 0), None);
        assert_eq!(function_head(b"function (a, , c) {}", 0), None);
        assert_eq!(function_head(b"functional(a, b, c)", 0), None);
    }

    #[test]
    fn a_byte_order_mark_is_white_space() {
        let rule =
            "\u{feff}function (user, context, callback) {\r\n  callback(null, user, context);\r\n}\r\n";
        assert!(matches!(recognise(rule).map(|r| r.kind), Some(LooseKind::Rule)));
        let hook = "\u{feff}#!/usr/bin/env node\nmodule.exports = function (client, scope, audience, context, cb) { cb(null, {}); };";
        assert!(matches!(recognise(hook).map(|r| r.kind), Some(LooseKind::Hook)));
    }

    #[test]
    fn block_ends_match_braces() {
        assert_eq!(block_end(b"{ { } }x", 0), Some(7));
        assert_eq!(block_end(b"{ {", 0), None);
    }
}
