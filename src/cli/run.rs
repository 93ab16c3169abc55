//! `spinesim run`: model → plan → ensemble → Parquet.

use std::path::PathBuf;
use std::time::Instant;

use super::{CliError, Method, RunArgs};
use crate::ensemble::{run_ensemble, EnsembleConfig};
use crate::error::RunError;
use crate::model::load_model;
use crate::network::Network;
use crate::output::{self, create_output_dir, OutcomesWriter, RunMetadata, TrajectoryWriter};
use crate::simulator::{AnySimulator, MethodRequest, Simulator, TauLeapSettings};
use crate::trajectory::RunPlan;

/// Runs an ensemble as the arguments say.
pub fn run(args: RunArgs) -> Result<(), CliError> {
    let model = load_model(&args.model)?;
    if !args.quiet {
        for w in &model.warnings {
            eprintln!("spinesim: warning: {w}");
        }
    }
    let protocol = match &args.protocol {
        None => None,
        Some(name) => Some(model.protocol(name).ok_or_else(|| {
            let known: Vec<&str> = model.protocols.iter().map(|p| p.name.as_str()).collect();
            CliError::Usage(format!(
                "model {} has no protocol '{name}'; it has: {}",
                args.model.display(),
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        })?),
    };
    let t_end = args
        .t_end
        .or(protocol.and_then(|p| p.t_end))
        .ok_or_else(|| {
            CliError::Usage(
                "no simulated time: give --t-end SECONDS (or a protocol with t_end)".into(),
            )
        })?;
    if args.runs == 0 {
        return Err(CliError::Usage("--runs must be at least 1".into()));
    }
    let threads = match args.threads {
        Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let net = Network::compile(&model);
    let plan = RunPlan::new(&model, &net, protocol, t_end, args.record_every)?;
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
    };
    let simulator = AnySimulator::new(request, &net).map_err(CliError::Usage)?;
    let method = simulator.name();
    let out_dir = args.out.clone().unwrap_or_else(|| {
        PathBuf::from("results").join(format!(
            "{}-{}",
            model.name,
            args.protocol.as_deref().unwrap_or("none")
        ))
    });
    create_output_dir(&out_dir, args.force)?;

    let command_line: Vec<String> = std::env::args().collect();
    let mut meta = RunMetadata::new(
        &model,
        args.protocol.as_deref(),
        method,
        args.seed,
        args.runs,
        t_end,
        args.record_every,
        threads,
        command_line,
    );
    meta.tau_leap = simulator.tau_leap_settings();
    let kv = meta.key_values(&model.text);
    let started = Instant::now();
    let traj_path = out_dir.join("trajectories").join("part-0.parquet");
    let mut trajectories = TrajectoryWriter::create(
        &traj_path,
        &plan.columns,
        &plan.integer_columns,
        &plan.record_times,
        &kv,
    )?;
    let mut outcomes =
        OutcomesWriter::create(&out_dir.join("outcomes.parquet"), &plan.outcomes, &kv)?;
    let config = EnsembleConfig {
        first_run: 0,
        runs: args.runs,
        seed: args.seed,
        threads,
        progress: !args.quiet,
    };
    let stats = run_ensemble(
        &net,
        &plan,
        &config,
        || simulator.clone(),
        |t| {
            trajectories.push(t)?;
            outcomes.push(t)
        },
    )?;
    meta.trajectories = stats.trajectories;
    meta.total_events = stats.events;
    if meta.tau_leap.is_some() {
        meta.leaps = Some(stats.sim.leaps);
        meta.exact_steps = Some(stats.sim.exact_steps);
        meta.rejected_leaps = Some(stats.sim.rejected_leaps);
    }
    trajectories.finish(&[("spinesim.total_events".into(), stats.events.to_string())])?;
    outcomes.finish()?;
    output::write_summary(
        &out_dir.join("trajectories"),
        &out_dir.join("summary.parquet"),
        &kv,
    )?;
    meta.wall_seconds = started.elapsed().as_secs_f64();
    let run_json = out_dir.join("run.json");
    std::fs::write(output::partial_path(&run_json), meta.to_json())
        .map_err(|e| RunError::io(&run_json, e))?;
    output::commit(&run_json)?;
    if !args.quiet {
        eprintln!(
            "spinesim: {} trajectories, {} reaction events in {:.2} s ({:.3e} events/s) -> {}",
            stats.trajectories,
            stats.events,
            meta.wall_seconds,
            stats.events as f64 / meta.wall_seconds,
            out_dir.display()
        );
    }
    Ok(())
}
