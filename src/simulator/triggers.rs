//! Triggered events with SBML semantics: an event fires when its trigger turns from false to
//! true, whatever the trigger reads (species, parameters, time).
//!
//! - **When triggers are evaluated.** The state is piecewise constant between reaction events,
//!   so a trigger can only change (a) right after a reaction that changes a species it reads,
//!   (b) right after an event assignment or a protocol action, or (c) inside a waiting interval
//!   when it compares an expression of `time` with something. For (a) the driver wraps its hook
//!   in [`StopAfter`], which asks the simulator to stop after every firing of a channel that
//!   changes a watched species ([`FireHook::stop_after`], [`super::StopReason::Interrupted`]);
//!   other channels, and models without triggered events, pay nothing. For (c) every comparison
//!   that reads `time` must be affine in time on both sides; with the state fixed its truth can
//!   only change at the root `t*` of `lhs − rhs`, so [`EventSet::next_time`] offers `t*` (a
//!   non-strict relation such as `time ≥ c` turns true there, before the state at `t*` is
//!   recorded) and the first instant after it, `t* + 4·ε(t*)` (a strict one such as `time > c`
//!   turns true just after `t*`; ε is [`same_instant_tolerance`]), as stops. Stopping a simulator
//!   there and going on is exact: propensities are constant in between, and waiting times are
//!   memoryless.
//! - **`initialValue`** is the trigger's value at t = 0⁻: a trigger true at t = 0 fires then
//!   only if `initialValue` is false.
//! - **Delays** are evaluated when the trigger fires; the execution is pending until then
//!   (several executions of one event may be pending). With `useValuesFromTriggerTime` the
//!   assigned values are computed at trigger time, else at execution time.
//! - **`persistent`**: a non-persistent event whose trigger turns false before its execution
//!   (at any time, including the same instant) loses its pending executions.
//! - **Priorities**: of the executions due at one instant, the one with the highest priority
//!   (evaluated at execution time) runs first; equal priorities are ordered at random (uniformly);
//!   an event without a priority runs after those that have one. After every execution the
//!   assignments are applied together, assignment rules (derived parameters) recomputed, and
//!   every trigger re-evaluated, so an execution that makes another trigger true fires it at the
//!   same instant (a cascade; more than [`MAX_CASCADE`] executions at one instant stop the run).
//!
//! A species assignment must give a whole, non-negative number of molecules; anything else stops
//! the run with an error naming the event, the species, the value and the time.

use rand::Rng;

use super::{uniform01, FireHook, Simulator};
use crate::error::RunError;
use crate::expr::Slot;
use crate::network::{Network, State};
use crate::sbml::math::{boolean, factorial, truth, Math, Op};
use crate::schedule::same_instant_tolerance;

/// More event executions than this at one instant stop the run (a cascade that never ends).
pub const MAX_CASCADE: u32 = 100_000;

/// An expression of an event (trigger, delay, priority or assigned value), with names resolved
/// to species counts and parameter values; it may read `time`. Evaluating it does not allocate.
#[derive(Debug, Clone, PartialEq)]
pub struct EventExpr {
    code: Code,
}

#[derive(Debug, Clone, PartialEq)]
enum Code {
    Num(f64),
    Species(u32),
    Param(u32),
    Time,
    /// Plus, times, min, max, and, or, xor, and the chained relations eq, gt, lt, geq, leq.
    Nary(Op, Vec<Code>),
    /// Binary minus, divide, power, root (degree first), log (base first), neq, implies, rem,
    /// quotient.
    Binary(Op, Box<Code>, Box<Code>),
    /// Unary minus, not, and the functions of one argument.
    Unary(Op, Box<Code>),
    /// (value, condition) pieces, then the otherwise value (NaN when none and no piece holds).
    Piecewise(Vec<(Code, Code)>, Option<Box<Code>>),
}

fn is_relation(op: Op) -> bool {
    matches!(op, Op::Eq | Op::Neq | Op::Gt | Op::Lt | Op::Geq | Op::Leq)
}

fn relation(op: Op, a: f64, b: f64) -> bool {
    match op {
        Op::Eq => a == b,
        Op::Neq => a != b,
        Op::Gt => a > b,
        Op::Lt => a < b,
        Op::Geq => a >= b,
        Op::Leq => a <= b,
        _ => unreachable!("not a relation"),
    }
}

impl Code {
    fn from_math(math: &Math, resolve: &dyn Fn(&str) -> Option<Slot>) -> Result<Code, String> {
        let lower = |m: &Math| Code::from_math(m, resolve);
        Ok(match math {
            Math::Num(x) => Code::Num(*x),
            Math::Time => Code::Time,
            Math::Name(n) => match resolve(n) {
                Some(Slot::Species(i)) => Code::Species(i),
                Some(Slot::Param(i)) => Code::Param(i),
                None => return Err(format!("unknown name '{n}'")),
            },
            Math::Piecewise(pieces, otherwise) => Code::Piecewise(
                pieces
                    .iter()
                    .map(|(v, c)| Ok((lower(v)?, lower(c)?)))
                    .collect::<Result<_, String>>()?,
                match otherwise {
                    Some(o) => Some(Box::new(lower(o)?)),
                    None => None,
                },
            ),
            Math::Apply(op, args) => {
                let mut x: Vec<Code> = args.iter().map(lower).collect::<Result<_, _>>()?;
                match (op, x.len()) {
                    (
                        Op::Plus
                        | Op::Times
                        | Op::Min
                        | Op::Max
                        | Op::And
                        | Op::Or
                        | Op::Xor
                        | Op::Eq
                        | Op::Gt
                        | Op::Lt
                        | Op::Geq
                        | Op::Leq,
                        _,
                    ) => Code::Nary(*op, x),
                    (
                        Op::Minus
                        | Op::Divide
                        | Op::Power
                        | Op::Root
                        | Op::Log
                        | Op::Neq
                        | Op::Implies
                        | Op::Rem
                        | Op::Quotient,
                        2,
                    ) => {
                        let b = x.pop().expect("two arguments");
                        let a = x.pop().expect("two arguments");
                        Code::Binary(*op, Box::new(a), Box::new(b))
                    }
                    (_, 1) => Code::Unary(*op, Box::new(x.pop().expect("one argument"))),
                    (_, n) => return Err(format!("an operator applied to {n} arguments")),
                }
            }
        })
    }

    fn eval(&self, t: f64, params: &[f64], counts: &[i64]) -> f64 {
        let ev = |c: &Code| c.eval(t, params, counts);
        match self {
            Code::Num(x) => *x,
            Code::Species(i) => counts[*i as usize] as f64,
            Code::Param(i) => params[*i as usize],
            Code::Time => t,
            Code::Piecewise(pieces, otherwise) => {
                for (v, c) in pieces {
                    if truth(ev(c)) {
                        return ev(v);
                    }
                }
                otherwise.as_ref().map_or(f64::NAN, |o| ev(o))
            }
            Code::Unary(op, a) => {
                let x = ev(a);
                match op {
                    Op::Minus => -x,
                    Op::Not => boolean(!truth(x)),
                    Op::Abs => x.abs(),
                    Op::Exp => x.exp(),
                    Op::Ln => x.ln(),
                    Op::Floor => x.floor(),
                    Op::Ceiling => x.ceil(),
                    Op::Factorial => factorial(x),
                    Op::Sin => x.sin(),
                    Op::Cos => x.cos(),
                    Op::Tan => x.tan(),
                    Op::Arcsin => x.asin(),
                    Op::Arccos => x.acos(),
                    Op::Arctan => x.atan(),
                    Op::Sinh => x.sinh(),
                    Op::Cosh => x.cosh(),
                    Op::Tanh => x.tanh(),
                    // n-ary operators with one argument
                    Op::Plus | Op::Times | Op::Min | Op::Max => x,
                    Op::And | Op::Or | Op::Xor => boolean(truth(x)),
                    _ => f64::NAN,
                }
            }
            Code::Binary(op, a, b) => {
                let (x, y) = (ev(a), ev(b));
                match op {
                    Op::Minus => x - y,
                    Op::Divide => x / y,
                    Op::Power => x.powf(y),
                    Op::Root => y.powf(1.0 / x),
                    Op::Log => y.ln() / x.ln(),
                    Op::Neq => boolean(x != y),
                    Op::Implies => boolean(!truth(x) || truth(y)),
                    Op::Rem => x % y,
                    Op::Quotient => (x / y).trunc(),
                    _ => f64::NAN,
                }
            }
            Code::Nary(op, args) => match op {
                Op::Plus => args.iter().map(ev).sum(),
                Op::Times => args.iter().map(ev).product(),
                Op::Min => args.iter().map(ev).fold(f64::INFINITY, f64::min),
                Op::Max => args.iter().map(ev).fold(f64::NEG_INFINITY, f64::max),
                Op::And => boolean(args.iter().all(|a| truth(ev(a)))),
                Op::Or => boolean(args.iter().any(|a| truth(ev(a)))),
                Op::Xor => boolean(args.iter().filter(|a| truth(ev(a))).count() % 2 == 1),
                rel => {
                    let mut prev = ev(&args[0]);
                    for a in &args[1..] {
                        let x = ev(a);
                        if !relation(*rel, prev, x) {
                            return 0.0;
                        }
                        prev = x;
                    }
                    1.0
                }
            },
        }
    }

    fn uses_time(&self) -> bool {
        match self {
            Code::Time => true,
            Code::Num(_) | Code::Species(_) | Code::Param(_) => false,
            Code::Nary(_, args) => args.iter().any(Code::uses_time),
            Code::Binary(_, a, b) => a.uses_time() || b.uses_time(),
            Code::Unary(_, a) => a.uses_time(),
            Code::Piecewise(pieces, otherwise) => {
                pieces.iter().any(|(v, c)| v.uses_time() || c.uses_time())
                    || otherwise.as_ref().is_some_and(|o| o.uses_time())
            }
        }
    }

    /// True when the value is `a + b·time` with `a`, `b` free of time.
    fn affine_in_time(&self) -> bool {
        if !self.uses_time() {
            return true;
        }
        match self {
            Code::Time => true,
            Code::Nary(Op::Plus, args) => args.iter().all(Code::affine_in_time),
            Code::Nary(Op::Times, args) => {
                args.iter().filter(|a| a.uses_time()).count() == 1
                    && args.iter().all(Code::affine_in_time)
            }
            Code::Unary(Op::Minus | Op::Plus | Op::Times, a) => a.affine_in_time(),
            Code::Binary(Op::Minus, a, b) => a.affine_in_time() && b.affine_in_time(),
            Code::Binary(Op::Divide, a, b) => !b.uses_time() && a.affine_in_time(),
            _ => false,
        }
    }

    /// d/dtime of an expression that is affine in time.
    fn slope(&self, params: &[f64], counts: &[i64]) -> f64 {
        match self {
            Code::Time => 1.0,
            Code::Nary(Op::Plus, args) => args.iter().map(|a| a.slope(params, counts)).sum(),
            Code::Nary(Op::Times, args) => {
                // Product rule; at most one factor depends on time.
                let mut total = 0.0;
                for (i, a) in args.iter().enumerate() {
                    if a.uses_time() {
                        let rest: f64 = args
                            .iter()
                            .enumerate()
                            .filter(|&(j, _)| j != i)
                            .map(|(_, b)| b.eval(0.0, params, counts))
                            .product();
                        total += a.slope(params, counts) * rest;
                    }
                }
                total
            }
            Code::Unary(Op::Minus, a) => -a.slope(params, counts),
            Code::Unary(_, a) => a.slope(params, counts),
            Code::Binary(Op::Minus, a, b) => a.slope(params, counts) - b.slope(params, counts),
            Code::Binary(Op::Divide, a, b) => a.slope(params, counts) / b.eval(0.0, params, counts),
            _ => 0.0,
        }
    }

    /// Checks that `time` appears only inside comparisons whose sides are affine in time.
    fn check_trigger_time(&self) -> Result<(), String> {
        match self {
            Code::Time => Err("in a trigger, time may only appear inside a comparison \
                               (eq, neq, gt, lt, geq, leq)"
                .into()),
            Code::Num(_) | Code::Species(_) | Code::Param(_) => Ok(()),
            Code::Nary(op, args) if is_relation(*op) => {
                if args.iter().all(Code::affine_in_time) {
                    Ok(())
                } else {
                    Err(
                        "a comparison in a trigger may read time only linearly (a + b·time, \
                         b free of time), so that the instant it changes can be found exactly"
                            .into(),
                    )
                }
            }
            Code::Binary(Op::Neq, a, b) => {
                if a.affine_in_time() && b.affine_in_time() {
                    Ok(())
                } else {
                    Err("a comparison in a trigger may read time only linearly".into())
                }
            }
            Code::Nary(_, args) => args.iter().try_for_each(Code::check_trigger_time),
            Code::Binary(_, a, b) => {
                a.check_trigger_time()?;
                b.check_trigger_time()
            }
            Code::Unary(_, a) => a.check_trigger_time(),
            Code::Piecewise(pieces, otherwise) => {
                for (v, c) in pieces {
                    v.check_trigger_time()?;
                    c.check_trigger_time()?;
                }
                otherwise
                    .as_ref()
                    .map_or(Ok(()), |o| o.check_trigger_time())
            }
        }
    }

    /// The earliest instant after `now` at which a comparison that reads time may change its
    /// truth with the state held fixed (infinity if none).
    fn next_change(&self, now: f64, params: &[f64], counts: &[i64]) -> f64 {
        let pair = |a: &Code, b: &Code| -> f64 {
            let s = a.slope(params, counts) - b.slope(params, counts);
            if !(s != 0.0 && s.is_finite()) {
                return f64::INFINITY;
            }
            let intercept = a.eval(0.0, params, counts) - b.eval(0.0, params, counts);
            let root = -intercept / s;
            let after = root + 4.0 * same_instant_tolerance(root);
            if root > now {
                root
            } else if after > now {
                after
            } else {
                f64::INFINITY
            }
        };
        match self {
            Code::Nary(op, args) if is_relation(*op) && self.uses_time() => args
                .windows(2)
                .map(|w| pair(&w[0], &w[1]))
                .fold(f64::INFINITY, f64::min),
            Code::Binary(Op::Neq, a, b) if self.uses_time() => pair(a, b),
            Code::Nary(_, args) => args
                .iter()
                .map(|a| a.next_change(now, params, counts))
                .fold(f64::INFINITY, f64::min),
            Code::Binary(_, a, b) => a
                .next_change(now, params, counts)
                .min(b.next_change(now, params, counts)),
            Code::Unary(_, a) => a.next_change(now, params, counts),
            Code::Piecewise(pieces, otherwise) => pieces
                .iter()
                .flat_map(|(v, c)| [v, c])
                .chain(otherwise.as_deref())
                .map(|a| a.next_change(now, params, counts))
                .fold(f64::INFINITY, f64::min),
            Code::Num(_) | Code::Species(_) | Code::Param(_) | Code::Time => f64::INFINITY,
        }
    }

    fn collect_species(&self, out: &mut Vec<u32>) {
        match self {
            Code::Species(i) => out.push(*i),
            Code::Num(_) | Code::Param(_) | Code::Time => {}
            Code::Nary(_, args) => args.iter().for_each(|a| a.collect_species(out)),
            Code::Binary(_, a, b) => {
                a.collect_species(out);
                b.collect_species(out);
            }
            Code::Unary(_, a) => a.collect_species(out),
            Code::Piecewise(pieces, otherwise) => {
                for (v, c) in pieces {
                    v.collect_species(out);
                    c.collect_species(out);
                }
                if let Some(o) = otherwise {
                    o.collect_species(out);
                }
            }
        }
    }
}

impl EventExpr {
    /// Compiles a MathML tree whose names are species and parameters of the model (`resolve`
    /// maps them); an error names what cannot be compiled.
    pub fn compile(math: &Math, resolve: &dyn Fn(&str) -> Option<Slot>) -> Result<Self, String> {
        Ok(EventExpr {
            code: Code::from_math(math, resolve)?,
        })
    }

    /// Compiles a trigger: like [`EventExpr::compile`], and `time` may only appear in
    /// comparisons whose sides are affine in time (see the module documentation).
    pub fn trigger(math: &Math, resolve: &dyn Fn(&str) -> Option<Slot>) -> Result<Self, String> {
        let e = EventExpr::compile(math, resolve)?;
        e.code.check_trigger_time()?;
        Ok(e)
    }

    /// The value in `state` (at `state.t`).
    #[inline]
    pub fn eval(&self, state: &State) -> f64 {
        self.code.eval(state.t, &state.params, &state.counts)
    }

    /// True when the expression reads `time`.
    pub fn uses_time(&self) -> bool {
        self.code.uses_time()
    }

    /// The species it reads (sorted, deduplicated).
    pub fn species(&self) -> Vec<usize> {
        let mut out = Vec::new();
        self.code.collect_species(&mut out);
        out.sort_unstable();
        out.dedup();
        out.into_iter().map(|i| i as usize).collect()
    }
}

/// What an event assignment sets.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EventTarget {
    /// A species count: the assigned value times `amount_per_value` molecules (1 for an amount,
    /// the compartment size for a concentration).
    Species {
        /// Index into the model's species.
        species: usize,
        /// Molecules per unit of the assigned value.
        amount_per_value: f64,
    },
    /// A parameter value (index into the model's parameters).
    Parameter(usize),
}

/// One event assignment.
#[derive(Debug, Clone, PartialEq)]
pub struct EventAssignment {
    /// What it sets.
    pub target: EventTarget,
    /// The name of the target, for messages.
    pub target_name: String,
    /// The assigned value.
    pub value: EventExpr,
}

/// An event that fires when its trigger turns from false to true (SBML semantics; see the
/// module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct TriggeredEvent {
    /// Id, for messages.
    pub name: String,
    /// The condition (non-zero is true).
    pub trigger: EventExpr,
    /// The trigger's value at t = 0⁻.
    pub initial_value: bool,
    /// False: pending executions are dropped when the trigger turns false.
    pub persistent: bool,
    /// Time from trigger to execution, evaluated at trigger time (none: 0).
    pub delay: Option<EventExpr>,
    /// Order of executions due at one instant (higher first), evaluated at execution time.
    pub priority: Option<EventExpr>,
    /// Assigned values computed at trigger time (true) or at execution time (false).
    pub use_values_from_trigger_time: bool,
    /// The assignments, applied together.
    pub assignments: Vec<EventAssignment>,
}

/// The triggered events of a run, compiled against the network (shared by all trajectories).
#[derive(Debug, Clone, Default)]
pub struct EventSet {
    events: Vec<TriggeredEvent>,
    /// Per event: its trigger reads time.
    timed: Vec<bool>,
    /// Per channel: its firing changes a species some trigger reads.
    stop_after: Vec<bool>,
    /// The first event whose trigger reads a species that a reaction changes.
    watching: Option<usize>,
}

impl EventSet {
    /// The events of a model, for its compiled network.
    pub fn new(events: &[TriggeredEvent], net: &Network) -> EventSet {
        let mut stop_after = vec![false; net.n_channels()];
        let mut watching = None;
        for (k, e) in events.iter().enumerate() {
            let read = e.trigger.species();
            for (r, stop) in stop_after.iter_mut().enumerate() {
                if net.changes(r).any(|(s, _)| read.contains(&s)) {
                    *stop = true;
                    watching.get_or_insert(k);
                }
            }
        }
        EventSet {
            timed: events.iter().map(|e| e.trigger.uses_time()).collect(),
            events: events.to_vec(),
            stop_after,
            watching,
        }
    }

    /// True when there are no triggered events.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// True when some trigger reads a species that reactions change, so the simulator must stop
    /// after the firings listed by [`EventSet::stop_hook`].
    pub fn watches_reactions(&self) -> bool {
        self.watching.is_some()
    }

    /// Wraps `hook` so that it asks the simulator to stop after every firing that changes a
    /// species some trigger reads.
    pub fn stop_hook<'a, H: FireHook>(&'a self, hook: &'a mut H) -> StopAfter<'a, H> {
        StopAfter {
            hook,
            stop: &self.stop_after,
        }
    }

    /// An error when `sim` cannot stop right after a reaction event and some trigger needs it
    /// to (tau-leaping: a leap cannot stop exactly where a trigger turns true).
    pub fn check_simulator<S: Simulator>(&self, sim: &S) -> Result<(), String> {
        match self.watching {
            Some(k) if !sim.stops_on_request() => Err(format!(
                "method '{}' cannot simulate event '{}': its trigger reads species that \
                 reactions change, and this method cannot stop exactly at the reaction that \
                 makes it true; use --method ssa",
                sim.name(),
                self.events[k].name
            )),
            _ => Ok(()),
        }
    }
}

/// A [`FireHook`] that forwards to another and asks the simulator to stop after the listed
/// channels.
#[derive(Debug)]
pub struct StopAfter<'a, H> {
    hook: &'a mut H,
    stop: &'a [bool],
}

impl<H: FireHook> FireHook for StopAfter<'_, H> {
    #[inline]
    fn fired(&mut self, channel: usize, t: f64) {
        self.hook.fired(channel, t);
    }

    #[inline]
    fn leaped(&mut self, t: f64, counts: &[i64]) {
        self.hook.leaped(t, counts);
    }

    #[inline]
    fn stop_after(&self, channel: usize) -> bool {
        self.stop[channel] || self.hook.stop_after(channel)
    }
}

/// An execution waiting for its time.
#[derive(Debug, Clone)]
struct Pending {
    time: f64,
    event: usize,
    /// Values computed at trigger time (empty when computed at execution).
    values: Vec<f64>,
}

/// The per-trajectory state of the triggered events: trigger values and pending executions.
/// Buffers are reused, so after the first trajectories nothing is allocated.
#[derive(Debug, Clone, Default)]
pub struct EventRuntime {
    previous: Vec<bool>,
    pending: Vec<Pending>,
    spare: Vec<Vec<f64>>,
    scratch: Vec<f64>,
}

impl EventRuntime {
    /// Forgets the previous trajectory: triggers take their `initialValue`, nothing is pending.
    pub fn reset(&mut self, set: &EventSet) {
        self.previous.clear();
        self.previous
            .extend(set.events.iter().map(|e| e.initial_value));
        for p in self.pending.drain(..) {
            self.spare.push(p.values);
        }
    }

    /// The next instant after `state.t` at which something may happen without a reaction: a
    /// pending execution, or a comparison with time that may change (infinity if none).
    pub fn next_time(&self, set: &EventSet, state: &State) -> f64 {
        let pending = self
            .pending
            .iter()
            .map(|p| p.time)
            .fold(f64::INFINITY, f64::min);
        set.events
            .iter()
            .zip(&set.timed)
            .filter(|(_, &timed)| timed)
            .map(|(e, _)| {
                e.trigger
                    .code
                    .next_change(state.t, &state.params, &state.counts)
            })
            .fold(pending, f64::min)
    }

    /// Evaluates every trigger in `state` and executes what is due at `state.t`, in priority
    /// order, re-evaluating the triggers after each execution. Returns whether the state
    /// changed (derived parameters are then already recomputed; the caller refreshes the
    /// simulator).
    pub fn settle<R: Rng + ?Sized>(
        &mut self,
        set: &EventSet,
        net: &Network,
        state: &mut State,
        rng: &mut R,
    ) -> Result<bool, RunError> {
        if set.events.is_empty() {
            return Ok(false);
        }
        self.check_triggers(set, state)?;
        let horizon = state.t + same_instant_tolerance(state.t);
        let mut executed = 0u32;
        loop {
            let mut chosen: Option<usize> = None;
            let mut best = (false, f64::NEG_INFINITY);
            let mut ties = 0u32;
            for (k, p) in self.pending.iter().enumerate() {
                if p.time > horizon {
                    continue;
                }
                let key = match &set.events[p.event].priority {
                    Some(e) => (true, e.eval(state)),
                    None => (false, 0.0),
                };
                let key = (
                    key.0,
                    if key.1.is_nan() {
                        f64::NEG_INFINITY
                    } else {
                        key.1
                    },
                );
                if chosen.is_none() || key > best {
                    chosen = Some(k);
                    best = key;
                    ties = 1;
                } else if key == best {
                    // Reservoir sampling: each of the tied executions is chosen with
                    // probability 1 / ties.
                    ties += 1;
                    if uniform01(rng) * f64::from(ties) < 1.0 {
                        chosen = Some(k);
                    }
                }
            }
            let Some(k) = chosen else {
                return Ok(executed > 0);
            };
            executed += 1;
            let p = self.pending.swap_remove(k);
            let event = &set.events[p.event];
            if executed > MAX_CASCADE {
                return Err(RunError::Settings(format!(
                    "more than {MAX_CASCADE} event executions at t = {} (event '{}' among them): \
                     the events trigger each other without end",
                    state.t, event.name
                )));
            }
            self.scratch.clear();
            if event.use_values_from_trigger_time {
                self.scratch.extend_from_slice(&p.values);
            } else {
                self.scratch
                    .extend(event.assignments.iter().map(|a| a.value.eval(state)));
            }
            self.spare.push(p.values);
            for (a, &v) in event.assignments.iter().zip(&self.scratch) {
                match a.target {
                    EventTarget::Parameter(i) => state.params[i] = v,
                    EventTarget::Species {
                        species,
                        amount_per_value,
                    } => {
                        let amount = v * amount_per_value;
                        let count = amount.round();
                        if !(amount.is_finite()
                            && count >= 0.0
                            && (amount - count).abs() <= 1e-9 * count.max(1.0)
                            && count < 9e15)
                        {
                            return Err(RunError::Settings(format!(
                                "event '{}' at t = {}: assigns {amount} molecules to species \
                                 '{}', not a whole non-negative number",
                                event.name, state.t, a.target_name
                            )));
                        }
                        state.counts[species] = count as i64;
                    }
                }
            }
            net.update_constants(state);
            self.check_triggers(set, state)?;
        }
    }

    /// Evaluates every trigger: a false→true change schedules an execution, a true→false change
    /// cancels the pending executions of a non-persistent event.
    fn check_triggers(&mut self, set: &EventSet, state: &State) -> Result<(), RunError> {
        for (i, e) in set.events.iter().enumerate() {
            let now = truth(e.trigger.eval(state));
            let before = std::mem::replace(&mut self.previous[i], now);
            if now && !before {
                let delay = e.delay.as_ref().map_or(0.0, |d| d.eval(state));
                if !(delay >= 0.0 && delay.is_finite()) {
                    return Err(RunError::Settings(format!(
                        "event '{}' at t = {}: delay {delay} is not a finite non-negative time",
                        e.name, state.t
                    )));
                }
                let mut values = self.spare.pop().unwrap_or_default();
                values.clear();
                if e.use_values_from_trigger_time {
                    values.extend(e.assignments.iter().map(|a| a.value.eval(state)));
                }
                self.pending.push(Pending {
                    time: state.t + delay,
                    event: i,
                    values,
                });
            } else if !now && before && !e.persistent {
                let mut k = 0;
                while k < self.pending.len() {
                    if self.pending[k].event == i {
                        let p = self.pending.swap_remove(k);
                        self.spare.push(p.values);
                    } else {
                        k += 1;
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(op: Op, args: Vec<Math>) -> Math {
        Math::Apply(op, args)
    }

    fn name(n: &str) -> Math {
        Math::Name(n.into())
    }

    /// X is species 0, k is parameter 0.
    fn resolve(n: &str) -> Option<Slot> {
        match n {
            "X" => Some(Slot::Species(0)),
            "k" => Some(Slot::Param(0)),
            _ => None,
        }
    }

    fn state(t: f64, x: i64, k: f64) -> State {
        State {
            t,
            counts: vec![x],
            params: vec![k],
            constants: vec![],
        }
    }

    #[test]
    fn relations_logic_and_piecewise_evaluate_like_mathml() {
        let e = |m: Math, s: &State| EventExpr::compile(&m, &resolve).unwrap().eval(s);
        let s = state(2.0, 7, 0.5);
        assert_eq!(e(app(Op::Lt, vec![name("X"), Math::Num(10.0)]), &s), 1.0);
        assert_eq!(
            e(
                app(Op::Leq, vec![Math::Num(1.0), name("X"), Math::Num(5.0)]),
                &s
            ),
            0.0
        );
        let both = app(
            Op::Xor,
            vec![
                app(Op::Gt, vec![Math::Time, Math::Num(1.0)]),
                app(Op::Neq, vec![name("k"), Math::Num(0.5)]),
            ],
        );
        assert_eq!(e(both, &s), 1.0);
        let pw = Math::Piecewise(
            vec![(
                Math::Num(3.0),
                app(Op::Geq, vec![name("X"), Math::Num(8.0)]),
            )],
            Some(Box::new(app(Op::Times, vec![name("k"), name("X")]))),
        );
        assert_eq!(e(pw, &s), 3.5);
        assert!(EventExpr::compile(&name("Y"), &resolve)
            .unwrap_err()
            .contains("'Y'"));
    }

    /// `2·time − k·X ≥ 0` with k = 0.5, X = 8 crosses at time 2: offered as a stop at 2, then
    /// just after 2, then never.
    #[test]
    fn a_comparison_with_time_offers_its_crossing_instant() {
        let lhs = app(
            Op::Minus,
            vec![
                app(Op::Times, vec![Math::Num(2.0), Math::Time]),
                app(Op::Times, vec![name("k"), name("X")]),
            ],
        );
        let trigger = app(Op::Geq, vec![lhs, Math::Num(0.0)]);
        let e = EventExpr::trigger(&trigger, &resolve).unwrap();
        let next = |t: f64| e.code.next_change(t, &[0.5], &[8]);
        assert_eq!(next(0.0), 2.0);
        let after = next(2.0);
        assert!(after > 2.0 && after < 2.0 + 1e-10, "{after}");
        assert_eq!(next(after), f64::INFINITY);
        assert_eq!(e.eval(&state(2.0, 8, 0.5)), 1.0);
        // Non-linear in time, or time outside a comparison: refused.
        let sin = app(Op::Gt, vec![app(Op::Sin, vec![Math::Time]), Math::Num(0.0)]);
        assert!(EventExpr::trigger(&sin, &resolve).is_err());
        assert!(EventExpr::trigger(&app(Op::And, vec![Math::Time]), &resolve).is_err());
        // Time divided by a state-dependent value is still affine.
        let scaled = app(
            Op::Lt,
            vec![app(Op::Divide, vec![Math::Time, name("X")]), Math::Num(1.0)],
        );
        let e = EventExpr::trigger(&scaled, &resolve).unwrap();
        assert_eq!(e.code.next_change(0.0, &[0.5], &[8]), 8.0);
    }
}
