//! MathML (the subset SBML uses) as an expression tree, with an evaluator and the lowering of
//! kinetic laws to the engine's [`Expr`].
//!
//! The tree is read once from the XML ([`parse_math`]); function definitions are inlined at
//! that point, so calls never reach evaluation. [`Math::eval`] evaluates a tree directly; it is
//! used while loading (initial values, initial assignments, event times and assignment values),
//! never per reaction event. Kinetic laws are lowered to an [`Expr`] that the network compiles
//! to stack-machine code once ([`crate::expr::Compiled`]).

use std::collections::HashMap;

use roxmltree::Node;

use crate::expr::{BinOp, Expr, Func};

/// The definition URL of SBML's `time` csymbol.
pub const TIME_URL: &str = "http://www.sbml.org/sbml/symbols/time";
/// The definition URL of SBML's `avogadro` csymbol.
pub const AVOGADRO_URL: &str = "http://www.sbml.org/sbml/symbols/avogadro";
/// The definition URL of SBML's `delay` csymbol (not supported).
pub const DELAY_URL: &str = "http://www.sbml.org/sbml/symbols/delay";
/// The MathML namespace.
pub const MATHML_NS: &str = "http://www.w3.org/1998/Math/MathML";

/// A MathML operator or function applied with `<apply>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `plus` (n-ary; 0 arguments = 0).
    Plus,
    /// `minus` (unary negation or binary difference).
    Minus,
    /// `times` (n-ary; 0 arguments = 1).
    Times,
    /// `divide`.
    Divide,
    /// `power`.
    Power,
    /// `root` (square root unless a `degree` is given).
    Root,
    /// `abs`.
    Abs,
    /// `exp`.
    Exp,
    /// `ln`.
    Ln,
    /// `log` (base 10 unless a `logbase` is given).
    Log,
    /// `floor`.
    Floor,
    /// `ceiling`.
    Ceiling,
    /// `factorial`.
    Factorial,
    /// `sin`.
    Sin,
    /// `cos`.
    Cos,
    /// `tan`.
    Tan,
    /// `arcsin`.
    Arcsin,
    /// `arccos`.
    Arccos,
    /// `arctan`.
    Arctan,
    /// `sinh`.
    Sinh,
    /// `cosh`.
    Cosh,
    /// `tanh`.
    Tanh,
    /// `eq` (chained).
    Eq,
    /// `neq`.
    Neq,
    /// `gt` (chained).
    Gt,
    /// `lt` (chained).
    Lt,
    /// `geq` (chained).
    Geq,
    /// `leq` (chained).
    Leq,
    /// `and` (n-ary).
    And,
    /// `or` (n-ary).
    Or,
    /// `xor` (n-ary).
    Xor,
    /// `not`.
    Not,
    /// `implies` (L3V2).
    Implies,
    /// `min` (L3V2, n-ary).
    Min,
    /// `max` (L3V2, n-ary).
    Max,
    /// `rem` (L3V2): remainder with the sign of the dividend.
    Rem,
    /// `quotient` (L3V2): integer part of the quotient, rounded toward zero.
    Quotient,
}

const OPS: [(&str, Op); 36] = [
    ("plus", Op::Plus),
    ("minus", Op::Minus),
    ("times", Op::Times),
    ("divide", Op::Divide),
    ("power", Op::Power),
    ("root", Op::Root),
    ("abs", Op::Abs),
    ("exp", Op::Exp),
    ("ln", Op::Ln),
    ("log", Op::Log),
    ("floor", Op::Floor),
    ("ceiling", Op::Ceiling),
    ("factorial", Op::Factorial),
    ("sin", Op::Sin),
    ("cos", Op::Cos),
    ("tan", Op::Tan),
    ("arcsin", Op::Arcsin),
    ("arccos", Op::Arccos),
    ("arctan", Op::Arctan),
    ("sinh", Op::Sinh),
    ("cosh", Op::Cosh),
    ("tanh", Op::Tanh),
    ("eq", Op::Eq),
    ("neq", Op::Neq),
    ("gt", Op::Gt),
    ("lt", Op::Lt),
    ("geq", Op::Geq),
    ("leq", Op::Leq),
    ("and", Op::And),
    ("or", Op::Or),
    ("xor", Op::Xor),
    ("not", Op::Not),
    ("implies", Op::Implies),
    ("min", Op::Min),
    ("max", Op::Max),
    ("rem", Op::Rem),
];

/// A MathML expression tree. Booleans are numbers: true = 1, false = 0.
#[derive(Debug, Clone, PartialEq)]
pub enum Math {
    /// A number (`cn`, `pi`, `exponentiale`, `infinity`, `notanumber`, `true`, `false`).
    Num(f64),
    /// An identifier (`ci`): a species, compartment, parameter or local parameter.
    Name(String),
    /// The `time` csymbol.
    Time,
    /// An operator applied to arguments.
    Apply(Op, Vec<Math>),
    /// `piecewise`: (value, condition) pieces in order, then the `otherwise` value.
    Piecewise(Vec<(Math, Math)>, Option<Box<Math>>),
}

/// A function definition: parameter names and body (already with nested calls inlined).
#[derive(Debug, Clone, PartialEq)]
pub struct Lambda {
    /// Bound variable names.
    pub params: Vec<String>,
    /// The body.
    pub body: Math,
}

/// A MathML error at a line of the file.
#[derive(Debug, Clone, PartialEq)]
pub struct MathError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

fn err(node: Node, message: impl Into<String>) -> MathError {
    MathError {
        line: node.document().text_pos_at(node.range().start).row as usize,
        message: message.into(),
    }
}

fn elements<'a, 'i>(node: Node<'a, 'i>) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children().filter(|c| c.is_element())
}

/// Reads the single expression inside a `<math>` element; calls to `functions` are inlined.
pub fn parse_math(math: Node, functions: &HashMap<String, Lambda>) -> Result<Math, MathError> {
    let mut children = elements(math);
    let first = children
        .next()
        .ok_or_else(|| err(math, "empty <math> element"))?;
    if let Some(extra) = children.next() {
        return Err(err(
            extra,
            "a <math> element must hold exactly one expression",
        ));
    }
    parse_node(first, functions)
}

/// Reads a `<lambda>` (inside a functionDefinition's `<math>`).
pub fn parse_lambda(math: Node, functions: &HashMap<String, Lambda>) -> Result<Lambda, MathError> {
    let lambda = elements(math)
        .next()
        .filter(|n| n.tag_name().name() == "lambda")
        .ok_or_else(|| err(math, "a function definition must hold a <lambda>"))?;
    let mut params = Vec::new();
    let mut body = None;
    for child in elements(lambda) {
        if child.tag_name().name() == "bvar" {
            let ci = elements(child)
                .next()
                .filter(|n| n.tag_name().name() == "ci")
                .ok_or_else(|| err(child, "<bvar> must hold a <ci>"))?;
            params.push(text(ci).to_string());
        } else if body.is_none() {
            body = Some(parse_node(child, functions)?);
        } else {
            return Err(err(child, "a <lambda> has one body"));
        }
    }
    let body = body.ok_or_else(|| err(lambda, "<lambda> without a body"))?;
    Ok(Lambda { params, body })
}

fn text<'a>(node: Node<'a, '_>) -> &'a str {
    node.text().unwrap_or("").trim()
}

fn parse_cn(node: Node) -> Result<f64, MathError> {
    let kind = node.attribute("type").unwrap_or("real");
    let parts: Vec<&str> = node
        .children()
        .filter(|c| c.is_text())
        .filter_map(|c| c.text())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let num = |s: &str| {
        s.parse::<f64>()
            .map_err(|_| err(node, format!("bad number '{s}' in <cn>")))
    };
    match (kind, parts.as_slice()) {
        ("real" | "integer" | "double", [x]) => num(x),
        ("e-notation", [m, e]) => Ok(num(m)? * 10f64.powf(num(e)?)),
        ("rational", [p, q]) => Ok(num(p)? / num(q)?),
        _ => Err(err(node, format!("unsupported <cn type=\"{kind}\">"))),
    }
}

fn parse_node(node: Node, functions: &HashMap<String, Lambda>) -> Result<Math, MathError> {
    let name = node.tag_name().name();
    Ok(match name {
        "cn" => Math::Num(parse_cn(node)?),
        "ci" => Math::Name(text(node).to_string()),
        "true" => Math::Num(1.0),
        "false" => Math::Num(0.0),
        "pi" => Math::Num(std::f64::consts::PI),
        "exponentiale" => Math::Num(std::f64::consts::E),
        "infinity" => Math::Num(f64::INFINITY),
        "notanumber" => Math::Num(f64::NAN),
        "csymbol" => match node.attribute("definitionURL").unwrap_or("") {
            TIME_URL => Math::Time,
            AVOGADRO_URL => Math::Num(crate::units::AVOGADRO),
            url => {
                return Err(err(
                    node,
                    format!("csymbol '{url}' is not supported (supported: time, avogadro)"),
                ))
            }
        },
        "semantics" => {
            let inner = elements(node)
                .next()
                .ok_or_else(|| err(node, "empty <semantics>"))?;
            parse_node(inner, functions)?
        }
        "piecewise" => {
            let mut pieces = Vec::new();
            let mut otherwise = None;
            for child in elements(node) {
                let parts: Vec<Node> = elements(child).collect();
                match (child.tag_name().name(), parts.as_slice()) {
                    ("piece", [value, cond]) => pieces.push((
                        parse_node(*value, functions)?,
                        parse_node(*cond, functions)?,
                    )),
                    ("otherwise", [value]) => {
                        otherwise = Some(Box::new(parse_node(*value, functions)?))
                    }
                    (other, _) => {
                        return Err(err(child, format!("malformed <{other}> in <piecewise>")))
                    }
                }
            }
            Math::Piecewise(pieces, otherwise)
        }
        "apply" => parse_apply(node, functions)?,
        other => {
            return Err(err(
                node,
                format!("MathML element <{other}> is not supported"),
            ))
        }
    })
}

fn parse_apply(node: Node, functions: &HashMap<String, Lambda>) -> Result<Math, MathError> {
    let mut children = elements(node);
    let head = children.next().ok_or_else(|| err(node, "empty <apply>"))?;
    let mut args = Vec::new();
    let mut qualifier = None;
    for child in children {
        match child.tag_name().name() {
            "degree" | "logbase" => {
                let inner = elements(child)
                    .next()
                    .ok_or_else(|| err(child, "empty qualifier"))?;
                qualifier = Some(parse_node(inner, functions)?);
            }
            _ => args.push(parse_node(child, functions)?),
        }
    }
    let head_name = head.tag_name().name();
    if head_name == "ci" {
        let fname = text(head);
        let f = functions.get(fname).ok_or_else(|| {
            err(
                head,
                format!("call of '{fname}', which is not a function definition"),
            )
        })?;
        if f.params.len() != args.len() {
            return Err(err(
                head,
                format!(
                    "function '{fname}' takes {} argument(s), found {}",
                    f.params.len(),
                    args.len()
                ),
            ));
        }
        let bindings: HashMap<&str, &Math> =
            f.params.iter().map(String::as_str).zip(&args).collect();
        return Ok(substitute(&f.body, &bindings));
    }
    if head_name == "csymbol" {
        let url = head.attribute("definitionURL").unwrap_or("");
        return Err(err(
            head,
            format!("csymbol function '{url}' is not supported"),
        ));
    }
    let op = if head_name == "quotient" {
        Op::Quotient
    } else {
        OPS.iter()
            .find(|(n, _)| *n == head_name)
            .map(|&(_, op)| op)
            .ok_or_else(|| {
                err(
                    head,
                    format!("MathML operator <{head_name}> is not supported"),
                )
            })?
    };
    let arity_ok = match op {
        Op::Plus | Op::Times | Op::And | Op::Or | Op::Xor => true,
        Op::Min | Op::Max => !args.is_empty(),
        Op::Minus => matches!(args.len(), 1 | 2),
        Op::Eq | Op::Gt | Op::Lt | Op::Geq | Op::Leq => args.len() >= 2,
        Op::Divide | Op::Power | Op::Neq | Op::Implies | Op::Rem | Op::Quotient => args.len() == 2,
        _ => args.len() == 1,
    };
    if !arity_ok {
        return Err(err(
            head,
            format!("<{head_name}> applied to {} argument(s)", args.len()),
        ));
    }
    match (op, qualifier) {
        (Op::Root | Op::Log, Some(q)) => args.insert(0, q),
        (Op::Root, None) => args.insert(0, Math::Num(2.0)),
        (Op::Log, None) => args.insert(0, Math::Num(10.0)),
        (_, Some(_)) => return Err(err(head, format!("<{head_name}> takes no qualifier"))),
        (_, None) => {}
    }
    Ok(Math::Apply(op, args))
}

/// Replaces names bound in `bindings` (a function's parameters) by the given expressions.
fn substitute(body: &Math, bindings: &HashMap<&str, &Math>) -> Math {
    match body {
        Math::Name(n) => bindings
            .get(n.as_str())
            .map_or_else(|| body.clone(), |&m| m.clone()),
        Math::Apply(op, args) => {
            Math::Apply(*op, args.iter().map(|a| substitute(a, bindings)).collect())
        }
        Math::Piecewise(pieces, otherwise) => Math::Piecewise(
            pieces
                .iter()
                .map(|(v, c)| (substitute(v, bindings), substitute(c, bindings)))
                .collect(),
            otherwise
                .as_ref()
                .map(|o| Box::new(substitute(o, bindings))),
        ),
        Math::Num(_) | Math::Time => body.clone(),
    }
}

/// MathML truth of a number: anything but 0 is true.
pub(crate) fn truth(x: f64) -> bool {
    x != 0.0
}

/// A boolean as a MathML number (1 or 0).
pub(crate) fn boolean(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl Math {
    /// Evaluates with `value` giving each name's value (None: unknown name → `Err(name)`) at
    /// time `t`. Booleans are 1 and 0; a piecewise with no true piece and no otherwise is NaN.
    pub fn eval(&self, value: &dyn Fn(&str) -> Option<f64>, t: f64) -> Result<f64, String> {
        let ev = |m: &Math| m.eval(value, t);
        Ok(match self {
            Math::Num(x) => *x,
            Math::Time => t,
            Math::Name(n) => value(n).ok_or_else(|| n.clone())?,
            Math::Piecewise(pieces, otherwise) => {
                for (v, c) in pieces {
                    if truth(ev(c)?) {
                        return ev(v);
                    }
                }
                match otherwise {
                    Some(o) => ev(o)?,
                    None => f64::NAN,
                }
            }
            Math::Apply(op, args) => {
                let x: Vec<f64> = args.iter().map(ev).collect::<Result<_, _>>()?;
                let chain =
                    |rel: fn(f64, f64) -> bool| boolean(x.windows(2).all(|w| rel(w[0], w[1])));
                match op {
                    Op::Plus => x.iter().sum(),
                    Op::Times => x.iter().product(),
                    Op::Minus if x.len() == 1 => -x[0],
                    Op::Minus => x[0] - x[1],
                    Op::Divide => x[0] / x[1],
                    Op::Power => x[0].powf(x[1]),
                    Op::Root => x[1].powf(1.0 / x[0]),
                    Op::Abs => x[0].abs(),
                    Op::Exp => x[0].exp(),
                    Op::Ln => x[0].ln(),
                    Op::Log => x[1].ln() / x[0].ln(),
                    Op::Floor => x[0].floor(),
                    Op::Ceiling => x[0].ceil(),
                    Op::Factorial => factorial(x[0]),
                    Op::Sin => x[0].sin(),
                    Op::Cos => x[0].cos(),
                    Op::Tan => x[0].tan(),
                    Op::Arcsin => x[0].asin(),
                    Op::Arccos => x[0].acos(),
                    Op::Arctan => x[0].atan(),
                    Op::Sinh => x[0].sinh(),
                    Op::Cosh => x[0].cosh(),
                    Op::Tanh => x[0].tanh(),
                    Op::Eq => chain(|a, b| a == b),
                    Op::Neq => boolean(x[0] != x[1]),
                    Op::Gt => chain(|a, b| a > b),
                    Op::Lt => chain(|a, b| a < b),
                    Op::Geq => chain(|a, b| a >= b),
                    Op::Leq => chain(|a, b| a <= b),
                    Op::And => boolean(x.iter().all(|&v| truth(v))),
                    Op::Or => boolean(x.iter().any(|&v| truth(v))),
                    Op::Xor => boolean(x.iter().filter(|&&v| truth(v)).count() % 2 == 1),
                    Op::Not => boolean(!truth(x[0])),
                    Op::Implies => boolean(!truth(x[0]) || truth(x[1])),
                    Op::Min => x.iter().copied().fold(f64::INFINITY, f64::min),
                    Op::Max => x.iter().copied().fold(f64::NEG_INFINITY, f64::max),
                    Op::Rem => x[0] % x[1],
                    Op::Quotient => (x[0] / x[1]).trunc(),
                }
            }
        })
    }

    /// The names the expression reads (with repeats).
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.collect_names(&mut out);
        out
    }

    fn collect_names<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Math::Name(n) => out.push(n),
            Math::Apply(_, args) => args.iter().for_each(|a| a.collect_names(out)),
            Math::Piecewise(pieces, otherwise) => {
                for (v, c) in pieces {
                    v.collect_names(out);
                    c.collect_names(out);
                }
                if let Some(o) = otherwise {
                    o.collect_names(out);
                }
            }
            Math::Num(_) | Math::Time => {}
        }
    }

    /// True when the expression reads the `time` csymbol.
    pub fn uses_time(&self) -> bool {
        match self {
            Math::Time => true,
            Math::Apply(_, args) => args.iter().any(Math::uses_time),
            Math::Piecewise(pieces, otherwise) => {
                pieces.iter().any(|(v, c)| v.uses_time() || c.uses_time())
                    || otherwise.as_ref().is_some_and(|o| o.uses_time())
            }
            Math::Num(_) | Math::Name(_) => false,
        }
    }

    /// Lowers to the engine's expression language. `name` maps each identifier to its engine
    /// expression (a parameter or species name, a constant, an inlined rule, a concentration
    /// `X / V`), or to an error message. Sub-expressions that the engine cannot evaluate per event
    /// (piecewise, relations, logic, rounding, trigonometry) are accepted only when they are
    /// constant (`constant` gives the value of names that never change), and folded to their
    /// value; `time` is not accepted.
    pub fn to_expr(
        &self,
        name: &dyn Fn(&str) -> Result<Expr, String>,
        constant: &dyn Fn(&str) -> Option<f64>,
    ) -> Result<Expr, String> {
        let lower = |m: &Math| m.to_expr(name, constant);
        let fold = |what: &str| -> Result<Expr, String> {
            if self.uses_time() {
                return Err(format!("{what} of time is not supported in a kinetic law"));
            }
            let value = self.eval(constant, 0.0).map_err(|n| {
                format!(
                    "{what} is only supported with constant arguments in a kinetic law \
                     ('{n}' can change during a run)"
                )
            })?;
            Ok(Expr::Num(value))
        };
        let bin = |op: BinOp, a: Expr, b: Expr| Expr::Binary(op, Box::new(a), Box::new(b));
        Ok(match self {
            Math::Num(x) => Expr::Num(*x),
            Math::Name(n) => name(n)?,
            Math::Time => {
                return Err("the time csymbol is not supported in a kinetic law \
                            (propensities must not depend on time explicitly)"
                    .into())
            }
            Math::Piecewise(..) => fold("piecewise")?,
            Math::Apply(op, args) => {
                let x = || args.iter().map(lower).collect::<Result<Vec<_>, _>>();
                let fold_left = |op: BinOp, empty: f64| -> Result<Expr, String> {
                    let mut it = x()?.into_iter();
                    Ok(match it.next() {
                        None => Expr::Num(empty),
                        Some(first) => it.fold(first, |acc, e| bin(op, acc, e)),
                    })
                };
                match op {
                    Op::Plus => fold_left(BinOp::Add, 0.0)?,
                    Op::Times => fold_left(BinOp::Mul, 1.0)?,
                    Op::Minus => {
                        let mut v = x()?;
                        if v.len() == 1 {
                            Expr::Neg(Box::new(v.remove(0)))
                        } else {
                            let b = v.pop().expect("two arguments");
                            bin(BinOp::Sub, v.pop().expect("two arguments"), b)
                        }
                    }
                    Op::Divide | Op::Power => {
                        let mut v = x()?;
                        let b = v.pop().expect("two arguments");
                        let a = v.pop().expect("two arguments");
                        bin(
                            if *op == Op::Divide {
                                BinOp::Div
                            } else {
                                BinOp::Pow
                            },
                            a,
                            b,
                        )
                    }
                    Op::Root => {
                        let mut v = x()?;
                        let radicand = v.pop().expect("two arguments");
                        match v.pop().expect("two arguments") {
                            Expr::Num(2.0) => Expr::Call(Func::Sqrt, vec![radicand]),
                            degree => bin(
                                BinOp::Pow,
                                radicand,
                                bin(BinOp::Div, Expr::Num(1.0), degree),
                            ),
                        }
                    }
                    Op::Log => {
                        let mut v = x()?;
                        let arg = v.pop().expect("two arguments");
                        match v.pop().expect("two arguments") {
                            Expr::Num(10.0) => Expr::Call(Func::Log10, vec![arg]),
                            base => bin(
                                BinOp::Div,
                                Expr::Call(Func::Ln, vec![arg]),
                                Expr::Call(Func::Ln, vec![base]),
                            ),
                        }
                    }
                    Op::Abs | Op::Exp | Op::Ln => {
                        let func = match op {
                            Op::Abs => Func::Abs,
                            Op::Exp => Func::Exp,
                            _ => Func::Ln,
                        };
                        Expr::Call(func, x()?)
                    }
                    Op::Min | Op::Max => {
                        let func = if *op == Op::Min { Func::Min } else { Func::Max };
                        let mut it = x()?.into_iter();
                        let first = it.next().expect("at least one argument");
                        it.fold(first, |acc, e| Expr::Call(func, vec![acc, e]))
                    }
                    other => fold(&format!("<{}>", op_name(*other)))?,
                }
            }
        })
    }
}

/// The MathML element name of an operator.
pub fn op_name(op: Op) -> &'static str {
    if op == Op::Quotient {
        return "quotient";
    }
    OPS.iter()
        .find(|(_, o)| *o == op)
        .map(|(n, _)| *n)
        .expect("every operator but quotient is in OPS")
}

/// x! for whole x ≥ 0, NaN otherwise.
pub(crate) fn factorial(x: f64) -> f64 {
    if x < 0.0 || x.fract() != 0.0 {
        return f64::NAN;
    }
    (1..=x as u64).fold(1.0, |acc, k| acc * k as f64)
}
