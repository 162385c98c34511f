//! The lowered form of a script: the JavaScript the claim evaluator interprets.
//!
//! The IR is owned (no arena lifetimes), so a script is parsed once and its IR is shared by
//! every evaluation. Identifiers are resolved by `oxc_semantic` when lowering: a [`Var::Local`]
//! names the declaration it refers to (shadowing and closures are settled here, not guessed by
//! the interpreter), a [`Var::Global`] is a name no declaration in the script binds (`user`
//! in a rule is a parameter and so local; `Object`, `JSON`, `require` are globals).
//!
//! Everything the interpreter does not model lowers to [`ExprKind::Unknown`] or
//! [`Stmt::Unknown`] with a short description, never to something that looks known.

use std::sync::Arc;

use crate::source::Span;

/// A text shared between the IR and the values computed from it.
pub type Text = Arc<str>;

/// A declaration of the script (an `oxc_semantic` symbol id).
pub type Sym = u32;

/// A lowered script.
#[derive(Debug, Clone, Default)]
pub struct Program {
    pub body: Vec<Stmt>,
    /// Every symbol declared at the top level (module/script scope, including block-scoped
    /// ones in top-level blocks), initialised to `undefined` when the script starts.
    pub declared: Vec<Sym>,
    /// Function declarations of the top level, bound before the first statement runs.
    pub hoisted: Vec<(Sym, Arc<Function>)>,
    /// The names and strings the script says (identifiers, property names and keys, string
    /// and template parts): a check looking for a call by name skips a script that never says
    /// it without walking it.
    pub mentions: Mentions,
}

impl Program {
    /// Whether the script may say `text` as a name, key or string: `false` is certain, `true`
    /// may be wrong (see [`Mentions`]).
    pub fn may_mention(&self, text: &str) -> bool {
        self.mentions.may_hold(text)
    }
}

/// A set of texts as a 512-bit Bloom filter (two bits a text): it answers "not held" for sure
/// and "held" with a small chance of error, and costs the program neither an allocation nor a
/// walk to free (a set of the texts themselves would keep one shared text per name alive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mentions([u64; 8]);

impl Mentions {
    fn bits(text: &str) -> [usize; 2] {
        use std::hash::BuildHasher;
        let hash = foldhash::fast::FixedState::default().hash_one(text);
        [(hash & 511) as usize, ((hash >> 9) & 511) as usize]
    }

    pub fn add(&mut self, text: &str) {
        for bit in Self::bits(text) {
            self.0[bit / 64] |= 1 << (bit % 64);
        }
    }

    pub fn may_hold(&self, text: &str) -> bool {
        Self::bits(text)
            .iter()
            .all(|bit| self.0[bit / 64] & (1 << (bit % 64)) != 0)
    }
}

/// A function or arrow function.
#[derive(Debug, Clone)]
pub struct Function {
    /// Unique within the script.
    pub id: u32,
    /// The function's own name binding for named function expressions (`function f() {}` used
    /// as a value), bound inside its body.
    pub name: Option<(Sym, Text)>,
    pub params: Vec<Param>,
    pub body: Vec<Stmt>,
    /// An arrow function whose body is an expression (`x => x + 1`).
    pub expression: Option<Expr>,
    /// Every symbol declared in this function's own scopes (parameters, `var`, `let`, `const`,
    /// inner function names, catch parameters), not those of nested functions: the
    /// interpreter makes a frame holding these on each call.
    pub declared: Vec<Sym>,
    /// Function declarations anywhere in the body that are not inside a nested function, in
    /// source order: bound when the function is entered (hoisting).
    pub hoisted: Vec<(Sym, Arc<Function>)>,
    pub is_arrow: bool,
    pub is_async: bool,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub enum Param {
    /// `a`, `{ a, b }`, `[a]`, `a = 1`
    Pattern(Pattern),
    /// `...rest`
    Rest(Pattern),
}

/// A binding or assignment pattern.
#[derive(Debug, Clone)]
pub enum Pattern {
    /// A name being declared or assigned.
    Bind { sym: Sym, name: Text, span: Span },
    /// An assignment to a global name (`x = 1` with no declaration of `x`).
    Global { name: Text, span: Span },
    /// A member expression as an assignment target (`[obj.a, obj.b] = ...`).
    Member(Expr),
    /// `{ a, b: c, [k]: d, ...rest }`
    Object {
        props: Vec<PatternProp>,
        rest: Option<Box<Pattern>>,
        span: Span,
    },
    /// `[a, , b, ...rest]`; `None` is a hole.
    Array {
        items: Vec<Option<Pattern>>,
        rest: Option<Box<Pattern>>,
        span: Span,
    },
    /// `pattern = default`
    Default { pattern: Box<Pattern>, default: Expr },
    /// A target the interpreter does not model; assigning to it does nothing.
    Unknown(Span),
}

#[derive(Debug, Clone)]
pub struct PatternProp {
    pub key: PropKey,
    pub value: Pattern,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclKind {
    Var,
    Let,
    Const,
}

#[derive(Debug, Clone)]
pub enum Stmt {
    Expr(Expr),
    /// One declarator: `let pattern = init`. `let a = 1, b = 2` lowers to two.
    Decl {
        kind: DeclKind,
        pattern: Pattern,
        init: Option<Expr>,
        span: Span,
    },
    /// A function declaration; its binding is already made by hoisting, so running it does
    /// nothing unless it sits in a block (then it binds again, as sloppy-mode JavaScript does).
    FunctionDecl {
        sym: Sym,
        function: Arc<Function>,
    },
    If {
        test: Expr,
        then: Box<Stmt>,
        otherwise: Option<Box<Stmt>>,
    },
    Block(Vec<Stmt>),
    Return {
        value: Option<Expr>,
        span: Span,
    },
    Throw {
        value: Expr,
        span: Span,
    },
    Try {
        block: Vec<Stmt>,
        /// `catch (param)`; `None` for `catch {}` or no handler.
        param: Option<Pattern>,
        handler: Option<Vec<Stmt>>,
        finalizer: Option<Vec<Stmt>>,
    },
    Switch {
        discriminant: Expr,
        cases: Vec<SwitchCase>,
    },
    /// `while (test) body`, or `do body while (test)` when `do_while`.
    While {
        test: Expr,
        body: Box<Stmt>,
        do_while: bool,
    },
    For {
        init: Option<Box<Stmt>>,
        test: Option<Expr>,
        update: Option<Expr>,
        body: Box<Stmt>,
    },
    /// `for (left in object)`
    ForIn {
        left: ForTarget,
        object: Expr,
        body: Box<Stmt>,
    },
    /// `for (left of iterable)` (and `for await`)
    ForOf {
        left: ForTarget,
        iterable: Expr,
        body: Box<Stmt>,
    },
    Break {
        label: Option<Text>,
        span: Span,
    },
    Continue {
        label: Option<Text>,
        span: Span,
    },
    Labeled {
        label: Text,
        body: Box<Stmt>,
    },
    Empty,
    /// A statement the interpreter does not model (a class declaration binds its name to an
    /// unknown value through a `Decl` instead). Running it does nothing.
    Unknown {
        what: Text,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub struct SwitchCase {
    /// `None` for `default:`.
    pub test: Option<Expr>,
    pub body: Vec<Stmt>,
    pub span: Span,
}

/// The left side of `for…in` / `for…of`.
#[derive(Debug, Clone)]
pub enum ForTarget {
    /// `for (const x of ...)`, `for (let [k, v] of ...)`
    Decl(DeclKind, Pattern),
    /// `for (x of ...)`, `for (obj.k in ...)`
    Assign(Pattern),
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

/// A property name in an object literal or pattern.
#[derive(Debug, Clone)]
pub enum PropKey {
    /// `a`, `'a'`, `1` (numbers as JavaScript prints them)
    Static(Text),
    /// `[expr]`
    Computed(Box<Expr>),
}

#[derive(Debug, Clone)]
pub enum Prop {
    /// `key: value`, `key` (shorthand), `key() {}` (a method: value is a function)
    KeyValue { key: PropKey, value: Expr, span: Span },
    /// `...expr`
    Spread(Expr),
    /// A getter or setter: the property's value is unknown.
    Accessor { key: PropKey, span: Span },
}

/// An argument of a call, or an element of an array literal.
#[derive(Debug, Clone)]
pub enum Arg {
    Expr(Expr),
    Spread(Expr),
}

#[derive(Debug, Clone)]
pub enum MemberProp {
    /// `.name`
    Static(Text),
    /// `[expr]`
    Computed(Box<Expr>),
}

/// A reference to a variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Var {
    Local(Sym),
    Global,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Str(Text),
    Num(f64),
    Bool(bool),
    Null,
    /// A template literal with its cooked text parts; `quasis.len() == exprs.len() + 1`.
    Template {
        quasis: Box<[Text]>,
        exprs: Box<[Expr]>,
    },
    /// A variable (`undefined` with no local declaration is `Ident { var: Global, name: "undefined" }`).
    Ident {
        var: Var,
        name: Text,
    },
    This,
    /// `object.name`, `object[expr]`; `optional` for `object?.name`.
    Member {
        object: Box<Expr>,
        property: MemberProp,
        optional: bool,
    },
    /// `callee(args)`; `optional` for `callee?.(args)`.
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
        optional: bool,
    },
    New {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// The end of an optional chain: where `a?.b.c` short-circuits to `undefined`.
    Chain(Box<Expr>),
    /// `target op= value`; for destructuring assignments `target` is an object/array pattern.
    Assign {
        op: AssignOp,
        target: Box<Pattern>,
        value: Box<Expr>,
    },
    /// `++x`, `x--`...
    Update {
        increment: bool,
        prefix: bool,
        target: Box<Pattern>,
    },
    Unary {
        op: UnaryOp,
        argument: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Logical {
        op: LogicalOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Conditional {
        test: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Object(Vec<Prop>),
    /// `None` is a hole (`[1, , 2]`).
    Array(Vec<Option<Arg>>),
    Function(Arc<Function>),
    /// `a, b`: the value is the last.
    Sequence(Vec<Expr>),
    Await(Box<Expr>),
    /// Anything else (classes, regular expressions, tagged templates, `import()`...), with what
    /// it is for descriptions.
    Unknown(Text),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Assign,
    /// `+=`, `-=`, `*=`... the binary operator applied.
    Compound(BinaryOp),
    /// `&&=`, `||=`, `??=`
    Logical(LogicalOp),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Minus,
    Plus,
    Typeof,
    Void,
    Delete,
    BitNot,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `===`
    StrictEq,
    /// `!==`
    StrictNotEq,
    /// `==`
    LooseEq,
    /// `!=`
    LooseNotEq,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Exp,
    Lt,
    LtEq,
    Gt,
    GtEq,
    In,
    Instanceof,
    BitAnd,
    BitOr,
    BitXor,
    Shl,
    Shr,
    UShr,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicalOp {
    And,
    Or,
    Nullish,
}

impl Expr {
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        Expr { kind, span }
    }

    pub fn unknown(what: &str, span: Span) -> Expr {
        Expr::new(ExprKind::Unknown(what.into()), span)
    }
}
