//! A lexical pass over a script before oxc parses it, refusing scripts that would exhaust the
//! parser.
//!
//! oxc's parser recurses once per level of nesting and keeps every diagnostic it produces, with
//! no limit on either. Nesting is not only brackets: `x => x => …`, `a ? a : a ? …`, `!!!…x`,
//! `a = a = …`, `new new …`, `a ** a ** …`, `class extends class extends …`, `@@@…` and
//! `if (a) if (a) …` nest without one, and a run of stray characters (`\\\\…`) makes one
//! diagnostic of about 200 bytes per byte. This pass tokenises the script the way a JavaScript
//! reader does (strings, comments, templates, and regular expressions told from division by the
//! token before them) and estimates, from above, how deep the parser would recurse: every
//! bracket, plus per open bracket the statement-nesting keywords seen in it since a statement
//! last ended (a `;` or a block not followed by `else`) and the expression-nesting tokens since
//! the last `;`, `,` or automatic semicolon in it. A block can end statements around an
//! expression still open (`if (a) x = a ? function () {} : …`), so the estimate may fall short
//! by at most one limit's worth of statements; the limit leaves that room.

/// Limits of the pass; [`Limits::default`] holds the ones claimlint uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest script analysed, in bytes.
    pub bytes: usize,
    /// Deepest bracket nesting (`(`, `[`, `{`, `${`).
    pub brackets: usize,
    /// Deepest estimated recursion of the parser, brackets included.
    pub nesting: usize,
    /// Characters JavaScript does not allow outside strings and comments.
    pub stray: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // About 2 KiB of parser stack per level: 10,000 levels stay far inside the worker
        // threads' stack. Real scripts nest a few dozen levels.
        // Auth0 takes actions of at most 100 KB and advises keeping all rules under 100 kB in
        // total; ten times that is far past any real script, and parses in about 35 MB.
        Limits {
            bytes: 1 << 20,
            brackets: 256,
            nesting: 10_000,
            stray: 64,
        }
    }
}

/// Why a script is not parsed: the byte offset where a limit was passed, and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub at: usize,
    pub message: String,
}

/// Why a script of `len` bytes is not analysed.
pub fn too_large(len: usize, limits: Limits) -> String {
    format!(
        "script is {} KiB; Auth0 takes actions of at most 100 KB and advises under 100 kB for all rules together, so scripts over {} KiB are not analysed",
        len >> 10,
        limits.bytes >> 10
    )
}

/// Checks `text` against `limits`; `None` when oxc can parse it safely.
pub fn prescan(text: &str, limits: Limits) -> Option<Refusal> {
    prescan_from(text, limits, false)
}

/// As [`prescan`]; with `in_expression`, the text is read as an operand of an expression (a
/// bare `function (user, context, callback) {…}`, which the parser reads after `void`).
pub fn prescan_from(text: &str, limits: Limits, in_expression: bool) -> Option<Refusal> {
    if text.len() > limits.bytes {
        return Some(Refusal {
            at: 0,
            message: too_large(text.len(), limits),
        });
    }
    if too_small_to_refuse(text.as_bytes(), limits) {
        return None;
    }
    scan(text, limits, in_expression)
}

/// The scan itself, whatever the text's size.
fn scan(text: &str, limits: Limits, in_expression: bool) -> Option<Refusal> {
    let mut outer = Frame::new(Kind::Block);
    outer.expression = usize::from(in_expression);
    Scanner {
        bytes: text.as_bytes(),
        i: 0,
        prev: if in_expression {
            Prev::Operator
        } else {
            Prev::Start
        },
        newline: false,
        frames: vec![outer],
        below: 0,
        head: false,
        member: false,
        closed_block: false,
        conditional_colon: false,
        stray: 0,
        limits,
    }
    .run()
}

/// Whether counting bytes shows that the scan cannot refuse the text, as for most scripts:
/// every frame is opened by a `(`, `[` or `{` byte; every level of the estimate is a frame or
/// one token of at least one byte (plus the operand a bare function is read as); every stray
/// character is one of the stray bytes, wherever it stands.
fn too_small_to_refuse(bytes: &[u8], limits: Limits) -> bool {
    if bytes.len() + 2 > limits.nesting {
        return false;
    }
    let (mut brackets, mut stray) = (0, 0);
    // Both counted in one pass, in runs of 255 into a byte each, which the compiler turns
    // into vector instructions; a text past either limit stops at the run that shows it.
    for run in bytes.chunks(255) {
        let (b, s) = run.iter().fold((0u8, 0u8), |(b, s), &x| {
            (b + u8::from(is_bracket(x)), s + u8::from(is_stray(x)))
        });
        brackets += usize::from(b);
        stray += usize::from(s);
        if brackets > limits.brackets || stray > limits.stray {
            return false;
        }
    }
    true
}

/// A byte that opens a frame.
fn is_bracket(b: u8) -> bool {
    b == b'(' || b == b'[' || b == b'{'
}

/// A byte JavaScript does not allow outside strings and comments (`#` but in a private name).
fn is_stray(b: u8) -> bool {
    matches!(b, b'\\' | b'#' | 0x00..=0x08 | 0x0e..=0x1f | 0x7f)
}

/// What the previous significant token allows next: an operand ends an expression (a `/` after it
/// divides), anything else expects one (a `/` after it starts a regular expression).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prev {
    Start,
    Operand,
    Operator,
}

/// What an open bracket is, for what its closing means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `(` after `if`, `while`, `for`, `with`: a `/` after its `)` starts a regular expression.
    StatementHead,
    /// Any other `(` or `[`.
    Group,
    /// `{` of a statement block, or of a function or class body declared as a statement.
    Block,
    /// `{` of a function, arrow or class body inside an expression: its `}` ends an operand.
    ExpressionBody,
    /// `{` of an object literal or pattern.
    Object,
    /// `${` in a template: its `}` goes back into the template text.
    Substitution,
}

#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: Kind,
    /// Statement nesting (`if`, `else`, `for`, `while`, `do`, `with`, labels) in this bracket
    /// since a statement last ended; a `;` or block followed by `else` ends none.
    statements: usize,
    /// Expression nesting since the last `;`, `,` or automatic semicolon in this bracket.
    expression: usize,
    /// Open `?` waiting for their `:`.
    conditionals: usize,
    /// After `case` or `default`: the next `:` (of no conditional) ends a case label.
    case_label: bool,
}

impl Frame {
    fn new(kind: Kind) -> Self {
        Frame {
            kind,
            statements: 0,
            expression: 0,
            conditionals: 0,
            case_label: false,
        }
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    i: usize,
    prev: Prev,
    /// A line break since the previous significant token.
    newline: bool,
    frames: Vec<Frame>,
    /// The share of the estimate of every frame but the top one.
    below: usize,
    /// The previous token was `if`, `while`, `for` or `with`: a `(` now is a statement head.
    head: bool,
    /// The previous token was `.` or `?.`: a keyword now is a property name.
    member: bool,
    /// The previous token was a `}` that closed a block: a `{` now opens another.
    closed_block: bool,
    /// The previous token was a conditional's `:`: a `{` now opens an object.
    conditional_colon: bool,
    stray: usize,
    limits: Limits,
}

impl Scanner<'_> {
    fn run(mut self) -> Option<Refusal> {
        if self.bytes.starts_with(b"#!") {
            self.skip_line();
        }
        while self.i < self.bytes.len() {
            let b = self.bytes[self.i];
            let at = self.i;
            match b {
                b'\n' | b'\r' => {
                    self.newline = true;
                    self.i += 1;
                }
                // U+2028 and U+2029 end lines in JavaScript too.
                0xe2 if self.separator_at(self.i) => {
                    self.newline = true;
                    self.i += 3;
                }
                b' ' | b'\t' | 0x0b | 0x0c => self.i += 1,
                b'/' if self.peek(1) == Some(b'/') => self.skip_line(),
                b'/' if self.peek(1) == Some(b'*') => self.skip_block_comment(),
                b'\'' | b'"' => {
                    self.operand_start();
                    self.skip_string(b);
                    self.operand();
                }
                b'`' => {
                    if self.prev != Prev::Operand {
                        self.operand_start();
                    }
                    self.i += 1;
                    if let Some(refusal) = self.template() {
                        return Some(refusal);
                    }
                }
                b'/' if self.prev != Prev::Operand => {
                    self.operand_start();
                    self.skip_regex();
                    self.operand();
                }
                b'0'..=b'9' => {
                    self.operand_start();
                    self.skip_word();
                    self.operand();
                }
                b'.' if self.peek(1).is_some_and(|c| c.is_ascii_digit()) => {
                    self.operand_start();
                    self.i += 1;
                    self.skip_word();
                    self.operand();
                }
                b'(' | b'[' | b'{' => {
                    if let Some(refusal) = self.open(b) {
                        return Some(refusal);
                    }
                }
                b')' | b']' | b'}' => {
                    self.i += 1;
                    if self.close()
                        && let Some(refusal) = self.template()
                    {
                        return Some(refusal);
                    }
                }
                b'\\' if self.peek(1) == Some(b'u') => self.word(),
                b'@' => {
                    // A decorator nests what follows it.
                    self.nest_expression();
                    self.operator();
                    self.i += 1;
                }
                b if is_stray(b) => {
                    if b == b'#' && self.peek(1).is_some_and(is_word_byte) {
                        // A private name, `#field`.
                        self.word();
                        continue;
                    }
                    self.stray += 1;
                    self.i += 1;
                    if self.stray > self.limits.stray {
                        return Some(Refusal {
                            at,
                            message: format!(
                                "script holds more than {} characters JavaScript does not allow outside strings and comments; it was not analysed",
                                self.limits.stray
                            ),
                        });
                    }
                }
                b if is_word_byte(b) => self.word(),
                _ => self.punctuator(),
            }
            if let Some(refusal) = self.check(at) {
                return Some(refusal);
            }
        }
        None
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes.get(self.i + ahead).copied()
    }

    fn top(&mut self) -> &mut Frame {
        // The outermost frame is never popped (see `close`).
        let last = self.frames.len() - 1;
        &mut self.frames[last]
    }

    /// A token that can start a statement is about to be read: after an operand and a line
    /// break, JavaScript inserts a semicolon there, which ends the expression nesting.
    fn operand_start(&mut self) {
        self.automatic_semicolon(true);
    }

    /// After an operand and a line break, a token that starts a statement gets a semicolon
    /// inserted before it: the expression ends, and the statements too unless `else` follows.
    fn automatic_semicolon(&mut self, ends_statements: bool) {
        if self.prev == Prev::Operand && self.newline {
            let top = self.top();
            top.expression = 0;
            top.conditionals = 0;
            if ends_statements {
                top.statements = 0;
            }
        }
    }

    /// Whether a U+2028 or U+2029 (a line terminator) starts at byte `at`.
    fn separator_at(&self, at: usize) -> bool {
        self.bytes
            .get(at..at + 3)
            .is_some_and(|b| b == [0xe2, 0x80, 0xa8] || b == [0xe2, 0x80, 0xa9])
    }

    fn operand(&mut self) {
        self.after(Prev::Operand);
    }

    fn operator(&mut self) {
        self.after(Prev::Operator);
    }

    /// A token was read: what it allows next, and the one-token flags cleared.
    fn after(&mut self, prev: Prev) {
        self.prev = prev;
        self.newline = false;
        self.head = false;
        self.member = false;
        self.closed_block = false;
        self.conditional_colon = false;
    }

    fn nest_expression(&mut self) {
        self.top().expression += 1;
    }

    fn nest_statement(&mut self) {
        self.top().statements += 1;
    }

    /// The estimated depth: every frame's level and nesting. Frames below the top cannot change
    /// while covered, so their share is kept in `below` as frames are pushed and popped.
    fn estimate(&self) -> usize {
        let top = &self.frames[self.frames.len() - 1];
        self.below + 1 + top.statements + top.expression
    }

    fn push_frame(&mut self, kind: Kind) {
        let top = &self.frames[self.frames.len() - 1];
        self.below += 1 + top.statements + top.expression;
        self.frames.push(Frame::new(kind));
    }

    fn pop_frame(&mut self) -> Frame {
        let frame = self.frames.pop().unwrap_or(Frame::new(Kind::Group));
        let top = &self.frames[self.frames.len() - 1];
        self.below -= 1 + top.statements + top.expression;
        frame
    }

    fn check(&self, at: usize) -> Option<Refusal> {
        if self.frames.len() > self.limits.brackets + 1 {
            return Some(Refusal {
                at,
                message: format!(
                    "script nests brackets deeper than {} levels; it was not analysed",
                    self.limits.brackets
                ),
            });
        }
        if self.estimate() > self.limits.nesting {
            return Some(Refusal {
                at,
                message: format!(
                    "script nests expressions or statements deeper than {} levels; it was not analysed",
                    self.limits.nesting
                ),
            });
        }
        None
    }

    fn open(&mut self, b: u8) -> Option<Refusal> {
        let in_expression = self.frames[self.frames.len() - 1].expression > 0;
        let kind = match b {
            b'(' if self.head => Kind::StatementHead,
            b'(' | b'[' => Kind::Group,
            _ if self.conditional_colon => Kind::Object,
            // `{` after `)` (of a statement head or parameters), `class A`, or an automatic
            // semicolon: a block or a body; inside an expression, a function's or class's body.
            _ if self.prev != Prev::Operator || self.block_follows() => {
                if in_expression {
                    Kind::ExpressionBody
                } else {
                    Kind::Block
                }
            }
            _ => Kind::Object,
        };
        self.i += 1;
        self.push_frame(kind);
        self.operator();
        self.check(self.i - 1)
    }

    /// Whether a `{` after an operator-like token opens a block: after `;`, `{`, `=>`, a
    /// statement head's `)`, a label's `:`, and the keywords that take a block.
    fn block_follows(&self) -> bool {
        let before = self.bytes[..self.i].trim_ascii_end();
        let last_word = before.rsplit(|c| !is_word_byte(*c)).next().unwrap_or_default();
        // `)` here closed a statement head (`if (a) {`): other `)` leave an operand.
        if self.closed_block
            || before.ends_with(b"=>")
            || before.ends_with(b";")
            || before.ends_with(b"{")
            || before.ends_with(b")")
        {
            return true;
        }
        if before.ends_with(b":") {
            // A label's or a case's colon, not a property's or a conditional's.
            let top = &self.frames[self.frames.len() - 1];
            return top.kind == Kind::Block && top.conditionals == 0;
        }
        matches!(last_word, b"else" | b"do" | b"try" | b"finally") && before.ends_with(last_word)
    }

    /// Closes a bracket; true when it was a template substitution, so the template goes on.
    fn close(&mut self) -> bool {
        if self.frames.len() == 1 {
            // An unmatched closing bracket: a syntax error oxc reports.
            self.operand();
            return false;
        }
        let frame = self.pop_frame();
        match frame.kind {
            Kind::Block => {
                // A block ends the statements around it unless `else` continues them.
                if !self.else_follows() {
                    self.top().statements = 0;
                }
                self.operator();
                self.closed_block = true;
            }
            Kind::ExpressionBody => self.operand(),
            Kind::StatementHead => self.operator(),
            Kind::Substitution => return true,
            Kind::Group | Kind::Object => self.operand(),
        }
        false
    }

    /// Whether the next token is `else`, which continues the `if` statements a `;` or a block
    /// would otherwise end.
    fn else_follows(&self) -> bool {
        let mut i = self.i;
        loop {
            let rest = &self.bytes[i.min(self.bytes.len())..];
            let trimmed = rest.trim_ascii_start();
            i += rest.len() - trimmed.len();
            if trimmed.starts_with(b"//") {
                let end = (0..trimmed.len())
                    .find(|&j| trimmed[j] == b'\n' || trimmed[j] == b'\r' || self.separator_at(i + j));
                i += end.unwrap_or(trimmed.len());
            } else if trimmed.starts_with(b"/*") {
                match trimmed.windows(2).skip(2).position(|w| w == b"*/") {
                    Some(end) => i += end + 4,
                    None => return false,
                }
            } else {
                return trimmed.starts_with(b"else") && !trimmed.get(4).copied().is_some_and(is_word_byte);
            }
        }
    }

    /// Reads template text after a backtick or a substitution's `}`, up to the closing backtick
    /// or the next `${`.
    fn template(&mut self) -> Option<Refusal> {
        while self.i < self.bytes.len() {
            match self.bytes[self.i] {
                b'\\' => self.i += 2,
                b'`' => {
                    self.i += 1;
                    self.operand();
                    return None;
                }
                b'$' if self.peek(1) == Some(b'{') => {
                    self.i += 2;
                    self.push_frame(Kind::Substitution);
                    self.operator();
                    return self.check(self.i - 2);
                }
                _ => self.i += 1,
            }
        }
        None
    }

    /// Reads an identifier, keyword or private name.
    fn word(&mut self) {
        let start = self.i;
        if self.bytes[self.i] == b'#' {
            self.i += 1;
        }
        self.skip_word();
        let word = &self.bytes[start..self.i];
        if self.member {
            // `a.if`, `Symbol.for`: a property name, whatever its spelling.
            self.operand();
            return;
        }
        // Words that continue an expression across a line break.
        if !matches!(word, b"in" | b"instanceof" | b"of" | b"extends") {
            self.automatic_semicolon(word != b"else");
        }
        match word {
            b"if" | b"while" | b"for" | b"with" => {
                self.nest_statement();
                self.operator();
                self.head = true;
            }
            b"else" | b"do" => {
                self.nest_statement();
                self.operator();
            }
            b"case" | b"default" => {
                self.top().case_label = true;
                self.operator();
            }
            b"new" | b"typeof" | b"void" | b"delete" | b"await" | b"yield" | b"class" | b"extends" => {
                self.nest_expression();
                self.operator();
            }
            b"return" | b"throw" | b"in" | b"of" | b"instanceof" | b"try" | b"finally" | b"var" | b"let"
            | b"const" | b"export" | b"import" => self.operator(),
            _ => self.operand(),
        }
    }

    fn punctuator(&mut self) {
        let rest = &self.bytes[self.i..];
        let operand_before = self.prev == Prev::Operand;
        // Longest operators first.
        const OPERATORS: [&[u8]; 30] = [
            b">>>=", b"...", b"===", b"!==", b"**=", b"<<=", b">>=", b">>>", b"&&=", b"||=", b"??=", b"=>",
            b"==", b"!=", b"<=", b">=", b"&&", b"||", b"??", b"?.", b"++", b"--", b"**", b"+=", b"-=", b"*=",
            b"/=", b"%=", b"&=", b"|=",
        ];
        let token: &[u8] = OPERATORS
            .iter()
            .find(|op| rest.starts_with(op))
            .copied()
            .unwrap_or(&rest[..1]);
        // `?.` followed by a digit is `?` then a number.
        let token: &[u8] = if token == b"?." && rest.get(2).is_some_and(u8::is_ascii_digit) {
            b"?"
        } else {
            token
        };
        self.i += token.len();
        match token {
            b";" | b"," => {
                let statement_ends = token == b";" && !self.else_follows();
                let top = self.top();
                top.expression = 0;
                top.conditionals = 0;
                if statement_ends {
                    top.statements = 0;
                }
                self.operator();
            }
            b"?." | b"." => {
                self.operator();
                self.member = true;
            }
            b"++" | b"--" if operand_before && !self.newline => {
                // Postfix: the operand goes on.
                self.operand();
            }
            b"++" | b"--" => {
                self.operand_start();
                self.nest_expression();
                self.operator();
            }
            b"?" => {
                let top = self.top();
                top.expression += 1;
                top.conditionals += 1;
                self.operator();
            }
            b":" => {
                let top = self.top();
                let conditional = top.conditionals > 0;
                if conditional {
                    top.conditionals -= 1;
                } else if top.case_label {
                    top.case_label = false;
                } else if matches!(top.kind, Kind::Block | Kind::ExpressionBody) {
                    // A label nests the statement after it.
                    top.statements += 1;
                }
                self.operator();
                self.conditional_colon = conditional;
            }
            b"!" | b"~" => {
                self.operand_start();
                self.nest_expression();
                self.operator();
            }
            b"+" | b"-" if !operand_before => {
                self.nest_expression();
                self.operator();
            }
            b"=" | b"=>" | b"**" | b"**=" | b"+=" | b"-=" | b"*=" | b"/=" | b"%=" | b"&=" | b"|=" | b"^="
            | b"<<=" | b">>=" | b">>>=" | b"&&=" | b"||=" | b"??=" => {
                self.nest_expression();
                self.operator();
            }
            _ => self.operator(),
        }
    }

    fn skip_word(&mut self) {
        while self.i < self.bytes.len() {
            let b = self.bytes[self.i];
            if is_word_byte(b) {
                self.i += 1;
            } else if b == b'\\' && self.peek(1) == Some(b'u') {
                self.i += 2;
            } else {
                break;
            }
        }
    }

    fn skip_line(&mut self) {
        while self.i < self.bytes.len()
            && self.bytes[self.i] != b'\n'
            && self.bytes[self.i] != b'\r'
            && !self.separator_at(self.i)
        {
            self.i += 1;
        }
    }

    fn skip_block_comment(&mut self) {
        let body = &self.bytes[self.i + 2..];
        match body.windows(2).position(|w| w == b"*/") {
            Some(end) => {
                if body[..end].contains(&b'\n') || body[..end].contains(&b'\r') {
                    self.newline = true;
                }
                self.i += 2 + end + 2;
            }
            None => self.i = self.bytes.len(),
        }
    }

    fn skip_string(&mut self, quote: u8) {
        self.i += 1;
        while self.i < self.bytes.len() {
            match self.bytes[self.i] {
                // A line continuation may be CRLF, or U+2028/U+2029 (three bytes).
                b'\\' if self.bytes.get(self.i + 1..self.i + 3) == Some(b"\r\n") => self.i += 3,
                b'\\' if self.separator_at(self.i + 1) => self.i += 4,
                b'\\' => self.i += 2,
                b'\n' | b'\r' => return,
                c if c == quote => {
                    self.i += 1;
                    return;
                }
                _ => self.i += 1,
            }
        }
    }

    fn skip_regex(&mut self) {
        self.i += 1;
        let mut class = false;
        while self.i < self.bytes.len() {
            match self.bytes[self.i] {
                b'\\' => self.i += 2,
                b'\n' | b'\r' => return,
                0xe2 if self.separator_at(self.i) => return,
                b'[' => {
                    class = true;
                    self.i += 1;
                }
                b']' => {
                    class = false;
                    self.i += 1;
                }
                b'/' if !class => {
                    self.i += 1;
                    self.skip_word();
                    return;
                }
                _ => self.i += 1,
            }
        }
    }
}

/// Bytes of identifiers and numbers: ASCII letters, digits, `_`, `$`, and every byte of a
/// non-ASCII character (Unicode identifiers; oxc judges them).
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        // The size limit is tested on its own; these tests are about nesting.
        let limits = Limits {
            bytes: usize::MAX,
            ..Limits::default()
        };
        prescan(text, limits).map(|r| r.message)
    }

    #[test]
    fn scripts_past_the_size_limit_are_refused() {
        let big = "a = 1;\n".repeat(200_000);
        let message = prescan(&big, Limits::default()).unwrap().message;
        assert!(message.contains("over 1024 KiB are not analysed"), "{message}");
        assert_eq!(prescan(&"a = 1;\n".repeat(100_000), Limits::default()), None);
    }

    proptest::proptest! {
        /// The byte count that lets most scripts skip the scan only lets through what the
        /// scan lets through, with limits small enough for short texts to reach them.
        #[test]
        fn texts_that_skip_the_scan_pass_it(
            pieces in proptest::collection::vec(proptest::sample::select(vec![
                "(", ")", "[", "]", "{", "}", "${", "`", "'", "/", "/*", "*/", "\n", ";", "?",
                ":", "!", "=", "=>", "+", "++", ".", "x", " ", "if", "else", "new", "@", "#",
                "\\",
            ]), 0..30),
            in_expression in proptest::bool::ANY,
        ) {
            let text: String = pieces.concat();
            let limits = Limits { bytes: usize::MAX, brackets: 2, nesting: 40, stray: 1 };
            if too_small_to_refuse(text.as_bytes(), limits) {
                proptest::prop_assert_eq!(scan(&text, limits, in_expression), None, "{:?}", text);
            }
        }
    }

    #[test]
    fn the_byte_count_is_exact_where_every_byte_nests() {
        let limits = Limits {
            bytes: usize::MAX,
            brackets: 4,
            nesting: 12,
            stray: 2,
        };
        let mut refused_at_the_bound = 0;
        for unit in [
            "!", "(", "[", "{", "`${", "-", "=", "?", ":", "\\", "#", "if", "new ",
        ] {
            for n in 0..16 {
                let text = unit.repeat(n);
                for in_expression in [false, true] {
                    let skips = too_small_to_refuse(text.as_bytes(), limits);
                    let scanned = scan(&text, limits, in_expression);
                    if skips {
                        assert_eq!(scanned, None, "{text:?}");
                    } else if scanned.is_some()
                        && (n < 2 || too_small_to_refuse(unit.repeat(n - 1).as_bytes(), limits))
                    {
                        refused_at_the_bound += 1;
                    }
                }
            }
        }
        // Brackets, stray characters and nesting each meet the scan's limit where the count does.
        assert!(refused_at_the_bound >= 3, "{refused_at_the_bound}");
    }

    #[test]
    fn ordinary_scripts_pass() {
        let scripts = [
            "function (user, context, callback) {\n  const ns = 'https://example.com/';\n  context.idToken[ns + 'role'] = user.app_metadata.role || 'none';\n  if (/^admin/i.test(user.email)) { context.accessToken[ns + 'admin'] = true; } else if (a) x = 1; else y = 2;\n  return callback(null, user, context);\n}",
            "exports.onExecutePostLogin = async (event, api) => {\n  const x = event.user.app_metadata?.plan ?? 'free';\n  api.idToken.setCustomClaim(`https://a.com/${x}`, x > 1 ? 'a' : 'b');\n};",
            "a = b / c / d; e = f(/x/g, `t${`u${v}`}`);",
        ];
        for script in scripts {
            assert_eq!(refused(script), None, "{script}");
        }
    }

    #[test]
    fn long_flat_code_passes() {
        // Ten thousand statements in a row, with and without semicolons, one big object
        // literal, one long concatenation, and a long switch: flat, however long.
        let assignments = "a = b ? c : !d;\n".repeat(20_000);
        let no_semicolons = "a = b ? c : !d\nx = -y\n".repeat(10_000);
        let object = format!("x = {{{}}};", "k: v ? 1 : 2, ".repeat(20_000));
        let concatenation = format!("x = {};", "'a' + ".repeat(50_000) + "'b'");
        let switch = format!("switch (x) {{ {} }}", "case 1: y = 2; break; ".repeat(20_000));
        let ifs = "if (a) { b = 1; }\n".repeat(20_000);
        let bare_ifs = "if (a) b = 1;\nif (a) b = 2; else c = 3;\n".repeat(20_000);
        let commented = "if (a) b = 1; // else\n/* else */ c = 2;\n".repeat(20_000);
        for script in [
            assignments,
            no_semicolons,
            object,
            concatenation,
            switch,
            ifs,
            bare_ifs,
            commented,
        ] {
            assert_eq!(refused(&script), None, "{}", &script[..40]);
        }
    }

    #[test]
    fn deep_chains_without_brackets_are_refused() {
        let n = 20_000;
        let chains = [
            "x => ".repeat(n) + "1",
            "a ? a : ".repeat(n) + "1",
            "a ?\n a :\n".repeat(n) + "1",
            "new ".repeat(n) + "X",
            "!".repeat(n) + "x",
            "- ".repeat(n) + "x",
            "a = ".repeat(n) + "x",
            "a ** ".repeat(n) + "a",
            "typeof ".repeat(n) + "x",
            format!("x = {}A{}", "class extends ".repeat(n), " {}".repeat(n)),
            "@".repeat(n) + "x",
            "if (a) ".repeat(n) + "x;",
            "if (a) x; else ".repeat(n) + "x;",
            "if (a) {} else ".repeat(n) + "{}",
            "l: ".repeat(n) + "x;",
            "a ? function () {} : ".repeat(n) + "1",
            "a ? function ()\n{} : ".repeat(n) + "1",
            "a ? ';' : ".repeat(n) + "1",
            "a ? /'/ : ".repeat(n) + "1",
            "a ? `'` : ".repeat(n) + "1",
            "if (a) x; else if (a) ".repeat(n / 4) + "x;",
            "if (a) x; /* c */ else // c\n if (a) ".repeat(n / 4) + "x;",
            "if (a) {} else if (a) ".repeat(n / 2) + "{}",
        ];
        for script in chains {
            let message = refused(&script).unwrap_or_else(|| panic!("{}", &script[..30]));
            assert!(message.contains("deeper than"), "{message}");
        }
    }

    /// Scripts a review found to hide deep brackets from an earlier version of the scan, each
    /// by making it misread a token boundary.
    #[test]
    fn token_boundaries_that_hid_deep_brackets() {
        let p = format!("{}1{}", "(".repeat(1_000), ")".repeat(1_000));
        let hiding = [
            format!("//\u{2028}x = {p};"),
            format!("x = function () {{}} / {p} / 1;"),
            format!("x = class {{}} / {p} / 1;"),
            format!("x = a.if(1) / {p} / 1;"),
            format!("x = Symbol.for(1) / {p} / 1;"),
            format!("{{}}{{}}/`/\nx = {p};\n//`\n"),
            format!("x = 'a\\\r\n'; x = {p};\n"),
        ];
        for script in hiding {
            let message = refused(&script).unwrap_or_else(|| panic!("{}", &script[..40]));
            assert!(message.contains("brackets"), "{message}");
        }
    }

    #[test]
    fn blocks_inside_expressions_do_not_end_the_statements_around_them() {
        let k = 3;
        let nested: String = ("if(a)".repeat(4_000) + "x=a?function(){}:(function(){").repeat(k);
        let script = format!("{nested}x;{};", "})".repeat(k));
        assert!(refused(&script).unwrap().contains("deeper than"));
        let arrows = "if(a)_=>{};else ".repeat(20_000) + "x;";
        assert!(refused(&arrows).unwrap().contains("deeper than"));
    }

    #[test]
    fn automatic_semicolons_and_objects_after_colons_are_not_nesting() {
        assert_eq!(refused(&"if (a) b = 1\n".repeat(20_000)), None);
        assert_eq!(refused(&"if (a) b = 1\nelse c = 2\n".repeat(20_000)), None);
        let object = format!("x = a ? {{}} : {{{}}};", "k: 1, ".repeat(20_000));
        assert_eq!(refused(&object), None);
    }

    #[test]
    fn nesting_is_summed_across_brackets() {
        let script = format!("{}1{}", "(a ? a : a ? a : a ? a : ".repeat(200), ")".repeat(200));
        assert_eq!(refused(&script), None);
        let script = format!("({}1)", "x => ".repeat(100));
        assert_eq!(refused(&script), None);
        let deep = format!(
            "{}1{}",
            format!("({}", "x => ".repeat(60)).repeat(200),
            ")".repeat(200)
        );
        assert!(refused(&deep).unwrap().contains("deeper than"));
    }

    #[test]
    fn deep_brackets_are_refused() {
        assert!(refused(&"(".repeat(300)).unwrap().contains("brackets"));
        assert!(refused(&"`${".repeat(300)).unwrap().contains("brackets"));
        // Brackets inside strings, comments and regular expressions do not count.
        let quiet = format!(
            "a = '{0}'; // {0}\n/* {0} */ b = /{0}/; c = `{0}`;",
            "(".repeat(300)
        );
        assert_eq!(refused(&quiet), None);
    }

    #[test]
    fn runs_of_stray_characters_are_refused() {
        assert!(refused(&"\\".repeat(1_000)).unwrap().contains("does not allow"));
        assert!(
            refused(&"\u{1}".repeat(1_000))
                .unwrap()
                .contains("does not allow")
        );
        assert_eq!(refused("a = '\\\\\\\\'; b = \\u0061; class A { #x = 1; }"), None);
    }
}
