//! Fixes to claim writes in rule, action and hook code.
//!
//! - CL103 (`restricted-claim`): a write of a claim Auth0 ignores is removed (safe), when it is
//!   a statement of its own (`context.idToken.sub = x;`, `api.idToken.setCustomClaim('sub',
//!   x);`) whose value has no side effect (oxc_ecmascript's `MayHaveSideEffects`, with property
//!   reads taken as free of them, as Auth0's `user`, `context` and `event` are plain data).
//! - CL101/CL102 (`claim-namespace`, `claim-namespace-host`): the claim is moved under the
//!   namespace of the config's `fix.namespace` (unsafe: applications see a new claim name). Only
//!   a claim name written as one literal (`'tier'`, `.tier`, `{ tier: x }`) is renamed; a name
//!   built from parts is left to its author.

use oxc_allocator::Allocator;
use oxc_ast::ast::{
    AssignmentOperator, AssignmentTarget, Expression, ExpressionStatement, IdentifierReference,
};
use oxc_ast_visit::Visit;
use oxc_ecmascript::GlobalContext;
use oxc_ecmascript::side_effects::{MayHaveSideEffects, MayHaveSideEffectsContext, PropertyReadSideEffects};
use oxc_parser::Parser;
use oxc_semantic::{Scoping, SemanticBuilder};
use oxc_span::{GetSpan, SourceType};

use super::text::TextEdit;
use super::{Proposal, Proposer};
use crate::finding::Finding;
use crate::fix::Applicability;
use crate::source::Span;

/// The script text the finding points into, when it is a JavaScript file.
fn script_of<'t>(p: &Proposer<'t>, finding: &Finding) -> Option<&'t str> {
    let file = p.sources.get(finding.location.source);
    let script = file.display.to_ascii_lowercase().ends_with(".js");
    (script && super::text::in_text(file.text(), finding.location.span)).then_some(file.text())
}

/// CL103: remove a statement that writes a claim Auth0 ignores.
pub fn restricted_write(p: &Proposer<'_>, finding: &Finding) -> Option<Proposal> {
    // Only a claim Auth0 drops: a policy may also reserve claims Auth0 issues (`extra_claims`),
    // and removing those would change the tokens.
    let dropped = matches!(
        finding.proof.as_ref().map(|p| &p.statement),
        Some(crate::proof::Statement::ClaimAbsent { .. })
    );
    if !dropped {
        return None;
    }
    let text = script_of(p, finding)?;
    let claim = finding.claim.as_deref()?;
    let statement = pure_write_statement(text, finding.location.span, claim)?;
    let removed = whole_lines(text, statement);
    if joins_neighbours(text, removed) {
        return None;
    }
    Some(Proposal {
        applicability: Applicability::Safe,
        message: format!("remove the write of `{claim}`, which Auth0 ignores"),
        file: finding.location.source,
        edits: vec![TextEdit {
            span: removed,
            content: String::new(),
        }],
        connection: None,
    })
}

/// CL101/CL102: rename the claim to `renamed`.
pub fn rename_claim(p: &Proposer<'_>, finding: &Finding, renamed: &str) -> Option<Proposal> {
    let text = script_of(p, finding)?;
    let claim = finding.claim.as_deref()?;
    let span = finding.location.span;
    let key = text.get(span.start as usize..span.end as usize)?;
    let quoted = |quote: char| format!("{quote}{}{quote}", escape_js(renamed, quote));
    let edit = if let Some(inner) = literal_content(key) {
        if inner != claim {
            return None;
        }
        let quote = key.chars().next()?;
        TextEdit {
            span,
            content: quoted(quote),
        }
    } else if key == claim && is_identifier(key) {
        let before = text[..span.start as usize].trim_end();
        let after = text[span.end as usize..].trim_start();
        if before.ends_with("?.") {
            TextEdit {
                span,
                content: format!("[{}]", quoted('\'')),
            }
        } else if before.ends_with('.') {
            TextEdit {
                span: Span::new(before.len() - 1, span.end as usize),
                content: format!("[{}]", quoted('\'')),
            }
        } else if after.starts_with(':') && !after.starts_with("::") {
            TextEdit {
                span,
                content: quoted('\''),
            }
        } else {
            return None;
        }
    } else {
        return None;
    };
    Some(Proposal {
        applicability: Applicability::Unsafe,
        message: format!(
            "rename `{claim}` to `{renamed}`: applications reading `{claim}` must read the new name"
        ),
        file: finding.location.source,
        edits: vec![edit],
        connection: None,
    })
}

/// The namespaced name for a CL101 claim (`tier` → `https://example.com/tier`).
pub fn namespaced(namespace: &str, claim: &str) -> String {
    format!("{namespace}{claim}")
}

/// The name a CL102 claim gets under `namespace`: its path after the Auth0 host
/// (`https://acme.auth0.com/roles` → `https://example.com/roles`).
pub fn rehomed(namespace: &str, claim: &str) -> Option<String> {
    let (_, rest) = claim.split_once("://")?;
    let (_, path) = rest.split_once('/')?;
    (!path.is_empty()).then(|| format!("{namespace}{path}"))
}

/// The content of a string literal without escapes or substitutions (`'a'`, `"a"`, `` `a` ``).
fn literal_content(key: &str) -> Option<&str> {
    let quote = key.chars().next().filter(|c| matches!(c, '\'' | '"' | '`'))?;
    let inner = key.strip_prefix(quote)?.strip_suffix(quote)?;
    let plain = !inner.contains('\\') && !inner.contains(quote);
    let substitutes = quote == '`' && inner.contains("${");
    (plain && !substitutes).then_some(inner)
}

fn is_identifier(key: &str) -> bool {
    let mut chars = key.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

fn escape_js(value: &str, quote: char) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '\\' || c == quote {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Whether taking `removed` out would let the statements around it run together: the one before
/// ends without `;` and the one after starts with a character that continues an expression
/// (`a = b` then `[1].forEach(...)` reads as `a = b[1].forEach(...)`).
fn joins_neighbours(text: &str, removed: Span) -> bool {
    let before = text[..removed.start as usize].trim_end();
    let after = text[removed.end as usize..].trim_start();
    let ends_statement = before.is_empty() || before.ends_with([';', '{', '}']);
    let continues = after.starts_with([
        '(', '[', '`', '+', '-', '/', '.', ',', '*', '%', '<', '>', '=', '?', '&', '|',
    ]);
    !ends_statement && continues
}

/// The span of the expression statement that writes `claim`, named at `key` by a literal (a
/// static property or a string; never a variable, which may name other claims on other runs),
/// with a value that has no side effect; `None` otherwise (or when the script does not parse).
fn pure_write_statement(text: &str, key: Span, claim: &str) -> Option<Span> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, text, SourceType::cjs()).parse();
    if parsed.panicked || parsed.diagnostics.errors().next().is_some() {
        return None;
    }
    let scoping = SemanticBuilder::new()
        .build(&parsed.program)
        .semantic
        .into_scoping();
    let mut finder = WriteFinder {
        key,
        claim,
        purity: Purity { scoping: &scoping },
        found: None,
        listed: std::collections::HashSet::new(),
    };
    finder.visit_program(&parsed.program);
    finder.found
}

struct WriteFinder<'s> {
    key: Span,
    claim: &'s str,
    purity: Purity<'s>,
    found: Option<Span>,
    /// Starts of the statements that stand in a statement list (a block, a function body,
    /// the program, a `case`): only those can go without changing what is around them
    /// (`if (a) x = 1;` would take the next statement as its body).
    listed: std::collections::HashSet<u32>,
}

impl<'a> Visit<'a> for WriteFinder<'_> {
    fn visit_statements(&mut self, it: &oxc_allocator::Vec<'a, oxc_ast::ast::Statement<'a>>) {
        self.listed.extend(it.iter().map(|s| s.span().start));
        oxc_ast_visit::walk::walk_statements(self, it);
    }

    fn visit_expression_statement(&mut self, it: &ExpressionStatement<'a>) {
        let same = |span: oxc_span::Span| span.start == self.key.start && span.end == self.key.end;
        let names_claim = |key: &Expression<'_>| match key {
            Expression::StringLiteral(s) => s.value == self.claim,
            Expression::TemplateLiteral(t) => t.single_quasi().is_some_and(|q| q == self.claim),
            _ => false,
        };
        let value: Option<&Expression<'a>> = match &it.expression {
            Expression::AssignmentExpression(assign) if assign.operator == AssignmentOperator::Assign => {
                let key = match &assign.left {
                    AssignmentTarget::StaticMemberExpression(m) => {
                        (m.property.name == self.claim).then_some(m.property.span)
                    }
                    AssignmentTarget::ComputedMemberExpression(m) if names_claim(&m.expression) => {
                        Some(m.expression.span())
                    }
                    _ => None,
                };
                key.filter(|&k| same(k)).map(|_| &assign.right)
            }
            Expression::CallExpression(call) => {
                let is_set = call
                    .callee
                    .get_member_expr()
                    .and_then(|m| m.static_property_name())
                    .is_some_and(|name| name == "setCustomClaim");
                match call.arguments.as_slice() {
                    [name, value]
                        if is_set && same(name.span()) && name.as_expression().is_some_and(names_claim) =>
                    {
                        value.as_expression()
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some(value) = value
            && self.listed.contains(&it.span.start)
            && !value.may_have_side_effects(&self.purity)
        {
            self.found = Some(Span::new(it.span.start as usize, it.span.end as usize));
        }
        oxc_ast_visit::walk::walk_expression_statement(self, it);
    }
}

/// What counts as a side effect when a claim write is removed.
struct Purity<'s> {
    scoping: &'s Scoping,
}

impl<'a> GlobalContext<'a> for Purity<'_> {
    fn is_global_reference(&self, reference: &IdentifierReference<'a>) -> bool {
        reference
            .reference_id
            .get()
            .and_then(|id| self.scoping.get_reference(id).symbol_id())
            .is_none()
    }
}

impl<'a> MayHaveSideEffectsContext<'a> for Purity<'_> {
    fn annotations(&self) -> bool {
        false
    }

    fn manual_pure_functions(&self, _callee: &Expression) -> bool {
        false
    }

    fn property_read_side_effects(&self) -> PropertyReadSideEffects {
        PropertyReadSideEffects::None
    }

    fn unknown_global_side_effects(&self) -> bool {
        true
    }
}

/// `statement` widened to its whole lines when nothing else shares them (indentation before,
/// nothing but a line break after), so no blank line is left behind.
fn whole_lines(text: &str, statement: Span) -> Span {
    let (start, end) = (statement.start as usize, statement.end as usize);
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let rest = &text[end..];
    let line_end = rest.find('\n').map_or(text.len(), |i| end + i + 1);
    let alone_before = text[line_start..start].chars().all(|c| c == ' ' || c == '\t');
    let alone_after = text[end..line_end].trim().is_empty();
    if alone_before && alone_after {
        Span::new(line_start, line_end)
    } else {
        statement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_span(text: &str, key: &str) -> Span {
        let start = text.find(key).unwrap();
        Span::new(start, start + key.len())
    }

    #[test]
    fn finds_pure_writes_only() {
        let text = "function r(user, context, cb) {\n  context.idToken.sub = user.app_metadata.id;\n  context.idToken['aud'] = track(user);\n  cb(null, user, context);\n}\n";
        let found = pure_write_statement(text, key_span(text, "sub"), "sub").unwrap();
        assert_eq!(
            &text[whole_lines(text, found).start as usize..whole_lines(text, found).end as usize],
            "  context.idToken.sub = user.app_metadata.id;\n"
        );
        assert_eq!(pure_write_statement(text, key_span(text, "'aud'"), "aud"), None);
        let braceless = "function r(user, context, cb) {\n  if (x) context.idToken.sub = 'a';\n  label: context.idToken.aud = 'b';\n}\n";
        assert_eq!(
            pure_write_statement(braceless, key_span(braceless, "sub"), "sub"),
            None
        );
        assert_eq!(
            pure_write_statement(braceless, key_span(braceless, "aud"), "aud"),
            None
        );
        // A variable names other claims on other iterations.
        let loop_ = "function r(user, context, cb) {\n  for (const name of ['sub', 'https://x.com/id']) {\n    context.idToken[name] = user.user_id;\n  }\n}\n";
        assert_eq!(pure_write_statement(loop_, key_span(loop_, "name]"), "sub"), None);
        let action = "exports.onExecutePostLogin = async (event, api) => {\n  api.idToken.setCustomClaim('roles', event.authorization.roles);\n};\n";
        assert!(pure_write_statement(action, key_span(action, "'roles'"), "roles").is_some());
    }

    #[test]
    fn a_removal_that_would_join_two_statements_is_refused() {
        let text = "var a = user.name\ncontext.idToken.sub = 'x';\n[1, 2].forEach(f);\n";
        let statement = pure_write_statement(text, key_span(text, "sub"), "sub").unwrap();
        assert!(joins_neighbours(text, whole_lines(text, statement)));
        let safe = "var a = user.name;\ncontext.idToken.sub = 'x';\n[1, 2].forEach(f);\n";
        let statement = pure_write_statement(safe, key_span(safe, "sub"), "sub").unwrap();
        assert!(!joins_neighbours(safe, whole_lines(safe, statement)));
    }

    #[test]
    fn rehomes_auth0_namespaces() {
        assert_eq!(
            rehomed("https://example.com/", "https://acme.auth0.com/roles").as_deref(),
            Some("https://example.com/roles")
        );
        assert_eq!(rehomed("https://example.com/", "https://acme.auth0.com/"), None);
    }

    #[test]
    fn literals_are_read_without_escapes() {
        assert_eq!(literal_content("'tier'"), Some("tier"));
        assert_eq!(literal_content("`tier`"), Some("tier"));
        assert_eq!(literal_content("`${ns}tier`"), None);
        assert_eq!(literal_content("'ti\\'er'"), None);
        assert_eq!(literal_content("tier"), None);
    }
}
