//! Expressions for rates, derived parameters and custom propensities.
//!
//! Syntax: numbers (`1e-3`, `.5`), numbers with a bracketed unit (`0.062[1/mV]`), identifiers,
//! `+ - * / ^` (`^` is right-associative and binds tighter than unary minus), parentheses and the
//! functions `exp ln log10 sqrt abs` (one argument) and `min max` (two arguments).
//! [`Compiled`] turns an [`Expr`] into stack-machine code that evaluates without allocating.

use crate::units::{self, Dim, Quantity};

/// Parse error with the byte offset in the expression text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message} at column {}", .offset + 1)]
pub struct ExprError {
    /// Byte offset of the error in the expression text.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `^`
    Pow,
}

/// A built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Func {
    /// `exp(x)`
    Exp,
    /// `ln(x)`, the natural logarithm.
    Ln,
    /// `log10(x)`
    Log10,
    /// `sqrt(x)`
    Sqrt,
    /// `abs(x)`
    Abs,
    /// `min(a, b)`
    Min,
    /// `max(a, b)`
    Max,
}

impl Func {
    const ALL: [Func; 7] = [
        Func::Exp,
        Func::Ln,
        Func::Log10,
        Func::Sqrt,
        Func::Abs,
        Func::Min,
        Func::Max,
    ];

    /// The function's name as written in expressions.
    pub fn name(self) -> &'static str {
        match self {
            Func::Exp => "exp",
            Func::Ln => "ln",
            Func::Log10 => "log10",
            Func::Sqrt => "sqrt",
            Func::Abs => "abs",
            Func::Min => "min",
            Func::Max => "max",
        }
    }

    /// The number of arguments it takes.
    pub fn arity(self) -> usize {
        match self {
            Func::Min | Func::Max => 2,
            _ => 1,
        }
    }

    fn from_name(name: &str) -> Option<Func> {
        Func::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// A parsed expression (AST).
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// A dimensionless number.
    Num(f64),
    /// A number with a unit, in canonical units.
    Quantity(Quantity),
    /// A parameter or species name.
    Name(String),
    /// Unary minus.
    Neg(Box<Expr>),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A function call.
    Call(Func, Vec<Expr>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Unit(String),
    Ident(String),
    Sym(char),
    End,
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Num(_) => "number".into(),
        Tok::Unit(u) => format!("unit [{u}]"),
        Tok::Ident(n) => format!("name '{n}'"),
        Tok::Sym(c) => format!("'{c}'"),
        Tok::End => "end of expression".into(),
    }
}

fn error(offset: usize, message: impl Into<String>) -> ExprError {
    ExprError {
        offset,
        message: message.into(),
    }
}

/// Splits the text into tokens with their byte offsets; the last token is `End`.
fn lex(text: &str) -> Result<Vec<(Tok, usize)>, ExprError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        let rest = &text[start..];
        let (tok, len) = if c.is_whitespace() {
            chars.next();
            continue;
        } else if c.is_ascii_digit()
            || (c == '.' && rest[1..].starts_with(|d: char| d.is_ascii_digit()))
        {
            let len = units::number_len(rest);
            let value: f64 = rest[..len]
                .parse()
                .map_err(|_| error(start, "bad number"))?;
            if !value.is_finite() {
                return Err(error(start, "number out of range"));
            }
            (Tok::Num(value), len)
        } else if c == '[' {
            let close = rest
                .find(']')
                .ok_or_else(|| error(start, "missing ']' after unit"))?;
            (Tok::Unit(rest[1..close].to_string()), close + 1)
        } else if c.is_ascii_alphabetic() || c == '_' {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (Tok::Ident(rest[..len].to_string()), len)
        } else if "+-*/^(),".contains(c) {
            (Tok::Sym(c), 1)
        } else {
            return Err(error(start, format!("unexpected character '{c}'")));
        };
        tokens.push((tok, start));
        while chars.peek().is_some_and(|&(i, _)| i < start + len) {
            chars.next();
        }
    }
    tokens.push((Tok::End, text.len()));
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(Tok, usize)>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].0
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos].1
    }

    fn next(&mut self) -> (Tok, usize) {
        let token = self.tokens[self.pos].clone();
        self.pos = (self.pos + 1).min(self.tokens.len() - 1);
        token
    }

    fn eat(&mut self, c: char) -> bool {
        let found = *self.peek() == Tok::Sym(c);
        if found {
            self.next();
        }
        found
    }

    fn expect(&mut self, c: char) -> Result<(), ExprError> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(error(
                self.offset(),
                format!("expected '{c}', found {}", describe(self.peek())),
            ))
        }
    }

    /// additive := term (('+' | '-') term)*
    fn additive(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.term()?;
        loop {
            let op = match self.peek() {
                Tok::Sym('+') => BinOp::Add,
                Tok::Sym('-') => BinOp::Sub,
                _ => return Ok(left),
            };
            self.next();
            left = Expr::Binary(op, Box::new(left), Box::new(self.term()?));
        }
    }

    /// term := unary (('*' | '/') unary)*
    fn term(&mut self) -> Result<Expr, ExprError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Sym('*') => BinOp::Mul,
                Tok::Sym('/') => BinOp::Div,
                _ => return Ok(left),
            };
            self.next();
            left = Expr::Binary(op, Box::new(left), Box::new(self.unary()?));
        }
    }

    /// unary := '-' unary | primary ['^' unary]
    fn unary(&mut self) -> Result<Expr, ExprError> {
        if self.eat('-') {
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        let base = self.primary()?;
        if self.eat('^') {
            return Ok(Expr::Binary(
                BinOp::Pow,
                Box::new(base),
                Box::new(self.unary()?),
            ));
        }
        Ok(base)
    }

    /// primary := number ['[' unit ']'] | name | func '(' args ')' | '(' additive ')'
    fn primary(&mut self) -> Result<Expr, ExprError> {
        let (tok, offset) = self.next();
        match tok {
            Tok::Num(value) => {
                let Tok::Unit(unit) = self.peek().clone() else {
                    return Ok(Expr::Num(value));
                };
                let (factor, dim) = units::parse_unit(&unit)
                    .map_err(|e| error(self.offset(), format!("bad unit [{unit}]: {e}")))?;
                self.next();
                Ok(Expr::Quantity(Quantity {
                    value: value * factor,
                    dim,
                }))
            }
            Tok::Ident(name) if *self.peek() == Tok::Sym('(') => {
                let func = Func::from_name(&name)
                    .ok_or_else(|| error(offset, format!("unknown function '{name}'")))?;
                self.next();
                let mut args = vec![self.additive()?];
                while self.eat(',') {
                    args.push(self.additive()?);
                }
                self.expect(')')?;
                if args.len() != func.arity() {
                    let (n, s) = (func.arity(), if func.arity() == 1 { "" } else { "s" });
                    let found = args.len();
                    return Err(error(
                        offset,
                        format!("{name} takes {n} argument{s}, found {found}"),
                    ));
                }
                Ok(Expr::Call(func, args))
            }
            Tok::Ident(name) => Ok(Expr::Name(name)),
            Tok::Sym('(') => {
                let inner = self.additive()?;
                self.expect(')')?;
                Ok(inner)
            }
            Tok::Unit(_) => Err(error(offset, "a unit in brackets must follow a number")),
            tok => Err(error(
                offset,
                format!("expected a number, a name or '(', found {}", describe(&tok)),
            )),
        }
    }
}

/// Parses an expression.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let mut parser = Parser {
        tokens: lex(text)?,
        pos: 0,
    };
    let expr = parser.additive()?;
    match parser.peek() {
        Tok::End => Ok(expr),
        tok => Err(error(
            parser.offset(),
            format!("unexpected {}", describe(tok)),
        )),
    }
}

/// A dimension (unit) error in an expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DimError {
    /// A name that is neither a parameter nor a species.
    #[error("unknown name '{0}'")]
    UnknownName(String),
    /// Operands whose units differ (`op` is "add", "subtract", "take the min of", ...).
    #[error("cannot {op} {left} and {right}")]
    Mismatch {
        /// The operation.
        op: String,
        /// Dimension of the left operand.
        left: Dim,
        /// Dimension of the right operand.
        right: Dim,
    },
    /// A function that needs a dimensionless argument.
    #[error("{func} needs a dimensionless argument, found {found}")]
    NotDimensionless {
        /// The function name.
        func: String,
        /// The argument's dimension.
        found: Dim,
    },
    /// An exponent that has a unit.
    #[error("an exponent must be dimensionless, found {0}")]
    DimensionedExponent(Dim),
    /// A quantity with a unit raised to a power that is not a number literal.
    #[error("a quantity with a unit can only be raised to a constant whole number")]
    NonConstantExponent,
    /// A unit raised to a fractional power (also `sqrt` of a unit with an odd exponent).
    #[error("{base} raised to {power} is not a whole unit")]
    NonIntegerPower {
        /// Dimension of the base.
        base: Dim,
        /// The power.
        power: f64,
    },
    /// A call with the wrong number of arguments (only in hand-built expressions).
    #[error("{func} takes {expected} arguments, found {found}")]
    Arity {
        /// The function name.
        func: String,
        /// Arguments it takes.
        expected: usize,
        /// Arguments given.
        found: usize,
    },
}

/// Dimension shared by two operands that must agree; a literal `0` adapts to the other one.
fn same_dim(op: &str, (l, dl): (&Expr, Dim), (r, dr): (&Expr, Dim)) -> Result<Dim, DimError> {
    let zero = |e: &Expr| *e == Expr::Num(0.0);
    if zero(l) {
        Ok(dr)
    } else if zero(r) || dl == dr {
        Ok(dl)
    } else {
        Err(DimError::Mismatch {
            op: op.into(),
            left: dl,
            right: dr,
        })
    }
}

/// A linear combination of names plus a constant, used by [`Expr::linear_terms`].
struct Linear {
    terms: Vec<(String, f64)>,
    constant: f64,
}

impl Linear {
    fn constant(c: f64) -> Linear {
        Linear {
            terms: Vec::new(),
            constant: c,
        }
    }

    fn scale(mut self, k: f64) -> Linear {
        self.terms.iter_mut().for_each(|t| t.1 *= k);
        self.constant *= k;
        self
    }

    fn add(mut self, other: Linear) -> Linear {
        for (name, c) in other.terms {
            match self.terms.iter_mut().find(|t| t.0 == name) {
                Some(t) => t.1 += c,
                None => self.terms.push((name, c)),
            }
        }
        self.constant += other.constant;
        self
    }

    fn as_constant(&self) -> Option<f64> {
        self.terms.is_empty().then_some(self.constant)
    }
}

impl Expr {
    /// Every identifier the expression uses, in order of first appearance, without duplicates.
    pub fn names(&self) -> Vec<&str> {
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
            match e {
                Expr::Num(_) | Expr::Quantity(_) => {}
                Expr::Name(n) if !out.contains(&n.as_str()) => out.push(n),
                Expr::Name(_) => {}
                Expr::Neg(x) => walk(x, out),
                Expr::Binary(_, l, r) => {
                    walk(l, out);
                    walk(r, out);
                }
                Expr::Call(_, args) => args.iter().for_each(|a| walk(a, out)),
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Infers the dimension. `dim_of(name)` gives a name's dimension (None → [`DimError::UnknownName`]).
    pub fn dim(&self, dim_of: &dyn Fn(&str) -> Option<Dim>) -> Result<Dim, DimError> {
        match self {
            Expr::Num(_) => Ok(Dim::NONE),
            Expr::Quantity(q) => Ok(q.dim),
            Expr::Name(n) => dim_of(n).ok_or_else(|| DimError::UnknownName(n.clone())),
            Expr::Neg(x) => x.dim(dim_of),
            Expr::Binary(op, l, r) => {
                let (dl, dr) = (l.dim(dim_of)?, r.dim(dim_of)?);
                match op {
                    BinOp::Add => same_dim("add", (l, dl), (r, dr)),
                    BinOp::Sub => same_dim("subtract", (l, dl), (r, dr)),
                    BinOp::Mul => Ok(dl.mul(dr)),
                    BinOp::Div => Ok(dl.div(dr)),
                    BinOp::Pow if !dr.is_none() => Err(DimError::DimensionedExponent(dr)),
                    BinOp::Pow if dl.is_none() => Ok(Dim::NONE),
                    BinOp::Pow => {
                        let power = match &**r {
                            Expr::Num(n) => *n,
                            Expr::Neg(x) => match **x {
                                Expr::Num(n) => -n,
                                _ => return Err(DimError::NonConstantExponent),
                            },
                            _ => return Err(DimError::NonConstantExponent),
                        };
                        if power.fract() == 0.0 && power.abs() <= 127.0 {
                            Ok(dl.powi(power as i8))
                        } else {
                            Err(DimError::NonIntegerPower { base: dl, power })
                        }
                    }
                }
            }
            Expr::Call(func, args) => {
                if args.len() != func.arity() {
                    let (expected, found) = (func.arity(), args.len());
                    return Err(DimError::Arity {
                        func: func.name().into(),
                        expected,
                        found,
                    });
                }
                let d = args[0].dim(dim_of)?;
                match func {
                    Func::Exp | Func::Ln | Func::Log10 if !d.is_none() => {
                        Err(DimError::NotDimensionless {
                            func: func.name().into(),
                            found: d,
                        })
                    }
                    Func::Exp | Func::Ln | Func::Log10 => Ok(Dim::NONE),
                    Func::Abs => Ok(d),
                    Func::Sqrt => {
                        let even = [d.time, d.conc, d.voltage, d.volume]
                            .iter()
                            .all(|e| e % 2 == 0);
                        let half = Dim {
                            time: d.time / 2,
                            conc: d.conc / 2,
                            voltage: d.voltage / 2,
                            volume: d.volume / 2,
                        };
                        even.then_some(half).ok_or(DimError::NonIntegerPower {
                            base: d,
                            power: 0.5,
                        })
                    }
                    Func::Min | Func::Max => {
                        let op = format!("take the {} of", func.name());
                        same_dim(&op, (&args[0], d), (&args[1], args[1].dim(dim_of)?))
                    }
                }
            }
        }
    }

    fn linear(&self) -> Option<Linear> {
        match self {
            Expr::Num(c) => Some(Linear::constant(*c)),
            Expr::Quantity(q) if q.dim.is_none() => Some(Linear::constant(q.value)),
            Expr::Quantity(_) => None,
            Expr::Name(n) => Some(Linear {
                terms: vec![(n.clone(), 1.0)],
                constant: 0.0,
            }),
            Expr::Neg(x) => Some(x.linear()?.scale(-1.0)),
            Expr::Binary(op, l, r) => {
                let (l, r) = (l.linear()?, r.linear()?);
                match (op, l.as_constant(), r.as_constant()) {
                    (BinOp::Add, _, _) => Some(l.add(r)),
                    (BinOp::Sub, _, _) => Some(l.add(r.scale(-1.0))),
                    (BinOp::Mul, Some(k), _) => Some(r.scale(k)),
                    (BinOp::Mul, _, Some(k)) => Some(l.scale(k)),
                    (BinOp::Div, _, Some(k)) if k != 0.0 => Some(l.scale(1.0 / k)),
                    (BinOp::Pow, Some(a), Some(b)) => Some(Linear::constant(a.powf(b))),
                    _ => None,
                }
            }
            // A call is linear only if it is constant: fold it by compiling without names.
            Expr::Call(..) => Some(Linear::constant(
                Compiled::new(self, &|_| None).ok()?.as_constant()?,
            )),
        }
    }

    /// If the expression is a linear combination of names with constant dimensionless coefficients
    /// (e.g. "Rs + RsP + 1.5*Rs831 - 2*X", "(A + B)*2"), returns (name, coefficient) pairs in order
    /// of first appearance with repeated names merged; else None (also for a constant offset or no names).
    pub fn linear_terms(&self) -> Option<Vec<(String, f64)>> {
        let lin = self.linear()?;
        (lin.constant == 0.0 && !lin.terms.is_empty()).then_some(lin.terms)
    }
}

/// Where a name's value lives at evaluation time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Index into the parameter values.
    Param(u32),
    /// Index into the species counts.
    Species(u32),
}

/// Maximum evaluation stack depth of compiled code.
pub const MAX_STACK: usize = 32;

/// One stack-machine instruction.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Const(f64),
    Param(u32),
    Species(u32),
    Neg,
    PowI(i32),
    Call1(Func),
    Bin(BinOp),
    Min,
    Max,
}

impl Op {
    /// Net change of the stack depth: +1 for a push, 0 for a unary op, -1 for a binary op.
    fn stack_effect(self) -> isize {
        match self {
            Op::Const(_) | Op::Param(_) | Op::Species(_) => 1,
            Op::Neg | Op::PowI(_) | Op::Call1(_) => 0,
            Op::Bin(_) | Op::Min | Op::Max => -1,
        }
    }

    #[inline]
    fn unary(self, x: f64) -> f64 {
        match self {
            Op::Neg => -x,
            Op::PowI(n) => x.powi(n),
            Op::Call1(Func::Exp) => x.exp(),
            Op::Call1(Func::Ln) => x.ln(),
            Op::Call1(Func::Log10) => x.log10(),
            Op::Call1(Func::Sqrt) => x.sqrt(),
            Op::Call1(_) => x.abs(),
            _ => unreachable!("not a unary op"),
        }
    }

    #[inline]
    fn binary(self, a: f64, b: f64) -> f64 {
        match self {
            Op::Bin(BinOp::Add) => a + b,
            Op::Bin(BinOp::Sub) => a - b,
            Op::Bin(BinOp::Mul) => a * b,
            Op::Bin(BinOp::Div) => a / b,
            Op::Bin(BinOp::Pow) => a.powf(b),
            Op::Min => a.min(b),
            Op::Max => a.max(b),
            _ => unreachable!("not a binary op"),
        }
    }
}

/// Stack-machine code for fast repeated evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Compiled {
    ops: Vec<Op>,
}

impl Compiled {
    /// Compiles with names resolved by `resolve`, folding constant sub-expressions.
    ///
    /// Errors: `Err(name)` with just the name for an unresolved name; for an expression that
    /// needs more than [`MAX_STACK`] stack slots or a call with the wrong number of arguments,
    /// `Err` holds a full message instead (it starts with "expression" or the function name and
    /// contains a space, which a name never does).
    pub fn new(expr: &Expr, resolve: &dyn Fn(&str) -> Option<Slot>) -> Result<Compiled, String> {
        let mut code = Compiled { ops: Vec::new() };
        code.emit(expr, resolve)?;
        let mut depth = 0isize;
        let mut max = 0isize;
        for op in &code.ops {
            depth += op.stack_effect();
            max = max.max(depth);
        }
        if max as usize > MAX_STACK {
            let limit = MAX_STACK;
            return Err(format!(
                "expression needs an evaluation stack of {max}, more than the limit of {limit}"
            ));
        }
        Ok(code)
    }

    fn emit(&mut self, expr: &Expr, resolve: &dyn Fn(&str) -> Option<Slot>) -> Result<(), String> {
        match expr {
            Expr::Num(v) => self.ops.push(Op::Const(*v)),
            Expr::Quantity(q) => self.ops.push(Op::Const(q.value)),
            Expr::Name(n) => self.ops.push(match resolve(n).ok_or_else(|| n.clone())? {
                Slot::Param(i) => Op::Param(i),
                Slot::Species(i) => Op::Species(i),
            }),
            Expr::Neg(x) => {
                self.emit(x, resolve)?;
                self.push(Op::Neg);
            }
            Expr::Binary(op, l, r) => {
                self.emit(l, resolve)?;
                self.emit(r, resolve)?;
                match self.ops.last() {
                    Some(&Op::Const(n))
                        if *op == BinOp::Pow && n.fract() == 0.0 && n.abs() <= 8.0 =>
                    {
                        self.ops.pop();
                        self.push(Op::PowI(n as i32));
                    }
                    _ => self.push(Op::Bin(*op)),
                }
            }
            Expr::Call(func, args) => {
                if args.len() != func.arity() {
                    return Err(format!(
                        "{} takes {} argument(s), found {}",
                        func.name(),
                        func.arity(),
                        args.len()
                    ));
                }
                for a in args {
                    self.emit(a, resolve)?;
                }
                self.push(match func {
                    Func::Min => Op::Min,
                    Func::Max => Op::Max,
                    f => Op::Call1(*f),
                });
            }
        }
        Ok(())
    }

    /// Appends an operator, folding it into a constant when its operands are constants.
    fn push(&mut self, op: Op) {
        let n = self.ops.len();
        match (op.stack_effect(), &self.ops[..]) {
            (0, [.., Op::Const(x)]) => self.ops[n - 1] = Op::Const(op.unary(*x)),
            (-1, [.., Op::Const(a), Op::Const(b)]) => {
                let value = op.binary(*a, *b);
                self.ops.truncate(n - 2);
                self.ops.push(Op::Const(value));
            }
            _ => self.ops.push(op),
        }
    }

    /// Evaluates with parameter values (canonical units) and species counts, on a fixed-size stack.
    #[inline]
    pub fn eval(&self, params: &[f64], counts: &[i64]) -> f64 {
        let mut stack = [0.0f64; MAX_STACK];
        let mut sp = 0;
        for &op in &self.ops {
            match op {
                Op::Const(c) => {
                    stack[sp] = c;
                    sp += 1;
                }
                Op::Param(i) => {
                    stack[sp] = params[i as usize];
                    sp += 1;
                }
                Op::Species(i) => {
                    stack[sp] = counts[i as usize] as f64;
                    sp += 1;
                }
                Op::Neg | Op::PowI(_) | Op::Call1(_) => stack[sp - 1] = op.unary(stack[sp - 1]),
                Op::Bin(_) | Op::Min | Op::Max => {
                    sp -= 1;
                    stack[sp - 1] = op.binary(stack[sp - 1], stack[sp]);
                }
            }
        }
        stack[0]
    }

    fn slots(&self, pick: impl Fn(Op) -> Option<u32>) -> Vec<u32> {
        let mut out: Vec<u32> = self.ops.iter().filter_map(|&op| pick(op)).collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The species slots the expression reads (sorted, deduplicated).
    pub fn species(&self) -> Vec<u32> {
        self.slots(|op| match op {
            Op::Species(i) => Some(i),
            _ => None,
        })
    }

    /// The parameter slots the expression reads (sorted, deduplicated).
    pub fn params(&self) -> Vec<u32> {
        self.slots(|op| match op {
            Op::Param(i) => Some(i),
            _ => None,
        })
    }

    /// Some(value) if the code is a single constant.
    pub fn as_constant(&self) -> Option<f64> {
        match self.ops[..] {
            [Op::Const(c)] => Some(c),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: [(&str, Slot); 5] = [
        ("V", Slot::Param(0)),
        ("k", Slot::Param(1)),
        ("x", Slot::Param(2)),
        ("A", Slot::Species(0)),
        ("B", Slot::Species(1)),
    ];
    const PARAMS: [f64; 3] = [-65.0, 2.5, 0.3];
    const COUNTS: [i64; 2] = [7, 3];

    fn resolve(name: &str) -> Option<Slot> {
        NAMES.iter().find(|(n, _)| *n == name).map(|&(_, s)| s)
    }

    /// Direct recursive evaluation, the reference for the compiled code.
    fn direct(e: &Expr) -> f64 {
        match e {
            Expr::Num(v) => *v,
            Expr::Quantity(q) => q.value,
            Expr::Name(n) => match resolve(n).unwrap() {
                Slot::Param(i) => PARAMS[i as usize],
                Slot::Species(i) => COUNTS[i as usize] as f64,
            },
            Expr::Neg(x) => -direct(x),
            Expr::Binary(op, l, r) => {
                let (a, b) = (direct(l), direct(r));
                match op {
                    BinOp::Add => a + b,
                    BinOp::Sub => a - b,
                    BinOp::Mul => a * b,
                    BinOp::Div => a / b,
                    BinOp::Pow => a.powf(b),
                }
            }
            Expr::Call(f, args) => {
                let a = direct(&args[0]);
                match f {
                    Func::Exp => a.exp(),
                    Func::Ln => a.ln(),
                    Func::Log10 => a.log10(),
                    Func::Sqrt => a.sqrt(),
                    Func::Abs => a.abs(),
                    Func::Min => a.min(direct(&args[1])),
                    Func::Max => a.max(direct(&args[1])),
                }
            }
        }
    }

    fn value(text: &str) -> f64 {
        let e = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        direct(&e)
    }

    #[test]
    fn precedence() {
        let cases = [
            ("2+3*4", 14.0),
            ("2 - 3 - 4", -5.0),
            ("8/4/2", 1.0),
            ("-2^2", -4.0),
            ("2^-1", 0.5),
            ("2^3^2", 512.0),
            ("(1+2)*3", 9.0),
            ("--3", 3.0),
            ("2*-3", -6.0),
            ("min(3, 4)", 3.0),
            ("max(3, 4 * 2)", 8.0),
            ("exp(0)", 1.0),
            ("ln(1) + log10(100) + sqrt(16) + abs(-2)", 8.0),
            (".5 + 1e-3 + 2E2", 200.501),
            ("2[mM] + 1 [ uM ]", 2001.0),
        ];
        for (text, expected) in cases {
            assert!((value(text) - expected).abs() < 1e-12, "{text}");
        }
        assert!((value("0.062[1/mV]*V") - -4.03).abs() < 1e-12);
        assert_eq!(
            parse("0.062[1/mV]").unwrap(),
            Expr::Quantity(Quantity {
                value: 0.062,
                dim: Dim::VOLTAGE.powi(-1)
            })
        );
    }

    #[test]
    fn parse_errors() {
        let err = |t: &str| parse(t).unwrap_err();
        assert_eq!(err("2 +").offset, 3);
        assert_eq!(
            err("2 +").to_string(),
            "expected a number, a name or '(', found end of expression at column 4"
        );
        assert_eq!(
            err("foo(").to_string(),
            "unknown function 'foo' at column 1"
        );
        assert_eq!(
            err("1 + sin(x)").to_string(),
            "unknown function 'sin' at column 5"
        );
        assert_eq!(
            err("exp(1,2)").to_string(),
            "exp takes 1 argument, found 2 at column 1"
        );
        assert_eq!(
            err("min(1)").to_string(),
            "min takes 2 arguments, found 1 at column 1"
        );
        assert_eq!(
            err("3 $").to_string(),
            "unexpected character '$' at column 3"
        );
        assert_eq!(
            err("(1 + 2").to_string(),
            "expected ')', found end of expression at column 7"
        );
        assert_eq!(err("1 2").to_string(), "unexpected number at column 3");
        assert_eq!(err("x[mV]").offset, 1);
        assert_eq!(err("2[uMM]").offset, 1);
        assert_eq!(
            err("2[mV").to_string(),
            "missing ']' after unit at column 2"
        );
        assert_eq!(err("1e999").to_string(), "number out of range at column 1");
        assert_eq!(err("").offset, 0);
        assert_eq!(err("é").offset, 0);
    }

    #[test]
    fn names() {
        let e = parse("k * A * (A - 1) + exp(-x) / k").unwrap();
        assert_eq!(e.names(), ["k", "A", "x"]);
    }

    #[test]
    fn dims() {
        let per_s = Dim::TIME.powi(-1);
        let dim_of = |n: &str| match n {
            "V" => Some(Dim::VOLTAGE),
            "c" | "K" => Some(Dim::CONC),
            "k" => Some(per_s),
            "n" | "A" => Some(Dim::NONE),
            _ => None,
        };
        let ok = |t: &str| {
            parse(t)
                .unwrap()
                .dim(&dim_of)
                .unwrap_or_else(|e| panic!("{t}: {e}"))
        };
        let err = |t: &str| parse(t).unwrap().dim(&dim_of).unwrap_err();
        assert_eq!(ok("1 / (1 + 1[mM] / K * exp(-0.062[1/mV] * V))"), Dim::NONE);
        assert_eq!(ok("k * c^4 / (K^4 + c^4) * A"), per_s);
        assert_eq!(ok("c^-2 * K"), Dim::CONC.powi(-1));
        assert_eq!(ok("max(0, V) + 0"), Dim::VOLTAGE);
        assert_eq!(ok("sqrt(c^2 * V^4)"), Dim::CONC.mul(Dim::VOLTAGE.powi(2)));
        assert_eq!(ok("abs(V) - 3[V] + V * n^A"), Dim::VOLTAGE);
        assert_eq!(ok("k * 1[uM/s]"), Dim::CONC.div(Dim::TIME.powi(2)));
        assert_eq!(err("X + 1"), DimError::UnknownName("X".into()));
        assert_eq!(err("V + c").to_string(), "cannot add mV and uM");
        assert_eq!(
            err("V - 1").to_string(),
            "cannot subtract mV and 1 (dimensionless)"
        );
        assert_eq!(
            err("min(V, k)").to_string(),
            "cannot take the min of mV and 1/s"
        );
        assert_eq!(
            err("exp(V)").to_string(),
            "exp needs a dimensionless argument, found mV"
        );
        assert_eq!(err("c^n"), DimError::NonConstantExponent);
        assert_eq!(err("n^c"), DimError::DimensionedExponent(Dim::CONC));
        assert_eq!(
            err("c^0.5").to_string(),
            "uM raised to 0.5 is not a whole unit"
        );
        assert!(matches!(err("sqrt(c)"), DimError::NonIntegerPower { .. }));
        let bad = Expr::Call(Func::Exp, vec![]);
        assert!(matches!(bad.dim(&dim_of), Err(DimError::Arity { .. })));
    }

    #[test]
    fn linear() {
        let lin = |t: &str| parse(t).unwrap().linear_terms();
        let terms = |v: &[(&str, f64)]| {
            Some(
                v.iter()
                    .map(|&(n, c)| (n.to_string(), c))
                    .collect::<Vec<_>>(),
            )
        };
        assert_eq!(
            lin("Rs + RsP + 1.5*Rs831 - 2*X"),
            terms(&[("Rs", 1.0), ("RsP", 1.0), ("Rs831", 1.5), ("X", -2.0)])
        );
        assert_eq!(lin("(A + B)*2"), terms(&[("A", 2.0), ("B", 2.0)]));
        assert_eq!(lin("2*(A+B) - A"), terms(&[("A", 1.0), ("B", 2.0)]));
        assert_eq!(
            lin("-A/4 + 2^2*B + sqrt(4)*A"),
            terms(&[("A", 1.75), ("B", 4.0)])
        );
        assert_eq!(lin("W"), terms(&[("W", 1.0)]));
        for t in [
            "A*B",
            "A/B",
            "exp(A)",
            "A^2",
            "A + 1",
            "3",
            "A/0",
            "2[uM]*A",
            "min(A, B)",
        ] {
            assert_eq!(lin(t), None, "{t}");
        }
    }

    #[test]
    fn compiled_matches_direct() {
        let cases = [
            "0.062[1/mV]*V",
            "k*A*(A-1)/2",
            "1/(1 + 1.2/3.57*exp(-0.062[1/mV]*V))",
            "(k*B^4/(0.5^4 + B^4) + 0.01)*A",
            "min(A, B) + max(x, k) - min(-1, x)",
            "sqrt(abs(V)) - ln(k) + log10(A)",
            "x^2.5 + 2^x + k^9 + k^-8",
            "-A^2 + B^-1 - -x",
            "exp(x)^3 - (A+B)^(1/2)",
            "2*3 + x*(4 - 1)/B",
            "A + (B + (A + (B + (x + k))))",
        ];
        for text in cases {
            let e = parse(text).unwrap();
            let code = Compiled::new(&e, &resolve).unwrap();
            let (got, want) = (code.eval(&PARAMS, &COUNTS), direct(&e));
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "{text}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn compile_details() {
        let compile = |t: &str| Compiled::new(&parse(t).unwrap(), &resolve);
        let code = compile("2*3+x").unwrap();
        assert_eq!(
            code.ops,
            [Op::Const(6.0), Op::Param(2), Op::Bin(BinOp::Add)]
        );
        assert_eq!(compile("A^2").unwrap().ops, [Op::Species(0), Op::PowI(2)]);
        assert_eq!(
            compile("A^-(1+1)").unwrap().ops,
            [Op::Species(0), Op::PowI(-2)]
        );
        assert_eq!(
            compile("A^9").unwrap().ops,
            [Op::Species(0), Op::Const(9.0), Op::Bin(BinOp::Pow)]
        );
        assert_eq!(
            compile("2^3 * exp(0) + max(1, 2)").unwrap().as_constant(),
            Some(10.0)
        );
        assert_eq!(compile("x").unwrap().as_constant(), None);
        let code = compile("k*B*A + V/k + B").unwrap();
        assert_eq!(code.species(), [0, 1]);
        assert_eq!(code.params(), [0, 1]);
        assert_eq!(compile("k + nope"), Err("nope".to_string()));
        let deep = format!("{}x{}", "(x + ".repeat(32), ")".repeat(32));
        assert!(compile(&deep).unwrap_err().starts_with("expression needs"));
        let ok = format!("{}x{}", "(x + ".repeat(30), ")".repeat(30));
        assert!(compile(&ok).is_ok());
    }
}
