//! The model file exactly as written: a serde mirror of the TOML with source spans.
//!
//! Nothing here is validated beyond TOML syntax and field names; [`super::load`] turns a
//! [`ModelSpec`] into a checked [`super::Model`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_spanned::Spanned;

/// A string with its byte span in the file.
pub type SpannedStr = Spanned<String>;

/// A number or a quantity string (`3`, `0.5`, `"50 nM"`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Amount {
    /// An integer, e.g. a count.
    Int(i64),
    /// A plain number.
    Float(f64),
    /// A quantity with a unit, e.g. `"50 nM"`.
    Text(String),
}

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// `[model]`: name, description, recorded quantities.
    pub model: ModelHeader,
    /// `[[include]]`: other model files merged into this one (see [`super::include`]).
    #[serde(default)]
    pub include: Vec<IncludeSpec>,
    /// `[[compartments]]`.
    #[serde(default)]
    pub compartments: Vec<CompartmentSpec>,
    /// `[[parameters]]`.
    #[serde(default)]
    pub parameters: Vec<ParameterSpec>,
    /// `[[species]]`.
    #[serde(default)]
    pub species: Vec<SpeciesSpec>,
    /// `[[reactions]]`.
    #[serde(default)]
    pub reactions: Vec<ReactionSpec>,
    /// `[[observables]]`.
    #[serde(default)]
    pub observables: Vec<ObservableSpec>,
    /// `[[protocols]]`.
    #[serde(default)]
    pub protocols: Vec<ProtocolSpec>,
    /// `[[outcomes]]`.
    #[serde(default)]
    pub outcomes: Vec<OutcomeSpec>,
    /// `[variants.NAME]`: named sets of overrides (pharmacology, knock-downs).
    #[serde(default)]
    pub variants: BTreeMap<SpannedStr, VariantSpec>,
}

/// `[variants.NAME]`: `set = { NAME = "value with unit", ... }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantSpec {
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
    /// Parameter values, species initial amounts and compartment volumes to change.
    pub set: BTreeMap<SpannedStr, Spanned<Amount>>,
}

/// `[[include]]`: `file`, with optional `prefix`, `rename` and `connect`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IncludeSpec {
    /// The included model file, relative to the including file.
    pub file: SpannedStr,
    /// Put before every name of the included file (except renamed and connected ones).
    #[serde(default)]
    pub prefix: Option<SpannedStr>,
    /// New names for names of the included file.
    #[serde(default)]
    pub rename: BTreeMap<SpannedStr, SpannedStr>,
    /// Names of the included file kept as they are; connected to the including model's item of
    /// the same name and kind, if it declares one.
    #[serde(default)]
    pub connect: Vec<SpannedStr>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[model]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelHeader {
    /// Model name.
    pub name: SpannedStr,
    /// What the model is for.
    #[serde(default)]
    pub description: Option<String>,
    /// Species and observables written to the trajectories (default: all).
    #[serde(default)]
    pub record: Option<Vec<SpannedStr>>,
    /// Where the model comes from.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[[compartments]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompartmentSpec {
    /// Compartment name.
    pub name: SpannedStr,
    /// Volume with a unit.
    pub volume: Spanned<Amount>,
    /// Provenance of the volume.
    #[serde(default)]
    pub source: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[parameters]]`: either `value` or `expr`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParameterSpec {
    /// Parameter name.
    pub name: SpannedStr,
    /// A quantity.
    #[serde(default)]
    pub value: Option<Spanned<Amount>>,
    /// An expression of other parameters.
    #[serde(default)]
    pub expr: Option<SpannedStr>,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[species]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeciesSpec {
    /// Species name.
    pub name: SpannedStr,
    /// A count or a concentration.
    pub initial: Spanned<Amount>,
    /// The compartment (optional with one compartment).
    #[serde(default)]
    pub compartment: Option<SpannedStr>,
    /// Held at its initial amount: reactions read it but do not change it (a clamp).
    #[serde(default)]
    pub constant: bool,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[reactions]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionSpec {
    /// Reaction name.
    pub name: SpannedStr,
    /// `"A + B <-> C"`.
    pub equation: SpannedStr,
    /// Forward mass-action rate (quantity or expression).
    #[serde(default)]
    pub rate: Option<Spanned<Amount>>,
    /// Reverse mass-action rate, for `<->`.
    #[serde(default)]
    pub reverse: Option<Spanned<Amount>>,
    /// Custom propensity in events/s.
    #[serde(default)]
    pub propensity: Option<SpannedStr>,
    /// The compartment in whose concentration units `rate` (and `reverse`) are given; default:
    /// the compartment of the reactants (of the products for order 0) when it is unique.
    #[serde(default)]
    pub compartment: Option<SpannedStr>,
    /// `fast = true`: a fast reversible pair for `--method slow-scale` (exact methods ignore it).
    #[serde(default)]
    pub fast: Option<Spanned<bool>>,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[observables]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObservableSpec {
    /// Observable name.
    pub name: SpannedStr,
    /// A linear combination of species.
    pub expr: SpannedStr,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}

/// `[[protocols]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolSpec {
    /// Protocol name.
    pub name: SpannedStr,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Default simulated time.
    #[serde(default)]
    pub t_end: Option<Spanned<Amount>>,
    /// Pulse trains.
    #[serde(default)]
    pub trains: Vec<TrainSpec>,
    /// Single events.
    #[serde(default)]
    pub events: Vec<EventSpec>,
    /// Offsets after each driving pulse at which driven parameters are re-evaluated.
    #[serde(default)]
    pub drive_samples: Option<Spanned<Vec<Amount>>>,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
}

/// `drives = [ { parameter = "g_fast", step = 0.32, tau = "50 ms" } ]` in a train: each pulse
/// adds an exponentially decaying kernel to a parameter.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriveSpec {
    /// The driven parameter.
    pub parameter: SpannedStr,
    /// Kernel height, in the parameter's unit.
    pub step: Spanned<Amount>,
    /// Kernel decay time.
    pub tau: Spanned<Amount>,
}

/// `[[protocols.trains]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainSpec {
    /// Time of the first pulse.
    pub start: Spanned<Amount>,
    /// Pulse frequency.
    pub frequency: Spanned<Amount>,
    /// Number of pulses.
    pub count: Spanned<i64>,
    /// Pulse width (time from `on` to `off`).
    #[serde(default)]
    pub width: Option<Spanned<Amount>>,
    /// Actions at each pulse start.
    #[serde(default)]
    pub on: Vec<ActionSpec>,
    /// Actions at each pulse end.
    #[serde(default)]
    pub off: Vec<ActionSpec>,
    /// Parameters driven by the pulses (summed exponential kernels).
    #[serde(default)]
    pub drives: Vec<DriveSpec>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
}

/// `[[protocols.events]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventSpec {
    /// When.
    pub time: Spanned<Amount>,
    /// What happens.
    pub actions: Vec<ActionSpec>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Provenance.
    #[serde(default)]
    pub source: Option<String>,
}

/// One action; exactly one of the verb fields is set.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionSpec {
    /// `set = "NAME"` with `value`.
    #[serde(default)]
    pub set: Option<SpannedStr>,
    /// The value for `set`.
    #[serde(default)]
    pub value: Option<Spanned<Amount>>,
    /// `add = "X"` with `amount`.
    #[serde(default)]
    pub add: Option<SpannedStr>,
    /// `remove = "X"` with `amount`.
    #[serde(default)]
    pub remove: Option<SpannedStr>,
    /// The amount for `add`/`remove`.
    #[serde(default)]
    pub amount: Option<Spanned<Amount>>,
    /// `scale = "P"` with `factor`.
    #[serde(default)]
    pub scale: Option<SpannedStr>,
    /// The factor for `scale`.
    #[serde(default)]
    pub factor: Option<Spanned<f64>>,
    /// `binomial = "X"` with `p` and optional `into`.
    #[serde(default)]
    pub binomial: Option<SpannedStr>,
    /// Per-molecule probability for `binomial`.
    #[serde(default)]
    pub p: Option<Spanned<f64>>,
    /// Destination species for `binomial`.
    #[serde(default)]
    pub into: Option<SpannedStr>,
}

/// `[[outcomes]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutcomeSpec {
    /// Outcome name (column prefix).
    pub name: SpannedStr,
    /// `relative_change`, `first_passage`, `peak`, `min`, `mean` or `integral`.
    pub kind: SpannedStr,
    /// The species or observable.
    pub observable: SpannedStr,
    /// Window for peak/min/mean/integral.
    #[serde(default)]
    pub window: Option<Spanned<Vec<String>>>,
    /// Baseline window for relative_change.
    #[serde(default)]
    pub baseline: Option<Spanned<Vec<String>>>,
    /// Final window for relative_change.
    #[serde(default)]
    pub r#final: Option<Spanned<Vec<String>>>,
    /// % change at or below which a trajectory is LTD.
    #[serde(default)]
    pub ltd_below: Option<Spanned<f64>>,
    /// % change at or above which a trajectory is LTP.
    #[serde(default)]
    pub ltp_above: Option<Spanned<f64>>,
    /// For first_passage: the % change vs the baseline mean at or below which the passage
    /// happens.
    #[serde(default)]
    pub below: Option<Spanned<f64>>,
    /// For first_passage: how long the quantity must stay at or below the level to count
    /// (default 0: the first touch counts).
    #[serde(default)]
    pub hold: Option<Spanned<Amount>>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
}
