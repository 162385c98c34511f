//! oxc AST to [`ir`](super::ir).

use std::sync::Arc as Rc;

use oxc_allocator::Allocator;
use oxc_ast::ast::{self, Expression, Statement};
use oxc_parser::Parser;
use oxc_span::{GetSpan, SourceType};

use super::Lowered;
use super::legacy_ir::{BinaryOp, Expr, ExprKind, Function, LogicalOp, Property, Stmt, TemplatePart};
use crate::source::Span;

/// Expressions nested deeper than this lower to `Unknown` (keeps recursion bounded).
const MAX_DEPTH: usize = 200;

pub fn lower(text: &str) -> Lowered {
    let allocator = Allocator::default();
    // A rule is an anonymous function expression, which is not a valid statement on its own;
    // wrapped in parentheses it parses, and every offset moves by one, which spans undo.
    let (source, shift) = if is_bare_function(text) {
        (allocator.alloc_str(&format!("({text}\n)")) as &str, 1)
    } else {
        (text, 0)
    };
    let ret = Parser::new(&allocator, source, SourceType::cjs()).parse();
    let lowerer = Lowerer { shift, depth: 0 };
    let mut errors: Vec<(Span, String)> = ret
        .diagnostics
        .errors()
        .map(|d| {
            let span = d.labels.first().map_or(oxc_span::Span::default(), |l| {
                oxc_span::Span::new(l.offset(), l.offset() + l.len())
            });
            (
                lowerer.span(span),
                format!("JavaScript syntax error: {}", d.message),
            )
        })
        .collect();
    errors.truncate(5);
    let program = if errors.is_empty() {
        ret.program.body.iter().map(|s| lowerer.stmt(s)).collect()
    } else {
        Vec::new()
    };
    Lowered {
        program,
        ir: Default::default(),
        errors,
    }
}

/// Whether the script starts (after comments) with an anonymous `function` or `async function`.
fn is_bare_function(text: &str) -> bool {
    let mut rest = text.trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.split_once('\n').map_or("", |(_, r)| r).trim_start();
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.split_once("*/").map_or("", |(_, r)| r).trim_start();
        } else {
            break;
        }
    }
    let rest = rest.strip_prefix("async").map_or(rest, str::trim_start);
    rest.strip_prefix("function")
        .is_some_and(|r| r.trim_start().starts_with('('))
}

struct Lowerer {
    /// Bytes added before the text (the wrapping parenthesis).
    shift: u32,
    depth: usize,
}

impl Lowerer {
    fn span(&self, span: oxc_span::Span) -> Span {
        Span::new(
            span.start.saturating_sub(self.shift) as usize,
            span.end.saturating_sub(self.shift) as usize,
        )
    }

    fn deeper(&self) -> Option<Lowerer> {
        (self.depth < MAX_DEPTH).then(|| Lowerer {
            shift: self.shift,
            depth: self.depth + 1,
        })
    }

    fn stmts(&self, statements: &[Statement<'_>]) -> Vec<Stmt> {
        statements.iter().map(|s| self.stmt(s)).collect()
    }

    fn stmt(&self, statement: &Statement<'_>) -> Stmt {
        let Some(l) = self.deeper() else {
            return Stmt::Block {
                body: Vec::new(),
                may: Vec::new(),
            };
        };
        match statement {
            Statement::ExpressionStatement(s) => Stmt::Expr(l.expr(&s.expression)),
            Statement::VariableDeclaration(d) => l.declaration(d),
            Statement::FunctionDeclaration(f) => match &f.id {
                Some(id) => Stmt::Function {
                    name: id.name.to_string(),
                    function: Rc::new(l.function(f)),
                },
                None => Stmt::Expr(Expr::new(
                    ExprKind::Function(Rc::new(l.function(f))),
                    l.span(f.span),
                )),
            },
            Statement::IfStatement(s) => Stmt::If {
                test: l.expr(&s.test),
                then: vec![l.stmt(&s.consequent)],
                otherwise: s.alternate.as_ref().map(|a| vec![l.stmt(a)]).unwrap_or_default(),
            },
            Statement::BlockStatement(b) => Stmt::Block {
                body: l.stmts(&b.body),
                may: Vec::new(),
            },
            Statement::ReturnStatement(r) => Stmt::Return {
                value: r.argument.as_ref().map(|a| l.expr(a)),
                span: l.span(r.span),
            },
            Statement::ForOfStatement(f) => {
                let name = match &f.left {
                    ast::ForStatementLeft::VariableDeclaration(d) => d
                        .declarations
                        .first()
                        .and_then(|d| d.id.get_binding_identifier())
                        .map(|id| id.name.to_string()),
                    _ => None,
                };
                match name {
                    Some(name) => Stmt::ForOf {
                        name,
                        iter: l.expr(&f.right),
                        body: vec![l.stmt(&f.body)],
                    },
                    None => Stmt::Loop {
                        body: vec![l.stmt(&f.body)],
                    },
                }
            }
            Statement::ForStatement(f) => Stmt::Loop {
                body: vec![l.stmt(&f.body)],
            },
            Statement::ForInStatement(f) => Stmt::Loop {
                body: vec![l.stmt(&f.body)],
            },
            Statement::WhileStatement(w) => Stmt::Loop {
                body: vec![l.stmt(&w.body)],
            },
            Statement::DoWhileStatement(w) => Stmt::Loop {
                body: vec![l.stmt(&w.body)],
            },
            Statement::TryStatement(t) => {
                let mut may = Vec::new();
                if let Some(handler) = &t.handler {
                    may.extend(l.stmts(&handler.body.body));
                }
                let mut body = l.stmts(&t.block.body);
                if let Some(finalizer) = &t.finalizer {
                    body.extend(l.stmts(&finalizer.body));
                }
                Stmt::Block { body, may }
            }
            Statement::SwitchStatement(s) => {
                let mut may = Vec::new();
                for case in &s.cases {
                    may.extend(l.stmts(&case.consequent));
                }
                Stmt::Block {
                    body: vec![Stmt::Expr(l.expr(&s.discriminant))],
                    may,
                }
            }
            Statement::LabeledStatement(s) => l.stmt(&s.body),
            _ => Stmt::Block {
                body: Vec::new(),
                may: Vec::new(),
            },
        }
    }

    fn declaration(&self, d: &ast::VariableDeclaration<'_>) -> Stmt {
        let mut out = Vec::new();
        for declarator in &d.declarations {
            let init = declarator.init.as_ref().map(|e| self.expr(e));
            match declarator.id.get_binding_identifier() {
                Some(id) => out.push(Stmt::Let {
                    names: vec![id.name.to_string()],
                    init,
                    destructured: false,
                }),
                None => {
                    let names = declarator
                        .id
                        .get_binding_identifiers()
                        .iter()
                        .map(|i| i.name.to_string())
                        .collect();
                    out.push(Stmt::Let {
                        names,
                        init,
                        destructured: true,
                    });
                }
            }
        }
        if out.len() == 1 {
            out.remove(0)
        } else {
            Stmt::Seq(out)
        }
    }

    fn function(&self, f: &ast::Function<'_>) -> Function {
        Function {
            params: self.params(&f.params),
            body: f
                .body
                .as_ref()
                .map(|b| self.stmts(&b.statements))
                .unwrap_or_default(),
            expression: None,
            span: self.span(f.span),
        }
    }

    fn params(&self, params: &ast::FormalParameters<'_>) -> Vec<String> {
        params
            .items
            .iter()
            .map(|p| {
                p.pattern
                    .get_binding_identifier()
                    .map(|id| id.name.to_string())
                    .unwrap_or_default()
            })
            .collect()
    }

    fn expr(&self, expression: &Expression<'_>) -> Expr {
        let span = self.span(expression.span());
        let Some(l) = self.deeper() else {
            return Expr::unknown(span);
        };
        let kind = match expression {
            Expression::StringLiteral(s) => ExprKind::Str(s.value.to_string()),
            Expression::NumericLiteral(n) => ExprKind::Num(n.value),
            Expression::BooleanLiteral(b) => ExprKind::Bool(b.value),
            Expression::NullLiteral(_) => ExprKind::Null,
            Expression::TemplateLiteral(t) => {
                let mut parts = Vec::new();
                for (i, quasi) in t.quasis.iter().enumerate() {
                    let text = quasi
                        .value
                        .cooked
                        .as_ref()
                        .map_or_else(|| quasi.value.raw.to_string(), |c| c.to_string());
                    if !text.is_empty() {
                        parts.push(TemplatePart::Text(text));
                    }
                    if let Some(e) = t.expressions.get(i) {
                        parts.push(TemplatePart::Expr(l.expr(e)));
                    }
                }
                ExprKind::Template(parts)
            }
            Expression::Identifier(id) if id.name == "undefined" => ExprKind::Undefined,
            Expression::Identifier(id) => ExprKind::Ident(id.name.to_string()),
            Expression::StaticMemberExpression(m) => ExprKind::Member {
                object: Box::new(l.expr(&m.object)),
                property: Box::new(Expr::new(
                    ExprKind::Str(m.property.name.to_string()),
                    l.span(m.property.span),
                )),
                computed: false,
            },
            Expression::ComputedMemberExpression(m) => ExprKind::Member {
                object: Box::new(l.expr(&m.object)),
                property: Box::new(l.expr(&m.expression)),
                computed: true,
            },
            Expression::ChainExpression(c) => match c.expression.as_member_expression() {
                Some(m) => l.member(m),
                None => match &c.expression {
                    ast::ChainElement::CallExpression(call) => l.call(call),
                    _ => ExprKind::Unknown,
                },
            },
            Expression::AssignmentExpression(a) => {
                let target = match a.left.as_member_expression() {
                    Some(m) => Expr::new(l.member(m), l.span(a.left.span())),
                    None => match &a.left {
                        ast::AssignmentTarget::AssignmentTargetIdentifier(id) => {
                            Expr::new(ExprKind::Ident(id.name.to_string()), l.span(id.span))
                        }
                        other => Expr::unknown(l.span(other.span())),
                    },
                };
                use ast::AssignmentOperator as A;
                let right = l.expr(&a.right);
                let logical = match a.operator {
                    A::LogicalOr => Some(LogicalOp::Or),
                    A::LogicalAnd => Some(LogicalOp::And),
                    A::LogicalNullish => Some(LogicalOp::Nullish),
                    _ => None,
                };
                // `x ||= y` is `x = x || y`; `x += y` concatenates; other operators compute numbers.
                let (value, compound) = match (a.operator, logical) {
                    (_, Some(op)) => {
                        let value = ExprKind::Logical {
                            op,
                            left: Box::new(target.clone()),
                            right: Box::new(right),
                        };
                        (Expr::new(value, span), false)
                    }
                    (A::Assign, None) => (right, false),
                    (A::Addition, None) => (right, true),
                    _ => (Expr::unknown(span), false),
                };
                ExprKind::Assign {
                    target: Box::new(target),
                    value: Box::new(value),
                    compound,
                }
            }
            Expression::CallExpression(call) => l.call(call),
            Expression::NewExpression(n) => ExprKind::Call {
                callee: Box::new(l.expr(&n.callee)),
                args: n
                    .arguments
                    .iter()
                    .filter_map(|a| a.as_expression().map(|e| l.expr(e)))
                    .collect(),
            },
            Expression::BinaryExpression(b) => {
                use oxc_syntax::operator::BinaryOperator as B;
                let op = match b.operator {
                    B::StrictEquality => BinaryOp::Eq,
                    B::StrictInequality => BinaryOp::NotEq,
                    B::Equality => BinaryOp::LooseEq,
                    B::Inequality => BinaryOp::LooseNotEq,
                    B::Addition => BinaryOp::Add,
                    _ => BinaryOp::Other,
                };
                ExprKind::Binary {
                    op,
                    left: Box::new(l.expr(&b.left)),
                    right: Box::new(l.expr(&b.right)),
                }
            }
            Expression::LogicalExpression(b) => {
                use oxc_syntax::operator::LogicalOperator as L;
                let op = match b.operator {
                    L::And => LogicalOp::And,
                    L::Or => LogicalOp::Or,
                    L::Coalesce => LogicalOp::Nullish,
                };
                ExprKind::Logical {
                    op,
                    left: Box::new(l.expr(&b.left)),
                    right: Box::new(l.expr(&b.right)),
                }
            }
            Expression::UnaryExpression(u)
                if u.operator == oxc_syntax::operator::UnaryOperator::LogicalNot =>
            {
                ExprKind::Not(Box::new(l.expr(&u.argument)))
            }
            Expression::ConditionalExpression(c) => ExprKind::Conditional {
                test: Box::new(l.expr(&c.test)),
                then: Box::new(l.expr(&c.consequent)),
                otherwise: Box::new(l.expr(&c.alternate)),
            },
            Expression::ObjectExpression(o) => ExprKind::Object(
                o.properties
                    .iter()
                    .map(|p| match p {
                        ast::ObjectPropertyKind::ObjectProperty(p) => {
                            let key = match &p.key {
                                ast::PropertyKey::StaticIdentifier(id) => {
                                    Expr::new(ExprKind::Str(id.name.to_string()), l.span(id.span))
                                }
                                ast::PropertyKey::PrivateIdentifier(id) => Expr::unknown(l.span(id.span)),
                                other => match other.as_expression() {
                                    Some(e) if p.computed => l.expr(e),
                                    Some(Expression::StringLiteral(s)) => {
                                        Expr::new(ExprKind::Str(s.value.to_string()), l.span(s.span))
                                    }
                                    Some(Expression::NumericLiteral(n)) => {
                                        Expr::new(ExprKind::Str(n.value.to_string()), l.span(n.span))
                                    }
                                    Some(e) => l.expr(e),
                                    None => Expr::unknown(l.span(p.span)),
                                },
                            };
                            Property::KeyValue {
                                key,
                                value: l.expr(&p.value),
                            }
                        }
                        ast::ObjectPropertyKind::SpreadProperty(s) => Property::Spread(l.expr(&s.argument)),
                    })
                    .collect(),
            ),
            Expression::ArrayExpression(a) => ExprKind::Array(
                a.elements
                    .iter()
                    .map(|e| match e.as_expression() {
                        Some(e) => l.expr(e),
                        None => Expr::unknown(l.span(e.span())),
                    })
                    .collect(),
            ),
            Expression::FunctionExpression(f) => ExprKind::Function(Rc::new(l.function(f))),
            Expression::ArrowFunctionExpression(f) => {
                let (body, expression) = match &f.body {
                    ast::ArrowFunctionBody::FunctionBody(b) => (l.stmts(&b.statements), None),
                    other => (Vec::new(), other.as_expression().map(|e| l.expr(e))),
                };
                ExprKind::Function(Rc::new(Function {
                    params: l.params(&f.params),
                    body,
                    expression,
                    span,
                }))
            }
            Expression::AwaitExpression(a) => return l.expr(&a.argument),
            Expression::ParenthesizedExpression(p) => return l.expr(&p.expression),
            Expression::SequenceExpression(s) => {
                ExprKind::Sequence(s.expressions.iter().map(|e| l.expr(e)).collect())
            }
            Expression::TSAsExpression(t) => return l.expr(&t.expression),
            Expression::TSNonNullExpression(t) => return l.expr(&t.expression),
            _ => ExprKind::Unknown,
        };
        Expr::new(kind, span)
    }

    fn member(&self, m: &ast::MemberExpression<'_>) -> ExprKind {
        match m {
            ast::MemberExpression::StaticMemberExpression(m) => ExprKind::Member {
                object: Box::new(self.expr(&m.object)),
                property: Box::new(Expr::new(
                    ExprKind::Str(m.property.name.to_string()),
                    self.span(m.property.span),
                )),
                computed: false,
            },
            ast::MemberExpression::ComputedMemberExpression(m) => ExprKind::Member {
                object: Box::new(self.expr(&m.object)),
                property: Box::new(self.expr(&m.expression)),
                computed: true,
            },
            ast::MemberExpression::PrivateFieldExpression(_) => ExprKind::Unknown,
        }
    }

    fn call(&self, call: &ast::CallExpression<'_>) -> ExprKind {
        ExprKind::Call {
            callee: Box::new(self.expr(&call.callee)),
            args: call
                .arguments
                .iter()
                .map(|a| match a.as_expression() {
                    Some(e) => self.expr(e),
                    None => Expr::unknown(self.span(a.span())),
                })
                .collect(),
        }
    }
}
