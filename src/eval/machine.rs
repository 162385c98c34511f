//! The interpreter core: JavaScript semantics over the abstract domain.
//!
//! [`Machine`] runs a lowered [`Program`] statement by statement on a [`State`]. Where a test
//! cannot be decided it forks the state, runs both sides, and joins them where the paths meet
//! (after the `if`, at the end of a `switch`, at a loop exit, at a function return). Control
//! that leaves normal flow — `return`, `break`, `continue`, `throw` — moves the state into the
//! nearest [`Collector`] of the right kind, where it is joined with the other states that
//! arrived there. Ending a login (a rule's `callback`, `api.access.deny`, an uncaught throw)
//! records a [`Terminal`] and ends the path.
//!
//! Closures capture their defining frame; identifiers were resolved to declarations when the
//! script was lowered (`oxc_semantic`), so a reference finds its own variable, never a caller's.
//! Every run has a step budget and size bounds; hitting one is recorded in
//! [`Machine::bounds`] with the place it happened, and the result is marked incomplete.
//!
//! The Auth0 host objects (`user`, `context`, `event`, `api`, `callback`) are in
//! [`super::host`]; this file knows only JavaScript.

use std::sync::Arc;

use super::domain::{
    BranchId, Closure, Cond, DynWrite, EventKind, FactText, Frame, FrameId, ObjId, ObjKind, Object, Opaque,
    Prop, Rest, Site, State, Tail, Val, What, number_text, same_fact,
};
use crate::js::ir::{
    Arg, AssignOp, BinaryOp, DeclKind, Expr, ExprKind, ForTarget, LogicalOp, MemberProp, Param, Pattern,
    Program, Prop as IrProp, PropKey, Stmt, Text, UnaryOp, Var,
};
use crate::source::Span;

/// Most statements and expressions evaluated in one script run.
pub const STEP_BUDGET: usize = 100_000;
/// Deepest call nesting followed.
pub const CALL_DEPTH: usize = 32;
/// How many runs of one function may be under way at once when it calls itself again from a
/// callback the evaluator runs with unknown arguments (see [`Machine::call_closure`]).
pub const RECURSION: usize = 3;
/// In [`Machine::active`]: a callback run with unknown arguments starts here.
const CALLBACK: usize = usize::MAX;
/// Longest known array a loop unrolls; longer ones are summarised.
pub const UNROLL_LIMIT: usize = 256;
/// Iterations of a loop whose end cannot be decided before its values are widened.
pub const UNDECIDED_ITERATIONS: usize = 2;
/// Most objects one run allocates.
pub const MAX_OBJECTS: usize = 20_000;
/// Most elements or properties one object holds.
pub const MAX_ENTRIES: usize = 4_096;

/// What a branch point is, for describing conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchKind {
    /// A test (`if`, `? :`, `&&`...) at the span.
    Test,
    /// A function handed to a call claimlint does not follow: it may run.
    Callback,
    /// The expression at the span may throw.
    Throws,
    /// Another turn of the loop whose body starts at the span.
    LoopTurn,
    /// Which of several objects the write at the span goes to.
    Target,
    /// Which of several objects the spread at the span copies.
    Spread,
}

/// Why a run stopped short of the whole script, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    pub site: Site,
    pub what: String,
}

/// How a path ended the login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// Tokens are issued (a rule's `callback(null, …)`, an action that returns).
    Issued,
    /// The login fails here (`callback(err)`, `api.access.deny`, an uncaught throw).
    Denied,
    /// The script ended without completing the login (a rule that never calls back).
    Unfinished,
}

#[derive(Debug, Clone)]
pub struct Terminal {
    pub ending: Ending,
    pub state: State,
    pub site: Site,
}

#[derive(Debug, Clone, PartialEq)]
enum Abrupt {
    Return,
    Break(Option<Text>),
    Continue(Option<Text>),
    Throw,
}

#[derive(Debug, Clone, PartialEq)]
enum CollectorKind {
    Function,
    Loop(Vec<Text>),
    Switch(Vec<Text>),
    Label(Text),
    Catch,
    Finally,
}

/// Where abrupt completions of one construct gather.
#[derive(Debug)]
struct Collector {
    kind: CollectorKind,
    arrived: Vec<(Abrupt, State, Val)>,
}

/// The interpreter for one script run.
pub struct Machine {
    /// Index of the script, for sites.
    pub script: u32,
    pub steps: usize,
    pub budget: usize,
    pub bounds: Vec<Bound>,
    pub terminals: Vec<Terminal>,
    /// What each branch point is, and where: for proofs' conditions in words. Ids are handed
    /// out in order from 1, so branch `id` is at `id - 1` (see [`Machine::branch`]).
    branches: Vec<(BranchKind, Span)>,
    next_obj: ObjId,
    next_frame: FrameId,
    next_branch: BranchId,
    collectors: Vec<Collector>,
    depth: usize,
    /// The functions under way, innermost last, by address, with [`CALLBACK`] where a callback
    /// run with unknown arguments starts.
    active: Vec<usize>,
    /// The global object (assigned globals, `exports`, `module`, host globals).
    pub global: ObjId,
    pub host: super::host::Host,
    /// Set once the budget is spent: every path then stops.
    pub exhausted: bool,
    pending_labels: Vec<Text>,
    /// Where the arguments of the call being made are written.
    pub arg_spans: Vec<Span>,
    /// Set while a comparison operand is read: a login fact read now is handed out as
    /// [`Val::Fact`] (see [`Machine::eval_operand`]).
    pub raw_fact: bool,
    /// Set while evaluating the arguments of a call that ignores them: host objects do not
    /// keep the properties read (a later read of a login fact must be recorded again).
    pub unobserved: bool,
    /// Set while copying the unnamed rest of a source whose named members were already joined
    /// into the target's properties (`Object.assign`): the write with an unknown name that
    /// stands for the rest then leaves those properties as they are.
    pub named_members_copied: bool,
}

impl Machine {
    pub fn new(script: u32, host: super::host::Host) -> Machine {
        Machine {
            script,
            steps: 0,
            budget: STEP_BUDGET,
            bounds: Vec::new(),
            terminals: Vec::new(),
            branches: Vec::new(),
            next_obj: 1,
            next_frame: 1,
            next_branch: 1,
            collectors: Vec::new(),
            depth: 0,
            active: Vec::new(),
            global: 0,
            host,
            exhausted: false,
            pending_labels: Vec::new(),
            arg_spans: Vec::new(),
            raw_fact: false,
            unobserved: false,
            named_members_copied: false,
        }
    }

    pub fn site(&self, span: Span) -> Site {
        Site {
            script: self.script,
            span,
        }
    }

    fn bound(&mut self, span: Span, what: impl Into<String>) {
        let site = self.site(span);
        let what = what.into();
        if !self.bounds.iter().any(|b| b.site == site && b.what == what) {
            self.bounds.push(Bound { site, what });
        }
    }

    fn tick(&mut self, span: Span) -> bool {
        if self.exhausted {
            return false;
        }
        self.steps += 1;
        if self.steps > self.budget {
            self.exhausted = true;
            self.bound(span, "the step budget ran out");
            return false;
        }
        true
    }

    // ---- heap ------------------------------------------------------------------------------

    pub fn alloc(&mut self, st: &mut State, object: Object) -> Val {
        if st.heap.len() >= MAX_OBJECTS {
            return Val::unknown("an object (too many objects)");
        }
        let id = self.next_obj;
        self.next_obj += 1;
        Arc::make_mut(&mut st.heap).insert(id, Arc::new(object));
        Val::Obj(id)
    }

    pub fn alloc_array(&mut self, st: &mut State, items: Vec<Val>) -> Val {
        self.alloc(st, Object::array(items))
    }

    fn new_frame(&mut self, st: &mut State, parent: Option<FrameId>, declared: &[u32]) -> FrameId {
        let id = self.next_frame;
        self.next_frame += 1;
        let vars = declared.iter().map(|s| (*s, Val::Undef)).collect();
        Arc::make_mut(&mut st.frames).insert(id, Arc::new(Frame { parent, vars }));
        id
    }

    /// A new branch point. Forking copies the state, and joining walks it: that work counts
    /// against the step budget, so a script of thousands of branches cannot run for minutes.
    fn new_branch(&mut self, st: &State, span: Span) -> BranchId {
        self.new_branch_of(st, BranchKind::Test, span)
    }

    fn new_branch_of(&mut self, st: &State, kind: BranchKind, span: Span) -> BranchId {
        self.steps += st.events.len() / 8 + st.heap.len() / 4 + st.frames.len() / 4;
        let id = self.next_branch;
        self.next_branch += 1;
        self.branches.push((kind, span));
        id
    }

    /// What branch point `id` is, and where.
    pub fn branch(&self, id: BranchId) -> Option<(BranchKind, Span)> {
        self.branches.get(id.checked_sub(1)? as usize).copied()
    }

    // ---- variables -------------------------------------------------------------------------

    /// A variable's value, with any fact text in it made concrete.
    fn lookup(&self, st: &State, env: FrameId, sym: u32) -> Option<Val> {
        self.lookup_raw(st, env, sym).map(Val::concrete)
    }

    /// A variable's value as it is stored: it may be a [`Val::Fact`].
    fn lookup_raw(&self, st: &State, env: FrameId, sym: u32) -> Option<Val> {
        let mut at = Some(env);
        let mut hops = 0;
        while let Some(id) = at {
            let frame = st.frames.get(&id)?;
            if let Some(v) = frame.vars.get(&sym) {
                return Some(v.clone());
            }
            at = frame.parent;
            hops += 1;
            if hops > 1_000 {
                return None;
            }
        }
        None
    }

    fn store(&mut self, st: &mut State, env: FrameId, sym: u32, value: Val) {
        let mut at = Some(env);
        let mut hops = 0;
        while let Some(id) = at {
            let Some(frame) = st.frames.get(&id) else { break };
            if frame.vars.contains_key(&sym) {
                if let Some(frame) = Arc::make_mut(&mut st.frames).get_mut(&id) {
                    Arc::make_mut(frame).vars.insert(sym, value);
                }
                return;
            }
            at = frame.parent;
            hops += 1;
            if hops > 1_000 {
                break;
            }
        }
        // Not declared in any enclosing frame (should not happen): keep it in the current one.
        if let Some(frame) = Arc::make_mut(&mut st.frames).get_mut(&env) {
            Arc::make_mut(frame).vars.insert(sym, value);
        }
    }

    fn global_get(&mut self, st: &mut State, name: &str) -> Val {
        if let Some(obj) = st.obj(self.global)
            && let Some(p) = obj.prop(name)
        {
            return p.value.clone();
        }
        match name {
            "undefined" => Val::Undef,
            "NaN" => Val::Num(f64::NAN),
            "Infinity" => Val::Num(f64::INFINITY),
            "Object" | "JSON" | "Math" | "Array" | "String" | "Number" | "Boolean" | "parseInt"
            | "parseFloat" | "isNaN" | "console" | "Error" | "TypeError" | "RangeError"
            | "UnauthorizedError" | "Promise" | "encodeURIComponent" | "decodeURIComponent" | "encodeURI"
            | "Symbol" | "Date" | "require" | "Buffer" | "setTimeout" | "Set" => Val::Native(name.into()),
            _ => Val::unknown(format!("the global `{name}`")),
        }
    }

    fn global_set(&mut self, st: &mut State, name: &str, value: Val, span: Span) {
        let global = Val::Obj(self.global);
        self.set(st, &global, &Val::str(name), value, span);
    }

    // ---- programs and functions ------------------------------------------------------------

    /// Runs the top level of a program; returns its frame.
    pub fn run_program(&mut self, st: &mut State, program: &Program) -> FrameId {
        let frame = self.new_frame(st, None, &program.declared);
        for (sym, function) in &program.hoisted {
            let closure = Val::Func(Closure {
                function: function.clone(),
                env: frame,
                this: None,
            });
            self.store(st, frame, *sym, closure);
        }
        self.collectors.push(Collector {
            kind: CollectorKind::Function,
            arrived: Vec::new(),
        });
        self.exec_block(st, &program.body, frame);
        let collector = self.collectors.pop();
        // A top-level throw ends the run: the script fails to load.
        for (abrupt, state, _) in collector.map(|c| c.arrived).unwrap_or_default() {
            if abrupt == Abrupt::Throw {
                self.terminal(state, Ending::Denied, Span::default());
            } else {
                st.join(&state);
            }
        }
        frame
    }

    /// Ends a path the step budget cut: what it did so far is kept as a path that issues
    /// tokens (the run is marked incomplete), rather than lost.
    fn cut(&mut self, st: &mut State, span: Span) {
        if st.alive && self.host.kind != super::host::ScriptKind::Database {
            let state = st.clone();
            self.terminal(state, Ending::Issued, span);
        }
        st.alive = false;
    }

    /// Ends the login on this path.
    pub fn terminal(&mut self, state: State, ending: Ending, span: Span) {
        if !state.alive {
            return;
        }
        let site = self.site(span);
        self.terminals.push(Terminal { ending, state, site });
    }

    /// Calls `callee` with `this` and `args`; the result, with `st` the state after the call.
    pub fn call(&mut self, st: &mut State, callee: &Val, this: Val, args: Vec<Val>, span: Span) -> Val {
        if !st.alive {
            return Val::Undef;
        }
        let alts = callee.alts().to_vec();
        if alts.len() > 1 {
            // Several functions it may be: call each on its own path.
            let mut out: Option<(State, Val)> = None;
            for alt in alts {
                let mut s = st.clone();
                let v = self.call(&mut s, &alt, this.clone(), args.clone(), span);
                out = Some(match out {
                    None => (s, v),
                    Some((mut acc, av)) => {
                        let joined = if acc.alive && s.alive {
                            av.join(&v)
                        } else if s.alive {
                            v
                        } else {
                            av
                        };
                        acc.join(&s);
                        (acc, joined)
                    }
                });
            }
            return match out {
                Some((s, v)) => {
                    *st = s;
                    v
                }
                None => Val::Undef,
            };
        }
        match callee {
            Val::Func(closure) => self.call_closure(st, closure, this, args, span),
            Val::Native(path) => {
                let path = path.clone();
                self.call_native(st, &path, this, args, span)
            }
            Val::Unknown(base) => self.call_unknown_as(st, What::call(base), args, span),
            other => self.call_unknown(st, format_args!("{}()", other.described()), args, span),
        }
    }

    /// A call claimlint cannot follow: functions handed to it may run, once, with unknown
    /// arguments, or not at all; its result is unknown.
    pub fn call_unknown(
        &mut self,
        st: &mut State,
        what: impl std::fmt::Display,
        args: Vec<Val>,
        span: Span,
    ) -> Val {
        self.call_unknown_as(st, format!("the result of {what}").into(), args, span)
    }

    /// As [`Machine::call_unknown`], its result being `what`.
    fn call_unknown_as(&mut self, st: &mut State, what: What, args: Vec<Val>, span: Span) -> Val {
        for arg in &args {
            if matches!(arg, Val::Func(_)) {
                self.maybe_run(st, arg, span);
            }
        }
        let taint = args.iter().find_map(Val::attribute);
        Val::Unknown(Arc::new(Opaque {
            what,
            attr: taint,
            truthy: None,
        }))
    }

    /// Runs `function` on a forked path with unknown arguments, and joins it back: it may run.
    pub fn maybe_run(&mut self, st: &mut State, function: &Val, span: Span) {
        let Val::Func(closure) = function else { return };
        let branch = self.new_branch_of(st, BranchKind::Callback, span);
        let mut ran = st.clone();
        ran.pc = ran.pc.and((branch, true));
        let args: Vec<Val> = closure
            .function
            .params
            .iter()
            .map(|_| Val::unknown("an argument of a callback"))
            .collect();
        self.active.push(CALLBACK);
        self.call_closure(&mut ran, closure, Val::Undef, args, span);
        self.active.pop();
        st.pc = st.pc.and((branch, false));
        st.join(&ran);
    }

    /// Calls `function` with `args` on a forked path, and joins it back: the call may happen.
    pub fn maybe_call(&mut self, st: &mut State, function: &Val, args: Vec<Val>, span: Span) {
        let branch = self.new_branch_of(st, BranchKind::Callback, span);
        let mut ran = st.clone();
        ran.pc = ran.pc.and((branch, true));
        self.active.push(CALLBACK);
        self.call(&mut ran, function, Val::Undef, args, span);
        self.active.pop();
        st.pc = st.pc.and((branch, false));
        st.join(&ran);
    }

    /// Whether running `function` (by address) now would be its [`RECURSION`]th run under way,
    /// each one entered from a callback run with unknown arguments inside the one before.
    fn reenters_through_callback(&self, function: usize) -> bool {
        let mut runs = 0;
        let mut callback_since = false;
        for &k in self.active.iter().rev() {
            if k == CALLBACK {
                callback_since = true;
            } else if k == function {
                if !callback_since {
                    return false;
                }
                runs += 1;
                callback_since = false;
            }
        }
        runs + 1 >= RECURSION
    }

    pub fn call_closure(
        &mut self,
        st: &mut State,
        closure: &Closure,
        this: Val,
        args: Vec<Val>,
        span: Span,
    ) -> Val {
        if self.depth >= CALL_DEPTH {
            self.bound(span, "calls nest too deeply here; the callee was not followed");
            return self.call_unknown(st, "a deeply nested call", args, span);
        }
        let key = Arc::as_ptr(&closure.function).addr();
        if !self.closed() && self.reenters_through_callback(key) {
            // A function that calls itself again from a callback run with unknown arguments (a
            // request retried from its own callback) explores nothing new at a third level: the
            // callback's paths are those its outer runs explored, with their effects, so the
            // call is not followed again and nothing is missing from the evaluation. Direct
            // recursion, whose arguments may make progress, is followed to the depth bound.
            return self.call_unknown(st, "a recursive call", args, span);
        }
        let function = closure.function.clone();
        let frame = self.new_frame(st, Some(closure.env), &function.declared);
        if let Some((sym, _)) = &function.name {
            self.store(st, frame, *sym, Val::Func(closure.clone()));
        }
        for (sym, f) in &function.hoisted {
            let c = Val::Func(Closure {
                function: f.clone(),
                env: frame,
                this: None,
            });
            self.store(st, frame, *sym, c);
        }
        let mut args = args.into_iter();
        for param in &function.params {
            match param {
                Param::Pattern(p) => {
                    let v = args.next().unwrap_or(Val::Undef);
                    self.bind_pattern(st, p, v, Some(frame), frame);
                }
                Param::Rest(p) => {
                    let restv: Vec<Val> = args.by_ref().collect();
                    let arr = self.alloc_array(st, restv);
                    self.bind_pattern(st, p, arr, Some(frame), frame);
                }
            }
        }
        let this = if function.is_arrow {
            closure.this.as_deref().cloned().unwrap_or(Val::Undef)
        } else {
            this
        };
        self.depth += 1;
        self.active.push(key);
        self.collectors.push(Collector {
            kind: CollectorKind::Function,
            arrived: Vec::new(),
        });
        let saved_this = std::mem::replace(&mut self.host.this, this);
        let mut result = Val::Undef;
        match &function.expression {
            Some(e) => result = self.eval(st, e, frame),
            None => self.exec_block(st, &function.body, frame),
        }
        self.host.this = saved_this;
        self.depth -= 1;
        self.active.pop();
        let arrived = self.collectors.pop().map(|c| c.arrived).unwrap_or_default();
        let mut throws: Option<(State, Val)> = None;
        let mut returned = st.alive;
        for (abrupt, state, value) in arrived {
            match abrupt {
                Abrupt::Return => {
                    result = if returned { result.join(&value) } else { value };
                    returned = true;
                    st.join(&state);
                }
                Abrupt::Throw => {
                    throws = Some(match throws {
                        None => (state, value),
                        Some((mut s, v)) => {
                            s.join(&state);
                            (s, v.join(&value))
                        }
                    });
                }
                // A stray break/continue: treat as the end of the function.
                _ => st.join(&state),
            }
        }
        if let Some((state, value)) = throws {
            self.throw(state, value);
        }
        if function.is_async && !st.alive {
            return Val::Undef;
        }
        result
    }

    // ---- abrupt completion -----------------------------------------------------------------

    fn abrupt(&mut self, st: &mut State, abrupt: Abrupt, value: Val) {
        if !st.alive {
            return;
        }
        let index = self.collectors.iter().rposition(|c| match (&abrupt, &c.kind) {
            (_, CollectorKind::Finally) => true,
            (Abrupt::Return, CollectorKind::Function) => true,
            (Abrupt::Throw, CollectorKind::Function | CollectorKind::Catch) => true,
            (Abrupt::Break(None), CollectorKind::Loop(_) | CollectorKind::Switch(_)) => true,
            (Abrupt::Break(Some(l)), CollectorKind::Loop(ls) | CollectorKind::Switch(ls)) => ls.contains(l),
            (Abrupt::Break(Some(l)), CollectorKind::Label(x)) => l == x,
            (Abrupt::Continue(None), CollectorKind::Loop(_)) => true,
            (Abrupt::Continue(Some(l)), CollectorKind::Loop(ls)) => ls.contains(l),
            (_, CollectorKind::Function) => true,
            _ => false,
        });
        match index {
            Some(i) => {
                let arrived = &mut self.collectors[i].arrived;
                match arrived.iter_mut().find(|(a, _, _)| *a == abrupt) {
                    Some((_, s, v)) => {
                        v.join_in(&value);
                        s.join(st);
                    }
                    None => arrived.push((abrupt, st.clone(), value)),
                }
            }
            None if abrupt == Abrupt::Throw => {
                let state = st.clone();
                self.terminal(state, Ending::Denied, Span::default());
            }
            None => {}
        }
        st.alive = false;
    }

    /// A `TypeError` (reading or writing a property of `null`/`undefined`): this path throws.
    fn type_error(&mut self, st: &mut State) {
        let mut thrown = st.clone();
        let error = self.alloc(&mut thrown, error_object());
        self.throw(thrown, error);
        st.alive = false;
    }

    /// Forks `st`: on one side `thrown` (a copy of it) throws `value`, the other goes on.
    pub fn throw_maybe(&mut self, st: &mut State, mut thrown: State, value: Val, span: Span) {
        let branch = self.new_branch_of(st, BranchKind::Throws, span);
        thrown.pc = st.pc.and((branch, true));
        st.pc = st.pc.and((branch, false));
        self.throw(thrown, value);
    }

    pub fn throw(&mut self, mut st: State, value: Val) {
        self.abrupt(&mut st, Abrupt::Throw, value);
    }

    /// Takes the arrivals of the innermost collector.
    fn pop_collector(&mut self) -> Vec<(Abrupt, State, Val)> {
        self.collectors.pop().map(|c| c.arrived).unwrap_or_default()
    }

    // ---- statements ------------------------------------------------------------------------

    pub fn exec_block(&mut self, st: &mut State, stmts: &[Stmt], env: FrameId) {
        for stmt in stmts {
            if !st.alive {
                return;
            }
            self.exec(st, stmt, env);
        }
    }

    fn exec(&mut self, st: &mut State, stmt: &Stmt, env: FrameId) {
        if !st.alive {
            return;
        }
        if !self.tick(stmt_span(stmt)) {
            self.cut(st, stmt_span(stmt));
            return;
        }
        let labels = std::mem::take(&mut self.pending_labels);
        match stmt {
            Stmt::Expr(e) => match &e.kind {
                // `context.idToken[name] = context.clientName;`: nothing uses the value but the
                // write, so a login fact may reach a token unlooked-at (see `Prop::fact`).
                ExprKind::Assign {
                    op: AssignOp::Assign,
                    target,
                    value,
                } if matches!(**target, Pattern::Member(_)) => {
                    if self.enter(st, e.span).is_none() {
                        self.eval_assign(st, AssignOp::Assign, target, value, env, e.span, true);
                    }
                }
                _ => {
                    self.eval(st, e, env);
                }
            },
            Stmt::Decl {
                kind, pattern, init, ..
            } => {
                let value = match init {
                    // `const app = context.clientName` keeps the fact for later comparisons.
                    Some(e) if matches!(pattern, Pattern::Bind { .. }) => self.eval_operand(st, e, env),
                    Some(e) => self.eval(st, e, env),
                    // `var x;` keeps a hoisted value; `let x;` is undefined.
                    None if *kind == DeclKind::Var => return,
                    None => Val::Undef,
                };
                self.bind_pattern(st, pattern, value, Some(env), env);
            }
            Stmt::FunctionDecl { sym, function } => {
                let c = Val::Func(Closure {
                    function: function.clone(),
                    env,
                    this: None,
                });
                self.store(st, env, *sym, c);
            }
            Stmt::If {
                test,
                then,
                otherwise,
            } => {
                let v = self.eval(st, test, env);
                let (mut yes, mut no) = self.fork(st, &v, test.span);
                if truthy(&v).is_none() {
                    if let Some(s) = yes.as_mut() {
                        self.refine(s, test, true, env);
                    }
                    if let Some(s) = no.as_mut() {
                        self.refine(s, test, false, env);
                    }
                }
                if let Some(s) = yes.as_mut() {
                    self.exec(s, then, env);
                }
                if let (Some(s), Some(other)) = (no.as_mut(), otherwise) {
                    self.exec(s, other, env);
                }
                *st = merge(yes, no);
            }
            Stmt::Block(stmts) => self.exec_block(st, stmts, env),
            Stmt::Return { value, span } => {
                let v = match value {
                    Some(e) => self.eval(st, e, env),
                    None => Val::Undef,
                };
                if st.alive
                    && self.host.handler.is_some()
                    && self.active.last() == self.host.handler.as_ref()
                    && !self.host.returns.contains(span)
                {
                    self.host.returns.push(*span);
                }
                self.abrupt(st, Abrupt::Return, v);
            }
            Stmt::Throw { value, .. } => {
                let v = self.eval(st, value, env);
                self.abrupt(st, Abrupt::Throw, v);
            }
            Stmt::Try {
                block,
                param,
                handler,
                finalizer,
            } => self.exec_try(
                st,
                block,
                param.as_ref(),
                handler.as_deref(),
                finalizer.as_deref(),
                env,
            ),
            Stmt::Switch { discriminant, cases } => {
                let d = self.eval_operand(st, discriminant, env);
                self.collectors.push(Collector {
                    kind: CollectorKind::Switch(labels),
                    arrived: Vec::new(),
                });
                // `matched` is the state in which some earlier case matched (fall-through);
                // `pending` is the state in which none has matched yet.
                let mut matched: Option<State> = None;
                let mut pending: Option<State> = Some(st.clone());
                for case in cases.iter() {
                    if let Some(test) = &case.test
                        && let Some(mut p) = pending.take()
                    {
                        let tv = self.eval(&mut p, test, env);
                        let eq = match self.compare_fact(&d, &tv) {
                            Some(equal) => Val::Bool(equal),
                            None => strict_equals_val(&d.clone().concrete(), &tv),
                        };
                        let (yes, no) = self.fork(&mut p, &eq, test.span);
                        pending = no;
                        matched = match (matched, yes) {
                            (Some(mut m), Some(y)) => {
                                m.join(&y);
                                Some(m)
                            }
                            (m, y) => m.or(y),
                        };
                    }
                    if let Some(m) = matched.as_mut() {
                        self.exec_block(m, &case.body, env);
                        if !m.alive {
                            matched = None;
                        }
                    }
                }
                // No case matched: run from `default`, falling through what follows it.
                if let Some(start) = cases.iter().position(|c| c.test.is_none())
                    && let Some(mut p) = pending.take()
                {
                    for case in &cases[start..] {
                        self.exec_block(&mut p, &case.body, env);
                    }
                    pending = Some(p);
                }
                let mut out = merge(matched, pending);
                for (abrupt, state, value) in self.pop_collector() {
                    match abrupt {
                        Abrupt::Break(_) => out.join(&state),
                        other => {
                            let mut s = state;
                            self.abrupt(&mut s, other, value);
                        }
                    }
                }
                *st = out;
            }
            Stmt::While { test, body, do_while } => {
                self.exec_loop(st, env, labels, None, Some(test), None, body, *do_while, &[]);
            }
            Stmt::For {
                init,
                test,
                update,
                body,
            } => {
                if let Some(init) = init {
                    self.exec(st, init, env);
                }
                let fresh = match init.as_deref() {
                    Some(Stmt::Decl { kind, pattern, .. }) if *kind != DeclKind::Var => pattern_syms(pattern),
                    _ => Vec::new(),
                };
                self.exec_loop(
                    st,
                    env,
                    labels,
                    None,
                    test.as_ref(),
                    update.as_ref(),
                    body,
                    false,
                    &fresh,
                );
            }
            Stmt::ForOf {
                left,
                iterable: over,
                body,
            }
            | Stmt::ForIn {
                left,
                object: over,
                body,
            } => {
                let keys = matches!(stmt, Stmt::ForIn { .. });
                let it = self.eval(st, over, env);
                let items = self.iteration_items(st, &it, keys, over.span);
                let fresh = for_syms(left);
                self.exec_loop(
                    st,
                    env,
                    labels,
                    Some((left, items)),
                    None,
                    None,
                    body,
                    false,
                    &fresh,
                );
            }
            Stmt::Break { label, .. } => self.abrupt(st, Abrupt::Break(label.clone()), Val::Undef),
            Stmt::Continue { label, .. } => self.abrupt(st, Abrupt::Continue(label.clone()), Val::Undef),
            Stmt::Labeled { label, body } => {
                let is_loop = matches!(
                    **body,
                    Stmt::While { .. }
                        | Stmt::For { .. }
                        | Stmt::ForIn { .. }
                        | Stmt::ForOf { .. }
                        | Stmt::Switch { .. }
                );
                if is_loop {
                    let mut labels = labels;
                    labels.push(label.clone());
                    self.pending_labels = labels;
                    self.exec(st, body, env);
                } else {
                    self.collectors.push(Collector {
                        kind: CollectorKind::Label(label.clone()),
                        arrived: Vec::new(),
                    });
                    self.exec(st, body, env);
                    for (abrupt, state, value) in self.pop_collector() {
                        match abrupt {
                            Abrupt::Break(Some(l)) if &l == label => st.join(&state),
                            other => {
                                let mut s = state;
                                self.abrupt(&mut s, other, value);
                            }
                        }
                    }
                }
            }
            Stmt::Empty | Stmt::Unknown { .. } => {}
        }
    }

    fn exec_try(
        &mut self,
        st: &mut State,
        block: &[Stmt],
        param: Option<&Pattern>,
        handler: Option<&[Stmt]>,
        finalizer: Option<&[Stmt]>,
        env: FrameId,
    ) {
        if finalizer.is_some() {
            self.collectors.push(Collector {
                kind: CollectorKind::Finally,
                arrived: Vec::new(),
            });
        }
        if let Some(handler) = handler {
            self.collectors.push(Collector {
                kind: CollectorKind::Catch,
                arrived: Vec::new(),
            });
            self.exec_block(st, block, env);
            let mut thrown: Option<(State, Val)> = None;
            for (abrupt, state, value) in self.pop_collector() {
                match abrupt {
                    Abrupt::Throw => {
                        thrown = Some(match thrown {
                            None => (state, value),
                            Some((mut s, v)) => {
                                s.join(&state);
                                (s, v.join(&value))
                            }
                        })
                    }
                    other => {
                        let mut s = state;
                        self.abrupt(&mut s, other, value);
                    }
                }
            }
            if let Some((mut s, value)) = thrown {
                s.alive = true;
                if let Some(p) = param {
                    self.bind_pattern(&mut s, p, value, Some(env), env);
                }
                self.exec_block(&mut s, handler, env);
                st.join(&s);
            }
        } else {
            self.exec_block(st, block, env);
        }
        if let Some(finalizer) = finalizer {
            let arrived = self.pop_collector();
            self.exec_block(st, finalizer, env);
            for (abrupt, mut state, value) in arrived {
                state.alive = true;
                self.exec_block(&mut state, finalizer, env);
                self.abrupt(&mut state, abrupt, value);
            }
        }
    }

    /// What a `for…of` (or, with `keys`, a `for…in`) iterates over: the items when they are
    /// known, or `None` with a stand-in item when they are not.
    fn iteration_items(&mut self, st: &mut State, it: &Val, keys: bool, span: Span) -> Result<Vec<Val>, Val> {
        let Val::Obj(id) = it else {
            if let (Val::Str(s), false) = (it, keys)
                && s.chars().count() <= UNROLL_LIMIT
            {
                return Ok(s.chars().map(|c| Val::Str(c.to_string().into())).collect());
            }
            return Err(Val::derived(format!("an item of {}", it.described()), it));
        };
        let Some(object) = st.obj(*id) else {
            return Err(Val::unknown("an item"));
        };
        let known: Vec<Val> = if keys {
            if object.kind == ObjKind::Array {
                (0..object.items.len())
                    .map(|i| Val::Str(i.to_string().into()))
                    .collect()
            } else {
                object
                    .ordered_props()
                    .iter()
                    .map(|p| Val::Str(p.key.clone()))
                    .collect()
            }
        } else if object.kind == ObjKind::Array {
            object.items.clone()
        } else {
            return Err(Val::unknown("an item of an object that is not a list"));
        };
        let closed = object.is_closed() && object.props.iter().all(|p| p.presence.is_always());
        if !closed {
            return Err(Val::alternatives(known).join(&Val::unknown("an item")));
        }
        if known.len() > UNROLL_LIMIT {
            self.bound(
                span,
                format!("a loop over {} items was summarised, not unrolled", known.len()),
            );
            return Err(Val::alternatives(known));
        }
        Ok(known)
    }

    /// One loop: `items` for `for…of`/`for…in`, or `test`/`update` for the others.
    #[allow(clippy::too_many_arguments)]
    fn exec_loop(
        &mut self,
        st: &mut State,
        env: FrameId,
        labels: Vec<Text>,
        items: Option<(&ForTarget, Result<Vec<Val>, Val>)>,
        test: Option<&Expr>,
        update: Option<&Expr>,
        body: &Stmt,
        do_while: bool,
        fresh: &[u32],
    ) {
        let outer = env;
        let mut env = env;
        let mut exits: Option<State> = None;
        let mut broke: Option<State> = None;
        let entry = st.clone();
        let (target, mut known, summary) = match items {
            Some((target, Ok(list))) => (Some(target), Some(list.into_iter()), None),
            Some((target, Err(item))) => (Some(target), None, Some(item)),
            None => (None, None, None),
        };
        let mut undecided = 0usize;
        let mut decided = 0usize;
        let mut summarising = false;
        let mut first = true;
        loop {
            if !st.alive || self.exhausted {
                break;
            }
            // `let` bindings of the loop are fresh in every iteration (closures made in one keep
            // that iteration's values), copied from the iteration before; a `for (let …;;)`
            // copies before its update runs, as JavaScript does.
            if !fresh.is_empty() && (first || update.is_none()) {
                env = self.fresh_frame(st, outer, env, fresh);
            }
            // Decide whether another iteration runs.
            if let Some(list) = known.as_mut() {
                match list.next() {
                    Some(item) => {
                        if let Some(t) = target {
                            self.bind_for(st, t, item, env);
                        }
                    }
                    None => {
                        join_into(&mut exits, st);
                        break;
                    }
                }
            } else if let Some(item) = summary.clone() {
                // Unknown items: the body may run any number of times.
                if undecided > UNDECIDED_ITERATIONS {
                    join_into(&mut exits, st);
                    break;
                }
                let branch = self.new_branch_of(st, BranchKind::LoopTurn, body_span(body));
                let mut stop = st.clone();
                stop.pc = stop.pc.and((branch, false));
                join_into(&mut exits, &stop);
                st.pc = st.pc.and((branch, true));
                if undecided == UNDECIDED_ITERATIONS {
                    widen(st, &entry);
                }
                undecided += 1;
                if let Some(t) = target {
                    self.bind_for(st, t, item, env);
                }
            } else if !(do_while && first) {
                let mut v = match test {
                    Some(t) => self.eval(st, t, env),
                    None => Val::Bool(true),
                };
                if summarising {
                    v = Val::unknown("whether the loop goes on");
                } else if truthy(&v) == Some(true) {
                    decided += 1;
                    if decided > UNROLL_LIMIT {
                        // Too many turns to follow one by one: start again from the loop's entry
                        // with what the turns change made unknown, and let the body run any number
                        // of times.
                        self.bound(
                            body_span(body),
                            format!("a loop ran more than {UNROLL_LIMIT} times and was summarised"),
                        );
                        let changed = std::mem::replace(st, entry.clone());
                        widen(st, &changed);
                        for sym in fresh {
                            self.store(st, outer, *sym, Val::unknown("a loop counter"));
                        }
                        exits = None;
                        broke = None;
                        summarising = true;
                        env = outer;
                        first = true;
                        continue;
                    }
                }
                let (yes, no) = self.fork(st, &v, test.map_or(body_span(body), |t| t.span));
                if let Some(n) = no {
                    join_into(&mut exits, &n);
                }
                match yes {
                    Some(y) => *st = y,
                    None => break,
                }
                if truthy(&v).is_none() {
                    if undecided > UNDECIDED_ITERATIONS {
                        break;
                    }
                    if undecided == UNDECIDED_ITERATIONS {
                        widen(st, &entry);
                    }
                    undecided += 1;
                }
            }
            first = false;
            self.collectors.push(Collector {
                kind: CollectorKind::Loop(labels.clone()),
                arrived: Vec::new(),
            });
            self.exec(st, body, env);
            for (abrupt, state, value) in self.pop_collector() {
                match abrupt {
                    Abrupt::Break(l) if l.as_ref().is_none_or(|l| labels.contains(l)) => {
                        join_into(&mut broke, &state)
                    }
                    Abrupt::Continue(l) if l.as_ref().is_none_or(|l| labels.contains(l)) => st.join(&state),
                    other => {
                        let mut s = state;
                        self.abrupt(&mut s, other, value);
                    }
                }
            }
            if let Some(u) = update {
                if !fresh.is_empty() {
                    env = self.fresh_frame(st, outer, env, fresh);
                }
                self.eval(st, u, env);
            }
        }
        let mut out = exits.unwrap_or_else(|| {
            let mut dead = entry.clone();
            dead.alive = false;
            dead
        });
        if let Some(b) = broke {
            out.join(&b);
        }
        if self.exhausted {
            out.alive = false;
        }
        *st = out;
    }

    /// A new frame for one loop iteration, holding `syms` copied from `from`.
    fn fresh_frame(&mut self, st: &mut State, outer: FrameId, from: FrameId, syms: &[u32]) -> FrameId {
        let frame = self.new_frame(st, Some(outer), syms);
        for sym in syms {
            if let Some(v) = self.lookup_raw(st, from, *sym) {
                self.store(st, frame, *sym, v);
            }
        }
        frame
    }

    fn bind_for(&mut self, st: &mut State, target: &ForTarget, item: Val, env: FrameId) {
        match target {
            ForTarget::Decl(_, p) => self.bind_pattern(st, p, item, Some(env), env),
            ForTarget::Assign(p) => self.bind_pattern(st, p, item, None, env),
        }
    }

    /// Narrows the variables a test names to the alternatives that agree with its outcome:
    /// after `if (ns)` the empty-string alternative of `ns` is gone from the branch.
    fn refine(&mut self, st: &mut State, test: &Expr, holds: bool, env: FrameId) {
        match &test.kind {
            ExprKind::Ident {
                var: Var::Local(sym), ..
            } => {
                let Some(v) = self.lookup(st, env, *sym) else {
                    return;
                };
                // Alternatives the test rules out go; unknown ones that stay are known to
                // pass it (`if (err) return callback(err)` hands back a truthy error).
                let kept: Vec<Val> = v
                    .alts()
                    .iter()
                    .filter(|a| truthy(a) != Some(!holds))
                    .map(|a| match a {
                        Val::Unknown(o) if o.truthy.is_none() => Val::Unknown(Arc::new(Opaque {
                            truthy: Some(holds),
                            ..Opaque::clone(o)
                        })),
                        other => other.clone(),
                    })
                    .collect();
                let narrowed =
                    kept.len() < v.alts().len() || kept.iter().zip(v.alts()).any(|(k, a)| !k.same(a));
                if !kept.is_empty() && narrowed {
                    self.store(st, env, *sym, Val::alternatives(kept));
                }
            }
            ExprKind::Unary {
                op: UnaryOp::Not,
                argument,
            } => self.refine(st, argument, !holds, env),
            // `a && b` holds only when both hold; `a || b` fails only when both fail.
            ExprKind::Logical {
                op: LogicalOp::And,
                left,
                right,
            } if holds => {
                self.refine(st, left, true, env);
                self.refine(st, right, true, env);
            }
            ExprKind::Logical {
                op: LogicalOp::Or,
                left,
                right,
            } if !holds => {
                self.refine(st, left, false, env);
                self.refine(st, right, false, env);
            }
            _ => {}
        }
    }

    /// Splits `st` on the truthiness of `v`: the states where it holds and where it does not.
    pub fn fork(&mut self, st: &mut State, v: &Val, span: Span) -> (Option<State>, Option<State>) {
        if !st.alive {
            return (None, None);
        }
        match truthy(v) {
            Some(true) => (Some(st.clone()), None),
            Some(false) => (None, Some(st.clone())),
            None => {
                let branch = self.new_branch(st, span);
                let mut yes = st.clone();
                yes.pc = yes.pc.and((branch, true));
                let mut no = st.clone();
                no.pc = no.pc.and((branch, false));
                (Some(yes), Some(no))
            }
        }
    }

    // ---- patterns --------------------------------------------------------------------------

    /// Binds (`declare` = the frame) or assigns a pattern.
    pub fn bind_pattern(
        &mut self,
        st: &mut State,
        pattern: &Pattern,
        value: Val,
        declare: Option<FrameId>,
        env: FrameId,
    ) {
        if !st.alive {
            return;
        }
        match pattern {
            Pattern::Bind { sym, .. } => match declare {
                Some(frame) => self.store(st, frame, *sym, value),
                None => self.store(st, env, *sym, value),
            },
            Pattern::Global { name, span } => self.global_set(st, name, value, *span),
            Pattern::Member(expr) => {
                if let ExprKind::Member { object, property, .. } = &expr.kind {
                    let o = self.eval(st, object, env);
                    let k = self.member_key(st, property, env);
                    self.set(st, &o, &k, value, key_span(expr.span, property));
                }
            }
            Pattern::Default { pattern, default } => {
                let value = match &value {
                    Val::Undef => self.eval(st, default, env),
                    v if v.alts().iter().any(|a| matches!(a, Val::Undef))
                        || matches!(v, Val::Attr(_) | Val::Unknown(_)) =>
                    {
                        let d = self.eval(st, default, env);
                        let defined: Vec<Val> = v
                            .alts()
                            .iter()
                            .filter(|a| !matches!(a, Val::Undef))
                            .cloned()
                            .collect();
                        Val::alternatives(defined).join(&d)
                    }
                    _ => value,
                };
                self.bind_pattern(st, pattern, value, declare, env);
            }
            Pattern::Object { props, rest, span } => {
                let mut used: Vec<Text> = Vec::new();
                for prop in props {
                    let key = match &prop.key {
                        PropKey::Static(k) => Val::Str(k.clone()),
                        PropKey::Computed(e) => self.eval(st, e, env),
                    };
                    if let Some(k) = key.exact_text() {
                        used.push(k);
                    }
                    let v = self.get(st, &value, &key, *span);
                    self.bind_pattern(st, &prop.value, v, declare, env);
                }
                if let Some(rest) = rest {
                    let copy = self.copy_props(st, &value, &used, *span);
                    self.bind_pattern(st, rest, copy, declare, env);
                }
            }
            Pattern::Array { items, rest, span } => {
                for (i, item) in items.iter().enumerate() {
                    let v = self.get(st, &value, &Val::Num(i as f64), *span);
                    if let Some(p) = item {
                        self.bind_pattern(st, p, v, declare, env);
                    }
                }
                if let Some(rest) = rest {
                    let tail = match &value {
                        Val::Obj(id) => st
                            .obj(*id)
                            .filter(|o| o.kind == ObjKind::Array && !o.open_items)
                            .map(|o| o.items.iter().skip(items.len()).cloned().collect::<Vec<_>>()),
                        _ => None,
                    };
                    let v = match tail {
                        Some(t) => self.alloc_array(st, t),
                        None => Val::derived("the rest of a list", &value),
                    };
                    self.bind_pattern(st, rest, v, declare, env);
                }
            }
            Pattern::Unknown(_) => {}
        }
    }

    /// A new object with the properties of `value` other than `except` (object rest, spread).
    fn copy_props(&mut self, st: &mut State, value: &Val, except: &[Text], span: Span) -> Val {
        let mut object = Object::plain(Rest::Closed);
        self.spread_into(st, &mut object, value, except, span);
        self.alloc(st, object)
    }

    /// Copies the own enumerable properties of `value` into `object` (`{ ...value }` at `span`).
    pub fn spread_into(
        &mut self,
        st: &mut State,
        object: &mut Object,
        value: &Val,
        except: &[Text],
        span: Span,
    ) {
        if value.alts().len() > 1 {
            // Which of the values is spread is not known (`{ tier: 'free', ...extra }` where
            // `extra` is `{}` on one path and `{ tier: 'pro' }` on another): the object is what
            // spreading one of them makes, each under a branch of its own.
            let results: Vec<Object> = value
                .alts()
                .iter()
                .map(|alt| {
                    let mut copy = object.clone();
                    self.spread_into(st, &mut copy, alt, except, span);
                    copy
                })
                .collect();
            let mut results = results.into_iter();
            if let Some(mut joined) = results.next() {
                for other in results {
                    let branch = self.new_branch_of(st, BranchKind::Spread, span);
                    either_object(&mut joined, &other, branch);
                }
                *object = joined;
            }
            return;
        }
        for alt in value.alts() {
            match alt {
                Val::Obj(id) => {
                    let Some(src) = st.obj(*id).cloned() else { continue };
                    if src.kind == ObjKind::Array {
                        for (i, item) in src.items.iter().enumerate() {
                            put(
                                object,
                                i.to_string().into(),
                                item.clone(),
                                None,
                                Cond::always(),
                                true,
                            );
                        }
                    }
                    for p in src.ordered_props() {
                        if except.contains(&p.key) {
                            continue;
                        }
                        put(
                            object,
                            p.key.clone(),
                            p.value.clone(),
                            p.site,
                            p.presence.clone(),
                            true,
                        );
                    }
                    for w in &src.dyn_writes {
                        object.dyn_writes.push(w.clone());
                    }
                    if src.rest != Rest::Closed {
                        // What the spread object may hold overrides the properties before it.
                        may_be_replaced_from(object, alt, &src);
                    }
                    match &src.rest {
                        Rest::Closed => {}
                        Rest::Attr(path) => {
                            object.rest = Rest::unknown(format!("the attributes of user.{path}"))
                        }
                        Rest::Unknown(what) => object.rest = Rest::Unknown(what.clone()),
                        Rest::Host(path) => {
                            object.rest = Rest::unknown(format!("the other properties of {path}"))
                        }
                    }
                }
                Val::Str(s) => {
                    for (i, c) in s.chars().enumerate().take(MAX_ENTRIES) {
                        put(
                            object,
                            i.to_string().into(),
                            Val::Str(c.to_string().into()),
                            None,
                            Cond::always(),
                            true,
                        );
                    }
                }
                Val::Undef | Val::Null | Val::Bool(_) | Val::Num(_) | Val::Func(_) | Val::Native(_) => {}
                other => {
                    // Its properties are not known, and any may override one before it.
                    may_be_replaced(object, other, |_| false);
                    object.rest = Rest::unknown(format!("the properties of {}", other.described()));
                }
            }
        }
    }

    // ---- properties ------------------------------------------------------------------------

    fn member_key(&mut self, st: &mut State, property: &MemberProp, env: FrameId) -> Val {
        match property {
            MemberProp::Static(name) => Val::Str(name.clone()),
            MemberProp::Computed(e) => self.eval(st, e, env),
        }
    }

    /// Reads `object[key]`.
    pub fn get(&mut self, st: &mut State, object: &Val, key: &Val, span: Span) -> Val {
        if object.alts().len() > 1 {
            // A `null`/`undefined` alternative throws on its own path; the others go on.
            let (nullish, defined): (Vec<Val>, Vec<Val>) = object
                .alts()
                .iter()
                .cloned()
                .partition(|o| matches!(o, Val::Undef | Val::Null));
            if !nullish.is_empty() {
                let mut thrown = st.clone();
                let error = self.alloc(&mut thrown, error_object());
                self.throw_maybe(st, thrown, error, span);
            }
            let alts: Vec<Val> = defined.iter().map(|o| self.get(st, o, key, span)).collect();
            return alts.into_iter().reduce(|a, b| a.join(&b)).unwrap_or(Val::Undef);
        }
        let name = match key {
            Val::Str(_) | Val::Num(_) | Val::Bool(_) | Val::Null | Val::Undef => key.exact_text(),
            _ => None,
        };
        match object {
            Val::Obj(id) => {
                let id = *id;
                // A read with a known key looks at that property only (see `Prop::fact`); a
                // token object's facts are looked at by any read.
                let Some(obj) = st.obj_unread(id) else {
                    return Val::unknown("a property");
                };
                if obj.sink.is_some() || name.is_none() {
                    obj.mark_facts_observed();
                }
                let Some(name) = name else {
                    // An unknown key: any of the values, or something unknown.
                    let mut v = Val::derived(format!("a property of {}", object.described()), key);
                    if obj.kind == ObjKind::Array && !obj.items.is_empty() && obj.items.len() <= 8 {
                        v = Val::alternatives(obj.items.clone()).join(&Val::Undef);
                    }
                    return v;
                };
                if obj.kind == ObjKind::Array {
                    if &*name == "length" {
                        return if obj.open_items {
                            Val::unknown("the length of a list")
                        } else {
                            Val::Num(obj.items.len() as f64)
                        };
                    }
                    if let Ok(i) = name.parse::<usize>()
                        && i.to_string() == *name
                    {
                        return match obj.items.get(i) {
                            Some(v) => v.clone(),
                            None if obj.open_items => Val::unknown("an item of a list"),
                            None => Val::Undef,
                        };
                    }
                }
                if obj.kind == ObjKind::Set && &*name == "size" {
                    return if obj.open_items {
                        Val::unknown("the size of a set")
                    } else {
                        Val::Num(obj.items.len() as f64)
                    };
                }
                if obj.kind == ObjKind::Error && &*name == "message" && obj.prop("message").is_none() {
                    return Val::str("");
                }
                if let Some(p) = obj.prop(&name) {
                    let v = p.value.clone();
                    let fact = p.fact.clone().filter(|f| !f.observed());
                    if p.presence.is_always() || st.pc.implies(&p.presence) {
                        match fact {
                            // Kept or compared, as the fact itself would be.
                            Some(fact) if self.raw_fact => return Val::Fact(fact),
                            Some(fact) => fact.mark_observed(),
                            None => {}
                        }
                        return v;
                    }
                    // Set on some paths only.
                    if let Some(fact) = fact {
                        fact.mark_observed();
                    }
                    let fallback = self.rest_value(st, id, &name);
                    return v.join(&fallback);
                }
                let dynamic = !obj.dyn_writes.is_empty();
                let closed_rest = obj.rest == Rest::Closed;
                let v = self.rest_value(st, id, &name);
                self.record_read(st, &v, span);
                if dynamic && closed_rest {
                    return v.join(&Val::unknown(format!(
                        "`{name}`, which a write with an unknown name may set"
                    )));
                }
                v
            }
            Val::Str(s) => match name.as_deref() {
                Some("length") => Val::Num(s.encode_utf16().count() as f64),
                Some(n) => match n.parse::<usize>() {
                    Ok(i) => s
                        .encode_utf16()
                        .nth(i)
                        .map_or(Val::Undef, |c| Val::Str(String::from_utf16_lossy(&[c]).into())),
                    Err(_) => Val::Native(format!("String.prototype.{n}").into()),
                },
                None => Val::unknown("a character"),
            },
            Val::Native(path) => match name {
                Some(n) => self.native_member(st, path, &n),
                None => Val::unknown(format!("a property of {path}")),
            },
            Val::Attr(path) => match name {
                Some(n) => {
                    let v = Val::Attr(format!("{path}.{n}").into());
                    self.record_read(st, &v, span);
                    v
                }
                None => Val::derived(format!("a property of user.{path}"), object),
            },
            Val::Undef | Val::Null => {
                self.type_error(st);
                Val::Undef
            }
            Val::Bool(_) | Val::Num(_) => Val::Undef,
            Val::Func(_) => match name.as_deref() {
                Some("name") => Val::unknown("a function's name"),
                Some("length") => Val::unknown("a function's length"),
                _ => Val::Undef,
            },
            // A property of an unknown value: worded when shown (see `What`).
            Val::Unknown(base) => Val::Unknown(Arc::new(Opaque {
                what: What::member(base, name.unwrap_or_else(|| "[…]".into())),
                attr: base.attr.clone(),
                truthy: None,
            })),
            other => Val::derived(
                format!("{}.{}", other.described(), name.as_deref().unwrap_or("[…]")),
                other,
            ),
        }
    }

    /// The value of a property an object does not hold, by its rest.
    fn rest_value(&mut self, st: &mut State, id: ObjId, name: &Text) -> Val {
        let Some(obj) = st.obj(id) else {
            return Val::Undef;
        };
        match obj.rest.clone() {
            Rest::Closed => Val::Undef,
            Rest::Unknown(base) => Val::Unknown(Arc::new(Opaque {
                what: What::member(&base, name.clone()),
                attr: None,
                truthy: None,
            })),
            Rest::Attr(path) => {
                let full: Text = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}").into()
                };
                Val::Attr(full)
            }
            Rest::Host(path) => self.host_property(st, id, &path, name),
        }
    }

    /// Records a read of a user attribute.
    pub fn record_read(&mut self, st: &mut State, v: &Val, span: Span) {
        if let Val::Attr(path) = v {
            let site = self.site(span);
            st.event(EventKind::AttrRead(path.clone()), site);
        }
    }

    /// Writes `object[key] = value`. A [`Val::Fact`] value is written as its text; a token
    /// object keeps it unlooked-at ([`super::domain::Prop::fact`]), any other write looks at it.
    pub fn set(&mut self, st: &mut State, object: &Val, key: &Val, value: Val, span: Span) {
        let (value, mut fact) = match value {
            Val::Fact(fact) if !fact.observed() => (Val::Str(fact.text.clone()), Some(fact)),
            other => (other.concrete(), None),
        };
        self.set_value(st, object, key, value, span, &mut fact);
        if let Some(fact) = fact {
            fact.mark_observed();
        }
    }

    /// [`Machine::set`] of a plain value; `fact` is taken when the write keeps it unlooked-at.
    fn set_value(
        &mut self,
        st: &mut State,
        object: &Val,
        key: &Val,
        value: Val,
        span: Span,
        fact: &mut Option<Arc<FactText>>,
    ) {
        if !st.alive {
            return;
        }
        let site = self.site(span);
        if object.alts().len() > 1 {
            // `x = x || {}; x.y = v`: one object and otherwise the symbolic value it stands in
            // for. Writing the object for certain (and noting the attribute write) keeps what
            // the script means; forking would make `x.y` look unset on a path it is set on.
            let objects = object.alts().iter().filter(|a| matches!(a, Val::Obj(_))).count();
            let symbolic = object
                .alts()
                .iter()
                .all(|a| matches!(a, Val::Obj(_) | Val::Attr(_) | Val::Unknown(_)));
            if objects == 1 && symbolic {
                for alt in object.alts().to_vec() {
                    self.set(st, &alt, key, value.clone(), span);
                }
                return;
            }
            // Which object is written is not known: each may be.
            for alt in object.alts().to_vec() {
                let branch = self.new_branch_of(st, BranchKind::Target, span);
                let mut s = st.clone();
                s.pc = s.pc.and((branch, true));
                self.set(&mut s, &alt, key, value.clone(), span);
                st.pc = st.pc.and((branch, false));
                st.join(&s);
            }
            return;
        }
        match object {
            Val::Obj(id) => {
                let id = *id;
                if self.host_set(st, id, key, &value, span) {
                    return;
                }
                let pc = st.pc.clone();
                // A write reads nothing of the object's other properties.
                let Some(obj) = st.obj_mut_unread(id) else { return };
                let exact = match key {
                    Val::Str(_) | Val::Num(_) | Val::Bool(_) | Val::Null | Val::Undef => key.exact_text(),
                    _ => None,
                };
                match exact {
                    Some(name) => {
                        if obj.kind == ObjKind::Array {
                            if let Ok(i) = name.parse::<usize>()
                                && i.to_string() == *name
                            {
                                if i < obj.items.len() {
                                    obj.items[i] = value;
                                } else if i < MAX_ENTRIES {
                                    obj.items.resize(i, Val::Undef);
                                    obj.items.push(value);
                                }
                                return;
                            }
                            if &*name == "length" {
                                if let Val::Num(n) = value
                                    && n >= 0.0
                                    && (n as usize) <= obj.items.len()
                                {
                                    obj.items.truncate(n as usize);
                                }
                                return;
                            }
                        }
                        if obj.props.len() >= MAX_ENTRIES && obj.prop(&name).is_none() {
                            return;
                        }
                        put(obj, name.clone(), value, Some(site), pc, true);
                        if fact.is_some()
                            && let Some(p) = obj.props.iter_mut().find(|p| p.key == name)
                        {
                            p.fact = fact.take();
                        }
                    }
                    None => {
                        if obj.sink.is_none() && !self.named_members_copied {
                            may_be_written(obj, key, &value);
                        }
                        if obj.dyn_writes.len() < MAX_ENTRIES {
                            obj.dyn_writes.push(DynWrite {
                                key: key.clone(),
                                value,
                                presence: pc,
                                site,
                            });
                        }
                    }
                }
            }
            Val::Attr(path) => {
                let root: Text = path.split('.').next().unwrap_or("").into();
                st.event(EventKind::AttrWrite(root), site);
            }
            Val::Undef | Val::Null => self.type_error(st),
            _ => {}
        }
    }

    fn delete(&mut self, st: &mut State, object: &Val, key: &Val) {
        let Val::Obj(id) = object else { return };
        let Some(name) = key.exact_text() else { return };
        if let Some(obj) = st.obj_mut_unread(*id) {
            obj.props.retain(|p| p.key != name);
            obj.dyn_writes
                .retain(|w| w.key.exact_text().is_none_or(|k| k != name));
        }
    }

    // ---- expressions -----------------------------------------------------------------------

    /// Counts one evaluation step at `span`: `Some(value)` when the path is dead or the budget
    /// is spent (and the path cut), `None` to go on. No fact is handed out raw past this point.
    fn enter(&mut self, st: &mut State, span: Span) -> Option<Val> {
        self.raw_fact = false;
        if !st.alive {
            return Some(Val::Undef);
        }
        if !self.tick(span) {
            self.cut(st, span);
            return Some(Val::unknown("(the step budget ran out)"));
        }
        None
    }

    pub fn eval(&mut self, st: &mut State, expr: &Expr, env: FrameId) -> Val {
        if let Some(stopped) = self.enter(st, expr.span) {
            return stopped;
        }
        self.eval_kind(st, expr, env).bounded()
    }

    /// Evaluates an expression whose value is only kept in a variable or compared: a login fact
    /// read directly (`context.clientName`) or through a variable holding one stays a
    /// [`Val::Fact`], so the run records what it compared the fact with instead of its value.
    /// Anything else evaluates as [`Machine::eval`] does.
    pub fn eval_operand(&mut self, st: &mut State, expr: &Expr, env: FrameId) -> Val {
        let direct = match &expr.kind {
            ExprKind::Member {
                object,
                property,
                optional: false,
            } => Some((object, property)),
            ExprKind::Ident {
                var: Var::Local(_), ..
            } => None,
            _ => return self.eval(st, expr, env),
        };
        if let Some(stopped) = self.enter(st, expr.span) {
            return stopped;
        }
        match (direct, &expr.kind) {
            (Some((object, property)), _) => {
                let o = self.eval(st, object, env);
                let k = self.member_key(st, property, env);
                self.raw_fact = true;
                let v = self.get(st, &o, &k, expr.span);
                self.raw_fact = false;
                v.bounded()
            }
            (
                None,
                ExprKind::Ident {
                    var: Var::Local(sym),
                    name,
                },
            ) => match self.lookup_raw(st, env, *sym) {
                Some(v @ Val::Fact(_)) => v,
                Some(v) => v.concrete().bounded(),
                None => Val::unknown(format!("`{name}`")),
            },
            _ => self.eval_kind(st, expr, env).bounded(),
        }
    }

    /// `Some(equal)` when one side is a fact text and the other a known string: the comparison
    /// is recorded and the text stays unobserved. `None` otherwise.
    pub fn compare_fact(&mut self, l: &Val, r: &Val) -> Option<bool> {
        let (fact, text) = match (l, r) {
            (Val::Fact(f), Val::Str(t)) | (Val::Str(t), Val::Fact(f)) => (f, t),
            _ => return None,
        };
        self.compared(fact, text);
        Some(fact.text == *text)
    }

    fn eval_kind(&mut self, st: &mut State, expr: &Expr, env: FrameId) -> Val {
        match &expr.kind {
            ExprKind::Str(s) => Val::Str(s.clone()),
            ExprKind::Num(n) => Val::Num(*n),
            ExprKind::Bool(b) => Val::Bool(*b),
            ExprKind::Null => Val::Null,
            ExprKind::Template { quasis, exprs } => {
                let mut acc = Val::Str(quasis.first().cloned().unwrap_or_else(|| "".into()));
                for (i, e) in exprs.iter().enumerate() {
                    let v = self.eval(st, e, env);
                    let s = self.to_string_val(st, &v);
                    acc = concat(&acc, &s);
                    if let Some(q) = quasis.get(i + 1) {
                        acc = concat(&acc, &Val::Str(q.clone()));
                    }
                }
                acc
            }
            ExprKind::Ident { var, name } => match var {
                Var::Local(sym) => match self.lookup(st, env, *sym) {
                    Some(v) => v,
                    None => Val::unknown(format!("`{name}`")),
                },
                Var::Global => self.global_get(st, name),
            },
            ExprKind::This => self.host.this.clone(),
            ExprKind::Member { object, property, .. } => {
                let o = self.eval(st, object, env);
                let k = self.member_key(st, property, env);
                self.get(st, &o, &k, expr.span)
            }
            ExprKind::Chain(inner) => self.eval_chain(st, inner, env).unwrap_or(Val::Undef),
            ExprKind::Call { .. } => self.eval_chain(st, expr, env).unwrap_or(Val::Undef),
            ExprKind::New { callee, args } => {
                let c = self.eval(st, callee, env);
                let args = self.eval_args(st, args, env);
                self.construct(st, &c, args, expr.span)
            }
            ExprKind::Assign { op, target, value } => {
                self.eval_assign(st, *op, target, value, env, expr.span, false)
            }
            ExprKind::Update {
                increment,
                prefix,
                target,
            } => {
                let old = self.read_pattern(st, target, env);
                let n = to_number(&old);
                let new = match n {
                    Some(n) => Val::Num(if *increment { n + 1.0 } else { n - 1.0 }),
                    None => Val::derived("a counter", &old),
                };
                self.bind_pattern(st, target, new.clone(), None, env);
                if *prefix { new } else { n.map_or(old, Val::Num) }
            }
            ExprKind::Unary { op, argument } => {
                if *op == UnaryOp::Delete {
                    if let ExprKind::Member { object, property, .. } = &argument.kind {
                        let o = self.eval(st, object, env);
                        let k = self.member_key(st, property, env);
                        self.delete(st, &o, &k);
                    }
                    return Val::Bool(true);
                }
                if *op == UnaryOp::Typeof
                    && let ExprKind::Ident {
                        var: Var::Global,
                        name,
                    } = &argument.kind
                {
                    let v = self.global_get(st, name);
                    return match v {
                        Val::Unknown(_) => Val::unknown(format!("typeof {name}")),
                        other => type_of(st, &other),
                    };
                }
                let v = self.eval(st, argument, env);
                unary(st, *op, &v)
            }
            ExprKind::Binary { op, left, right }
                if matches!(
                    op,
                    BinaryOp::StrictEq | BinaryOp::StrictNotEq | BinaryOp::LooseEq | BinaryOp::LooseNotEq
                ) =>
            {
                let l = self.eval_operand(st, left, env);
                let r = self.eval_operand(st, right, env);
                if let Some(equal) = self.compare_fact(&l, &r) {
                    let negated = matches!(op, BinaryOp::StrictNotEq | BinaryOp::LooseNotEq);
                    return Val::Bool(equal != negated);
                }
                self.binary(st, *op, &l.concrete(), &r.concrete())
            }
            ExprKind::Binary { op, left, right } => {
                let l = self.eval(st, left, env);
                let r = self.eval(st, right, env);
                self.binary(st, *op, &l, &r)
            }
            ExprKind::Logical { op, left, right } => {
                let l = self.eval(st, left, env);
                self.logical(st, *op, l, right, env)
            }
            ExprKind::Conditional {
                test,
                then,
                otherwise,
            } => {
                let t = self.eval(st, test, env);
                let (yes, no) = self.fork(st, &t, test.span);
                let mut out: Option<(State, Val)> = None;
                for (branch, e) in [(yes, then), (no, otherwise)] {
                    if let Some(mut s) = branch {
                        let v = self.eval(&mut s, e, env);
                        out = Some(join_valued(out, s, v));
                    }
                }
                match out {
                    Some((s, v)) => {
                        *st = s;
                        v
                    }
                    None => Val::Undef,
                }
            }
            ExprKind::Object(props) => {
                let mut object = Object::plain(Rest::Closed);
                for prop in props {
                    match prop {
                        IrProp::KeyValue { key, value, span } => {
                            let k = match key {
                                PropKey::Static(k) => Val::Str(k.clone()),
                                PropKey::Computed(e) => self.eval(st, e, env),
                            };
                            let v = match &value.kind {
                                ExprKind::Function(f) => Val::Func(Closure {
                                    function: f.clone(),
                                    env,
                                    this: Some(Box::new(self.host.this.clone())),
                                }),
                                // A login fact is kept unlooked-at, as in a variable: a
                                // payload built for a webhook does not make the run depend on
                                // the client's name.
                                _ => self.eval_operand(st, value, env),
                            };
                            let (v, mut fact) = match v {
                                Val::Fact(fact) if !fact.observed() => {
                                    (Val::Str(fact.text.clone()), Some(fact))
                                }
                                other => (other.concrete(), None),
                            };
                            let site = self.site(*span);
                            match k.exact_text().filter(|_| k.is_primitive()) {
                                Some(name) => {
                                    put(&mut object, name.clone(), v, Some(site), Cond::always(), true);
                                    if fact.is_some()
                                        && let Some(p) = object.props.iter_mut().find(|p| p.key == name)
                                    {
                                        p.fact = fact.take();
                                    }
                                }
                                None => object.dyn_writes.push(DynWrite {
                                    key: k,
                                    value: v,
                                    presence: Cond::always(),
                                    site,
                                }),
                            }
                            if let Some(fact) = fact {
                                fact.mark_observed();
                            }
                        }
                        IrProp::Spread(e) => {
                            let v = self.eval(st, e, env);
                            self.spread_into(st, &mut object, &v, &[], e.span);
                        }
                        IrProp::Accessor { key, span } => {
                            if let PropKey::Static(k) = key {
                                let site = self.site(*span);
                                put(
                                    &mut object,
                                    k.clone(),
                                    Val::unknown(format!("the getter `{k}`")),
                                    Some(site),
                                    Cond::always(),
                                    true,
                                );
                            }
                        }
                    }
                }
                self.alloc(st, object)
            }
            ExprKind::Array(items) => {
                let mut out = Vec::new();
                let mut open = false;
                for item in items {
                    match item {
                        None => out.push(Val::Undef),
                        Some(Arg::Expr(e)) => {
                            let v = self.eval(st, e, env);
                            out.push(v);
                        }
                        Some(Arg::Spread(e)) => {
                            let v = self.eval(st, e, env);
                            match self.list_items(st, &v) {
                                Some(items) => out.extend(items),
                                None => open = true,
                            }
                        }
                    }
                }
                out.truncate(MAX_ENTRIES);
                let mut object = Object::array(out);
                object.open_items = open;
                self.alloc(st, object)
            }
            ExprKind::Function(f) => Val::Func(Closure {
                function: f.clone(),
                env,
                this: f.is_arrow.then(|| Box::new(self.host.this.clone())),
            }),
            ExprKind::Sequence(items) => {
                let mut last = Val::Undef;
                for e in items {
                    last = self.eval(st, e, env);
                }
                last
            }
            ExprKind::Await(inner) => {
                let v = self.eval(st, inner, env);
                self.awaited(st, v)
            }
            ExprKind::Unknown(what) => Val::unknown(what.clone()),
        }
    }

    /// The value `await v` gives.
    fn awaited(&mut self, st: &mut State, v: Val) -> Val {
        let Val::Obj(id) = &v else { return v };
        let Some(promise) = st.obj(*id).filter(|o| o.kind == ObjKind::Promise) else {
            return v;
        };
        if promise.open_items {
            return Val::unknown("what a promise resolves to");
        }
        match promise.items.first() {
            Some(value) => value.clone(),
            None => {
                // A promise that never settles: this path never goes on.
                let state = st.clone();
                self.terminal(state, Ending::Unfinished, Span::default());
                st.alive = false;
                Val::Undef
            }
        }
    }

    /// Evaluates a member/call chain; `None` when an optional link short-circuits.
    fn eval_chain(&mut self, st: &mut State, expr: &Expr, env: FrameId) -> Option<Val> {
        match &expr.kind {
            ExprKind::Member {
                object,
                property,
                optional,
            } => {
                let o = self.eval_chain(st, object, env)?;
                if *optional {
                    match nullish(&o) {
                        Some(true) => return None,
                        Some(false) => {}
                        None => {
                            // Maybe nullish: the chain may end here.
                            let defined = defined_part(&o);
                            let k = self.member_key(st, property, env);
                            let v = self.get(st, &defined, &k, expr.span);
                            return Some(v.join(&Val::Undef));
                        }
                    }
                }
                let k = self.member_key(st, property, env);
                Some(self.get(st, &o, &k, expr.span))
            }
            ExprKind::Call {
                callee,
                args,
                optional,
            } => {
                let (this, f) = match &callee.kind {
                    ExprKind::Member {
                        object,
                        property,
                        optional: o_opt,
                    } => {
                        let o = self.eval_chain(st, object, env)?;
                        if *o_opt && nullish(&o) == Some(true) {
                            return None;
                        }
                        let k = self.member_key(st, property, env);
                        let f = self.method(st, &o, &k, callee.span);
                        (o, f)
                    }
                    _ => {
                        let f = self.eval_chain(st, callee, env)?;
                        (Val::Undef, f)
                    }
                };
                if *optional && nullish(&f) == Some(true) {
                    return None;
                }
                let spans: Vec<Span> = args
                    .iter()
                    .map(|a| match a {
                        Arg::Expr(e) | Arg::Spread(e) => e.span,
                    })
                    .collect();
                let args = match self.lookup_among_strings(st, &this, &f, args, env) {
                    Some(arg) => vec![arg],
                    None if self.ignores_args(&f) && args.iter().all(pure_arg) => {
                        self.eval_args_unobserved(st, args, env)
                    }
                    None => match (&f, &args[..]) {
                        // `api.idToken.setCustomClaim(name, event.client.name)` keeps its value
                        // for the token only: a login fact may stay unlooked-at.
                        (Val::Native(path), [Arg::Expr(name), Arg::Expr(value)])
                            if path.starts_with("api.") && path.ends_with(".setCustomClaim") =>
                        {
                            let name = self.eval(st, name, env);
                            let value = self.eval_operand(st, value, env);
                            vec![name, value]
                        }
                        _ => self.eval_args(st, args, env),
                    },
                };
                self.arg_spans = spans;
                Some(self.call(st, &f, this, args, expr.span))
            }
            ExprKind::Chain(inner) => Some(self.eval_chain(st, inner, env).unwrap_or(Val::Undef)),
            _ => Some(self.eval(st, expr, env)),
        }
    }

    /// The function `object[key]` names as a method: an own property, or a built-in method of
    /// the value's type (`Native("String.prototype.trim")` bound at call time to `this`).
    fn method(&mut self, st: &mut State, object: &Val, key: &Val, span: Span) -> Val {
        let own = self.get(st, object, key, span);
        match (&own, key.exact_text()) {
            (Val::Undef, Some(name)) | (Val::Unknown(_) | Val::Attr(_), Some(name)) => {
                let builtin = match object.alts().first() {
                    Some(Val::Obj(id)) => match st.obj(*id).map(|o| o.kind) {
                        Some(ObjKind::Array) => Some(format!("Array.prototype.{name}")),
                        Some(ObjKind::Set) => Some(format!("Set.prototype.{name}")),
                        Some(_) => Some(format!("Object.prototype.{name}")),
                        None => None,
                    },
                    Some(Val::Str(_) | Val::Prefix(..)) => Some(format!("String.prototype.{name}")),
                    Some(Val::Num(_)) => Some(format!("Number.prototype.{name}")),
                    Some(Val::Attr(_) | Val::Unknown(_)) if is_string_method(&name) => {
                        Some(format!("String.prototype.{name}"))
                    }
                    Some(Val::Attr(_) | Val::Unknown(_)) if is_array_method(&name) => {
                        Some(format!("Array.prototype.{name}"))
                    }
                    // An unknown promise (`auth0.users.updateAppMetadata(...)`): its handlers
                    // may run, a failure handler with the error it fails with.
                    Some(Val::Unknown(_)) if matches!(&*name, "then" | "catch" | "finally") => {
                        Some(format!("Object.prototype.{name}"))
                    }
                    _ => None,
                };
                match builtin {
                    Some(path) if matches!(own, Val::Undef) || !matches!(object, Val::Obj(_)) => {
                        Val::Native(path.into())
                    }
                    _ => own,
                }
            }
            _ => own,
        }
    }

    /// The argument of `list.indexOf(x)`, `list.includes(x)` or `set.has(x)` on a list of known
    /// strings: a fact text `x` is compared with each of them (the call's result depends on
    /// nothing else) and handed over as its string. `None` for any other call.
    fn lookup_among_strings(
        &mut self,
        st: &mut State,
        this: &Val,
        f: &Val,
        args: &[Arg],
        env: FrameId,
    ) -> Option<Val> {
        let Val::Native(path) = f else {
            return None;
        };
        if !matches!(
            &**path,
            "Array.prototype.indexOf" | "Array.prototype.includes" | "Set.prototype.has"
        ) {
            return None;
        }
        let [Arg::Expr(e)] = args else {
            return None;
        };
        let Val::Obj(id) = this else {
            return None;
        };
        let id = *id;
        let v = self.eval_operand(st, e, env);
        let Val::Fact(fact) = &v else {
            return Some(v.concrete());
        };
        let texts: Option<Vec<Text>> = st.obj(id).filter(|o| !o.open_items).and_then(|o| {
            o.items
                .iter()
                .map(|i| match i {
                    Val::Str(t) => Some(t.clone()),
                    _ => None,
                })
                .collect()
        });
        let Some(texts) = texts else {
            return Some(v.concrete());
        };
        for text in &texts {
            self.compared(fact, text);
        }
        Some(Val::Str(fact.text.clone()))
    }

    /// Whether a call of `f` does the same whatever its arguments: `console` methods, and the
    /// `api` methods the evaluator models as doing nothing (`api.user.setAppMetadata`...), not
    /// `setCustomClaim` nor the platform's signal calls (`api.multifactor.enable('none')`).
    fn ignores_args(&self, f: &Val) -> bool {
        let Val::Native(path) = f else {
            return false;
        };
        if path.starts_with("console.") {
            return true;
        }
        path.starts_with("api.")
            && !path.ends_with(".setCustomClaim")
            && !self
                .host
                .signals
                .iter()
                .any(|s| s.call.as_deref() == Some(&**path))
    }

    /// The arguments of a call that [ignores them](Machine::ignores_args): evaluated (the
    /// attributes they read still count as read) without the login facts in them counting as
    /// looked at. Logging the connection's name, or keeping the client's name in
    /// `app_metadata`, changes nothing a login issues, so such a script is not evaluated again
    /// for every connection or client. Only for arguments without side effects
    /// ([`pure_arg`]): nothing of them outlives the call.
    fn eval_args_unobserved(&mut self, st: &mut State, args: &[Arg], env: FrameId) -> Vec<Val> {
        let reads = self.host.reads.clone();
        let compared = self.host.compared.clone();
        let unobserved: Vec<_> = compared
            .values()
            .filter(|(fact, _)| !fact.observed())
            .map(|(fact, _)| fact.clone())
            .collect();
        let was = std::mem::replace(&mut self.unobserved, true);
        let values = self.eval_args(st, args, env);
        self.unobserved = was;
        // A fact that is an object decides by its members whether the arguments throw
        // (`context.clientMetadata.tier.level`): its read is kept.
        let objects: Vec<_> = self
            .host
            .reads
            .iter()
            .filter(|(fact, _)| fact.is_object())
            .map(|(fact, seen)| (*fact, seen.clone()))
            .collect();
        self.host.reads = reads;
        for (fact, seen) in objects {
            self.host.reads.entry(fact).or_insert(seen);
        }
        self.host.compared = compared;
        for fact in unobserved {
            fact.forget_observed();
        }
        values
    }

    fn eval_args(&mut self, st: &mut State, args: &[Arg], env: FrameId) -> Vec<Val> {
        let mut out = Vec::with_capacity(args.len());
        for arg in args {
            match arg {
                Arg::Expr(e) => {
                    let v = self.eval(st, e, env);
                    out.push(v);
                }
                Arg::Spread(e) => {
                    let v = self.eval(st, e, env);
                    match self.list_items(st, &v) {
                        Some(items) => out.extend(items),
                        None => out.push(Val::derived("spread arguments", &v)),
                    }
                }
            }
        }
        out
    }

    /// The items of a fully known list.
    pub fn list_items(&self, st: &State, v: &Val) -> Option<Vec<Val>> {
        match v {
            Val::Obj(id) => {
                let o = st.obj(*id)?;
                (matches!(o.kind, ObjKind::Array | ObjKind::Set) && !o.open_items).then(|| o.items.clone())
            }
            Val::Str(s) => Some(s.chars().map(|c| Val::Str(c.to_string().into())).collect()),
            _ => None,
        }
    }

    fn read_pattern(&mut self, st: &mut State, target: &Pattern, env: FrameId) -> Val {
        match target {
            Pattern::Bind { sym, name, .. } => self
                .lookup(st, env, *sym)
                .unwrap_or_else(|| Val::unknown(format!("`{name}`"))),
            Pattern::Global { name, .. } => self.global_get(st, name),
            Pattern::Member(e) => self.eval(st, e, env),
            _ => Val::unknown("a destructured value"),
        }
    }

    /// `target op= value`. With `value_unused` (a statement of its own), a plain `=` may write
    /// a login fact's text unlooked-at, and the returned value may be a [`Val::Fact`].
    #[allow(clippy::too_many_arguments)]
    fn eval_assign(
        &mut self,
        st: &mut State,
        op: AssignOp,
        target: &Pattern,
        value: &Expr,
        env: FrameId,
        span: Span,
        value_unused: bool,
    ) -> Val {
        // The member's object and key are evaluated once, before the value.
        let member = match target {
            Pattern::Member(e) => match &e.kind {
                ExprKind::Member { object, property, .. } => {
                    let o = self.eval(st, object, env);
                    let k = self.member_key(st, property, env);
                    Some((o, k, key_span(e.span, property)))
                }
                _ => None,
            },
            _ => None,
        };
        let current = |m: &mut Machine, st: &mut State| match &member {
            Some((o, k, s)) => m.get(st, o, k, *s),
            None => m.read_pattern(st, target, env),
        };
        let new = match op {
            AssignOp::Assign if value_unused => self.eval_operand(st, value, env),
            AssignOp::Assign => self.eval(st, value, env),
            AssignOp::Compound(bop) => {
                let old = current(self, st);
                let r = self.eval(st, value, env);
                self.binary(st, bop, &old, &r)
            }
            AssignOp::Logical(lop) => {
                let old = current(self, st);
                // Only assign on the paths where the operator picks the right side.
                let decided = match lop {
                    LogicalOp::And => truthy(&old),
                    LogicalOp::Or => truthy(&old).map(|b| !b),
                    LogicalOp::Nullish => nullish(&old),
                };
                if decided == Some(false) {
                    return old;
                }
                self.logical(st, lop, old, value, env)
            }
        };
        match member {
            Some((o, k, s)) => {
                self.set(st, &o, &k, new.clone(), s);
            }
            None => self.bind_pattern(st, target, new.clone(), None, env),
        }
        let _ = span;
        new
    }

    fn logical(&mut self, st: &mut State, op: LogicalOp, l: Val, right: &Expr, env: FrameId) -> Val {
        // Which alternatives of `l` pick the right side.
        let picks = |v: &Val| match op {
            LogicalOp::And => truthy(v),
            LogicalOp::Or => truthy(v).map(|b| !b),
            LogicalOp::Nullish => nullish(v),
        };
        let mut kept: Vec<Val> = Vec::new();
        let mut undecided = false;
        let mut right_needed = false;
        for alt in l.alts() {
            match picks(alt) {
                Some(true) => right_needed = true,
                Some(false) => kept.push(alt.clone()),
                None => {
                    undecided = true;
                    // What `&&` keeps of an unknown is its falsy part: as far as later tests
                    // go, `undefined`.
                    kept.push(if op == LogicalOp::And {
                        Val::Undef
                    } else {
                        alt.clone()
                    });
                }
            }
        }
        if !right_needed && !undecided {
            return l;
        }
        if !undecided && kept.is_empty() {
            return self.eval(st, right, env);
        }
        // Some paths take the right side, others keep the left.
        let branch = self.new_branch(st, right.span);
        let mut taken = st.clone();
        taken.pc = taken.pc.and((branch, true));
        let r = self.eval(&mut taken, right, env);
        st.pc = st.pc.and((branch, false));
        let left = match op {
            // What `||` keeps of an unknown is its truthy part; for `&&` its falsy part.
            LogicalOp::Or | LogicalOp::Nullish if undecided => Val::alternatives(kept),
            _ => Val::alternatives(kept),
        };
        let was_alive = st.alive;
        st.join(&taken);
        if !was_alive {
            return r;
        }
        if !taken.alive {
            return left;
        }
        left.join(&r)
    }

    pub fn binary(&mut self, st: &mut State, op: BinaryOp, l: &Val, r: &Val) -> Val {
        // Alternatives: compute for each pair while they are few.
        if l.alts().len() * r.alts().len() > 1 {
            if l.alts().len() * r.alts().len() > 16 {
                return Val::unknown("a computed value");
            }
            let mut out: Option<Val> = None;
            for a in l.alts().to_vec() {
                for b in r.alts().to_vec() {
                    let v = self.binary(st, op, &a, &b);
                    out = Some(match out {
                        None => v,
                        Some(o) => o.join(&v),
                    });
                }
            }
            return out.unwrap_or(Val::Undef);
        }
        match op {
            BinaryOp::StrictEq => strict_equals_val(l, r),
            BinaryOp::StrictNotEq => negate(&strict_equals_val(l, r)),
            BinaryOp::LooseEq | BinaryOp::LooseNotEq => {
                // An object compared with a primitive is compared as its primitive value.
                let convert = |m: &mut Machine, st: &mut State, v: &Val, other: &Val| {
                    if matches!(v, Val::Obj(_))
                        && other.is_primitive()
                        && !matches!(other, Val::Undef | Val::Null)
                    {
                        m.to_primitive(st, v)
                    } else {
                        v.clone()
                    }
                };
                let (a, b) = (convert(self, st, l, r), convert(self, st, r, l));
                let eq = loose_equals(st, &a, &b);
                if op == BinaryOp::LooseEq { eq } else { negate(&eq) }
            }
            BinaryOp::Add => {
                let lp = self.to_primitive(st, l);
                let rp = self.to_primitive(st, r);
                let stringy = |v: &Val| matches!(v, Val::Str(_) | Val::Prefix(..));
                if stringy(&lp) || stringy(&rp) {
                    let a = self.to_string_val(st, &lp);
                    let b = self.to_string_val(st, &rp);
                    return concat(&a, &b);
                }
                match (to_number(&lp), to_number(&rp)) {
                    (Some(a), Some(b)) if lp.is_primitive() && rp.is_primitive() => Val::Num(a + b),
                    _ => {
                        // An unknown plus something: a string or a number.
                        let taint = lp.attribute().or(rp.attribute());
                        Val::Unknown(Arc::new(Opaque {
                            what: format!("{} + {}", lp.described(), rp.described()).into(),
                            attr: taint,
                            truthy: None,
                        }))
                    }
                }
            }
            BinaryOp::Sub
            | BinaryOp::Mul
            | BinaryOp::Div
            | BinaryOp::Rem
            | BinaryOp::Exp
            | BinaryOp::BitAnd
            | BinaryOp::BitOr
            | BinaryOp::BitXor
            | BinaryOp::Shl
            | BinaryOp::Shr
            | BinaryOp::UShr => {
                let (Some(a), Some(b)) = (self.number_of(st, l), self.number_of(st, r)) else {
                    return Val::unknown("a computed number");
                };
                let (ia, ib) = (to_int32(a), to_int32(b));
                Val::Num(match op {
                    BinaryOp::Sub => a - b,
                    BinaryOp::Mul => a * b,
                    BinaryOp::Div => a / b,
                    BinaryOp::Rem => a % b,
                    BinaryOp::Exp => a.powf(b),
                    BinaryOp::BitAnd => f64::from(ia & ib),
                    BinaryOp::BitOr => f64::from(ia | ib),
                    BinaryOp::BitXor => f64::from(ia ^ ib),
                    BinaryOp::Shl => f64::from(ia.wrapping_shl((ib as u32) & 31)),
                    BinaryOp::Shr => f64::from(ia >> ((ib as u32) & 31)),
                    _ => f64::from((ia as u32) >> ((ib as u32) & 31)),
                })
            }
            BinaryOp::Lt | BinaryOp::LtEq | BinaryOp::Gt | BinaryOp::GtEq => {
                let lp = self.to_primitive(st, l);
                let rp = self.to_primitive(st, r);
                let ordering = match (&lp, &rp) {
                    (Val::Str(a), Val::Str(b)) => {
                        let (a, b): (Vec<u16>, Vec<u16>) =
                            (a.encode_utf16().collect(), b.encode_utf16().collect());
                        Some(a.partial_cmp(&b))
                    }
                    _ if lp.is_primitive() && rp.is_primitive() => match (to_number(&lp), to_number(&rp)) {
                        (Some(a), Some(b)) => Some(a.partial_cmp(&b)),
                        _ => None,
                    },
                    _ => None,
                };
                match ordering {
                    Some(None) => Val::Bool(false),
                    Some(Some(o)) => Val::Bool(match op {
                        BinaryOp::Lt => o.is_lt(),
                        BinaryOp::LtEq => o.is_le(),
                        BinaryOp::Gt => o.is_gt(),
                        _ => o.is_ge(),
                    }),
                    None => Val::unknown("a comparison"),
                }
            }
            BinaryOp::In => match (r, l.exact_text()) {
                (Val::Obj(id), Some(k)) => match st.obj(*id) {
                    Some(o) if o.prop(&k).is_some_and(|p| p.presence.is_always()) => Val::Bool(true),
                    Some(o)
                        if o.kind == ObjKind::Array
                            && k.parse::<usize>().is_ok_and(|i| i < o.items.len()) =>
                    {
                        Val::Bool(true)
                    }
                    Some(o) if o.kind == ObjKind::Array && &*k == "length" => Val::Bool(true),
                    Some(o) if o.is_closed() && o.prop(&k).is_none() => Val::Bool(false),
                    _ => Val::unknown("an `in` test"),
                },
                _ => Val::unknown("an `in` test"),
            },
            BinaryOp::Instanceof => match (l, r) {
                (Val::Obj(id), Val::Native(n)) => match (st.obj(*id).map(|o| o.kind), &**n) {
                    (Some(ObjKind::Array), "Array" | "Object") => Val::Bool(true),
                    (Some(ObjKind::Error), "Error" | "Object") => Val::Bool(true),
                    (Some(ObjKind::Plain), "Array" | "Error") => Val::Bool(false),
                    (Some(ObjKind::Plain), "Object") => Val::Bool(true),
                    _ => Val::unknown("an instanceof test"),
                },
                (p, _) if p.is_primitive() => Val::Bool(false),
                _ => Val::unknown("an instanceof test"),
            },
        }
    }

    fn number_of(&mut self, st: &mut State, v: &Val) -> Option<f64> {
        let p = self.to_primitive(st, v);
        if p.is_primitive() { to_number(&p) } else { None }
    }

    /// `ToPrimitive` for the values the domain knows: arrays and plain objects as JavaScript
    /// turns them into strings.
    pub fn to_primitive(&mut self, st: &mut State, v: &Val) -> Val {
        match v {
            Val::Obj(id) => {
                let Some(o) = st.obj(*id) else {
                    return Val::unknown("an object");
                };
                match o.kind {
                    ObjKind::Array if !o.open_items && o.is_closed() => {
                        let items = o.items.clone();
                        let mut parts = Vec::new();
                        for item in items {
                            let t = match item {
                                Val::Undef | Val::Null => Val::str(""),
                                other => {
                                    let p = self.to_primitive(st, &other);
                                    self.to_string_val(st, &p)
                                }
                            };
                            match t {
                                Val::Str(s) => parts.push(s.to_string()),
                                _ => return Val::unknown("a list as text"),
                            }
                        }
                        Val::Str(parts.join(",").into())
                    }
                    ObjKind::Error => match o.prop("message").map(|p| p.value.clone()) {
                        Some(Val::Str(m)) if m.is_empty() => Val::str("Error"),
                        Some(Val::Str(m)) => Val::Str(format!("Error: {m}").into()),
                        None => Val::str("Error"),
                        _ => Val::unknown("an error as text"),
                    },
                    ObjKind::Plain
                        if o.prop("toString").is_none()
                            && o.prop("valueOf").is_none()
                            && o.rest == Rest::Closed =>
                    {
                        Val::str("[object Object]")
                    }
                    _ => Val::unknown("an object as text"),
                }
            }
            Val::Native(_) | Val::Func(_) => Val::unknown("a function as text"),
            other => other.clone(),
        }
    }

    /// `String(v)` as far as known.
    pub fn to_string_val(&mut self, st: &mut State, v: &Val) -> Val {
        match v {
            Val::Obj(_) | Val::Func(_) | Val::Native(_) => {
                let p = self.to_primitive(st, v);
                self.to_string_val(st, &p)
            }
            Val::Prefix(..) | Val::Attr(_) | Val::Unknown(_) => v.clone(),
            Val::Alt(items) => {
                let items = items.to_vec();
                let parts: Vec<Val> = items.iter().map(|i| self.to_string_val(st, i)).collect();
                Val::alternatives(parts)
            }
            other => other.exact_text().map_or_else(|| Val::unknown("text"), Val::Str),
        }
    }

    fn construct(&mut self, st: &mut State, callee: &Val, args: Vec<Val>, span: Span) -> Val {
        match callee {
            Val::Native(n) if matches!(&**n, "Error" | "TypeError" | "RangeError" | "UnauthorizedError") => {
                let mut object = Object {
                    kind: ObjKind::Error,
                    ..Object::plain(Rest::Closed)
                };
                let message = match args.first() {
                    Some(Val::Undef) | None => None,
                    Some(m) => Some(self.to_string_val(st, m)),
                };
                if let Some(m) = message {
                    put(&mut object, "message".into(), m, None, Cond::always(), false);
                }
                put(
                    &mut object,
                    "name".into(),
                    Val::Str(n.clone()),
                    None,
                    Cond::always(),
                    false,
                );
                self.alloc(st, object)
            }
            Val::Native(n) if &**n == "Array" => match args.as_slice() {
                [Val::Num(len)] if *len >= 0.0 && (*len as usize) <= MAX_ENTRIES => {
                    self.alloc_array(st, vec![Val::Undef; *len as usize])
                }
                _ => self.alloc_array(st, args),
            },
            Val::Native(n) if &**n == "Object" => self.alloc(st, Object::plain(Rest::Closed)),
            Val::Native(n) if &**n == "Set" => {
                let (items, open) = match args.first() {
                    None | Some(Val::Undef | Val::Null) => (Vec::new(), false),
                    Some(v) => match self.list_items(st, v) {
                        Some(items) => (items, false),
                        None => (Vec::new(), true),
                    },
                };
                let mut members: Vec<Val> = Vec::new();
                for item in items {
                    if !members.iter().any(|m| same_value_zero(m, &item)) {
                        members.push(item);
                    }
                }
                let mut object = Object {
                    kind: ObjKind::Set,
                    ..Object::array(members)
                };
                object.open_items = open;
                self.alloc(st, object)
            }
            Val::Native(n) if &**n == "Promise" => {
                // The executor runs now; `resolve(v)` fulfils the promise with `v`.
                let promise = self.alloc(
                    st,
                    Object {
                        kind: ObjKind::Promise,
                        ..Object::array(Vec::new())
                    },
                );
                if let (Some(f), Val::Obj(id)) = (args.first(), &promise) {
                    let resolve = Val::Native(format!("Promise.resolver.{id}").into());
                    let reject = Val::Native(format!("Promise.rejecter.{id}").into());
                    let f = f.clone();
                    self.call(st, &f, Val::Undef, vec![resolve, reject], span);
                }
                promise
            }
            Val::Func(c) => {
                let this = self.alloc(st, Object::plain(Rest::Closed));
                let c = c.clone();
                let r = self.call_closure(st, &c, this.clone(), args, span);
                if matches!(r, Val::Obj(_)) { r } else { this }
            }
            // `new` makes an object whatever the constructor: truthy (`callback(new
            // WrongUsernameOrPasswordError(email))` fails the login).
            other => match self.call_unknown(st, format_args!("new {}", other.described()), args, span) {
                Val::Unknown(o) => Val::Unknown(Arc::new(Opaque {
                    truthy: Some(true),
                    ..Opaque::clone(&o)
                })),
                made => made,
            },
        }
    }

    /// `typeof`, `Object.keys` and the other built-ins live in `builtins`; the host's in `host`.
    pub fn call_native(&mut self, st: &mut State, path: &str, this: Val, args: Vec<Val>, span: Span) -> Val {
        if let Some(v) = self.host_call(st, path, &this, &args, span) {
            return v;
        }
        if let Some(v) = super::builtins::call(self, st, path, &this, &args, span) {
            return v;
        }
        self.call_unknown(st, format_args!("{path}()"), args, span)
    }

    /// Members of built-in namespaces (`Object.keys`, `JSON.stringify`, `api.idToken`).
    fn native_member(&mut self, st: &mut State, path: &str, name: &str) -> Val {
        if let Some(v) = self.host_member(st, path, name) {
            return v;
        }
        match (path, name) {
            ("Math", "PI") => Val::Num(std::f64::consts::PI),
            ("Number", "MAX_SAFE_INTEGER") => Val::Num(9007199254740991.0),
            ("String.prototype" | "Array.prototype" | "Object.prototype", _) => {
                Val::Native(format!("{path}.{name}").into())
            }
            _ => Val::Native(format!("{path}.{name}").into()),
        }
    }
}

/// A fresh `Error` object.
fn error_object() -> Object {
    Object {
        kind: ObjKind::Error,
        ..Object::plain(Rest::Closed)
    }
}

/// Makes `object` either itself (when `branch` is false) or `other` (when it is true): two
/// results of one construction on the same path. A property both hold with the same value and
/// condition stays as it is; one they hold differently takes either value, each under its side
/// of `branch`; one only one of them holds exists only on that side. A property whose value
/// changes no longer holds a login fact's text alone.
fn either_object(object: &mut Object, other: &Object, branch: BranchId) {
    for p in &mut object.props {
        match other.props.iter().find(|q| q.key == p.key) {
            Some(q) if q.value.same(&p.value) && same_fact(&p.fact, &q.fact) && q.presence == p.presence => {}
            Some(q) => {
                if !(q.value.same(&p.value) && same_fact(&p.fact, &q.fact)) {
                    p.settle_fact();
                    if let Some(fact) = &q.fact {
                        fact.mark_observed();
                    }
                    p.value.join_in(&q.value);
                }
                if q.presence != p.presence {
                    p.presence = p
                        .presence
                        .and((branch, false))
                        .or(&q.presence.and((branch, true)));
                }
            }
            None => p.presence = p.presence.and((branch, false)),
        }
    }
    for q in &other.props {
        if object.props.iter().all(|p| p.key != q.key) && object.props.len() < MAX_ENTRIES {
            let mut q = q.clone();
            q.presence = q.presence.and((branch, true));
            object.props.push(q);
        }
    }
    object.add_dyn_writes_of(other, |presence| presence.and((branch, true)));
    if object.items.len() != other.items.len() {
        object.open_items = true;
    }
    object.open_items |= other.open_items;
    if object.rest != other.rest {
        object.rest = Rest::unknown("properties of one of several objects");
    }
}

/// [`may_be_replaced`] for a copy of the object `src` (the value `alt`) whose parts are not
/// all known: the properties `src` holds were copied already, and the user's own attributes
/// (`...user`) replace with themselves.
pub fn may_be_replaced_from(object: &mut Object, alt: &Val, src: &Object) {
    let source = match &src.rest {
        Rest::Attr(path) => Val::Attr(path.clone()),
        _ => alt.clone(),
    };
    may_be_replaced(object, &source, |key| src.props.iter().any(|q| q.key == *key));
}

/// The properties of `object` that copying the parts of `source` nothing names (a spread, an
/// `Object.assign` source) may replace, unless `kept` says the key is one `source` was seen to
/// hold (and copied already): each becomes what it was or the source's member. A user
/// attribute's member is that attribute (`user.app_metadata.defaults.tier`); a text (a known
/// beginning, a login fact) replaces only properties named by an index; anything else is
/// unknown. A replaced property no longer holds a login fact's text alone.
pub fn may_be_replaced(object: &mut Object, source: &Val, kept: impl Fn(&Text) -> bool) {
    let text = matches!(source, Val::Prefix(..) | Val::Fact(_));
    for p in &mut object.props {
        let index = p.key.parse::<u32>().is_ok_and(|i| i.to_string() == *p.key);
        if kept(&p.key) || (text && !index) {
            continue;
        }
        p.settle_fact();
        let replacement = match source {
            Val::Attr(path) if path.is_empty() => Val::Attr(p.key.clone()),
            Val::Attr(path) => Val::Attr(format!("{path}.{}", p.key).into()),
            _ => Val::unknown(format!("`{}`, which {} may override", p.key, source.described())),
        };
        p.value = p.value.join(&replacement);
    }
}

/// The properties and elements of `object` that a write of `value` under a name not known
/// exactly (`key`) may replace: each becomes what it was or `value`. A read by name after
/// `o[k] = v` may see `v` whenever `k` can be that name; a later write by name replaces the
/// property again, so order is kept. Keys whose known text rules a name out leave it alone
/// (`o['x-' + k]` never replaces `o.plan`).
fn may_be_written(object: &mut Object, key: &Val, value: &Val) {
    let may_name = |name: &str| {
        key.alts().iter().any(|k| match k.exact_text() {
            Some(text) => *text == *name,
            None => k.known_prefix().is_none_or(|prefix| name.starts_with(&*prefix)),
        })
    };
    for p in object.props.iter_mut().filter(|p| may_name(&p.key)) {
        p.settle_fact();
        p.value = p.value.join(value);
    }
    if object.kind == ObjKind::Array {
        for (i, item) in object.items.iter_mut().enumerate() {
            if may_name(&i.to_string()) {
                *item = item.join(value);
            }
        }
    }
}

/// Adds or replaces a property.
pub fn put(object: &mut Object, key: Text, value: Val, site: Option<Site>, presence: Cond, written: bool) {
    match object.props.iter_mut().find(|p| p.key == key) {
        Some(p) => {
            p.value = value;
            p.fact = None;
            p.presence = if p.presence.is_always() {
                p.presence.clone()
            } else {
                p.presence.or(&presence)
            };
            if presence.is_always() {
                p.presence = Cond::always();
            }
            if site.is_some() {
                p.site = site;
            }
            p.written |= written;
        }
        None => {
            if object.props.len() < MAX_ENTRIES {
                object.props.push(Prop {
                    key,
                    value,
                    presence,
                    site,
                    written,
                    fact: None,
                });
            }
        }
    }
}

fn join_into(acc: &mut Option<State>, st: &State) {
    if !st.alive {
        return;
    }
    match acc {
        Some(a) => a.join(st),
        None => *acc = Some(st.clone()),
    }
}

fn join_valued(acc: Option<(State, Val)>, s: State, v: Val) -> (State, Val) {
    match acc {
        None => (s, v),
        Some((mut a, av)) => {
            let value = match (a.alive, s.alive) {
                (true, true) => av.join(&v),
                (false, _) => v,
                (_, false) => av,
            };
            a.join(&s);
            (a, value)
        }
    }
}

/// The state after two branches, either of which may be missing or dead.
fn merge(a: Option<State>, b: Option<State>) -> State {
    match (a, b) {
        (Some(mut a), Some(b)) => {
            a.join(&b);
            a
        }
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => {
            let mut s = State::new();
            s.alive = false;
            s
        }
    }
}

/// Makes every variable and property that changed since `entry` unknown, so a loop whose
/// end cannot be decided reaches a fixpoint.
fn widen(st: &mut State, entry: &State) {
    let frames = if Arc::ptr_eq(&st.frames, &entry.frames) {
        None
    } else {
        Some(Arc::make_mut(&mut st.frames))
    };
    for (id, frame) in frames.into_iter().flat_map(|frames| frames.iter_mut()) {
        let before = entry.frames.get(id);
        let frame = Arc::make_mut(frame);
        for (sym, v) in frame.vars.iter_mut() {
            let same = before.and_then(|b| b.vars.get(sym)).is_some_and(|b| b.same(v));
            if !same && !matches!(v, Val::Func(_) | Val::Obj(_)) {
                let attr = v.attribute();
                let prefix = v.known_prefix().filter(|_| !matches!(v, Val::Str(_)));
                *v = match prefix {
                    Some(p) => Val::Prefix(p, Tail::with_attr(attr)),
                    None => Val::Unknown(Arc::new(Opaque {
                        what: "a value a loop changes".into(),
                        attr,
                        truthy: None,
                    })),
                };
            }
        }
    }
    if Arc::ptr_eq(&st.heap, &entry.heap) {
        return;
    }
    for (id, object) in Arc::make_mut(&mut st.heap).iter_mut() {
        let before = entry.heap.get(id);
        if before.is_some_and(|b| Arc::ptr_eq(b, object)) {
            continue;
        }
        let object = Arc::make_mut(object);
        if let Some(b) = before
            && b.items.len() != object.items.len()
        {
            object.open_items = true;
        }
        for p in &mut object.props {
            // A fact's marker counts as part of the value: whether the loop changed the
            // property must not depend on the fact's text, which nothing has looked at.
            let same = before
                .and_then(|b| b.prop(&p.key))
                .is_some_and(|b| b.value.same(&p.value) && same_fact(&b.fact, &p.fact));
            if !same && !matches!(p.value, Val::Func(_) | Val::Obj(_)) {
                p.value = Val::derived("a value a loop changes", &p.value);
                // The value is no longer the fact's text.
                p.fact = None;
            }
        }
    }
}

/// Where a member's key is written: the name after the dot, or the expression in brackets.
fn key_span(member: Span, property: &MemberProp) -> Span {
    match property {
        MemberProp::Static(name) => {
            let len = u32::try_from(name.len()).unwrap_or(0);
            Span {
                start: member.end.saturating_sub(len).max(member.start),
                end: member.end,
            }
        }
        MemberProp::Computed(e) => e.span,
    }
}

/// The symbols a binding pattern declares.
fn pattern_syms(pattern: &Pattern) -> Vec<u32> {
    let mut out = Vec::new();
    let mut stack = vec![pattern];
    while let Some(p) = stack.pop() {
        match p {
            Pattern::Bind { sym, .. } => out.push(*sym),
            Pattern::Default { pattern, .. } => stack.push(pattern),
            Pattern::Object { props, rest, .. } => {
                stack.extend(props.iter().map(|p| &p.value));
                stack.extend(rest.as_deref());
            }
            Pattern::Array { items, rest, .. } => {
                stack.extend(items.iter().flatten());
                stack.extend(rest.as_deref());
            }
            Pattern::Global { .. } | Pattern::Member(_) | Pattern::Unknown(_) => {}
        }
    }
    out
}

/// The per-iteration bindings of a `for…of`/`for…in` head.
fn for_syms(left: &ForTarget) -> Vec<u32> {
    match left {
        ForTarget::Decl(kind, pattern) if *kind != DeclKind::Var => pattern_syms(pattern),
        _ => Vec::new(),
    }
}

fn stmt_span(stmt: &Stmt) -> Span {
    match stmt {
        Stmt::Expr(e) => e.span,
        Stmt::Decl { span, .. } | Stmt::Return { span, .. } | Stmt::Throw { span, .. } => *span,
        Stmt::Break { span, .. } | Stmt::Continue { span, .. } | Stmt::Unknown { span, .. } => *span,
        Stmt::If { test, .. } | Stmt::While { test, .. } => test.span,
        Stmt::Switch { discriminant, .. } => discriminant.span,
        Stmt::ForOf { iterable, .. } => iterable.span,
        Stmt::ForIn { object, .. } => object.span,
        Stmt::FunctionDecl { function, .. } => function.span,
        Stmt::Labeled { body, .. } => stmt_span(body),
        Stmt::For { body, .. } => stmt_span(body),
        Stmt::Block(stmts) => stmts.first().map(stmt_span).unwrap_or_default(),
        Stmt::Try { block, .. } => block.first().map(stmt_span).unwrap_or_default(),
        Stmt::Empty => Span::default(),
    }
}

fn body_span(stmt: &Stmt) -> Span {
    stmt_span(stmt)
}

// ---- JavaScript value semantics ------------------------------------------------------------

/// `ToBoolean`, when it can be known.
pub fn truthy(v: &Val) -> Option<bool> {
    match v {
        Val::Undef | Val::Null => Some(false),
        Val::Bool(b) => Some(*b),
        Val::Num(n) => Some(*n != 0.0 && !n.is_nan()),
        Val::Str(s) => Some(!s.is_empty()),
        Val::Fact(f) => Some(!f.observe().is_empty()),
        Val::Prefix(p, _) => (!p.is_empty()).then_some(true),
        Val::Obj(_) | Val::Func(_) | Val::Native(_) => Some(true),
        Val::Unknown(o) => o.truthy,
        Val::Attr(_) => None,
        Val::Alt(items) => {
            let mut answers = items.iter().map(truthy);
            let first = answers.next()??;
            answers.all(|a| a == Some(first)).then_some(first)
        }
    }
}

/// Whether a value is `null` or `undefined`, when it can be known.
pub fn nullish(v: &Val) -> Option<bool> {
    match v {
        Val::Undef | Val::Null => Some(true),
        // `null` and `undefined` are falsy: a value known truthy is neither.
        Val::Unknown(o) if o.truthy == Some(true) => Some(false),
        Val::Attr(_) | Val::Unknown(_) => None,
        Val::Alt(items) => {
            let mut answers = items.iter().map(nullish);
            let first = answers.next()??;
            answers.all(|a| a == Some(first)).then_some(first)
        }
        _ => Some(false),
    }
}

/// The part of a value that is not nullish.
fn defined_part(v: &Val) -> Val {
    match v {
        Val::Alt(items) => Val::alternatives(
            items
                .iter()
                .filter(|i| nullish(i) != Some(true))
                .cloned()
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `ToNumber` for primitives.
pub fn to_number(v: &Val) -> Option<f64> {
    use oxc_ecmascript::StringToNumber;
    match v {
        Val::Num(n) => Some(*n),
        Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Val::Null => Some(0.0),
        Val::Undef => Some(f64::NAN),
        Val::Str(s) => Some(
            s.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                .string_to_number(),
        ),
        _ => None,
    }
}

fn to_int32(n: f64) -> i32 {
    if !n.is_finite() {
        return 0;
    }
    let m = n.trunc().rem_euclid(4_294_967_296.0);
    (if m >= 2_147_483_648.0 {
        m - 4_294_967_296.0
    } else {
        m
    }) as i32
}

/// `a + b` for strings, keeping a known beginning.
pub fn concat(a: &Val, b: &Val) -> Val {
    match (a, b) {
        (Val::Str(x), Val::Str(y)) => Val::Str(format!("{x}{y}").into()).bounded(),
        (Val::Str(x), Val::Prefix(y, tail)) => Val::Prefix(format!("{x}{y}").into(), tail.clone()).bounded(),
        (Val::Str(x), other) if !x.is_empty() => match other.known_prefix() {
            Some(p) => Val::Prefix(format!("{x}{p}").into(), Tail::with_attr(other.attribute())).bounded(),
            None => Val::Prefix(x.clone(), Tail::after(other)),
        },
        (Val::Str(_), other) => match other {
            // `'' + x` knows no more than `x`, as text.
            Val::Attr(_) | Val::Unknown(_) | Val::Prefix(..) => other.clone(),
            Val::Alt(_) => other.known_prefix().map_or_else(
                || Val::derived("text", other),
                |p| Val::Prefix(p, Tail::with_attr(other.attribute())),
            ),
            _ => Val::derived("text", other),
        },
        (Val::Prefix(x, tail), rest) => Val::Prefix(x.clone(), tail.followed_by(rest)),
        (Val::Alt(items), _) => {
            let parts: Vec<Val> = items.iter().map(|i| concat(i, b)).collect();
            Val::alternatives(parts)
        }
        (x, Val::Alt(items)) if x.exact_text().is_some() => {
            let parts: Vec<Val> = items.iter().map(|i| concat(x, i)).collect();
            Val::alternatives(parts)
        }
        (x, y) => {
            let attr = x.attribute().or(y.attribute());
            Val::Unknown(Arc::new(Opaque {
                what: format!("{} + {}", x.described(), y.described()).into(),
                attr,
                truthy: None,
            }))
        }
    }
}

/// `===` as a value.
pub fn strict_equals_val(l: &Val, r: &Val) -> Val {
    if l.alts().len() * r.alts().len() > 1 {
        let mut answers = Vec::new();
        for a in l.alts() {
            for b in r.alts() {
                answers.push(strict_equals(a, b));
            }
        }
        return match (
            answers.iter().all(|a| *a == Some(true)),
            answers.iter().all(|a| *a == Some(false)),
        ) {
            (true, _) => Val::Bool(true),
            (_, true) => Val::Bool(false),
            _ => Val::unknown("an equality test"),
        };
    }
    strict_equals(l, r).map_or_else(|| Val::unknown("an equality test"), Val::Bool)
}

pub fn strict_equals(l: &Val, r: &Val) -> Option<bool> {
    match (l, r) {
        (Val::Num(a), Val::Num(b)) => Some(a == b),
        (Val::Str(a), Val::Str(b)) => Some(a == b),
        (Val::Bool(a), Val::Bool(b)) => Some(a == b),
        (Val::Undef, Val::Undef) | (Val::Null, Val::Null) => Some(true),
        (Val::Obj(a), Val::Obj(b)) => Some(a == b),
        (Val::Native(a), Val::Native(b)) => Some(a == b),
        (Val::Prefix(p, _), Val::Str(s)) | (Val::Str(s), Val::Prefix(p, _)) => {
            (!s.starts_with(&**p)).then_some(false)
        }
        (Val::Prefix(..), Val::Num(_) | Val::Bool(_) | Val::Null | Val::Undef | Val::Obj(_))
        | (Val::Num(_) | Val::Bool(_) | Val::Null | Val::Undef | Val::Obj(_), Val::Prefix(..)) => Some(false),
        (a, b) if a.is_exact() && b.is_exact() => Some(false),
        _ => None,
    }
}

fn loose_equals(st: &State, l: &Val, r: &Val) -> Val {
    let answer = match (l, r) {
        (Val::Undef | Val::Null, Val::Undef | Val::Null) => Some(true),
        (Val::Undef | Val::Null, other) | (other, Val::Undef | Val::Null) => match other {
            Val::Attr(_) | Val::Unknown(_) | Val::Alt(_) => None,
            _ => Some(false),
        },
        (a, b) if a.is_primitive() && b.is_primitive() => {
            if std::mem::discriminant(a) == std::mem::discriminant(b) {
                strict_equals(a, b)
            } else {
                match (to_number(a), to_number(b)) {
                    (Some(x), Some(y)) => Some(x == y),
                    _ => None,
                }
            }
        }
        (Val::Obj(a), Val::Obj(b)) => Some(a == b),
        _ => {
            let _ = st;
            None
        }
    };
    answer.map_or_else(|| Val::unknown("an equality test"), Val::Bool)
}

fn negate(v: &Val) -> Val {
    match truthy(v) {
        Some(b) if matches!(v, Val::Bool(_)) => Val::Bool(!b),
        _ => Val::unknown("an inequality test"),
    }
}

fn type_of(st: &State, v: &Val) -> Val {
    let t = match v {
        Val::Undef => "undefined",
        Val::Null => "object",
        Val::Bool(_) => "boolean",
        Val::Num(_) => "number",
        Val::Str(_) | Val::Prefix(..) => "string",
        Val::Func(_) => "function",
        Val::Native(n) => {
            if matches!(&**n, "Math" | "JSON" | "console")
                || n.starts_with("api.") && !n.contains("set")
                || &**n == "api"
            {
                "object"
            } else {
                "function"
            }
        }
        Val::Obj(id) => match st.obj(*id) {
            Some(_) => "object",
            None => return Val::unknown("a type"),
        },
        Val::Alt(items) => {
            let types: Vec<Val> = items.iter().map(|i| type_of(st, i)).collect();
            return types.into_iter().reduce(|a, b| a.join(&b)).unwrap_or(Val::Undef);
        }
        _ => return Val::derived("a type", v),
    };
    Val::str(t)
}

fn unary(st: &State, op: UnaryOp, v: &Val) -> Val {
    match op {
        UnaryOp::Not => match truthy(v) {
            Some(b) => Val::Bool(!b),
            None => Val::unknown("a negation"),
        },
        UnaryOp::Typeof => type_of(st, v),
        UnaryOp::Void => Val::Undef,
        UnaryOp::Minus => to_number(v).map_or_else(|| Val::unknown("a number"), |n| Val::Num(-n)),
        UnaryOp::Plus => to_number(v).map_or_else(|| Val::unknown("a number"), Val::Num),
        UnaryOp::BitNot => {
            to_number(v).map_or_else(|| Val::unknown("a number"), |n| Val::Num(f64::from(!to_int32(n))))
        }
        UnaryOp::Delete => Val::Bool(true),
    }
}

fn is_string_method(name: &str) -> bool {
    matches!(
        name,
        "toLowerCase"
            | "toUpperCase"
            | "trim"
            | "trimStart"
            | "trimEnd"
            | "split"
            | "replace"
            | "replaceAll"
            | "substring"
            | "substr"
            | "slice"
            | "startsWith"
            | "endsWith"
            | "padStart"
            | "padEnd"
            | "charAt"
            | "normalize"
            | "toLocaleLowerCase"
            | "toLocaleUpperCase"
            | "match"
    )
}

fn is_array_method(name: &str) -> bool {
    matches!(
        name,
        "map" | "forEach" | "filter" | "reduce" | "find" | "some" | "every" | "join" | "flatMap"
    )
}

/// The number shown for a number value in descriptions.
pub fn show_number(n: f64) -> String {
    number_text(n)
}

/// `SameValueZero`, as `Set` and `includes` compare.
pub fn same_value_zero(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => x == y || (x.is_nan() && y.is_nan()),
        _ => strict_equals(a, b) == Some(true),
    }
}

/// Whether evaluating the argument can change nothing, whatever the text of a login fact in
/// it: literals, variables, member reads by name and operators on them. No call, assignment,
/// update, `new`, `await` or function; and nothing whose throwing could depend on a fact's
/// text (`TIERS[context.clientName].level` throws for a name `TIERS` lacks, and `ok && x.y`
/// reads `x.y` only when `ok`): no key computed in brackets but a literal name, no side of
/// `&&`/`||`/`??`/`?:` taken only sometimes that reads a member, no `in` or `instanceof`.
/// (`client_metadata` is an object whose members may throw when read: its read is kept, see
/// [`Machine::eval_args_unobserved`].)
fn pure_arg(arg: &Arg) -> bool {
    match arg {
        Arg::Expr(e) => pure(e),
        Arg::Spread(e) => pure(e) && !chosen(e),
    }
}

/// Whether the expression's value is picked by `?:`, `&&`, `||` or `??`.
fn chosen(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Logical { .. } | ExprKind::Conditional { .. } => true,
        ExprKind::Chain(inner) => chosen(inner),
        ExprKind::Sequence(items) => items.last().is_some_and(chosen),
        _ => false,
    }
}

fn pure(expr: &Expr) -> bool {
    harmless(expr, true)
}

/// Whether evaluating the expression can neither throw nor change anything: literals, variables
/// and operators on them, without reading a member.
fn inert(expr: &Expr) -> bool {
    harmless(expr, false)
}

/// [`pure`] with `members`, [`inert`] without.
fn harmless(expr: &Expr, members: bool) -> bool {
    let again = |e: &Expr| harmless(e, members);
    match &expr.kind {
        ExprKind::Str(_)
        | ExprKind::Num(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Ident { .. }
        | ExprKind::This => true,
        ExprKind::Template { exprs, .. } => exprs.iter().all(again),
        ExprKind::Unary { op, argument } => !matches!(op, UnaryOp::Delete) && again(argument),
        ExprKind::Binary { op, left, right } => {
            !matches!(op, BinaryOp::In | BinaryOp::Instanceof) && again(left) && again(right)
        }
        _ if !members => false,
        ExprKind::Member { object, property, .. } => {
            // A member of a value one side of `?:`, `||`... picks (`(ok ? null : 'a').x`) may
            // throw for one side only.
            pure(object)
                && !chosen(object)
                && match property {
                    MemberProp::Static(_) => true,
                    // `user['email']` reads a name as `.email` does; an index (`name[10]`) may
                    // be past the end of one text and not of another.
                    MemberProp::Computed(key) => {
                        matches!(&key.kind, ExprKind::Str(name) if name.parse::<u32>().is_err())
                    }
                }
        }
        ExprKind::Chain(inner) => pure(inner),
        // Which side is taken may depend on the text (`context.clientName || 'none'`), so the
        // sides taken only sometimes must not be able to throw.
        ExprKind::Logical { left, right, .. } => pure(left) && inert(right),
        ExprKind::Conditional {
            test,
            then,
            otherwise,
        } => pure(test) && inert(then) && inert(otherwise),
        ExprKind::Array(items) => items.iter().flatten().all(pure_arg),
        ExprKind::Object(props) => props.iter().all(|p| match p {
            crate::js::ir::Prop::KeyValue { key, value, .. } => {
                pure(value) && matches!(key, PropKey::Static(_))
            }
            crate::js::ir::Prop::Spread(e) => pure(e),
            crate::js::ir::Prop::Accessor { .. } => false,
        }),
        ExprKind::Sequence(items) => items.iter().all(pure),
        ExprKind::Call { .. }
        | ExprKind::New { .. }
        | ExprKind::Assign { .. }
        | ExprKind::Update { .. }
        | ExprKind::Function(_)
        | ExprKind::Await(_)
        | ExprKind::Unknown(_) => false,
    }
}
