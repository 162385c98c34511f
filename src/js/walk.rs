//! A visitor over the lowered IR: every statement, expression, pattern and function of a
//! program, in source order.
//!
//! Implement [`Visit`] and override the methods for the nodes you look at; call the matching
//! `walk_*` function from an override to go on into the node's children (as oxc's `Visit` and
//! `walk` do for the AST). Functions hoisted in a scope are reached where they are declared,
//! not again through [`crate::js::ir::Function::hoisted`].

use super::ir::{
    Arg, Expr, ExprKind, ForTarget, Function, MemberProp, Param, Pattern, Program, Prop, PropKey, Stmt,
};

pub trait Visit<'p> {
    fn stmt(&mut self, stmt: &'p Stmt) {
        walk_stmt(self, stmt);
    }

    fn expr(&mut self, expr: &'p Expr) {
        walk_expr(self, expr);
    }

    fn pattern(&mut self, pattern: &'p Pattern) {
        walk_pattern(self, pattern);
    }

    fn function(&mut self, function: &'p Function) {
        walk_function(self, function);
    }

    fn program(&mut self, program: &'p Program) {
        program.body.iter().for_each(|s| self.stmt(s));
    }
}

pub fn walk_stmt<'p, V: Visit<'p> + ?Sized>(v: &mut V, stmt: &'p Stmt) {
    match stmt {
        Stmt::Expr(e) | Stmt::Throw { value: e, .. } => v.expr(e),
        Stmt::Decl { pattern, init, .. } => {
            v.pattern(pattern);
            init.iter().for_each(|e| v.expr(e));
        }
        Stmt::FunctionDecl { function, .. } => v.function(function),
        Stmt::If {
            test,
            then,
            otherwise,
        } => {
            v.expr(test);
            v.stmt(then);
            otherwise.iter().for_each(|s| v.stmt(s));
        }
        Stmt::Block(body) => body.iter().for_each(|s| v.stmt(s)),
        Stmt::Return { value, .. } => value.iter().for_each(|e| v.expr(e)),
        Stmt::Try {
            block,
            param,
            handler,
            finalizer,
        } => {
            block.iter().for_each(|s| v.stmt(s));
            param.iter().for_each(|p| v.pattern(p));
            handler.iter().flatten().for_each(|s| v.stmt(s));
            finalizer.iter().flatten().for_each(|s| v.stmt(s));
        }
        Stmt::Switch { discriminant, cases } => {
            v.expr(discriminant);
            for case in cases {
                case.test.iter().for_each(|e| v.expr(e));
                case.body.iter().for_each(|s| v.stmt(s));
            }
        }
        Stmt::While { test, body, .. } => {
            v.expr(test);
            v.stmt(body);
        }
        Stmt::For {
            init,
            test,
            update,
            body,
        } => {
            init.iter().for_each(|s| v.stmt(s));
            test.iter().chain(update).for_each(|e| v.expr(e));
            v.stmt(body);
        }
        Stmt::ForIn {
            left,
            object: e,
            body,
        }
        | Stmt::ForOf {
            left,
            iterable: e,
            body,
        } => {
            let (ForTarget::Decl(_, target) | ForTarget::Assign(target)) = left;
            v.pattern(target);
            v.expr(e);
            v.stmt(body);
        }
        Stmt::Labeled { body, .. } => v.stmt(body),
        Stmt::Break { .. } | Stmt::Continue { .. } | Stmt::Empty | Stmt::Unknown { .. } => {}
    }
}

/// The function's parameter patterns, body and expression body.
pub fn walk_function<'p, V: Visit<'p> + ?Sized>(v: &mut V, function: &'p Function) {
    for param in &function.params {
        let (Param::Pattern(p) | Param::Rest(p)) = param;
        v.pattern(p);
    }
    function.body.iter().for_each(|s| v.stmt(s));
    function.expression.iter().for_each(|e| v.expr(e));
}

/// The expressions inside a pattern (member targets, computed keys, defaults), and its
/// sub-patterns.
pub fn walk_pattern<'p, V: Visit<'p> + ?Sized>(v: &mut V, pattern: &'p Pattern) {
    match pattern {
        Pattern::Member(e) => v.expr(e),
        Pattern::Object { props, rest, .. } => {
            for prop in props {
                walk_key(v, &prop.key);
                v.pattern(&prop.value);
            }
            rest.iter().for_each(|p| v.pattern(p));
        }
        Pattern::Array { items, rest, .. } => {
            items.iter().flatten().for_each(|p| v.pattern(p));
            rest.iter().for_each(|p| v.pattern(p));
        }
        Pattern::Default { pattern, default } => {
            v.pattern(pattern);
            v.expr(default);
        }
        Pattern::Bind { .. } | Pattern::Global { .. } | Pattern::Unknown(_) => {}
    }
}

fn walk_key<'p, V: Visit<'p> + ?Sized>(v: &mut V, key: &'p PropKey) {
    if let PropKey::Computed(e) = key {
        v.expr(e);
    }
}

fn walk_args<'p, V: Visit<'p> + ?Sized>(v: &mut V, args: impl IntoIterator<Item = &'p Arg>) {
    for arg in args {
        let (Arg::Expr(e) | Arg::Spread(e)) = arg;
        v.expr(e);
    }
}

pub fn walk_expr<'p, V: Visit<'p> + ?Sized>(v: &mut V, expr: &'p Expr) {
    match &expr.kind {
        ExprKind::Template { exprs, .. } => exprs.iter().for_each(|e| v.expr(e)),
        ExprKind::Sequence(exprs) => exprs.iter().for_each(|e| v.expr(e)),
        ExprKind::Member { object, property, .. } => {
            v.expr(object);
            if let MemberProp::Computed(p) = property {
                v.expr(p);
            }
        }
        ExprKind::Call { callee, args, .. } | ExprKind::New { callee, args } => {
            v.expr(callee);
            walk_args(v, args);
        }
        ExprKind::Chain(e) | ExprKind::Await(e) | ExprKind::Unary { argument: e, .. } => v.expr(e),
        ExprKind::Assign { target, value, .. } => {
            v.pattern(target);
            v.expr(value);
        }
        ExprKind::Update { target, .. } => v.pattern(target),
        ExprKind::Binary { left, right, .. } | ExprKind::Logical { left, right, .. } => {
            v.expr(left);
            v.expr(right);
        }
        ExprKind::Conditional {
            test,
            then,
            otherwise,
        } => {
            v.expr(test);
            v.expr(then);
            v.expr(otherwise);
        }
        ExprKind::Object(props) => {
            for prop in props {
                match prop {
                    Prop::KeyValue { key, value, .. } => {
                        walk_key(v, key);
                        v.expr(value);
                    }
                    Prop::Spread(e) => v.expr(e),
                    Prop::Accessor { key, .. } => walk_key(v, key),
                }
            }
        }
        ExprKind::Array(items) => walk_args(v, items.iter().flatten()),
        ExprKind::Function(function) => v.function(function),
        ExprKind::Str(_)
        | ExprKind::Num(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Ident { .. }
        | ExprKind::This
        | ExprKind::Unknown(_) => {}
    }
}
