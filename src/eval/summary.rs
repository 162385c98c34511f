//! One script run, summarised: what a script does to a login, as plain data.
//!
//! [`run`] interprets a script once for one assignment of login facts and turns the joined end
//! states into a [`Summary`]: the claims each token gets (each *must* — on every path that
//! issues tokens — or *may*, with the condition in words), the user attributes it changes, the
//! MFA and redirect signals, the attribute reads, where the login is denied, which facts the
//! run consulted, and where it stopped short. Summaries hold no interpreter state, so they are
//! cheap to keep, share across logins, and send between threads.

use serde::Serialize;

use super::domain::{Cond, EventKind, ObjId, ObjKind, Rest, State, Val};
use super::host::{Fact, FactRead, Host, Mode, ScriptKind};
use super::machine::{Ending, Machine};
use crate::js::ir::Program;
use crate::proof::TokenKind;
use crate::source::Span;

/// How the scripts' paths end the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginOutcome {
    /// Every path that completes issues tokens.
    Issued,
    /// Some paths deny the login, others issue tokens.
    MayDeny,
    /// Every path that completes denies the login.
    Denied,
    /// No path completes the login (a rule that never calls back).
    Unfinished,
}

/// The name of a claim as far as it is known.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "kebab-case")]
pub enum ClaimKey {
    Exact(String),
    /// The name starts with this text.
    Prefix(String),
    /// The name starts with `prefix` and, after a part not known statically, goes on with
    /// `then`, where it ends when `ends` (`https://${tenant}.auth0.com/plan`).
    Gap {
        prefix: String,
        then: String,
        ends: bool,
    },
    /// Nothing is known of the name but what it comes from.
    Unknown(String),
}

impl ClaimKey {
    pub fn exact(&self) -> Option<&str> {
        match self {
            ClaimKey::Exact(s) => Some(s),
            _ => None,
        }
    }

    /// The name as shown in traces: the name, or what is known of it.
    pub fn label(&self) -> String {
        match self {
            ClaimKey::Exact(s) => s.clone(),
            ClaimKey::Prefix(p) => format!("{p}…"),
            ClaimKey::Gap { prefix, then, ends } => {
                format!("{prefix}…{then}{}", if *ends { "" } else { "…" })
            }
            ClaimKey::Unknown(what) => format!("<{what}>"),
        }
    }

    /// What is known of the name's beginning.
    pub fn prefix(&self) -> Option<&str> {
        match self {
            ClaimKey::Exact(s) | ClaimKey::Prefix(s) | ClaimKey::Gap { prefix: s, .. } => Some(s),
            ClaimKey::Unknown(_) => None,
        }
    }
}

/// What a script sets a claim to: a value, or the login's text of a fact the script passed
/// into the token without looking at it (`context.idToken[ns + 'app'] = context.clientName`),
/// so that one summary serves logins whose values differ.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimValue {
    Json(std::sync::Arc<serde_json::Value>),
    Fact(Fact),
}

impl ClaimValue {
    pub fn json(value: serde_json::Value) -> ClaimValue {
        ClaimValue::Json(std::sync::Arc::new(value))
    }

    /// The value in a login whose facts `value_of` gives; a fact it does not know is shown by
    /// what it stands for.
    pub fn resolve(&self, value_of: impl Fn(Fact) -> Option<String>) -> serde_json::Value {
        match self {
            ClaimValue::Json(value) => (**value).clone(),
            ClaimValue::Fact(fact) => serde_json::Value::String(
                value_of(*fact).unwrap_or_else(|| format!("<the login's {}>", fact.label())),
            ),
        }
    }
}

impl Serialize for ClaimValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ClaimValue::Json(value) => value.serialize(serializer),
            ClaimValue::Fact(fact) => serializer.serialize_str(&format!("<the login's {}>", fact.label())),
        }
    }
}

/// A claim a script leaves on a token.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClaimSet {
    pub token: TokenKind,
    pub key: ClaimKey,
    pub value: ClaimValue,
    /// The user attributes the value is, derives from, or holds (see [`attributes_of`]).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<String>,
    /// Set on every path that issues tokens.
    pub must: bool,
    /// For a claim set on some paths only: when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// Where the name is written.
    #[serde(skip)]
    pub span: Span,
}

/// A root attribute of `user` a script adds or changes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserWrite {
    pub attribute: String,
    pub value: serde_json::Value,
    pub must: bool,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    Mfa,
    Redirect,
}

/// A script that triggers MFA or redirects the user.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Signal {
    pub kind: SignalKind,
    /// On every path that issues tokens.
    pub must: bool,
    /// For a signal on some paths only: when, in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip)]
    pub span: Span,
}

/// Where a script stopped short, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Incomplete {
    pub what: String,
    #[serde(skip)]
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub kind: ScriptKind,
    pub outcome: LoginOutcome,
    /// Shared with every login's [`super::ScriptWrite`] of the claim.
    pub claims: Vec<std::sync::Arc<ClaimSet>>,
    pub user_writes: Vec<UserWrite>,
    pub signals: Vec<Signal>,
    /// User attributes read on a path that issues tokens (path, where).
    #[serde(skip)]
    pub reads: Vec<(std::sync::Arc<str>, Span)>,
    /// Where the login is denied, and whether on every completing path.
    #[serde(skip)]
    pub denials: Vec<(Span, bool)>,
    /// Where a path completes the login with tokens (a rule's `callback(null, …)`).
    #[serde(skip)]
    pub completions: Vec<Span>,
    pub incomplete: Vec<Incomplete>,
    /// The facts the run read, with what it learnt of each.
    #[serde(skip)]
    pub facts: Vec<(Fact, FactRead)>,
    /// For database scripts: the profile attributes handed to the callback.
    #[serde(skip)]
    pub profile: Vec<(String, Span)>,
}

impl Summary {
    /// Everything the summary says about a login except which facts it read: two summaries
    /// with equal effects compose into the same tokens.
    #[allow(clippy::type_complexity)]
    fn effects(
        &self,
    ) -> (
        LoginOutcome,
        &[std::sync::Arc<ClaimSet>],
        &[UserWrite],
        &[Signal],
        &[(std::sync::Arc<str>, Span)],
        &[(Span, bool)],
        &[Span],
        &[Incomplete],
    ) {
        (
            self.outcome,
            &self.claims,
            &self.user_writes,
            &self.signals,
            &self.reads,
            &self.denials,
            &self.completions,
            &self.incomplete,
        )
    }

    /// Whether the two summaries say the same about a login (see [`Summary::effects_hash`]).
    pub fn same_effects(&self, other: &Summary) -> bool {
        self.effects() == other.effects()
    }

    /// A hash of the summary's effects: equal for summaries with [`Summary::same_effects`].
    /// It leaves out the claims' and writes' values and conditions (JSON values have no
    /// `Hash`, and formatting them was most of the cost): summaries that differ only there
    /// share a hash, and [`Summary::same_effects`] tells them apart. Signals and stops, which
    /// have no `Hash` either, are fed from their debug form, written straight into the hasher.
    pub fn effects_hash(&self, mut hasher: impl std::hash::Hasher) -> u64 {
        use std::hash::Hash;
        struct Feed<'h, H>(&'h mut H);
        impl<H: std::hash::Hasher> std::fmt::Write for Feed<'_, H> {
            fn write_str(&mut self, text: &str) -> std::fmt::Result {
                self.0.write(text.as_bytes());
                Ok(())
            }
        }
        let (outcome, claims, user_writes, signals, reads, denials, completions, incomplete) = self.effects();
        outcome.hash(&mut hasher);
        for c in claims {
            (c.token, &c.key, &c.attributes, c.must, c.span).hash(&mut hasher);
        }
        for w in user_writes {
            (&w.attribute, w.must, w.span).hash(&mut hasher);
        }
        (reads, denials, completions).hash(&mut hasher);
        let _ = std::fmt::Write::write_fmt(
            &mut Feed(&mut hasher),
            format_args!("{:?}", (signals, incomplete)),
        );
        hasher.finish()
    }

    pub fn claim(&self, token: TokenKind, name: &str) -> Option<&ClaimSet> {
        self.claims
            .iter()
            .find(|c| c.token == token && c.key.exact() == Some(name))
            .map(|c| &**c)
    }
}

/// Runs `program` (its source `text`) as `kind` and summarises what it does; `signals` are the
/// platform's script signals (MFA, redirect, deny).
pub fn run(
    program: &Program,
    text: &str,
    kind: ScriptKind,
    mode: Mode,
    budget: usize,
    signals: &crate::platform::Signals,
) -> Summary {
    let mut machine = Machine::new(0, Host::new(kind, mode, signals.clone()));
    machine.budget = budget;
    let mut st = State::new();
    machine.run_entry(&mut st, program);
    summarise(machine, text, kind)
}

fn summarise(machine: Machine, text: &str, kind: ScriptKind) -> Summary {
    let mut issued: Option<State> = None;
    let mut denied: Vec<(Span, Cond)> = Vec::new();
    let mut unfinished = false;
    let mut completions = Vec::new();
    // Variables end with the script: a summary reads the heap, the events and the path
    // conditions of the states the script ends in, so their frames are left out of the join
    // (one shared empty set, which joins without a look).
    let no_frames = std::sync::Arc::default();
    let ended = |state: &State| State {
        frames: std::sync::Arc::clone(&no_frames),
        ..state.clone()
    };
    for t in &machine.terminals {
        match t.ending {
            Ending::Issued => {
                if !completions.contains(&t.site.span) {
                    completions.push(t.site.span);
                }
                match issued.as_mut() {
                    Some(s) => s.join(&ended(&t.state)),
                    None => issued = Some(ended(&t.state)),
                }
            }
            Ending::Denied => denied.push((t.site.span, t.state.pc.clone())),
            Ending::Unfinished => unfinished = true,
        }
    }
    // An action completes where its handler returns (the terminal's span is the handler's).
    if issued.is_some() {
        for span in &machine.host.returns {
            if !completions.contains(span) {
                completions.push(*span);
            }
        }
    }
    // A budget cut leaves paths open: what they did so far still counts as issued.
    let outcome = match (&issued, denied.is_empty()) {
        (Some(_), true) => LoginOutcome::Issued,
        (Some(_), false) => LoginOutcome::MayDeny,
        (None, false) => LoginOutcome::Denied,
        (None, true) => LoginOutcome::Unfinished,
    };
    let _ = unfinished;
    // Properties set together share their condition: each is worded once.
    let mut described: foldhash::HashMap<Cond, String> = Default::default();
    let mut describe = |cond: &Cond| -> String {
        described
            .entry(cond.clone())
            .or_insert_with(|| describe_cond(cond, &machine, text))
            .clone()
    };
    let mut claims = Vec::new();
    let mut user_writes = Vec::new();
    let mut defaulted = Vec::new();
    let mut signals = Vec::new();
    let mut reads = Vec::new();
    if let Some(st) = &issued {
        let pc = st.pc.clone();
        let closed = matches!(machine.host.mode, Mode::Closed(_));
        let must = |presence: &Cond| presence.is_always() || pc.implies(presence);
        for (token, id) in token_objects(&machine, st) {
            // Read without looking at the facts it holds: a fact still unlooked-at stays one.
            let Some(object) = st.obj_unread(id) else { continue };
            for p in &object.props {
                if matches!(p.value, Val::Undef | Val::Func(_) | Val::Native(_)) {
                    continue;
                }
                // `scope` on a rule's or hook's access token changes the granted scopes; it is no
                // claim. An action changes scopes with `addScope`/`removeScope`, and its
                // `setCustomClaim('scope', …)` is a claim like any other.
                if token == TokenKind::AccessToken && &*p.key == "scope" && !closed && !kind.is_action() {
                    continue;
                }
                let m = must(&p.presence);
                let value = match &p.fact {
                    Some(fact) if !fact.observed() => ClaimValue::Fact(fact.fact),
                    _ => ClaimValue::json(to_json(st, &p.value, 0)),
                };
                claims.push(std::sync::Arc::new(ClaimSet {
                    token,
                    key: ClaimKey::Exact(p.key.to_string()),
                    value,
                    attributes: attributes_of(st, &p.value),
                    must: m,
                    condition: (!m).then(|| describe(&p.presence)),
                    span: p.site.map_or(Span::default(), |s| s.span),
                }));
            }
            for w in &object.dyn_writes {
                let m = must(&w.presence);
                // A name that is one of a few known texts (`admin ? 'https://x.com/admin' :
                // 'role'`) is each of them on some paths.
                if let Some(names) = known_names(&w.key) {
                    let value = ClaimValue::json(to_json(st, &w.value, 0));
                    let attributes = attributes_of(st, &w.value);
                    for name in names {
                        let picked = format!("the name written at this line is `{name}`");
                        claims.push(std::sync::Arc::new(ClaimSet {
                            token,
                            key: ClaimKey::Exact(name.to_string()),
                            value: value.clone(),
                            attributes: attributes.clone(),
                            must: false,
                            condition: Some(if m {
                                format!("when {picked}")
                            } else {
                                format!("{} and {picked}", describe(&w.presence))
                            }),
                            span: w.site.span,
                        }));
                    }
                    continue;
                }
                claims.push(std::sync::Arc::new(ClaimSet {
                    token,
                    key: match (w.key.known_prefix(), &w.key) {
                        (Some(prefix), Val::Prefix(_, tail)) if !prefix.is_empty() => match tail.then() {
                            Some((then, ends)) => ClaimKey::Gap {
                                prefix: prefix.to_string(),
                                then: then.to_string(),
                                ends,
                            },
                            None => ClaimKey::Prefix(prefix.to_string()),
                        },
                        (Some(prefix), _) if !prefix.is_empty() => ClaimKey::Prefix(prefix.to_string()),
                        _ => ClaimKey::Unknown(w.key.describe()),
                    },
                    value: ClaimValue::json(to_json(st, &w.value, 0)),
                    attributes: attributes_of(st, &w.value),
                    must: m,
                    condition: (!m).then(|| describe(&w.presence)),
                    span: w.site.span,
                }));
            }
        }
        // An action's `event.user` is a copy: writing it changes nothing Auth0 keeps or shows
        // (attributes change through `api.user`), so only a rule's `user` can gain attributes.
        let action = kind.is_action();
        let user = machine.host.user.filter(|_| !action);
        if let Some(user) = user.and_then(|id| st.obj(id)) {
            let closed = matches!(machine.host.mode, Mode::Closed(_));
            for p in &user.props {
                let value = to_json(st, &p.value, 0);
                let changed = if closed {
                    machine.host.user_before.get(&*p.key) != Some(&value)
                } else {
                    p.written && !only_defaulted(st, &p.key, &p.value)
                };
                if changed && !matches!(p.value, Val::Undef) {
                    let write = UserWrite {
                        attribute: p.key.to_string(),
                        value,
                        must: must(&p.presence),
                        span: p.site.map_or(Span::default(), |s| s.span),
                    };
                    // A default changed later (`user.app_metadata = user.app_metadata || {};
                    // user.app_metadata.visits = 1`) is shown where it is changed, which the
                    // write through the attribute itself marks, if it does.
                    if closed || !holds_itself(&p.key, &p.value) {
                        user_writes.push(write);
                    } else {
                        defaulted.push(write);
                    }
                }
            }
            if closed {
                for key in machine.host.user_before.keys() {
                    if user.prop(key).is_none_or(|p| matches!(p.value, Val::Undef)) {
                        user_writes.push(UserWrite {
                            attribute: key.clone(),
                            value: serde_json::Value::Null,
                            must: true,
                            span: Span::default(),
                        });
                    }
                }
            }
        }
        for ((kind, site), cond) in st.events.iter() {
            let e = super::domain::Event {
                kind: kind.clone(),
                site: *site,
                cond: cond.clone(),
            };
            match &e.kind {
                EventKind::Mfa | EventKind::Redirect => signals.push(Signal {
                    kind: if e.kind == EventKind::Mfa {
                        SignalKind::Mfa
                    } else {
                        SignalKind::Redirect
                    },
                    must: must(&e.cond),
                    condition: (!must(&e.cond)).then(|| describe(&e.cond)),
                    span: e.site.span,
                }),
                EventKind::AttrWrite(_) if action => {}
                EventKind::AttrWrite(root) => {
                    if !user_writes.iter().any(|w| *w.attribute == **root) {
                        user_writes.push(UserWrite {
                            attribute: root.to_string(),
                            value: serde_json::Value::String(format!("<a changed user.{root}>")),
                            must: must(&e.cond),
                            span: e.site.span,
                        });
                    }
                }
                EventKind::AttrRead(path) => reads.push((path.to_string().into(), e.site.span)),
            }
        }
    }
    for write in defaulted {
        if !user_writes.iter().any(|w| w.attribute == write.attribute) {
            user_writes.push(write);
        }
    }
    user_writes.sort_by(|a, b| a.attribute.cmp(&b.attribute));
    let issued_pc = issued.as_ref().map(|s| s.pc.clone());
    let denials = denied
        .iter()
        .map(|(span, cond)| (*span, issued_pc.is_none() && cond.is_always()))
        .collect();
    let profile = match (kind, machine.host.handed, &issued) {
        (ScriptKind::Database, Some(id), Some(st)) => st
            .obj(id)
            .map(|o| {
                o.props
                    .iter()
                    .map(|p| (p.key.to_string(), p.site.map_or(Span::default(), |s| s.span)))
                    .collect()
            })
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    Summary {
        kind,
        outcome,
        claims,
        user_writes,
        signals,
        reads,
        denials,
        completions,
        incomplete: machine
            .bounds
            .iter()
            .map(|b| Incomplete {
                what: b.what.clone(),
                span: b.site.span,
            })
            .collect(),
        facts: machine.fact_reads(),
        profile,
    }
}

/// The token objects of the end state: the current `context.idToken`/`accessToken` of a
/// rule, the host's sinks otherwise.
fn token_objects(machine: &Machine, st: &State) -> Vec<(TokenKind, ObjId)> {
    let mut out = Vec::new();
    if let Some(context) = machine.host.context.and_then(|c| st.obj(c)) {
        for (key, token) in [
            ("idToken", TokenKind::IdToken),
            ("accessToken", TokenKind::AccessToken),
        ] {
            if let Some(p) = context.prop(key) {
                for alt in p.value.alts() {
                    if let Val::Obj(id) = alt {
                        out.push((token, *id));
                    }
                }
            }
        }
        return out;
    }
    if let Some(id) = machine.host.id_token {
        out.push((TokenKind::IdToken, id));
    }
    if let Some(id) = machine.host.access_token {
        out.push((TokenKind::AccessToken, id));
    }
    out
}

/// `text` with each run of whitespace made one space, cut to `most` characters and `…` when
/// longer; only as much of `text` is read as that takes (a branch may span a whole function).
fn first_words(text: &str, most: usize) -> String {
    let mut out = String::new();
    let mut count = 0;
    for word in text.split_whitespace() {
        if count > 0 {
            out.push(' ');
            count += 1;
        }
        out.push_str(word);
        count += word.chars().count();
        if count > most {
            let cut = out.char_indices().nth(most).map_or(out.len(), |(at, _)| at);
            out.truncate(cut);
            out.push('…');
            return out;
        }
    }
    out
}

/// A condition in words: the tests it takes, with their source text.
fn describe_cond(cond: &Cond, machine: &Machine, text: &str) -> String {
    let lit = |(branch, outcome): (u32, bool)| -> String {
        let Some((kind, span)) = machine.branch(branch) else {
            return "some condition holds".into();
        };
        let Some(t) = text.get(span.start as usize..span.end as usize) else {
            return "some condition holds".into();
        };
        let t = first_words(t, 60);
        use super::machine::BranchKind as K;
        match (kind, outcome) {
            (K::Test, true) => format!("`{t}` holds"),
            (K::Test, false) => format!("`{t}` does not hold"),
            (K::Callback, true) => format!("the callback of `{t}` runs"),
            (K::Callback, false) => format!("the callback of `{t}` does not run"),
            (K::Throws, true) => format!("`{t}` throws"),
            (K::Throws, false) => format!("`{t}` does not throw"),
            (K::LoopTurn, true) => format!("the loop at `{t}` goes on"),
            (K::LoopTurn, false) => format!("the loop at `{t}` stops"),
            (K::Target, true) => format!("the write at `{t}` goes to one object"),
            (K::Target, false) => format!("the write at `{t}` goes to another object"),
            (K::Spread, true) => format!("the spread at `{t}` copies one object"),
            (K::Spread, false) => format!("the spread at `{t}` copies another object"),
        }
    };
    if cond.is_never() {
        return "on no path".into();
    }
    let parts: Vec<String> = cond
        .0
        .iter()
        .map(|conj| {
            let words: Vec<String> = conj.iter().map(|l| lit(*l)).collect();
            if words.is_empty() {
                "always".into()
            } else {
                words.join(" and ")
            }
        })
        .collect();
    format!("when {}", parts.join(", or "))
}

/// The names a claim name may be when it is one of a few known texts.
fn known_names(key: &Val) -> Option<Vec<&str>> {
    let Val::Alt(items) = key else { return None };
    let mut names = Vec::new();
    for item in items.iter() {
        let Val::Str(name) = item else { return None };
        if !names.contains(&&**name) {
            names.push(&**name);
        }
    }
    Some(names)
}

/// The user attributes a claim's value is or derives from (`user.email`,
/// `'mailto:' + user.email`), and those held in the objects and arrays the script built for it
/// (`{ contact: user.email }`, `[user.email]`), in the order met. A deny list that denies one of
/// them keeps the whole claim out of the token.
fn attributes_of(st: &State, v: &Val) -> Vec<String> {
    fn walk(st: &State, v: &Val, depth: usize, out: &mut Vec<String>, seen: &mut Vec<ObjId>) {
        let mut add = |a: &str| {
            if !a.is_empty() && !out.iter().any(|known| known == a) {
                out.push(a.to_string());
            }
        };
        match v {
            Val::Alt(items) => items.iter().for_each(|i| walk(st, i, depth, out, seen)),
            // Each object once: one held twice, or holding itself, says nothing new.
            Val::Obj(id) if seen.contains(id) => {}
            Val::Obj(id) => {
                seen.push(*id);
                let Some(o) = st.obj_unread(*id) else { return };
                match &o.rest {
                    // An attribute that is an object (`user.app_metadata`) is that attribute;
                    // `user` itself, or a host object, is no one attribute.
                    Rest::Attr(path) => add(path),
                    Rest::Host(_) => {}
                    Rest::Closed | Rest::Unknown(_) if depth < 8 && o.sink.is_none() => {
                        let values = o.props.iter().map(|p| &p.value);
                        let values = values
                            .chain(&o.items)
                            .chain(o.dyn_writes.iter().map(|w| &w.value));
                        for value in values {
                            walk(st, value, depth + 1, out, seen);
                        }
                    }
                    Rest::Closed | Rest::Unknown(_) => {}
                }
            }
            other => {
                if let Some(a) = other.attribute() {
                    add(&a);
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(st, v, 0, &mut out, &mut Vec::new());
    out
}

/// A value as JSON, as it would appear in a token: known values as they are, others as
/// `"<description>"`.
pub fn to_json(st: &State, v: &Val, depth: usize) -> serde_json::Value {
    let mut left = MAX_JSON_NODES;
    json_within(st, v, depth, &mut left)
}

/// Most values [`to_json`] writes for one value: an object that holds itself, or the same
/// object twice at every level (`a = { x: b, y: b }`), would otherwise be written out
/// exponentially often.
const MAX_JSON_NODES: usize = 10_000;

fn json_within(st: &State, v: &Val, depth: usize, left: &mut usize) -> serde_json::Value {
    use serde_json::Value as J;
    if depth > 32 {
        return J::String("<nested too deeply>".into());
    }
    if *left == 0 {
        return J::String("<too large>".into());
    }
    *left -= 1;
    match v {
        Val::Str(s) => J::String(s.to_string()),
        Val::Num(n) => number_json(*n),
        Val::Bool(b) => J::Bool(*b),
        Val::Null | Val::Undef | Val::Func(_) | Val::Native(_) => J::Null,
        Val::Obj(id) => match st.obj(*id) {
            None => J::String("<an object>".into()),
            Some(o) if o.kind == ObjKind::Array => {
                let mut items: Vec<J> = o
                    .items
                    .iter()
                    .map(|i| match i {
                        Val::Undef | Val::Func(_) | Val::Native(_) => J::Null,
                        other => json_within(st, other, depth + 1, left),
                    })
                    .collect();
                if o.open_items {
                    items.push(J::String("<more items>".into()));
                }
                J::Array(items)
            }
            Some(o) if matches!(o.kind, ObjKind::Error | ObjKind::Set | ObjKind::Promise) => {
                J::Object(serde_json::Map::new())
            }
            Some(o) => {
                let mut map = serde_json::Map::new();
                for p in &o.props {
                    if matches!(p.value, Val::Undef | Val::Func(_) | Val::Native(_)) {
                        continue;
                    }
                    map.insert(p.key.to_string(), json_within(st, &p.value, depth + 1, left));
                }
                if !o.is_closed() {
                    map.insert("…".into(), J::String("<more properties>".into()));
                }
                J::Object(map)
            }
        },
        // A value that may be `undefined` is shown by what it is when defined (the claim
        // itself is then issued on some paths only).
        Val::Alt(items) if items.iter().any(|i| matches!(i, Val::Undef)) => {
            let defined: Vec<Val> = items
                .iter()
                .filter(|i| !matches!(i, Val::Undef))
                .cloned()
                .collect();
            json_within(st, &Val::alternatives(defined), depth, left)
        }
        other => J::String(format!("<{}>", other.described())),
    }
}

/// A number as JSON, integers as integers (as `JSON.stringify` prints them).
pub fn number_json(n: f64) -> serde_json::Value {
    if !n.is_finite() {
        return serde_json::Value::Null;
    }
    if n.fract() == 0.0 && n.abs() < 1e18 {
        return serde_json::Value::Number((n as i64).into());
    }
    serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

/// Whether a root attribute written back as itself or, where it is missing, an empty object or
/// list (`user.app_metadata = user.app_metadata || {}`) is all the write did: that changes
/// nothing a token or profile shows. A default filled in later (`.visits = 1`) is a change.
fn only_defaulted(st: &State, key: &str, value: &Val) -> bool {
    holds_itself(key, value)
        && value.alts().iter().all(|v| match v {
            Val::Attr(path) => **path == *key,
            Val::Obj(id) => st
                .obj_unread(*id)
                .is_some_and(|o| o.props.is_empty() && o.items.is_empty() && o.is_closed()),
            _ => false,
        })
}

/// Whether the value written to the root attribute `key` may be the attribute as it was.
fn holds_itself(key: &str, value: &Val) -> bool {
    value
        .alts()
        .iter()
        .any(|v| matches!(v, Val::Attr(path) if **path == *key))
}

#[cfg(test)]
mod tests {
    #[test]
    fn first_words_are_what_the_joined_words_begin_with() {
        let cases = [
            String::new(),
            "  ".into(),
            "a".into(),
            " a  b\n\tc ".into(),
            "é".repeat(70),
            "x".repeat(60),
            "x".repeat(61),
            format!("{} {}", "x".repeat(59), "yz"),
            "user.app_metadata  &&\n   user.app_metadata.roles.includes('admin') || context.clientName === 'Admin Portal'"
                .into(),
        ];
        for text in cases {
            let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
            let expected = if joined.chars().count() > 60 {
                format!("{}…", joined.chars().take(60).collect::<String>())
            } else {
                joined
            };
            assert_eq!(super::first_words(&text, 60), expected, "{text:?}");
        }
    }
}
