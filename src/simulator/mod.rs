//! Simulation methods. Each implements [`Simulator`]; the trajectory driver
//! ([`crate::trajectory`]) stops them at every scheduled event, recording time and outcome
//! window boundary, so a method only has to be exact between two stops.

pub mod direct;

use rand::Rng;

use crate::network::{Network, State};

pub use direct::Direct;

/// Why [`Simulator::advance_until`] returned.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StopReason {
    /// The state is at the requested stop time.
    ReachedStop,
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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    /// Reaction events fired.
    pub events: u64,
    /// Full recomputations of the total propensity (against floating-point drift).
    pub resums: u64,
}

/// Told about every reaction event, e.g. to track peaks and integrals exactly.
pub trait FireHook {
    /// Channel `channel` fired at time `t` (counts are already updated).
    fn fired(&mut self, channel: usize, t: f64);
}

/// A hook that does nothing.
impl FireHook for () {
    #[inline]
    fn fired(&mut self, _channel: usize, _t: f64) {}
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
    /// `state.t = t_stop`. Exact methods discard the overshooting waiting time, which is exact
    /// because the process is memoryless and propensities are constant between stops.
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
