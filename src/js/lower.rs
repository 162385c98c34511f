//! Lowering of a script's oxc AST to the owned [`ir`](super::ir), with every identifier resolved
//! by `oxc_semantic`.
//!
//! The script is parsed once and its scopes built once; symbols keep their `oxc_semantic` index
//! as [`Sym`], so a binding and every reference to it carry the same number. Whatever the
//! interpreter does not model lowers to `Unknown` with a short description.

use std::sync::Arc;

use oxc_allocator::Allocator;
use oxc_ast::ast::{self, Expression, Statement};
use oxc_parser::Parser;
use oxc_semantic::{ScopeId, Scoping, SemanticBuilder, SymbolId};
use oxc_span::{GetSpan, SourceType};
use oxc_syntax::number::ToJsString;
use oxc_syntax::operator::{
    AssignmentOperator, BinaryOperator, LogicalOperator, UnaryOperator, UpdateOperator,
};

use super::Lowered;
use super::ir::{
    Arg, AssignOp, BinaryOp, DeclKind, Expr, ExprKind, ForTarget, Function, LogicalOp, MemberProp, Mentions,
    Param, Pattern, PatternProp, Program, Prop, PropKey, Stmt, SwitchCase, Sym, Text, UnaryOp, Var,
};
use crate::source::Span;

/// Statements and expressions nested deeper than this lower to `Unknown` (keeps recursion bounded).
const MAX_DEPTH: usize = 200;

/// Arena kept between scripts up to this size: a typical script's AST fits in well under it,
/// and a larger one is handed back rather than held for the rest of the run.
const KEPT_ARENA: usize = 4 << 20;

thread_local! {
    /// Each thread parses into one arena, reset between scripts: a fresh arena per script
    /// would ask the allocator (and the kernel) for new pages every time.
    static ARENA: std::cell::RefCell<Allocator> = std::cell::RefCell::new(Allocator::default());
}

/// Parses and lowers one script (keyword markers already neutralised). A script with syntax
/// errors lowers to an empty program: the errors are reported by the caller.
pub fn lower(text: &str) -> Lowered {
    ARENA.with(|arena| match arena.try_borrow_mut() {
        Ok(mut allocator) => {
            allocator.reset();
            let lowered = lower_in(&allocator, text);
            if allocator.capacity() > KEPT_ARENA {
                *allocator = Allocator::default();
            }
            lowered
        }
        Err(_) => lower_in(&Allocator::default(), text),
    })
}

fn lower_in(allocator: &Allocator, text: &str) -> Lowered {
    let (source, shift) = parseable(allocator, text);
    let parsed = Parser::new(allocator, source, SourceType::cjs()).parse();
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let mut errors: Vec<(Span, String)> = parsed
        .diagnostics
        .errors()
        .map(|d| {
            let (start, end) = d
                .labels
                .first()
                .map_or((0, 0), |l| (l.offset(), l.offset() + l.len()));
            let at = |o: u32| o.saturating_sub(shift).min(len) as usize;
            (
                Span::new(at(start), at(end)),
                format!("JavaScript syntax error: {}", d.message),
            )
        })
        .collect();
    errors.truncate(5);
    if parsed.panicked || !errors.is_empty() {
        if errors.is_empty() {
            errors.push((
                Span::default(),
                "JavaScript syntax error: the script could not be parsed".into(),
            ));
        }
        return Lowered {
            ir: Program::default(),
            errors,
        };
    }
    // Sizes estimated from the text (rules hold about one AST node per 6 to 12 bytes) spare
    // the builder the walk that counts them; a wrong guess only means a vector grows.
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    let stats = oxc_semantic::Stats::new(len / 6 + 16, len / 100 + 4, len / 50 + 8, len / 25 + 8);
    let scoping = SemanticBuilder::new()
        .with_stats(stats)
        .build(&parsed.program)
        .semantic
        .into_scoping();
    let mut lowerer = Lowerer {
        declared: declared_by_scope(&scoping),
        scoping: &scoping,
        shift,
        len: u32::try_from(text.len()).unwrap_or(u32::MAX),
        depth: 0,
        next_function: 0,
        hoisted: vec![Vec::new()],
        // About one distinct name or string per 30 bytes of a typical rule; a huge script's
        // set grows as it needs.
        texts: hashbrown::HashSet::with_capacity_and_hasher((text.len() / 30).min(4096), Default::default()),
        mentions: Mentions::default(),
        symbol_names: vec![None; scoping.symbols_len()],
    };
    let body = lowerer.stmts(&parsed.program.body);
    let declared = parsed
        .program
        .scope_id
        .get()
        .and_then(|scope| lowerer.declared.remove(&scope))
        .unwrap_or_default();
    Lowered {
        ir: Program {
            body,
            declared,
            hoisted: lowerer.hoisted.pop().unwrap_or_default(),
            mentions: lowerer.mentions,
        },
        errors: Vec::new(),
    }
}

/// The text oxc parses for a script, and how far it moves every offset. A rule is an anonymous
/// function expression, which is not a valid statement on its own; as the operand of `void` it
/// is (a trailing `;` included), and every offset moves by the prefix's length, which spans
/// undo.
pub fn parseable<'a>(allocator: &'a Allocator, text: &'a str) -> (&'a str, u32) {
    // A byte-order mark before a `#!` line hides the line from the parser: both become white
    // space and a comment of the same length, so offsets stay.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) if rest.starts_with("#!") => allocator.alloc_str(&format!("   //{}", &rest[2..])),
        _ => text,
    };
    if is_bare_function(text) {
        (allocator.alloc_str(&format!("void {text}")), 5)
    } else {
        (text, 0)
    }
}

/// Whether the script starts (after comments) with an anonymous `function` or `async function`.
pub(super) fn is_bare_function(text: &str) -> bool {
    // JavaScript's white space includes U+FEFF, the byte-order mark editors put first.
    fn trim(t: &str) -> &str {
        t.trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
    }
    let mut rest = trim(text);
    loop {
        if let Some(after) = rest.strip_prefix("//") {
            rest = trim(memchr::memchr(b'\n', after.as_bytes()).map_or("", |at| &after[at + 1..]));
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = trim(memchr::memmem::find(after.as_bytes(), b"*/").map_or("", |at| &after[at + 2..]));
        } else {
            break;
        }
    }
    let rest = rest.strip_prefix("async").map_or(rest, trim);
    rest.strip_prefix("function")
        .is_some_and(|r| trim(r).starts_with('('))
}

fn sym(symbol: SymbolId) -> Sym {
    symbol.index() as Sym
}

/// The symbols of each function scope (and of the top-level scope): those declared in it or in
/// its blocks, not in nested functions.
fn declared_by_scope(scoping: &Scoping) -> foldhash::HashMap<ScopeId, Vec<Sym>> {
    let mut declared = foldhash::HashMap::<ScopeId, Vec<Sym>>::default();
    for symbol in scoping.symbol_ids() {
        let owner = scoping
            .scope_ancestors(scoping.symbol_scope_id(symbol))
            .find(|&scope| {
                let flags = scoping.scope_flags(scope);
                flags.is_top() || flags.is_function()
            });
        if let Some(owner) = owner {
            declared.entry(owner).or_default().push(sym(symbol));
        }
    }
    declared
}

struct Lowerer<'s> {
    scoping: &'s Scoping,
    /// Symbols by owning function scope, taken when that function is lowered.
    declared: foldhash::HashMap<ScopeId, Vec<Sym>>,
    /// Bytes added before the text (the wrapping parenthesis).
    shift: u32,
    /// Length of the original text, which no span passes.
    len: u32,
    depth: usize,
    next_function: u32,
    /// Function declarations of each function being lowered, innermost last.
    hoisted: Vec<Vec<(Sym, Arc<Function>)>>,
    /// Every name and string made so far: a script says `user`, `context` and its namespace
    /// many times, and each use shares one text.
    texts: hashbrown::HashSet<Text, foldhash::fast::RandomState>,
    /// The texts of `texts`, for the program ([`Program::mentions`]).
    mentions: Mentions,
    /// Each declaration's name, by symbol, once it has been made.
    symbol_names: Vec<Option<Text>>,
}

impl Lowerer<'_> {
    /// The name of a declaration, as [`Lowerer::text`] makes it, looked up by symbol after its
    /// first use (a script names its variables far more often than it declares them).
    fn symbol_text(&mut self, symbol: Sym, name: &str) -> Text {
        if let Some(Some(text)) = self.symbol_names.get(symbol as usize) {
            return text.clone();
        }
        let text = self.text(name);
        if let Some(slot) = self.symbol_names.get_mut(symbol as usize) {
            *slot = Some(text.clone());
        }
        text
    }

    fn text(&mut self, s: &str) -> Text {
        let mentions = &mut self.mentions;
        self.texts
            .get_or_insert_with(s, |s| {
                mentions.add(s);
                Text::from(s)
            })
            .clone()
    }

    fn span(&self, span: oxc_span::Span) -> Span {
        let at = |offset: u32| offset.saturating_sub(self.shift).min(self.len) as usize;
        Span::new(at(span.start), at(span.end))
    }

    fn var(&self, id: &ast::IdentifierReference<'_>) -> Var {
        id.reference_id
            .get()
            .and_then(|reference| self.scoping.get_reference(reference).symbol_id())
            .map_or(Var::Global, |symbol| Var::Local(sym(symbol)))
    }

    // Statements.

    fn stmts(&mut self, statements: &[Statement<'_>]) -> Vec<Stmt> {
        let mut out = Vec::with_capacity(statements.len());
        for statement in statements {
            self.stmt_into(statement, &mut out);
        }
        out
    }

    /// One statement where the grammar allows one (`if` branches, loop bodies, labels).
    fn stmt(&mut self, statement: &Statement<'_>) -> Stmt {
        let mut out = Vec::with_capacity(1);
        self.stmt_into(statement, &mut out);
        if out.len() == 1
            && let Some(only) = out.pop()
        {
            only
        } else {
            Stmt::Block(out)
        }
    }

    fn stmt_into(&mut self, statement: &Statement<'_>, out: &mut Vec<Stmt>) {
        let span = self.span(statement.span());
        if self.depth >= MAX_DEPTH {
            out.push(unknown_stmt("a statement nested too deeply", span));
            return;
        }
        self.depth += 1;
        let lowered = match statement {
            Statement::ExpressionStatement(s) => Stmt::Expr(self.expr(&s.expression)),
            Statement::VariableDeclaration(d) => {
                self.declarations(d, out);
                self.depth -= 1;
                return;
            }
            Statement::FunctionDeclaration(f) => self.function_declaration(f, span),
            Statement::ClassDeclaration(c) => match &c.id {
                Some(id) => Stmt::Decl {
                    kind: DeclKind::Let,
                    pattern: self.bind(id),
                    init: Some(Expr::unknown("a class", self.span(c.span))),
                    span,
                },
                None => unknown_stmt("a class", span),
            },
            Statement::IfStatement(s) => Stmt::If {
                test: self.expr(&s.test),
                then: Box::new(self.stmt(&s.consequent)),
                otherwise: s.alternate.as_ref().map(|a| Box::new(self.stmt(a))),
            },
            Statement::BlockStatement(b) => Stmt::Block(self.stmts(&b.body)),
            Statement::ReturnStatement(r) => Stmt::Return {
                value: r.argument.as_ref().map(|a| self.expr(a)),
                span,
            },
            Statement::ThrowStatement(t) => Stmt::Throw {
                value: self.expr(&t.argument),
                span,
            },
            Statement::TryStatement(t) => Stmt::Try {
                block: self.stmts(&t.block.body),
                param: t
                    .handler
                    .as_ref()
                    .and_then(|h| h.param.as_ref())
                    .map(|p| self.binding(&p.pattern)),
                handler: t.handler.as_ref().map(|h| self.stmts(&h.body.body)),
                finalizer: t.finalizer.as_ref().map(|f| self.stmts(&f.body)),
            },
            Statement::SwitchStatement(s) => Stmt::Switch {
                discriminant: self.expr(&s.discriminant),
                cases: s
                    .cases
                    .iter()
                    .map(|case| SwitchCase {
                        test: case.test.as_ref().map(|t| self.expr(t)),
                        body: self.stmts(&case.consequent),
                        span: self.span(case.span),
                    })
                    .collect(),
            },
            Statement::WhileStatement(w) => Stmt::While {
                test: self.expr(&w.test),
                body: Box::new(self.stmt(&w.body)),
                do_while: false,
            },
            Statement::DoWhileStatement(w) => Stmt::While {
                body: Box::new(self.stmt(&w.body)),
                test: self.expr(&w.test),
                do_while: true,
            },
            Statement::ForStatement(f) => Stmt::For {
                init: f.init.as_ref().map(|init| Box::new(self.for_init(init))),
                test: f.test.as_ref().map(|t| self.expr(t)),
                update: f.update.as_ref().map(|u| self.expr(u)),
                body: Box::new(self.stmt(&f.body)),
            },
            Statement::ForInStatement(f) => Stmt::ForIn {
                left: self.for_target(&f.left),
                object: self.expr(&f.right),
                body: Box::new(self.stmt(&f.body)),
            },
            Statement::ForOfStatement(f) => Stmt::ForOf {
                left: self.for_target(&f.left),
                iterable: self.expr(&f.right),
                body: Box::new(self.stmt(&f.body)),
            },
            Statement::BreakStatement(b) => Stmt::Break {
                label: b.label.as_ref().map(|l| self.text(l.name.as_str())),
                span,
            },
            Statement::ContinueStatement(c) => Stmt::Continue {
                label: c.label.as_ref().map(|l| self.text(l.name.as_str())),
                span,
            },
            Statement::LabeledStatement(l) => Stmt::Labeled {
                label: self.text(l.label.name.as_str()),
                body: Box::new(self.stmt(&l.body)),
            },
            Statement::EmptyStatement(_) => Stmt::Empty,
            Statement::DebuggerStatement(_) => unknown_stmt("a debugger statement", span),
            Statement::WithStatement(_) => unknown_stmt("a with statement", span),
            Statement::TSTypeAliasDeclaration(_)
            | Statement::TSInterfaceDeclaration(_)
            | Statement::TSEnumDeclaration(_)
            | Statement::TSExternalModuleDeclaration(_)
            | Statement::TSNamespaceDeclaration(_)
            | Statement::TSGlobalDeclaration(_)
            | Statement::TSImportEqualsDeclaration(_) => unknown_stmt("a TypeScript declaration", span),
            _ => unknown_stmt("an import or export declaration", span),
        };
        self.depth -= 1;
        out.push(lowered);
    }

    /// One `Decl` per declarator.
    fn declarations(&mut self, d: &ast::VariableDeclaration<'_>, out: &mut Vec<Stmt>) {
        let kind = decl_kind(d.kind);
        for declarator in &d.declarations {
            let pattern = self.binding(&declarator.id);
            let init = declarator.init.as_ref().map(|e| self.expr(e));
            out.push(Stmt::Decl {
                kind,
                pattern,
                init,
                span: self.span(declarator.span),
            });
        }
    }

    fn for_init(&mut self, init: &ast::ForStatementInit<'_>) -> Stmt {
        match init {
            ast::ForStatementInit::VariableDeclaration(d) => {
                let mut decls = Vec::with_capacity(d.declarations.len());
                self.declarations(d, &mut decls);
                if decls.len() == 1
                    && let Some(only) = decls.pop()
                {
                    only
                } else {
                    Stmt::Block(decls)
                }
            }
            other => match other.as_expression() {
                Some(e) => Stmt::Expr(self.expr(e)),
                None => unknown_stmt("a loop initialiser", self.span(other.span())),
            },
        }
    }

    fn for_target(&mut self, left: &ast::ForStatementLeft<'_>) -> ForTarget {
        match left {
            ast::ForStatementLeft::VariableDeclaration(d) => {
                let pattern = match d.declarations.first() {
                    Some(declarator) => self.binding(&declarator.id),
                    None => Pattern::Unknown(self.span(d.span)),
                };
                ForTarget::Decl(decl_kind(d.kind), pattern)
            }
            other => match other.as_assignment_target() {
                Some(target) => ForTarget::Assign(self.target(target)),
                None => ForTarget::Assign(Pattern::Unknown(self.span(other.span()))),
            },
        }
    }

    fn function_declaration(&mut self, f: &ast::Function<'_>, span: Span) -> Stmt {
        let Some((symbol, id)) = f.id.as_ref().and_then(|id| Some((id.symbol_id.get()?, id))) else {
            return unknown_stmt("a function declaration without a name", span);
        };
        if f.generator {
            // Calling a generator runs none of its body; its value is not modelled.
            return Stmt::Decl {
                kind: DeclKind::Var,
                pattern: self.bind(id),
                init: Some(Expr::unknown("a generator function", span)),
                span,
            };
        }
        let function = Arc::new(self.function(f, None));
        let symbol = sym(symbol);
        if let Some(hoisted) = self.hoisted.last_mut() {
            hoisted.push((symbol, Arc::clone(&function)));
        }
        Stmt::FunctionDecl {
            sym: symbol,
            function,
        }
    }

    // Functions.

    fn function(&mut self, f: &ast::Function<'_>, name: Option<(Sym, Text)>) -> Function {
        self.function_parts(FunctionParts {
            scope: f.scope_id.get(),
            name,
            params: &f.params,
            body: f.body.as_deref().map(|b| &b.statements[..]).unwrap_or_default(),
            expression: None,
            is_arrow: false,
            is_async: f.r#async,
            span: self.span(f.span),
        })
    }

    fn arrow(&mut self, f: &ast::ArrowFunctionExpression<'_>) -> Function {
        let (body, expression) = match &f.body {
            ast::ArrowFunctionBody::FunctionBody(b) => (&b.statements[..], None),
            other => (&[][..], other.as_expression()),
        };
        self.function_parts(FunctionParts {
            scope: f.scope_id.get(),
            name: None,
            params: &f.params,
            body,
            expression,
            is_arrow: true,
            is_async: f.r#async,
            span: self.span(f.span),
        })
    }

    fn function_parts(&mut self, parts: FunctionParts<'_, '_>) -> Function {
        let id = self.next_function;
        self.next_function += 1;
        self.hoisted.push(Vec::new());
        let params = self.params(parts.params);
        let body = self.stmts(parts.body);
        let expression = parts.expression.map(|e| self.expr(e));
        let hoisted = self.hoisted.pop().unwrap_or_default();
        let declared = parts
            .scope
            .and_then(|scope| self.declared.remove(&scope))
            .unwrap_or_default();
        Function {
            id,
            name: parts.name,
            params,
            body,
            expression,
            declared,
            hoisted,
            is_arrow: parts.is_arrow,
            is_async: parts.is_async,
            span: parts.span,
        }
    }

    fn params(&mut self, params: &ast::FormalParameters<'_>) -> Vec<Param> {
        let mut out: Vec<Param> = params
            .items
            .iter()
            .map(|item| {
                let pattern = self.binding(&item.pattern);
                Param::Pattern(match &item.initializer {
                    Some(default) => Pattern::Default {
                        pattern: Box::new(pattern),
                        default: self.expr(default),
                    },
                    None => pattern,
                })
            })
            .collect();
        if let Some(rest) = &params.rest {
            out.push(Param::Rest(self.binding(&rest.rest.argument)));
        }
        out
    }

    // Patterns.

    fn bind(&mut self, id: &ast::BindingIdentifier<'_>) -> Pattern {
        let span = self.span(id.span);
        match id.symbol_id.get() {
            Some(symbol) => Pattern::Bind {
                sym: sym(symbol),
                name: self.symbol_text(sym(symbol), id.name.as_str()),
                span,
            },
            None => Pattern::Unknown(span),
        }
    }

    fn binding(&mut self, pattern: &ast::BindingPattern<'_>) -> Pattern {
        let span = self.span(pattern.span());
        if self.depth >= MAX_DEPTH {
            return Pattern::Unknown(span);
        }
        self.depth += 1;
        let lowered = match pattern {
            ast::BindingPattern::BindingIdentifier(id) => self.bind(id),
            ast::BindingPattern::ObjectPattern(o) => Pattern::Object {
                props: o
                    .properties
                    .iter()
                    .map(|p| PatternProp {
                        key: self.prop_key(&p.key, p.computed),
                        value: self.binding(&p.value),
                    })
                    .collect(),
                rest: o.rest.as_ref().map(|r| Box::new(self.binding(&r.argument))),
                span,
            },
            ast::BindingPattern::ArrayPattern(a) => Pattern::Array {
                items: a
                    .elements
                    .iter()
                    .map(|e| e.as_ref().map(|e| self.binding(e)))
                    .collect(),
                rest: a.rest.as_ref().map(|r| Box::new(self.binding(&r.argument))),
                span,
            },
            ast::BindingPattern::AssignmentPattern(a) => Pattern::Default {
                pattern: Box::new(self.binding(&a.left)),
                default: self.expr(&a.right),
            },
        };
        self.depth -= 1;
        lowered
    }

    fn ident_target(&mut self, id: &ast::IdentifierReference<'_>) -> Pattern {
        let name = self.text(id.name.as_str());
        let span = self.span(id.span);
        match self.var(id) {
            Var::Local(sym) => Pattern::Bind { sym, name, span },
            Var::Global => Pattern::Global { name, span },
        }
    }

    fn target(&mut self, target: &ast::AssignmentTarget<'_>) -> Pattern {
        let span = self.span(target.span());
        if let Some(simple) = target.as_simple_assignment_target() {
            return self.simple_target(simple);
        }
        if self.depth >= MAX_DEPTH {
            return Pattern::Unknown(span);
        }
        self.depth += 1;
        let lowered = match target.as_assignment_target_pattern() {
            Some(ast::AssignmentTargetPattern::ArrayAssignmentTarget(a)) => Pattern::Array {
                items: a
                    .elements
                    .iter()
                    .map(|e| e.as_ref().map(|e| self.target_maybe_default(e)))
                    .collect(),
                rest: a.rest.as_ref().map(|r| Box::new(self.target(&r.target))),
                span,
            },
            Some(ast::AssignmentTargetPattern::ObjectAssignmentTarget(o)) => Pattern::Object {
                props: o.properties.iter().map(|p| self.target_prop(p)).collect(),
                rest: o.rest.as_ref().map(|r| Box::new(self.target(&r.target))),
                span,
            },
            None => Pattern::Unknown(span),
        };
        self.depth -= 1;
        lowered
    }

    fn target_maybe_default(&mut self, target: &ast::AssignmentTargetMaybeDefault<'_>) -> Pattern {
        match target {
            ast::AssignmentTargetMaybeDefault::AssignmentTargetWithDefault(d) => Pattern::Default {
                pattern: Box::new(self.target(&d.binding)),
                default: self.expr(&d.init),
            },
            other => match other.as_assignment_target() {
                Some(target) => self.target(target),
                None => Pattern::Unknown(self.span(other.span())),
            },
        }
    }

    fn target_prop(&mut self, prop: &ast::AssignmentTargetProperty<'_>) -> PatternProp {
        match prop {
            ast::AssignmentTargetProperty::AssignmentTargetPropertyIdentifier(p) => {
                let target = self.ident_target(&p.binding);
                PatternProp {
                    key: PropKey::Static(self.text(p.binding.name.as_str())),
                    value: match &p.init {
                        Some(default) => Pattern::Default {
                            pattern: Box::new(target),
                            default: self.expr(default),
                        },
                        None => target,
                    },
                }
            }
            ast::AssignmentTargetProperty::AssignmentTargetPropertyProperty(p) => PatternProp {
                key: self.prop_key(&p.name, p.computed),
                value: self.target_maybe_default(&p.binding),
            },
        }
    }

    fn simple_target(&mut self, target: &ast::SimpleAssignmentTarget<'_>) -> Pattern {
        match target {
            ast::SimpleAssignmentTarget::AssignmentTargetIdentifier(id) => self.ident_target(id),
            ast::SimpleAssignmentTarget::TSAsExpression(e) => self.expr_target(&e.expression),
            ast::SimpleAssignmentTarget::TSSatisfiesExpression(e) => self.expr_target(&e.expression),
            ast::SimpleAssignmentTarget::TSNonNullExpression(e) => self.expr_target(&e.expression),
            ast::SimpleAssignmentTarget::TSTypeAssertion(e) => self.expr_target(&e.expression),
            other => match other.as_member_expression() {
                Some(m) => self.member_target(m),
                None => Pattern::Unknown(self.span(other.span())),
            },
        }
    }

    /// An expression used as an assignment target inside a TypeScript wrapper.
    fn expr_target(&mut self, e: &Expression<'_>) -> Pattern {
        match e {
            Expression::Identifier(id) => self.ident_target(id),
            Expression::ParenthesizedExpression(p) => self.expr_target(&p.expression),
            Expression::TSAsExpression(t) => self.expr_target(&t.expression),
            Expression::TSSatisfiesExpression(t) => self.expr_target(&t.expression),
            Expression::TSNonNullExpression(t) => self.expr_target(&t.expression),
            Expression::TSTypeAssertion(t) => self.expr_target(&t.expression),
            other => match other.as_member_expression() {
                Some(m) => self.member_target(m),
                None => Pattern::Unknown(self.span(other.span())),
            },
        }
    }

    fn member_target(&mut self, m: &ast::MemberExpression<'_>) -> Pattern {
        let span = self.span(m.span());
        if self.depth >= MAX_DEPTH {
            return Pattern::Unknown(span);
        }
        self.depth += 1;
        let member = self.member(m);
        self.depth -= 1;
        Pattern::Member(Expr::new(member, span))
    }

    fn prop_key(&mut self, key: &ast::PropertyKey<'_>, computed: bool) -> PropKey {
        match key {
            ast::PropertyKey::StaticIdentifier(id) => PropKey::Static(self.text(id.name.as_str())),
            ast::PropertyKey::PrivateIdentifier(id) => {
                PropKey::Computed(Box::new(Expr::unknown("a private name", self.span(id.span))))
            }
            other => match other.as_expression() {
                Some(e) if computed => PropKey::Computed(Box::new(self.expr(e))),
                Some(Expression::StringLiteral(s)) => PropKey::Static(self.text(s.value.as_str())),
                Some(Expression::NumericLiteral(n)) => PropKey::Static(self.text(&n.value.to_js_string())),
                Some(e) => PropKey::Computed(Box::new(self.expr(e))),
                None => PropKey::Computed(Box::new(Expr::unknown(
                    "a property name",
                    self.span(other.span()),
                ))),
            },
        }
    }

    // Expressions.

    fn expr(&mut self, expression: &Expression<'_>) -> Expr {
        let span = self.span(expression.span());
        if self.depth >= MAX_DEPTH {
            return Expr::unknown("an expression nested too deeply", span);
        }
        self.depth += 1;
        let lowered = self.expr_at(expression, span);
        self.depth -= 1;
        lowered
    }

    fn expr_at(&mut self, expression: &Expression<'_>, span: Span) -> Expr {
        let kind = match expression {
            Expression::StringLiteral(s) => ExprKind::Str(self.text(s.value.as_str())),
            Expression::NumericLiteral(n) => ExprKind::Num(n.value),
            Expression::BooleanLiteral(b) => ExprKind::Bool(b.value),
            Expression::NullLiteral(_) => ExprKind::Null,
            Expression::BigIntLiteral(_) => ExprKind::Unknown(self.text("a BigInt")),
            Expression::RegExpLiteral(_) => ExprKind::Unknown(self.text("a regular expression")),
            Expression::TemplateLiteral(t) => self.template(t),
            Expression::TaggedTemplateExpression(_) => ExprKind::Unknown(self.text("a tagged template")),
            Expression::Identifier(id) => {
                let var = self.var(id);
                let name = match var {
                    Var::Local(symbol) => self.symbol_text(symbol, id.name.as_str()),
                    Var::Global => self.text(id.name.as_str()),
                };
                ExprKind::Ident { var, name }
            }
            Expression::ThisExpression(_) => ExprKind::This,
            Expression::Super(_) => ExprKind::Unknown(self.text("super")),
            Expression::ArrayExpression(a) => ExprKind::Array(
                a.elements
                    .iter()
                    .map(|element| match element {
                        ast::ArrayExpressionElement::SpreadElement(s) => {
                            Some(Arg::Spread(self.expr(&s.argument)))
                        }
                        ast::ArrayExpressionElement::Elision(_) => None,
                        other => other.as_expression().map(|e| Arg::Expr(self.expr(e))),
                    })
                    .collect(),
            ),
            Expression::ObjectExpression(o) => self.object(o),
            Expression::FunctionExpression(f) => {
                if f.generator {
                    ExprKind::Unknown(self.text("a generator function"))
                } else {
                    let name =
                        f.id.as_ref()
                            .and_then(|id| Some((sym(id.symbol_id.get()?), self.text(id.name.as_str()))));
                    ExprKind::Function(Arc::new(self.function(f, name)))
                }
            }
            Expression::ArrowFunctionExpression(f) => ExprKind::Function(Arc::new(self.arrow(f))),
            Expression::ClassExpression(_) => ExprKind::Unknown(self.text("a class")),
            Expression::AssignmentExpression(a) => ExprKind::Assign {
                op: assign_op(a.operator),
                target: Box::new(self.target(&a.left)),
                value: Box::new(self.expr(&a.right)),
            },
            Expression::UpdateExpression(u) => ExprKind::Update {
                increment: u.operator == UpdateOperator::Increment,
                prefix: u.prefix,
                target: Box::new(self.simple_target(&u.argument)),
            },
            Expression::UnaryExpression(u) => ExprKind::Unary {
                op: unary_op(u.operator),
                argument: Box::new(self.expr(&u.argument)),
            },
            Expression::BinaryExpression(b) => ExprKind::Binary {
                op: binary_op(b.operator),
                left: Box::new(self.expr(&b.left)),
                right: Box::new(self.expr(&b.right)),
            },
            Expression::PrivateInExpression(_) => {
                ExprKind::Unknown(self.text("an `in` test of a private name"))
            }
            Expression::LogicalExpression(l) => ExprKind::Logical {
                op: logical_op(l.operator),
                left: Box::new(self.expr(&l.left)),
                right: Box::new(self.expr(&l.right)),
            },
            Expression::ConditionalExpression(c) => ExprKind::Conditional {
                test: Box::new(self.expr(&c.test)),
                then: Box::new(self.expr(&c.consequent)),
                otherwise: Box::new(self.expr(&c.alternate)),
            },
            Expression::CallExpression(c) => self.call(c),
            Expression::NewExpression(n) => ExprKind::New {
                callee: Box::new(self.expr(&n.callee)),
                args: self.args(&n.arguments),
            },
            Expression::ChainExpression(c) => ExprKind::Chain(Box::new(self.chain_element(&c.expression))),
            Expression::SequenceExpression(s) => {
                ExprKind::Sequence(s.expressions.iter().map(|e| self.expr(e)).collect())
            }
            Expression::AwaitExpression(a) => ExprKind::Await(Box::new(self.expr(&a.argument))),
            Expression::ParenthesizedExpression(p) => return self.expr(&p.expression),
            Expression::TSAsExpression(t) => return self.expr(&t.expression),
            Expression::TSSatisfiesExpression(t) => return self.expr(&t.expression),
            Expression::TSNonNullExpression(t) => return self.expr(&t.expression),
            Expression::TSTypeAssertion(t) => return self.expr(&t.expression),
            Expression::TSInstantiationExpression(t) => return self.expr(&t.expression),
            Expression::YieldExpression(_) => ExprKind::Unknown(self.text("a yield expression")),
            Expression::ImportExpression(_) => ExprKind::Unknown(self.text("an import() call")),
            Expression::ImportMeta(_) => ExprKind::Unknown(self.text("import.meta")),
            Expression::NewTarget(_) => ExprKind::Unknown(self.text("new.target")),
            Expression::JSXElement(_) | Expression::JSXFragment(_) => ExprKind::Unknown(self.text("JSX")),
            Expression::V8IntrinsicExpression(_) => ExprKind::Unknown(self.text("a V8 intrinsic")),
            other => match other.as_member_expression() {
                Some(m) => self.member(m),
                None => ExprKind::Unknown(self.text("an expression")),
            },
        };
        Expr::new(kind, span)
    }

    fn template(&mut self, t: &ast::TemplateLiteral<'_>) -> ExprKind {
        let mut quasis: Vec<Text> = t
            .quasis
            .iter()
            .map(|quasi| self.text(quasi.value.cooked.as_ref().unwrap_or(&quasi.value.raw).as_str()))
            .collect();
        let exprs: Vec<Expr> = t.expressions.iter().map(|e| self.expr(e)).collect();
        quasis.resize(exprs.len() + 1, self.text(""));
        ExprKind::Template {
            quasis: quasis.into_boxed_slice(),
            exprs: exprs.into_boxed_slice(),
        }
    }

    fn object(&mut self, o: &ast::ObjectExpression<'_>) -> ExprKind {
        ExprKind::Object(
            o.properties
                .iter()
                .map(|property| match property {
                    ast::ObjectPropertyKind::ObjectProperty(p) => {
                        let key = self.prop_key(&p.key, p.computed);
                        let span = self.span(p.span);
                        match p.kind {
                            ast::PropertyKind::Init => Prop::KeyValue {
                                key,
                                value: self.expr(&p.value),
                                span,
                            },
                            ast::PropertyKind::Get | ast::PropertyKind::Set => Prop::Accessor { key, span },
                        }
                    }
                    ast::ObjectPropertyKind::SpreadProperty(s) => Prop::Spread(self.expr(&s.argument)),
                })
                .collect(),
        )
    }

    fn member(&mut self, m: &ast::MemberExpression<'_>) -> ExprKind {
        match m {
            ast::MemberExpression::StaticMemberExpression(m) => ExprKind::Member {
                object: Box::new(self.expr(&m.object)),
                property: MemberProp::Static(self.text(m.property.name.as_str())),
                optional: m.optional,
            },
            ast::MemberExpression::ComputedMemberExpression(m) => ExprKind::Member {
                object: Box::new(self.expr(&m.object)),
                property: MemberProp::Computed(Box::new(self.expr(&m.expression))),
                optional: m.optional,
            },
            ast::MemberExpression::PrivateFieldExpression(_) => {
                ExprKind::Unknown(self.text("a private field"))
            }
        }
    }

    fn call(&mut self, c: &ast::CallExpression<'_>) -> ExprKind {
        ExprKind::Call {
            callee: Box::new(self.expr(&c.callee)),
            args: self.args(&c.arguments),
            optional: c.optional,
        }
    }

    fn args(&mut self, arguments: &[ast::Argument<'_>]) -> Vec<Arg> {
        arguments
            .iter()
            .map(|argument| match argument {
                ast::Argument::SpreadElement(s) => Arg::Spread(self.expr(&s.argument)),
                other => match other.as_expression() {
                    Some(e) => Arg::Expr(self.expr(e)),
                    None => Arg::Expr(Expr::unknown("an argument", self.span(other.span()))),
                },
            })
            .collect()
    }

    fn chain_element(&mut self, element: &ast::ChainElement<'_>) -> Expr {
        let span = self.span(element.span());
        match element {
            ast::ChainElement::CallExpression(c) => Expr::new(self.call(c), span),
            ast::ChainElement::TSNonNullExpression(t) => self.expr(&t.expression),
            other => match other.as_member_expression() {
                Some(m) => Expr::new(self.member(m), span),
                None => Expr::unknown("an optional chain", span),
            },
        }
    }
}

struct FunctionParts<'p, 'a> {
    scope: Option<ScopeId>,
    name: Option<(Sym, Text)>,
    params: &'p ast::FormalParameters<'a>,
    body: &'p [Statement<'a>],
    expression: Option<&'p Expression<'a>>,
    is_arrow: bool,
    is_async: bool,
    span: Span,
}

fn unknown_stmt(what: &str, span: Span) -> Stmt {
    Stmt::Unknown {
        what: Text::from(what),
        span,
    }
}

fn decl_kind(kind: ast::VariableDeclarationKind) -> DeclKind {
    match kind {
        ast::VariableDeclarationKind::Var => DeclKind::Var,
        ast::VariableDeclarationKind::Let => DeclKind::Let,
        ast::VariableDeclarationKind::Const
        | ast::VariableDeclarationKind::Using
        | ast::VariableDeclarationKind::AwaitUsing => DeclKind::Const,
    }
}

fn assign_op(op: AssignmentOperator) -> AssignOp {
    use AssignmentOperator as A;
    match op {
        A::Assign => AssignOp::Assign,
        A::Addition => AssignOp::Compound(BinaryOp::Add),
        A::Subtraction => AssignOp::Compound(BinaryOp::Sub),
        A::Multiplication => AssignOp::Compound(BinaryOp::Mul),
        A::Division => AssignOp::Compound(BinaryOp::Div),
        A::Remainder => AssignOp::Compound(BinaryOp::Rem),
        A::Exponential => AssignOp::Compound(BinaryOp::Exp),
        A::ShiftLeft => AssignOp::Compound(BinaryOp::Shl),
        A::ShiftRight => AssignOp::Compound(BinaryOp::Shr),
        A::ShiftRightZeroFill => AssignOp::Compound(BinaryOp::UShr),
        A::BitwiseOR => AssignOp::Compound(BinaryOp::BitOr),
        A::BitwiseXOR => AssignOp::Compound(BinaryOp::BitXor),
        A::BitwiseAnd => AssignOp::Compound(BinaryOp::BitAnd),
        A::LogicalOr => AssignOp::Logical(LogicalOp::Or),
        A::LogicalAnd => AssignOp::Logical(LogicalOp::And),
        A::LogicalNullish => AssignOp::Logical(LogicalOp::Nullish),
    }
}

fn binary_op(op: BinaryOperator) -> BinaryOp {
    use BinaryOperator as B;
    match op {
        B::Equality => BinaryOp::LooseEq,
        B::Inequality => BinaryOp::LooseNotEq,
        B::StrictEquality => BinaryOp::StrictEq,
        B::StrictInequality => BinaryOp::StrictNotEq,
        B::LessThan => BinaryOp::Lt,
        B::LessEqualThan => BinaryOp::LtEq,
        B::GreaterThan => BinaryOp::Gt,
        B::GreaterEqualThan => BinaryOp::GtEq,
        B::Addition => BinaryOp::Add,
        B::Subtraction => BinaryOp::Sub,
        B::Multiplication => BinaryOp::Mul,
        B::Division => BinaryOp::Div,
        B::Remainder => BinaryOp::Rem,
        B::Exponential => BinaryOp::Exp,
        B::ShiftLeft => BinaryOp::Shl,
        B::ShiftRight => BinaryOp::Shr,
        B::ShiftRightZeroFill => BinaryOp::UShr,
        B::BitwiseOR => BinaryOp::BitOr,
        B::BitwiseXOR => BinaryOp::BitXor,
        B::BitwiseAnd => BinaryOp::BitAnd,
        B::In => BinaryOp::In,
        B::Instanceof => BinaryOp::Instanceof,
    }
}

fn logical_op(op: LogicalOperator) -> LogicalOp {
    match op {
        LogicalOperator::And => LogicalOp::And,
        LogicalOperator::Or => LogicalOp::Or,
        LogicalOperator::Coalesce => LogicalOp::Nullish,
    }
}

fn unary_op(op: UnaryOperator) -> UnaryOp {
    match op {
        UnaryOperator::UnaryPlus => UnaryOp::Plus,
        UnaryOperator::UnaryNegation => UnaryOp::Minus,
        UnaryOperator::LogicalNot => UnaryOp::Not,
        UnaryOperator::BitwiseNot => UnaryOp::BitNot,
        UnaryOperator::Typeof => UnaryOp::Typeof,
        UnaryOperator::Void => UnaryOp::Void,
        UnaryOperator::Delete => UnaryOp::Delete,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower_ir(text: &str) -> Program {
        lower(text).ir
    }
    use crate::js::ir::ExprKind as K;

    /// Every statement, expression, pattern and function of a program, in lowering order.
    #[derive(Default)]
    struct All<'p> {
        stmts: Vec<&'p Stmt>,
        exprs: Vec<&'p Expr>,
        patterns: Vec<&'p Pattern>,
        functions: Vec<&'p Function>,
    }

    impl<'p> crate::js::walk::Visit<'p> for All<'p> {
        fn stmt(&mut self, s: &'p Stmt) {
            self.stmts.push(s);
            crate::js::walk::walk_stmt(self, s);
        }

        fn function(&mut self, f: &'p Function) {
            self.functions.push(f);
            crate::js::walk::walk_function(self, f);
        }

        fn pattern(&mut self, p: &'p Pattern) {
            self.patterns.push(p);
            crate::js::walk::walk_pattern(self, p);
        }

        fn expr(&mut self, e: &'p Expr) {
            self.exprs.push(e);
            crate::js::walk::walk_expr(self, e);
        }
    }

    impl<'p> All<'p> {
        fn of(program: &'p Program) -> All<'p> {
            let mut all = All::default();
            crate::js::walk::Visit::program(&mut all, program);
            all
        }

        /// Every `Ident` expression named `name`.
        fn refs(&self, name: &str) -> Vec<Var> {
            self.exprs
                .iter()
                .filter_map(|e| match &e.kind {
                    K::Ident { var, name: n } if &**n == name => Some(var.clone()),
                    _ => None,
                })
                .collect()
        }

        /// Every symbol bound under `name` by a pattern.
        fn binds(&self, name: &str) -> Vec<Sym> {
            self.patterns
                .iter()
                .filter_map(|p| match p {
                    Pattern::Bind { sym, name: n, .. } if &**n == name => Some(*sym),
                    _ => None,
                })
                .collect()
        }

        /// The one symbol bound (declared or assigned) under `name`.
        fn bind(&self, name: &str) -> Sym {
            let mut binds = self.binds(name);
            binds.dedup();
            assert_eq!(binds.len(), 1, "bindings of {name}: {binds:?}");
            binds[0]
        }

        fn unknowns(&self) -> Vec<&str> {
            self.exprs
                .iter()
                .filter_map(|e| match &e.kind {
                    K::Unknown(what) => Some(&**what),
                    _ => None,
                })
                .collect()
        }
    }

    fn body_of(program: &Program) -> &[Stmt] {
        &program.body
    }

    /// The only expression of an expression statement at `index` of `stmts`.
    fn expr_stmt(stmts: &[Stmt], index: usize) -> &Expr {
        match &stmts[index] {
            Stmt::Expr(e) => e,
            other => panic!("not an expression statement: {other:?}"),
        }
    }

    fn local(var: &Var) -> Sym {
        match var {
            Var::Local(s) => *s,
            Var::Global => panic!("global"),
        }
    }

    fn bind_sym(p: &Pattern) -> Sym {
        match p {
            Pattern::Bind { sym, .. } => *sym,
            other => panic!("not a binding: {other:?}"),
        }
    }

    fn static_key(key: &PropKey) -> &str {
        match key {
            PropKey::Static(k) => k,
            PropKey::Computed(e) => panic!("computed key {e:?}"),
        }
    }

    #[test]
    fn shadowing_resolves_each_reference_to_its_declaration() {
        let p = lower_ir("const ns = 'a'; function f() { const ns = 'b'; return ns; } ns;");
        let all = All::of(&p);
        let binds = all.binds("ns");
        assert_eq!(binds.len(), 2);
        assert_ne!(binds[0], binds[1]);
        assert_eq!(all.refs("ns"), [Var::Local(binds[1]), Var::Local(binds[0])]);
        assert!(p.declared.contains(&binds[0]));
        let f = all.functions[0];
        assert_eq!(f.declared, [binds[1]]);
        assert!(!p.declared.contains(&binds[1]));
    }

    #[test]
    fn closures_refer_to_the_outer_declaration() {
        let p = lower_ir("function outer(a) { let count = 0; return () => { count += a; return count; }; }");
        let all = All::of(&p);
        let count = all.bind("count");
        let a = all.bind("a");
        assert!(all.refs("count").iter().all(|v| *v == Var::Local(count)));
        let [outer, inner] = all.functions[..] else {
            panic!()
        };
        assert!(inner.is_arrow);
        assert_eq!(outer.declared, [a, count]);
        assert!(inner.declared.is_empty());
        assert_eq!(all.refs("a"), [Var::Local(a)]);
        assert_ne!(outer.id, inner.id);
    }

    #[test]
    fn function_declarations_are_hoisted() {
        let p = lower_ir(
            "exports.onExecutePostLogin = handler;\nasync function handler(event, api) {\n  if (event.user) { function inner() {} }\n  const g = function named() { return named; };\n}",
        );
        let all = All::of(&p);
        let assign = expr_stmt(body_of(&p), 0);
        let K::Assign {
            op: AssignOp::Assign,
            target,
            value,
        } = &assign.kind
        else {
            panic!("{assign:?}")
        };
        assert!(matches!(&**target, Pattern::Member(_)));
        let K::Ident { var, .. } = &value.kind else {
            panic!()
        };
        let handler = local(var);
        assert_eq!(p.hoisted.len(), 1);
        assert_eq!(p.hoisted[0].0, handler);
        assert!(p.declared.contains(&handler));
        let Stmt::FunctionDecl { sym, function } = &p.body[1] else {
            panic!("{:?}", p.body[1])
        };
        assert_eq!(*sym, handler);
        assert!(Arc::ptr_eq(function, &p.hoisted[0].1));
        assert!(function.is_async && !function.is_arrow);
        assert!(function.name.is_none());
        assert_eq!(
            function.hoisted.len(),
            1,
            "the block's function is hoisted to handler"
        );
        let inner = function.hoisted[0].0;
        assert!(function.declared.contains(&inner));
        assert!(!p.declared.contains(&inner));
        let named = all.functions.iter().find(|f| f.name.is_some()).unwrap();
        let (named_sym, name) = named.name.clone().unwrap();
        assert_eq!(&*name, "named");
        assert_eq!(all.refs("named"), [Var::Local(named_sym)]);
        assert_eq!(named.declared, [named_sym]);
        assert!(!function.declared.contains(&named_sym));
        let ids: Vec<u32> = all.functions.iter().map(|f| f.id).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn rules_keep_spans_of_the_original_text() {
        let text = "function (user, context, callback) {\n  context.idToken['x'] = 1;\n  callback(null, user, context);\n}";
        let p = lower_ir(text);
        let all = All::of(&p);
        let key = all
            .exprs
            .iter()
            .find(|e| matches!(&e.kind, K::Str(s) if &**s == "x"))
            .unwrap();
        assert_eq!(&text[key.span.start as usize..key.span.end as usize], "'x'");
        let rule = all.functions[0];
        assert_eq!(&text[rule.span.start as usize..rule.span.end as usize], text);
        let user = all.bind("user");
        assert_eq!(all.refs("user"), [Var::Local(user)]);
        assert_eq!(all.refs("callback").len(), 1);
        assert!(matches!(all.refs("callback")[0], Var::Local(_)));
        assert_eq!(rule.declared.len(), 3);
        assert!(p.declared.is_empty());
    }

    #[test]
    fn analyse_fills_the_ir_and_leaves_it_empty_on_syntax_errors() {
        let ok = crate::js::analyse("function (user, context, callback) { context.x = @@ENV@@; }");
        assert!(ok.errors.is_empty());
        assert_eq!(ok.ir.body.len(), 1);
        assert_eq!(All::of(&ok.ir).refs("__ENV__"), [Var::Global]);
        let bad = crate::js::analyse("const = ;");
        assert!(!bad.errors.is_empty());
        assert!(bad.ir.body.is_empty() && bad.ir.declared.is_empty());
    }

    #[test]
    fn globals_stay_global() {
        let p = lower_ir("const k = Object.keys(JSON.parse(s)); let u = undefined; x = 1; require('a');");
        let all = All::of(&p);
        for name in ["Object", "JSON", "s", "undefined", "require"] {
            assert_eq!(all.refs(name), [Var::Global], "{name}");
        }
        let global = all
            .patterns
            .iter()
            .any(|p| matches!(p, Pattern::Global { name, .. } if &**name == "x"));
        assert!(global);
        assert_eq!(p.declared, [all.bind("k"), all.bind("u")]);
    }

    #[test]
    fn declarations_split_per_declarator_and_destructure() {
        let p = lower_ir(
            "let a = 1, b; const { c, d: [e, , f = 2, ...g], ['h' + 1]: i, 'j': j, 3: k, l = 4, ...m } = o; var [n] = [];",
        );
        let all = All::of(&p);
        assert_eq!(p.body.len(), 4);
        let Stmt::Decl {
            kind: DeclKind::Let,
            pattern,
            init: Some(_),
            ..
        } = &p.body[0]
        else {
            panic!()
        };
        assert_eq!(bind_sym(pattern), all.bind("a"));
        assert!(matches!(
            &p.body[1],
            Stmt::Decl {
                kind: DeclKind::Let,
                init: None,
                ..
            }
        ));
        assert!(matches!(
            &p.body[3],
            Stmt::Decl {
                kind: DeclKind::Var,
                pattern: Pattern::Array { .. },
                ..
            }
        ));
        let Stmt::Decl {
            kind: DeclKind::Const,
            pattern: Pattern::Object { props, rest, .. },
            ..
        } = &p.body[2]
        else {
            panic!()
        };
        let keys: Vec<Option<&str>> = props
            .iter()
            .map(|p| match &p.key {
                PropKey::Static(k) => Some(&**k),
                PropKey::Computed(_) => None,
            })
            .collect();
        assert_eq!(
            keys,
            [Some("c"), Some("d"), None, Some("j"), Some("3"), Some("l")]
        );
        assert_eq!(bind_sym(&props[0].value), all.bind("c"));
        let Pattern::Array {
            items,
            rest: Some(array_rest),
            ..
        } = &props[1].value
        else {
            panic!()
        };
        assert_eq!(items.len(), 3);
        assert!(items[1].is_none());
        assert!(
            matches!(&items[2], Some(Pattern::Default { pattern, default }) if bind_sym(pattern) == all.bind("f") && matches!(default.kind, K::Num(2.0)))
        );
        assert_eq!(bind_sym(array_rest), all.bind("g"));
        let Pattern::Default { pattern, default } = &props[5].value else {
            panic!()
        };
        assert_eq!(bind_sym(pattern), all.bind("l"));
        assert!(matches!(default.kind, K::Num(4.0)));
        assert_eq!(bind_sym(rest.as_deref().unwrap()), all.bind("m"));
        assert_eq!(p.declared.len(), 12);
    }

    #[test]
    fn parameters_with_defaults_destructuring_and_rest() {
        let p = lower_ir("function f(a, b = 1, { c, d = 2 } = {}, [e], ...rest) {}");
        let all = All::of(&p);
        let f = all.functions[0];
        assert_eq!(f.params.len(), 5);
        assert!(matches!(&f.params[0], Param::Pattern(Pattern::Bind { name, .. }) if &**name == "a"));
        assert!(
            matches!(&f.params[1], Param::Pattern(Pattern::Default { pattern, default }) if bind_sym(pattern) == all.bind("b") && matches!(default.kind, K::Num(1.0)))
        );
        let Param::Pattern(Pattern::Default { pattern, default }) = &f.params[2] else {
            panic!()
        };
        assert!(matches!(default.kind, K::Object(ref props) if props.is_empty()));
        let Pattern::Object { props, .. } = &**pattern else {
            panic!()
        };
        assert_eq!(static_key(&props[1].key), "d");
        assert!(matches!(&props[1].value, Pattern::Default { .. }));
        assert!(matches!(&f.params[3], Param::Pattern(Pattern::Array { .. })));
        assert!(matches!(&f.params[4], Param::Rest(Pattern::Bind { name, .. }) if &**name == "rest"));
        assert_eq!(f.declared.len(), 6);
    }

    #[test]
    fn destructuring_assignments() {
        let p = lower_ir(
            "let a, b, o = {}; ({ a, x: { b = 1 }, [k]: o.p, ...o.q } = src); [a, , o['r'] = 2, ...b] = arr;",
        );
        let all = All::of(&p);
        let (a, b) = (all.bind("a"), all.bind("b"));
        let obj = expr_stmt(&p.body, 3);
        let K::Assign {
            op: AssignOp::Assign,
            target,
            ..
        } = &obj.kind
        else {
            panic!("{obj:?}")
        };
        let Pattern::Object {
            props,
            rest: Some(rest),
            ..
        } = &**target
        else {
            panic!("{target:?}")
        };
        assert_eq!(static_key(&props[0].key), "a");
        assert_eq!(bind_sym(&props[0].value), a);
        let Pattern::Object { props: inner, .. } = &props[1].value else {
            panic!()
        };
        assert_eq!(static_key(&inner[0].key), "b");
        assert!(matches!(&inner[0].value, Pattern::Default { pattern, .. } if bind_sym(pattern) == b));
        assert!(
            matches!(&props[2].key, PropKey::Computed(k) if matches!(&k.kind, K::Ident { var: Var::Global, .. }))
        );
        assert!(matches!(&props[2].value, Pattern::Member(_)));
        assert!(matches!(&**rest, Pattern::Member(_)));
        let arr = expr_stmt(&p.body, 4);
        let K::Assign { target, .. } = &arr.kind else {
            panic!()
        };
        let Pattern::Array {
            items,
            rest: Some(rest),
            ..
        } = &**target
        else {
            panic!()
        };
        assert_eq!(items.len(), 3);
        assert_eq!(bind_sym(items[0].as_ref().unwrap()), a);
        assert!(items[1].is_none());
        assert!(
            matches!(&items[2], Some(Pattern::Default { pattern, .. }) if matches!(**pattern, Pattern::Member(_)))
        );
        assert_eq!(bind_sym(rest), b);
    }

    #[test]
    fn if_else_blocks_return_and_throw() {
        let p = lower_ir(
            "function f(a) { if (a) { return 1; } else if (!a) throw new Error('no'); else { ; } return; }",
        );
        let f = All::of(&p).functions[0];
        let Stmt::If {
            test,
            then,
            otherwise: Some(otherwise),
        } = &f.body[0]
        else {
            panic!("{:?}", f.body)
        };
        assert!(matches!(
            test.kind,
            K::Ident {
                var: Var::Local(_),
                ..
            }
        ));
        assert!(matches!(&**then, Stmt::Block(b) if matches!(&b[..], [Stmt::Return { value: Some(_), .. }])));
        let Stmt::If {
            then,
            otherwise: Some(last),
            ..
        } = &**otherwise
        else {
            panic!()
        };
        assert!(matches!(&**then, Stmt::Throw { value, .. } if matches!(value.kind, K::New { .. })));
        assert!(matches!(&**last, Stmt::Block(b) if matches!(&b[..], [Stmt::Empty])));
        assert!(matches!(&f.body[1], Stmt::Return { value: None, .. }));
    }

    #[test]
    fn switch_cases_in_source_order() {
        let p = lower_ir("switch (x) { case 1: a(); case 'b': break; default: c(); case 3: }");
        let Stmt::Switch { discriminant, cases } = &p.body[0] else {
            panic!()
        };
        assert!(matches!(discriminant.kind, K::Ident { .. }));
        assert_eq!(cases.len(), 4);
        assert!(matches!(cases[0].test.as_ref().unwrap().kind, K::Num(1.0)));
        assert!(matches!(&cases[1].body[..], [Stmt::Break { label: None, .. }]));
        assert!(cases[2].test.is_none());
        assert_eq!(cases[2].body.len(), 1);
        assert!(cases[3].body.is_empty());
    }

    #[test]
    fn try_catch_finally() {
        let p = lower_ir(
            "try { a(); } catch ({ message }) { b(message); } finally { c(); } try { d(); } catch { }",
        );
        let all = All::of(&p);
        let Stmt::Try {
            block,
            param: Some(Pattern::Object { .. }),
            handler: Some(handler),
            finalizer: Some(finalizer),
        } = &p.body[0]
        else {
            panic!("{:?}", p.body[0])
        };
        assert_eq!((block.len(), handler.len(), finalizer.len()), (1, 1, 1));
        let message = all.bind("message");
        assert_eq!(all.refs("message"), [Var::Local(message)]);
        assert!(p.declared.contains(&message));
        assert!(
            matches!(&p.body[1], Stmt::Try { param: None, handler: Some(h), finalizer: None, .. } if h.is_empty())
        );
    }

    #[test]
    fn a_program_knows_every_name_key_and_string_it_says() {
        let p = lower_ir(
            "const { method: m } = cfg; api.connections.update(id, { options: {} }); f(`a${b}c`, 'PATCH');",
        );
        for said in [
            "method",
            "m",
            "cfg",
            "api",
            "connections",
            "update",
            "options",
            "a",
            "c",
            "PATCH",
        ] {
            assert!(p.may_mention(said), "{said}");
        }
    }

    #[test]
    fn mentions_answer_not_held_for_nearly_every_other_text() {
        let mut mentions = Mentions::default();
        let held: Vec<String> = (0..40).map(|i| format!("name{i}")).collect();
        held.iter().for_each(|t| mentions.add(t));
        assert!(held.iter().all(|t| mentions.may_hold(t)));
        // 40 texts set at most 80 of 512 bits: about 2% of other texts look held.
        let wrong = (0..1000)
            .filter(|i| mentions.may_hold(&format!("other{i}")))
            .count();
        assert!(wrong < 60, "{wrong}");
    }

    #[test]
    fn optional_chains() {
        let p = lower_ir("a?.b.c; a.b?.(1); a?.[k];");
        let chain = expr_stmt(&p.body, 0);
        let K::Chain(inner) = &chain.kind else {
            panic!("{chain:?}")
        };
        let K::Member {
            object,
            optional: false,
            property: MemberProp::Static(c),
        } = &inner.kind
        else {
            panic!()
        };
        assert_eq!(&**c, "c");
        assert!(matches!(&object.kind, K::Member { optional: true, .. }));
        let call = expr_stmt(&p.body, 1);
        let K::Chain(inner) = &call.kind else { panic!() };
        assert!(
            matches!(&inner.kind, K::Call { optional: true, callee, .. } if matches!(callee.kind, K::Member { optional: false, .. }))
        );
        let computed = expr_stmt(&p.body, 2);
        assert!(
            matches!(&computed.kind, K::Chain(inner) if matches!(inner.kind, K::Member { optional: true, property: MemberProp::Computed(_), .. }))
        );
    }

    #[test]
    fn template_literal_parts() {
        let p = lower_ir("`a${x}b${y}`; `${z}`; `\\n`; tag`t${1}`;");
        let t = expr_stmt(&p.body, 0);
        let K::Template { quasis, exprs } = &t.kind else {
            panic!()
        };
        assert_eq!(quasis.iter().map(|q| &**q).collect::<Vec<_>>(), ["a", "b", ""]);
        assert_eq!(exprs.len(), 2);
        let K::Template { quasis, exprs } = &expr_stmt(&p.body, 1).kind else {
            panic!()
        };
        assert_eq!((quasis.len(), exprs.len()), (2, 1));
        assert!(matches!(&expr_stmt(&p.body, 2).kind, K::Template { quasis, .. } if &*quasis[0] == "\n"));
        assert!(matches!(&expr_stmt(&p.body, 3).kind, K::Unknown(w) if &**w == "a tagged template"));
    }

    #[test]
    fn labels_loops_and_jumps() {
        let p = lower_ir(
            "outer: for (let i = 0, j = 1; i < 3; i++) { for (const x of xs) { if (x) continue outer; else break outer; } }\n\
             for (k in o) {} for (const [a, b] of c) {} while (w) ; do { w-- } while (w > 0); for (;;) break; for (i = 0; ;) {}",
        );
        let all = All::of(&p);
        let Stmt::Labeled { label, body } = &p.body[0] else {
            panic!()
        };
        assert_eq!(&**label, "outer");
        let Stmt::For {
            init: Some(init),
            test: Some(_),
            update: Some(update),
            body,
        } = &**body
        else {
            panic!()
        };
        assert!(matches!(&**init, Stmt::Block(decls) if decls.len() == 2));
        assert!(
            matches!(&update.kind, K::Update { increment: true, prefix: false, target } if matches!(**target, Pattern::Bind { .. }))
        );
        let Stmt::Block(inner) = &**body else { panic!() };
        let Stmt::ForOf {
            left: ForTarget::Decl(DeclKind::Const, Pattern::Bind { .. }),
            ..
        } = &inner[0]
        else {
            panic!()
        };
        assert!(
            all.stmts
                .iter()
                .any(|s| matches!(s, Stmt::Continue { label: Some(l), .. } if &**l == "outer"))
        );
        assert!(
            all.stmts
                .iter()
                .any(|s| matches!(s, Stmt::Break { label: Some(l), .. } if &**l == "outer"))
        );
        assert!(matches!(
            &p.body[1],
            Stmt::ForIn {
                left: ForTarget::Assign(Pattern::Global { .. }),
                ..
            }
        ));
        assert!(matches!(
            &p.body[2],
            Stmt::ForOf {
                left: ForTarget::Decl(DeclKind::Const, Pattern::Array { .. }),
                ..
            }
        ));
        assert!(
            matches!(&p.body[3], Stmt::While { do_while: false, body, .. } if matches!(**body, Stmt::Empty))
        );
        assert!(matches!(&p.body[4], Stmt::While { do_while: true, .. }));
        assert!(
            matches!(&p.body[5], Stmt::For { init: None, test: None, update: None, body } if matches!(**body, Stmt::Break { label: None, .. }))
        );
        assert!(matches!(&p.body[6], Stmt::For { init: Some(init), .. } if matches!(**init, Stmt::Expr(_))));
        let p = lower_ir("async function f() { for await (const x of c) {} }");
        let f = All::of(&p).functions[0];
        assert!(matches!(
            &f.body[..],
            [Stmt::ForOf {
                left: ForTarget::Decl(DeclKind::Const, Pattern::Bind { .. }),
                ..
            }]
        ));
    }

    #[test]
    fn update_expressions() {
        let p = lower_ir("let n = 0; ++n; n--; o.c++; --o['d'];");
        let n = All::of(&p).bind("n");
        let update = |i: usize| match &expr_stmt(&p.body, i).kind {
            K::Update {
                increment,
                prefix,
                target,
            } => (*increment, *prefix, (**target).clone()),
            other => panic!("{other:?}"),
        };
        let (inc, pre, target) = update(1);
        assert!(inc && pre && bind_sym(&target) == n);
        let (inc, pre, _) = update(2);
        assert!(!inc && !pre);
        assert!(matches!(update(3), (true, false, Pattern::Member(_))));
        assert!(matches!(update(4), (false, true, Pattern::Member(_))));
    }

    #[test]
    fn assignment_operators() {
        let ops = [
            ("=", AssignOp::Assign),
            ("+=", AssignOp::Compound(BinaryOp::Add)),
            ("-=", AssignOp::Compound(BinaryOp::Sub)),
            ("*=", AssignOp::Compound(BinaryOp::Mul)),
            ("/=", AssignOp::Compound(BinaryOp::Div)),
            ("%=", AssignOp::Compound(BinaryOp::Rem)),
            ("**=", AssignOp::Compound(BinaryOp::Exp)),
            ("<<=", AssignOp::Compound(BinaryOp::Shl)),
            (">>=", AssignOp::Compound(BinaryOp::Shr)),
            (">>>=", AssignOp::Compound(BinaryOp::UShr)),
            ("|=", AssignOp::Compound(BinaryOp::BitOr)),
            ("^=", AssignOp::Compound(BinaryOp::BitXor)),
            ("&=", AssignOp::Compound(BinaryOp::BitAnd)),
            ("&&=", AssignOp::Logical(LogicalOp::And)),
            ("||=", AssignOp::Logical(LogicalOp::Or)),
            ("??=", AssignOp::Logical(LogicalOp::Nullish)),
        ];
        for (text, expected) in ops {
            let p = lower_ir(&format!("let x; x {text} 1;"));
            let x = All::of(&p).bind("x");
            let K::Assign { op, target, .. } = &expr_stmt(&p.body, 1).kind else {
                panic!()
            };
            assert_eq!(*op, expected, "{text}");
            assert_eq!(bind_sym(target), x);
        }
    }

    #[test]
    fn binary_unary_and_logical_operators() {
        let binary = [
            ("===", BinaryOp::StrictEq),
            ("!==", BinaryOp::StrictNotEq),
            ("==", BinaryOp::LooseEq),
            ("!=", BinaryOp::LooseNotEq),
            ("+", BinaryOp::Add),
            ("-", BinaryOp::Sub),
            ("*", BinaryOp::Mul),
            ("/", BinaryOp::Div),
            ("%", BinaryOp::Rem),
            ("**", BinaryOp::Exp),
            ("<", BinaryOp::Lt),
            ("<=", BinaryOp::LtEq),
            (">", BinaryOp::Gt),
            (">=", BinaryOp::GtEq),
            ("in", BinaryOp::In),
            ("instanceof", BinaryOp::Instanceof),
            ("&", BinaryOp::BitAnd),
            ("|", BinaryOp::BitOr),
            ("^", BinaryOp::BitXor),
            ("<<", BinaryOp::Shl),
            (">>", BinaryOp::Shr),
            (">>>", BinaryOp::UShr),
        ];
        for (text, expected) in binary {
            let p = lower_ir(&format!("a {text} b;"));
            assert!(
                matches!(expr_stmt(&p.body, 0).kind, K::Binary { op, .. } if op == expected),
                "{text}"
            );
        }
        let unary = [
            ("!", UnaryOp::Not),
            ("-", UnaryOp::Minus),
            ("+", UnaryOp::Plus),
            ("~", UnaryOp::BitNot),
            ("typeof ", UnaryOp::Typeof),
            ("void ", UnaryOp::Void),
            ("delete ", UnaryOp::Delete),
        ];
        for (text, expected) in unary {
            let p = lower_ir(&format!("{text}a.b;"));
            assert!(
                matches!(expr_stmt(&p.body, 0).kind, K::Unary { op, .. } if op == expected),
                "{text}"
            );
        }
        for (text, expected) in [
            ("&&", LogicalOp::And),
            ("||", LogicalOp::Or),
            ("??", LogicalOp::Nullish),
        ] {
            let p = lower_ir(&format!("a {text} b;"));
            assert!(
                matches!(expr_stmt(&p.body, 0).kind, K::Logical { op, .. } if op == expected),
                "{text}"
            );
        }
        let p = lower_ir("c ? 1 : 'x'; (a, b, c);");
        assert!(matches!(expr_stmt(&p.body, 0).kind, K::Conditional { .. }));
        assert!(matches!(&expr_stmt(&p.body, 1).kind, K::Sequence(items) if items.len() == 3));
    }

    #[test]
    fn object_literals() {
        let p = lower_ir(
            "const v = 1; ({ a: 1, v, [k]: 2, 'q-s': 3, 1.5: 4, 1e21: 5, 0x10: 6, m() { return this; }, get g() { return 1; }, set g(x) {}, ...rest });",
        );
        let all = All::of(&p);
        let K::Object(props) = &expr_stmt(&p.body, 1).kind else {
            panic!()
        };
        let key = |i: usize| match &props[i] {
            Prop::KeyValue { key, .. } | Prop::Accessor { key, .. } => key,
            Prop::Spread(_) => panic!(),
        };
        assert_eq!(static_key(key(0)), "a");
        assert_eq!(static_key(key(1)), "v");
        assert!(
            matches!(&props[1], Prop::KeyValue { value, .. } if matches!(&value.kind, K::Ident { var: Var::Local(s), .. } if *s == all.bind("v")))
        );
        assert!(matches!(key(2), PropKey::Computed(_)));
        assert_eq!(static_key(key(3)), "q-s");
        assert_eq!(static_key(key(4)), "1.5");
        assert_eq!(static_key(key(5)), "1e+21");
        assert_eq!(static_key(key(6)), "16");
        assert!(
            matches!(&props[7], Prop::KeyValue { value, .. } if matches!(&value.kind, K::Function(f) if f.name.is_none() && !f.is_arrow))
        );
        assert!(matches!(&props[8], Prop::Accessor { .. }));
        assert!(matches!(&props[9], Prop::Accessor { .. }));
        assert!(matches!(&props[10], Prop::Spread(_)));
        assert!(all.exprs.iter().any(|e| matches!(e.kind, K::This)));
    }

    #[test]
    fn arrays_calls_and_functions() {
        let p = lower_ir(
            "[1, , ...xs]; f(a, ...b); new Date(1); const g = async x => x + 1; (async function () { await g(1); });",
        );
        let K::Array(items) = &expr_stmt(&p.body, 0).kind else {
            panic!()
        };
        assert!(matches!(
            &items[..],
            [Some(Arg::Expr(_)), None, Some(Arg::Spread(_))]
        ));
        assert!(
            matches!(&expr_stmt(&p.body, 1).kind, K::Call { args, optional: false, .. } if matches!(&args[..], [Arg::Expr(_), Arg::Spread(_)]))
        );
        assert!(matches!(&expr_stmt(&p.body, 2).kind, K::New { args, .. } if args.len() == 1));
        let all = All::of(&p);
        let arrow = all.functions[0];
        assert!(arrow.is_arrow && arrow.is_async && arrow.body.is_empty());
        assert!(
            matches!(&arrow.expression, Some(e) if matches!(e.kind, K::Binary { op: BinaryOp::Add, .. }))
        );
        assert_eq!(arrow.declared, [all.bind("x")]);
        let f = all.functions[1];
        assert!(f.is_async && !f.is_arrow && f.expression.is_none());
        assert!(all.exprs.iter().any(|e| matches!(e.kind, K::Await(_))));
    }

    #[test]
    fn literals() {
        let p = lower_ir("0; 's'; 2; true; null; 10n; /a/g;");
        let kinds: Vec<&ExprKind> = (1..7).map(|i| &expr_stmt(&p.body, i).kind).collect();
        assert!(matches!(kinds[0], K::Str(s) if &**s == "s"));
        assert!(matches!(kinds[1], K::Num(2.0)));
        assert!(matches!(kinds[2], K::Bool(true)));
        assert!(matches!(kinds[3], K::Null));
        assert!(matches!(kinds[4], K::Unknown(w) if &**w == "a BigInt"));
        assert!(matches!(kinds[5], K::Unknown(w) if &**w == "a regular expression"));
    }

    #[test]
    fn unmodelled_code_is_unknown() {
        let p = lower_ir(
            "class A {} const B = class {}; function* gen() { yield 1; } import('x'); debugger; with (o) {} a in b; label: ;",
        );
        let all = All::of(&p);
        let a = all.bind("A");
        assert!(
            matches!(&p.body[0], Stmt::Decl { kind: DeclKind::Let, init: Some(e), .. } if matches!(&e.kind, K::Unknown(w) if &**w == "a class"))
        );
        assert!(p.declared.contains(&a));
        assert!(
            matches!(&p.body[2], Stmt::Decl { pattern: Pattern::Bind { name, .. }, init: Some(e), .. } if &**name == "gen" && matches!(e.kind, K::Unknown(_)))
        );
        assert!(p.hoisted.is_empty());
        let unknowns = all.unknowns();
        for what in ["a class", "a generator function", "an import() call"] {
            assert!(unknowns.contains(&what), "{what}: {unknowns:?}");
        }
        assert!(matches!(&p.body[4], Stmt::Unknown { what, .. } if &**what == "a debugger statement"));
        assert!(matches!(&p.body[5], Stmt::Unknown { what, .. } if &**what == "a with statement"));
        assert!(matches!(&p.body[7], Stmt::Labeled { body, .. } if matches!(**body, Stmt::Empty)));
    }

    #[test]
    fn deep_nesting_lowers_to_unknown() {
        let depth = 240;
        let text = format!("x = {}1{};", "[".repeat(depth), "]".repeat(depth));
        let p = lower_ir(&text);
        assert!(
            All::of(&p)
                .unknowns()
                .contains(&"an expression nested too deeply")
        );
        let text = format!("{} x = 1;", "if (a) ".repeat(depth));
        let p = lower_ir(&text);
        let all = All::of(&p);
        assert!(
            all.stmts.iter().any(
                |s| matches!(s, Stmt::Unknown { what, .. } if &**what == "a statement nested too deeply")
            )
        );
    }
}
