//! Adaptive explicit tau-leaping (Cao, Gillespie & Petzold 2006, J Chem Phys 124:044109).
//!
//! Each step, with propensities `a_j` and counts `x`:
//!
//! 1. A channel is *critical* when it has `a_j > 0` and could fire fewer than `n_c` = 10 more
//!    times before a species it consumes runs out (`L_j = min_i ⌊x_i / |ν_ij|⌋ < n_c` over the
//!    species with `ν_ij < 0`). Critical channels are fired exactly, one event at a time.
//! 2. The leap `τ'` bounds the expected relative change of every propensity by ε (species-based
//!    selection, eq. 32–33 of the paper): for every species `i` read by some propensity,
//!    `τ' = min_i { max(ε x_i / g_i, 1) / |μ_i| , max(ε x_i / g_i, 1)² / σ_i² }` with
//!    `μ_i = Σ ν_ij a_j`, `σ_i² = Σ ν_ij² a_j` over the non-critical channels.
//! 3. When `τ' < 10 / a₀` a leap would fire only a handful of events: instead up to 100 exact
//!    SSA steps are taken (doubling, up to 6400, while consecutive steps keep falling back; back
//!    to 100 after every leap and at every stop) with the sorting direct method ([`Direct`],
//!    which also keeps the propensities between leaps), then the step starts again. A run that never leaps thus
//!    follows `--method direct` for the same seed, up to the rounding of a₀ (re-summed at
//!    every batch here, every 4096 events there).
//! 4. Otherwise the time to the next critical firing `τ'' ~ Exp(Σ critical a_j)` is drawn;
//!    the step is `τ = min(τ', τ'', t_stop − t)`. Each non-critical channel fires
//!    `Poisson(a_j τ)` times, and the critical channel picked with probability `a_j / Σ` fires
//!    once when `τ = τ''`.
//! 5. A step that would make any count negative is rejected: the counts are put back, `τ'` is
//!    halved and the step is drawn again from 3.
//!
//! A leap never goes past `t_stop`, so leaps end exactly at scheduled events, recording times
//! and outcome windows (the driver stops the simulator at each of them).
//!
//! # The factor g_i
//!
//! `g_i` bounds the elasticity `|∂ ln a_j / ∂ ln x_i|` of the propensities that read `x_i`, so
//! that a relative change ε/g_i of every `x_i` changes no propensity by more than ≈ ε. The paper
//! takes it from the *highest-order* reaction of `x_i` only; here it is the maximum over all
//! channels that read `x_i` (never smaller, so never a longer leap):
//!
//! - mass action of order `m` with `x_i` of stoichiometry `ν`: `(m/ν) Σ_{k<ν} x_i / (x_i − k)`,
//!   which gives the paper's 1, 2, `2 + 1/(x−1)`, 3, `3/2 (2 + 1/(x−1))` and
//!   `3 + 1/(x−1) + 2/(x−2)`;
//! - a custom propensity: the bound [`elasticity_bounds`] derives from its expression, e.g. 8 for
//!   `PP1` in `k · PP1^4 / (K^4 + PP1^4)` (conservative: the true maximum is 4) and 1 for `Slot`
//!   in `(…) · Slot`. An expression whose
//!   elasticity has no bound (`exp`, `ln`, `log10` of a species, a difference of
//!   species-dependent terms, a non-numeric exponent) is refused by [`TauLeap::new`], naming the
//!   reaction and the species.
//!
//! Fast reversible pairs (e.g. Ca + buffer ⇄ CaBuffer) contribute to both `μ_i` (their net drift)
//! and `σ_i²` (the sum of both directions), so the variance term keeps the leap from jumping over
//! their fluctuations; when one side has fewer than `n_c` molecules the consuming direction is
//! critical and fires exactly. On a spine with a few free Ca ions this means the leap is limited
//! to about one Ca event, and the method falls back to exact steps for most of the time (a stiff
//! method is needed there; see `benches/README.md`).
//!
//! # Outcomes under leaping
//!
//! A leap changes many counts at once, at the leap's end: the [`FireHook`] is told with
//! [`FireHook::leaped`] once per leap (with the new counts) and with [`FireHook::fired`] once per
//! exact step. Integrals are the exact integrals of the tau-leap path, which is piecewise constant
//! with its jumps at the leap ends; peaks and minima see the state at every leap end and after
//! every exact step, not inside a leap, where the path is not defined.

use rand::Rng;
use rand_distr::{Distribution, Poisson};
use serde::{Deserialize, Serialize};

use super::{uniform01, uniform_open0, Direct, FireHook, SimStats, Simulator, StopReason};
use crate::expr::{BinOp, Expr, Func};
use crate::network::{Network, State};

/// The settings of tau-leaping, as written to `run.json`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TauLeapSettings {
    /// ε: the bound on the relative change of any propensity during a leap.
    pub epsilon: f64,
    /// n_c: a channel that can fire fewer times than this before a reactant runs out is critical.
    pub critical_firings: u32,
    /// Exact steps are taken instead of a leap when τ' < `exact_below` / a₀.
    pub exact_below: f64,
    /// Number of exact SSA steps taken in the first fall-back after a leap or a stop.
    pub exact_batch: u32,
    /// Consecutive fall-backs double their number of steps up to this many (a model that cannot
    /// leap, like a spine at rest, then pays for the leap-size computation once per this many
    /// events, not once per `exact_batch`).
    pub exact_batch_max: u32,
}

impl Default for TauLeapSettings {
    fn default() -> Self {
        TauLeapSettings {
            epsilon: 0.03,
            critical_firings: 10,
            exact_below: 10.0,
            exact_batch: 100,
            exact_batch_max: 6400,
        }
    }
}

impl TauLeapSettings {
    /// The default settings with ε = `epsilon`; an error unless 0 < ε < 1.
    pub fn with_epsilon(epsilon: f64) -> Result<Self, String> {
        if !(epsilon > 0.0 && epsilon < 1.0) {
            return Err(format!(
                "--tau-epsilon must be between 0 and 1 (exclusive), got {epsilon}"
            ));
        }
        Ok(TauLeapSettings {
            epsilon,
            ..Default::default()
        })
    }
}

/// Bounds on the elasticity `|∂ ln f / ∂ ln n_s|` of a non-negative expression `f` with respect
/// to each species `s` it reads (`species` resolves a name to a species index), one entry per
/// species, None where no bound can be derived.
///
/// Rules (`e(·)` the bound, constants 0, a species 1 for itself): `e(a·b) = e(a/b) = e(a) + e(b)`;
/// `e(a^p) = |p| e(a)` for a numeric exponent; `e(sqrt a) = e(a)/2`; `e(abs a) = e(a)`;
/// `e(a + b) = e(min(a, b)) = e(max(a, b)) = max(e(a), e(b))` (the elasticity of a sum of
/// non-negative terms is a weighted mean of theirs). No bound: `exp`, `ln`, `log10` of a
/// species-dependent argument, subtraction or negation of a species-dependent term, and a
/// non-numeric exponent of a species-dependent base.
pub fn elasticity_bounds(
    expr: &Expr,
    species: &dyn Fn(&str) -> Option<u32>,
) -> Vec<(u32, Option<f64>)> {
    let mut read = Vec::new();
    collect_species(expr, species, &mut read);
    read.sort_unstable();
    read.dedup();
    read.into_iter()
        .map(|s| (s, elasticity(expr, s, species)))
        .collect()
}

fn collect_species(expr: &Expr, species: &dyn Fn(&str) -> Option<u32>, out: &mut Vec<u32>) {
    match expr {
        Expr::Num(_) | Expr::Quantity(_) => {}
        Expr::Name(n) => out.extend(species(n)),
        Expr::Neg(a) => collect_species(a, species, out),
        Expr::Binary(_, a, b) => {
            collect_species(a, species, out);
            collect_species(b, species, out);
        }
        Expr::Call(_, args) => args.iter().for_each(|a| collect_species(a, species, out)),
    }
}

fn reads(expr: &Expr, s: u32, species: &dyn Fn(&str) -> Option<u32>) -> bool {
    let mut read = Vec::new();
    collect_species(expr, species, &mut read);
    read.contains(&s)
}

fn numeric(expr: &Expr) -> Option<f64> {
    match expr {
        Expr::Num(v) => Some(*v),
        Expr::Quantity(q) => Some(q.value),
        Expr::Neg(a) => numeric(a).map(|v| -v),
        _ => None,
    }
}

fn elasticity(expr: &Expr, s: u32, species: &dyn Fn(&str) -> Option<u32>) -> Option<f64> {
    if !reads(expr, s, species) {
        return Some(0.0);
    }
    let e = |a: &Expr| elasticity(a, s, species);
    match expr {
        Expr::Num(_) | Expr::Quantity(_) => Some(0.0),
        Expr::Name(_) => Some(1.0),
        Expr::Neg(_) => None,
        Expr::Binary(op, a, b) => match op {
            BinOp::Mul | BinOp::Div => Some(e(a)? + e(b)?),
            BinOp::Add => Some(e(a)?.max(e(b)?)),
            BinOp::Sub => None,
            BinOp::Pow => {
                let p = numeric(b)?;
                Some(p.abs() * e(a)?)
            }
        },
        Expr::Call(f, args) => match f {
            Func::Sqrt => Some(0.5 * e(&args[0])?),
            Func::Abs => e(&args[0]),
            Func::Min | Func::Max => Some(e(&args[0])?.max(e(&args[1])?)),
            Func::Exp | Func::Ln | Func::Log10 => None,
        },
    }
}

/// Adaptive tau-leaping with exact fall-back.
#[derive(Debug, Clone)]
pub struct TauLeap {
    settings: TauLeapSettings,
    /// Propensities at the start of the current step.
    propensities: Vec<f64>,
    /// Channels that are critical in the current step.
    critical: Vec<u32>,
    is_critical: Vec<bool>,
    /// (species, amount) each channel consumes (net change < 0), CSR.
    consumed_start: Vec<u32>,
    consumed: Vec<(u32, i64)>,
    /// Species read by some propensity (the set I_rs of the paper).
    read_species: Vec<u32>,
    /// Per species of `read_species`: mass-action terms (m/ν, ν) of `g_i`, CSR.
    g_start: Vec<u32>,
    g_terms: Vec<(f64, u32)>,
    /// Per species of `read_species`: the largest custom-law elasticity bound.
    g_custom: Vec<f64>,
    mu: Vec<f64>,
    sigma2: Vec<f64>,
    firings: Vec<u64>,
    saved_counts: Vec<i64>,
    /// The exact fall-back (it also keeps the propensities up to date between leaps).
    exact: Direct,
    /// Leaps, rejections and the events fired by leaps.
    stats: SimStats,
}

impl TauLeap {
    /// A simulator for `net`; an error names a custom propensity whose sensitivity to a species
    /// cannot be bounded (see [`elasticity_bounds`]).
    pub fn new(net: &Network, settings: TauLeapSettings) -> Result<Self, String> {
        let (n_channels, n_species) = (net.n_channels(), net.n_species());
        let mut consumed_start = vec![0u32];
        let mut consumed = Vec::new();
        // Per species: (m/ν, ν) terms and custom bound.
        let mut terms: Vec<Vec<(f64, u32)>> = vec![Vec::new(); n_species];
        let mut custom = vec![f64::NAN; n_species];
        for r in 0..n_channels {
            consumed.extend(
                net.changes(r)
                    .filter(|&(_, d)| d < 0)
                    .map(|(s, d)| (s as u32, -d)),
            );
            consumed_start.push(consumed.len() as u32);
            match net.custom_elasticity(r) {
                None => {
                    let order: u32 = net.reactants(r).iter().map(|&(_, n)| n).sum();
                    for &(s, nu) in net.reactants(r) {
                        let t = (order as f64 / nu as f64, nu);
                        if !terms[s as usize].contains(&t) {
                            terms[s as usize].push(t);
                        }
                    }
                }
                Some(bounds) => {
                    for &(s, bound) in bounds {
                        let bound = bound.ok_or_else(|| {
                            format!(
                                "--method tau-leap: the propensity of reaction '{}' has no bounded \
                                 sensitivity to species '{}' (exp, ln, log10, a difference or a \
                                 non-numeric power of it), so no leap size can be chosen; use an exact \
                                 method (--method ssa)",
                                net.channel_names()[r],
                                net.species_names()[s as usize]
                            )
                        })?;
                        let c = &mut custom[s as usize];
                        *c = if c.is_nan() { bound } else { c.max(bound) };
                    }
                    // Reactants of a custom law gate it (0 when missing); they are read too.
                    for &(s, _) in net.reactants(r) {
                        let c = &mut custom[s as usize];
                        if c.is_nan() {
                            *c = 0.0;
                        }
                    }
                }
            }
        }
        let mut read_species = Vec::new();
        let mut g_start = vec![0u32];
        let mut g_terms = Vec::new();
        let mut g_custom = Vec::new();
        for s in 0..n_species {
            if terms[s].is_empty() && custom[s].is_nan() {
                continue;
            }
            read_species.push(s as u32);
            g_terms.extend_from_slice(&terms[s]);
            g_start.push(g_terms.len() as u32);
            g_custom.push(if custom[s].is_nan() { 0.0 } else { custom[s] });
        }
        Ok(TauLeap {
            settings,
            propensities: vec![0.0; n_channels],
            critical: Vec::with_capacity(n_channels),
            is_critical: vec![false; n_channels],
            consumed_start,
            consumed,
            read_species,
            g_start,
            g_terms,
            g_custom,
            mu: vec![0.0; n_species],
            sigma2: vec![0.0; n_species],
            firings: vec![0; n_channels],
            saved_counts: vec![0; n_species],
            exact: Direct::new(net),
            stats: SimStats::default(),
        })
    }

    /// The settings.
    pub fn settings(&self) -> TauLeapSettings {
        self.settings
    }

    /// `g_i` of the `k`-th species of `read_species` at count `x`.
    #[inline]
    fn g(&self, k: usize, x: f64) -> f64 {
        let mut g = self.g_custom[k];
        for &(factor, nu) in &self.g_terms[self.g_start[k] as usize..self.g_start[k + 1] as usize] {
            let mut sum = 0.0;
            for j in 0..nu {
                sum += x / (x - j as f64).max(1.0);
            }
            g = g.max(factor * sum);
        }
        g
    }

    /// Marks the critical channels and returns the leap τ' allowed by the non-critical ones.
    fn classify_and_bound(&mut self, net: &Network, counts: &[i64]) -> f64 {
        let n_c = self.settings.critical_firings as i64;
        self.critical.clear();
        self.mu.fill(0.0);
        self.sigma2.fill(0.0);
        for r in 0..self.propensities.len() {
            let a = self.propensities[r];
            let range = self.consumed_start[r] as usize..self.consumed_start[r + 1] as usize;
            let critical = a > 0.0
                && self.consumed[range]
                    .iter()
                    .any(|&(s, d)| counts[s as usize] / d < n_c);
            self.is_critical[r] = critical;
            if critical {
                self.critical.push(r as u32);
            } else if a > 0.0 {
                for (s, d) in net.changes(r) {
                    let d = d as f64;
                    self.mu[s] += d * a;
                    self.sigma2[s] += d * d * a;
                }
            }
        }
        let eps = self.settings.epsilon;
        let mut tau = f64::INFINITY;
        for k in 0..self.read_species.len() {
            let s = self.read_species[k] as usize;
            let (mu, sigma2) = (self.mu[s], self.sigma2[s]);
            if sigma2 == 0.0 {
                continue;
            }
            let x = counts[s] as f64;
            let bound = (eps * x / self.g(k, x)).max(1.0);
            tau = tau.min(bound / mu.abs()).min(bound * bound / sigma2);
        }
        tau
    }

    /// Copies the propensities from the exact simulator and returns their sum a₀.
    fn load_propensities(&mut self) -> f64 {
        for (r, a) in self.propensities.iter_mut().enumerate() {
            *a = self.exact.propensity(r);
        }
        self.propensities.iter().sum()
    }

    /// One leap of length `tau` (fires the critical channel `critical` once at its end, if any);
    /// false, with the counts unchanged, when a count would go negative.
    fn leap<R: Rng + ?Sized>(
        &mut self,
        net: &Network,
        counts: &mut [i64],
        tau: f64,
        critical: Option<usize>,
        rng: &mut R,
    ) -> bool {
        self.saved_counts.copy_from_slice(counts);
        let mut fired = 0;
        for r in 0..self.propensities.len() {
            let lambda = self.propensities[r] * tau;
            let k = if self.is_critical[r] || lambda <= 0.0 {
                0
            } else {
                Poisson::new(lambda)
                    .expect("finite positive mean")
                    .sample(rng) as u64
            };
            self.firings[r] = k;
            if k > 0 {
                for (s, d) in net.changes(r) {
                    counts[s] += d * k as i64;
                }
                fired += k;
            }
        }
        if let Some(r) = critical {
            net.fire(r, counts);
            fired += 1;
        }
        if counts.iter().any(|&n| n < 0) {
            counts.copy_from_slice(&self.saved_counts);
            return false;
        }
        self.stats.events += fired;
        true
    }
}

impl Simulator for TauLeap {
    fn name(&self) -> &'static str {
        "tau-leap"
    }

    fn reset(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        self.exact.reset(net, state)
    }

    fn refresh(&mut self, net: &Network, state: &State) -> Result<(), StopReason> {
        self.exact.refresh(net, state)
    }

    fn advance_until<R: Rng + ?Sized, H: FireHook>(
        &mut self,
        net: &Network,
        state: &mut State,
        t_stop: f64,
        rng: &mut R,
        hook: &mut H,
    ) -> StopReason {
        let mut batch = u64::from(self.settings.exact_batch);
        let batch_max = u64::from(self.settings.exact_batch_max.max(self.settings.exact_batch));
        while state.t < t_stop {
            let total = self.load_propensities();
            if total <= 0.0 {
                break;
            }
            let mut tau_prime = self.classify_and_bound(net, &state.counts);
            loop {
                if tau_prime < self.settings.exact_below / total {
                    match self
                        .exact
                        .advance_events(net, state, t_stop, batch, rng, hook)
                    {
                        Ok(_) => {
                            batch = (2 * batch).min(batch_max);
                            break;
                        }
                        Err(e) => return e,
                    }
                }
                let remaining = t_stop - state.t;
                let critical_total: f64 = self
                    .critical
                    .iter()
                    .map(|&r| self.propensities[r as usize])
                    .sum();
                let tau_critical = if critical_total > 0.0 {
                    -uniform_open0(rng).ln() / critical_total
                } else {
                    f64::INFINITY
                };
                let tau_free = tau_prime.min(remaining);
                let (tau, critical) = if tau_free < tau_critical {
                    (tau_free, None)
                } else {
                    let target = uniform01(rng) * critical_total;
                    let mut acc = 0.0;
                    let mut pick = *self.critical.last().expect("a critical channel");
                    for &r in &self.critical {
                        acc += self.propensities[r as usize];
                        if target < acc {
                            pick = r;
                            break;
                        }
                    }
                    (tau_critical, Some(pick as usize))
                };
                if self.leap(net, &mut state.counts, tau, critical, rng) {
                    state.t = if tau == remaining {
                        t_stop
                    } else {
                        state.t + tau
                    };
                    self.stats.leaps += 1;
                    batch = u64::from(self.settings.exact_batch);
                    hook.leaped(state.t, &state.counts);
                    if let Err(e) = self.exact.refresh(net, state) {
                        return e;
                    }
                    break;
                }
                self.stats.rejected_leaps += 1;
                tau_prime = tau.min(tau_prime) / 2.0;
            }
        }
        state.t = t_stop;
        StopReason::ReachedStop
    }

    fn stats(&self) -> SimStats {
        let exact = self.exact.stats();
        SimStats {
            events: self.stats.events + exact.events,
            resums: exact.resums,
            exact_steps: exact.events,
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::parse;

    fn bounds(text: &str) -> Vec<(u32, Option<f64>)> {
        let names = ["PP1", "Slot", "X"];
        elasticity_bounds(&parse(text).unwrap(), &|n| {
            names.iter().position(|&m| m == n).map(|i| i as u32)
        })
    }

    #[test]
    fn elasticity_of_hill_and_linear_terms() {
        assert_eq!(
            bounds("(k_h * PP1^4 / (K_h^4 + PP1^4) + k_b) * Slot"),
            vec![(0, Some(8.0)), (1, Some(1.0))]
        );
        assert_eq!(bounds("sqrt(X) * 3"), vec![(2, Some(0.5))]);
        assert_eq!(
            bounds("max(X, PP1^2)"),
            vec![(0, Some(2.0)), (2, Some(1.0))]
        );
    }

    #[test]
    fn unbounded_elasticities_are_none() {
        assert_eq!(bounds("exp(X)"), vec![(2, None)]);
        assert_eq!(bounds("X - PP1"), vec![(0, None), (2, None)]);
        assert_eq!(bounds("X^k"), vec![(2, None)]);
        // A species-free subtraction is a constant.
        assert_eq!(bounds("(a - b) * X"), vec![(2, Some(1.0))]);
    }
}
