//! The abstract interpreter: runs one lowered script against one scenario.
//!
//! Values are [`Val`]s. Conditions it can decide (a comparison of `context.clientName`,
//! `context.protocol`, `event.connection.name`... with a literal) pick a branch; the others run
//! both branches and mark what they do as *may*. `return` ends the script on that path. Loops
//! over known lists unroll; other loops run their body once as *may*. Calls to functions the
//! script defines run their bodies; callbacks passed to unknown functions (an HTTP request, a
//! promise) run as *may*. Every run has a step budget and a depth limit.

use std::collections::HashMap;
use std::sync::Arc as Rc;

use serde::Serialize;

use super::value::{Prop, Val, lock};
use crate::js::legacy_ir::{BinaryOp, Expr, ExprKind, Function, LogicalOp, Property, Stmt, TemplatePart};
use crate::source::Span;

/// Most statements and expressions evaluated in one script run.
pub const STEP_BUDGET: usize = 200_000;
/// Deepest call nesting followed.
pub const CALL_DEPTH: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    IdToken,
    AccessToken,
}

impl TokenKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenKind::IdToken => "id_token",
            TokenKind::AccessToken => "access_token",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            TokenKind::IdToken => "ID token",
            TokenKind::AccessToken => "access token",
        }
    }
}

/// A claim a script sets.
#[derive(Debug, Clone)]
pub struct Write {
    pub token: TokenKind,
    pub key: Val,
    pub value: Val,
    /// Set only on some paths the evaluator could not decide.
    pub may: bool,
    /// Where the claim name is written.
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EffectKind {
    Mfa,
    Redirect,
}

#[derive(Debug, Clone)]
pub struct Effect {
    pub kind: EffectKind,
    pub may: bool,
    pub span: Span,
}

/// How a script is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `function (user, context, callback) {...}`
    Rule,
    /// `exports.onExecutePostLogin = async (event, api) => {...}` (and `onContinuePostLogin`)
    PostLoginAction,
    /// `exports.onExecuteCredentialsExchange = async (event, api) => {...}`
    CredentialsExchangeAction,
    /// `module.exports = function (client, scope, audience, context, cb) {...}`
    Hook,
    /// A custom-database script (`function login(email, password, callback) {...}`): the
    /// profile it hands to its callback.
    DatabaseScript,
}

/// What one run of a script did.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub writes: Vec<Write>,
    pub effects: Vec<Effect>,
    /// User attributes the script reads.
    pub reads: Vec<(String, Span)>,
    /// `return` statements reached, and whether only on some paths.
    pub returns: Vec<(Span, bool)>,
    /// The step budget ran out; what was found so far is kept.
    pub truncated: bool,
    /// For database scripts: the profile's attributes, where each is written.
    pub profile: Vec<(String, Span)>,
}

/// What the scenario fixes: host paths with known values (`context.clientName` and the like).
pub type Facts = HashMap<String, Val>;

enum Flow {
    Normal,
    Return(Val),
}

struct Run<'a> {
    facts: &'a Facts,
    scopes: Vec<HashMap<String, Val>>,
    out: Outcome,
    steps: usize,
    depth: usize,
    may: bool,
    /// Scopes below this index belong to code outside the current *may* branch: an
    /// assignment there only may happen, so the variable becomes unknown.
    floor: usize,
    exports: HashMap<String, Val>,
    hook_result: Option<Val>,
}

/// Runs `program` as `entry` against `facts`.
pub fn run(program: &[Stmt], entry: Entry, facts: &Facts) -> Outcome {
    let mut run = Run {
        facts,
        scopes: vec![HashMap::new()],
        out: Outcome::default(),
        steps: 0,
        depth: 0,
        may: false,
        floor: 0,
        exports: HashMap::new(),
        hook_result: None,
    };
    match entry {
        Entry::Rule => {
            let function = run.main_function(program);
            if let Some(f) = function {
                let args = [
                    Val::Host("user".into()),
                    Val::Host("context".into()),
                    Val::Host("callback".into()),
                ];
                run.call(&f, &args);
            }
        }
        Entry::PostLoginAction | Entry::CredentialsExchangeAction => {
            run.exec(program);
            let names: &[&str] = if entry == Entry::PostLoginAction {
                &["onExecutePostLogin", "onContinuePostLogin"]
            } else {
                &["onExecuteCredentialsExchange"]
            };
            for (i, name) in names.iter().enumerate() {
                if let Some(Val::Func(f)) = run.exports.get(*name).cloned() {
                    // `onContinuePostLogin` runs only after a redirect: what it does may happen.
                    let saved = run.may;
                    run.may |= i > 0;
                    run.call(&f, &[Val::Host("event".into()), Val::Host("api".into())]);
                    run.may = saved;
                }
            }
        }
        Entry::DatabaseScript => {
            let function = run.main_function(program);
            if let Some(f) = function {
                // The callback is the last parameter; the others are what the user typed.
                let count = f.params.len();
                let args: Vec<Val> = (0..count)
                    .map(|i| {
                        if i + 1 == count {
                            Val::Host("callback".into())
                        } else {
                            Val::Unknown(format!("the `{}` argument", f.params[i]))
                        }
                    })
                    .collect();
                run.call(&f, &args);
            }
            if let Some(Val::Obj(props)) = run.hook_result.take() {
                for prop in lock(&props).iter() {
                    if let Some(key) = prop.key.known_text() {
                        run.out.profile.push((key, prop.span));
                    }
                }
            }
        }
        Entry::Hook => {
            run.exec(program);
            if let Some(Val::Func(f)) = run.exports.get("module").cloned() {
                let args = [
                    Val::Host("hook.client".into()),
                    Val::Unknown("the requested scope".into()),
                    Val::Unknown("the requested audience".into()),
                    Val::Host("hook.context".into()),
                    Val::Host("callback".into()),
                ];
                run.call(&f, &args);
            }
            if let Some(Val::Obj(props)) = run.hook_result.take() {
                for prop in lock(&props).iter() {
                    if prop.key.known_text().as_deref() == Some("scope") {
                        continue;
                    }
                    run.out.writes.push(Write {
                        token: TokenKind::AccessToken,
                        key: prop.key.clone(),
                        value: prop.value.clone(),
                        may: false,
                        span: prop.span,
                    });
                }
            }
        }
    }
    run.out
}

impl Run<'_> {
    /// The script's main function: the first one it defines (a rule, a database script).
    /// Statements before it run first, since they set it up.
    fn main_function(&mut self, program: &[Stmt]) -> Option<Rc<Function>> {
        for stmt in program {
            match stmt {
                Stmt::Expr(Expr {
                    kind: ExprKind::Function(f),
                    ..
                })
                | Stmt::Function { function: f, .. } => {
                    return Some(f.clone());
                }
                other => {
                    self.exec(std::slice::from_ref(other));
                }
            }
        }
        None
    }

    fn tick(&mut self) -> bool {
        self.steps += 1;
        if self.steps > STEP_BUDGET {
            self.out.truncated = true;
            return false;
        }
        true
    }

    fn lookup(&self, name: &str) -> Option<Val> {
        self.scopes.iter().rev().find_map(|s| s.get(name).cloned())
    }

    fn bind(&mut self, name: &str, value: Val) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.insert(name.to_string(), value);
        }
    }

    fn set(&mut self, name: &str, value: Val) {
        let (may, floor) = (self.may, self.floor);
        for (index, scope) in self.scopes.iter_mut().enumerate().rev() {
            if let Some(slot) = scope.get_mut(name) {
                let same = slot.known_text().is_some() && slot.known_text() == value.known_text();
                *slot = if may && index < floor && !same {
                    Val::Unknown(format!("`{name}`, which a condition may change"))
                } else {
                    value
                };
                return;
            }
        }
        self.bind(name, value);
    }

    /// Runs `f` in a new block scope.
    fn scoped<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        self.scopes.push(HashMap::new());
        let result = f(self);
        self.scopes.pop();
        result
    }

    /// Runs `f` on a path that may not be taken.
    fn maybe<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let (may, floor) = (self.may, self.floor);
        self.may = true;
        self.floor = self.scopes.len();
        let result = self.scoped(f);
        self.may = may;
        self.floor = floor;
        result
    }

    fn exec(&mut self, stmts: &[Stmt]) -> Flow {
        for stmt in stmts {
            if !self.tick() {
                return Flow::Return(Val::Undef);
            }
            if let Flow::Return(v) = self.stmt(stmt) {
                return Flow::Return(v);
            }
        }
        Flow::Normal
    }

    /// Runs `stmts` on a path that may not be taken; a `return` there does not end the script.
    fn exec_may(&mut self, stmts: &[Stmt]) -> bool {
        self.maybe(|run| matches!(run.exec(stmts), Flow::Return(_)))
    }

    fn stmt(&mut self, stmt: &Stmt) -> Flow {
        match stmt {
            Stmt::Let {
                names,
                init,
                destructured,
            } => {
                let value = init.as_ref().map_or(Val::Undef, |e| self.eval(e));
                for name in names {
                    let v = if *destructured {
                        destructure(&value, name)
                    } else {
                        value.clone()
                    };
                    self.bind(name, v);
                }
                Flow::Normal
            }
            Stmt::Expr(e) => {
                self.eval(e);
                Flow::Normal
            }
            Stmt::If {
                test,
                then,
                otherwise,
            } => match self.eval(test).truthy() {
                Some(true) => self.scoped(|run| run.exec(then)),
                Some(false) => self.scoped(|run| run.exec(otherwise)),
                None => {
                    let returned_then = self.exec_may(then);
                    let returned_else = self.exec_may(otherwise);
                    // What follows runs only on the paths that did not return.
                    if returned_then || returned_else {
                        self.may = true;
                    }
                    Flow::Normal
                }
            },
            Stmt::Return { value, span } => {
                let v = value.as_ref().map_or(Val::Undef, |e| self.eval(e));
                if self.depth <= 1 {
                    self.out.returns.push((*span, self.may));
                }
                Flow::Return(v)
            }
            Stmt::ForOf { name, iter, body } => {
                match self.eval(iter) {
                    Val::Array(items) => {
                        for item in items {
                            self.bind(name, item);
                            if let Flow::Return(v) = self.exec(body) {
                                return Flow::Return(v);
                            }
                        }
                    }
                    other => {
                        self.bind(name, Val::Unknown(format!("an item of {}", other.describe())));
                        if self.exec_may(body) {
                            self.may = true;
                        }
                    }
                }
                Flow::Normal
            }
            Stmt::Loop { body } => {
                if self.exec_may(body) {
                    self.may = true;
                }
                Flow::Normal
            }
            Stmt::Block { body, may } => {
                if let Flow::Return(v) = self.scoped(|run| run.exec(body)) {
                    return Flow::Return(v);
                }
                if !may.is_empty() && self.exec_may(may) {
                    self.may = true;
                }
                Flow::Normal
            }
            Stmt::Seq(stmts) => self.exec(stmts),
            Stmt::Function { name, function } => {
                self.bind(name, Val::Func(function.clone()));
                Flow::Normal
            }
        }
    }

    fn call(&mut self, function: &Rc<Function>, args: &[Val]) -> Val {
        if self.depth >= CALL_DEPTH {
            return Val::Unknown("a deeply nested call".into());
        }
        self.depth += 1;
        // A `return` the callee may or may not reach ends the callee, not the caller: the
        // caller's next statements are as certain after the call as before it.
        let saved_may = self.may;
        self.scopes.push(HashMap::new());
        for (i, param) in function.params.iter().enumerate() {
            if !param.is_empty() {
                let value = args.get(i).cloned().unwrap_or(Val::Undef);
                self.bind(param, value);
            }
        }
        // Function declarations are hoisted: a helper declared below its call still runs.
        for stmt in &function.body {
            if let Stmt::Function { name, function } = stmt {
                self.bind(name, Val::Func(function.clone()));
            }
        }
        let result = match &function.expression {
            Some(e) => self.eval(e),
            None => match self.exec(&function.body) {
                Flow::Return(v) => v,
                Flow::Normal => Val::Undef,
            },
        };
        self.scopes.pop();
        self.depth -= 1;
        self.may = saved_may;
        result
    }

    /// Runs a callback handed to a function claimlint does not know: it may run, with unknown
    /// arguments.
    fn call_may(&mut self, function: &Rc<Function>) {
        let args: Vec<Val> = function
            .params
            .iter()
            .map(|p| Val::Unknown(format!("callback argument `{p}`")))
            .collect();
        self.maybe(|run| run.call(function, &args));
    }

    fn resolve(&self, path: String) -> Val {
        if let Some(value) = self.facts.get(&path) {
            return value.clone();
        }
        for (prefix, kind) in [
            ("user.", 0),
            ("event.user.", 0),
            ("configuration.", 1),
            ("event.secrets.", 1),
        ] {
            if let Some(rest) = path.strip_prefix(prefix) {
                return if kind == 0 {
                    Val::Attr(rest.to_string())
                } else {
                    Val::Unknown(path)
                };
            }
        }
        Val::Host(path)
    }

    fn member(&mut self, object: &Val, key: &Val) -> Val {
        let Some(name) = key.known_text() else {
            return Val::Unknown(format!("{}[{}]", object.describe(), key.describe()));
        };
        match object {
            Val::Host(path) => self.resolve(format!("{path}.{name}")),
            Val::Attr(path) => Val::Attr(format!("{path}.{name}")),
            Val::Obj(props) => lock(props)
                .iter()
                .rev()
                .find(|p| p.key.known_text().as_deref() == Some(name.as_str()))
                .map_or(Val::Undef, |p| p.value.clone()),
            Val::Array(items) if name == "length" => Val::Num(items.len() as f64),
            Val::Array(items) => name
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i).cloned())
                .unwrap_or(Val::Undef),
            Val::Str(s) if name == "length" => Val::Num(s.chars().count() as f64),
            other => Val::Unknown(format!("{}.{name}", other.describe())),
        }
    }

    fn record_read(&mut self, value: &Val, span: Span) {
        if let Val::Attr(path) = value
            && !self.out.reads.iter().any(|(p, s)| p == path && *s == span)
        {
            self.out.reads.push((path.clone(), span));
        }
    }

    fn write(&mut self, token: TokenKind, key: Val, value: Val, span: Span) {
        if token == TokenKind::AccessToken && key.known_text().as_deref() == Some("scope") {
            return;
        }
        self.out.writes.push(Write {
            token,
            key,
            value,
            may: self.may,
            span,
        });
    }

    fn effect(&mut self, kind: EffectKind, span: Span) {
        self.out.effects.push(Effect {
            kind,
            may: self.may,
            span,
        });
    }

    fn token_of(path: &str) -> Option<TokenKind> {
        match path {
            "context.idToken" | "api.idToken" => Some(TokenKind::IdToken),
            "context.accessToken" | "api.accessToken" => Some(TokenKind::AccessToken),
            _ => None,
        }
    }

    fn assign(&mut self, target: &Expr, value: Val) {
        match &target.kind {
            ExprKind::Ident(name) => self.set(name, value),
            ExprKind::Member { object, property, .. } => {
                let object = self.eval(object);
                let key = self.eval(property);
                match &object {
                    Val::Host(path) => {
                        if let Some(token) = Self::token_of(path) {
                            self.write(token, key, value, property.span);
                            return;
                        }
                        let name = key.known_text().unwrap_or_default();
                        match (path.as_str(), name.as_str()) {
                            ("context", "idToken" | "accessToken") => {
                                let token = if name == "idToken" {
                                    TokenKind::IdToken
                                } else {
                                    TokenKind::AccessToken
                                };
                                if let Val::Obj(props) = &value {
                                    let props = lock(props).clone();
                                    for p in props {
                                        self.write(token, p.key, p.value, p.span);
                                    }
                                }
                            }
                            ("context", "redirect") => self.effect(EffectKind::Redirect, target.span),
                            ("context", "multifactor") => self.effect(EffectKind::Mfa, target.span),
                            ("exports", export) | ("module.exports", export) => {
                                self.exports.insert(export.to_string(), value);
                            }
                            ("module", "exports") => {
                                self.exports.insert("module".into(), value);
                            }
                            _ => {}
                        }
                    }
                    Val::Obj(props) => {
                        let mut props = lock(props);
                        let name = key.known_text();
                        match props
                            .iter_mut()
                            .find(|p| name.is_some() && p.key.known_text() == name)
                        {
                            Some(existing) => {
                                existing.value = value;
                                existing.span = property.span;
                            }
                            None => props.push(Prop {
                                key,
                                value,
                                span: property.span,
                            }),
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn eval(&mut self, expr: &Expr) -> Val {
        let value = self.eval_unbounded(expr).bounded();
        // `a = [a]` in a loop would nest without end; such a value is as good as unknown.
        if matches!(value, Val::Array(_) | Val::Obj(_)) && value.deeper_than(super::value::MAX_VALUE_DEPTH) {
            return Val::Unknown("a deeply nested value".into());
        }
        value
    }

    fn eval_unbounded(&mut self, expr: &Expr) -> Val {
        if !self.tick() {
            return Val::Unknown("(step budget exhausted)".into());
        }
        match &expr.kind {
            ExprKind::Str(s) => Val::Str(s.clone()),
            ExprKind::Num(n) => Val::Num(*n),
            ExprKind::Bool(b) => Val::Bool(*b),
            ExprKind::Null => Val::Null,
            ExprKind::Undefined => Val::Undef,
            ExprKind::Template(parts) => {
                let mut acc = Val::Str(String::new());
                for part in parts {
                    let v = match part {
                        TemplatePart::Text(t) => Val::Str(t.clone()),
                        TemplatePart::Expr(e) => self.eval(e),
                    };
                    acc = acc.concat(&v);
                }
                acc
            }
            ExprKind::Ident(name) => {
                if let Some(v) = self.lookup(name) {
                    return v;
                }
                if let Some(key) = name
                    .strip_prefix("__")
                    .and_then(|n| n.strip_suffix("__"))
                    .filter(|k| !k.is_empty())
                {
                    return Val::Unknown(format!("keyword {key}"));
                }
                match name.as_str() {
                    "configuration" | "exports" | "module" | "Object" | "Promise" | "JSON" | "console" => {
                        Val::Host(name.clone())
                    }
                    _ => Val::Unknown(name.clone()),
                }
            }
            ExprKind::Member { object, property, .. } => {
                let o = self.eval(object);
                let k = self.eval(property);
                let v = self.member(&o, &k);
                self.record_read(&v, expr.span);
                v
            }
            ExprKind::Assign {
                target,
                value,
                compound,
            } => {
                let mut v = self.eval(value);
                if *compound {
                    let current = self.eval(target);
                    v = current.concat(&v);
                }
                self.assign(target, v.clone());
                v
            }
            ExprKind::Call { callee, args } => self.eval_call(expr, callee, args),
            ExprKind::Binary { op, left, right } => {
                let l = self.eval(left);
                let r = self.eval(right);
                match op {
                    BinaryOp::Eq => l
                        .equals(&r)
                        .map_or(Val::Unknown("a comparison".into()), Val::Bool),
                    BinaryOp::NotEq => l
                        .equals(&r)
                        .map_or(Val::Unknown("a comparison".into()), |b| Val::Bool(!b)),
                    BinaryOp::LooseEq => l
                        .loosely_equals(&r)
                        .map_or(Val::Unknown("a comparison".into()), Val::Bool),
                    BinaryOp::LooseNotEq => l
                        .loosely_equals(&r)
                        .map_or(Val::Unknown("a comparison".into()), |b| Val::Bool(!b)),
                    BinaryOp::Add => l.concat(&r),
                    BinaryOp::Other => Val::Unknown("an arithmetic or relational result".into()),
                }
            }
            ExprKind::Logical { op, left, right } => {
                let l = self.eval(left);
                match (op, l.truthy()) {
                    (LogicalOp::And, Some(false)) | (LogicalOp::Or, Some(true)) => l,
                    (LogicalOp::And, Some(true)) | (LogicalOp::Or, Some(false)) => self.eval(right),
                    (LogicalOp::Nullish, _) if !matches!(l, Val::Null | Val::Undef | Val::Unknown(_)) => l,
                    (LogicalOp::Nullish, _) if matches!(l, Val::Null | Val::Undef) => self.eval(right),
                    _ => {
                        let r = self.maybe(|run| run.eval(right));
                        // `user.x || 'default'` is the attribute whenever the user has it.
                        match (&l, op) {
                            // `user.x || 'default'` is the attribute whenever the user has it,
                            // and `context.x || {}` is `context.x` whenever there is one.
                            (Val::Attr(_) | Val::Host(_), LogicalOp::Or | LogicalOp::Nullish) => l,
                            (_, LogicalOp::And) => r,
                            _ => Val::Unknown(format!("{} or {}", l.describe(), r.describe())),
                        }
                    }
                }
            }
            ExprKind::Not(inner) => match self.eval(inner).truthy() {
                Some(b) => Val::Bool(!b),
                None => Val::Unknown("a negation".into()),
            },
            ExprKind::Conditional {
                test,
                then,
                otherwise,
            } => match self.eval(test).truthy() {
                Some(true) => self.eval(then),
                Some(false) => self.eval(otherwise),
                None => {
                    let (a, b) = self.maybe(|run| (run.eval(then), run.eval(otherwise)));
                    match (a.known_text(), b.known_text()) {
                        (Some(x), Some(y)) if x == y => a,
                        _ => Val::Unknown(format!("{} or {}", a.describe(), b.describe())),
                    }
                }
            },
            ExprKind::Object(props) => {
                let mut out = Vec::new();
                for prop in props {
                    match prop {
                        Property::KeyValue { key, value } => {
                            let k = self.eval(key);
                            let v = self.eval(value);
                            out.push(Prop {
                                key: k,
                                value: v,
                                span: key.span,
                            });
                        }
                        Property::Spread(e) => {
                            if let Val::Obj(inner) = self.eval(e) {
                                out.extend(lock(&inner).iter().cloned());
                            }
                        }
                    }
                }
                Val::obj(out)
            }
            ExprKind::Array(items) => Val::Array(items.iter().map(|e| self.eval(e)).collect()),
            ExprKind::Function(f) => Val::Func(f.clone()),
            ExprKind::Sequence(items) => {
                let mut last = Val::Undef;
                for e in items {
                    last = self.eval(e);
                }
                last
            }
            ExprKind::Unknown => Val::Unknown("an expression claimlint does not model".into()),
        }
    }

    fn eval_call(&mut self, call: &Expr, callee: &Expr, args: &[Expr]) -> Val {
        let (receiver, method) = match &callee.kind {
            ExprKind::Member { object, property, .. } => {
                let o = self.eval(object);
                let m = self.eval(property).known_text();
                (Some(o), m)
            }
            _ => (None, None),
        };
        let values: Vec<Val> = args.iter().map(|a| self.eval(a)).collect();
        let arg_span = |i: usize| args.get(i).map_or(call.span, |a| a.span);
        if let (Some(receiver), Some(method)) = (&receiver, &method) {
            match (receiver, method.as_str()) {
                (Val::Host(path), "setCustomClaim") if Self::token_of(path).is_some() => {
                    let token = Self::token_of(path).unwrap_or(TokenKind::IdToken);
                    let key = values.first().cloned().unwrap_or(Val::Undef);
                    let value = values.get(1).cloned().unwrap_or(Val::Undef);
                    self.write(token, key, value, arg_span(0));
                    return Val::Undef;
                }
                (Val::Host(path), "enable") if path == "api.multifactor" => {
                    self.effect(EffectKind::Mfa, call.span);
                    return Val::Undef;
                }
                (Val::Host(path), m)
                    if path == "api.authentication"
                        && (m.starts_with("challengeWith") || m == "enrollWith") =>
                {
                    self.effect(EffectKind::Mfa, call.span);
                    return Val::Undef;
                }
                (Val::Host(path), "sendUserTo") if path == "api.redirect" => {
                    self.effect(EffectKind::Redirect, call.span);
                    return Val::Undef;
                }
                (Val::Host(path), "assign") if path == "Object" => {
                    let mut values = values.into_iter();
                    let target = values.next().unwrap_or(Val::Undef);
                    for source in values {
                        let Val::Obj(props) = source else { continue };
                        let props = lock(&props).clone();
                        match &target {
                            Val::Host(p) if Self::token_of(p).is_some() => {
                                let token = Self::token_of(p).unwrap_or(TokenKind::IdToken);
                                for prop in props {
                                    self.write(token, prop.key, prop.value, prop.span);
                                }
                            }
                            Val::Obj(into) => lock(into).extend(props),
                            _ => {}
                        }
                    }
                    return target;
                }
                (Val::Array(items), "forEach" | "map") => {
                    if let Some(Val::Func(f)) = values.first() {
                        let f = f.clone();
                        let results: Vec<Val> = items
                            .clone()
                            .into_iter()
                            .enumerate()
                            .map(|(i, item)| self.call(&f, &[item, Val::Num(i as f64)]))
                            .collect();
                        return if method == "map" {
                            Val::Array(results)
                        } else {
                            Val::Undef
                        };
                    }
                }
                (Val::Array(items), "includes") => {
                    let needle = values.first().cloned().unwrap_or(Val::Undef);
                    let answers: Vec<Option<bool>> = items.iter().map(|i| i.equals(&needle)).collect();
                    return if answers.contains(&Some(true)) {
                        Val::Bool(true)
                    } else if answers.iter().all(|a| *a == Some(false)) {
                        Val::Bool(false)
                    } else {
                        Val::Unknown("a list lookup".into())
                    };
                }
                (Val::Str(s), "startsWith" | "endsWith" | "includes") => {
                    if let Some(arg) = values.first().and_then(Val::known_text) {
                        let answer = match method.as_str() {
                            "startsWith" => s.starts_with(&arg),
                            "endsWith" => s.ends_with(&arg),
                            _ => s.contains(&arg),
                        };
                        return Val::Bool(answer);
                    }
                }
                (Val::Str(s), "toLowerCase") => return Val::Str(s.to_lowercase()),
                (Val::Str(s), "toUpperCase") => return Val::Str(s.to_uppercase()),
                (Val::Str(s), "trim") => return Val::Str(s.trim().to_string()),
                (Val::Str(s), "concat") => {
                    return values.iter().fold(Val::Str(s.clone()), |acc, v| acc.concat(v));
                }
                _ => {}
            }
        }
        let function = match (&receiver, &callee.kind) {
            (None, ExprKind::Ident(_) | ExprKind::Function(_)) => Some(self.eval(callee)),
            _ => None,
        };
        match function {
            Some(Val::Func(f)) => return self.call(&f, &values),
            Some(Val::Host(path)) if path == "callback" => {
                // A hook hands its access token to the callback: `cb(null, access_token)`.
                if let Some(result) = values.get(1) {
                    self.hook_result = Some(result.clone());
                }
                return Val::Undef;
            }
            _ => {}
        }
        // A function claimlint does not know: callbacks handed to it may run.
        for value in &values {
            if let Val::Func(f) = value {
                let f = f.clone();
                self.call_may(&f);
            }
        }
        if let (Some(Val::Obj(_)), Some(m)) = (&receiver, &method)
            && m == "then"
        {
            return Val::Unknown("a promise".into());
        }
        Val::Unknown(format!("the result of {}", describe_callee(callee)))
    }
}

fn describe_callee(callee: &Expr) -> String {
    match &callee.kind {
        ExprKind::Ident(name) => format!("{name}()"),
        ExprKind::Member { property, .. } => match &property.kind {
            ExprKind::Str(name) => format!("a call to {name}()"),
            _ => "a call".into(),
        },
        _ => "a call".into(),
    }
}

/// A name bound by destructuring `value` (`const { email } = user`).
fn destructure(value: &Val, name: &str) -> Val {
    match value {
        Val::Host(path) if path == "user" || path == "event.user" => Val::Attr(name.to_string()),
        Val::Attr(path) => Val::Attr(format!("{path}.{name}")),
        Val::Host(path) if path == "configuration" || path == "event.secrets" => {
            Val::Unknown(format!("{path}.{name}"))
        }
        _ => Val::Unknown(format!("`{name}` destructured from {}", value.describe())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn writes(script: &str) -> Vec<(String, bool)> {
        let lowered = crate::js::analyse(script);
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        run(&lowered.program, Entry::Rule, &Facts::new())
            .writes
            .iter()
            .map(|w| (w.key.known_text().unwrap_or_default(), w.may))
            .collect()
    }

    #[test]
    fn a_return_inside_a_called_helper_leaves_the_caller_certain() {
        let out = writes(
            "function (user, context, callback) {
               function rolesOf(u) {
                 if (!u.app_metadata) { return []; }
                 return u.app_metadata.roles;
               }
               const roles = rolesOf(user);
               context.idToken['https://x.com/roles'] = roles;
               callback(null, user, context);
             }",
        );
        assert_eq!(out, [("https://x.com/roles".to_string(), false)]);
        // A return the rule itself may reach still makes what follows uncertain.
        let out = writes(
            "function (user, context, callback) {
               if (!user.app_metadata) { return callback(null, user, context); }
               context.idToken['https://x.com/roles'] = 1;
               callback(null, user, context);
             }",
        );
        assert_eq!(out, [("https://x.com/roles".to_string(), true)]);
    }

    #[test]
    fn helpers_declared_below_their_call_run() {
        let out = writes(
            "function (user, context, callback) {
               addClaims(context.idToken);
               return callback(null, user, context);

               function addClaims(claims) {
                 claims['https://x.com/plan'] = user.app_metadata.plan;
               }
             }",
        );
        assert_eq!(out, [("https://x.com/plan".to_string(), false)]);
    }
}

#[cfg(test)]
mod hostile_input_tests {
    //! Scripts that once fooled or hung the interpreter.

    use super::*;

    fn writes(script: &str) -> Vec<(String, bool)> {
        let lowered = crate::js::analyse(script);
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        let outcome = run(&lowered.program, Entry::Rule, &Facts::new());
        outcome
            .writes
            .iter()
            .map(|w| (crate::eval::claim_label(&w.key), w.may))
            .collect()
    }

    #[test]
    fn block_scoped_bindings_do_not_leak() {
        let found = writes(
            "function (user, context, callback) {\n const ns = 'https://x.com/';\n if (user.a) { const ns = 'tmp_'; }\n context.idToken[ns + 'r'] = 1;\n callback(null, user, context);\n}",
        );
        assert_eq!(found, [("https://x.com/r".to_string(), false)]);
    }

    #[test]
    fn an_assignment_that_may_happen_makes_the_variable_unknown() {
        let found = writes(
            "function (user, context, callback) {\n let ns = 'https://a.com/';\n if (user.x) { ns = ''; }\n context.idToken[ns + 'r'] = 1;\n callback(null, user, context);\n}",
        );
        assert!(found[0].0.starts_with('<'), "{found:?}");
    }

    #[test]
    fn logical_assignment_is_not_concatenation() {
        let found = writes(
            "function (user, context, callback) {\n let ns = 'https://a.com/';\n ns ||= 'https://b.com/';\n context.idToken[ns + 'r'] = 1;\n callback(null, user, context);\n}",
        );
        assert_eq!(found, [("https://a.com/r".to_string(), false)]);
    }

    #[test]
    fn loose_and_strict_equality_differ() {
        let found = writes(
            "function (user, context, callback) {\n if (null === undefined) { context.idToken.a = 1; }\n if (null == undefined) { context.idToken.b = 1; }\n if ('1' == 1) { context.idToken.c = 1; }\n callback(null, user, context);\n}",
        );
        assert_eq!(found, [("b".to_string(), false), ("c".to_string(), true)]);
    }

    #[test]
    fn self_referencing_objects_and_doubling_strings_stay_bounded() {
        let mut script = String::from(
            "function (user, context, callback) {\n let s = 'ab';\n const o = {};\n o.self = o;\n",
        );
        script.push_str(&" s = s + s;\n".repeat(64));
        script.push_str(" context.idToken['https://x.com/o'] = o;\n context.idToken['https://x.com/s'] = s;\n callback(null, user, context);\n}");
        let lowered = crate::js::analyse(&script);
        let outcome = run(&lowered.program, Entry::Rule, &Facts::new());
        for write in &outcome.writes {
            let json = write.value.to_token_json().to_string();
            assert!(json.len() < 100_000, "{}", json.len());
        }
    }

    #[test]
    fn deeply_nested_statements_parse_without_overflow() {
        let script = format!(
            "function (user, context, callback) {{\n{} context.idToken.x = 1;\n}}",
            "if (user.a) ".repeat(5_000)
        );
        // Runs on a test thread (2 MiB): the bracket pre-check cannot see `if` nesting, so the
        // worker pool's large stack is what protects real runs; here a smaller depth suffices.
        let handle = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(move || crate::js::analyse(&script).errors.len());
        assert!(handle.expect("spawn").join().is_ok());
    }
}
