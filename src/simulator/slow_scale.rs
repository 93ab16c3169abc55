//! The slow-scale SSA (Cao, Gillespie & Petzold 2005, J Chem Phys 122:014116) for fast
//! reversible pairs declared `fast = true` in the model (see `docs/slow_scale.md`).
//!
//! Each fast pair, `A + B ⇌ C` or `A ⇌ C`, conserves its totals `T_A = A + C` (and
//! `T_B = B + C`); these are the slow variables. Between two slow events the pair relaxes to its
//! stationary law given the totals, which detailed balance gives exactly: with
//! `K = c_bind / c_unbind` the ratio of the stochastic constants,
//!
//! `P(C = c) ∝ K^c / (c! (T_A − c)! (T_B − c)!)`, `0 ≤ c ≤ min(T_A, T_B)`
//!
//! (for `A ⇌ C` the factor `(T_B − c)!` is absent: a binomial law). The fast channels never fire.
//! Every other (slow) channel fires with its propensity averaged over that law: mass action
//! needs `E[Π falling factorials]` of the fast species it reads, which factorises over pairs and
//! is a joint moment within a pair; a custom propensity that reads the species of one pair is
//! summed over the pair's support. The laws are computed by the ratio recursion
//! `P(c + 1) / P(c) = K (T_A − c)(T_B − c) / (c + 1)` outwards from the mode, dropping the tails
//! below [`TAIL`] of the mode's weight, and cached per pair in a direct-mapped table keyed by the
//! totals (allocated once; a protocol that changes `K` clears it).
//!
//! The state the rest of the program sees holds every species. Slow species are exact. At every
//! stop (recording, outcome window, protocol event) the fast species are set to a fresh draw from
//! their conditional law: a recorded fast species is a sample of what it is at that instant.
//! Between stops the [`FireHook`] (outcome tracking) is told ([`FireHook::leaped`]), after every
//! slow event that changes a pair, an unbiased integer rounding of the pair's conditional means:
//! integrals and window means of fast species are then unbiased estimates of the integrals of
//! their conditional means, without the noise that holding a draw for the whole interval between
//! two slow events would add (a draw is held ~ the relaxation rate / slow rate times longer than
//! the fluctuation it stands for lasts). Peaks and minima of fast species are not those of the
//! exact process (its fast fluctuations are not simulated).
//!
//! Two limits are handled exactly: a pair with `c_unbind = 0` (or `c_bind = 0`) sits at the
//! end of its support, and a pair whose two constants are both 0 (a variant or protocol that
//! switches it off) never fires, so its species keep their counts like slow species (its law is
//! the point mass at the current counts, recomputed whenever a slow channel changes them). A
//! clamped species (`constant = true`, `--clamp`) in a fast pair is refused: the pair's totals
//! would not be conserved quantities of the pair any more.
//!
//! The approximation is good when every pair relaxes much faster than the slow channels that read
//! or change it: [`SimStats::slow_scale_separation`] is the smallest ratio seen of a pair's
//! relaxation rate `c_bind (E[A] + E[B]) + c_unbind` (`c_bind + c_unbind` for `A ⇌ C`) to the
//! total propensity of those slow channels, checked at every stop and every [`RESUM_EVERY`]
//! events.

use rand::Rng;
use rand_distr::{Distribution, Exp1};

use super::direct::{RESUM_EVERY, RESUM_RATIO};
use super::{uniform01, FireHook, SearchOrder, SimStats, Simulator, StopReason};
use crate::network::{Dependent, Network, State};

/// Tail weights below this fraction of the mode's are left out of a pair's law.
pub const TAIL: f64 = 1e-16;

/// Slots of each pair's direct-mapped cache of laws (a power of two).
const CACHE_SLOTS: usize = 1024;

/// The slot after the cache that holds the point law of a pair switched off (both constants 0).
const INERT_SLOT: usize = CACHE_SLOTS;

/// A fast reversible pair `A + B ⇌ C` (or `A ⇌ C`).
#[derive(Debug, Clone)]
struct FastPair {
    /// Channel `A + B → C` (or `A → C`).
    bind: usize,
    /// Channel `C → A + B`.
    unbind: usize,
    a: usize,
    b: Option<usize>,
    c: usize,
    /// Falling-factorial orders (of A, B, C) whose expectations slow channels need; the first
    /// three are `E[A]`, `E[B]`, `E[C]`.
    keys: Vec<[u32; 3]>,
    /// Slow channels that read or change the pair (for the time-scale diagnostic).
    touching: Vec<u32>,
}

/// The laws of one pair, cached by totals.
#[derive(Debug, Clone)]
struct PairCache {
    /// `K` the cache was computed with (NaN while the pair is switched off).
    k: f64,
    /// Both constants are 0: the pair never fires and its law is the point mass at the counts.
    inert: bool,
    totals: Vec<(i64, i64)>,
    /// Support `lo..=hi` of C and its mode.
    lo: Vec<i64>,
    mode: Vec<i64>,
    hi: Vec<i64>,
    /// Weight of `lo` relative to the mode's.
    w_lo: Vec<f64>,
    /// Sum of the weights relative to the mode's.
    z: Vec<f64>,
    /// `keys.len()` moments per slot.
    moments: Vec<f64>,
    /// Slot of the current totals (set by [`make_current`], which also copies its moments to
    /// [`SlowScale`]'s `current_moments`).
    current: usize,
}

/// How a slow channel's averaged propensity is computed.
#[derive(Debug, Clone, Copy)]
enum SlowLaw {
    /// Reads no fast species: the network's propensity.
    Plain,
    /// Mass action: `c · Π slow falling factorials · Π pair moments`, ranges into
    /// `slow_terms` and `pair_terms`.
    MassAction { slow: (u32, u32), pairs: (u32, u32) },
    /// The common case of `MassAction` inline (the same products in the same order): `c · n_slow
    /// · moment` with at most one slow reactant of order 1 ([`NO_SPECIES`] when none) and one
    /// pair term.
    OnePair { slow: u32, pair: u32, key: u32 },
    /// A custom expression reading the species of one pair: summed over its support.
    Custom { pair: u32 },
}

/// A dependent slow channel with a [`SlowLaw::OnePair`] law, in branch-free form:
/// `c · (n_slow · ks + cs) · moment` (without a slow reactant ks = 0 and cs = 1; the same
/// floating-point operations as [`SlowScale::propensity`], since ×1 and +0 are exact).
#[derive(Debug, Clone, Copy)]
struct OnePairDependent {
    channel: u32,
    slow: u32,
    /// Index of the moment in [`SlowScale`]'s `current_moments`.
    moment: u32,
    ks: f64,
    cs: f64,
}

/// Items by channel (compressed sparse rows).
#[derive(Debug, Clone)]
struct Rows<T> {
    start: Vec<u32>,
    items: Vec<T>,
}

impl<T> Rows<T> {
    fn new() -> Self {
        Rows {
            start: vec![0],
            items: Vec::new(),
        }
    }

    /// Closes the row of the next channel (the items pushed since the last call).
    fn end_row(&mut self) {
        self.start.push(self.items.len() as u32);
    }

    #[inline(always)]
    fn row(&self, r: usize) -> &[T] {
        &self.items[self.start[r] as usize..self.start[r + 1] as usize]
    }
}

/// The slow-scale SSA.
#[derive(Debug, Clone)]
pub struct SlowScale {
    pairs: Vec<FastPair>,
    caches: Vec<PairCache>,
    /// Per pair: where the moments of its current law start in `current_moments`.
    moment_start: Vec<u32>,
    /// The moments of every pair's current law side by side, so a dependent reads its moment
    /// with one index.
    current_moments: Vec<f64>,
    /// How each channel's averaged propensity is computed.
    laws: Vec<SlowLaw>,
    slow_terms: Vec<(u32, u32)>,
    pair_terms: Vec<(u32, u32)>,
    /// The slow channels in search order.
    order: SearchOrder,
    /// Averaged propensity of each channel (0 for fast channels).
    propensities: Vec<f64>,
    /// Per channel: pairs whose species it changes.
    touched: Rows<u32>,
    /// Per channel: slow channels to recompute after it fires, in three groups: those with a
    /// `OnePair` law, order ≤ 2 mass action reading no pair, and the rest (custom ones flagged).
    one_pair_dependents: Rows<OnePairDependent>,
    low_order_dependents: Rows<Dependent>,
    other_dependents: Rows<(u32, bool)>,
    /// A copy of the state for averaging custom propensities in `refresh`.
    scratch: State,
    total: f64,
    resum_below: f64,
    since_resum: u32,
    stats: SimStats,
}

/// Marks the absence of a slow reactant in [`SlowLaw::OnePair`].
const NO_SPECIES: u32 = u32::MAX;

/// The falling factorial `n (n − 1) … (n − k + 1)`.
#[inline]
fn falling(n: i64, k: u32) -> f64 {
    match k {
        0 => 1.0,
        1 => n as f64,
        2 => n as f64 * (n - 1) as f64,
        _ => (0..k as i64).map(|j| (n - j) as f64).product(),
    }
}

impl SlowScale {
    /// A simulator for `net`; an error names what cannot be averaged (no fast reaction, a custom
    /// propensity reading two fast pairs).
    pub fn new(net: &Network) -> Result<Self, String> {
        let n_species = net.n_species();
        let mut pair_of = vec![u32::MAX; n_species];
        let mut pairs: Vec<FastPair> = Vec::new();
        for r in 0..net.n_channels() {
            if !net.is_fast(r) || pairs.iter().any(|p| p.unbind == r || p.bind == r) {
                continue;
            }
            let reactants = net.reactants(r);
            // A reversible reaction compiles to `NAME` and then `NAME.rev`. The binding channel
            // has the two reactants (for A ⇌ C: the forward one).
            let partner = r + 1;
            let names = net.channel_names();
            if partner >= net.n_channels()
                || !net.is_fast(partner)
                || names[partner] != format!("{}.rev", names[r])
            {
                return Err(format!(
                    "fast reaction '{}' has no reverse channel next to it",
                    names[r]
                ));
            }
            let (bind, unbind) = if reactants.len() >= net.reactants(partner).len() {
                (r, partner)
            } else {
                (partner, r)
            };
            let sides = net.reactants(bind);
            let (a, b) = (sides[0].0 as usize, sides.get(1).map(|&(s, _)| s as usize));
            let c = net.reactants(unbind)[0].0 as usize;
            // A clamped species is left out of the channels' changes (the network holds it).
            let changed: Vec<usize> = net.changes(bind).map(|(s, _)| s).collect();
            if let Some(s) = [Some(a), b, Some(c)]
                .into_iter()
                .flatten()
                .find(|s| !changed.contains(s))
            {
                return Err(format!(
                    "--method slow-scale: species '{}' is clamped (held constant) and takes part \
                     in the fast reaction '{}'; the slow-scale SSA needs every species of a fast \
                     pair free to change (run this with an exact method, or drop `fast = true`)",
                    net.species_names()[s],
                    names[r]
                ));
            }
            let p = pairs.len() as u32;
            for s in [Some(a), b, Some(c)].into_iter().flatten() {
                pair_of[s] = p;
            }
            pairs.push(FastPair {
                bind,
                unbind,
                a,
                b,
                c,
                keys: vec![[1, 0, 0], [0, 1, 0], [0, 0, 1]],
                touching: Vec::new(),
            });
        }
        if pairs.is_empty() {
            return Err(
                "--method slow-scale: no reaction is declared `fast = true` \
                        (see docs/slow_scale.md)"
                    .into(),
            );
        }
        let mut fast_channel = vec![false; net.n_channels()];
        for p in &pairs {
            fast_channel[p.bind] = true;
            fast_channel[p.unbind] = true;
        }
        let is_fast_channel = |r: usize| fast_channel[r];

        let mut laws = Vec::new();
        let mut slow_terms = Vec::new();
        let mut pair_terms = Vec::new();
        let mut slow_channels = Vec::new();
        // Per channel: "variables" it reads (species index, or n_species + pair).
        let variable = |s: u32| match pair_of[s as usize] {
            u32::MAX => s as usize,
            p => n_species + p as usize,
        };
        let mut reads: Vec<Vec<usize>> = Vec::new();
        for r in 0..net.n_channels() {
            let mut read: Vec<usize> = net.reads(r).iter().map(|&s| variable(s)).collect();
            read.sort_unstable();
            read.dedup();
            let pairs_read: Vec<u32> = read
                .iter()
                .filter(|&&v| v >= n_species)
                .map(|&v| (v - n_species) as u32)
                .collect();
            reads.push(read);
            if is_fast_channel(r) {
                laws.push(SlowLaw::Plain);
                continue;
            }
            slow_channels.push(r as u32);
            for &p in &pairs_read {
                pairs[p as usize].touching.push(r as u32);
            }
            let law = if pairs_read.is_empty() {
                SlowLaw::Plain
            } else if net.is_custom(r) {
                if pairs_read.len() > 1 {
                    let names: Vec<&str> = pairs_read
                        .iter()
                        .map(|&p| net.channel_names()[pairs[p as usize].bind].as_str())
                        .collect();
                    return Err(format!(
                        "--method slow-scale: the custom propensity of reaction '{}' reads \
                         species of {} fast reactions ({}); it can only be averaged over one",
                        net.channel_names()[r],
                        names.len(),
                        names.join(", ")
                    ));
                }
                SlowLaw::Custom {
                    pair: pairs_read[0],
                }
            } else {
                let slow_start = slow_terms.len() as u32;
                let pair_start = pair_terms.len() as u32;
                let mut orders: Vec<(u32, [u32; 3])> = Vec::new();
                for &(s, nu) in net.reactants(r) {
                    let p = pair_of[s as usize];
                    if p == u32::MAX {
                        slow_terms.push((s, nu));
                        continue;
                    }
                    let pair = &pairs[p as usize];
                    let slot = if s as usize == pair.a {
                        0
                    } else if Some(s as usize) == pair.b {
                        1
                    } else {
                        2
                    };
                    match orders.iter_mut().find(|(q, _)| *q == p) {
                        Some((_, o)) => o[slot] += nu,
                        None => {
                            let mut o = [0; 3];
                            o[slot] = nu;
                            orders.push((p, o));
                        }
                    }
                }
                for (p, o) in orders {
                    let keys = &mut pairs[p as usize].keys;
                    let key = match keys.iter().position(|k| *k == o) {
                        Some(k) => k,
                        None => {
                            keys.push(o);
                            keys.len() - 1
                        }
                    };
                    pair_terms.push((p, key as u32));
                }
                let slow = &slow_terms[slow_start as usize..];
                match (slow, &pair_terms[pair_start as usize..]) {
                    ([] | [(_, 1)], &[(pair, key)]) => {
                        let slow = slow.first().map_or(NO_SPECIES, |&(s, _)| s);
                        slow_terms.truncate(slow_start as usize);
                        pair_terms.truncate(pair_start as usize);
                        SlowLaw::OnePair { slow, pair, key }
                    }
                    _ => SlowLaw::MassAction {
                        slow: (slow_start, slow_terms.len() as u32),
                        pairs: (pair_start, pair_terms.len() as u32),
                    },
                }
            };
            laws.push(law);
        }

        let mut moment_start = vec![0u32];
        for p in &pairs {
            moment_start.push(moment_start[moment_start.len() - 1] + p.keys.len() as u32);
        }
        let mut touched = Rows::new();
        let mut one_pair_dependents = Rows::new();
        let mut low_order_dependents = Rows::new();
        let mut other_dependents = Rows::new();
        for r in 0..net.n_channels() {
            let mut changed: Vec<usize> = net.changes(r).map(|(s, _)| variable(s as u32)).collect();
            changed.sort_unstable();
            changed.dedup();
            for &v in changed.iter().filter(|&&v| v >= n_species) {
                let p = v - n_species;
                touched.items.push(p as u32);
                if !is_fast_channel(r) && !pairs[p].touching.contains(&(r as u32)) {
                    pairs[p].touching.push(r as u32);
                }
            }
            touched.end_row();
            for &d in &slow_channels {
                if !reads[d as usize].iter().any(|v| changed.contains(v)) {
                    continue;
                }
                match (laws[d as usize], net.low_order_dependent(d as usize)) {
                    (SlowLaw::OnePair { slow, pair, key }, _) => {
                        let (slow, ks, cs) = match slow {
                            NO_SPECIES => (0, 0.0, 1.0),
                            s => (s, 1.0, 0.0),
                        };
                        one_pair_dependents.items.push(OnePairDependent {
                            channel: d,
                            slow,
                            moment: moment_start[pair as usize] + key,
                            ks,
                            cs,
                        });
                    }
                    (SlowLaw::Plain, Some(dep)) => low_order_dependents.items.push(dep),
                    _ => other_dependents.items.push((d, net.is_custom(d as usize))),
                }
            }
            one_pair_dependents.end_row();
            low_order_dependents.end_row();
            other_dependents.end_row();
        }

        let caches = pairs
            .iter()
            .map(|p| PairCache {
                k: f64::NAN,
                inert: false,
                totals: vec![(-1, -1); CACHE_SLOTS + 1],
                lo: vec![0; CACHE_SLOTS + 1],
                mode: vec![0; CACHE_SLOTS + 1],
                hi: vec![0; CACHE_SLOTS + 1],
                w_lo: vec![0.0; CACHE_SLOTS + 1],
                z: vec![0.0; CACHE_SLOTS + 1],
                moments: vec![0.0; (CACHE_SLOTS + 1) * p.keys.len()],
                current: 0,
            })
            .collect();
        Ok(SlowScale {
            pairs,
            caches,
            current_moments: vec![0.0; moment_start[moment_start.len() - 1] as usize],
            moment_start,
            laws,
            slow_terms,
            pair_terms,
            propensities: vec![0.0; net.n_channels()],
            order: SearchOrder::new(slow_channels),
            touched,
            one_pair_dependents,
            low_order_dependents,
            other_dependents,
            scratch: net.initial_state(),
            total: 0.0,
            resum_below: 0.0,
            since_resum: 0,
            stats: SimStats::default(),
        })
    }

    /// The number of fast pairs.
    pub fn n_pairs(&self) -> usize {
        self.pairs.len()
    }

    fn resum(&mut self) {
        self.total = self.order.total(&self.propensities);
        self.resum_below = self.total * RESUM_RATIO;
        self.since_resum = 0;
        self.stats.resums += 1;
    }

    /// Sets each pair's `K` from the constants (clearing its cache when it changed) and its
    /// current law from the counts. A pair whose constants are both 0 is switched off (see the
    /// module doc); a negative or non-finite constant is an error naming its channel.
    fn load_pairs(&mut self, state: &State) -> Result<(), StopReason> {
        for (p, pair) in self.pairs.iter().enumerate() {
            for channel in [pair.bind, pair.unbind] {
                let value = state.constants[channel];
                if !(value >= 0.0 && value.is_finite()) {
                    return Err(StopReason::InvalidPropensity { channel, value });
                }
            }
            let (bind, unbind) = (state.constants[pair.bind], state.constants[pair.unbind]);
            let cache = &mut self.caches[p];
            cache.inert = bind == 0.0 && unbind == 0.0;
            if cache.inert {
                // Any later K differs from NaN, so the cache is cleared when the pair is back.
                cache.k = f64::NAN;
            } else if bind / unbind != cache.k {
                cache.k = bind / unbind;
                cache.totals[..CACHE_SLOTS].fill((-1, -1));
            }
            let moments = &mut self.current_moments
                [self.moment_start[p] as usize..self.moment_start[p + 1] as usize];
            make_current(pair, cache, &state.counts, moments);
        }
        Ok(())
    }

    /// The averaged propensity of slow channel `r`.
    #[inline]
    fn propensity(&self, net: &Network, r: usize, state: &mut State) -> f64 {
        match self.laws[r] {
            SlowLaw::Plain => net.propensity(r, state),
            SlowLaw::OnePair { slow, pair, key } => {
                let mut a = state.constants[r];
                if slow != NO_SPECIES {
                    a *= state.counts[slow as usize] as f64;
                }
                a * self.current_moments[(self.moment_start[pair as usize] + key) as usize]
            }
            SlowLaw::MassAction { slow, pairs } => {
                let mut a = state.constants[r];
                for &(s, nu) in &self.slow_terms[slow.0 as usize..slow.1 as usize] {
                    a *= falling(state.counts[s as usize], nu);
                }
                for &(p, key) in &self.pair_terms[pairs.0 as usize..pairs.1 as usize] {
                    a *= self.current_moments[(self.moment_start[p as usize] + key) as usize];
                }
                a
            }
            SlowLaw::Custom { pair } => {
                let (pair, cache) = (&self.pairs[pair as usize], &self.caches[pair as usize]);
                let slot = cache.current;
                let (ta, tb) = cache.totals[slot];
                let saved = [
                    state.counts[pair.a],
                    pair.b.map_or(0, |b| state.counts[b]),
                    state.counts[pair.c],
                ];
                let (mut w, mut sum) = (cache.w_lo[slot], 0.0);
                for c in cache.lo[slot]..=cache.hi[slot] {
                    set_pair(pair, &mut state.counts, ta, tb, c);
                    sum += w * net.propensity(r, state);
                    w *= ratio(cache.k, pair.b.is_some(), ta, tb, c);
                }
                state.counts[pair.a] = saved[0];
                if let Some(b) = pair.b {
                    state.counts[b] = saved[1];
                }
                state.counts[pair.c] = saved[2];
                sum / cache.z[slot]
            }
        }
    }

    /// Sets the species of pair `p` to an unbiased integer rounding of their conditional means:
    /// C = ⌊E[C]⌋ + 1 with probability frac(E[C]), else ⌊E[C]⌋ (A and B follow from the totals).
    fn settle<R: Rng + ?Sized>(&self, p: usize, counts: &mut [i64], rng: &mut R) {
        let (pair, cache) = (&self.pairs[p], &self.caches[p]);
        let slot = cache.current;
        let (ta, tb) = cache.totals[slot];
        let mean = self.current_moments[self.moment_start[p] as usize + 2];
        // E[C] >= 0, so truncation is the floor.
        let floor = mean as i64;
        let c = floor + i64::from(uniform01(rng) < mean - floor as f64);
        set_pair(pair, counts, ta, tb, c);
    }

    /// Draws the species of pair `p` from its current law: inversion over the support taken in
    /// the order mode, mode + 1, mode − 1, mode + 2, … (O(sd) steps on average).
    fn draw<R: Rng + ?Sized>(&self, p: usize, counts: &mut [i64], rng: &mut R) {
        let (pair, cache) = (&self.pairs[p], &self.caches[p]);
        let slot = cache.current;
        let (ta, tb) = cache.totals[slot];
        let (k, has_b) = (cache.k, pair.b.is_some());
        let target = uniform01(rng) * cache.z[slot];
        let (lo, hi, mode) = (cache.lo[slot], cache.hi[slot], cache.mode[slot]);
        let (mut up, mut down, mut w_up, mut w_down, mut acc) = (mode, mode, 1.0, 1.0, 1.0);
        // Rounding can leave the target just above the sum: then the last point taken.
        let mut c = mode;
        while acc <= target && (up < hi || down > lo) {
            if up < hi {
                w_up *= ratio(k, has_b, ta, tb, up);
                up += 1;
                acc += w_up;
                c = up;
                if acc > target {
                    break;
                }
            }
            if down > lo {
                w_down /= ratio(k, has_b, ta, tb, down - 1);
                down -= 1;
                acc += w_down;
                c = down;
            }
        }
        set_pair(pair, counts, ta, tb, c);
    }

    /// The smallest ratio over pairs of relaxation rate to the slow propensity touching it.
    fn separation(&self, state: &State) -> f64 {
        let mut min = f64::INFINITY;
        for (p, (pair, cache)) in self.pairs.iter().zip(&self.caches).enumerate() {
            if cache.inert {
                continue; // its species are slow species while it is switched off
            }
            let m = &self.current_moments[self.moment_start[p] as usize..];
            let bind = state.constants[pair.bind];
            let relax = if pair.b.is_some() {
                bind * (m[0] + m[1]) + state.constants[pair.unbind]
            } else {
                bind + state.constants[pair.unbind]
            };
            let slow: f64 = pair
                .touching
                .iter()
                .map(|&r| self.propensities[r as usize])
                .sum();
            if slow > 0.0 {
                min = min.min(relax / slow);
            }
        }
        min
    }

    fn note_separation(&mut self, state: &State) {
        let s = self.separation(state);
        if s.is_finite() {
            self.stats.slow_scale_separation =
                Some(self.stats.slow_scale_separation.map_or(s, |m| m.min(s)));
        }
    }

    /// Recomputes the averaged propensities of the slow channels that depend on channel `r`
    /// (which just fired), updating the running total by their differences.
    #[inline(always)]
    fn update_dependents(
        &mut self,
        net: &Network,
        r: usize,
        state: &mut State,
    ) -> Result<(), StopReason> {
        let mut total = self.total;
        for dep in self.one_pair_dependents.row(r) {
            let n_slow = state.counts[dep.slow as usize] as f64;
            let value = state.constants[dep.channel as usize]
                * (n_slow * dep.ks + dep.cs)
                * self.current_moments[dep.moment as usize];
            let slot = &mut self.propensities[dep.channel as usize];
            total += value - *slot;
            *slot = value;
        }
        for dep in self.low_order_dependents.row(r) {
            let value = net.low_order_propensity(dep, state);
            let slot = &mut self.propensities[dep.channel()];
            total += value - *slot;
            *slot = value;
        }
        for i in self.other_dependents.start[r]..self.other_dependents.start[r + 1] {
            let (d, custom) = self.other_dependents.items[i as usize];
            let d = d as usize;
            let value = self.propensity(net, d, state);
            if custom && !(value >= 0.0 && value.is_finite()) {
                self.total = total;
                return Err(StopReason::InvalidPropensity { channel: d, value });
            }
            let slot = &mut self.propensities[d];
            total += value - *slot;
            *slot = value;
        }
        self.total = total;
        Ok(())
    }
}

/// The totals `(T_A, T_B)` of `pair` in `counts` (`T_B = 0` for `A ⇌ C`).
fn totals(pair: &FastPair, counts: &[i64]) -> (i64, i64) {
    let c = counts[pair.c];
    (counts[pair.a] + c, pair.b.map_or(0, |b| counts[b] + c))
}

fn set_pair(pair: &FastPair, counts: &mut [i64], ta: i64, tb: i64, c: i64) {
    counts[pair.a] = ta - c;
    if let Some(b) = pair.b {
        counts[b] = tb - c;
    }
    counts[pair.c] = c;
}

/// `P(c + 1) / P(c)`.
#[inline]
fn ratio(k: f64, has_b: bool, ta: i64, tb: i64, c: i64) -> f64 {
    let b = if has_b { (tb - c) as f64 } else { 1.0 };
    k * (ta - c) as f64 * b / (c + 1) as f64
}

/// Makes the law of `pair` at the totals of `counts` the cache's current one, and copies its
/// moments to `moments` (the pair's part of `current_moments`).
#[inline]
fn make_current(pair: &FastPair, cache: &mut PairCache, counts: &[i64], moments: &mut [f64]) {
    cache.current = lookup(pair, cache, counts);
    let n_keys = pair.keys.len();
    moments.copy_from_slice(&cache.moments[cache.current * n_keys..(cache.current + 1) * n_keys]);
}

/// The slot of `pair`'s law at the totals of `counts`, computed into it unless cached; for a
/// pair switched off, the point law at `counts` (in [`INERT_SLOT`]).
fn lookup(pair: &FastPair, cache: &mut PairCache, counts: &[i64]) -> usize {
    let (ta, tb) = totals(pair, counts);
    if cache.inert {
        point_law(pair, cache, ta, tb, counts[pair.c]);
        return INERT_SLOT;
    }
    let hash = (ta as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((tb as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F));
    let slot = (hash >> 40) as usize & (CACHE_SLOTS - 1);
    if cache.totals[slot] != (ta, tb) {
        compute_law(pair, cache, slot, ta, tb);
    }
    slot
}

/// The law of a pair switched off, at totals `(ta, tb)` with `c` of C: all weight on `c`.
fn point_law(pair: &FastPair, cache: &mut PairCache, ta: i64, tb: i64, c: i64) {
    let n_keys = pair.keys.len();
    let moments = &mut cache.moments[INERT_SLOT * n_keys..(INERT_SLOT + 1) * n_keys];
    for (m, o) in moments.iter_mut().zip(&pair.keys) {
        *m = falling(ta - c, o[0]) * falling(tb - c, o[1]) * falling(c, o[2]);
    }
    cache.totals[INERT_SLOT] = (ta, tb);
    cache.lo[INERT_SLOT] = c;
    cache.mode[INERT_SLOT] = c;
    cache.hi[INERT_SLOT] = c;
    cache.w_lo[INERT_SLOT] = 1.0;
    cache.z[INERT_SLOT] = 1.0;
}

/// Computes the law at `(ta, tb)` into `slot`: support, weights' sum and moments.
fn compute_law(pair: &FastPair, cache: &mut PairCache, slot: usize, ta: i64, tb: i64) {
    let (k, has_b) = (cache.k, pair.b.is_some());
    let c_max = if has_b { ta.min(tb) } else { ta }.max(0);
    let mode = if c_max == 0 || k == 0.0 {
        0
    } else if k == f64::INFINITY {
        c_max
    } else {
        // Start from the root of K (T_A − c)(T_B − c) = c + 1 (K (T_A − c) = c + 1), then step
        // to where the ratio crosses 1 (the law is log-concave).
        let guess = if has_b {
            let (a, b) = (ta as f64, tb as f64);
            let s = k * (a + b) + 1.0;
            let disc = (s * s - 4.0 * k * (k * a * b - 1.0)).max(0.0);
            2.0 * (k * a * b - 1.0) / (s + disc.sqrt())
        } else {
            (k * ta as f64 - 1.0) / (k + 1.0)
        };
        let mut c = (guess.round().max(0.0) as i64).min(c_max);
        while c < c_max && ratio(k, has_b, ta, tb, c) > 1.0 {
            c += 1;
        }
        while c > 0 && ratio(k, has_b, ta, tb, c - 1) < 1.0 {
            c -= 1;
        }
        c
    };
    let n_keys = pair.keys.len();
    let moments = &mut cache.moments[slot * n_keys..(slot + 1) * n_keys];
    moments.fill(0.0);
    let add = |c: i64, w: f64, moments: &mut [f64]| {
        for (m, o) in moments.iter_mut().zip(&pair.keys) {
            *m += w * falling(ta - c, o[0]) * falling(tb - c, o[1]) * falling(c, o[2]);
        }
    };
    let mut z = 1.0;
    add(mode, 1.0, moments);
    let (mut c, mut w) = (mode, 1.0);
    while c < c_max && k.is_finite() {
        w *= ratio(k, has_b, ta, tb, c);
        if w < TAIL {
            break;
        }
        c += 1;
        z += w;
        add(c, w, moments);
    }
    let hi = c;
    let (mut c, mut w) = (mode, 1.0);
    while c > 0 && k > 0.0 {
        w /= ratio(k, has_b, ta, tb, c - 1);
        if w < TAIL {
            break;
        }
        c -= 1;
        z += w;
        add(c, w, moments);
    }
    for m in moments.iter_mut() {
        *m /= z;
    }
    cache.totals[slot] = (ta, tb);
    cache.lo[slot] = c;
    cache.mode[slot] = mode;
    cache.hi[slot] = hi;
    cache.w_lo[slot] = w;
    cache.z[slot] = z;
}

impl Simulator for SlowScale {
    fn name(&self) -> &'static str {
        "slow-scale"
    }

    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        self.order.restart();
        self.refresh(net, state)
    }

    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        self.load_pairs(state)?;
        // A copy of the state to average custom propensities in (vectors reused, no allocation).
        let empty = State {
            t: 0.0,
            counts: Vec::new(),
            params: Vec::new(),
            constants: Vec::new(),
        };
        let mut scratch = std::mem::replace(&mut self.scratch, empty);
        scratch.t = state.t;
        scratch.counts.clone_from(&state.counts);
        scratch.params.clone_from(&state.params);
        scratch.constants.clone_from(&state.constants);
        let mut result = Ok(());
        for k in 0..self.order.channels().len() {
            let r = self.order.channels()[k] as usize;
            let value = self.propensity(net, r, &mut scratch);
            if !(value >= 0.0 && value.is_finite()) {
                result = Err(StopReason::InvalidPropensity { channel: r, value });
                break;
            }
            self.propensities[r] = value;
        }
        self.scratch = scratch;
        result?;
        self.resum();
        self.note_separation(state);
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
        self.resum();
        // The counts hold a draw (from the last stop) or what a protocol action left: from now
        // on the hook follows the conditional means (see the module doc).
        for p in 0..self.pairs.len() {
            self.settle(p, &mut state.counts, rng);
        }
        hook.leaped(state.t, &state.counts);
        loop {
            if self.total <= self.resum_below {
                self.resum();
                if self.total <= 0.0 {
                    break;
                }
            }
            let t_next = state.t + Distribution::<f64>::sample(&Exp1, rng) / self.total;
            if t_next > t_stop {
                break;
            }
            let Some(r) = self
                .order
                .pick(&self.propensities, uniform01(rng) * self.total)
            else {
                self.resum();
                continue;
            };
            state.t = t_next;
            net.fire(r, &mut state.counts);
            let touched = self.touched.start[r] as usize..self.touched.start[r + 1] as usize;
            if touched.is_empty() {
                hook.fired(r, t_next);
            } else {
                for i in touched {
                    let p = self.touched.items[i] as usize;
                    let moments = &mut self.current_moments
                        [self.moment_start[p] as usize..self.moment_start[p + 1] as usize];
                    make_current(&self.pairs[p], &mut self.caches[p], &state.counts, moments);
                    self.settle(p, &mut state.counts, rng);
                }
                hook.leaped(t_next, &state.counts);
            }
            if let Err(e) = self.update_dependents(net, r, state) {
                return e;
            }
            self.stats.events += 1;
            self.since_resum += 1;
            if self.since_resum >= RESUM_EVERY {
                self.resum();
                self.note_separation(state);
            }
        }
        state.t = t_stop;
        // What the driver records at the stop: a draw of the fast species from their law.
        for p in 0..self.pairs.len() {
            self.draw(p, &mut state.counts, rng);
        }
        self.note_separation(state);
        StopReason::ReachedStop
    }

    fn stats(&self) -> SimStats {
        self.stats
    }
}
