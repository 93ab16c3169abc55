//! Simulation methods. Each implements [`Simulator`]; the trajectory driver
//! ([`crate::trajectory`]) stops them at every scheduled event, recording time and outcome
//! window boundary, so a method only has to be exact between two stops.
//!
//! Exact: [`Direct`] (the sorting direct method, the reference) and [`NextReaction`]
//! (Gibson–Bruck, for large networks); `--method ssa` picks one with [`choose_exact`].
//! Approximate: [`TauLeap`] (adaptive tau-leaping with exact fall-back). All share the
//! network's propensity kernels and dependency graph; [`AnySimulator`] dispatches between them
//! by `match` (no dynamic dispatch in the inner loop).

pub mod direct;
pub mod next_reaction;
mod search_order;
pub mod slow_scale;
pub mod tau_leap;
pub mod triggers;

use rand::Rng;

use crate::network::{Network, State};

pub use direct::Direct;
pub use next_reaction::NextReaction;
use search_order::SearchOrder;
pub use slow_scale::SlowScale;
pub use tau_leap::{TauLeap, TauLeapSettings};

/// Why [`Simulator::advance_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopReason {
    /// The state is at the requested stop time.
    ReachedStop,
    /// The hook asked to stop right after a reaction event ([`FireHook::stop_after`]);
    /// `state.t` is that event's time. The simulator is consistent: if the caller changes
    /// nothing it continues with [`Simulator::advance_until`] as if it had not stopped (else
    /// it calls [`Simulator::refresh`] first).
    Interrupted,
    /// A propensity came out negative or not finite (e.g. a custom expression or a parameter a
    /// protocol set to a negative value); the state is left where it was.
    InvalidPropensity {
        /// The channel.
        channel: usize,
        /// The value computed.
        value: f64,
    },
}

/// Counters kept by a simulator over its lifetime.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SimStats {
    /// Reaction events fired.
    pub events: u64,
    /// Full recomputations of the total propensity (against floating-point drift).
    pub resums: u64,
    /// Tau-leaping: leaps taken (each fires any number of events).
    pub leaps: u64,
    /// Tau-leaping: exact SSA steps taken in the fall-back (each fires one event).
    pub exact_steps: u64,
    /// Tau-leaping: leaps rejected because a count would have gone negative.
    pub rejected_leaps: u64,
    /// Slow-scale SSA: the smallest ratio seen of a fast pair's relaxation rate to the total
    /// propensity of the slow channels that read or change it (see [`SlowScale`]).
    pub slow_scale_separation: Option<f64>,
}

impl SimStats {
    /// Adds another simulator's counters to these.
    pub fn add(&mut self, other: &SimStats) {
        self.events += other.events;
        self.resums += other.resums;
        self.leaps += other.leaps;
        self.exact_steps += other.exact_steps;
        self.rejected_leaps += other.rejected_leaps;
        self.slow_scale_separation = match (self.slow_scale_separation, other.slow_scale_separation)
        {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// Told about every reaction event, e.g. to track peaks and integrals exactly.
pub trait FireHook {
    /// Channel `channel` fired at time `t` (counts are already updated).
    fn fired(&mut self, channel: usize, t: f64);

    /// An approximate method changed many counts at once at time `t` (a tau leap ending at `t`);
    /// `counts` are the new counts.
    fn leaped(&mut self, t: f64, counts: &[i64]);

    /// Asked right after channel `channel` fired (and [`FireHook::fired`] was told): true makes
    /// the simulator return [`StopReason::Interrupted`] at once (the triggered events use this
    /// to re-evaluate their triggers after reactions that change what they read). The default
    /// never stops, and costs nothing once inlined.
    #[inline]
    fn stop_after(&self, _channel: usize) -> bool {
        false
    }
}

/// A hook that does nothing.
impl FireHook for () {
    #[inline]
    fn fired(&mut self, _channel: usize, _t: f64) {}

    #[inline]
    fn leaped(&mut self, _t: f64, _counts: &[i64]) {}
}

/// An exact or approximate stochastic simulation method.
///
/// Between two calls of [`Simulator::advance_until`], the driver may change the state
/// (protocol actions); it then calls [`Simulator::refresh`].
pub trait Simulator: Send {
    /// The method's name, as written to `run.json`.
    fn name(&self) -> &'static str;

    /// Starts a new trajectory from `state`: forgets anything adapted to the previous one, then
    /// refreshes.
    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason>;

    /// Recomputes everything derived from the state (after a discrete event).
    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason>;

    /// Fires reactions until the next one would happen after `t_stop`, then sets
    /// `state.t = t_stop`. The direct method discards the overshooting waiting time and the
    /// next-reaction method keeps its putative times until the next refresh; both are exact
    /// because the process is memoryless and propensities are constant between stops. Tau-leaping
    /// never leaps past `t_stop`.
    fn advance_until<R: Rng + ?Sized, H: FireHook>(
        &mut self,
        net: &Network,
        state: &mut State,
        t_stop: f64,
        rng: &mut R,
        hook: &mut H,
    ) -> StopReason;

    /// Counters since the simulator was created.
    fn stats(&self) -> SimStats;

    /// True when [`Simulator::advance_until`] honours [`FireHook::stop_after`] (returns
    /// [`StopReason::Interrupted`] right after the event). A method that cannot (tau-leaping) is
    /// refused for models whose event triggers read species that reactions change.
    fn stops_on_request(&self) -> bool {
        false
    }
}

/// A uniform number in [0, 1) with 53 random bits.
#[inline]
pub fn uniform01<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform number in (0, 1], safe for `ln`.
#[inline]
pub fn uniform_open0<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    ((rng.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The method a run asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MethodRequest {
    /// The best exact method for the network ([`choose_exact`]).
    Ssa,
    /// The direct method.
    Direct,
    /// The next-reaction method (Gibson–Bruck).
    NextReaction,
    /// Adaptive tau-leaping.
    TauLeap(TauLeapSettings),
    /// The slow-scale SSA over the reactions declared `fast = true`.
    SlowScale,
}

/// The version of the methods' random streams. Bump it whenever, for a given seed, some method's
/// trajectories change (another draw per step, another sampler, another summation or selection
/// order). The validation cache keys on it, so it never mixes ensembles of two streams, and
/// `tests/reproducibility.rs` pins golden trajectories of every method to it. Version 1: up to
/// commit d5647d1; 2: waiting times of the direct method by ziggurat (b82d8cf); 3: the same in
/// the slow-scale SSA, whose running total also sums its dependents in another order.
pub const RANDOM_STREAM_VERSION: u32 = 3;

/// `--method ssa` runs the next-reaction method when the sorted search of the direct method would
/// visit at least this many channels per event on average (see [`choose_exact`]).
pub const NEXT_REACTION_MIN_SEARCH_DEPTH: f64 = 40.0;

/// The expected number of channels the sorting direct method visits per event at the initial
/// state, once its order is adapted: `Σ_k k · a_(k) / a₀` with the propensities sorted in
/// decreasing order and k counted from 1 (0 when nothing can fire; invalid custom propensities
/// count as 0).
pub fn sorted_search_depth(net: &Network) -> f64 {
    let state = net.initial_state();
    let mut a: Vec<f64> = (0..net.n_channels())
        .map(|r| net.propensity(r, &state))
        .map(|v| if v.is_finite() && v > 0.0 { v } else { 0.0 })
        .collect();
    a.sort_by(|x, y| y.total_cmp(x));
    let total: f64 = a.iter().sum();
    if total <= 0.0 {
        return 0.0;
    }
    a.iter()
        .enumerate()
        .map(|(k, &v)| (k + 1) as f64 * v)
        .sum::<f64>()
        / total
}

/// The exact method `--method ssa` runs for `net`: the sorting direct method, unless its search
/// would be long ([`sorted_search_depth`] ≥ [`NEXT_REACTION_MIN_SEARCH_DEPTH`]), then the
/// next-reaction method.
///
/// Per event the direct method pays for the search (how many channels precede the one that
/// fires; sorting keeps the frequent ones first, so a network whose events concentrate on a few
/// channels, like Ca buffering in a spine, searches only a few, whatever its size) plus the
/// dependents' updates; the next-reaction method pays one O(log M) heap sift per changed
/// propensity and no search. Measured on rings `X_i → X_{i+1}` of M equal channels (search depth
/// (M + 1)/2, 2 dependents per event; `benches/README.md`), the next-reaction method is slower at
/// M = 50 (depth 25.5) and faster from M = 100 (depth 50.5) on; on the shipped models (depth ≤ 5)
/// the direct method is 2–3× faster. The depth is taken at the initial state, so a network that
/// starts far from where it spends its time may be misjudged; `--method` overrides.
pub fn choose_exact(net: &Network) -> MethodRequest {
    if sorted_search_depth(net) >= NEXT_REACTION_MIN_SEARCH_DEPTH {
        MethodRequest::NextReaction
    } else {
        MethodRequest::Direct
    }
}

/// One of the simulation methods, chosen at run time (static dispatch by `match`).
// One per worker thread: the size difference between variants costs nothing, a box would cost an
// indirection.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum AnySimulator {
    /// The direct method.
    Direct(Direct),
    /// The next-reaction method.
    NextReaction(NextReaction),
    /// Adaptive tau-leaping.
    TauLeap(TauLeap),
    /// The slow-scale SSA.
    SlowScale(SlowScale),
}

impl AnySimulator {
    /// Builds the simulator a run asks for; an error says why the method cannot run `net`.
    pub fn new(request: MethodRequest, net: &Network) -> Result<AnySimulator, String> {
        Ok(match request {
            MethodRequest::Ssa => return AnySimulator::new(choose_exact(net), net),
            MethodRequest::Direct => AnySimulator::Direct(Direct::new(net)),
            MethodRequest::NextReaction => AnySimulator::NextReaction(NextReaction::new(net)),
            MethodRequest::TauLeap(settings) => AnySimulator::TauLeap(TauLeap::new(net, settings)?),
            MethodRequest::SlowScale => AnySimulator::SlowScale(SlowScale::new(net)?),
        })
    }

    /// Tau-leaping settings, when that is the method.
    pub fn tau_leap_settings(&self) -> Option<TauLeapSettings> {
        match self {
            AnySimulator::TauLeap(s) => Some(s.settings()),
            _ => None,
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $sim:ident => $e:expr) => {
        match $self {
            AnySimulator::Direct($sim) => $e,
            AnySimulator::NextReaction($sim) => $e,
            AnySimulator::TauLeap($sim) => $e,
            AnySimulator::SlowScale($sim) => $e,
        }
    };
}

impl Simulator for AnySimulator {
    fn name(&self) -> &'static str {
        dispatch!(self, s => s.name())
    }

    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        dispatch!(self, s => s.reset(net, state))
    }

    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        dispatch!(self, s => s.refresh(net, state))
    }

    fn advance_until<R: Rng + ?Sized, H: FireHook>(
        &mut self,
        net: &Network,
        state: &mut State,
        t_stop: f64,
        rng: &mut R,
        hook: &mut H,
    ) -> StopReason {
        dispatch!(self, s => s.advance_until(net, state, t_stop, rng, hook))
    }

    fn stats(&self) -> SimStats {
        dispatch!(self, s => s.stats())
    }

    fn stops_on_request(&self) -> bool {
        dispatch!(self, s => s.stops_on_request())
    }
}
