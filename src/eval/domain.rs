//! The abstract value domain of the interpreter, and the state it forks and joins.
//!
//! A [`Val`] is what a JavaScript value is known to be: an exact primitive, a string with a
//! known beginning ([`Val::Prefix`], the TAJS prefix lattice), a user attribute whose value is
//! not known but whose origin is ([`Val::Attr`]), an unknown ([`Val::Unknown`], with the
//! attribute it derives from when there is one), a heap object, a closure, a built-in function,
//! or a bounded set of alternatives ([`Val::Alt`], widened to `Unknown` past [`MAX_ALTS`]).
//!
//! A [`State`] is one abstract program state: the path condition it runs under ([`Cond`]), the
//! variable frames and the heap. At an undecidable branch the interpreter clones the state;
//! where paths meet it [`State::join`]s them: values join into alternatives, properties present
//! on one side only keep the condition they were written under, so *must* (written on every
//! path) and *may* (written on some paths, with the condition) stay exact. Object and frame
//! identities come from counters shared by every branch, so one id means one object everywhere.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::js::ir::{Function, Text};
use crate::source::Span;

/// Most alternatives a value keeps before it is widened to `Unknown`.
pub const MAX_ALTS: usize = 4;
/// Longest string a value keeps; longer ones become unknown.
pub const MAX_TEXT: usize = 8 * 1024;
/// Most disjuncts a condition keeps before it is widened to "some condition".
pub const MAX_DISJUNCTS: usize = 8;

pub type ObjId = u32;
pub type FrameId = u32;
/// A branch point: one undecidable test at one place in one script.
pub type BranchId = u32;

/// A fact of the login that a script may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fact {
    ClientName,
    ClientId,
    ClientMetadata,
    Connection,
    Strategy,
    Protocol,
}

impl Fact {
    /// Whether the fact is an object whose members a script reads (`client_metadata`), not a
    /// text.
    pub fn is_object(self) -> bool {
        self == Fact::ClientMetadata
    }

    /// The fact in words (`client name`).
    pub fn label(self) -> &'static str {
        match self {
            Fact::ClientName => "client name",
            Fact::ClientId => "client id",
            Fact::ClientMetadata => "client metadata",
            Fact::Connection => "connection",
            Fact::Strategy => "connection strategy",
            Fact::Protocol => "protocol",
        }
    }
}

/// The text of a login fact (`context.clientName`) that a script has so far only kept in a
/// variable and compared with known strings. As long as nothing else looks at it, the run
/// depends on the value only through those comparisons, and its summary serves every login
/// whose value compares the same (see [`super::host::FactRead`]). Anything else that uses the
/// text marks it `observed`, and the run then depends on the whole value.
#[derive(Debug)]
pub struct FactText {
    pub fact: Fact,
    pub text: Text,
    observed: AtomicBool,
}

impl FactText {
    pub fn new(fact: Fact, text: Text) -> FactText {
        FactText {
            fact,
            text,
            observed: AtomicBool::new(false),
        }
    }

    /// The text, marked as looked at.
    pub fn observe(&self) -> Text {
        self.observed.store(true, Ordering::Relaxed);
        self.text.clone()
    }

    pub fn observed(&self) -> bool {
        self.observed.load(Ordering::Relaxed)
    }

    /// Marks the text as looked at.
    pub fn mark_observed(&self) {
        self.observed.store(true, Ordering::Relaxed);
    }

    /// Takes back a look that changed nothing (see `Machine::eval_args_unobserved`).
    pub fn forget_observed(&self) {
        self.observed.store(false, Ordering::Relaxed);
    }
}

/// What is known of a [`Val::Prefix`] string after its known beginning, behind one pointer so
/// that [`Val`] stays as small as its largest common variant: the user attribute the rest may
/// come from (`'mailto:' + user.email`), and the text that follows the first part not known
/// statically (`.auth0.com/plan` in `` `https://${tenant}.auth0.com/plan` ``).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tail(Option<Arc<TailParts>>);

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TailParts {
    attr: Option<Text>,
    /// The unknown part is one value put in the text (`${tenant}`), not text a loop or a join
    /// of alternatives left unknown (which may hold any text, `/` included): only after such a
    /// hole is the text that follows kept.
    hole: bool,
    /// The text right after the hole.
    then: String,
    /// More text not known statically follows `then`.
    closed: bool,
}

/// Longest `then` kept: enough for a namespace host and path.
const MAX_TAIL: usize = 256;

impl Tail {
    /// The tail of a string whose known beginning is followed by the one value `unknown`.
    pub fn after(unknown: &Val) -> Tail {
        Tail(Some(Arc::new(TailParts {
            attr: unknown.attribute(),
            hole: true,
            ..TailParts::default()
        })))
    }

    /// An unknown rest, any text, that may come from `attr`.
    pub fn with_attr(attr: Option<Text>) -> Tail {
        Tail(attr.map(|attr| {
            Arc::new(TailParts {
                attr: Some(attr),
                ..TailParts::default()
            })
        }))
    }

    pub fn attribute(&self) -> Option<Text> {
        self.0.as_ref().and_then(|t| t.attr.clone())
    }

    /// The text known to follow the one unknown value after the known beginning, and whether
    /// the string ends with it.
    pub fn then(&self) -> Option<(&str, bool)> {
        self.0
            .as_deref()
            .filter(|t| t.hole && !t.then.is_empty())
            .map(|t| (t.then.as_str(), !t.closed))
    }

    /// This tail with `next` appended to the string.
    pub fn followed_by(&self, next: &Val) -> Tail {
        let mut parts = self.0.as_deref().cloned().unwrap_or_default();
        if parts.attr.is_none() {
            parts.attr = next.attribute();
        }
        if parts.hole && !parts.closed {
            match next {
                Val::Str(text) => parts.then.push_str(text),
                Val::Prefix(text, _) => {
                    parts.then.push_str(text);
                    parts.closed = !parts.then.is_empty();
                }
                // A second unknown value right after the first: together they may hold any
                // text, so what follows no longer ends the host.
                _ if parts.then.is_empty() => parts.hole = false,
                _ => parts.closed = true,
            }
            if parts.then.len() > MAX_TAIL {
                let mut cut = MAX_TAIL;
                while !parts.then.is_char_boundary(cut) {
                    cut -= 1;
                }
                parts.then.truncate(cut);
                parts.closed = true;
            }
        }
        if parts == TailParts::default() {
            Tail(None)
        } else {
            Tail(Some(Arc::new(parts)))
        }
    }
}

/// What a value is known to be.
#[derive(Debug, Clone)]
pub enum Val {
    Undef,
    Null,
    Bool(bool),
    Num(f64),
    Str(Text),
    /// A string that starts with the text (`'https://x.com/' + something`), and the user
    /// attribute the rest may come from (`'mailto:' + user.email`).
    Prefix(Text, Tail),
    /// The value of a user attribute (`email`, `app_metadata.roles`), not known statically.
    Attr(Text),
    Unknown(Arc<Opaque>),
    Obj(ObjId),
    Func(Closure),
    /// A built-in or host function or namespace (`Object.keys`, `api.idToken.setCustomClaim`,
    /// `callback`), by its path.
    Native(Text),
    /// One of these (2 to [`MAX_ALTS`], none of them `Alt`).
    Alt(Arc<Vec<Val>>),
    /// A login fact's text, only kept and compared so far. It lives in variables (reading one
    /// through [`Val::concrete`] turns it into `Str`); an object's property holds the text as a
    /// `Str` with a [`Prop::fact`] marker instead, and `Machine::get` hands it on as this.
    Fact(Arc<FactText>),
}

/// A value's description, as [`Val::described`] formats it.
pub struct Described<'v>(&'v Val);

impl std::fmt::Display for Described<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Val::Str(s) => write!(f, "'{s}'"),
            Val::Fact(fact) => write!(f, "'{}'", fact.observe()),
            Val::Prefix(p, _) => write!(f, "'{p}' + …"),
            Val::Attr(path) => write!(f, "user.{path}"),
            Val::Unknown(o) => write!(f, "{}", o.what),
            Val::Obj(_) => f.write_str("an object"),
            Val::Func(_) | Val::Native(_) => f.write_str("a function"),
            Val::Alt(items) => {
                f.write_str("one of ")?;
                for (k, item) in items.iter().enumerate() {
                    if k > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{}", item.described())?;
                }
                Ok(())
            }
            other => match other.exact_text() {
                Some(text) => f.write_str(&text),
                None => Ok(()),
            },
        }
    }
}

/// An unknown value: what it is, for people, and the user attribute it derives from.
#[derive(Debug, Clone, PartialEq)]
pub struct Opaque {
    pub what: What,
    pub attr: Option<Text>,
    /// What a test the path went through settled of its truthiness (`if (err) { … }`).
    pub truthy: Option<bool>,
}

/// What an unknown value is, in words: a text, a property of another unknown value, or the
/// result of calling one, worded only when shown (reading `body.data.items` of an unknown
/// `body` would otherwise write the whole growing path out at every step). Two are equal when
/// their words are.
#[derive(Clone)]
pub enum What {
    Text(Text),
    /// `{base}.{name}`.
    Member(Arc<Opaque>, Text),
    /// `the result of {base}()`.
    Call(Arc<Opaque>),
}

impl What {
    /// Most links in a chain of [`What::Member`]s and [`What::Call`]s: a longer one is worded
    /// once and starts again, so that comparing or freeing a chain never recurses deeply.
    const MOST_LINKS: usize = 32;

    /// `{base}.{name}` of the unknown value `base`.
    pub fn member(base: &Arc<Opaque>, name: Text) -> What {
        if base.what.links() < Self::MOST_LINKS {
            What::Member(base.clone(), name)
        } else {
            What::Text(format!("{}.{name}", base.what).into())
        }
    }

    /// `the result of {base}()` of the unknown function `base`.
    pub fn call(base: &Arc<Opaque>) -> What {
        if base.what.links() < Self::MOST_LINKS {
            What::Call(base.clone())
        } else {
            What::Text(format!("{}{}{}", CALL_WORDS.0, base.what, CALL_WORDS.1).into())
        }
    }

    /// The next link down the chain, if this is one.
    fn base(&self) -> Option<&What> {
        match self {
            What::Text(_) => None,
            What::Member(base, _) | What::Call(base) => Some(&base.what),
        }
    }

    fn links(&self) -> usize {
        std::iter::successors(self.base(), |w| w.base()).count()
    }

    /// The length of the words, without making them.
    fn len(&self) -> usize {
        let mut len = 0;
        let mut at = self;
        loop {
            match at {
                What::Text(text) => return len + text.len(),
                What::Member(base, name) => {
                    len += 1 + name.len();
                    at = &base.what;
                }
                What::Call(base) => {
                    len += CALL_WORDS.0.len() + CALL_WORDS.1.len();
                    at = &base.what;
                }
            }
        }
    }
}

/// The words around a [`What::Call`]'s base.
const CALL_WORDS: (&str, &str) = ("the result of ", "()");

impl From<&str> for What {
    fn from(text: &str) -> What {
        What::Text(text.into())
    }
}

impl From<String> for What {
    fn from(text: String) -> What {
        What::Text(text.into())
    }
}

impl From<Text> for What {
    fn from(text: Text) -> What {
        What::Text(text)
    }
}

impl std::fmt::Display for What {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A chain of any length is worded without recursion: the links down to the text at its
        // root, the calls' leading words outermost first, the root, then each link's trailing
        // words from the root up.
        let mut links = Vec::new();
        let mut at = self;
        let root = loop {
            match at {
                What::Text(text) => break text,
                What::Member(base, _) | What::Call(base) => {
                    links.push(at);
                    at = &base.what;
                }
            }
        };
        for link in &links {
            if let What::Call(_) = link {
                f.write_str(CALL_WORDS.0)?;
            }
        }
        f.write_str(root)?;
        for link in links.iter().rev() {
            match link {
                What::Member(_, name) => {
                    f.write_str(".")?;
                    f.write_str(name)?;
                }
                What::Call(_) => f.write_str(CALL_WORDS.1)?,
                What::Text(_) => {}
            }
        }
        Ok(())
    }
}

impl std::fmt::Debug for What {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.to_string(), f)
    }
}

impl PartialEq for What {
    fn eq(&self, other: &What) -> bool {
        let (mut a, mut b) = (self, other);
        loop {
            match (a, b) {
                (What::Text(x), What::Text(y)) => return x == y,
                // Same last link: the words are equal when the bases' are.
                (What::Member(p, x), What::Member(q, y)) if x == y => {
                    if Arc::ptr_eq(p, q) {
                        return true;
                    }
                    (a, b) = (&p.what, &q.what);
                }
                (What::Call(p), What::Call(q)) => {
                    if Arc::ptr_eq(p, q) {
                        return true;
                    }
                    (a, b) = (&p.what, &q.what);
                }
                _ => return a.len() == b.len() && a.to_string() == b.to_string(),
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Closure {
    pub function: Arc<Function>,
    pub env: FrameId,
    /// `this` of an arrow function's defining context.
    pub this: Option<Box<Val>>,
}

impl Val {
    pub fn str(text: &str) -> Val {
        Val::Str(text.into())
    }

    /// The value with every fact text in it as the plain string it is (marked as looked at).
    pub fn concrete(self) -> Val {
        match self {
            Val::Fact(f) => Val::Str(f.observe()),
            Val::Alt(items) if items.iter().any(|i| matches!(i, Val::Fact(_))) => {
                let mut out: Vec<Val> = Vec::with_capacity(items.len());
                for item in items.iter().cloned().map(Val::concrete) {
                    if !out.iter().any(|known| known.same(&item)) {
                        out.push(item);
                    }
                }
                Val::alternatives(out)
            }
            other => other,
        }
    }

    pub fn unknown(what: impl Into<Text>) -> Val {
        Val::Unknown(Arc::new(Opaque {
            what: What::Text(what.into()),
            attr: None,
            truthy: None,
        }))
    }

    /// An unknown derived from `from`: it keeps the user attribute `from` comes from.
    pub fn derived(what: impl Into<Text>, from: &Val) -> Val {
        Val::Unknown(Arc::new(Opaque {
            what: What::Text(what.into()),
            attr: from.attribute(),
            truthy: None,
        }))
    }

    /// The user attribute a value is or derives from.
    pub fn attribute(&self) -> Option<Text> {
        match self {
            Val::Attr(path) => Some(path.clone()),
            Val::Unknown(o) => o.attr.clone(),
            Val::Prefix(_, tail) => tail.attribute(),
            Val::Alt(items) => items.iter().find_map(Val::attribute),
            _ => None,
        }
    }

    pub fn is_primitive(&self) -> bool {
        matches!(
            self,
            Val::Undef | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Str(_) | Val::Fact(_)
        )
    }

    /// Whether the value is exactly known (a primitive; objects are compared by identity).
    pub fn is_exact(&self) -> bool {
        matches!(
            self,
            Val::Undef
                | Val::Null
                | Val::Bool(_)
                | Val::Num(_)
                | Val::Str(_)
                | Val::Fact(_)
                | Val::Obj(_)
                | Val::Func(_)
                | Val::Native(_)
        )
    }

    /// The alternatives a value stands for (itself when it is not `Alt`).
    pub fn alts(&self) -> &[Val] {
        match self {
            Val::Alt(items) => items,
            other => std::slice::from_ref(other),
        }
    }

    /// What is known of a string's beginning.
    pub fn known_prefix(&self) -> Option<Text> {
        match self {
            Val::Str(s) | Val::Prefix(s, _) => Some(s.clone()),
            Val::Fact(f) => Some(f.observe()),
            Val::Alt(items) => {
                let mut prefixes = items.iter().map(Val::known_prefix);
                let first = prefixes.next()??;
                let mut common: &str = &first;
                for p in prefixes {
                    let p = p?;
                    let len = common
                        .char_indices()
                        .zip(p.chars())
                        .take_while(|((_, a), b)| a == b)
                        .last()
                        .map_or(0, |((i, a), _)| i + a.len_utf8());
                    common = &common[..len];
                }
                (!common.is_empty()).then(|| Text::from(common))
            }
            _ => None,
        }
    }

    /// The exact text of a primitive as `String(v)` gives it.
    pub fn exact_text(&self) -> Option<Text> {
        Some(match self {
            Val::Str(s) => s.clone(),
            Val::Fact(f) => f.observe(),
            Val::Num(n) => number_text(*n).into(),
            Val::Bool(b) => if *b { "true" } else { "false" }.into(),
            Val::Null => "null".into(),
            Val::Undef => "undefined".into(),
            _ => return None,
        })
    }

    /// A short description, where a value is shown but not known.
    pub fn describe(&self) -> String {
        self.described().to_string()
    }

    /// [`Val::describe`]'s text, written straight into what formats it (no string of its own:
    /// descriptions of unknown values are made on every read of them).
    pub fn described(&self) -> Described<'_> {
        Described(self)
    }

    /// Keeps strings bounded: a very long one becomes unknown.
    pub fn bounded(self) -> Val {
        match &self {
            Val::Str(s) if s.len() > MAX_TEXT => Val::unknown("a very long string"),
            Val::Prefix(s, tail) if s.len() > MAX_TEXT => Val::Unknown(Arc::new(Opaque {
                what: What::Text("a very long string".into()),
                attr: tail.attribute(),
                truthy: Some(true),
            })),
            _ => self,
        }
    }

    /// Same value, as far as the domain can tell (used to join and to find fixpoints).
    pub fn same(&self, other: &Val) -> bool {
        match (self, other) {
            (Val::Undef, Val::Undef) | (Val::Null, Val::Null) => true,
            (Val::Bool(a), Val::Bool(b)) => a == b,
            (Val::Num(a), Val::Num(b)) => a.to_bits() == b.to_bits() || a == b,
            (Val::Str(a), Val::Str(b)) => a == b,
            (Val::Prefix(a, ta), Val::Prefix(b, tb)) => a == b && ta == tb,
            (Val::Attr(a), Val::Attr(b)) => a == b,
            (Val::Unknown(a), Val::Unknown(b)) => Arc::ptr_eq(a, b) || a == b,
            (Val::Obj(a), Val::Obj(b)) => a == b,
            (Val::Func(a), Val::Func(b)) => Arc::ptr_eq(&a.function, &b.function) && a.env == b.env,
            (Val::Native(a), Val::Native(b)) => a == b,
            // One fact has one text in a run; a fact and anything else may differ (joining
            // them keeps both, and reading the variable makes them concrete again).
            (Val::Fact(a), Val::Fact(b)) => a.fact == b.fact,
            (Val::Alt(a), Val::Alt(b)) => a.len() == b.len() && a.iter().all(|x| b.iter().any(|y| x.same(y))),
            _ => false,
        }
    }

    /// Makes `self` the least value that is either `self` or `other` (as [`Val::join`], without
    /// a copy when they are the same).
    pub fn join_in(&mut self, other: &Val) {
        if !self.same(other) {
            *self = self.join_other(other);
        }
    }

    /// The least value that is either `self` or `other`.
    pub fn join(&self, other: &Val) -> Val {
        if self.same(other) {
            return self.clone();
        }
        self.join_other(other)
    }

    /// [`Val::join`] of two values already known not to be the same.
    fn join_other(&self, other: &Val) -> Val {
        let mut items: Vec<Val> = Vec::new();
        for v in self.alts().iter().chain(other.alts()) {
            // One unknown value found truthy on one path and falsy on the other is that value
            // again, its truthiness unsettled.
            let settled_apart = items.iter_mut().find_map(|known| match (&*known, v) {
                (Val::Unknown(a), Val::Unknown(b))
                    if a.truthy != b.truthy && a.what == b.what && a.attr == b.attr =>
                {
                    Some(known)
                }
                _ => None,
            });
            if let Some(known) = settled_apart {
                if let Val::Unknown(a) = known {
                    *known = Val::Unknown(Arc::new(Opaque {
                        truthy: None,
                        ..Opaque::clone(a)
                    }));
                }
            } else if !items.iter().any(|known| known.same(v)) {
                items.push(v.clone());
            }
        }
        Val::alternatives(items)
    }

    /// A value from alternatives: one stays itself, too many are widened.
    pub fn alternatives(mut items: Vec<Val>) -> Val {
        if items.len() > 1 && items.iter().any(|i| matches!(i, Val::Prefix(..))) {
            // A known beginning joined with more text stays a known beginning.
            if let Some(p) = Val::Alt(Arc::new(items.clone())).known_prefix() {
                return Val::Prefix(p, Tail::with_attr(items.iter().find_map(Val::attribute)));
            }
        }
        match items.len() {
            0 => Val::Undef,
            1 => items.remove(0),
            n if n <= MAX_ALTS => Val::Alt(Arc::new(items)),
            _ => {
                let attr = items.iter().find_map(Val::attribute);
                let prefix = Val::Alt(Arc::new(items)).known_prefix();
                match prefix {
                    Some(p) => Val::Prefix(p, Tail::with_attr(attr)),
                    None => Val::Unknown(Arc::new(Opaque {
                        what: "one of several values".into(),
                        attr,
                        truthy: None,
                    })),
                }
            }
        }
    }
}

/// A number as JavaScript prints it.
pub fn number_text(n: f64) -> String {
    use oxc_syntax::number::ToJsString;
    n.to_js_string()
}

/// A path condition in disjunctive normal form: a list of conjunctions of branch literals.
/// `[[]]` is *true* (every path), `[]` is *false* (no path). Shared: every property, event
/// and state holds one, and forks and joins copy them far more often than they change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cond(pub Arc<Vec<Vec<Lit>>>);

/// One word per literal: conditions are hashed at every lookup of the maps below.
impl std::hash::Hash for Cond {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_usize(self.0.len());
        for conj in self.0.iter() {
            state.write_usize(conj.len());
            for &(branch, outcome) in conj {
                state.write_u64((u64::from(branch) << 1) | u64::from(outcome));
            }
        }
    }
}

/// Past this many results, a memo below is cleared (and its results made again when asked).
const MEMO_KEPT: usize = 4096;

/// A thread's results of one operation on two conditions, by operands.
type CondMemo =
    std::cell::RefCell<std::collections::HashMap<(Cond, Cond), Cond, foldhash::fast::RandomState>>;

/// `make()`, the result of an operation on `a` and `b`, from `memo` when it is there.
fn remembered(
    memo: &'static std::thread::LocalKey<CondMemo>,
    a: &Cond,
    b: &Cond,
    make: impl FnOnce() -> Cond,
) -> Cond {
    let key = (a.clone(), b.clone());
    if let Some(known) = memo.with(|memo| memo.borrow().get(&key).cloned()) {
        return known;
    }
    let made = make();
    memo.with(|memo| {
        let mut memo = memo.borrow_mut();
        if memo.len() >= MEMO_KEPT {
            memo.clear();
        }
        memo.insert(key, made.clone());
    });
    made
}

thread_local! {
    /// Products of conditions neither of which is *true* or *false*, as [`Cond::and_cond`]
    /// makes them: a run asks for the same few again at join after join (a property's presence
    /// under the path condition of each side), and each costs a product and simplification.
    static PRODUCTS: CondMemo = CondMemo::default();
    /// Unions, as [`Cond::or`] makes them, for the same reason.
    static UNIONS: CondMemo = CondMemo::default();
    /// *true* and *false*, made once per thread: most conditions are one of them.
    static ALWAYS_NEVER: (Cond, Cond) = (Cond(Arc::new(vec![Vec::new()])), Cond(Arc::new(Vec::new())));
}

/// Whether every literal of `a` is in `b`; both are sorted, as every conjunction is.
fn is_sorted_subset(a: &[Lit], b: &[Lit]) -> bool {
    let mut rest = b.iter();
    a.iter().all(|l| rest.by_ref().any(|m| m == l))
}

/// One branch taken: `(branch, outcome)`. Branch `0` stands for a condition too large to
/// keep (only ever `(0, true)`).
pub type Lit = (BranchId, bool);

impl Cond {
    pub fn always() -> Cond {
        ALWAYS_NEVER.with(|(always, _)| always.clone())
    }

    pub fn never() -> Cond {
        ALWAYS_NEVER.with(|(_, never)| never.clone())
    }

    pub fn is_always(&self) -> bool {
        self.0.iter().any(Vec::is_empty)
    }

    pub fn is_never(&self) -> bool {
        self.0.is_empty()
    }

    /// `self ∧ lit`.
    pub fn and(&self, lit: Lit) -> Cond {
        self.clone().and_owned(lit)
    }

    /// `self ∧ lit`, in place of `self`.
    fn and_owned(mut self, lit: Lit) -> Cond {
        let contradicts = |conj: &[Lit]| conj.iter().any(|l| l.0 == lit.0 && l.1 != lit.1);
        match Arc::get_mut(&mut self.0) {
            Some(conjs) => conjs.retain_mut(|conj| {
                if contradicts(conj) {
                    return false;
                }
                // Kept sorted: where `lit` goes, unless it is there already.
                if let Err(at) = conj.binary_search(&lit) {
                    conj.insert(at, lit);
                }
                true
            }),
            // Shared: the conjunctions are made anew, each with `lit` in its place.
            None => {
                let conjs = self
                    .0
                    .iter()
                    .filter(|conj| !contradicts(conj))
                    .map(|conj| match conj.binary_search(&lit) {
                        Ok(_) => conj.clone(),
                        Err(at) => {
                            let mut with = Vec::with_capacity(conj.len() + 1);
                            with.extend_from_slice(&conj[..at]);
                            with.push(lit);
                            with.extend_from_slice(&conj[at..]);
                            with
                        }
                    })
                    .collect();
                self = Cond(Arc::new(conjs));
            }
        }
        self.simplified()
    }

    /// `self ∧ other`.
    pub fn and_cond(&self, other: &Cond) -> Cond {
        // Every `Cond` is kept simplified (no conjunction of it contains or merges with
        // another), so with `always` or `never` on either side the product below gives
        // exactly these; most properties are present on every path.
        if self.is_never() || other.is_never() {
            return Cond::never();
        }
        if self.is_always() {
            return other.clone();
        }
        if other.is_always() {
            return self.clone();
        }
        remembered(&PRODUCTS, self, other, || {
            let mut out = Cond::never();
            for conj in other.0.iter() {
                let mut part = self.clone();
                for lit in conj {
                    part = part.and_owned(*lit);
                }
                out = out.or(&part);
            }
            out
        })
    }

    /// `self ∨ other`.
    pub fn or(&self, other: &Cond) -> Cond {
        // As in `and_cond`, what simplifying the union gives when one side settles it.
        if self.is_always() || other.is_always() {
            return Cond::always();
        }
        if other.is_never() || self == other {
            return self.clone();
        }
        if self.is_never() {
            return other.clone();
        }
        remembered(&UNIONS, self, other, || {
            let mut all = Vec::with_capacity(self.0.len() + other.0.len());
            all.extend(self.0.iter().cloned());
            all.extend(other.0.iter().cloned());
            Cond(Arc::new(all)).simplified()
        })
    }

    /// Whether every path of `self` is a path of `other` (a sufficient test: each conjunction
    /// of `self` contains some conjunction of `other`).
    pub fn implies(&self, other: &Cond) -> bool {
        other.is_always()
            || self
                .0
                .iter()
                .all(|c| other.0.iter().any(|d| d.iter().all(|l| c.contains(l))))
    }

    fn simplified(mut self) -> Cond {
        // One conjunction (most paths) or none: nothing to merge or drop.
        if self.0.len() < 2 {
            return self;
        }
        let conjs = Arc::make_mut(&mut self.0);
        // Merge `A ∧ x` with `A ∧ ¬x` into `A`, drop subsumed conjunctions, repeat.
        loop {
            let mut changed = false;
            conjs.sort();
            conjs.dedup();
            'outer: for i in 0..conjs.len() {
                for j in 0..conjs.len() {
                    if i == j {
                        continue;
                    }
                    let (a, b) = (&conjs[i], &conjs[j]);
                    if is_sorted_subset(a, b) {
                        conjs.remove(j);
                        changed = true;
                        break 'outer;
                    }
                    if a.len() == b.len() {
                        let mut differing = (0..a.len()).filter(|&k| a[k] != b[k]);
                        if let (Some(k), None) = (differing.next(), differing.next())
                            && a[k].0 == b[k].0
                        {
                            let mut merged = a.clone();
                            merged.remove(k);
                            conjs[i] = merged;
                            conjs.remove(j);
                            changed = true;
                            break 'outer;
                        }
                    }
                }
            }
            if !changed {
                break;
            }
        }
        if conjs.len() > MAX_DISJUNCTS {
            // Too many ways to get here to list: some condition holds.
            *conjs = vec![vec![(0, true)]];
        }
        self
    }
}

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjKind {
    Plain,
    Array,
    /// An `Error` (or `UnauthorizedError`): truthy, denies a login handed to a callback.
    Error,
    /// A `Set`: its members are `items`, without duplicates.
    Set,
    /// A promise: fulfilled with `items[0]` when it holds one item, pending when it holds
    /// none, of an unknown outcome when `open_items`.
    Promise,
}

/// What reading a property an object does not hold gives.
#[derive(Debug, Clone, PartialEq)]
pub enum Rest {
    /// `undefined`: the object is fully known.
    Closed,
    /// An unknown value: the object has parts claimlint does not know (a property `name` is
    /// `{what}.{name}`).
    Unknown(Arc<Opaque>),
    /// The user attribute below this path (`user` is `Attr("")`).
    Attr(Text),
    /// A host object (`context`, `event.client`): the host decides.
    Host(Text),
}

impl Rest {
    /// Whether the parts not yet read are the login's input (a host object's, the user's).
    pub fn is_input(&self) -> bool {
        matches!(self, Rest::Host(_) | Rest::Attr(_))
    }

    /// Parts claimlint does not know, in words.
    pub fn unknown(what: impl Into<Text>) -> Rest {
        Rest::Unknown(Arc::new(Opaque {
            what: What::Text(what.into()),
            attr: None,
            truthy: None,
        }))
    }
}

/// A property with the condition under which it exists and where it was last written.
#[derive(Debug, Clone)]
pub struct Prop {
    pub key: Text,
    pub value: Val,
    pub presence: Cond,
    pub site: Option<Site>,
    /// Set when the script wrote it (not when it came with the input).
    pub written: bool,
    /// The value (a `Str`) is this login fact's text, put there unlooked-at: written on its own
    /// (`context.idToken[ns + 'app'] = context.clientName`) or in an object literal (a webhook's
    /// payload, `{ application: context.clientName }`). Until the script looks at it, the run
    /// serves every login that compares the fact the same way, and on a token object the claim
    /// stands for "the login's value of the fact". Reading this property (`Machine::get`) hands
    /// the fact on as a variable would; reading the object in any other way marks every fact
    /// in it looked at (see [`State::obj`]), and so does any read of a token object but the
    /// final summary's.
    pub fact: Option<Arc<FactText>>,
}

impl Prop {
    /// A property of the login's input (a host object's or the user's), filled in when the
    /// script first read it and never written since.
    pub fn is_input(&self) -> bool {
        !self.written && self.site.is_none()
    }

    /// Drops the property's fact marker, marking the fact looked at: its text is now part of
    /// what the value is, not a stand-in.
    pub fn settle_fact(&mut self) {
        if let Some(fact) = self.fact.take() {
            fact.mark_observed();
        }
    }
}

/// A place in a script: which script and where.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Site {
    pub script: u32,
    pub span: Span,
}

/// A write whose key is not known exactly (`context.idToken[ns + name] = …`).
#[derive(Debug, Clone)]
pub struct DynWrite {
    pub key: Val,
    pub value: Val,
    pub presence: Cond,
    pub site: Site,
}

#[derive(Debug, Clone)]
pub struct Object {
    pub kind: ObjKind,
    pub props: Vec<Prop>,
    /// Array elements (for `ObjKind::Array`).
    pub items: Vec<Val>,
    pub rest: Rest,
    /// For arrays: more elements may follow `items` (the length is not known).
    pub open_items: bool,
    pub dyn_writes: Vec<DynWrite>,
    /// Writes to this object are claims of a token.
    pub sink: Option<crate::proof::TokenKind>,
}

impl Object {
    pub fn plain(rest: Rest) -> Object {
        Object {
            kind: ObjKind::Plain,
            props: Vec::new(),
            items: Vec::new(),
            rest,
            open_items: false,
            dyn_writes: Vec::new(),
            sink: None,
        }
    }

    pub fn array(items: Vec<Val>) -> Object {
        Object {
            kind: ObjKind::Array,
            items,
            ..Object::plain(Rest::Closed)
        }
    }

    /// The properties in JavaScript's own-key order: integer-like keys ascending, then the
    /// others in the order they were added.
    pub fn ordered_props(&self) -> Vec<&Prop> {
        let index = |k: &str| {
            k.parse::<u32>()
                .ok()
                .filter(|i| i.to_string() == k && *i != u32::MAX)
        };
        let mut numeric: Vec<&Prop> = self.props.iter().filter(|p| index(&p.key).is_some()).collect();
        numeric.sort_by_key(|p| index(&p.key));
        numeric.extend(self.props.iter().filter(|p| index(&p.key).is_none()));
        numeric
    }

    pub fn prop(&self, key: &str) -> Option<&Prop> {
        self.props.iter().find(|p| &*p.key == key)
    }

    /// Marks every login fact held unlooked-at in the object's properties as looked at.
    pub fn mark_facts_observed(&self) {
        for fact in self.props.iter().filter_map(|p| p.fact.as_ref()) {
            fact.mark_observed();
        }
    }

    /// Adds the writes with unknown names `other` made that this object lacks, each under the
    /// condition `presence` makes of its own.
    pub fn add_dyn_writes_of(&mut self, other: &Object, mut presence: impl FnMut(&Cond) -> Cond) {
        for w in &other.dyn_writes {
            if !self
                .dyn_writes
                .iter()
                .any(|d| d.site == w.site && d.key.same(&w.key))
            {
                let mut w = w.clone();
                w.presence = presence(&w.presence);
                self.dyn_writes.push(w);
            }
        }
    }

    /// Whether every key is known (no unknown rest, no unknown-key write).
    pub fn is_closed(&self) -> bool {
        self.rest == Rest::Closed && self.dyn_writes.is_empty() && !self.open_items
    }

    /// Joins the object as seen on another path into this one.
    fn join(&mut self, other: &Object, conds: &mut JoinConds) {
        // Both sides usually descend from one object, so properties line up by position; an
        // index is built only when they do not.
        let aligned = self.props.len() <= other.props.len()
            && self.props.iter().zip(&other.props).all(|(p, q)| p.key == q.key);
        let index: std::collections::HashMap<&str, usize> = if aligned {
            std::collections::HashMap::new()
        } else {
            other
                .props
                .iter()
                .enumerate()
                .map(|(i, q)| (&*q.key, i))
                .collect()
        };
        let mut seen = vec![false; other.props.len()];
        for (i, p) in self.props.iter_mut().enumerate() {
            let at = if aligned {
                Some(i)
            } else {
                index.get(&*p.key).copied()
            };
            match at.map(|j| (j, &other.props[j])) {
                Some((j, q)) => {
                    seen[j] = true;
                    // Unchanged on both paths: nothing to join.
                    if q.presence == p.presence
                        && q.site == p.site
                        && q.value.same(&p.value)
                        && same_fact(&p.fact, &q.fact)
                    {
                        p.written |= q.written;
                        continue;
                    }
                    if !(q.value.same(&p.value) && same_fact(&p.fact, &q.fact)) {
                        // Paths that put different values: the joined value holds the text.
                        p.settle_fact();
                        if let Some(fact) = &q.fact {
                            fact.mark_observed();
                        }
                    }
                    p.value.join_in(&q.value);
                    p.presence = conds.either(&p.presence, &q.presence);
                    if p.site != q.site {
                        p.site = p.site.or(q.site);
                    }
                    p.written |= q.written;
                }
                // An input property read on this path only (`event.user`, `context.clientName`):
                // the other path reads the same input when it looks.
                None if p.is_input() && other.rest.is_input() => {}
                None => {
                    p.presence = conds.on_self(&p.presence);
                    if other.rest != Rest::Closed {
                        p.settle_fact();
                        p.value = p.value.join(&Val::unknown("a property set on another path"));
                    }
                }
            }
        }
        for (j, q) in other.props.iter().enumerate() {
            if !seen[j] {
                let mut q = q.clone();
                if !(q.is_input() && self.rest.is_input()) {
                    q.presence = conds.on_other(&q.presence);
                }
                self.props.push(q);
            }
        }
        if self.items.len() != other.items.len() {
            self.open_items = true;
        }
        for (i, item) in self.items.iter_mut().enumerate() {
            if let Some(o) = other.items.get(i) {
                item.join_in(o);
            }
        }
        self.open_items |= other.open_items;
        if self.rest != other.rest {
            self.rest = match (&self.rest, &other.rest) {
                (Rest::Closed, r) | (r, Rest::Closed) => match r {
                    Rest::Closed => Rest::Closed,
                    _ => Rest::unknown("parts set on some paths"),
                },
                _ => Rest::unknown("parts set on some paths"),
            };
        }
        self.add_dyn_writes_of(other, |presence| conds.on_other(presence));
    }
}

/// Whether two fact markers stand for the same text.
pub fn same_fact(a: &Option<Arc<FactText>>, b: &Option<Arc<FactText>>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => Arc::ptr_eq(a, b),
        _ => false,
    }
}

/// The variables of one function activation.
#[derive(Debug, Clone, Default)]
pub struct Frame {
    pub parent: Option<FrameId>,
    /// By symbol: a frame is copied whenever a forked path changes one of its variables, and
    /// a vector copies in one allocation where a B-tree allocates each node.
    pub vars: IdMap<Val>,
}

/// Something a script does besides setting values: trigger MFA, redirect, read an attribute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EventKind {
    Mfa,
    Redirect,
    /// A write to a user attribute below the root (`user.app_metadata.plan = …`), by root name.
    AttrWrite(Text),
    /// A read of a user attribute, by path.
    AttrRead(Text),
}

#[derive(Debug, Clone)]
pub struct Event {
    pub kind: EventKind,
    pub site: Site,
    pub cond: Cond,
}

/// One abstract program state.
#[derive(Debug, Clone)]
pub struct State {
    /// The condition under which this state is reached.
    pub pc: Cond,
    /// Shared between forked states until one of them changes a variable (as `heap`).
    pub frames: Arc<IdMap<Arc<Frame>>>,
    /// Shared between the states forked from one another until one of them allocates or
    /// changes an object: a fork copies no object list, and two states that left the heap
    /// alone join without looking at it.
    pub heap: Arc<IdMap<Arc<Object>>>,
    /// What happened, by kind and place, with the condition it happened under.
    pub events: Arc<SortedMap<(EventKind, Site), Cond>>,
    /// `false` once every path through this state has left normal flow.
    pub alive: bool,
}

impl State {
    pub fn new() -> State {
        State {
            pc: Cond::always(),
            frames: Arc::default(),
            heap: Arc::default(),
            events: Arc::default(),
            alive: true,
        }
    }

    /// An object, to read: the login facts it holds unlooked-at (see [`Prop::fact`]) count as
    /// looked at from now on, since the reader may use their text.
    pub fn obj(&self, id: ObjId) -> Option<&Object> {
        let object = self.obj_unread(id)?;
        object.mark_facts_observed();
        Some(object)
    }

    /// An object, to change (which may read it too, as [`State::obj`]).
    pub fn obj_mut(&mut self, id: ObjId) -> Option<&mut Object> {
        let object = self.obj_mut_unread(id)?;
        object.mark_facts_observed();
        Some(object)
    }

    /// An object as it is, its fact markers untouched: for the final summary of a run, and for
    /// a read of one property that deals with that property's marker itself.
    pub fn obj_unread(&self, id: ObjId) -> Option<&Object> {
        self.heap.get(&id).map(|o| &**o)
    }

    /// An object to write one property of, its other properties unread (property writes only).
    pub fn obj_mut_unread(&mut self, id: ObjId) -> Option<&mut Object> {
        self.heap.get(&id)?;
        Arc::make_mut(&mut self.heap).get_mut(&id).map(Arc::make_mut)
    }

    pub fn event(&mut self, kind: EventKind, site: Site) {
        let events = Arc::make_mut(&mut self.events);
        let key = (kind, site);
        match events.get_mut(&key) {
            Some(c) => *c = c.or(&self.pc),
            None => {
                events.insert(key, self.pc.clone());
            }
        }
    }

    /// The state reached by either `self` or `other`.
    pub fn join(&mut self, other: &State) {
        if !other.alive {
            return;
        }
        if !self.alive {
            *self = other.clone();
            return;
        }
        let mut conds = JoinConds::new(self.pc.clone(), other.pc.clone());
        if !Arc::ptr_eq(&self.frames, &other.frames) {
            self.join_frames(other);
        }
        if !Arc::ptr_eq(&self.heap, &other.heap) {
            self.join_heap(other, &mut conds);
        }
        if !Arc::ptr_eq(&self.events, &other.events) {
            self.join_events(other);
        }
        self.pc = conds.pc_self.or(&conds.pc_other);
    }

    /// Joins the other state's events into this one's: an event on both paths happens under
    /// either condition. Both lists are sorted, so one pass over the two; the list is copied
    /// only once the other state turns out to add something.
    fn join_events(&mut self, other: &State) {
        let (mine, theirs) = (&self.events.0, &other.events.0);
        let mut joined: Option<Vec<((EventKind, Site), Cond)>> = None;
        let (mut i, mut j) = (0, 0);
        while j < theirs.len() {
            let order = match mine.get(i) {
                Some((key, _)) => event_order(key, &theirs[j].0),
                None => std::cmp::Ordering::Greater,
            };
            let added = match order {
                std::cmp::Ordering::Less => None,
                std::cmp::Ordering::Greater => Some(theirs[j].clone()),
                std::cmp::Ordering::Equal if mine[i].1 == theirs[j].1 => None,
                std::cmp::Ordering::Equal => Some((mine[i].0.clone(), mine[i].1.or(&theirs[j].1))),
            };
            match (added, &mut joined) {
                (Some(entry), Some(out)) => out.push(entry),
                (Some(entry), None) => {
                    let mut out = Vec::with_capacity(mine.len() + theirs.len() - j);
                    out.extend_from_slice(&mine[..i]);
                    out.push(entry);
                    joined = Some(out);
                }
                (None, Some(out)) if order != std::cmp::Ordering::Greater => out.push(mine[i].clone()),
                (None, _) => {}
            }
            if order != std::cmp::Ordering::Greater {
                i += 1;
            }
            if order != std::cmp::Ordering::Less {
                j += 1;
            }
        }
        if let Some(mut out) = joined {
            out.extend_from_slice(&mine[i..]);
            self.events = Arc::new(SortedMap(out));
        }
    }

    /// Joins the other state's variables into this one's.
    fn join_frames(&mut self, other: &State) {
        let frames = Arc::make_mut(&mut self.frames);
        for (id, frame) in other.frames.iter() {
            match frames.get_mut(id) {
                Some(mine) if Arc::ptr_eq(mine, frame) => {}
                Some(mine) => {
                    let mine = Arc::make_mut(mine);
                    for (sym, v) in frame.vars.iter() {
                        match mine.vars.get_mut(sym) {
                            Some(m) => m.join_in(v),
                            None => {
                                mine.vars.insert(*sym, v.join(&Val::Undef));
                            }
                        }
                    }
                    for (sym, m) in mine.vars.iter_mut() {
                        if !frame.vars.contains_key(sym) {
                            m.join_in(&Val::Undef);
                        }
                    }
                }
                None => {
                    frames.insert(*id, frame.clone());
                }
            }
        }
    }

    /// Joins the other state's objects into this one's: both lists are sorted by id, so one
    /// pass over the two.
    fn join_heap(&mut self, other: &State, conds: &mut JoinConds) {
        // A placeholder while the list is rebuilt (a clone of an `Arc`, no allocation).
        let mine = match Arc::try_unwrap(std::mem::replace(&mut self.heap, other.heap.clone())) {
            Ok(mine) => mine.0,
            Err(shared) => shared.0.clone(),
        };
        let mut heap = Vec::with_capacity(mine.len().max(other.heap.len()));
        let mut theirs = other.heap.0.iter().peekable();
        for (id, mut object) in mine {
            while let Some(object) = theirs.next_if(|(o, _)| *o < id) {
                heap.push(only_theirs(object, conds));
            }
            match theirs.next_if(|(o, _)| *o == id) {
                Some((_, other)) if !Arc::ptr_eq(&object, other) => {
                    Arc::make_mut(&mut object).join(other, conds);
                }
                None => {
                    // An object made on this path only: its properties exist on this path.
                    for p in &mut Arc::make_mut(&mut object).props {
                        p.presence = conds.on_self(&p.presence);
                    }
                }
                _ => {}
            }
            heap.push((id, object));
        }
        for object in theirs {
            heap.push(only_theirs(object, conds));
        }
        self.heap = Arc::new(SortedMap(heap));
    }
}

/// The order of two event keys, as `Ord` gives it; keys naming one shared text at one site
/// (the usual case: both paths descend from the state that recorded the event) compare equal
/// without reading the text.
fn event_order(a: &(EventKind, Site), b: &(EventKind, Site)) -> std::cmp::Ordering {
    let same_text = match (&a.0, &b.0) {
        (EventKind::AttrRead(x), EventKind::AttrRead(y))
        | (EventKind::AttrWrite(x), EventKind::AttrWrite(y)) => Arc::ptr_eq(x, y),
        _ => false,
    };
    if same_text && a.1 == b.1 {
        std::cmp::Ordering::Equal
    } else {
        a.cmp(b)
    }
}

/// An object made on the other path only, as the joined state holds it: its properties exist
/// on that path.
fn only_theirs((id, object): &(ObjId, Arc<Object>), conds: &mut JoinConds) -> (ObjId, Arc<Object>) {
    let mut object = (**object).clone();
    for p in &mut object.props {
        p.presence = conds.on_other(&p.presence);
    }
    (*id, Arc::new(object))
}

/// A map sorted by key in one vector: the objects, frames, variables and events of a state.
/// A state is cloned at every undecidable branch: a vector clones in one allocation where a
/// B-tree allocates each node, two states join in one pass over both, and iterating goes in
/// key order as a B-tree's does.
#[derive(Debug)]
pub struct SortedMap<K, V>(Vec<(K, V)>);

/// By object, frame or variable id. Ids come from counters, so an insert is nearly always a
/// push.
pub type IdMap<V> = SortedMap<u32, V>;

impl<K: Clone, V: Clone> Clone for SortedMap<K, V> {
    /// A map is copied to be changed (a forked state's objects or variables): the copy has room
    /// for a few more entries, so that the first insert does not move it.
    fn clone(&self) -> Self {
        let mut items = Vec::with_capacity(self.0.len() + 4);
        items.extend_from_slice(&self.0);
        SortedMap(items)
    }
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap(Vec::new())
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    fn find(&self, key: &K) -> Result<usize, usize> {
        match self.0.last() {
            Some((last, _)) if last < key => Err(self.0.len()),
            _ => self.0.binary_search_by(|(k, _)| k.cmp(key)),
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|at| &self.0[at].1)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.find(key).ok().map(|at| &mut self.0[at].1)
    }

    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (key, value));
                None
            }
        }
    }

    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// In the order of keys.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter().map(|(key, value)| (key, value))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&K, &mut V)> {
        self.0.iter_mut().map(|(key, value)| (&*key, value))
    }
}

/// As a `BTreeMap` collects: sorted by key, the last value of a key kept.
impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut items: Vec<(K, V)> = items.into_iter().collect();
        items.sort_by(|(a, _), (b, _)| a.cmp(b));
        let mut map: Vec<(K, V)> = Vec::with_capacity(items.len());
        for (key, value) in items {
            match map.last_mut() {
                Some((last, kept)) if *last == key => *kept = value,
                _ => map.push((key, value)),
            }
        }
        SortedMap(map)
    }
}

/// The presence conditions of one [`State::join`]: a property's condition on the joined state
/// is its condition on each side under that side's path condition. Many properties share one
/// condition (written on the same path), so each product and union is made once per join.
struct JoinConds {
    pc_self: Cond,
    pc_other: Cond,
    on_self: Vec<(Cond, Cond)>,
    on_other: Vec<(Cond, Cond)>,
    either: Vec<((Cond, Cond), Cond)>,
}

impl JoinConds {
    /// Past this many distinct conditions, a lookup would cost more than it saves.
    const MEMO: usize = 16;

    fn new(pc_self: Cond, pc_other: Cond) -> JoinConds {
        JoinConds {
            pc_self,
            pc_other,
            on_self: Vec::new(),
            on_other: Vec::new(),
            either: Vec::new(),
        }
    }

    fn on_self(&mut self, presence: &Cond) -> Cond {
        memo_and(&mut self.on_self, presence, &self.pc_self)
    }

    fn on_other(&mut self, presence: &Cond) -> Cond {
        memo_and(&mut self.on_other, presence, &self.pc_other)
    }

    /// `(mine ∧ pc_self) ∨ (theirs ∧ pc_other)`.
    fn either(&mut self, mine: &Cond, theirs: &Cond) -> Cond {
        let a = self.on_self(mine);
        let b = self.on_other(theirs);
        if let Some((_, joined)) = self.either.iter().find(|((x, y), _)| *x == a && *y == b) {
            return joined.clone();
        }
        let joined = a.or(&b);
        if self.either.len() < Self::MEMO {
            self.either.push(((a, b), joined.clone()));
        }
        joined
    }
}

fn memo_and(memo: &mut Vec<(Cond, Cond)>, presence: &Cond, pc: &Cond) -> Cond {
    if let Some((_, product)) = memo.iter().find(|(p, _)| p == presence) {
        return product.clone();
    }
    let product = presence.and_cond(pc);
    if memo.len() < JoinConds::MEMO {
        memo.push((presence.clone(), product.clone()));
    }
    product
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The events of a state, from (kind, text, span start, condition) picks: a few shared
    /// texts, so that keys repeat across the two sides, and conditions on two branches.
    fn events_of(picks: &[(u8, u8, u8, u8)], texts: &[Text]) -> Arc<SortedMap<(EventKind, Site), Cond>> {
        let conds = [
            Cond::always(),
            Cond::always().and((1, true)),
            Cond::always().and((1, false)),
            Cond::always().and((2, true)),
        ];
        Arc::new(
            picks
                .iter()
                .map(|&(kind, text, at, cond)| {
                    let text = texts[usize::from(text) % texts.len()].clone();
                    let kind = match kind % 4 {
                        0 => EventKind::Mfa,
                        1 => EventKind::Redirect,
                        2 => EventKind::AttrRead(text),
                        _ => EventKind::AttrWrite(text),
                    };
                    let site = Site {
                        script: 0,
                        span: Span::new(usize::from(at % 6), usize::from(at % 6) + 1),
                    };
                    ((kind, site), conds[usize::from(cond) % conds.len()].clone())
                })
                .collect(),
        )
    }

    proptest::proptest! {
        #[test]
        fn joined_events_are_each_key_under_either_condition(
            mine in proptest::collection::vec((0u8..4, 0u8..3, 0u8..6, 0u8..4), 0..12),
            theirs in proptest::collection::vec((0u8..4, 0u8..3, 0u8..6, 0u8..4), 0..12),
            fresh_texts in proptest::bool::ANY,
        ) {
            let texts: Vec<Text> = ["app_metadata.plan", "email", "user_metadata.x"].map(Text::from).to_vec();
            // The other side's texts are the same words in other allocations, or the same ones.
            let other_texts: Vec<Text> = if fresh_texts {
                texts.iter().map(|t| Text::from(&**t)).collect()
            } else {
                texts.clone()
            };
            let mut state = State::new();
            state.events = events_of(&mine, &texts);
            let mut other = state.clone();
            other.events = events_of(&theirs, &other_texts);
            let mut expected: std::collections::BTreeMap<(EventKind, Site), Cond> =
                state.events.iter().map(|(k, c)| (k.clone(), c.clone())).collect();
            for (key, cond) in other.events.iter() {
                let joined = match expected.get(key) {
                    Some(c) if c == cond => c.clone(),
                    Some(c) => c.or(cond),
                    None => cond.clone(),
                };
                expected.insert(key.clone(), joined);
            }
            state.join_events(&other);
            let got: Vec<_> = state.events.iter().map(|(k, c)| (k.clone(), c.clone())).collect();
            let expected: Vec<_> = expected.into_iter().collect();
            proptest::prop_assert_eq!(got, expected);
        }
    }

    #[test]
    fn conditions_merge_complementary_branches() {
        let a = Cond::always().and((1, true));
        let b = Cond::always().and((1, false));
        assert!(a.or(&b).is_always());
        let c = Cond::always().and((1, true)).and((2, true));
        assert!(c.implies(&a));
        assert!(!a.implies(&c));
        assert!(Cond::always().and((1, true)).and((1, false)).is_never());
    }

    /// `and_cond` and `or` without their shortcuts: the product and union, simplified.
    fn product(a: &Cond, b: &Cond) -> Cond {
        let mut out = Cond::never();
        for conj in b.0.iter() {
            let mut part = a.clone();
            for lit in conj {
                part = part.and(*lit);
            }
            out = union(&out, &part);
        }
        out
    }

    fn union(a: &Cond, b: &Cond) -> Cond {
        let mut all = (*a.0).clone();
        all.extend(b.0.iter().cloned());
        Cond(Arc::new(all)).simplified()
    }

    #[test]
    fn shortcuts_give_what_the_product_and_union_give() {
        // Conditions over three branches, from single literals up, and the two constants.
        let mut conds = vec![Cond::always(), Cond::never()];
        for branch in 1..=3 {
            for outcome in [true, false] {
                conds.push(Cond::always().and((branch, outcome)));
            }
        }
        for round in 0..2 {
            let known = conds.clone();
            for (i, a) in known.iter().enumerate() {
                for b in &known[i..] {
                    conds.push(if round == 0 { union(a, b) } else { product(a, b) });
                }
            }
            conds.sort();
            conds.dedup();
        }
        assert!(conds.len() > 20, "{} conditions", conds.len());
        for a in &conds {
            for b in &conds {
                assert_eq!(a.and_cond(b), product(a, b), "{a:?} and {b:?}");
                assert_eq!(a.or(b), union(a, b), "{a:?} or {b:?}");
            }
        }
    }

    #[test]
    fn values_join_into_bounded_alternatives() {
        let v = Val::str("a").join(&Val::str("b"));
        assert_eq!(v.alts().len(), 2);
        let many = (0..10).fold(Val::str("https://x.com/0"), |acc, i| {
            acc.join(&Val::Str(format!("https://x.com/{i}").into()))
        });
        assert_eq!(many.known_prefix().as_deref(), Some("https://x.com/"));
        assert!(matches!(many, Val::Prefix(..)));
    }

    #[test]
    fn numbers_print_as_javascript_does() {
        assert_eq!(number_text(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(number_text(1e21), "1e+21");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(f64::NAN), "NaN");
        assert_eq!(number_text(5.0), "5");
    }

    #[test]
    fn unknown_properties_are_worded_and_compared_by_their_words() {
        let opaque = |what: What| {
            Arc::new(Opaque {
                what,
                attr: None,
                truthy: None,
            })
        };
        let body = opaque("the result of request.get()".into());
        let items = opaque(What::member(
            &opaque(What::member(&body, "data".into())),
            "items".into(),
        ));
        assert_eq!(items.what.to_string(), "the result of request.get().data.items");
        // The same words made another way (a text, another chain) are the same value.
        let text: What = "the result of request.get().data.items".into();
        assert_eq!(items.what, text);
        assert_eq!(text, items.what);
        let again = What::member(&opaque(What::member(&body, "data".into())), "items".into());
        assert_eq!(items.what, again);
        let other = What::member(&opaque(What::member(&body, "data".into())), "item".into());
        assert_ne!(items.what, other);
        assert_ne!(items.what, What::from("the result of request.get().data"));
        // A long chain is worded once every few links, so no chain is deep.
        let mut at = body.clone();
        for _ in 0..1000 {
            at = opaque(What::member(&at, "a".into()));
        }
        let mut links = 0;
        let mut what = &at.what;
        while let What::Member(base, _) = what {
            links += 1;
            what = &base.what;
        }
        assert!(links <= What::MOST_LINKS, "{links}");
        assert_eq!(
            at.what.to_string(),
            format!("the result of request.get(){}", ".a".repeat(1000))
        );
    }

    #[test]
    fn results_of_unknown_calls_are_worded_around_their_callee() {
        let opaque = |what: What| {
            Arc::new(Opaque {
                what,
                attr: None,
                truthy: None,
            })
        };
        let request = opaque("request".into());
        // `request.get().data.items()`
        let get = opaque(What::member(&request, "get".into()));
        let data = opaque(What::member(&opaque(What::call(&get)), "data".into()));
        let items = What::call(&opaque(What::member(&data, "items".into())));
        let words = "the result of the result of request.get().data.items()";
        assert_eq!(items.to_string(), words);
        assert_eq!(items, What::from(words));
        assert_eq!(What::from(words), items);
        assert_ne!(items, What::member(&data, "items".into()));
        assert_ne!(What::call(&get), What::member(&get, "()".into()));
        // Calls count as links: alternating calls and members stay shallow too.
        let mut at = request.clone();
        for _ in 0..500 {
            at = opaque(What::call(&opaque(What::member(&at, "a".into()))));
        }
        assert!(at.what.links() <= What::MOST_LINKS);
        let expected = format!("{}request{}", "the result of ".repeat(500), ".a()".repeat(500));
        assert_eq!(at.what.to_string(), expected);
    }
}
