//! The next-reaction method of Gibson & Bruck (2000, J Phys Chem A 104:1876), for large networks.
//!
//! Every channel `r` carries an absolute putative firing time `t_r`; the channels sit in an
//! indexed binary min-heap keyed by `t_r`, so the next event is the heap's top (O(1)) and each
//! propensity change costs one O(log M) sift instead of a linear search over all channels. After
//! channel μ fires at `t`:
//!
//! - μ draws a new time `t_μ = t + Exp(a_μ)`;
//! - every other dependent channel α whose propensity changes from `a` to `a' > 0` is rescaled,
//!   `t_α = t + (a / a') (t_α − t)` (exact: the residual of an exponential clock is exponential);
//!   one whose propensity was 0 draws a fresh `t + Exp(a')`; one whose propensity becomes 0 gets
//!   `t_α = ∞`.
//!
//! Putative times stay valid across stops (`advance_until` returns with the top time beyond
//! `t_stop`); after [`Simulator::refresh`] (parameters or counts changed by the protocol) every
//! channel draws a fresh time, which is exact by memorylessness.
//!
//! It shares the dependency graph and propensity kernels of [`Network`] with the direct method.
//! Per event it touches only the dependents, whatever the number of channels, while the direct
//! method's search grows with the number of channels that are often active; `--method ssa`
//! chooses between them with [`super::choose_exact`].

use rand::Rng;

use super::{uniform_open0, FireHook, SimStats, Simulator, StopReason};
use crate::network::{Network, State};

/// The next-reaction method with an indexed priority queue.
#[derive(Debug, Clone)]
pub struct NextReaction {
    propensities: Vec<f64>,
    /// Putative absolute firing time of each channel (∞ when its propensity is 0).
    times: Vec<f64>,
    /// The heap: channels, ordered so that `times[heap[i]] ≤ times[heap[2i + 1]], times[heap[2i + 2]]`.
    heap: Vec<u32>,
    /// Heap slot of each channel.
    slot: Vec<u32>,
    stats: SimStats,
}

impl NextReaction {
    /// A simulator for `net` (buffers sized once here).
    pub fn new(net: &Network) -> Self {
        let n = net.n_channels();
        NextReaction {
            propensities: vec![0.0; n],
            times: vec![f64::INFINITY; n],
            heap: (0..n as u32).collect(),
            slot: (0..n as u32).collect(),
            stats: SimStats::default(),
        }
    }

    #[inline]
    fn key(&self, i: usize) -> f64 {
        self.times[self.heap[i] as usize]
    }

    #[inline]
    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.slot[self.heap[i] as usize] = i as u32;
        self.slot[self.heap[j] as usize] = j as u32;
    }

    /// Restores the heap order around channel `r` after its time changed.
    #[inline]
    fn update(&mut self, r: usize) {
        let mut i = self.slot[r] as usize;
        let t = self.times[r];
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.key(parent) <= t {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
        self.sift_down(i);
    }

    /// Moves the channel in heap slot `i` down until neither child is earlier.
    #[inline]
    fn sift_down(&mut self, mut i: usize) {
        let t = self.key(i);
        let n = self.heap.len();
        loop {
            let left = 2 * i + 1;
            if left >= n {
                break;
            }
            let right = left + 1;
            let child = if right < n && self.key(right) < self.key(left) {
                right
            } else {
                left
            };
            if self.key(child) >= t {
                break;
            }
            self.swap(i, child);
            i = child;
        }
    }

    /// A fresh putative time for propensity `a` from `t`.
    #[inline]
    fn draw<R: Rng + ?Sized>(t: f64, a: f64, rng: &mut R) -> f64 {
        if a > 0.0 {
            t - uniform_open0(rng).ln() / a
        } else {
            f64::INFINITY
        }
    }
}

impl Simulator for NextReaction {
    fn name(&self) -> &'static str {
        "next-reaction"
    }

    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        self.refresh(net, state)
    }

    /// Recomputes the propensities; the putative times are redrawn at the next
    /// [`Simulator::advance_until`] (which has the generator).
    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        for (r, a) in self.propensities.iter_mut().enumerate() {
            let value = net.propensity(r, state);
            if !(value >= 0.0 && value.is_finite()) {
                return Err(StopReason::InvalidPropensity { channel: r, value });
            }
            *a = value;
        }
        // NaN marks "to be drawn"; advance_until draws before using any time.
        self.times.fill(f64::NAN);
        self.stats.resums += 1;
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
        if self.times.first().is_some_and(|t| t.is_nan()) {
            for r in 0..self.times.len() {
                self.times[r] = Self::draw(state.t, self.propensities[r], rng);
            }
            // Heapify (bottom-up).
            for i in (0..self.heap.len() / 2).rev() {
                self.sift_down(i);
            }
        }
        while let Some(&top) = self.heap.first() {
            let r = top as usize;
            let t = self.times[r];
            if t > t_stop {
                break;
            }
            state.t = t;
            net.fire(r, &mut state.counts);
            hook.fired(r, t);
            for &dep in net.dependents(r) {
                let d = dep.channel();
                let value = net.dependent_propensity(&dep, state);
                if dep.needs_check() && !(value >= 0.0 && value.is_finite()) {
                    return StopReason::InvalidPropensity { channel: d, value };
                }
                let old = self.propensities[d];
                if d == r || value == old {
                    self.propensities[d] = value;
                    continue;
                }
                self.propensities[d] = value;
                let time = if old > 0.0 && value > 0.0 {
                    t + (old / value) * (self.times[d] - t)
                } else {
                    Self::draw(t, value, rng)
                };
                if time != self.times[d] {
                    self.times[d] = time;
                    self.update(d);
                }
            }
            // The fired channel: a fresh clock.
            self.times[r] = Self::draw(t, self.propensities[r], rng);
            self.update(r);
            self.stats.events += 1;
            if hook.stop_after(r) {
                return StopReason::Interrupted;
            }
        }
        state.t = t_stop;
        StopReason::ReachedStop
    }

    fn stats(&self) -> SimStats {
        self.stats
    }

    fn stops_on_request(&self) -> bool {
        true
    }
}
