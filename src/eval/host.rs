//! The Auth0 host API as the interpreter sees it: the objects a rule, action or hook receives
//! (`user`, `context`, `configuration`, `event`, `api`, `callback`), what reading their
//! properties gives, and what calling their functions does.
//!
//! In a *closed* run every input is a concrete value from JSON (the differential test feeds
//! the same JSON to node). In an *abstract* run the user profile is symbolic (each attribute
//! is [`Val::Attr`]) and the login facts (client, connection, protocol...) come from
//! [`LoginFacts`]; every fact a script reads is recorded, so its evaluation can be reused for
//! every login that agrees on those facts. A fact the script only keeps in variables and
//! compares with known strings ([`Val::Fact`]) is recorded as those strings ([`FactRead`]): the
//! evaluation is reused for every login whose value equals the same one of them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::builtins::from_json;
use super::domain::{Cond, EventKind, FactText, MAX_TEXT, ObjId, ObjKind, Object, Rest, State, Val};
use super::machine::{Ending, Machine, put, truthy};
use crate::js::ir::Text;
use crate::js::ir::{ExprKind, Program, Stmt};
use crate::platform::{Effect, Signal, Signals};
use crate::proof::TokenKind;
use crate::source::Span;

/// What kind of script runs, which decides its entry point and host objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScriptKind {
    /// `function (user, context, callback) {...}`
    Rule,
    /// `exports.onExecutePostLogin = async (event, api) => {...}`
    PostLoginAction,
    /// `exports.onExecuteCredentialsExchange = async (event, api) => {...}`
    CredentialsExchangeAction,
    /// `module.exports = function (client, scope, audience, context, cb) {...}`
    Hook,
    /// A custom-database script: the profile it hands to its callback.
    Database,
}

impl ScriptKind {
    /// A post-login or credentials-exchange action.
    pub fn is_action(self) -> bool {
        matches!(
            self,
            ScriptKind::PostLoginAction | ScriptKind::CredentialsExchangeAction
        )
    }
}

pub use super::domain::Fact;

/// What a run learnt of one fact it read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FactRead {
    /// The value it saw (`None`: unknown); the run may depend on all of it.
    Value(Option<String>),
    /// The run only compared the (known) value with these texts, sorted: it does the same for
    /// every value that equals the same one of them, or none. `matched` is the one its value
    /// equalled.
    Among {
        texts: std::sync::Arc<[Text]>,
        matched: Option<usize>,
    },
}

impl FactRead {
    /// Which of `texts` a value equals (`Some(None)`: none of them; `None`: the value is
    /// unknown, which no comparison run stands for).
    pub fn class_of(texts: &[Text], value: Option<&str>) -> Option<Option<usize>> {
        value.map(|v| texts.iter().position(|t| &**t == v))
    }
}

/// The facts of one login; a fact that is absent is unknown (a generic login).
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LoginFacts {
    pub values: BTreeMap<Fact, String>,
    /// `client_metadata` as JSON text.
    pub client_metadata: Option<String>,
    /// A sample user profile (JSON text): its attributes replace symbolic ones.
    pub profile: Option<String>,
}

impl LoginFacts {
    pub fn with(mut self, fact: Fact, value: impl Into<String>) -> LoginFacts {
        self.values.insert(fact, value.into());
        self
    }
}

/// Where a run takes its inputs from.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Every input concrete (the differential test).
    Closed(serde_json::Value),
    Abstract(LoginFacts),
}

/// The host side of a run.
pub struct Host {
    pub kind: ScriptKind,
    pub mode: Mode,
    pub this: Val,
    /// Facts read, with the value seen (`None`: unknown).
    pub reads: BTreeMap<Fact, Option<String>>,
    /// Facts handed out as [`Val::Fact`], with the texts they were compared with.
    pub compared: BTreeMap<Fact, (std::sync::Arc<FactText>, std::collections::BTreeSet<Text>)>,
    pub user: Option<ObjId>,
    pub context: Option<ObjId>,
    /// The token objects claims are written to (`api.idToken`, a hook's access token...).
    pub id_token: Option<ObjId>,
    pub access_token: Option<ObjId>,
    /// The value a hook or database script hands to its callback, per path.
    pub handed: Option<ObjId>,
    /// The user object as it came in (closed runs), to tell which attributes a script changed.
    pub user_before: BTreeMap<String, serde_json::Value>,
    /// The calls and `context` writes that trigger MFA, redirect or deny (the platform data's
    /// `signals`).
    pub signals: Signals,
    /// Where an action's handler returns on a live path (its own `return` statements): where
    /// the action completes, as a rule does at its `callback`.
    pub returns: Vec<Span>,
    /// The handler of an action, by the address of its function.
    pub handler: Option<usize>,
}

impl Host {
    pub fn new(kind: ScriptKind, mode: Mode, signals: Signals) -> Host {
        Host {
            kind,
            mode,
            signals,
            returns: Vec::new(),
            handler: None,
            this: Val::Undef,
            reads: BTreeMap::new(),
            compared: BTreeMap::new(),
            user: None,
            context: None,
            id_token: None,
            access_token: None,
            handed: None,
            user_before: BTreeMap::new(),
        }
    }
}

fn sink(kind: TokenKind) -> Object {
    Object {
        sink: Some(kind),
        ..Object::plain(Rest::Closed)
    }
}

impl Machine {
    fn input(&self, key: &str) -> Option<serde_json::Value> {
        match &self.host.mode {
            Mode::Closed(v) => v.get(key).cloned(),
            Mode::Abstract(_) => None,
        }
    }

    pub(super) fn closed(&self) -> bool {
        matches!(self.host.mode, Mode::Closed(_))
    }

    /// A fact's value, recording that the script read it.
    fn fact(&mut self, st: &mut State, fact: Fact, shown: &str) -> Val {
        let Mode::Abstract(facts) = &self.host.mode else {
            return Val::Undef;
        };
        if fact == Fact::ClientMetadata {
            let text = facts.client_metadata.clone();
            self.host.reads.insert(fact, text.clone());
            return match text.and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok()) {
                Some(v) => from_json(self, st, &v),
                None => {
                    let object = Object::plain(Rest::unknown(shown));
                    self.alloc(st, object)
                }
            };
        }
        let value = facts.values.get(&fact).cloned();
        if std::mem::take(&mut self.raw_fact)
            && !self.host.reads.contains_key(&fact)
            && let Some(text) = value.as_deref().filter(|t| t.len() <= MAX_TEXT)
        {
            let (shared, _) = self.host.compared.entry(fact).or_insert_with(|| {
                (
                    std::sync::Arc::new(FactText::new(fact, text.into())),
                    Default::default(),
                )
            });
            return Val::Fact(shared.clone());
        }
        self.host.reads.insert(fact, value.clone());
        match value {
            Some(v) => Val::Str(v.into()),
            None => Val::unknown(format!("`{shown}`")),
        }
    }

    /// The user object: concrete in a closed run, symbolic otherwise.
    fn make_user(&mut self, st: &mut State, json: Option<&serde_json::Value>) -> Val {
        let profile = match &self.host.mode {
            Mode::Abstract(f) => f
                .profile
                .as_ref()
                .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok()),
            Mode::Closed(_) => None,
        };
        let user = match (json, profile) {
            (Some(v), _) => {
                if let serde_json::Value::Object(map) = v {
                    self.host.user_before = map.clone().into_iter().collect();
                }
                from_json(self, st, v)
            }
            (None, Some(p)) => {
                let v = from_json(self, st, &p);
                if let Val::Obj(id) = v
                    && let Some(o) = st.obj_mut(id)
                {
                    o.rest = Rest::Attr("".into());
                }
                v
            }
            (None, None) => self.alloc(st, Object::plain(Rest::Attr("".into()))),
        };
        if let Val::Obj(id) = user {
            self.host.user = Some(id);
        }
        user
    }

    /// Sets up the host objects and runs the script's entry point.
    pub fn run_entry(&mut self, st: &mut State, program: &Program) {
        let mut global = Object::plain(Rest::Closed);
        let exports = self.alloc(st, Object::plain(Rest::Closed));
        let mut module = Object::plain(Rest::Closed);
        put(
            &mut module,
            "exports".into(),
            exports.clone(),
            None,
            Cond::always(),
            false,
        );
        let module = self.alloc(st, module);
        put(
            &mut global,
            "exports".into(),
            exports,
            None,
            Cond::always(),
            false,
        );
        put(
            &mut global,
            "module".into(),
            module.clone(),
            None,
            Cond::always(),
            false,
        );
        let configuration = match self.input("configuration") {
            Some(v) => from_json(self, st, &v),
            None if self.closed() => self.alloc(st, Object::plain(Rest::Closed)),
            None => self.alloc(st, Object::plain(Rest::unknown("configuration"))),
        };
        put(
            &mut global,
            "configuration".into(),
            configuration,
            None,
            Cond::always(),
            false,
        );
        let Val::Obj(global_id) = self.alloc(st, global) else {
            return;
        };
        self.global = global_id;
        let top = self.run_program(st, program);
        if !st.alive {
            return;
        }
        match self.host.kind {
            ScriptKind::Rule | ScriptKind::Database => {
                let Some(main) = main_function(program) else {
                    return;
                };
                let closure = Val::Func(super::domain::Closure {
                    function: main.clone(),
                    env: top,
                    this: None,
                });
                let args = if self.host.kind == ScriptKind::Rule {
                    let user_json = self.input("user");
                    let user = self.make_user(st, user_json.as_ref());
                    let context = self.make_context(st);
                    vec![user, context, Val::Native("callback".into())]
                } else {
                    let count = main.params.len();
                    (0..count)
                        .map(|i| {
                            if i + 1 == count {
                                Val::Native("callback".into())
                            } else {
                                Val::unknown("what the user typed")
                            }
                        })
                        .collect()
                };
                self.call(st, &closure, Val::Undef, args, main.span);
                // Returning without calling back never completes the login.
                let state = st.clone();
                self.terminal(state, Ending::Unfinished, main.span);
            }
            ScriptKind::PostLoginAction | ScriptKind::CredentialsExchangeAction => {
                let name = if self.host.kind == ScriptKind::PostLoginAction {
                    "onExecutePostLogin"
                } else {
                    "onExecuteCredentialsExchange"
                };
                let exports = self.get(st, &module, &Val::str("exports"), Span::default());
                let handler = self.get(st, &exports, &Val::str(name), Span::default());
                if !matches!(handler, Val::Func(_)) {
                    return;
                }
                let event = self.make_event(st);
                let id = self.alloc(st, sink(TokenKind::IdToken));
                let access = self.alloc(st, sink(TokenKind::AccessToken));
                if let (Val::Obj(i), Val::Obj(a)) = (&id, &access) {
                    self.host.id_token = Some(*i);
                    self.host.access_token = Some(*a);
                }
                let span = match &handler {
                    Val::Func(c) => c.function.span,
                    _ => Span::default(),
                };
                let api = Val::Native("api".into());
                if let Val::Func(c) = &handler {
                    self.host.handler = Some(std::sync::Arc::as_ptr(&c.function).addr());
                }
                self.call(st, &handler, Val::Undef, vec![event.clone(), api.clone()], span);
                if self.host.kind == ScriptKind::PostLoginAction {
                    // `onContinuePostLogin` runs only when the user comes back from a redirect.
                    let resume = self.get(st, &exports, &Val::str("onContinuePostLogin"), Span::default());
                    if matches!(resume, Val::Func(_)) {
                        self.maybe_call(st, &resume, vec![event, api], span);
                    }
                }
                let state = st.clone();
                self.terminal(state, Ending::Issued, span);
            }
            ScriptKind::Hook => {
                let exports = self.get(st, &module, &Val::str("exports"), Span::default());
                if !matches!(exports, Val::Func(_)) {
                    return;
                }
                let span = match &exports {
                    Val::Func(c) => c.function.span,
                    _ => Span::default(),
                };
                let client = match self.input("client") {
                    Some(v) => from_json(self, st, &v),
                    None => self.alloc(st, Object::plain(Rest::Host("hook.client".into()))),
                };
                let scope = match self.input("scope") {
                    Some(v) => from_json(self, st, &v),
                    None => Val::unknown("the requested scope"),
                };
                let audience = match self.input("audience") {
                    Some(v) => from_json(self, st, &v),
                    None => Val::unknown("the requested audience"),
                };
                let context = match self.input("context") {
                    Some(v) => from_json(self, st, &v),
                    None => self.alloc(st, Object::plain(Rest::unknown("the hook context"))),
                };
                let args = vec![client, scope, audience, context, Val::Native("callback".into())];
                self.call(st, &exports, Val::Undef, args, span);
                let state = st.clone();
                self.terminal(state, Ending::Unfinished, span);
            }
        }
    }

    fn make_context(&mut self, st: &mut State) -> Val {
        let id_token = self.alloc(st, sink(TokenKind::IdToken));
        let access_token = self.alloc(st, sink(TokenKind::AccessToken));
        let context = match self.input("context") {
            Some(v) => from_json(self, st, &v),
            None if self.closed() => self.alloc(st, Object::plain(Rest::Closed)),
            None => self.alloc(st, Object::plain(Rest::Host("context".into()))),
        };
        if let Val::Obj(cid) = context {
            self.host.context = Some(cid);
            // Claims the input already holds stay in the fresh token objects.
            for (key, token) in [("idToken", &id_token), ("accessToken", &access_token)] {
                let existing = st.obj(cid).and_then(|c| c.prop(key)).map(|p| p.value.clone());
                if let (Some(Val::Obj(from)), Val::Obj(to)) = (existing, token) {
                    let props = st.obj(from).map(|o| o.props.clone()).unwrap_or_default();
                    if let Some(t) = st.obj_mut(*to) {
                        t.props = props;
                    }
                }
                if let Some(c) = st.obj_mut(cid) {
                    put(c, key.into(), token.clone(), None, Cond::always(), false);
                }
            }
        }
        context
    }

    fn make_event(&mut self, st: &mut State) -> Val {
        match self.input("event") {
            Some(v) => {
                let event = from_json(self, st, &v);
                if let Val::Obj(id) = event
                    && let Some(Val::Obj(user)) =
                        st.obj(id).and_then(|e| e.prop("user")).map(|p| p.value.clone())
                {
                    self.host.user = Some(user);
                }
                event
            }
            None if self.closed() => self.alloc(st, Object::plain(Rest::Closed)),
            None => self.alloc(st, Object::plain(Rest::Host("event".into()))),
        }
    }

    /// A property of a host object that the object does not hold yet.
    pub fn host_property(&mut self, st: &mut State, id: ObjId, path: &str, name: &str) -> Val {
        let materialise = |m: &mut Machine, st: &mut State, v: Val| -> Val {
            if !m.unobserved
                && let Some(o) = st.obj_mut(id)
            {
                put(o, name.into(), v.clone(), None, Cond::always(), false);
            }
            v
        };
        let full = format!("{path}.{name}");
        let value = match full.as_str() {
            "context.clientName" | "event.client.name" | "hook.client.name" => {
                self.fact(st, Fact::ClientName, &full)
            }
            "context.clientID" | "event.client.client_id" | "hook.client.id" => {
                self.fact(st, Fact::ClientId, &full)
            }
            "context.clientMetadata" | "event.client.metadata" | "hook.client.metadata" => {
                self.fact(st, Fact::ClientMetadata, &full)
            }
            "context.connection" | "event.connection.name" => self.fact(st, Fact::Connection, &full),
            "context.connectionStrategy" | "event.connection.strategy" => {
                self.fact(st, Fact::Strategy, &full)
            }
            "context.protocol" | "event.transaction.protocol" => self.fact(st, Fact::Protocol, &full),
            // What a signal assignment writes (`context.redirect`) is undefined until written.
            _ if self
                .host
                .signals
                .iter()
                .any(|s| s.assign.as_deref() == Some(full.as_str())) =>
            {
                Val::Undef
            }
            "event.user" => {
                let user = self.make_user(st, None);
                return materialise(self, st, user);
            }
            "event.client" | "event.connection" | "event.transaction" => {
                let object = self.alloc(st, Object::plain(Rest::Host(full.clone().into())));
                return materialise(self, st, object);
            }
            _ => {
                // Any other part of the host objects: an object or value claimlint does not know.
                let object = Object::plain(Rest::unknown(full.clone()));
                let v = if matches!(
                    full.as_str(),
                    "context.request"
                        | "context.sso"
                        | "context.stats"
                        | "context.authorization"
                        | "event.request"
                        | "event.secrets"
                        | "event.authorization"
                        | "event.stats"
                        | "event.organization"
                        | "event.tenant"
                        | "event.authentication"
                        | "context.request.query"
                        | "event.request.query"
                ) {
                    self.alloc(st, object)
                } else {
                    Val::unknown(format!("`{full}`"))
                };
                return materialise(self, st, v);
            }
        };
        // A fact handed out for comparison is not kept on the object: the next read asks again.
        if matches!(value, Val::Fact(_)) {
            return value;
        }
        materialise(self, st, value)
    }

    /// Records that fact text `fact` was compared with `text`.
    pub fn compared(&mut self, fact: &FactText, text: &Text) {
        if let Some((_, texts)) = self.host.compared.get_mut(&fact.fact) {
            texts.insert(text.clone());
        }
    }

    /// What the run learnt of each fact it read.
    pub fn fact_reads(&self) -> Vec<(Fact, FactRead)> {
        let mut out: BTreeMap<Fact, FactRead> = self
            .host
            .reads
            .iter()
            .map(|(f, v)| (*f, FactRead::Value(v.clone())))
            .collect();
        for (fact, (shared, texts)) in &self.host.compared {
            let read = if shared.observed() {
                FactRead::Value(Some(shared.text.to_string()))
            } else {
                let texts: std::sync::Arc<[Text]> = texts.iter().cloned().collect();
                let matched = texts.iter().position(|t| *t == shared.text);
                FactRead::Among { texts, matched }
            };
            out.entry(*fact).or_insert(read);
        }
        out.into_iter().collect()
    }

    /// Host side effects of a property write; `true` when the write is fully handled.
    pub fn host_set(&mut self, st: &mut State, id: ObjId, key: &Val, value: &Val, span: Span) -> bool {
        if Some(id) == self.host.context
            && let Some(name) = key.exact_text()
        {
            let signals = self.host.signals.clone();
            for signal in signals.iter() {
                if signal.context_property() == Some(&*name) && !assignment_exempt(st, signal, value) {
                    self.signal(st, signal.effect, span);
                }
            }
        }
        false
    }

    /// A script signal's effect on the current path.
    fn signal(&mut self, st: &mut State, effect: Effect, span: Span) {
        match effect {
            Effect::Mfa => {
                let site = self.site(span);
                st.event(EventKind::Mfa, site);
            }
            Effect::Redirect => {
                let site = self.site(span);
                st.event(EventKind::Redirect, site);
            }
            Effect::Deny => {
                let state = st.clone();
                self.terminal(state, Ending::Denied, span);
                st.alive = false;
            }
        }
    }

    /// Members of host namespaces (`api.idToken`...); `None` for other paths.
    pub fn host_member(&mut self, _st: &mut State, path: &str, name: &str) -> Option<Val> {
        (path == "api" || path.starts_with("api.")).then(|| Val::Native(format!("{path}.{name}").into()))
    }

    /// Calls of host functions; `None` for other paths.
    pub fn host_call(
        &mut self,
        st: &mut State,
        path: &str,
        _this: &Val,
        args: &[Val],
        span: Span,
    ) -> Option<Val> {
        let arg = |i: usize| args.get(i).cloned().unwrap_or(Val::Undef);
        match path {
            "callback" => {
                let err = arg(0);
                let (ok, failed) = self.fork_nullish(st, &err, span);
                if let Some(mut ok) = ok {
                    // A rule may hand back another user object than it was given.
                    if self.host.kind == ScriptKind::Rule
                        && let Val::Obj(passed) = arg(1)
                        && Some(passed) != self.host.user
                    {
                        self.host.user = Some(passed);
                    }
                    if matches!(self.host.kind, ScriptKind::Hook | ScriptKind::Database) {
                        let handed = arg(1);
                        // A path that hands back no object (`callback(null)`: no such user)
                        // takes nothing from the profile another path hands back.
                        if let Val::Obj(h) = handed {
                            self.host.handed = Some(h);
                        }
                        if self.host.kind == ScriptKind::Hook
                            && let Val::Obj(h) = handed
                            && let Some(o) = ok.obj_mut(h)
                        {
                            o.sink = Some(TokenKind::AccessToken);
                            self.host.access_token = Some(h);
                        }
                    }
                    ok.alive = true;
                    self.terminal(ok, Ending::Issued, span);
                }
                if let Some(failed) = failed {
                    self.terminal(failed, Ending::Denied, span);
                }
                st.alive = false;
                Some(Val::Undef)
            }
            "api.idToken.setCustomClaim" | "api.accessToken.setCustomClaim" => {
                let target = if path.starts_with("api.idToken") {
                    self.host.id_token
                } else {
                    self.host.access_token
                };
                if let Some(t) = target {
                    let at = if self.host.kind == ScriptKind::CredentialsExchangeAction
                        && path.starts_with("api.idToken")
                    {
                        None
                    } else {
                        Some(t)
                    };
                    if let Some(t) = at {
                        let key_at = self.arg_spans.first().copied().unwrap_or(span);
                        let value = super::builtins::snapshot(self, st, &arg(1), 0);
                        self.set(st, &Val::Obj(t), &arg(0), value, key_at);
                    }
                }
                Some(Val::Undef)
            }
            p if self.host.signals.iter().any(|s| s.call.as_deref() == Some(p)) => {
                let signals = self.host.signals.clone();
                for signal in signals.iter().filter(|s| s.call.as_deref() == Some(p)) {
                    let exempt = arg(0)
                        .exact_text()
                        .is_some_and(|first| signal.unless_first_argument.iter().any(|u| **u == *first));
                    if !exempt && st.alive {
                        self.signal(st, signal.effect, span);
                    }
                }
                Some(Val::Undef)
            }
            "api.redirect.encodeToken" | "api.redirect.validateToken" => Some(Val::unknown("a signed token")),
            p if p.starts_with("api.") => Some(Val::Undef),
            _ => None,
        }
    }

    /// Splits on whether `v` is null or undefined: (nullish paths, other paths).
    fn fork_nullish(&mut self, st: &mut State, v: &Val, span: Span) -> (Option<State>, Option<State>) {
        let test = match super::machine::nullish(v) {
            Some(b) => Val::Bool(b),
            None => Val::unknown("an error"),
        };
        self.fork(st, &test, span)
    }
}

/// Whether an assigned value makes a signal assignment no signal:
/// `context.multifactor = { provider: 'none' }` or `= null` turns MFA off rather than on.
fn assignment_exempt(st: &State, signal: &Signal, value: &Val) -> bool {
    match value {
        Val::Obj(id) => signal.unless_property.iter().any(|(property, values)| {
            st.obj(*id)
                .and_then(|o| o.prop(property))
                .and_then(|p| p.value.exact_text())
                .is_some_and(|v| values.iter().any(|x| **x == *v))
        }),
        other => signal.unless_falsy && truthy(other) == Some(false),
    }
}

/// A rule's (or database script's) main function: the first function the top level defines.
pub fn main_function(program: &Program) -> Option<&std::sync::Arc<crate::js::ir::Function>> {
    program.body.iter().find_map(|stmt| match stmt {
        Stmt::Expr(e) => match &e.kind {
            ExprKind::Function(f) => Some(f),
            // A bare rule is lowered as `void function (user, context, callback) {...}`.
            ExprKind::Unary { argument, .. } => match &argument.kind {
                ExprKind::Function(f) => Some(f),
                _ => None,
            },
            _ => None,
        },
        Stmt::FunctionDecl { function: f, .. } => Some(f),
        _ => None,
    })
}

/// The kind of an object, for tests of what a path handed to a callback.
pub fn is_error(st: &State, v: &Val) -> bool {
    matches!(v, Val::Obj(id) if st.obj(*id).is_some_and(|o| o.kind == ObjKind::Error))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::summary::{LoginOutcome, SignalKind, Summary};
    use crate::platform::{Platform, Signals};

    fn summary(script: &str, kind: ScriptKind, signals: &Signals) -> Summary {
        let lowered = crate::js::analyse(script);
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        crate::eval::summary::run(
            &lowered.ir,
            script,
            kind,
            Mode::Abstract(LoginFacts::default()),
            crate::eval::machine::STEP_BUDGET,
            signals,
        )
    }

    fn kinds(script: &str, kind: ScriptKind, signals: &Signals) -> Vec<SignalKind> {
        summary(script, kind, signals)
            .signals
            .iter()
            .map(|s| s.kind)
            .collect()
    }

    fn action(body: &str) -> String {
        format!("exports.onExecutePostLogin = async (event, api) => {{ {body} }};")
    }

    fn rule(body: &str) -> String {
        format!("function (user, context, callback) {{ {body} callback(null, user, context); }}")
    }

    /// The login facts `script` (a post-login action) tells logins apart by, in a login of
    /// client `Billing` through connection `corp`: those it reads the value of or compares
    /// with some text (a fact only held is read as "among no texts", which tells none apart).
    fn facts_read(script: &str) -> Vec<Fact> {
        let lowered = crate::js::analyse(script);
        assert!(lowered.errors.is_empty(), "{:?}", lowered.errors);
        let facts = LoginFacts::default()
            .with(Fact::ClientName, "Billing")
            .with(Fact::Connection, "corp");
        let summary = crate::eval::summary::run(
            &lowered.ir,
            script,
            ScriptKind::PostLoginAction,
            Mode::Abstract(facts),
            crate::eval::machine::STEP_BUDGET,
            &Platform::builtin_signals(),
        );
        summary
            .facts
            .iter()
            .filter(|(_, read)| !matches!(read, FactRead::Among { texts, .. } if texts.is_empty()))
            .map(|(fact, _)| *fact)
            .collect()
    }

    #[test]
    fn facts_handed_to_calls_that_ignore_them_are_not_read() {
        for ignored in [
            "api.user.setAppMetadata('last_app', event.client.name);",
            "console.log(`login to ${event.client.name} through ${event.connection.name}`);",
            "const app = event.client.name; console.info('app', app, { app });",
        ] {
            assert_eq!(facts_read(&action(ignored)), [], "{ignored}");
        }
        // Passed into a token untouched, the value is the login's own: the claim stands for it.
        for kept in [
            "api.idToken.setCustomClaim('https://x.example/app', event.client.name);",
            "const app = event.client.name; api.accessToken.setCustomClaim('https://x.example/app', app);",
        ] {
            assert_eq!(facts_read(&action(kept)), [], "{kept}");
        }
        // The script looks at the value, an argument does something, or the call is a signal.
        for read in [
            "api.idToken.setCustomClaim('https://x.example/app', event.client.name.toLowerCase());",
            "api.idToken.setCustomClaim('https://x.example/app', { app: event.client.name });",
            "console.log(event.client.name.toUpperCase());",
            "let app; console.log(app = event.client.name); api.idToken.setCustomClaim('https://x.example/a', app);",
            "api.multifactor.enable(event.client.name);",
        ] {
            assert_eq!(facts_read(&action(read)), [Fact::ClientName], "{read}");
        }
    }

    #[test]
    fn signals_and_their_argument_tests_come_from_the_platform_table() {
        let builtin = Platform::builtin_signals();
        let post_login = ScriptKind::PostLoginAction;
        assert!(kinds(&action("api.multifactor.enable('none');"), post_login, &builtin).is_empty());
        assert_eq!(
            kinds(&action("api.multifactor.enable('any');"), post_login, &builtin),
            [SignalKind::Mfa]
        );
        assert_eq!(
            kinds(
                &action("api.authentication.challengeWithAny([{ type: 'otp' }]);"),
                post_login,
                &builtin
            ),
            [SignalKind::Mfa]
        );
        assert_eq!(
            kinds(
                &action("api.redirect.sendUserTo('https://x.example');"),
                post_login,
                &builtin
            ),
            [SignalKind::Redirect]
        );
        let rule_kind = ScriptKind::Rule;
        assert!(
            kinds(
                &rule("context.multifactor = { provider: 'none' };"),
                rule_kind,
                &builtin
            )
            .is_empty()
        );
        assert!(kinds(&rule("context.multifactor = null;"), rule_kind, &builtin).is_empty());
        assert_eq!(
            kinds(
                &rule("context.multifactor = { provider: 'any' };"),
                rule_kind,
                &builtin
            ),
            [SignalKind::Mfa]
        );
        assert_eq!(
            kinds(
                &rule("context.redirect = { url: 'https://x.example' };"),
                rule_kind,
                &builtin
            ),
            [SignalKind::Redirect]
        );
        assert_eq!(
            summary(&action("api.access.deny('no');"), post_login, &builtin).outcome,
            LoginOutcome::Denied
        );

        // Another table changes what the same scripts do.
        let table: Vec<Signal> = serde_json::from_value(serde_json::json!([
            { "call": "api.multifactor.enable", "effect": "mfa" },
            { "assign": "context.redirect", "effect": "redirect", "unless_falsy": true },
            { "call": "api.redirect.sendUserTo", "effect": "deny" }
        ]))
        .expect("a signal table");
        let other: Signals = table.into();
        assert_eq!(
            kinds(&action("api.multifactor.enable('none');"), post_login, &other),
            [SignalKind::Mfa]
        );
        assert!(kinds(&rule("context.redirect = null;"), rule_kind, &other).is_empty());
        assert!(kinds(&action("api.access.deny('no');"), post_login, &other).is_empty());
        assert_eq!(
            summary(
                &action("api.redirect.sendUserTo('https://x.example');"),
                post_login,
                &other
            )
            .outcome,
            LoginOutcome::Denied
        );
    }
}
