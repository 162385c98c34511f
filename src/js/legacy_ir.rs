//! The lowered form of a script: the JavaScript subset the evaluator interprets.

use std::sync::Arc as Rc;

use crate::source::Span;

#[derive(Debug, Clone, PartialEq)]
pub enum Stmt {
    /// `let`/`const`/`var name = init`; destructuring binds every name to `Unknown`.
    Let {
        names: Vec<String>,
        init: Option<Expr>,
        destructured: bool,
    },
    Expr(Expr),
    If {
        test: Expr,
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
    },
    Return {
        value: Option<Expr>,
        span: Span,
    },
    /// `for (const name of iter)`.
    ForOf {
        name: String,
        iter: Expr,
        body: Vec<Stmt>,
    },
    /// Any other loop: its body may run.
    Loop {
        body: Vec<Stmt>,
    },
    /// A block, or a `try` block with its handlers (which may run).
    Block {
        body: Vec<Stmt>,
        may: Vec<Stmt>,
    },
    /// Statements that share the enclosing scope (`let a = 1, b = 2;`).
    Seq(Vec<Stmt>),
    /// A function declaration: binds `name`.
    Function {
        name: String,
        function: Rc<Function>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub params: Vec<String>,
    pub body: Vec<Stmt>,
    /// An arrow function whose body is an expression.
    pub expression: Option<Expr>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Str(String),
    Num(f64),
    Bool(bool),
    Null,
    Undefined,
    Template(Vec<TemplatePart>),
    Ident(String),
    /// `object.property` (static) or `object[property]` (computed).
    Member {
        object: Box<Expr>,
        property: Box<Expr>,
        computed: bool,
    },
    /// `target = value`; `compound` for `+=` and the like.
    Assign {
        target: Box<Expr>,
        value: Box<Expr>,
        compound: bool,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Expr>,
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
    Not(Box<Expr>),
    Conditional {
        test: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Object(Vec<Property>),
    Array(Vec<Expr>),
    Function(Rc<Function>),
    /// Several expressions in order (`a, b`); the value is the last.
    Sequence(Vec<Expr>),
    Unknown,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Property {
    KeyValue { key: Expr, value: Expr },
    Spread(Expr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    /// `===`
    Eq,
    /// `!==`
    NotEq,
    /// `==`
    LooseEq,
    /// `!=`
    LooseNotEq,
    Add,
    Other,
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

    pub fn unknown(span: Span) -> Expr {
        Expr::new(ExprKind::Unknown, span)
    }
}
