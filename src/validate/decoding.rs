//! V4 and V5: how calcineurin and CaMKII decode calcium (science.md §4; Li, Stefan & Le Novère
//! 2012; Stefan, Edelstein & Le Novère 2008).
//!
//! - V5 holds free Ca at fixed levels (a clamp: reactions read Ca but do not change it) and
//!   measures the steady-state CaN·CaM (`CNM4`) and CaMKII·CaM (`KM3 + KM4`) against the level,
//!   as the mean-field reference's `ec50_check` does (autophosphorylation and the CaM → PKA step
//!   off, so only binding counts).
//! - V4 injects 100 Ca spikes of a fixed size at 0.5–100 Hz, so the total Ca is the same at every
//!   frequency, and compares the time-integrated active CaN and CaMKII.

use rand::{RngExt, SeedableRng};
use rand_pcg::Pcg64;

use super::ensemble::{assignment, Condition, ConditionResult, OutcomeChoice, ProtocolChoice};
use super::targets::{Runner, EXACT};
use super::Row;
use crate::error::RunError;
use crate::model::overrides::Assignment;
use crate::model::spec::Amount;
use crate::model::{Action, Protocol, Train};

/// Bootstrap replicates for the CI of the V5 EC50 ratio.
const BOOTSTRAP: usize = 2000;
/// V5: simulated time at each clamped level (s); the mean-field steady state is reached within
/// 10 s (the reference's EC50s agree to 1e-8 between 10 s and 2000 s).
const CLAMP_T_END: f64 = 12.0;
/// V5: the time average starts here (s).
const CLAMP_SETTLE: f64 = 4.0;
/// V4: rest before the first spike (s).
const SPIKES_ONSET: f64 = 60.0;
/// V4: integration continues this long after the last spike (s).
const SPIKES_TAIL: f64 = 30.0;
/// V4: Ca ions per spike: Li et al. 2012's spike, 7.17 mM/s for 8 ms = 57.4 uM, in 0.1 um^3,
/// injected at once.
const SPIKE_IONS: i64 = 3454;
/// V4: spikes per train (Li et al. 2012).
const SPIKES: u64 = 100;

/// Free-Ca levels of the clamp (uM): 10^-1.5 to 10^1.5 in quarter decades (quick: half decades).
fn clamp_levels(quick: bool) -> Vec<f64> {
    let per_decade = if quick { 2 } else { 4 };
    (0..=3 * per_decade)
        .map(|k| 10f64.powf(-1.5 + k as f64 / per_decade as f64))
        .collect()
}

/// The level at which `v` (one value per level, rising) first reaches half-way from its first to
/// its last value, interpolated in log concentration; NaN if it never does.
fn ec50(levels: &[f64], v: &[f64]) -> f64 {
    let (lo, hi) = (v[0], v[v.len() - 1]);
    let half = lo + 0.5 * (hi - lo);
    for k in 1..v.len() {
        if v[k] >= half && v[k - 1] < half {
            let f = (half - v[k - 1]) / (v[k] - v[k - 1]);
            let (a, b) = (levels[k - 1].ln(), levels[k].ln());
            return (a + f * (b - a)).exp();
        }
    }
    f64::NAN
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// V5: the steady-Ca EC50s of CaN·CaM and CaMKII·CaM and their ratio, with a bootstrap CI.
pub fn ca_clamp(r: &mut Runner) -> Result<Vec<Row>, RunError> {
    let quick = r.settings.quick;
    let runs = r
        .settings
        .runs
        .map_or(if quick { 2 } else { 8 }, |n| n.min(8));
    let nav = r.model.compartments[0].molecules_per_micromolar();
    let mut levels = Vec::new();
    let mut can: Vec<Vec<f64>> = Vec::new();
    let mut camkii: Vec<Vec<f64>> = Vec::new();
    let mut events = 0;
    let mut methods: Vec<&str> = Vec::new();
    for ca in clamp_levels(quick) {
        let count = (ca * nav).round().max(1.0) as i64;
        let result = r.run(Condition {
            protocol: ProtocolChoice::None,
            variants: Vec::new(),
            assignments: vec![
                assignment("CaMKII_activity", Amount::Float(0.0)),
                assignment("k_ac", Amount::Text("0 1/s".into())),
                assignment("Bf", Amount::Int(0)),
                assignment("BfCa", Amount::Int(0)),
                Assignment {
                    clamp: true,
                    ..assignment("Ca", Amount::Int(count))
                },
            ],
            t_end: CLAMP_T_END,
            record_every: CLAMP_T_END,
            record: Vec::new(),
            outcomes: vec![
                OutcomeChoice::Mean("CNM4".into(), CLAMP_SETTLE, CLAMP_T_END),
                OutcomeChoice::Mean("CaMKII_CaM".into(), CLAMP_SETTLE, CLAMP_T_END),
            ],
            runs,
            method: EXACT,
        })?;
        events += result.events;
        if !methods.contains(&result.method) {
            methods.push(result.method);
        }
        levels.push(count as f64 / nav);
        can.push(result.outcome("CNM4_mean").to_vec());
        camkii.push(result.outcome("CaMKII_CaM_mean").to_vec());
    }
    let means = |x: &[Vec<f64>]| x.iter().map(|v| mean(v)).collect::<Vec<f64>>();
    let (e_can, e_camkii) = (ec50(&levels, &means(&can)), ec50(&levels, &means(&camkii)));
    let ratio = e_camkii / e_can;
    // Bootstrap: resample the trajectories of every level.
    let mut rng = Pcg64::seed_from_u64(r.settings.seed ^ 0x5eed_0005);
    let resample = |x: &[Vec<f64>], rng: &mut Pcg64| -> Vec<f64> {
        x.iter()
            .map(|v| {
                (0..v.len())
                    .map(|_| v[rng.random_range(0..v.len())])
                    .sum::<f64>()
                    / v.len() as f64
            })
            .collect()
    };
    let mut ratios: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let a = resample(&can, &mut rng);
            let b = resample(&camkii, &mut rng);
            ec50(&levels, &b) / ec50(&levels, &a)
        })
        .filter(|x| x.is_finite())
        .collect();
    ratios.sort_by(f64::total_cmp);
    let pct = |q: f64| percentile(&ratios, q);
    let n = can[0].len() as u64;
    let note = if quick {
        " (judged in the full run)"
    } else {
        ""
    };
    let ec50_row = |check: &str, e: f64, expected: &str| {
        Row::verdict("V5", check, expected, format!("{e:.2} uM"), None)
    };
    Ok(vec![
        ec50_row(
            "EC50 of CaN.CaM (CNM4), steady Ca clamp",
            e_can,
            "mean-field reference 0.58 uM",
        ),
        ec50_row(
            "EC50 of CaMKII.CaM (KM3 + KM4), steady Ca clamp",
            e_camkii,
            "mean-field reference 2.34 uM",
        ),
        Row {
            target: "V5".into(),
            check: "EC50 ratio CaMKII / CaN".into(),
            condition: format!(
                "Ca clamped at {} levels, {:.2}-{:.1} uM; {n} runs each; {:.2e} events",
                levels.len(),
                levels[0],
                levels[levels.len() - 1],
                events as f64
            ),
            method: methods.join("+"),
            expected: ">= 3".into(),
            n,
            mean: ratio,
            ci_low: pct(0.025),
            ci_high: pct(0.975),
            p_ltd: f64::NAN,
            p_ltp: f64::NAN,
            got: format!(
                "{ratio:.1} [{:.1}, {:.1}] (bootstrap 95 % CI){note}",
                pct(0.025),
                pct(0.975)
            ),
            pass: (!quick).then_some(ratio >= 3.0),
        },
    ])
}

/// Spike frequencies of V4 (Hz).
fn spike_frequencies(quick: bool) -> Vec<f64> {
    if quick {
        vec![1.0, 100.0]
    } else {
        vec![0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]
    }
}

/// Per trajectory: the time integral of `name` over the spikes and tail minus its rest level
/// (the mean over the 50 s before the first spike) times that duration.
fn excess_integral(result: &ConditionResult, name: &str, duration: f64) -> Vec<f64> {
    let rest = result.outcome(&format!("{name}_mean"));
    result
        .outcome(&format!("{name}_integral"))
        .iter()
        .zip(rest)
        .map(|(i, r)| i - r * duration)
        .collect()
}

/// A bootstrap 95 % CI of `mean(num) / mean(den) / scale` (trajectories resampled in pairs).
fn bootstrap_ratio_ci(num: &[f64], den: &[f64], scale: f64, seed: u64) -> (f64, f64) {
    let mut rng = Pcg64::seed_from_u64(seed ^ 0x5eed_0004);
    let n = num.len();
    let mut ratios: Vec<f64> = (0..BOOTSTRAP)
        .map(|_| {
            let (mut a, mut b) = (0.0, 0.0);
            for _ in 0..n {
                let i = rng.random_range(0..n);
                a += num[i];
                b += den[i];
            }
            a / b / scale
        })
        .filter(|x| x.is_finite())
        .collect();
    ratios.sort_by(f64::total_cmp);
    (percentile(&ratios, 0.025), percentile(&ratios, 0.975))
}

/// The `q` quantile of sorted values (nearest rank); NaN if there are none.
fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 - 1.0) * q).round() as usize)
        .copied()
        .unwrap_or(f64::NAN)
}

/// V4: with the total Ca fixed, the CaMKII / CaN activation ratio against spike frequency.
pub fn frequency_decoding(r: &mut Runner) -> Result<Vec<Row>, RunError> {
    let quick = r.settings.quick;
    let runs = r.settings.runs.unwrap_or(if quick { 2 } else { 8 });
    let ca = r
        .model
        .species
        .iter()
        .position(|s| s.name == "Ca")
        .ok_or_else(|| RunError::Settings("model has no species 'Ca', which V4 needs".into()))?;
    // Active CaMKII: CaM-bound or T286-phosphorylated subunits.
    let camkii = ["CaMKII_CaM", "pT286"];
    let mut points = Vec::new();
    for f in spike_frequencies(quick) {
        let last = SPIKES_ONSET + (SPIKES - 1) as f64 / f;
        let t_end = last + SPIKES_TAIL;
        let duration = t_end - SPIKES_ONSET;
        let protocol = Protocol {
            name: format!("ca_spikes_{f}hz"),
            description: format!("{SPIKES} spikes of {SPIKE_IONS} Ca ions at {f} Hz"),
            t_end: None,
            trains: vec![Train {
                start: SPIKES_ONSET,
                period: 1.0 / f,
                count: SPIKES,
                width: None,
                on: vec![Action::AddSpecies {
                    species: ca,
                    count: SPIKE_IONS,
                }],
                off: Vec::new(),
                drives: Vec::new(),
            }],
            events: Vec::new(),
            drive_samples: vec![0.0],
        };
        let mut outcomes = Vec::new();
        for q in std::iter::once("CaN_active").chain(camkii) {
            outcomes.push(OutcomeChoice::Integral(q.into(), SPIKES_ONSET, t_end));
            outcomes.push(OutcomeChoice::Mean(q.into(), 10.0, SPIKES_ONSET));
        }
        let result = r.run(Condition {
            protocol: ProtocolChoice::Built(protocol),
            variants: Vec::new(),
            assignments: Vec::new(),
            t_end,
            record_every: t_end,
            record: Vec::new(),
            outcomes,
            runs,
            method: EXACT,
        })?;
        let can = excess_integral(result, "CaN_active", duration);
        let k1 = excess_integral(result, camkii[0], duration);
        let k2 = excess_integral(result, camkii[1], duration);
        let kin: Vec<f64> = k1.iter().zip(&k2).map(|(a, b)| a + b).collect();
        points.push((f, can, kin, result.runs, result.method));
    }
    let can_max = points.iter().map(|p| mean(&p.1)).fold(f64::MIN, f64::max);
    let kin_max = points.iter().map(|p| mean(&p.2)).fold(f64::MIN, f64::max);
    let mut rows = Vec::new();
    let mut ratios = Vec::new();
    for (f, can, kin, n, method) in &points {
        let (cn, kn) = (mean(can) / can_max, mean(kin) / kin_max);
        let (lo, hi) = bootstrap_ratio_ci(kin, can, kin_max / can_max, r.settings.seed);
        ratios.push((*f, kn / cn, cn, kn));
        rows.push(Row {
            target: "V4".into(),
            check: format!("{f} Hz, {SPIKES} spikes of {SPIKE_IONS} ions"),
            condition: format!("ca_spikes_{f}hz"),
            method: (*method).into(),
            expected: "CaMKII/CaN (each normalised to its maximum over frequency) rises with f".into(),
            n: *n,
            mean: kn / cn,
            ci_low: lo,
            ci_high: hi,
            p_ltd: f64::NAN,
            p_ltp: f64::NAN,
            got: format!(
                "ratio {:.3}; CaN {cn:.3}, CaMKII {kn:.3} of max (integrals above rest: CaN {:.0}, CaMKII {:.0} molecules x s)",
                kn / cn,
                mean(can),
                mean(kin)
            ),
            pass: None,
        });
    }
    let monotonic = ratios.windows(2).all(|w| w[1].1 > w[0].1);
    let crossover = ratios
        .windows(2)
        .find(|w| w[0].3 < w[0].2 && w[1].3 > w[1].2)
        .map(|w| {
            // Linear interpolation of CaMKII − CaN (normalised) in log frequency.
            let (d0, d1) = (w[0].3 - w[0].2, w[1].3 - w[1].2);
            let x = d0 / (d0 - d1);
            (w[0].0.ln() + x * (w[1].0.ln() - w[0].0.ln())).exp()
        });
    rows.push(Row::verdict(
        "V4",
        "CaMKII/CaN ratio rises monotonically with spike frequency",
        "every step up in frequency raises the ensemble-mean ratio",
        ratios
            .iter()
            .map(|(f, x, _, _)| format!("{f} Hz: {x:.3}"))
            .collect::<Vec<_>>()
            .join("; ")
            + if quick {
                " (judged in the full run)"
            } else {
                ""
            },
        (!quick).then_some(monotonic),
    ));
    rows.push(Row::verdict(
        "V4",
        "crossover frequency",
        "information: where normalised CaMKII overtakes normalised CaN (expected a few to tens of Hz [E])",
        crossover.map_or(
            "none inside the range: normalised CaMKII stays at or below normalised CaN".into(),
            |f| format!("{f:.1} Hz"),
        ),
        None,
    ));
    Ok(rows)
}
