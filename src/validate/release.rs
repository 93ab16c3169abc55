//! V17, short-term depression, on `models/release_std.toml`: the steady-state / first-spike
//! release ratio of regular trains against the Tsodyks–Markram values, the CV of the release per
//! spike, and the recovery after a 10 Hz train.
//!
//! The release at a spike is the step of the counter `Released` across it. The model's train
//! protocols (`train_<f>hz`) are shifted so that every spike falls half a recording interval
//! from the recordings, and are run with the variant `no_glutamate` (release only; glutamate
//! does not touch the release statistics).
//!
//! Why the targets are exact for this model: its sites are independent, so the probability r_k
//! that a site is docked before spike k obeys the TM recursion
//! `r_{k+1} = 1 − (1 − r_k (1 − U)) e^{−Δ/τ_rec}`, the release at spike k is
//! Binomial(N, U r_k), and the steady-state / first ratio is `(1 − x)/(1 − (1 − U) x)`,
//! `x = e^{−Δ/τ_rec}` (derivation in the model file).

use super::ensemble::{simulate, Condition, ConditionResult, ProtocolChoice};
use super::targets::EXACT;
use super::{Ensemble, Row, Settings};
use crate::error::RunError;
use crate::model::{load_model, Model, Protocol};

/// Tsodyks–Markram parameters of the target (science.md §3.12, Loebel 2009).
const TM_U: f64 = 0.46;
/// Recovery time constant of the target (s).
const TM_TAU_REC: f64 = 0.525;
/// Train frequencies of V17 (Hz).
const FREQUENCIES: [u32; 5] = [1, 5, 10, 50, 100];
/// Spikes averaged as the steady state: the last 10 of each 30-spike train.
const STEADY_FROM: usize = 20;
/// Allowed relative deviation from the TM ratio.
const TOLERANCE: f64 = 0.10;

/// The TM steady-state / first-spike ratio `(1 − x)/(1 − (1 − U) x)` at `f` Hz.
pub fn tm_ratio(u: f64, tau_rec: f64, f: f64) -> f64 {
    let x = (-1.0 / (f * tau_rec)).exp();
    (1.0 - x) / (1.0 - (1.0 - u) * x)
}

/// The V17 rows and the ensembles run (all with the exact direct method).
pub fn short_term_depression(settings: &Settings) -> Result<(Vec<Row>, Vec<Ensemble>), RunError> {
    let path = settings.models_dir.join("release_std.toml");
    let model = load_model(&path).map_err(|e| RunError::Settings(e.to_string()))?;
    let runs = if settings.quick { 1000 } else { 10000 };
    let mut rows = Vec::new();
    let mut ensembles = Vec::new();
    for f in FREQUENCIES {
        let name = format!("train_{f}hz");
        let period = 1.0 / f as f64;
        let protocol = model_protocol(&model, &name)?;
        let [train] = protocol.trains.as_slice() else {
            return Err(RunError::Settings(format!(
                "protocol '{name}' of {} must be one train, which V17 needs",
                path.display()
            )));
        };
        if (train.period - period).abs() > 1e-12 * period || !protocol.events.is_empty() {
            return Err(RunError::Settings(format!(
                "protocol '{name}' of {} must be one {f} Hz train and no single events",
                path.display()
            )));
        }
        let spikes = train.count as usize;
        if spikes <= STEADY_FROM + 1 {
            return Err(RunError::Settings(format!(
                "protocol '{name}' of {} has {spikes} spikes; V17 needs more than {}",
                path.display(),
                STEADY_FROM + 1
            )));
        }
        // Spikes at (k + ½) Δ; the recording at k Δ follows spike k − 1.
        let shifted = shifted(protocol, period / 2.0 - train.start);
        let result = run(
            &model,
            settings,
            shifted,
            (spikes + 1) as f64 * period,
            period,
            runs,
        )?;
        ensembles.push(result.ensemble(&format!("{name} + no_glutamate (V17)")));
        let release = release_per_spike(&result, spikes);
        rows.push(ratio_row(f, &release, &result));
    }
    let (recovery_row, recovery) = recovery(&model, settings, runs)?;
    ensembles.push(recovery);
    rows.push(recovery_row);
    Ok((rows, ensembles))
}

fn model_protocol<'m>(model: &'m Model, name: &str) -> Result<&'m Protocol, RunError> {
    model.protocol(name).ok_or_else(|| {
        RunError::Settings(format!(
            "model {} has no protocol '{name}', which V17 needs",
            model.path.display()
        ))
    })
}

/// The protocol with every train and event moved by `by` seconds.
fn shifted(protocol: &Protocol, by: f64) -> Protocol {
    let mut p = protocol.clone();
    for t in &mut p.trains {
        t.start += by;
    }
    for e in &mut p.events {
        e.time += by;
    }
    p
}

fn run(
    model: &Model,
    settings: &Settings,
    protocol: Protocol,
    t_end: f64,
    record_every: f64,
    runs: u64,
) -> Result<ConditionResult, RunError> {
    simulate(
        model,
        &Condition {
            protocol: ProtocolChoice::Built(protocol),
            variants: vec!["no_glutamate".into()],
            assignments: Vec::new(),
            t_end,
            record_every,
            record: vec!["Released".into()],
            outcomes: Vec::new(),
            runs,
            method: EXACT,
        },
        settings.seed,
        settings.threads,
    )
}

/// Per trajectory, the release at each of the first `spikes` spikes (recordings one period
/// apart, spike k between recordings k and k + 1).
fn release_per_spike(result: &ConditionResult, spikes: usize) -> Vec<Vec<f64>> {
    released(result)
        .iter()
        .map(|row| (0..spikes).map(|k| row[k + 1] - row[k]).collect())
        .collect()
}

/// The recorded `Released`: one row of values per trajectory.
fn released(result: &ConditionResult) -> &[Vec<f64>] {
    result
        .series
        .iter()
        .find(|(n, _)| n == "Released")
        .map(|(_, rows)| rows.as_slice())
        .expect("V17 records Released")
}

fn mean(x: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = x.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    s / n as f64
}

/// Steady-state / first-spike ratio with a delta-method 95 % CI, and the CV of the release per
/// spike at steady state (over trajectories and steady-state spikes).
fn ratio_row(f: u32, release: &[Vec<f64>], result: &ConditionResult) -> Row {
    let first: Vec<f64> = release.iter().map(|r| r[0]).collect();
    let steady: Vec<f64> = release
        .iter()
        .map(|r| mean(r[STEADY_FROM..].iter().copied()))
        .collect();
    let m = first.len() as f64;
    let (a, b) = (mean(first.iter().copied()), mean(steady.iter().copied()));
    let ratio = b / a;
    let cov = |x: &[f64], mx: f64, y: &[f64], my: f64| {
        x.iter()
            .zip(y)
            .map(|(u, v)| (u - mx) * (v - my))
            .sum::<f64>()
            / (m - 1.0)
    };
    let var_ratio = (cov(&steady, b, &steady, b) + ratio * ratio * cov(&first, a, &first, a)
        - 2.0 * ratio * cov(&first, a, &steady, b))
        / (m * a * a);
    let half = 1.96 * var_ratio.sqrt();
    let per_spike: Vec<f64> = release
        .iter()
        .flat_map(|r| r[STEADY_FROM..].iter().copied())
        .collect();
    let mean_spike = mean(per_spike.iter().copied());
    let var_spike = per_spike
        .iter()
        .map(|v| (v - mean_spike).powi(2))
        .sum::<f64>()
        / (per_spike.len() as f64 - 1.0);
    let cv = var_spike.sqrt() / mean_spike;
    let expected = tm_ratio(TM_U, TM_TAU_REC, f as f64);
    let spikes = release[0].len();
    Row {
        target: "V17".into(),
        check: "steady-state / first-spike release".into(),
        condition: format!(
            "train_{f}hz: {spikes} spikes, steady state = spikes {}-{spikes}, no_glutamate",
            STEADY_FROM + 1
        ),
        method: result.method.into(),
        expected: format!(
            "{expected:.3} ± {:.0} % (TM, U = {TM_U}, tau_rec = {TM_TAU_REC} s)",
            100.0 * TOLERANCE
        ),
        n: result.runs,
        mean: ratio,
        ci_low: ratio - half,
        ci_high: ratio + half,
        p_ltd: f64::NAN,
        p_ltp: f64::NAN,
        got: format!(
            "{ratio:.3} ({:+.1} %); release per spike {a:.2} first, {b:.3} steady, CV at steady state {cv:.2}",
            100.0 * (ratio / expected - 1.0)
        ),
        pass: Some((ratio / expected - 1.0).abs() <= TOLERANCE),
    }
}

/// STD vs LTD: after a train (`std_recovery`: 20 spikes at 10 Hz), the release at the test spikes
/// that follow, relative to the first spike of the train; recovered means the last one within
/// 10 % of it (TM for +0.5, +2, +6 s: 0.68, 0.96, 1.00).
fn recovery(model: &Model, settings: &Settings, runs: u64) -> Result<(Row, Ensemble), RunError> {
    let protocol = model_protocol(model, "std_recovery")?;
    let record_every = 0.1;
    // Spikes at whole multiples of 0.1 s move to the middle of the recording intervals.
    let shifted = shifted(protocol, record_every / 2.0);
    let train_end = shifted
        .trains
        .iter()
        .map(|t| t.start + (t.count - 1) as f64 * t.period)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut tests: Vec<f64> = shifted.events.iter().map(|e| e.time).collect();
    tests.sort_by(f64::total_cmp);
    let (Some(first_spike), false) = (
        shifted.trains.first().map(|t| t.start),
        tests.is_empty() || tests[0] <= train_end,
    ) else {
        return Err(RunError::Settings(format!(
            "protocol 'std_recovery' of {} must be a train followed by test spikes (events), which V17 needs",
            model.path.display()
        )));
    };
    let t_end = protocol.t_end.unwrap_or(tests[tests.len() - 1] + 1.0);
    let result = run(model, settings, shifted, t_end, record_every, runs)?;
    let rows = released(&result);
    let release_at = |t: f64| -> f64 {
        let k = (t / record_every).floor() as usize;
        mean(rows.iter().map(|row| row[k + 1] - row[k]))
    };
    let first = release_at(first_spike);
    let fractions: Vec<String> = tests
        .iter()
        .map(|&t| format!("{:.2}", release_at(t) / first))
        .collect();
    let after: Vec<String> = tests
        .iter()
        .map(|&t| format!("+{:.1} s", t - train_end))
        .collect();
    let last = release_at(tests[tests.len() - 1]) / first;
    let row = Row {
        target: "V17".into(),
        check: "STD recovers within seconds".into(),
        condition: format!(
            "std_recovery + no_glutamate: a 10 Hz train, test spikes {} after it",
            after.join(", ")
        ),
        method: result.method.into(),
        expected: "last test spike within 10 % of the first spike of the train".into(),
        n: result.runs,
        mean: last,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
        p_ltd: f64::NAN,
        p_ltp: f64::NAN,
        got: format!("release / first spike: {}", fractions.join(", ")),
        pass: Some((last - 1.0).abs() <= TOLERANCE),
    };
    Ok((row, result.ensemble("std_recovery + no_glutamate (V17)")))
}
