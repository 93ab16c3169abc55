//! `spinesim run`: model → overrides → sweep points → plan → ensemble of parts → Parquet.
//!
//! Every sweep point simulates the same trajectory indices `0..runs` with the same seeds
//! (common random numbers: differences between points are not blurred by different noise).
//! A shard simulates its slice of the indices at every point. The indices are written in parts
//! (see [`crate::output::layout`]); a part that exists is never simulated again, which is what
//! `--resume` relies on.

use std::path::PathBuf;
use std::time::Instant;

use super::{CliError, Method, RunArgs};
use crate::ensemble::{run_ensemble, EnsembleConfig, EnsembleStats};
use crate::error::RunError;
use crate::model::overrides::{self, AppliedAssignment, Assignment};
use crate::model::{load_model, Model};
use crate::network::Network;
use crate::output::finalize::finalize;
use crate::output::layout::{
    claim_output_dir, finished_parts, part_name, Claim, RunSpec, ShardRecord, SweepPoint,
};
use crate::output::metadata::{sha256_hex, RunMetadata};
use crate::output::{trajectories, OutcomesWriter, TrajectoryWriter};
use crate::simulator::{
    AnySimulator, MethodRequest, Simulator, TauLeapSettings, RANDOM_STREAM_VERSION,
};
use crate::sweep::{self, Axis, AxisKind};
use crate::trajectory::{RunPlan, Trajectory};

/// The simulator `--method` (and `--tau-epsilon`) ask for, built for `net`: the one place that
/// picks a simulation method (`ssa` chooses an exact method by the network).
fn simulator(args: &RunArgs, net: &Network) -> Result<AnySimulator, CliError> {
    if args.tau_epsilon.is_some() && args.method != Method::TauLeap {
        return Err(CliError::Usage(
            "--tau-epsilon only applies to --method tau-leap".into(),
        ));
    }
    let request = match args.method {
        Method::Ssa => MethodRequest::Ssa,
        Method::Direct => MethodRequest::Direct,
        Method::NextReaction => MethodRequest::NextReaction,
        Method::TauLeap => MethodRequest::TauLeap(match args.tau_epsilon {
            Some(eps) => TauLeapSettings::with_epsilon(eps).map_err(CliError::Usage)?,
            None => TauLeapSettings::default(),
        }),
        Method::SlowScale => MethodRequest::SlowScale,
    };
    AnySimulator::new(request, net).map_err(CliError::Usage)
}

/// Simulates runs `config.first_run ..` with one simulator per worker thread.
fn simulate(
    simulator: &AnySimulator,
    net: &Network,
    plan: &RunPlan,
    config: &EnsembleConfig,
    sink: impl FnMut(&Trajectory) -> Result<(), RunError>,
) -> Result<EnsembleStats, RunError> {
    run_ensemble(net, plan, config, || simulator.clone(), sink)
}

/// One sweep point, ready to simulate.
struct Prepared {
    net: Network,
    plan: RunPlan,
    point: SweepPoint,
    simulator: AnySimulator,
}

/// Runs an ensemble as the arguments say.
pub fn run(args: RunArgs) -> Result<(), CliError> {
    let started = Instant::now();
    let base = load_model(&args.model)?;
    if !args.quiet {
        for w in &base.warnings {
            eprintln!("spinesim: warning: {w}");
        }
    }
    if args.runs == 0 {
        return Err(CliError::Usage("--runs must be at least 1".into()));
    }
    let threads = match args.threads {
        Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let (shard, shards) = match &args.shard {
        None => (0, 1),
        Some(s) => parse_shard(s)?,
    };
    if args.force && (shards > 1 || args.resume) {
        return Err(CliError::Usage(
            "--force cannot be combined with --shard or --resume: it would delete results of other shards or of the interrupted run".into(),
        ));
    }
    if args.runs_per_part == Some(0) {
        return Err(CliError::Usage("--runs-per-part must be at least 1".into()));
    }

    // Assignments common to every point: --variant (in order), then --set, then --clamp.
    let clamps = args.clamp.iter().map(|s| {
        overrides::parse_assignment(s, "--clamp").map(|a| Assignment { clamp: true, ..a })
    });
    let set: Vec<Assignment> = args
        .set
        .iter()
        .map(|s| overrides::parse_assignment(s, "--set"))
        .chain(clamps)
        .collect::<Result<_, _>>()
        .map_err(CliError::Usage)?;
    let mut axes = match &args.sweep_file {
        Some(path) => sweep::parse_design_file(path).map_err(CliError::Usage)?,
        None => Vec::new(),
    };
    for s in &args.sweep {
        axes.push(sweep::parse_axis(s).map_err(CliError::Usage)?);
    }
    sweep::check_distinct(&axes).map_err(CliError::Usage)?;
    for a in &axes {
        let clash = match a.kind {
            AxisKind::Protocol => args.protocol.is_some().then_some("--protocol"),
            AxisKind::Variant => None,
            AxisKind::Value => set.iter().any(|s| s.name == a.name).then_some("--set"),
        };
        if let Some(flag) = clash {
            return Err(CliError::Usage(format!(
                "'{}' is both swept and given with {flag}; give it one way",
                a.name
            )));
        }
    }
    let common: Vec<Assignment> = overrides::variant_assignments(&base, &args.variant)
        .map_err(CliError::Usage)?
        .into_iter()
        .chain(set.iter().cloned())
        .collect();
    let (_, common_applied) = overrides::apply(&base, &common).map_err(CliError::Usage)?;

    // Every sweep point is checked and compiled before anything is simulated.
    let mut prepared = Vec::new();
    let mut axis_units: Vec<Option<String>> = vec![None; axes.len()];
    for (k, idx) in sweep::points(&axes).into_iter().enumerate() {
        prepared.push(prepare_point(
            &base,
            &args,
            &axes,
            &idx,
            k as u64,
            &set,
            &mut axis_units,
        )?);
    }
    // Without `--runs-per-part`: the runs that fill a part's rows (its row groups are bounded
    // in bytes, so a wider table has fewer rows a part).
    let (times_per_run, columns) = prepared.iter().fold((1, 0), |(times, cols), p| {
        (
            times.max(p.plan.record_times.len() as u64),
            cols.max(p.plan.columns.len()),
        )
    });
    let runs_per_part = args
        .runs_per_part
        .unwrap_or((trajectories::rows_per_part(columns) / times_per_run).max(1));
    let spec = RunSpec {
        program: "spinesim".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        random_stream: RANDOM_STREAM_VERSION,
        model_name: base.name.clone(),
        model_sha256: sha256_hex(&base.full_text()),
        model_text: base.full_text(),
        method: {
            // `ssa` may choose differently at different points (it looks at each network).
            let mut names: Vec<&str> = prepared.iter().map(|p| p.simulator.name()).collect();
            names.dedup();
            names.join("+")
        },
        tau_leap: prepared
            .first()
            .and_then(|p| p.simulator.tau_leap_settings()),
        seed: args.seed,
        runs: args.runs,
        record_every: args.record_every,
        runs_per_part,
        shards,
        variants: args.variant.clone(),
        overrides: common_applied,
        axes,
        axis_units,
        points: prepared.iter().map(|p| p.point.clone()).collect(),
    };

    let out_dir = args.out.clone().unwrap_or_else(|| {
        let protocol = if spec.axes.iter().any(|a| a.kind == AxisKind::Protocol) {
            "sweep"
        } else {
            args.protocol
                .as_deref()
                .or(base.default_protocol.as_deref())
                .unwrap_or("none")
        };
        PathBuf::from("results").join(format!("{}-{protocol}", base.name))
    });
    let claim = if args.resume || shards > 1 {
        Claim::Join
    } else {
        Claim::Fresh { force: args.force }
    };
    let layout = claim_output_dir(&out_dir, &spec, claim)?;
    let command_line: Vec<String> = std::env::args().collect();
    if !args.quiet {
        eprintln!(
            "spinesim: writing {}; if the run stops early, finish it with:\n  {}",
            out_dir.display(),
            resume_command(&command_line)
        );
    }

    let (lo, hi) = spec.shard_range(shard, shards);
    let mut totals = EnsembleStats::default();
    for p in &prepared {
        let tdir = spec.point_dir(&layout.trajectories(), p.point.sweep_id);
        let odir = spec.point_dir(&layout.outcome_parts(), p.point.sweep_id);
        for d in [&tdir, &odir] {
            std::fs::create_dir_all(d).map_err(|e| RunError::io(d, e))?;
        }
        let (tdone, odone) = (finished_parts(&tdir)?, finished_parts(&odir)?);
        let todo: Vec<(u64, u64)> = spec
            .parts(lo, hi)
            .into_iter()
            .filter(|part| !(tdone.contains(part) && odone.contains(part)))
            .collect();
        let mut kv = RunMetadata::from_spec(&spec, &[]).key_values(&spec.model_text);
        kv.push(("spinesim.sweep_id".into(), p.point.sweep_id.to_string()));
        kv.push((
            "spinesim.protocol".into(),
            p.point.protocol.clone().unwrap_or_default(),
        ));
        // Contiguous runs of missing parts are simulated by one ensemble each.
        for group in todo.chunk_by(|a, b| a.1 == b.0) {
            let (first, end) = (group[0].0, group[group.len() - 1].1);
            let mut sink = PartSink {
                tdir: &tdir,
                odir: &odir,
                plan: &p.plan,
                kv: &kv,
                parts: group,
                next: 0,
                open: None,
            };
            let config = EnsembleConfig {
                first_run: first,
                runs: end - first,
                seed: spec.seed,
                threads,
                progress: !args.quiet,
            };
            let stats = simulate(&p.simulator, &p.net, &p.plan, &config, |t| sink.push(t))?;
            totals.trajectories += stats.trajectories;
            totals.events += stats.events;
            totals.sim.add(&stats.sim);
        }
    }
    let record = ShardRecord {
        shard,
        shards,
        first_run: lo,
        end_run: hi,
        model_path: args.model.display().to_string(),
        threads,
        command_line: command_line.clone(),
        simulated: totals.trajectories,
        wall_seconds: started.elapsed().as_secs_f64(),
        leaps: [
            totals.sim.leaps,
            totals.sim.exact_steps,
            totals.sim.rejected_leaps,
        ],
        slow_scale_separation: totals.sim.slow_scale_separation,
    };
    record.write(&layout)?;
    let seconds = started.elapsed().as_secs_f64();
    if shards > 1 {
        if !args.quiet {
            eprintln!(
                "spinesim: shard {shard}/{shards}: {} trajectories, {} reaction events in {seconds:.2} s; when every shard is done: spinesim summarize {}",
                totals.trajectories,
                totals.events,
                out_dir.display()
            );
        }
        return Ok(());
    }
    let report = finalize(&layout, command_line, 0.0)?;
    if !args.quiet {
        let seconds = started.elapsed().as_secs_f64();
        eprintln!(
            "spinesim: {} trajectories ({} simulated now), {} reaction events in {seconds:.2} s ({:.3e} events/s) -> {}",
            report.metadata.trajectories,
            totals.trajectories,
            report.metadata.total_events,
            totals.events as f64 / seconds,
            out_dir.display()
        );
        if let Some(separation) = report.metadata.slow_scale_separation {
            if separation < SLOW_SCALE_WARN_BELOW {
                eprintln!(
                    "spinesim: warning: slow-scale separation fell to {separation:.3} (a fast pair's relaxation rate / the slow propensity touching it); below {SLOW_SCALE_WARN_BELOW} the method is not guaranteed accurate, see docs/slow_scale.md"
                );
            }
        }
    }
    Ok(())
}

/// `run` warns when the slow-scale SSA's separation diagnostic fell below this.
const SLOW_SCALE_WARN_BELOW: f64 = 10.0;

/// `K/N` with 0 ≤ K < N.
fn parse_shard(s: &str) -> Result<(u64, u64), CliError> {
    let parsed = s
        .split_once('/')
        .and_then(|(k, n)| Some((k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?)));
    match parsed {
        Some((k, n)) if n >= 1 && k < n => Ok((k, n)),
        _ => Err(CliError::Usage(format!(
            "--shard '{s}': expected K/N with 0 <= K < N (e.g. --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT)"
        ))),
    }
}

/// The command line with `--resume` (and without `--force`), quoted for a POSIX shell.
fn resume_command(args: &[String]) -> String {
    let quote = |a: &String| {
        if !a.is_empty()
            && a.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c))
        {
            a.clone()
        } else {
            format!("'{}'", a.replace('\'', r"'\''"))
        }
    };
    let mut out: Vec<String> = args
        .iter()
        .filter(|a| a.as_str() != "--force")
        .map(quote)
        .collect();
    if !args.iter().any(|a| a == "--resume") {
        out.push("--resume".into());
    }
    out.join(" ")
}

/// Checks and compiles sweep point `sweep_id` (axis value indices `idx`).
fn prepare_point(
    base: &Model,
    args: &RunArgs,
    axes: &[Axis],
    idx: &[usize],
    sweep_id: u64,
    set: &[Assignment],
    axis_units: &mut [Option<String>],
) -> Result<Prepared, CliError> {
    let at = |what: String| {
        if axes.is_empty() {
            what
        } else {
            let values: Vec<String> = axes
                .iter()
                .zip(idx)
                .map(|(a, &i)| format!("{}={}", a.name, a.values[i]))
                .collect();
            format!("sweep point {sweep_id} ({}): {what}", values.join(", "))
        }
    };
    // Without --protocol, a model's default protocol (an SBML file's events) applies.
    let mut protocol_name = args.protocol.clone().or(base.default_protocol.clone());
    let mut variants = args.variant.clone();
    let mut swept = Vec::new();
    for (a, &i) in axes.iter().zip(idx) {
        let value = &a.values[i];
        match a.kind {
            AxisKind::Protocol => protocol_name = Some(value.clone()),
            AxisKind::Variant => variants.extend(
                value
                    .split('+')
                    .map(str::trim)
                    .filter(|v| *v != "control")
                    .map(str::to_string),
            ),
            AxisKind::Value => swept.push(Assignment {
                name: a.name.clone(),
                value: overrides::amount_from_text(value),
                origin: format!("--sweep {}", a.name),
                clamp: false,
            }),
        }
    }
    let assignments: Vec<Assignment> = overrides::variant_assignments(base, &variants)
        .map_err(|e| CliError::Usage(at(e)))?
        .into_iter()
        .chain(set.iter().cloned())
        .chain(swept)
        .collect();
    let (model, applied) =
        overrides::apply(base, &assignments).map_err(|e| CliError::Usage(at(e)))?;

    let mut numeric = Vec::new();
    for (i, a) in axes.iter().enumerate() {
        if a.kind != AxisKind::Value {
            numeric.push(None);
            continue;
        }
        let origin = format!("--sweep {}", a.name);
        let applied: &AppliedAssignment = applied
            .iter()
            .rev()
            .find(|x| x.origin == origin)
            .expect("every value axis is applied");
        match &axis_units[i] {
            Some(u) if *u != applied.unit => {
                return Err(CliError::Usage(format!(
                    "--sweep {}: values mix units {u} and {}; give them all in one kind of unit",
                    a.name, applied.unit
                )))
            }
            _ => axis_units[i] = Some(applied.unit.clone()),
        }
        numeric.push(Some(applied.canonical));
    }

    let protocol = match &protocol_name {
        None => None,
        Some(name) => Some(model.protocol(name).ok_or_else(|| {
            let known: Vec<&str> = model.protocols.iter().map(|p| p.name.as_str()).collect();
            CliError::Usage(at(format!(
                "model {} has no protocol '{name}'; it has: {}",
                args.model.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            )))
        })?),
    };
    let t_end = args
        .t_end
        .or(protocol.and_then(|p| p.t_end))
        .ok_or_else(|| {
            CliError::Usage(at(
                "no simulated time: give --t-end SECONDS (or a protocol with t_end)".into(),
            ))
        })?;
    let net = Network::compile(&model);
    let plan = RunPlan::new(&model, &net, protocol, t_end, args.record_every)?;
    let simulator = simulator(args, &net)?;
    plan.triggered
        .check_simulator(&simulator)
        .map_err(|m| CliError::Usage(at(m)))?;
    Ok(Prepared {
        net,
        plan,
        simulator,
        point: SweepPoint {
            sweep_id,
            protocol: protocol_name,
            t_end,
            values: axes
                .iter()
                .zip(idx)
                .map(|(a, &i)| a.values[i].clone())
                .collect(),
            numeric,
            assignments: applied,
        },
    })
}

/// Routes trajectories (in index order) into their part files, finishing each part when its
/// last trajectory is in.
struct PartSink<'a> {
    tdir: &'a std::path::Path,
    odir: &'a std::path::Path,
    plan: &'a RunPlan,
    kv: &'a [(String, String)],
    parts: &'a [(u64, u64)],
    next: usize,
    open: Option<OpenPart>,
}

struct OpenPart {
    end: u64,
    events: u64,
    trajectories: TrajectoryWriter,
    outcomes: OutcomesWriter,
}

impl PartSink<'_> {
    fn push(&mut self, t: &Trajectory) -> Result<(), RunError> {
        if self.open.is_none() {
            let (first, end) = self.parts[self.next];
            debug_assert_eq!(t.run, first);
            let name = part_name(first, end);
            self.open = Some(OpenPart {
                end,
                events: 0,
                trajectories: TrajectoryWriter::create(
                    &self.tdir.join(&name),
                    &self.plan.columns,
                    &self.plan.integer_columns,
                    &self.plan.record_times,
                    self.kv,
                )?,
                outcomes: OutcomesWriter::create(
                    &self.odir.join(&name),
                    &self.plan.outcomes,
                    self.kv,
                )?,
            });
        }
        let part = self.open.as_mut().expect("a part is open");
        part.trajectories.push(t)?;
        part.outcomes.push(t)?;
        part.events += t.events;
        if t.run + 1 == part.end {
            let part = self.open.take().expect("a part is open");
            part.trajectories
                .finish(&[("spinesim.total_events".into(), part.events.to_string())])?;
            part.outcomes.finish()?;
            self.next += 1;
        }
        Ok(())
    }
}
