//! Gillespie's direct method with a dependency graph.
//!
//! Each step draws the waiting time `τ = E/a₀` with `E` a standard exponential number
//! (ziggurat, `rand_distr::Exp1`: no logarithm on the common path) and the channel `r` with
//! `Σ_{j<r} a_j ≤ u a₀ < Σ_{j≤r} a_j` (linear search). After a firing only the channels in the
//! dependency graph are recomputed (the order ≤ 2 mass-action ones first, by a branch-free
//! kernel, reading the simulator's own `f64` copy of the counts with the stochastic constants
//! folded in, see [`ScaledKernel`]); `a₀` is updated by differences and re-summed from scratch
//! every [`RESUM_EVERY`] events, at every stop, and whenever it falls below [`RESUM_RATIO`] of
//! the last exact sum, so neither drift nor cancellation can lose a channel.
//!
//! The search runs over the channels in the adaptive order of the sorting direct method
//! ([`SearchOrder`]).

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use super::{uniform01, FireHook, SearchOrder, SimStats, Simulator, StopReason};
use crate::network::{Network, ScaledKernel, State};

/// Events between two full re-summations of the total propensity.
pub const RESUM_EVERY: u32 = 4096;

/// The running total is re-summed as soon as it falls below this fraction of the last exact
/// sum, where the differences it accumulated may have lost the small propensities.
pub const RESUM_RATIO: f64 = 1e-6;

/// The direct method.
#[derive(Debug, Clone)]
pub struct Direct {
    /// Propensity of each channel.
    propensities: Vec<f64>,
    /// The channels in search order.
    order: SearchOrder,
    total: f64,
    /// Re-sum when the running total falls below this (a fraction of the last exact sum).
    resum_below: f64,
    since_resum: u32,
    /// The counts as `f64`, kept in step with the state's (exact below 2⁵³), so that the hot
    /// loop computes propensities without integer conversions.
    counts: Vec<f64>,
    /// Per channel (CSR by `updates_start`): its order ≤ 2 mass-action dependents with their
    /// current constants folded in.
    updates: Vec<ScaledKernel>,
    updates_start: Vec<u32>,
    /// The stochastic constants `updates` were built with.
    constants: Vec<f64>,
    stats: SimStats,
}

impl Direct {
    /// A simulator for `net` (buffers sized once here).
    pub fn new(net: &Network) -> Self {
        let n = net.n_channels();
        let mut updates_start = vec![0u32];
        let mut n_updates = 0;
        for r in 0..n {
            n_updates += net.low_order_dependents(r).len();
            updates_start.push(n_updates as u32);
        }
        Direct {
            propensities: vec![0.0; n],
            order: SearchOrder::new((0..n as u32).collect()),
            total: 0.0,
            resum_below: 0.0,
            since_resum: 0,
            counts: vec![0.0; net.n_species()],
            updates: Vec::with_capacity(n_updates),
            updates_start,
            constants: Vec::with_capacity(n),
            stats: SimStats::default(),
        }
    }

    /// Rebuilds `updates` when the stochastic constants changed since they were built.
    fn fold_constants(&mut self, net: &Network, state: &State) {
        if self.constants == state.constants {
            return;
        }
        self.constants.clear();
        self.constants.extend_from_slice(&state.constants);
        self.updates.clear();
        for r in 0..net.n_channels() {
            for dep in net.low_order_dependents(r) {
                let c = state.constants[dep.channel()];
                self.updates.push(net.scaled_kernel(dep, c));
            }
        }
    }

    #[inline]
    fn resum(&mut self) {
        self.total = self.order.total(&self.propensities);
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
            let t_next = state.t + Distribution::<f64>::sample(&Exp1, rng) / self.total;
            if t_next > t_stop {
                state.t = t_stop;
                return Ok(true);
            }
            let Some(r) = self
                .order
                .pick(&self.propensities, uniform01(rng) * self.total)
            else {
                // Drift put the target past the sum: re-sum and draw again from this time.
                self.resum();
                continue;
            };
            state.t = t_next;
            for (species, delta) in net.changes(r) {
                state.counts[species] += delta;
                self.counts[species] += delta as f64;
            }
            hook.fired(r, t_next);
            let updates =
                &self.updates[self.updates_start[r] as usize..self.updates_start[r + 1] as usize];
            self.total = update_dependents(
                net,
                r,
                updates,
                &self.counts,
                state,
                &mut self.propensities,
                self.total,
            )?;
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
        self.propensities[r]
    }
}

/// Recomputes the propensities of the channels that depend on channel `r` (which just fired):
/// its order ≤ 2 mass-action dependents from `updates` (their kernels, reading `counts` as
/// `f64`), the others from the network; returns the running total `total` updated by their
/// differences.
#[inline(always)]
fn update_dependents(
    net: &Network,
    r: usize,
    updates: &[ScaledKernel],
    counts: &[f64],
    state: &State,
    propensities: &mut [f64],
    mut total: f64,
) -> Result<f64, StopReason> {
    for kernel in updates {
        let value = kernel.value(counts);
        let slot = &mut propensities[kernel.channel()];
        total += value - *slot;
        *slot = value;
    }
    for &dep in net.other_dependents(r) {
        let d = dep.channel();
        let value = net.dependent_propensity(&dep, state);
        // Mass action cannot go invalid between refreshes (constants are checked there and
        // counts stay >= 0); custom expressions can.
        if dep.needs_check() && !(value >= 0.0 && value.is_finite()) {
            return Err(StopReason::InvalidPropensity { channel: d, value });
        }
        let slot = &mut propensities[d];
        total += value - *slot;
        *slot = value;
    }
    Ok(total)
}

impl Simulator for Direct {
    fn name(&self) -> &'static str {
        "direct"
    }

    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        self.order.restart();
        self.refresh(net, state)
    }

    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        for (mirror, &count) in self.counts.iter_mut().zip(&state.counts) {
            *mirror = count as f64;
        }
        self.fold_constants(net, state);
        for (r, a) in self.propensities.iter_mut().enumerate() {
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
