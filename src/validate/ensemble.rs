//! One validation condition (protocol × variants × run length × method) simulated as an
//! ensemble, kept in memory: per-trajectory outcomes and a few recorded series.

use std::path::Path;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::Ensemble;
use crate::ensemble::{run_ensemble, EnsembleConfig};
use crate::error::RunError;
use crate::model::overrides::{self, Assignment};
use crate::model::spec::Amount;
use crate::model::{Model, Outcome, OutcomeKind, Protocol, Quantity, TimePoint, Window};
use crate::network::Network;
use crate::outcome::{Class, OutcomeValue};
use crate::output::metadata::sha256_hex;
use crate::simulator::{AnySimulator, MethodRequest, Simulator, RANDOM_STREAM_VERSION};
use crate::trajectory::RunPlan;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Condition {
    /// A protocol of the model, or one built by the validation itself.
    pub protocol: ProtocolChoice,
    /// Variants applied in order (empty: control).
    pub variants: Vec<String>,
    /// Further changes after the variants (e.g. a Ca clamp).
    pub assignments: Vec<Assignment>,
    /// Simulated time (s).
    pub t_end: f64,
    /// Recording interval (s).
    pub record_every: f64,
    /// Recorded quantities (species or observables).
    pub record: Vec<String>,
    /// Outcomes: the model's by name, or built here.
    pub outcomes: Vec<OutcomeChoice>,
    /// Trajectories.
    pub runs: u64,
    /// The simulation method (built by [`AnySimulator::new`], as `spinesim run` does).
    pub method: MethodRequest,
}

/// A protocol named in the model file or constructed for one target.
#[derive(Debug, Clone)]
pub enum ProtocolChoice {
    /// `[[protocols]] name`.
    Named(String),
    /// A protocol built in code (e.g. a single release from rest).
    Built(Protocol),
    /// No events.
    None,
}

/// An outcome of the model or one built for a target.
#[derive(Debug, Clone)]
pub enum OutcomeChoice {
    /// `[[outcomes]] name`.
    Named(String),
    /// The peak of a quantity over the whole run.
    PeakOfRun(String),
    /// The exact time integral of a quantity over `[start, end]` s, named `NAME_integral`.
    Integral(String, f64, f64),
    /// The exact time average of a quantity over `[start, end]` s, named `NAME_mean`.
    Mean(String, f64, f64),
}

impl Condition {
    /// A short label: `protocol [+ variant]...[, set|clamp NAME=VALUE]...`.
    pub fn label(&self) -> String {
        let p = match &self.protocol {
            ProtocolChoice::Named(n) => n.clone(),
            ProtocolChoice::Built(p) => p.name.clone(),
            ProtocolChoice::None => "rest".to_string(),
        };
        let mut label = p;
        for v in &self.variants {
            label = format!("{label} + {v}");
        }
        for a in &self.assignments {
            let verb = if a.clamp { "clamp" } else { "set" };
            label = format!(
                "{label}, {verb} {}={}",
                a.name,
                overrides::amount_text(&a.value)
            );
        }
        label
    }
}

/// The ensemble of one condition.
#[derive(Debug, Clone)]
pub struct ConditionResult {
    /// The method that ran, as `run.json` names it (`direct`, `slow-scale`, ...).
    pub method: &'static str,
    /// Slow-scale SSA: the smallest separation of time scales seen (see
    /// [`crate::simulator::SimStats::slow_scale_separation`]); `None` for other methods.
    pub slow_scale_separation: Option<f64>,
    /// Trajectories simulated.
    pub runs: u64,
    /// Reaction events over all trajectories.
    pub events: u64,
    /// Outcome name → one value per trajectory (relative changes give their % change).
    pub outcomes: Vec<(String, Vec<f64>)>,
    /// Outcome name → class per trajectory, for relative changes.
    pub classes: Vec<(String, Vec<Class>)>,
    /// Recording times.
    pub times: Vec<f64>,
    /// Recorded name → rows of one value per recording time, one row per trajectory.
    pub series: Vec<(String, Vec<Vec<f64>>)>,
    /// Wall time the ensemble took when it was simulated (s).
    pub seconds: f64,
    /// True when it was read back from the cache instead of simulated now.
    pub cached: bool,
}

impl ConditionResult {
    /// The report's record of this ensemble under the name `condition`.
    pub fn ensemble(&self, condition: &str) -> Ensemble {
        Ensemble {
            condition: condition.into(),
            method: self.method.into(),
            trajectories: self.runs,
            events: self.events,
            slow_scale_separation: self.slow_scale_separation,
            seconds: self.seconds,
            cached: self.cached,
        }
    }

    /// The per-trajectory values of an outcome.
    pub fn outcome(&self, name: &str) -> &[f64] {
        &self
            .outcomes
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("validation outcome '{name}' was not computed"))
            .1
    }

    /// The per-trajectory classes of a relative-change outcome.
    pub fn classes(&self, name: &str) -> &[Class] {
        &self
            .classes
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("validation outcome '{name}' has no classes"))
            .1
    }

    /// The recorded `name`: one row of values per trajectory.
    fn rows(&self, name: &str) -> &[Vec<f64>] {
        &self
            .series
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("validation series '{name}' was not recorded"))
            .1
    }

    /// Per trajectory, the mean of the recorded `name` over samples with time in `[a, b]`.
    pub fn window_mean(&self, name: &str, a: f64, b: f64) -> Vec<f64> {
        let rows = self.rows(name);
        let idx: Vec<usize> = (0..self.times.len())
            .filter(|&k| self.times[k] >= a - 1e-9 && self.times[k] <= b + 1e-9)
            .collect();
        assert!(!idx.is_empty(), "no recording in [{a}, {b}] s");
        rows.iter()
            .map(|r| idx.iter().map(|&k| r[k]).sum::<f64>() / idx.len() as f64)
            .collect()
    }

    /// The recorded `name` of every trajectory at the recording with index `k`.
    pub fn at(&self, name: &str, k: usize) -> Vec<f64> {
        self.rows(name).iter().map(|r| r[k]).collect()
    }

    /// The ensemble mean of the recorded `name` at every recording time.
    pub fn mean_series(&self, name: &str) -> Vec<f64> {
        let rows = self.rows(name);
        (0..self.times.len())
            .map(|k| rows.iter().map(|r| r[k]).sum::<f64>() / rows.len() as f64)
            .collect()
    }
}

/// A validation override `name = value`.
pub fn assignment(name: &str, value: Amount) -> Assignment {
    Assignment {
        name: name.into(),
        value,
        origin: "validation".into(),
        clamp: false,
    }
}

fn quantity(model: &Model, name: &str) -> Result<Quantity, RunError> {
    if let Some(i) = model.species.iter().position(|s| s.name == name) {
        return Ok(Quantity::Species(i));
    }
    if let Some(i) = model.observables.iter().position(|o| o.name == name) {
        return Ok(Quantity::Observable(i));
    }
    Err(RunError::Settings(format!(
        "model {} has no species or observable '{name}', which validation needs",
        model.path.display()
    )))
}

/// The window `[a, b]` in seconds from the start.
fn absolute(a: f64, b: f64) -> Window {
    Window {
        start: TimePoint::Absolute(a),
        end: TimePoint::Absolute(b),
    }
}

/// Simulates one condition of `base` (variants applied to a copy).
pub fn simulate(
    base: &Model,
    condition: &Condition,
    seed: u64,
    threads: usize,
) -> Result<ConditionResult, RunError> {
    let started = Instant::now();
    let mut assignments =
        overrides::variant_assignments(base, &condition.variants).map_err(RunError::Settings)?;
    assignments.extend(condition.assignments.iter().cloned());
    let (mut model, _) = overrides::apply(base, &assignments).map_err(RunError::Settings)?;
    model.record = condition
        .record
        .iter()
        .map(|n| quantity(&model, n))
        .collect::<Result<_, _>>()?;
    let mut outcomes = Vec::new();
    for choice in &condition.outcomes {
        outcomes.push(match choice {
            OutcomeChoice::Named(n) => model
                .outcomes
                .iter()
                .find(|o| &o.name == n)
                .cloned()
                .ok_or_else(|| {
                    RunError::Settings(format!(
                        "model {} has no outcome '{n}', which validation needs",
                        model.path.display()
                    ))
                })?,
            OutcomeChoice::PeakOfRun(q) => Outcome {
                name: format!("{q}_peak"),
                quantity: quantity(&model, q)?,
                kind: OutcomeKind::Peak(Window::WHOLE_RUN),
            },
            OutcomeChoice::Integral(q, a, b) => Outcome {
                name: format!("{q}_integral"),
                quantity: quantity(&model, q)?,
                kind: OutcomeKind::Integral(absolute(*a, *b)),
            },
            OutcomeChoice::Mean(q, a, b) => Outcome {
                name: format!("{q}_mean"),
                quantity: quantity(&model, q)?,
                kind: OutcomeKind::Mean(absolute(*a, *b)),
            },
        });
    }
    model.outcomes = outcomes;
    let protocol = match &condition.protocol {
        ProtocolChoice::Named(n) => Some(model.protocol(n).cloned().ok_or_else(|| {
            RunError::Settings(format!(
                "model {} has no protocol '{n}', which validation needs",
                model.path.display()
            ))
        })?),
        ProtocolChoice::Built(p) => Some(p.clone()),
        ProtocolChoice::None => None,
    };
    let net = Network::compile(&model);
    let simulator = AnySimulator::new(condition.method, &net)
        .map_err(|e| RunError::Settings(format!("{}: {e}", condition.label())))?;
    let plan = RunPlan::new(
        &model,
        &net,
        protocol.as_ref(),
        condition.t_end,
        condition.record_every,
    )?;
    let names: Vec<String> = model.outcomes.iter().map(|o| o.name.clone()).collect();
    let mut values: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut classes: Vec<Vec<Class>> = vec![Vec::new(); names.len()];
    let columns = plan.columns.len();
    let mut series: Vec<Vec<Vec<f64>>> = vec![Vec::new(); columns];
    let config = EnsembleConfig {
        first_run: 0,
        runs: condition.runs,
        seed,
        threads,
        progress: false,
    };
    let stats = run_ensemble(
        &net,
        &plan,
        &config,
        || simulator.clone(),
        |t| {
            for (i, v) in t.outcomes.iter().enumerate() {
                match *v {
                    OutcomeValue::Change { percent, class, .. } => {
                        values[i].push(percent);
                        classes[i].push(class);
                    }
                    OutcomeValue::Scalar(x) => values[i].push(x),
                }
            }
            for (c, rows) in series.iter_mut().enumerate() {
                rows.push(t.samples.iter().skip(c).step_by(columns).copied().collect());
            }
            Ok(())
        },
    )?;
    Ok(ConditionResult {
        method: simulator.name(),
        slow_scale_separation: stats.sim.slow_scale_separation,
        runs: stats.trajectories,
        events: stats.events,
        outcomes: names.iter().cloned().zip(values).collect(),
        classes: names
            .into_iter()
            .zip(classes)
            .filter(|(_, c)| !c.is_empty())
            .collect(),
        times: plan.record_times.clone(),
        series: plan.columns.iter().cloned().zip(series).collect(),
        seconds: started.elapsed().as_secs_f64(),
        cached: false,
    })
}

/// A finished ensemble as a cache file holds it (JSON; a value that is not finite is `null`,
/// read back as NaN).
#[derive(Serialize, Deserialize)]
struct CachedResult {
    /// The key it was stored under (checked on reading).
    key: String,
    method: String,
    slow_scale_separation: Option<f64>,
    runs: u64,
    events: u64,
    outcomes: Vec<(String, Vec<Option<f64>>)>,
    classes: Vec<(String, Vec<Class>)>,
    times: Vec<f64>,
    series: Vec<(String, Vec<Vec<Option<f64>>>)>,
    seconds: f64,
}

/// The methods a cached result may name, as [`Simulator::name`] spells them.
const METHOD_NAMES: [&str; 5] = ["direct", "next-reaction", "tau-leap", "slow-scale", "ssa"];

/// [`simulate`], keeping the finished ensemble in the folder `cache` (when given) under a key
/// that digests the model's full text, the condition (protocol, variants, assignments, times,
/// recorded quantities, outcomes, runs, method), the seed, the spinesim version and the
/// [`RANDOM_STREAM_VERSION`], and reading
/// it back instead of simulating when the same key is asked again. A long validation can so be
/// stopped and resumed. Results do not depend on the thread count, so it is not in the key.
pub fn simulate_cached(
    base: &Model,
    condition: &Condition,
    seed: u64,
    threads: usize,
    cache: Option<&Path>,
) -> Result<ConditionResult, RunError> {
    let Some(dir) = cache else {
        return simulate(base, condition, seed, threads);
    };
    let key = sha256_hex(&format!(
        "spinesim {}\nstream {RANDOM_STREAM_VERSION}\nseed {seed}\n{condition:?}\n{}",
        env!("CARGO_PKG_VERSION"),
        base.full_text()
    ));
    let path = dir.join(format!("{key}.json"));
    if path.exists() {
        let text = std::fs::read_to_string(&path).map_err(|e| RunError::io(&path, e))?;
        let c: CachedResult = serde_json::from_str(&text).map_err(|e| {
            RunError::Settings(format!(
                "{}: not a validation cache file: {e}",
                path.display()
            ))
        })?;
        let method = METHOD_NAMES.into_iter().find(|m| *m == c.method);
        let (true, Some(method)) = (c.key == key, method) else {
            return Err(RunError::Settings(format!(
                "{}: cache file does not match its name (key or method '{}'); remove it",
                path.display(),
                c.method
            )));
        };
        return Ok(ConditionResult {
            method,
            slow_scale_separation: c.slow_scale_separation,
            runs: c.runs,
            events: c.events,
            outcomes: c
                .outcomes
                .into_iter()
                .map(|(n, v)| (n, decode(v)))
                .collect(),
            classes: c.classes,
            times: c.times,
            series: c
                .series
                .into_iter()
                .map(|(n, rows)| (n, rows.into_iter().map(decode).collect()))
                .collect(),
            seconds: c.seconds,
            cached: true,
        });
    }
    let result = simulate(base, condition, seed, threads)?;
    let stored = CachedResult {
        key: key.clone(),
        method: result.method.to_string(),
        slow_scale_separation: result.slow_scale_separation,
        runs: result.runs,
        events: result.events,
        outcomes: result
            .outcomes
            .iter()
            .map(|(n, v)| (n.clone(), encode(v)))
            .collect(),
        classes: result.classes.clone(),
        times: result.times.clone(),
        series: result
            .series
            .iter()
            .map(|(n, rows)| (n.clone(), rows.iter().map(|r| encode(r)).collect()))
            .collect(),
        seconds: result.seconds,
    };
    std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
    let text = serde_json::to_string(&stored)
        .map_err(|e| RunError::Settings(format!("cannot encode a cache entry: {e}")))?;
    // Written whole under a temporary name, then renamed: an interrupted run leaves no
    // half-written entry.
    let partial = dir.join(format!("{key}.json.partial"));
    std::fs::write(&partial, text).map_err(|e| RunError::io(&partial, e))?;
    std::fs::rename(&partial, &path).map_err(|e| RunError::io(&path, e))?;
    Ok(result)
}

/// Values for JSON: a value that is not finite becomes `None` (`null`).
fn encode(values: &[f64]) -> Vec<Option<f64>> {
    values.iter().map(|x| x.is_finite().then_some(*x)).collect()
}

/// The inverse of [`encode`], with NaN for `None`.
fn decode(values: Vec<Option<f64>>) -> Vec<f64> {
    values.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect()
}
