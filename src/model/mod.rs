//! The model: read from a file ([`spec`]), checked and put into canonical units ([`load`]).
//!
//! A [`Model`] is what the file means, with every name resolved to an index and every number in
//! canonical units (s, µM, mV, fL). It is still readable (names, expressions); [`crate::network`]
//! compiles it into the dense arrays the simulator reads.

pub mod equation;
pub mod include;
pub mod load;
pub mod overrides;
pub mod spec;

use std::path::PathBuf;

use crate::error::Diagnostic;
use crate::expr::Expr;
use crate::units::Dim;

pub use load::{load_model, parse_model};

/// A validated model.
#[derive(Debug, Clone)]
pub struct Model {
    /// `[model] name`.
    pub name: String,
    /// `[model] description`.
    pub description: String,
    /// The file it was read from.
    pub path: PathBuf,
    /// The file's full text (re-read by overrides).
    pub text: String,
    /// The files it includes (`[[include]]`, recursively) with their texts.
    pub included: Vec<(PathBuf, String)>,
    /// Compartments.
    pub compartments: Vec<Compartment>,
    /// Parameters, in file order.
    pub parameters: Vec<Parameter>,
    /// Species, in file order.
    pub species: Vec<Species>,
    /// Reaction channels: a reversible reaction gives two (the reverse one named `NAME.rev`).
    pub reactions: Vec<Reaction>,
    /// Observables.
    pub observables: Vec<Observable>,
    /// Protocols.
    pub protocols: Vec<Protocol>,
    /// The protocol applied when none is named (an SBML model's events).
    pub default_protocol: Option<String>,
    /// Events fired when a trigger turns true (SBML events that read the state; applied in every
    /// run, whatever the protocol).
    pub events: Vec<crate::simulator::triggers::TriggeredEvent>,
    /// Outcomes.
    pub outcomes: Vec<Outcome>,
    /// What the trajectories record, in column order.
    pub record: Vec<Quantity>,
    /// Named variants (`[variants.NAME]`), in file order.
    pub variants: Vec<Variant>,
    /// Problems that do not stop a run (e.g. a species nothing touches).
    pub warnings: Vec<Diagnostic>,
}

/// A named set of overrides (`[variants.NAME]`), checked at load.
#[derive(Debug, Clone, PartialEq)]
pub struct Variant {
    /// Name (`--variant NAME`).
    pub name: String,
    /// What it stands for.
    pub description: String,
    /// (parameter, species or compartment name, value as written), in name order.
    pub set: Vec<(String, spec::Amount)>,
}

/// A well-mixed volume.
#[derive(Debug, Clone, PartialEq)]
pub struct Compartment {
    /// Name.
    pub name: String,
    /// Volume in fL.
    pub volume_fl: f64,
}

impl Compartment {
    /// Molecules per µM in this compartment (`NAV`).
    pub fn molecules_per_micromolar(&self) -> f64 {
        crate::units::molecules_per_micromolar(self.volume_fl)
    }
}

/// A named parameter in canonical units.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// Name.
    pub name: String,
    /// Its dimension.
    pub dim: Dim,
    /// A value, or an expression of other parameters.
    pub definition: ParameterDefinition,
}

/// How a parameter gets its value.
#[derive(Debug, Clone, PartialEq)]
pub enum ParameterDefinition {
    /// A fixed initial value (protocols may change it).
    Value(f64),
    /// Recomputed from other parameters whenever they change.
    Derived(Expr),
}

/// A molecular species, counted in one compartment.
#[derive(Debug, Clone, PartialEq)]
pub struct Species {
    /// Name.
    pub name: String,
    /// Index into [`Model::compartments`].
    pub compartment: usize,
    /// Initial count (molecules).
    pub initial: i64,
    /// Held constant: reactions read it but do not change it (protocol actions still may).
    pub constant: bool,
}

/// One reaction channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Reaction {
    /// Name (`NAME.rev` for the reverse channel of a reversible reaction).
    pub name: String,
    /// Consumed species and stoichiometry.
    pub reactants: Vec<(usize, u32)>,
    /// Produced species and stoichiometry.
    pub products: Vec<(usize, u32)>,
    /// How the propensity is computed.
    pub law: RateLaw,
    /// Declared fast (`fast = true`, both channels of a reversible reaction): averaged out by
    /// `--method slow-scale`, ignored by the other methods.
    pub fast: bool,
}

impl Reaction {
    /// Sum of reactant stoichiometries.
    pub fn order(&self) -> u32 {
        self.reactants.iter().map(|&(_, n)| n).sum()
    }

    /// Net change per species (zero changes left out), sorted by species.
    pub fn net_change(&self) -> Vec<(usize, i64)> {
        let mut change: Vec<(usize, i64)> = Vec::new();
        let terms = self.reactants.iter().map(|&(s, n)| (s, -(n as i64)));
        for (s, d) in terms.chain(self.products.iter().map(|&(s, n)| (s, n as i64))) {
            match change.iter_mut().find(|(t, _)| *t == s) {
                Some((_, c)) => *c += d,
                None => change.push((s, d)),
            }
        }
        change.retain(|&(_, d)| d != 0);
        change.sort_unstable();
        change
    }
}

/// The propensity of a channel.
#[derive(Debug, Clone, PartialEq)]
pub enum RateLaw {
    /// Mass action: stochastic constant `c = rate × scale`, where `rate` is an expression of
    /// parameters in canonical units and `scale = NAV^(1 − order)` in one compartment; across
    /// compartments `scale = NAV_c · Π_i NAV_i^(−ν_i)` with `c` the compartment whose
    /// concentration units the rate is given in and `NAV_i` that of reactant i's compartment.
    MassAction {
        /// The macroscopic rate constant.
        rate: Expr,
        /// Conversion to a stochastic constant.
        scale: f64,
    },
    /// A custom propensity in events/s; species names are counts.
    Custom(Expr),
}

/// A named weighted sum of species.
#[derive(Debug, Clone, PartialEq)]
pub struct Observable {
    /// Name.
    pub name: String,
    /// (species index, weight).
    pub terms: Vec<(usize, f64)>,
}

impl Observable {
    /// True when every weight is a whole number, so the observable is an integer.
    pub fn is_integer(&self) -> bool {
        self.terms.iter().all(|&(_, w)| w.fract() == 0.0)
    }
}

/// A species or an observable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Index into [`Model::species`].
    Species(usize),
    /// Index into [`Model::observables`].
    Observable(usize),
}

impl Model {
    /// The text of the model and of every file it includes, as hashed and stored in the output
    /// metadata: a change in an included file is a change of the model (`--resume` refuses it).
    pub fn full_text(&self) -> String {
        let mut text = self.text.clone();
        for (path, included) in &self.included {
            text.push_str(&format!("\n# ---- included: {}\n", path.display()));
            text.push_str(included);
        }
        text
    }

    /// The name of a species or observable.
    pub fn quantity_name(&self, q: Quantity) -> &str {
        match q {
            Quantity::Species(i) => &self.species[i].name,
            Quantity::Observable(i) => &self.observables[i].name,
        }
    }

    /// A quantity as (species, weight) terms.
    pub fn quantity_terms(&self, q: Quantity) -> Vec<(usize, f64)> {
        match q {
            Quantity::Species(i) => vec![(i, 1.0)],
            Quantity::Observable(i) => self.observables[i].terms.clone(),
        }
    }

    /// True when the quantity only takes integer values.
    pub fn quantity_is_integer(&self, q: Quantity) -> bool {
        match q {
            Quantity::Species(_) => true,
            Quantity::Observable(i) => self.observables[i].is_integer(),
        }
    }

    /// The protocol with this name.
    pub fn protocol(&self, name: &str) -> Option<&Protocol> {
        self.protocols.iter().find(|p| p.name == name)
    }
}

/// A named schedule of discrete events.
#[derive(Debug, Clone, PartialEq)]
pub struct Protocol {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Default simulated time (s).
    pub t_end: Option<f64>,
    /// Pulse trains.
    pub trains: Vec<Train>,
    /// Single events.
    pub events: Vec<Event>,
    /// Offsets (s) after each driving pulse at which driven parameters are re-evaluated
    /// (always starts with 0).
    pub drive_samples: Vec<f64>,
}

/// A regular pulse train.
#[derive(Debug, Clone, PartialEq)]
pub struct Train {
    /// First pulse (s).
    pub start: f64,
    /// Time between pulses (s).
    pub period: f64,
    /// Number of pulses.
    pub count: u64,
    /// Time from `on` to `off` (s), before clipping to the period.
    pub width: Option<f64>,
    /// Actions at each pulse start.
    pub on: Vec<Action>,
    /// Actions at each pulse end.
    pub off: Vec<Action>,
    /// Parameters driven by each pulse.
    pub drives: Vec<Drive>,
}

/// Each pulse of a train adds `step × exp(−(t − t_pulse)/tau)` to a parameter, on top of its
/// declared value `base`. The parameter is piecewise constant: it is re-evaluated at the
/// protocol's drive samples after every driving pulse (see [`crate::schedule`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Drive {
    /// Parameter index.
    pub parameter: usize,
    /// The parameter's declared value (canonical units).
    pub base: f64,
    /// Kernel height (canonical units of the parameter).
    pub step: f64,
    /// Kernel decay time (s).
    pub tau: f64,
}

/// A single event.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// When (s).
    pub time: f64,
    /// What happens.
    pub actions: Vec<Action>,
}

/// A discrete change of the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Set a parameter (canonical units).
    SetParameter {
        /// Parameter index.
        parameter: usize,
        /// New value.
        value: f64,
    },
    /// Multiply a parameter.
    ScaleParameter {
        /// Parameter index.
        parameter: usize,
        /// Factor.
        factor: f64,
    },
    /// Set a species count.
    SetSpecies {
        /// Species index.
        species: usize,
        /// New count.
        count: i64,
    },
    /// Add molecules.
    AddSpecies {
        /// Species index.
        species: usize,
        /// Molecules added.
        count: i64,
    },
    /// Remove molecules, stopping at zero.
    RemoveSpecies {
        /// Species index.
        species: usize,
        /// Molecules removed (at most the count present).
        count: i64,
    },
    /// Each molecule of `species` converts with probability `p` (one Binomial(n, p) draw).
    Binomial {
        /// Species drawn from.
        species: usize,
        /// Per-molecule probability.
        p: f64,
        /// Where the chosen molecules go (removed when `None`).
        into: Option<usize>,
    },
}

/// A time that may count back from the end of the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimePoint {
    /// Seconds from the start.
    Absolute(f64),
    /// Seconds before the end.
    BeforeEnd(f64),
}

impl TimePoint {
    /// The time in seconds for a run that ends at `t_end`.
    pub fn resolve(self, t_end: f64) -> f64 {
        match self {
            TimePoint::Absolute(t) => t,
            TimePoint::BeforeEnd(d) => t_end - d,
        }
    }
}

/// A time window `[start, end]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// Start.
    pub start: TimePoint,
    /// End.
    pub end: TimePoint,
}

impl Window {
    /// The whole run.
    pub const WHOLE_RUN: Window = Window {
        start: TimePoint::Absolute(0.0),
        end: TimePoint::BeforeEnd(0.0),
    };
}

/// A per-trajectory result.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Name (column prefix).
    pub name: String,
    /// What it measures.
    pub quantity: Quantity,
    /// How.
    pub kind: OutcomeKind,
}

/// What an outcome computes.
#[derive(Debug, Clone, PartialEq)]
pub enum OutcomeKind {
    /// `100 × (mean over final / mean over baseline − 1)` with an LTD/LTP/none class.
    RelativeChange {
        /// Baseline window.
        baseline: Window,
        /// Final window.
        last: Window,
        /// % change at or below which the trajectory is LTD.
        ltd_below: f64,
        /// % change at or above which it is LTP.
        ltp_above: f64,
    },
    /// The time from the start of `window` until the quantity first falls to
    /// `baseline mean × (1 + below/100)` or lower (NaN if it never does), e.g. the time of
    /// commitment to LTD.
    FirstPassage {
        /// Baseline window; it ends before `window` starts.
        baseline: Window,
        /// Where the passage is looked for.
        window: Window,
        /// % change vs the baseline mean.
        below: f64,
        /// Seconds the quantity must stay at or below the level; the passage time is when
        /// that stay began (0: the first touch).
        hold: f64,
    },
    /// Maximum over the window.
    Peak(Window),
    /// Minimum over the window.
    Min(Window),
    /// Time average over the window.
    Mean(Window),
    /// Time integral over the window (count·s).
    Integral(Window),
}
