//! Gillespie's direct method with a dependency graph.
//!
//! Each step draws the waiting time `τ = −ln(u₁)/a₀` and the channel `r` with
//! `Σ_{j<r} a_j ≤ u₂ a₀ < Σ_{j≤r} a_j` (linear search). After a firing only the channels in the
//! dependency graph are recomputed; `a₀` is updated by differences and re-summed from scratch
//! every [`RESUM_EVERY`] events, at every stop, and whenever it falls below [`RESUM_RATIO`] of
//! the last exact sum, so neither drift nor cancellation can lose a channel.
//!
//! The search runs over the channels in an adaptive order (the sorting direct method of
//! McCollum et al. 2006): a channel that fires moves one place forward, so the frequent ones
//! (Ca buffering, in a spine) are found after a few comparisons. The order only changes which
//! uniform number picks which channel, not the law of the process; it restarts from the model's
//! order at every trajectory, so results do not depend on which thread ran what before.

use rand::Rng;

use super::{promote, uniform01, uniform_open0, FireHook, SimStats, Simulator, StopReason};
use crate::network::{Network, State};

/// Events between two full re-summations of the total propensity.
pub const RESUM_EVERY: u32 = 4096;

/// The running total is re-summed as soon as it falls below this fraction of the last exact
/// sum, where the differences it accumulated may have lost the small propensities.
pub const RESUM_RATIO: f64 = 1e-6;

/// The direct method.
#[derive(Debug, Clone)]
pub struct Direct {
    /// Propensities by search position.
    propensities: Vec<f64>,
    /// Channel at each search position.
    order: Vec<u32>,
    /// Search position of each channel.
    position: Vec<u32>,
    total: f64,
    /// Re-sum when the running total falls below this (a fraction of the last exact sum).
    resum_below: f64,
    since_resum: u32,
    stats: SimStats,
}

impl Direct {
    /// A simulator for `net` (buffers sized once here).
    pub fn new(net: &Network) -> Self {
        let n = net.n_channels();
        Direct {
            propensities: vec![0.0; n],
            order: (0..n as u32).collect(),
            position: (0..n as u32).collect(),
            total: 0.0,
            resum_below: 0.0,
            since_resum: 0,
            stats: SimStats::default(),
        }
    }

    #[inline]
    fn resum(&mut self) {
        self.total = self.propensities.iter().sum();
        self.resum_below = self.total * RESUM_RATIO;
        self.since_resum = 0;
        self.stats.resums += 1;
    }

    /// Fires at most `max_events` events, stopping before the first one after `t_stop` (then
    /// `state.t = t_stop`, and the result is true). `advance_until` is this with no limit. Any
    /// other stop is an `Err`: an invalid propensity, or [`StopReason::Interrupted`] right
    /// after an event when the hook asks for it.
    #[inline]
    pub fn advance_events<R: Rng + ?Sized, H: FireHook>(
        &mut self,
        net: &Network,
        state: &mut State,
        t_stop: f64,
        max_events: u64,
        rng: &mut R,
        hook: &mut H,
    ) -> Result<bool, StopReason> {
        self.resum();
        let mut fired = 0u64;
        loop {
            if fired == max_events {
                return Ok(false);
            }
            if self.total <= self.resum_below {
                // Cancellation can leave a0 far below the sum of what is left (1e18 + 1 − 1e18
                // is 0 in floating point): re-sum before believing it.
                self.resum();
                if self.total <= 0.0 {
                    state.t = t_stop;
                    return Ok(true);
                }
            }
            let t_next = state.t - uniform_open0(rng).ln() / self.total;
            if t_next > t_stop {
                state.t = t_stop;
                return Ok(true);
            }
            let Some(p) = self.select(uniform01(rng) * self.total) else {
                // Drift put the target past the sum: re-sum and draw again from this time.
                self.resum();
                continue;
            };
            let r = self.order[p] as usize;
            promote(
                &mut self.order,
                &mut self.propensities,
                &mut self.position,
                p,
            );
            state.t = t_next;
            net.fire(r, &mut state.counts);
            hook.fired(r, t_next);
            for &dep in net.dependents(r) {
                let d = dep.channel();
                let value = net.dependent_propensity(&dep, state);
                // Mass action cannot go invalid between refreshes (constants are checked there
                // and counts stay >= 0); custom expressions can.
                if dep.needs_check() && !(value >= 0.0 && value.is_finite()) {
                    return Err(StopReason::InvalidPropensity { channel: d, value });
                }
                let slot = &mut self.propensities[self.position[d] as usize];
                self.total += value - *slot;
                *slot = value;
            }
            self.stats.events += 1;
            fired += 1;
            self.since_resum += 1;
            if self.since_resum >= RESUM_EVERY {
                self.resum();
            }
            if hook.stop_after(r) {
                return Err(StopReason::Interrupted);
            }
        }
    }

    /// The current propensity of channel `r`.
    #[inline]
    pub fn propensity(&self, r: usize) -> f64 {
        self.propensities[self.position[r] as usize]
    }

    /// The search position whose cumulative propensity interval contains `target`, or None when
    /// drift left `target` beyond the sum.
    #[inline]
    fn select(&self, target: f64) -> Option<usize> {
        let mut acc = 0.0;
        for (r, &a) in self.propensities.iter().enumerate() {
            acc += a;
            if target < acc {
                return Some(r);
            }
        }
        None
    }
}

impl Simulator for Direct {
    fn name(&self) -> &'static str {
        "direct"
    }

    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        for (i, (o, p)) in self
            .order
            .iter_mut()
            .zip(self.position.iter_mut())
            .enumerate()
        {
            *o = i as u32;
            *p = i as u32;
        }
        self.refresh(net, state)
    }

    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        for (a, &r) in self.propensities.iter_mut().zip(&self.order) {
            let r = r as usize;
            let value = net.propensity(r, state);
            if !(value >= 0.0 && value.is_finite()) {
                return Err(StopReason::InvalidPropensity { channel: r, value });
            }
            *a = value;
        }
        self.resum();
        Ok(())
    }

    fn advance_until<R: Rng + ?Sized, H: FireHook>(
        &mut self,
        net: &Network,
        state: &mut State,
        t_stop: f64,
        rng: &mut R,
        hook: &mut H,
    ) -> StopReason {
        match self.advance_events(net, state, t_stop, u64::MAX, rng, hook) {
            Ok(_) => StopReason::ReachedStop,
            Err(e) => e,
        }
    }

    fn stats(&self) -> SimStats {
        self.stats
    }

    fn stops_on_request(&self) -> bool {
        true
    }
}
