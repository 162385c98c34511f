//! `partial-options-update` (CL205): script code that updates a connection with a partial
//! `options` object.
//!
//! ### What it flags
//! A call in a rule, action, hook or custom-database script (or a loose source) that updates an
//! Auth0 connection and sends an `options` object written out as a literal with no spread
//! element, so it holds only the keys it lists. The Management API's Update a connection
//! endpoint (`PATCH /api/v2/connections/{id}`) replaces `options` as a whole instead of merging
//! it, so such a call wipes every other option of the connection (password policy, signing
//! certificate, attribute mappings...).
//!
//! The calls recognised:
//! - Management API clients, through any receiver: `x.updateConnection(params, data)` (node-auth0
//!   v2) and `x.connections.update(params, data)` (v3 and later).
//! - Raw HTTP PATCH requests to a URL one of whose known parts contains a `url_patterns` entry
//!   (`/api/v2/connections/` by default; template literals and concatenations are read part by
//!   part): `x.patch(url, body)` (axios, got, request, superagent-style helpers), and any call
//!   with a config object whose `method` is `PATCH` (`axios({...})`, `axios.request({...})`,
//!   `request({...})`, `fetch(url, {...})`, `got(url, {...})`). The body is the config's `data`,
//!   `json` or `body` (through `JSON.stringify`), or the second argument of `x.patch(url, body)`.
//!
//! The body and its `options` may be written in the call or held by a variable bound once to an
//! object literal (resolved with `oxc_semantic`, so shadowing is settled). Nothing is flagged
//! when `options` is a spread-merged literal (`{ ...conn.options, key }`), a call
//! (`Object.assign({}, conn.options, {...})`), or any other value whose keys are unknown (the
//! read-modify-write pattern: `connection.options` after a GET, changed and sent back); nor when
//! the variable holding the literal is changed after it is built (`opts.x = ...`,
//! `Object.assign(opts, ...)`), or a spread in the body after `options` may replace it. Disabled
//! rules and hooks do not run and are skipped. No login is evaluated: the finding is a code
//! pattern and carries no proof.
//!
//! ### Options
//! `url_patterns`: text a raw request's URL must contain to be a connection update.

use std::collections::HashSet;

/// The walk's maps, keyed by symbol and function ids: hashed with foldhash (a walk of every
/// script makes hundreds of thousands of lookups; SipHash's resistance buys nothing for ids).
type Map<K, V> = std::collections::HashMap<K, V, foldhash::fast::FixedState>;
type Set<T> = HashSet<T, foldhash::fast::FixedState>;

use serde::Deserialize;

use super::{Context, Hit, options};
use crate::eval::ScriptUnit;
use crate::js::ir::{
    Arg, AssignOp, BinaryOp, Expr, ExprKind, ForTarget, Function, MemberProp, Param, Pattern, Program, Prop,
    PropKey, Stmt, Sym, UnaryOp, Var,
};
use crate::js::walk::{Visit, walk_expr, walk_function, walk_stmt};
use crate::model::Loc;
use crate::source::Span;

#[derive(Debug, Deserialize)]
struct Options {
    #[serde(default = "default_url_patterns")]
    url_patterns: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            url_patterns: default_url_patterns(),
        }
    }
}

fn default_url_patterns() -> Vec<String> {
    vec!["/api/v2/connections/".into()]
}

pub fn run(ctx: &Context<'_>, raw: &serde_json::Value) -> Vec<Hit> {
    let options: Options = options(raw);
    let scripts = ctx.scripts;
    let rule_runs = |i: &usize| ctx.tenant.rules.get(*i).is_none_or(|r| r.enabled);
    let hook_runs = |i: &usize| ctx.tenant.hooks.get(*i).is_none_or(|h| h.enabled);
    let units = (scripts.rules.iter().filter(|(i, _)| rule_runs(i)))
        .chain(&scripts.actions)
        .chain(scripts.hooks.iter().filter(|(i, _)| hook_runs(i)))
        .chain(&scripts.databases)
        .map(|(_, unit)| unit)
        .collect::<Vec<_>>();
    // Each script is scanned on any core; `collect` keeps their order.
    let scanned: Vec<Vec<Found>> = {
        use rayon::prelude::*;
        units
            .par_iter()
            .map(|unit| scan(&unit.lowered.ir, &options.url_patterns))
            .collect()
    };
    let mut seen = HashSet::new();
    let mut hits = Vec::new();
    for (unit, founds) in units.into_iter().zip(scanned) {
        for found in founds {
            if !seen.insert((unit.file, found.options)) {
                continue;
            }
            hits.push(hit(unit, &found));
        }
    }
    hits
}

fn hit(unit: &ScriptUnit, found: &Found) -> Hit {
    let at = |span: Span| Loc {
        file: unit.file,
        span,
        pointer: String::new(),
    };
    let call = callee_text(&unit.text, found.callee);
    let mut hit = Hit::at(at(key_span(&unit.text, found.options)))
        .var("keys", keys_text(&found.keys))
        .var("call", call)
        .var("script", unit.label())
        .subject(unit.kind, &unit.name);
    // The literal sits away from the call (in a variable): point at the call too.
    if found.options.start < found.call.start || found.options.end > found.call.end {
        hit = hit.related("the connection update that sends it", at(found.call));
    }
    hit
}

/// The `options` key of a property (`options: {...}`, `'options': {...}`, or the shorthand
/// `options`); the whole property when its text does not start with the key.
fn key_span(text: &str, prop: Span) -> Span {
    let rest = text.get(prop.start as usize..prop.end as usize).unwrap_or("");
    let len = if rest.starts_with("options") {
        7
    } else if rest.starts_with("'options'") || rest.starts_with("\"options\"") {
        9
    } else {
        return prop;
    };
    Span::new(prop.start as usize, prop.start as usize + len)
}

/// The callee as written (`management.connections.update`, `axios.patch`), on one line and
/// short enough for a message.
fn callee_text(text: &str, callee: Span) -> String {
    let written = text.get(callee.start as usize..callee.end as usize).unwrap_or("");
    let one_line = written
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace(" .", ".")
        .replace(" ?.", "?.");
    const MAX: usize = 60;
    if one_line.is_empty() {
        "the request".into()
    } else if one_line.chars().count() > MAX {
        let cut: String = one_line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// `` `a`, `b` ``, or what an empty object says.
fn keys_text(keys: &[String]) -> String {
    if keys.is_empty() {
        return "`{}` (no keys)".into();
    }
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One partial `options` sent by a connection update.
#[derive(Debug, Clone, PartialEq)]
struct Found {
    /// The `options` property of the body.
    options: Span,
    /// The keys the literal lists, in source order.
    keys: Vec<String>,
    /// The call that sends it, and its callee.
    call: Span,
    callee: Span,
}

/// The names one of which a script says when it may update a connection: the methods of
/// [`Facts::management_body`], `x.patch(…)`, and a config's `method` key. Every static member
/// name and key is one of the texts a program holds ([`Program::may_mention`]).
const CALL_NAMES: &[&str] = &["updateConnection", "update", "patch", "method"];

/// Every partial `options` sent by a connection update in `program`.
fn scan(program: &Program, url_patterns: &[String]) -> Vec<Found> {
    if !CALL_NAMES.iter().any(|name| program.may_mention(name)) {
        return Vec::new();
    }
    let mut facts = Facts::default();
    facts.program(program);
    for (_, function) in &program.hoisted {
        facts.function(function);
    }
    facts.settle();
    let mut found = Vec::new();
    for call in &facts.calls {
        let ExprKind::Call { callee, args, .. } = &call.kind else {
            continue;
        };
        let Some(body) = facts
            .management_body(callee, args)
            .or_else(|| facts.http_patch_body(callee, args, url_patterns))
        else {
            continue;
        };
        if let Some((options, keys)) = facts.partial_options(body) {
            let item = Found {
                options,
                keys,
                call: call.span,
                callee: callee.span,
            };
            if !found.contains(&item) {
                found.push(item);
            }
        }
    }
    found
}

/// How many steps resolving one value may take (variables followed, string parts read).
const BUDGET: u32 = 256;
/// The longest known text kept for a URL.
const MAX_TEXT: usize = 8 << 10;

/// What one walk over a script learns: what each variable is bound to, which variables are
/// changed in place, and every call.
#[derive(Default)]
struct Facts<'p> {
    /// Values assigned to a variable with `=` (its initialiser included).
    bindings: Map<Sym, Vec<&'p Expr>>,
    /// Variables bound some other way too (destructuring, `+=`, a loop, a parameter...).
    opaque: Set<Sym>,
    /// Variables whose object is changed in place (`x.a = ...`, `delete x.a`,
    /// `Object.assign(x, ...)`).
    mutated: Set<Sym>,
    calls: Vec<&'p Expr>,
    /// Functions already walked (hoisted declarations are also statements).
    functions: Set<u32>,
}

/// Calls that change their first argument in place (`Object.assign`, lodash's `merge`...).
const MERGERS: &[&str] = &[
    "assign",
    "merge",
    "mergeWith",
    "defaults",
    "defaultsDeep",
    "extend",
    "set",
];

impl<'p> Visit<'p> for Facts<'p> {
    fn stmt(&mut self, stmt: &'p Stmt) {
        match stmt {
            Stmt::Decl { pattern, init, .. } => match (pattern, init) {
                (Pattern::Bind { sym, .. }, Some(init)) => self.bindings.entry(*sym).or_default().push(init),
                (Pattern::Bind { .. }, None) => {}
                (pattern, _) => self.bound_opaquely(pattern),
            },
            Stmt::FunctionDecl { sym, .. } => {
                self.opaque.insert(*sym);
            }
            Stmt::Try {
                param: Some(param), ..
            } => self.bound_opaquely(param),
            Stmt::ForIn { left, .. } | Stmt::ForOf { left, .. } => {
                let (ForTarget::Decl(_, target) | ForTarget::Assign(target)) = left;
                self.bound_opaquely(target);
            }
            _ => {}
        }
        walk_stmt(self, stmt);
    }

    fn function(&mut self, function: &'p Function) {
        if !self.functions.insert(function.id) {
            return;
        }
        if let Some((sym, _)) = &function.name {
            self.opaque.insert(*sym);
        }
        for param in &function.params {
            let (Param::Pattern(p) | Param::Rest(p)) = param;
            self.bound_opaquely(p);
        }
        for (sym, hoisted) in &function.hoisted {
            self.opaque.insert(*sym);
            self.function(hoisted);
        }
        walk_function(self, function);
    }

    fn expr(&mut self, expr: &'p Expr) {
        match &expr.kind {
            ExprKind::Call { callee, args, .. } => {
                self.calls.push(expr);
                if let (Some(name), Some(Arg::Expr(first))) = (member_name(callee), args.first())
                    && MERGERS.contains(&name)
                    && let Some(sym) = root(first)
                {
                    self.mutated.insert(sym);
                }
            }
            ExprKind::Unary { op, argument } => {
                if *op == UnaryOp::Delete
                    && let Some(sym) = root(argument)
                {
                    self.mutated.insert(sym);
                }
            }
            ExprKind::Assign { op, target, value } => match (op, &**target) {
                (AssignOp::Assign, Pattern::Bind { sym, .. }) => {
                    self.bindings.entry(*sym).or_default().push(value)
                }
                (_, target) => self.bound_opaquely(target),
            },
            ExprKind::Update { target, .. } => self.bound_opaquely(target),
            _ => {}
        }
        walk_expr(self, expr);
    }
}

impl<'p> Facts<'p> {
    /// Marks every variable `pattern` binds as bound to a value this walk does not follow.
    fn bound_opaquely(&mut self, pattern: &Pattern) {
        match pattern {
            Pattern::Bind { sym, .. } => {
                self.opaque.insert(*sym);
            }
            Pattern::Object { props, rest, .. } => {
                props.iter().for_each(|p| self.bound_opaquely(&p.value));
                rest.iter().for_each(|p| self.bound_opaquely(p));
            }
            Pattern::Array { items, rest, .. } => {
                items.iter().flatten().for_each(|p| self.bound_opaquely(p));
                rest.iter().for_each(|p| self.bound_opaquely(p));
            }
            Pattern::Default { pattern, .. } => self.bound_opaquely(pattern),
            Pattern::Member(target) => {
                if let Some(sym) = root(target) {
                    self.mutated.insert(sym);
                }
            }
            Pattern::Global { .. } | Pattern::Unknown(_) => {}
        }
    }

    /// A variable copied into another (`const b = a`) is changed when its copy is.
    fn settle(&mut self) {
        loop {
            let before = self.mutated.len();
            for (alias, values) in &self.bindings {
                if !self.mutated.contains(alias) {
                    continue;
                }
                for value in values {
                    if let ExprKind::Ident {
                        var: Var::Local(sym), ..
                    } = &value.kind
                    {
                        self.mutated.insert(*sym);
                    }
                }
            }
            if self.mutated.len() == before {
                break;
            }
        }
    }

    /// The one value a variable holds: bound once with `=` and never otherwise.
    fn value_of(&self, sym: Sym) -> Option<&'p Expr> {
        if self.opaque.contains(&sym) {
            return None;
        }
        match self.bindings.get(&sym).map(Vec::as_slice) {
            Some([value]) => Some(value),
            _ => None,
        }
    }

    /// `expr` with variables followed to the value they hold; `None` when a variable on the way
    /// holds no single value, or, with `object`, is changed in place.
    fn resolve(&self, mut expr: &'p Expr, object: bool) -> Option<&'p Expr> {
        for _ in 0..16 {
            match &expr.kind {
                ExprKind::Ident {
                    var: Var::Local(sym), ..
                } => {
                    if object && self.mutated.contains(sym) {
                        return None;
                    }
                    expr = self.value_of(*sym)?;
                }
                ExprKind::Await(inner) => expr = inner,
                _ => return Some(expr),
            }
        }
        None
    }

    /// The properties of the object literal `expr` is (through variables).
    fn object(&self, expr: &'p Expr) -> Option<&'p [Prop]> {
        match &self.resolve(expr, true)?.kind {
            ExprKind::Object(props) => Some(props),
            _ => None,
        }
    }

    /// The body of `x.updateConnection(params, data)` or `x.connections.update(params, data)`.
    fn management_body(&self, callee: &'p Expr, args: &'p [Arg]) -> Option<&'p Expr> {
        let ExprKind::Member { object, property, .. } = &callee.kind else {
            return None;
        };
        let MemberProp::Static(method) = property else {
            return None;
        };
        let recognised = match &**method {
            "updateConnection" => true,
            "update" => member_name(object) == Some("connections"),
            _ => false,
        };
        if !recognised {
            return None;
        }
        match args.get(1)? {
            Arg::Expr(data) => Some(data),
            Arg::Spread(_) => None,
        }
    }

    /// The body of a raw HTTP PATCH to a connection URL.
    fn http_patch_body(
        &self,
        callee: &'p Expr,
        args: &'p [Arg],
        url_patterns: &[String],
    ) -> Option<&'p Expr> {
        let arg = |i: usize| match args.get(i) {
            Some(Arg::Expr(e)) => Some(e),
            _ => None,
        };
        let first = arg(0)?;
        let first_config = self.object(first);
        let configs: Vec<&'p [Prop]> = (0..3)
            .filter_map(|i| arg(i).and_then(|e| self.object(e)))
            .collect();
        let patch_method = member_name(callee) == Some("patch");
        let method_config = configs.iter().copied().find(|c| {
            prop(c, "method")
                .and_then(|m| self.known_text(m))
                .is_some_and(|m| m.eq_ignore_ascii_case("patch"))
        });
        if !patch_method && method_config.is_none() {
            return None;
        }
        // The URL: the first argument, or the `url` (`uri`) of a config passed first.
        let mut url = Vec::new();
        let mut budget = BUDGET;
        match first_config {
            Some(config) => {
                if let Some(base) = prop(config, "baseURL") {
                    self.pieces(base, &mut budget, &mut url);
                }
                let address = prop(config, "url").or_else(|| prop(config, "uri"))?;
                self.pieces(address, &mut budget, &mut url);
            }
            None => self.pieces(first, &mut budget, &mut url),
        }
        if !matches_url(&url, url_patterns) {
            return None;
        }
        let body = match (first_config, method_config) {
            (Some(config), _) => body_of(config)?,
            (None, Some(config)) => body_of(config)?,
            // `x.patch(url, body)`, or `got.patch(url, { json })` / `request.patch(url, { body })`.
            (None, None) => {
                let second = arg(1)?;
                match self.object(second) {
                    Some(props) if prop(props, "options").is_none() => body_of(props).unwrap_or(second),
                    _ => second,
                }
            }
        };
        Some(self.unstringify(body))
    }

    /// `JSON.stringify(x)` is `x`.
    fn unstringify(&self, expr: &'p Expr) -> &'p Expr {
        let Some(resolved) = self.resolve(expr, false) else {
            return expr;
        };
        if let ExprKind::Call { callee, args, .. } = &resolved.kind
            && member_name(callee) == Some("stringify")
            && let ExprKind::Member { object, .. } = &callee.kind
            && matches!(&object.kind, ExprKind::Ident { var: Var::Global, name } if &**name == "JSON")
            && let Some(Arg::Expr(value)) = args.first()
        {
            return value;
        }
        expr
    }

    /// The `options` property of `body` and the keys of its literal, when the literal has no
    /// spread element.
    fn partial_options(&self, body: &'p Expr) -> Option<(Span, Vec<String>)> {
        let props = self.object(body)?;
        let mut options = None;
        for p in props {
            match p {
                Prop::KeyValue {
                    key: PropKey::Static(name),
                    value,
                    span,
                } if &**name == "options" => options = Some((value, *span)),
                // A spread after `options` may replace it.
                Prop::Spread(_) if options.is_some() => return None,
                _ => {}
            }
        }
        let (value, span) = options?;
        let literal = self.object(value)?;
        let mut keys: Vec<String> = Vec::new();
        for p in literal {
            let key = match p {
                Prop::Spread(_) => return None,
                Prop::KeyValue { key, .. } | Prop::Accessor { key, .. } => key,
            };
            let name = match key {
                PropKey::Static(name) => name.to_string(),
                PropKey::Computed(e) => self.known_text(e).unwrap_or_else(|| "[…]".into()),
            };
            if !keys.contains(&name) {
                keys.push(name);
            }
        }
        Some((span, keys))
    }

    /// The text of `expr` when every part of it is known.
    fn known_text(&self, expr: &'p Expr) -> Option<String> {
        let mut parts = Vec::new();
        let mut budget = BUDGET;
        self.pieces(expr, &mut budget, &mut parts);
        let mut text = String::new();
        for part in parts {
            text.push_str(&part?);
        }
        Some(text)
    }

    /// The parts of a string-valued expression, in order: known text, or `None` for a part
    /// that is not known.
    fn pieces(&self, expr: &'p Expr, budget: &mut u32, out: &mut Vec<Option<String>>) {
        if *budget == 0 || out.iter().flatten().map(String::len).sum::<usize>() > MAX_TEXT {
            out.push(None);
            return;
        }
        *budget -= 1;
        match &expr.kind {
            ExprKind::Str(text) => out.push(Some(text.to_string())),
            ExprKind::Template { quasis, exprs } => {
                for (i, quasi) in quasis.iter().enumerate() {
                    out.push(Some(quasi.to_string()));
                    if let Some(e) = exprs.get(i) {
                        self.pieces(e, budget, out);
                    }
                }
            }
            ExprKind::Binary {
                op: BinaryOp::Add,
                left,
                right,
            } => {
                self.pieces(left, budget, out);
                self.pieces(right, budget, out);
            }
            ExprKind::Ident {
                var: Var::Local(sym), ..
            } => match self.value_of(*sym) {
                Some(value) => self.pieces(value, budget, out),
                None => out.push(None),
            },
            // `new URL('/api/v2/connections/' + id, base)`
            ExprKind::New { callee, args } if matches!(&callee.kind, ExprKind::Ident { var: Var::Global, name } if &**name == "URL") => {
                match args.first() {
                    Some(Arg::Expr(path)) => self.pieces(path, budget, out),
                    _ => out.push(None),
                }
            }
            _ => out.push(None),
        }
    }
}

/// Whether some run of known parts of a URL contains one of `patterns`.
fn matches_url(parts: &[Option<String>], patterns: &[String]) -> bool {
    let mut run = String::new();
    let mut runs = Vec::new();
    for part in parts {
        match part {
            Some(text) => run.push_str(text),
            None => runs.push(std::mem::take(&mut run)),
        }
    }
    runs.push(run);
    runs.iter()
        .any(|run| patterns.iter().any(|p| !p.is_empty() && run.contains(p.as_str())))
}

/// The value of the last property `name` of an object literal.
fn prop<'p>(props: &'p [Prop], name: &str) -> Option<&'p Expr> {
    props.iter().rev().find_map(|p| match p {
        Prop::KeyValue {
            key: PropKey::Static(key),
            value,
            ..
        } if &**key == name => Some(value),
        _ => None,
    })
}

/// The request body of a config object: `data` (axios), `json` (got, request) or `body`
/// (fetch, request), skipping `json: true`.
fn body_of(config: &[Prop]) -> Option<&Expr> {
    ["data", "json", "body"]
        .into_iter()
        .filter_map(|name| prop(config, name))
        .find(|value| !matches!(value.kind, ExprKind::Bool(_)))
}

/// The name of a static member access (`x.name`).
fn member_name(expr: &Expr) -> Option<&str> {
    match &expr.kind {
        ExprKind::Member {
            property: MemberProp::Static(name),
            ..
        } => Some(name),
        ExprKind::Chain(inner) => member_name(inner),
        _ => None,
    }
}

/// The local variable at the root of a member chain (`a` of `a.b.c`, `a[k]`).
fn root(expr: &Expr) -> Option<Sym> {
    match &expr.kind {
        ExprKind::Ident {
            var: Var::Local(sym), ..
        } => Some(*sym),
        ExprKind::Member { object, .. } => root(object),
        ExprKind::Chain(inner) => root(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::test_support::hits;

    /// The keys of every partial `options` found in `script`, with the callee as written.
    fn found(script: &str) -> Vec<(String, Vec<String>)> {
        let lowered = crate::js::analyse(script);
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        scan(&lowered.ir, &default_url_patterns())
            .into_iter()
            .map(|f| (callee_text(script, f.callee), f.keys))
            .collect()
    }

    fn keys(list: &[&str]) -> Vec<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn management_client_updates_are_recognised_on_any_receiver() {
        let script = r#"
            const { ManagementClient } = require('auth0');
            const mgmt = new ManagementClient({ domain: 'x', clientId: 'y', clientSecret: 'z' });
            async function run(id, client) {
              await mgmt.connections.update({ id }, { options: { non_persistent_attrs: ['ssn'] } });
              management.updateConnection({ id }, { options: { brute_force_protection: true } }, cb);
              auth0.connections.update({ id }, { options: {} });
              await client.management.connections.update({ id }, { options: { 'a': 1, ['b']: 2 } });
            }
        "#;
        assert_eq!(
            found(script),
            vec![
                ("mgmt.connections.update".into(), keys(&["non_persistent_attrs"])),
                (
                    "management.updateConnection".into(),
                    keys(&["brute_force_protection"])
                ),
                ("auth0.connections.update".into(), keys(&[])),
                ("client.management.connections.update".into(), keys(&["a", "b"])),
            ]
        );
    }

    #[test]
    fn bodies_and_options_are_followed_through_variables() {
        let script = r#"
            async function f(id) {
              const options = { non_persistent_attrs: ['gender'], debug: false };
              await management.connections.update({ id }, { options });
              const body = { display_name: 'X', options: { set_user_root_attributes: 'on_first_login' } };
              await management.updateConnection({ id }, body);
            }
        "#;
        assert_eq!(
            found(script),
            vec![
                (
                    "management.connections.update".into(),
                    keys(&["non_persistent_attrs", "debug"])
                ),
                (
                    "management.updateConnection".into(),
                    keys(&["set_user_root_attributes"])
                ),
            ]
        );
    }

    #[test]
    fn raw_patch_requests_are_recognised() {
        let script = r#"
            const axios = require('axios');
            const request = require('request');
            const fetch = require('node-fetch');
            const got = require('got');
            async function f(domain, id, token) {
              const url = `https://${domain}/api/v2/connections/${id}`;
              await axios.patch(url, { options: { a: 1 } }, { headers: {} });
              await axios({ method: 'PATCH', url, data: { options: { b: 1 } } });
              await axios.request({ method: 'patch', url: 'https://' + domain + '/api/v2/connections/' + id, data: { options: { c: 1 } } });
              request({ method: 'PATCH', uri: url, json: { options: { d: 1 } } }, cb);
              request.patch({ url, json: true, body: { options: { e: 1 } } }, cb);
              const payload = { options: { f: 1 } };
              await fetch(url, { method: 'PATCH', headers: {}, body: JSON.stringify(payload) });
              await got.patch(url, { json: { options: { g: 1 } } });
              await axios({ method: 'patch', baseURL: `https://${domain}/api/v2/`, url: `connections/${id}`, data: { options: { h: 1 } } });
            }
        "#;
        let found = found(script);
        let all: Vec<&str> = found
            .iter()
            .flat_map(|(_, k)| k.iter().map(String::as_str))
            .collect();
        assert_eq!(all, ["a", "b", "c", "d", "e", "f", "g", "h"], "{found:?}");
        assert_eq!(found[0].0, "axios.patch");
        assert_eq!(found[5].0, "fetch");
    }

    #[test]
    fn merged_and_unknown_options_are_not_flagged() {
        let script = r#"
            async function f(id, domain, token) {
              const conn = await management.connections.get({ id });
              await management.connections.update({ id }, { options: { ...conn.options, non_persistent_attrs: ['ssn'] } });
              await management.updateConnection({ id }, { options: Object.assign({}, conn.options, { a: 1 }) });
              const options = conn.options;
              options.non_persistent_attrs = ['ssn'];
              await management.updateConnection({ id }, { options });
              const built = { a: 1 };
              built.b = 2;
              await management.updateConnection({ id }, { options: built });
              const merged = { a: 1 };
              Object.assign(merged, conn.options);
              await management.updateConnection({ id }, { options: merged });
              let changing = { a: 1 };
              if (token) changing = conn.options;
              await management.updateConnection({ id }, { options: changing });
              await management.updateConnection({ id }, { options: { a: 1 }, ...conn });
              await management.updateConnection({ id }, { display_name: 'No options' });
              await management.updateUser({ id }, { options: { a: 1 } });
              await management.users.update({ id }, { app_metadata: { a: 1 } });
              await axios.patch(`https://${domain}/api/v2/users/${id}`, { options: { a: 1 } });
              await axios.get(`https://${domain}/api/v2/connections/${id}`);
              await axios.post(`https://${domain}/api/v2/connections`, { options: { a: 1 } });
              await axios.patch(someUrl, { options: { a: 1 } });
              await fetch(`https://${domain}/api/v2/connections/${id}`, { method: 'GET' });
            }
        "#;
        assert_eq!(found(script), vec![]);
    }

    #[test]
    fn shadowed_names_are_told_apart() {
        let script = r#"
            const options = { a: 1 };
            function f(id, options) {
              return management.updateConnection({ id }, { options });
            }
        "#;
        assert_eq!(found(script), vec![]);
    }

    #[test]
    fn a_copy_changed_in_place_changes_its_original() {
        let script = r#"
            const options = { a: 1 };
            const alias = options;
            alias.b = 2;
            management.updateConnection({ id }, { options });
        "#;
        assert_eq!(found(script), vec![]);
    }

    #[test]
    fn callees_are_shown_on_one_line() {
        let script = "axios\n  .patch(u, b)";
        assert_eq!(callee_text(script, Span::new(0, 14)), "axios.patch");
        let long = format!("{}.update", "a".repeat(80));
        assert!(callee_text(&long, Span::new(0, long.len())).ends_with('…'));
    }

    #[test]
    fn url_parts_are_joined_where_known() {
        let url = |parts: &[Option<&str>]| {
            let parts: Vec<Option<String>> = parts.iter().map(|p| p.map(String::from)).collect();
            matches_url(&parts, &default_url_patterns())
        };
        assert!(url(&[
            Some("https://"),
            None,
            Some("/api/v2/"),
            Some("connections/"),
            None
        ]));
        assert!(!url(&[Some("/api/v2/"), None, Some("connections/")]));
        assert!(!url(&[None]));
    }

    #[test]
    fn findings_point_at_the_options_key() {
        for form in ["yaml", "directory"] {
            let found = hits(
                "partial-options-update",
                form,
                "partial-options-update",
                serde_json::json!({}),
            );
            let files: Vec<&str> = found.iter().map(|h| h.0.as_str()).collect();
            assert_eq!(found.len(), 5, "{form}: {found:?}");
            assert!(files.iter().any(|f| f.contains("Deny SSN")), "{form}: {files:?}");
            assert!(found.iter().all(|h| h.3.contains("keys=`")), "{form}: {found:?}");
            let passing = hits(
                "partial-options-update",
                &format!("pass-{form}"),
                "partial-options-update",
                serde_json::json!({}),
            );
            assert!(passing.is_empty(), "{form}: {passing:?}");
        }
    }

    #[test]
    fn url_patterns_can_be_replaced() {
        let found = hits(
            "partial-options-update",
            "directory",
            "partial-options-update",
            serde_json::json!({ "url_patterns": ["/nothing/"] }),
        );
        // The Management API calls remain; the raw requests no longer match.
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
