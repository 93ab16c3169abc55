//! V18 (mGluR-LTD, `models/spine_mglur_ltd.toml`) and V19 (endocannabinoid LTD,
//! `models/ecb_ltd.toml`): the other LTD routes of science.md §2.12–2.13.
//!
//! Every effect is a per-trajectory % change (final window vs the protocol's own baseline
//! window) minus that of a sham — the same variant without induction, over the same time —
//! with a Welch 95 % CI. Both modes run the shams (they are cheap); quick mode runs fewer
//! trajectories and judges only the signs: DHPG lowers surface AMPARs, anisomycin leaves more
//! of them than control, APV changes nothing; the eCB induction lowers release and raises the
//! paired-pulse ratio, CB1 = 0 abolishes it, a 1-min 2-AG pulse leaves less lasting depression
//! than a 10-min one. The full mode also judges the contract magnitudes.

use std::path::Path;

use super::ensemble::{simulate, Condition, ConditionResult, OutcomeChoice, ProtocolChoice};
use super::targets::{mean_sd, welch, EXACT};
use super::{Ensemble, Row, Settings};
use crate::error::RunError;
use crate::model::{load_model, Model};
use crate::output::stats::t_interval;

/// The mGluR-LTD model file, in the models folder.
pub const MGLUR_MODEL: &str = "spine_mglur_ltd.toml";
/// The endocannabinoid-LTD model file.
pub const ECB_MODEL: &str = "ecb_ltd.toml";

/// Release sites of `ecb_ltd.toml` and the time each released vesicle spends in the cleft (s)
/// with one test pair per 10 s: a window mean of `Rel1` times `RELEASE_PER_SITE` is the
/// release probability per site and test pulse.
const RELEASE_PER_SITE: f64 = 10.0 / (10.0 * 0.001);

/// The two models, loaded (and so checked) before any simulation.
pub struct RouteModels {
    mglur: Model,
    ecb: Model,
}

impl RouteModels {
    /// Loads both models from `dir`; an error names the file.
    pub fn load(dir: &Path) -> Result<Self, RunError> {
        let load =
            |name: &str| load_model(&dir.join(name)).map_err(|e| RunError::Settings(e.to_string()));
        Ok(RouteModels {
            mglur: load(MGLUR_MODEL)?,
            ecb: load(ECB_MODEL)?,
        })
    }

    /// Runs the V18 and V19 ensembles.
    pub fn rows(&self, settings: &Settings) -> Result<RouteResults, RunError> {
        let mut runner = Runner {
            settings,
            done: Vec::new(),
        };
        let mut rows = v18(&mut runner, &self.mglur)?;
        rows.extend(v19(&mut runner, &self.ecb)?);
        // Every route ensemble runs with the runner's method.
        let mut methods: Vec<&str> = Vec::new();
        for (_, r) in &runner.done {
            if !methods.contains(&r.method) {
                methods.push(r.method);
            }
        }
        for row in &mut rows {
            row.method = methods.join("+");
        }
        let ensembles = runner.done.iter().map(|(k, r)| r.ensemble(k)).collect();
        Ok(RouteResults { rows, ensembles })
    }
}

/// What the V18/V19 validation adds to the report.
pub struct RouteResults {
    /// The report rows, V18 then V19.
    pub rows: Vec<Row>,
    /// Ensembles run, in order.
    pub ensembles: Vec<Ensemble>,
}

/// Runs each (model, protocol, variants) once.
struct Runner<'s> {
    settings: &'s Settings,
    done: Vec<(String, ConditionResult)>,
}

impl Runner<'_> {
    fn runs(&self) -> u64 {
        self.settings
            .runs
            .unwrap_or(if self.settings.quick { 8 } else { 48 })
    }

    /// `protocol` of `model` under `variants`, for the protocol's own `t_end`.
    fn run(
        &mut self,
        model: &Model,
        protocol: &str,
        variants: &[&str],
        outcomes: &[&str],
    ) -> Result<&ConditionResult, RunError> {
        let t_end = model
            .protocol(protocol)
            .and_then(|p| p.t_end)
            .ok_or_else(|| {
                RunError::Settings(format!(
                    "model {} has no protocol '{protocol}' with a t_end, which validation needs",
                    model.path.display()
                ))
            })?;
        let condition = Condition {
            protocol: ProtocolChoice::Named(protocol.into()),
            variants: variants.iter().map(|v| v.to_string()).collect(),
            assignments: Vec::new(),
            t_end,
            record_every: 60.0,
            record: Vec::new(),
            outcomes: outcomes
                .iter()
                .map(|o| OutcomeChoice::Named(o.to_string()))
                .collect(),
            runs: self.runs(),
            method: EXACT,
        };
        let key = format!("{}: {} ({t_end} s)", model.name, condition.label());
        if let Some(i) = self.done.iter().position(|(k, _)| *k == key) {
            return Ok(&self.done[i].1);
        }
        let started = std::time::Instant::now();
        let result = simulate(model, &condition, self.settings.seed, self.settings.threads)?;
        if self.settings.verbose {
            eprintln!(
                "spinesim validate: {key}: {} trajectories, {:.3e} events, {:.0} s",
                result.runs,
                result.events as f64,
                started.elapsed().as_secs_f64()
            );
        }
        self.done.push((key, result));
        Ok(&self.done.last().expect("just pushed").1)
    }

    /// Per-trajectory values of `outcome` for the induction and for its sham (the `baseline`
    /// protocol under the same variants).
    fn with_sham(
        &mut self,
        model: &Model,
        protocol: &str,
        variants: &[&str],
        outcomes: &[&str],
        outcome: &str,
    ) -> Result<(Vec<f64>, Vec<f64>), RunError> {
        let stim = self
            .run(model, protocol, variants, outcomes)?
            .outcome(outcome)
            .to_vec();
        let sham = self
            .run(model, "baseline", variants, outcomes)?
            .outcome(outcome)
            .to_vec();
        Ok((stim, sham))
    }
}

/// A difference of means with its Welch 95 % CI.
#[derive(Debug, Clone, Copy)]
struct Effect {
    mean: f64,
    low: f64,
    high: f64,
}

impl Effect {
    fn between(a: &[f64], b: &[f64]) -> Effect {
        let (mean, low, high) = welch(a, b);
        Effect { mean, low, high }
    }

    fn text(&self, unit: &str) -> String {
        format!(
            "{:+.1} [{:+.1}, {:+.1}]{unit}",
            self.mean, self.low, self.high
        )
    }

    fn contains_zero(&self) -> bool {
        self.low <= 0.0 && self.high >= 0.0
    }
}

/// A row for an effect (`n` trajectories per ensemble), without its verdict.
fn effect_row(
    target: &str,
    check: &str,
    condition: &str,
    expected: &str,
    n: usize,
    effect: Effect,
) -> Row {
    Row {
        target: target.into(),
        check: check.into(),
        condition: condition.into(),
        method: String::new(), // the runner's, set by `RouteModels::rows`
        expected: expected.into(),
        n: n as u64,
        mean: effect.mean,
        ci_low: effect.low,
        ci_high: effect.high,
        p_ltd: f64::NAN,
        p_ltp: f64::NAN,
        got: String::new(),
        pass: None,
    }
}

/// A row for the ensemble mean of one quantity, with its t CI; information only.
fn info_row(target: &str, check: &str, condition: &str, values: &[f64], unit: &str) -> Row {
    let (m, sd) = mean_sd(values);
    let (lo, hi) = t_interval(m, sd, values.len() as u64, 0.95);
    Row {
        target: target.into(),
        check: check.into(),
        condition: condition.into(),
        method: String::new(), // the runner's, set by `RouteModels::rows`
        expected: "information".into(),
        n: values.len() as u64,
        mean: m,
        ci_low: lo,
        ci_high: hi,
        p_ltd: f64::NAN,
        p_ltp: f64::NAN,
        got: format!("{m:.3} [{lo:.3}, {hi:.3}] {unit}"),
        pass: None,
    }
}

/// V18: DHPG 50 uM x 5 min -> 20-40 % AMPAR loss within 60 min; anisomycin cuts it by more
/// than half; APV has no effect.
fn v18(r: &mut Runner, model: &Model) -> Result<Vec<Row>, RunError> {
    let quick = r.settings.quick;
    let outcomes = [
        "surface_change",
        "W_change",
        "Arc_peak",
        "Ca_peak",
        "Ca_ER_min",
    ];
    let dhpg = "dhpg_5min";
    let effect = |r: &mut Runner, variants: &[&str], outcome: &str| {
        r.with_sham(model, dhpg, variants, &outcomes, outcome)
            .map(|(stim, sham)| (Effect::between(&stim, &sham), stim.len()))
    };
    let (surface, n) = effect(r, &[], "surface_change")?;
    let (weight, _) = effect(r, &[], "W_change")?;
    let (aniso, _) = effect(r, &["anisomycin"], "surface_change")?;
    let (apv, _) = effect(r, &["apv"], "surface_change")?;
    let (mpep, _) = effect(r, &["mpep"], "surface_change")?;
    let control = r
        .run(model, dhpg, &[], &outcomes)?
        .outcome("surface_change")
        .to_vec();
    let aniso_raw = r
        .run(model, dhpg, &["anisomycin"], &outcomes)?
        .outcome("surface_change")
        .to_vec();
    let apv_raw = r
        .run(model, dhpg, &["apv"], &outcomes)?
        .outcome("surface_change")
        .to_vec();
    let aniso_vs_control = Effect::between(&aniso_raw, &control);
    let apv_vs_control = Effect::between(&apv_raw, &control);
    let mut rows = vec![
        Row {
 got: format!("{} vs sham", surface.text(" %")),
 pass: Some(if quick {
                surface.high < 0.0
            } else {
                (-40.0..=-20.0).contains(&surface.mean)
            }),
 ..effect_row("V18", "DHPG: surface AMPAR loss at 55-60 min", "dhpg_5min vs sham", if quick {
                "95 % CI below 0"
            } else {
                "mean in [-40, -20] %"
            }, n, surface)
 },
        Row {
 got: format!("{} vs sham", weight.text(" %")),
 pass: None,
 ..effect_row("V18", "DHPG: synaptic AMPARs (W) at 55-60 min", "dhpg_5min vs sham", "information (W = synaptic receptors)", n, weight)
 },
        Row {
 got: format!(
                "{} vs sham; minus control {}",
                aniso.text(" %"),
                aniso_vs_control.text(" %")
            ),
 pass: Some(if quick {
                aniso_vs_control.low > 0.0
            } else {
                aniso.mean.abs() < surface.mean.abs() / 2.0 && aniso_vs_control.low > 0.0
            }),
 ..effect_row("V18", "anisomycin cuts the loss by > 50 %", "dhpg_5min + anisomycin vs its sham", if quick {
                "loss smaller than control (95 % CI of anisomycin - control above 0)"
            } else {
                "abs(loss) < abs(control loss) / 2 and anisomycin - control CI above 0"
            }, n, aniso)
 },
        Row {
 got: format!(
                "{} (apv vs its sham {}; the DHPG route has no NMDAR step, so trajectories match control)",
                apv_vs_control.text(" %"),
                apv.text(" %")
            ),
 pass: Some(apv_vs_control.contains_zero()),
 ..effect_row("V18", "APV has no effect", "dhpg_5min + apv vs dhpg_5min", "95 % CI of apv - control contains 0", n, apv_vs_control)
 },
        Row {
 got: format!("{} vs sham", mpep.text(" %")),
 pass: None,
 ..effect_row("V18", "MPEP blocks", "dhpg_5min + mpep vs its sham", "information (science.md: no mGluR5, no LTD)", n, mpep)
 },
    ];
    if !quick {
        // PP-LFS (science.md §2.3), against each trajectory's own baseline: its protocol is
        // longer than the sham.
        for variants in [&[][..], &["apv"][..]] {
            let changes = r
                .run(model, "pp_lfs", variants, &outcomes)?
                .outcome("W_change")
                .to_vec();
            let label = if variants.is_empty() {
                "pp_lfs".to_string()
            } else {
                "pp_lfs + apv".to_string()
            };
            rows.push(info_row(
                "V18",
                "PP-LFS: synaptic AMPARs (W) at 55-60 min, vs own baseline",
                &label,
                &changes,
                "%",
            ));
        }
    }
    let result = r.run(model, dhpg, &[], &outcomes)?;
    let nav = model.compartments[0].molecules_per_micromolar();
    let nav_er = model
        .compartments
        .iter()
        .find(|c| c.name == "er")
        .map_or(f64::NAN, |c| c.molecules_per_micromolar());
    let ca: Vec<f64> = result.outcome("Ca_peak").iter().map(|c| c / nav).collect();
    let er: Vec<f64> = result
        .outcome("Ca_ER_min")
        .iter()
        .map(|c| c / nav_er)
        .collect();
    let arc = result.outcome("Arc_peak").to_vec();
    rows.push(info_row("V18", "Arc peak", dhpg, &arc, "molecules"));
    rows.push(info_row(
        "V18",
        "peak free cytosolic Ca above rest",
        dhpg,
        &ca,
        "uM",
    ));
    rows.push(info_row("V18", "lowest free ER Ca", dhpg, &er, "uM"));
    Ok(rows)
}

/// Per-trajectory paired-pulse ratio over a window: mean `Rel2` / mean `Rel1`.
fn ppr(result: &ConditionResult, window: &str) -> Vec<f64> {
    let first = result.outcome(&format!("rel1_{window}"));
    let second = result.outcome(&format!("rel2_{window}"));
    first.iter().zip(second).map(|(a, b)| b / a).collect()
}

/// Per-trajectory change of the paired-pulse ratio, final window minus baseline.
fn ppr_change(result: &ConditionResult) -> Vec<f64> {
    ppr(result, "final")
        .iter()
        .zip(ppr(result, "base"))
        .map(|(f, b)| f - b)
        .collect()
}

/// V19: release probability falls 20-40 % and the paired-pulse ratio rises; CB1 = 0 abolishes
/// it; a 1-min 2-AG pulse gives only a transient depression, a 10-min one a lasting one.
fn v19(r: &mut Runner, model: &Model) -> Result<Vec<Row>, RunError> {
    let quick = r.settings.quick;
    let outcomes = [
        "release_change",
        "release_change_early",
        "rel1_base",
        "rel2_base",
        "rel1_final",
        "rel2_final",
        "CB1_active_peak",
    ];
    let effect = |r: &mut Runner, protocol: &str, variants: &[&str], outcome: &str| {
        r.with_sham(model, protocol, variants, &outcomes, outcome)
            .map(|(stim, sham)| (Effect::between(&stim, &sham), stim.len()))
    };
    let magnitude = |e: Effect| {
        Some(if quick {
            e.high < 0.0
        } else {
            (-40.0..=-20.0).contains(&e.mean)
        })
    };
    let expected_fall = if quick {
        "95 % CI below 0"
    } else {
        "mean in [-40, -20] %"
    };
    let mut rows = Vec::new();
    let mut control = Vec::new();
    for (protocol, what) in [("dhpg_10min", "DHPG 10 min"), ("ag_10min", "2-AG 10 min")] {
        let (fall, n) = effect(r, protocol, &[], "release_change")?;
        control.push(fall);
        let base = r.run(model, "baseline", &[], &outcomes)?;
        let p0 = mean_sd(base.outcome("rel1_base")).0 * RELEASE_PER_SITE;
        rows.push(Row {
            got: format!(
                "{} vs sham (baseline release probability per site {p0:.3})",
                fall.text(" %")
            ),
            pass: magnitude(fall),
            ..effect_row(
                "V19",
                &format!("{what}: release probability at 50-60 min"),
                &format!("{protocol} vs sham"),
                expected_fall,
                n,
                fall,
            )
        });
        let stim = r.run(model, protocol, &[], &outcomes)?;
        let rise = ppr_change(stim);
        let ppr0 = mean_sd(&ppr(stim, "base")).0;
        let sham_rise = ppr_change(r.run(model, "baseline", &[], &outcomes)?);
        let ppr_effect = Effect::between(&rise, &sham_rise);
        rows.push(Row {
            got: format!(
                "{:+.3} [{:+.3}, {:+.3}] (baseline PPR {ppr0:.3})",
                ppr_effect.mean, ppr_effect.low, ppr_effect.high
            ),
            pass: Some(ppr_effect.low > 0.0),
            ..effect_row(
                "V19",
                &format!("{what}: paired-pulse ratio rises"),
                &format!("{protocol} vs sham"),
                "95 % CI of the PPR change (final - baseline) vs sham above 0",
                n,
                ppr_effect,
            )
        });
    }
    for (protocol, variant, what) in [
        (
            "dhpg_10min",
            "am251",
            "CB1 = 0 (AM251) abolishes the DHPG-induced LTD",
        ),
        (
            "ag_10min",
            "am251",
            "CB1 = 0 (AM251) abolishes the 2-AG-induced LTD",
        ),
        (
            "dhpg_10min",
            "thl",
            "no DAGL (THL) abolishes the DHPG-induced LTD",
        ),
    ] {
        let (blocked, n) = effect(r, protocol, &[variant], "release_change")?;
        let reference = if protocol == "dhpg_10min" {
            control[0]
        } else {
            control[1]
        };
        rows.push(Row {
            got: format!(
                "{} vs sham (control {:+.1} %)",
                blocked.text(" %"),
                reference.mean
            ),
            pass: Some(blocked.contains_zero() && blocked.mean.abs() < reference.mean.abs() / 3.0),
            ..effect_row(
                "V19",
                what,
                &format!("{protocol} + {variant} vs its sham"),
                "95 % CI contains 0 and abs(mean) < abs(control) / 3",
                n,
                blocked,
            )
        });
    }
    // Transient vs lasting.
    let (early, n) = effect(r, "ag_1min", &[], "release_change_early")?;
    rows.push(Row {
        got: format!("{} vs sham", early.text(" %")),
        pass: Some(early.high < 0.0),
        ..effect_row(
            "V19",
            "1-min 2-AG: transient depression",
            "ag_1min vs sham, 0-2 min after the pulse",
            "95 % CI below 0",
            n,
            early,
        )
    });
    let (late, _) = effect(r, "ag_1min", &[], "release_change")?;
    let short = r
        .run(model, "ag_1min", &[], &outcomes)?
        .outcome("release_change")
        .to_vec();
    let long = r
        .run(model, "ag_10min", &[], &outcomes)?
        .outcome("release_change")
        .to_vec();
    let short_vs_long = Effect::between(&short, &long);
    rows.push(Row {
        got: format!(
            "{} vs sham; 1-min minus 10-min {}",
            late.text(" %"),
            short_vs_long.text(" %")
        ),
        pass: Some(
            short_vs_long.low > 0.0 && (quick || late.mean.abs() < control[1].mean.abs() / 3.0),
        ),
        ..effect_row(
            "V19",
            "1-min 2-AG: no lasting depression",
            "ag_1min vs sham at 59-69 min",
            if quick {
                "less lasting than 10 min (95 % CI of 1-min - 10-min above 0)"
            } else {
                "abs(mean) < abs(10-min effect) / 3 and 1-min - 10-min CI above 0"
            },
            n,
            late,
        )
    });
    let peaks = r
        .run(model, "dhpg_10min", &[], &outcomes)?
        .outcome("CB1_active_peak")
        .to_vec();
    rows.push(info_row(
        "V19",
        "peak active CB1 (of 80)",
        "dhpg_10min",
        &peaks,
        "molecules",
    ));
    Ok(rows)
}
