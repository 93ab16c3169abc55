//! The compiled network: dense arrays the simulators read in their inner loop.
//!
//! [`Network::compile`] turns a validated [`Model`] into propensity kernels with their
//! stochastic constants, a flat (CSR) stoichiometry, and the dependency graph that says which
//! propensities change when a channel fires. Nothing here allocates after compilation.
//!
//! # Propensities
//!
//! With `c` the stochastic constant (the macroscopic rate in µM and s times `NAV^(1 − order)`,
//! `NAV` = molecules per µM in the reactants' compartment; across compartments
//! `NAV_c · Π NAV_i^(−ν_i)`, see [`crate::model::RateLaw`]) and `n` counts:
//!
//! | kernel | propensity |
//! |---|---|
//! | zero order | `c` |
//! | `A -> …` | `c · nA` |
//! | `A + B -> …` | `c · nA · nB` |
//! | `2 A -> …` | `c · nA · (nA − 1)` (events, v = k[A]²: no factor 1/2) |
//! | general | `c · Π nA (nA − 1) … (nA − ν + 1)` |
//! | custom | the expression, and 0 when a reactant is missing |

use crate::expr::{Compiled, Expr, Slot};
use crate::model::load::{derived_in_order, parameter_values};
use crate::model::{Model, RateLaw};

/// How a channel's propensity is computed from counts.
#[derive(Debug, Clone, PartialEq)]
enum Kernel {
    Zero,
    First(u32),
    Second(u32, u32),
    Dimer(u32),
    /// Range into `general_terms`.
    General(u32, u32),
    /// Index into `custom`.
    Custom(u32),
}

/// Marks a channel whose propensity is not of order ≤ 2 mass action (see [`LowOrder`]).
const SLOW: u32 = u32::MAX;

/// A mass-action channel of order ≤ 2 in branch-free form:
/// `c · (nA·ka + ca) · (nB·kb + cb)`. Zero order: ka = kb = 0, ca = cb = 1; first order:
/// kb = 0, cb = 1; `A + B`: ka = kb = 1, ca = cb = 0; `2 A`: b = a, cb = −1. Every product is
/// the same floating-point operation as the textbook formula (×1, +0 and ×0 + 1 are exact).
#[derive(Debug, Clone, Copy, PartialEq)]
struct LowOrder {
    a: u32,
    b: u32,
    ka: f64,
    ca: f64,
    kb: f64,
    cb: f64,
}

impl LowOrder {
    fn of(kernel: &Kernel) -> LowOrder {
        let k = |a, b, ka, ca, kb, cb| LowOrder {
            a,
            b,
            ka,
            ca,
            kb,
            cb,
        };
        match *kernel {
            Kernel::Zero => k(0, 0, 0.0, 1.0, 0.0, 1.0),
            Kernel::First(a) => k(a, a, 1.0, 0.0, 0.0, 1.0),
            Kernel::Second(a, b) => k(a, b, 1.0, 0.0, 1.0, 0.0),
            Kernel::Dimer(a) => k(a, a, 1.0, 0.0, 1.0, -1.0),
            Kernel::General(..) | Kernel::Custom(_) => k(SLOW, SLOW, 0.0, 0.0, 0.0, 0.0),
        }
    }

    /// The propensity with stochastic constant `c` (not for a `SLOW` kernel).
    #[inline(always)]
    fn value(&self, c: f64, counts: &[i64]) -> f64 {
        let na = counts[self.a as usize] as f64;
        let nb = counts[self.b as usize] as f64;
        c * (na * self.ka + self.ca) * (nb * self.kb + self.cb)
    }
}

/// An order ≤ 2 mass-action propensity with its stochastic constant folded in, reading counts
/// held as `f64` (exact for counts below 2⁵³): `(nA·c·ka + c·ca) · (nB·kb + cb)`. With ka, ca ∈
/// {0, 1} the first factor is `c·nA` or `c`, so the value is bit-identical to
/// [`Network::propensity`] (`c · (nA·ka + ca) · (nB·kb + cb)`). Built by
/// [`Network::scaled_kernel`] for a given constant; rebuilt when the constant changes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaledKernel {
    channel: u32,
    a: u32,
    b: u32,
    cka: f64,
    cca: f64,
    kb: f64,
    cb: f64,
}

impl ScaledKernel {
    /// The channel index.
    #[inline(always)]
    pub fn channel(&self) -> usize {
        self.channel as usize
    }

    /// The propensity for `counts` (the state's counts as `f64`).
    #[inline(always)]
    pub fn value(&self, counts: &[f64]) -> f64 {
        let na = counts[self.a as usize];
        let nb = counts[self.b as usize];
        (na * self.cka + self.cca) * (nb * self.kb + self.cb)
    }
}

/// A channel to recompute after a firing, with its propensity kernel inline so that the update
/// reads one contiguous record; custom propensities are flagged because only they can come out
/// invalid (negative or not finite) between two refreshes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dependent {
    channel: u32,
    kernel: LowOrder,
}

impl Dependent {
    const CUSTOM: u32 = 1 << 31;

    /// The channel index.
    #[inline]
    pub fn channel(self) -> usize {
        (self.channel & !Self::CUSTOM) as usize
    }

    /// True when the propensity is a custom expression and must be checked.
    #[inline]
    pub fn needs_check(self) -> bool {
        self.channel & Self::CUSTOM != 0
    }
}

/// A channel whose propensity is a custom expression.
#[derive(Debug, Clone)]
struct CustomLaw {
    code: Compiled,
    /// (species, stoichiometry) that must be present for the channel to fire.
    reactants: Vec<(u32, u32)>,
    /// Per species read: a bound on |∂ ln a / ∂ ln n| (None: no bound; see
    /// [`crate::simulator::tau_leap::elasticity_bounds`]).
    elasticity: Vec<(u32, Option<f64>)>,
}

/// The simulation state of one trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    /// Current time (s).
    pub t: f64,
    /// Molecule counts, by species index.
    pub counts: Vec<i64>,
    /// Parameter values in canonical units (protocols change them).
    pub params: Vec<f64>,
    /// Stochastic constant of each mass-action channel (unused for custom ones).
    pub constants: Vec<f64>,
}

/// The compiled reaction network.
#[derive(Debug, Clone)]
pub struct Network {
    species_names: Vec<String>,
    channel_names: Vec<String>,
    initial_counts: Vec<i64>,
    initial_params: Vec<f64>,
    kernels: Vec<Kernel>,
    low_order: Vec<LowOrder>,
    general_terms: Vec<(u32, u32)>,
    custom: Vec<CustomLaw>,
    /// Per mass-action channel: the rate expression and its scale.
    rates: Vec<Option<(Compiled, f64)>>,
    /// Derived parameters in dependency order.
    derived: Vec<(usize, Compiled)>,
    change_start: Vec<u32>,
    change_species: Vec<u32>,
    change_delta: Vec<i64>,
    dependents_start: Vec<u32>,
    /// Per channel: where its dependents that are not order <= 2 mass action begin.
    others_start: Vec<u32>,
    dependents: Vec<Dependent>,
    reactant_start: Vec<u32>,
    /// (species, stoichiometry) of every channel's reactants, CSR by channel.
    reactant_terms: Vec<(u32, u32)>,
    /// Species each channel's propensity reads (sorted), CSR by channel.
    read_start: Vec<u32>,
    read_species: Vec<u32>,
    /// Channels of reactions declared `fast = true`.
    fast: Vec<bool>,
}

impl Network {
    /// Compiles a validated model.
    pub fn compile(model: &Model) -> Network {
        let param_index = |n: &str| model.parameters.iter().position(|p| p.name == n);
        let species_index = |n: &str| model.species.iter().position(|s| s.name == n);
        let resolve = |n: &str| {
            param_index(n)
                .map(|i| Slot::Param(i as u32))
                .or_else(|| species_index(n).map(|i| Slot::Species(i as u32)))
        };
        let initial_params = parameter_values(&model.parameters)
            .expect("validated models have resolvable parameters");

        let (derived, complete) = derived_in_order(&model.parameters);
        assert!(
            complete,
            "validated models have resolvable derived parameters"
        );

        let mut kernels = Vec::new();
        let mut general_terms = Vec::new();
        let mut custom = Vec::new();
        let mut rates = Vec::new();
        let mut reads: Vec<Vec<u32>> = Vec::new();
        for r in &model.reactions {
            let reactants: Vec<(u32, u32)> =
                r.reactants.iter().map(|&(s, n)| (s as u32, n)).collect();
            let mut read: Vec<u32> = reactants.iter().map(|&(s, _)| s).collect();
            // A channel that changes nothing (only clamped species) cannot change the state:
            // it gets propensity 0 instead of firing in vain (at a clamped 20 uM Ca, extrusion
            // alone would fire millions of times per second).
            let inert = r
                .net_change()
                .iter()
                .all(|&(s, _)| model.species[s].constant);
            if inert {
                kernels.push(Kernel::Zero);
                rates.push(Some((
                    Compiled::new(&Expr::Num(0.0), &resolve).expect("a number compiles"),
                    0.0,
                )));
                reads.push(Vec::new());
                continue;
            }
            match &r.law {
                RateLaw::MassAction { rate, scale } => {
                    let kernel = match reactants.as_slice() {
                        [] => Kernel::Zero,
                        [(a, 1)] => Kernel::First(*a),
                        [(a, 2)] => Kernel::Dimer(*a),
                        [(a, 1), (b, 1)] => Kernel::Second(*a, *b),
                        terms => {
                            let start = general_terms.len() as u32;
                            general_terms.extend_from_slice(terms);
                            Kernel::General(start, general_terms.len() as u32)
                        }
                    };
                    kernels.push(kernel);
                    rates.push(Some((
                        Compiled::new(rate, &resolve).expect("validated rate"),
                        *scale,
                    )));
                }
                RateLaw::Custom(e) => {
                    let code = Compiled::new(e, &resolve).expect("validated propensity");
                    read.extend(code.species());
                    kernels.push(Kernel::Custom(custom.len() as u32));
                    let elasticity = crate::simulator::tau_leap::elasticity_bounds(e, &|n| {
                        species_index(n).map(|i| i as u32)
                    });
                    custom.push(CustomLaw {
                        code,
                        reactants,
                        elasticity,
                    });
                    rates.push(None);
                }
            }
            read.sort_unstable();
            read.dedup();
            reads.push(read);
        }

        let mut reactant_start = vec![0u32];
        let mut reactant_terms = Vec::new();
        for r in &model.reactions {
            reactant_terms.extend(r.reactants.iter().map(|&(s, n)| (s as u32, n)));
            reactant_start.push(reactant_terms.len() as u32);
        }

        let mut change_start = vec![0u32];
        let mut change_species = Vec::new();
        let mut change_delta = Vec::new();
        for r in &model.reactions {
            for (s, d) in r.net_change() {
                if model.species[s].constant {
                    continue; // a clamped species: reactions read it but do not change it
                }
                change_species.push(s as u32);
                change_delta.push(d);
            }
            change_start.push(change_species.len() as u32);
        }

        // Channel d depends on channel r when r changes a species d's propensity reads. Each
        // channel's list holds the order <= 2 mass-action channels first, then the others.
        let mut dependents_start = vec![0u32];
        let mut others_start = Vec::new();
        let mut dependents = Vec::new();
        for r in 0..model.reactions.len() {
            let changed = &change_species[change_start[r] as usize..change_start[r + 1] as usize];
            let (low, others): (Vec<usize>, Vec<usize>) = (0..kernels.len())
                .filter(|&d| reads[d].iter().any(|s| changed.contains(s)))
                .partition(|&d| LowOrder::of(&kernels[d]).a != SLOW);
            for d in low {
                dependents.push(Dependent {
                    channel: d as u32,
                    kernel: LowOrder::of(&kernels[d]),
                });
            }
            others_start.push(dependents.len() as u32);
            for d in others {
                let custom = matches!(kernels[d], Kernel::Custom(_));
                dependents.push(Dependent {
                    channel: d as u32 | if custom { Dependent::CUSTOM } else { 0 },
                    kernel: LowOrder::of(&kernels[d]),
                });
            }
            dependents_start.push(dependents.len() as u32);
        }

        let mut read_start = vec![0u32];
        let mut read_species = Vec::new();
        for read in &reads {
            read_species.extend_from_slice(read);
            read_start.push(read_species.len() as u32);
        }

        Network {
            read_start,
            read_species,
            fast: model.reactions.iter().map(|r| r.fast).collect(),
            species_names: model.species.iter().map(|s| s.name.clone()).collect(),
            channel_names: model.reactions.iter().map(|r| r.name.clone()).collect(),
            initial_counts: model.species.iter().map(|s| s.initial).collect(),
            initial_params,
            low_order: kernels.iter().map(LowOrder::of).collect(),
            kernels,
            general_terms,
            custom,
            rates,
            derived,
            change_start,
            change_species,
            change_delta,
            dependents_start,
            others_start,
            dependents,
            reactant_start,
            reactant_terms,
        }
    }

    /// Number of species.
    pub fn n_species(&self) -> usize {
        self.species_names.len()
    }

    /// Number of reaction channels.
    pub fn n_channels(&self) -> usize {
        self.kernels.len()
    }

    /// Species names by index.
    pub fn species_names(&self) -> &[String] {
        &self.species_names
    }

    /// Channel names by index.
    pub fn channel_names(&self) -> &[String] {
        &self.channel_names
    }

    /// The state at time 0: initial counts, parameters and constants.
    pub fn initial_state(&self) -> State {
        let mut state = State {
            t: 0.0,
            counts: self.initial_counts.clone(),
            params: self.initial_params.clone(),
            constants: vec![0.0; self.n_channels()],
        };
        self.update_constants(&mut state);
        state
    }

    /// Puts `state` back to time 0 without allocating.
    pub fn reset(&self, state: &mut State) {
        state.t = 0.0;
        state.counts.copy_from_slice(&self.initial_counts);
        state.params.copy_from_slice(&self.initial_params);
        self.update_constants(state);
    }

    /// Recomputes derived parameters and the stochastic constants after a parameter changed.
    pub fn update_constants(&self, state: &mut State) {
        for (i, code) in &self.derived {
            state.params[*i] = code.eval(&state.params, &state.counts);
        }
        for (c, rate) in state.constants.iter_mut().zip(&self.rates) {
            if let Some((code, scale)) = rate {
                *c = code.eval(&state.params, &state.counts) * scale;
            }
        }
    }

    /// The propensity of channel `r` (events/s) in `state`.
    #[inline]
    pub fn propensity(&self, r: usize, state: &State) -> f64 {
        self.propensity_with(r, &self.low_order[r], state)
    }

    /// The propensity of a dependent channel (the same value as [`Network::propensity`], from
    /// the kernel stored in the dependent).
    #[inline]
    pub fn dependent_propensity(&self, dep: &Dependent, state: &State) -> f64 {
        self.propensity_with(dep.channel(), &dep.kernel, state)
    }

    /// The propensity of a dependent from [`Network::low_order_dependents`] (the same value as
    /// [`Network::propensity`], branch-free; any other dependent gives a meaningless value or
    /// panics).
    #[inline(always)]
    pub fn low_order_propensity(&self, dep: &Dependent, state: &State) -> f64 {
        dep.kernel
            .value(state.constants[dep.channel as usize], &state.counts)
    }

    #[inline(always)]
    fn propensity_with(&self, r: usize, k: &LowOrder, state: &State) -> f64 {
        let c = state.constants[r];
        if k.a != SLOW {
            return k.value(c, &state.counts);
        }
        self.higher_order_or_custom(r, c, state)
    }

    /// Propensities of general mass action (order > 2) and custom expressions.
    fn higher_order_or_custom(&self, r: usize, c: f64, state: &State) -> f64 {
        let n = |s: u32| state.counts[s as usize] as f64;
        match self.kernels[r] {
            Kernel::Zero | Kernel::First(_) | Kernel::Second(..) | Kernel::Dimer(_) => {
                unreachable!("order <= 2 kernels take the branch-free path")
            }
            Kernel::General(start, end) => {
                let mut p = c;
                for &(s, nu) in &self.general_terms[start as usize..end as usize] {
                    let x = n(s);
                    for k in 0..nu {
                        p *= x - k as f64;
                    }
                }
                p
            }
            Kernel::Custom(i) => {
                let law = &self.custom[i as usize];
                let present = law
                    .reactants
                    .iter()
                    .all(|&(s, nu)| state.counts[s as usize] >= nu as i64);
                if present {
                    law.code.eval(&state.params, &state.counts)
                } else {
                    0.0
                }
            }
        }
    }

    /// Applies one firing of channel `r` to the counts.
    #[inline]
    pub fn fire(&self, r: usize, counts: &mut [i64]) {
        let range = self.change_start[r] as usize..self.change_start[r + 1] as usize;
        for (s, d) in self.change_species[range.clone()]
            .iter()
            .zip(&self.change_delta[range])
        {
            counts[*s as usize] += d;
        }
    }

    /// The net change of channel `r`: (species, delta) pairs.
    #[inline]
    pub fn changes(&self, r: usize) -> impl Iterator<Item = (usize, i64)> + '_ {
        let range = self.change_start[r] as usize..self.change_start[r + 1] as usize;
        self.change_species[range.clone()]
            .iter()
            .zip(&self.change_delta[range])
            .map(|(&s, &d)| (s as usize, d))
    }

    /// Channels whose propensity must be recomputed after channel `r` fires: first those of
    /// [`Network::low_order_dependents`], then those of [`Network::other_dependents`].
    #[inline]
    pub fn dependents(&self, r: usize) -> &[Dependent] {
        &self.dependents[self.dependents_start[r] as usize..self.dependents_start[r + 1] as usize]
    }

    /// The dependent record of channel `d` when it is mass action of order ≤ 2 (for
    /// [`Network::low_order_propensity`]), else None: for simulators that build their own
    /// dependency lists.
    pub fn low_order_dependent(&self, d: usize) -> Option<Dependent> {
        let kernel = self.low_order[d];
        (kernel.a != SLOW).then_some(Dependent {
            channel: d as u32,
            kernel,
        })
    }

    /// The dependents of channel `r` that are mass action of order ≤ 2 (see
    /// [`Network::low_order_propensity`]).
    #[inline]
    pub fn low_order_dependents(&self, r: usize) -> &[Dependent] {
        &self.dependents[self.dependents_start[r] as usize..self.others_start[r] as usize]
    }

    /// The kernel of a dependent from [`Network::low_order_dependents`] with the constant `c`
    /// folded in (see [`ScaledKernel`]).
    pub fn scaled_kernel(&self, dep: &Dependent, c: f64) -> ScaledKernel {
        let k = dep.kernel;
        debug_assert!(
            k.a != SLOW,
            "only order <= 2 mass action has a scaled kernel"
        );
        ScaledKernel {
            channel: dep.channel() as u32,
            a: k.a,
            b: k.b,
            cka: c * k.ka,
            cca: c * k.ca,
            kb: k.kb,
            cb: k.cb,
        }
    }

    /// The dependents of channel `r` with a general mass-action or custom propensity.
    #[inline]
    pub fn other_dependents(&self, r: usize) -> &[Dependent] {
        &self.dependents[self.others_start[r] as usize..self.dependents_start[r + 1] as usize]
    }

    /// The reactants of channel `r`: (species, stoichiometry) pairs.
    pub fn reactants(&self, r: usize) -> &[(u32, u32)] {
        &self.reactant_terms[self.reactant_start[r] as usize..self.reactant_start[r + 1] as usize]
    }

    /// The species channel `r`'s propensity reads (reactants and, for a custom expression, every
    /// species it names), sorted.
    pub fn reads(&self, r: usize) -> &[u32] {
        &self.read_species[self.read_start[r] as usize..self.read_start[r + 1] as usize]
    }

    /// True when channel `r` belongs to a reaction declared `fast = true`.
    pub fn is_fast(&self, r: usize) -> bool {
        self.fast[r]
    }

    /// True when channel `r`'s propensity is a custom expression.
    pub fn is_custom(&self, r: usize) -> bool {
        matches!(self.kernels[r], Kernel::Custom(_))
    }

    /// For a channel with a custom propensity, a bound on its elasticity `|∂ ln a / ∂ ln n|` with
    /// respect to each species it reads (None where no bound is known); None for mass action.
    pub fn custom_elasticity(&self, r: usize) -> Option<&[(u32, Option<f64>)]> {
        match self.kernels[r] {
            Kernel::Custom(i) => Some(&self.custom[i as usize].elasticity),
            _ => None,
        }
    }
}
