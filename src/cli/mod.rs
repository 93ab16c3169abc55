//! The command line: `spinesim run`, `check`, `summarize` and `validate`.
//!
//! Exit codes: 0 success, 1 run or I/O failure, 2 usage or model error.

mod check;
mod export;
mod run;
mod summarize;
mod validate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::error::{ModelError, RunError};

/// Stochastic simulation of synaptic plasticity in a dendritic spine, molecule by molecule.
#[derive(Debug, Parser)]
#[command(name = "spinesim", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate an ensemble of trajectories and write Parquet results.
    Run(Box<RunArgs>),
    /// Validate a model and print the compiled network.
    Check(CheckArgs),
    /// Check that every shard of a run is done and write its merged tables and run.json.
    Summarize(SummarizeArgs),
    /// Run the validation targets (science.md §4) as ensembles and write a report.
    Validate(ValidateArgs),
    /// Write a model as SBML Level 3 Version 2 (with units; a protocol becomes events).
    ExportSbml(ExportArgs),
}

/// `spinesim validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Small ensembles, 5-minute tails, no shams; only the sign-level targets (a few minutes).
    #[arg(long)]
    pub quick: bool,
    /// Folder holding spine_bidirectional.toml.
    #[arg(long, value_name = "DIR", default_value = "models")]
    pub models: PathBuf,
    /// Report folder: validation.md and validation.parquet.
    #[arg(long, value_name = "DIR", default_value = "results/validation")]
    pub out: PathBuf,
    /// Trajectories per stimulation ensemble (default 16; quick 4). In the full run shams, the
    /// V2 APV and the V6 pairing ensembles have 3 times as many.
    #[arg(long)]
    pub runs: Option<u64>,
    /// Method of the long-protocol ensembles (stimulation protocols and shams: V1, V2, V3, V6,
    /// V8, V9, V10); V4, V5, V14, V15 and V17-V19 always run the direct method.
    #[arg(long, value_enum, default_value_t = ValidateMethod::Direct)]
    pub method: ValidateMethod,
    /// Master seed.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Keep each finished ensemble of spine_bidirectional in this folder and reuse it when the
    /// same one (model text, condition, method, runs, seed, spinesim version and random stream)
    /// is asked again, so that a long validation can be stopped and resumed (V17-V19, short runs
    /// on their own models, are always simulated).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// Replace an existing report.
    #[arg(long)]
    pub force: bool,
    /// Nothing on stderr but errors.
    #[arg(long)]
    pub quiet: bool,
}

/// Methods `spinesim validate --method` offers for the long-protocol ensembles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateMethod {
    /// The exact direct method (every ensemble exact).
    Direct,
    /// The slow-scale SSA over the reactions marked `fast = true` (the buffer A12 in
    /// spine_bidirectional), approximate, ≈ 2-4× faster; see docs/slow_scale.md.
    SlowScale,
}

/// `spinesim export-sbml`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The model file.
    pub model: PathBuf,
    /// The SBML file to write.
    #[arg(short = 'o', long = "out", value_name = "FILE")]
    pub out: PathBuf,
    /// The protocol exported as events (`none` for no events); needed when there are several.
    #[arg(long)]
    pub protocol: Option<String>,
    /// Drop features with no SBML equivalent (binomial draws) instead of stopping; lists them.
    #[arg(long)]
    pub lossy: bool,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
}

/// Simulation methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// Exact SSA, the best exact method for the network (`run.json` says which ran).
    Ssa,
    /// Gillespie's direct method with a dependency graph (the reference exact method).
    Direct,
    /// The next-reaction method of Gibson & Bruck (indexed priority queue), exact.
    NextReaction,
    /// Adaptive tau-leaping (Cao, Gillespie & Petzold 2006), approximate; see `--tau-epsilon`.
    TauLeap,
    /// Slow-scale SSA (Cao, Gillespie & Petzold 2005) over the reactions marked `fast = true`,
    /// approximate; see docs/slow_scale.md.
    SlowScale,
}

/// `spinesim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The model file (TOML, or SBML: `.xml`/`.sbml`).
    pub model: PathBuf,
    /// Protocol to apply (one of the model's `[[protocols]]`); none means no events (for SBML: the model's events).
    #[arg(long)]
    pub protocol: Option<String>,
    /// Number of trajectories.
    #[arg(long, default_value_t = 100)]
    pub runs: u64,
    /// Master seed; trajectory i's generator is derived from (seed, i).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated time in seconds (default: the protocol's `t_end`).
    #[arg(long, value_name = "SECONDS")]
    pub t_end: Option<f64>,
    /// Recording interval in seconds: the state at exactly k × this.
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0)]
    pub record_every: f64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Simulation method.
    #[arg(long, value_enum, default_value_t = Method::Ssa)]
    pub method: Method,
    /// Tau-leaping: bound on the relative change of any propensity during a leap (default 0.03;
    /// only with `--method tau-leap`).
    #[arg(long, value_name = "EPSILON")]
    pub tau_epsilon: Option<f64>,
    /// Output directory (default: results/MODEL-PROTOCOL).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace an existing output directory (only a spinesim output).
    #[arg(long)]
    pub force: bool,
    /// No progress bar or report on stderr.
    #[arg(long)]
    pub quiet: bool,
    /// Override a parameter value, species initial amount or compartment volume, with units as
    /// in the model file (`kcat_CaN=2.5 1/s`, `CaN=0.5 uM`, `CaN=30`, `spine=0.05 fL`).
    /// Repeatable; applied after the variants.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Hold a species at a fixed amount for the whole run (`Ca=1 uM`): reactions read it but do
    /// not change it, as in a Ca clamp. Repeatable; applied after `--set` (a `--sweep` of the same
    /// species varies the clamped level).
    #[arg(long = "clamp", value_name = "NAME=VALUE")]
    pub clamp: Vec<String>,
    /// Apply a variant of the model (`[variants.NAME]`). Repeatable, applied in order.
    #[arg(long = "variant", value_name = "NAME")]
    pub variant: Vec<String>,
    /// Sweep NAME over values: `NAME=v1,v2,...`, `NAME=lin:A:B:N[ UNIT]`,
    /// `NAME=log:A:B:N[ UNIT]`; NAME may be `protocol` or `variant` (`control` = none).
    /// Repeatable: the cartesian product, first sweep slowest.
    #[arg(long = "sweep", value_name = "NAME=VALUES")]
    pub sweep: Vec<String>,
    /// A sweep design file (TOML, `[sweep]` with one key per axis), before any --sweep.
    #[arg(long, value_name = "FILE")]
    pub sweep_file: Option<PathBuf>,
    /// Run only the K-th of N contiguous slices of the trajectory indices (0 <= K < N), with
    /// the seeds of the whole run; all shards write into the same --out.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<String>,
    /// Complete an interrupted run in --out: simulate only the parts that are missing.
    #[arg(long)]
    pub resume: bool,
    /// Trajectories per part file (default: 16 row groups of 512 KiB of raw values per file).
    #[arg(long, value_name = "N")]
    pub runs_per_part: Option<u64>,
}

/// `spinesim summarize`.
#[derive(Debug, clap::Args)]
pub struct SummarizeArgs {
    /// The output directory of a run (all of its shards).
    pub dir: PathBuf,
    /// No report on stderr.
    #[arg(long)]
    pub quiet: bool,
}

/// `spinesim check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The model file (TOML, or SBML: `.xml`/`.sbml`).
    pub model: PathBuf,
}

/// A failure of a command, mapped to an exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The model is invalid (exit 2).
    #[error("{0}")]
    Model(#[from] ModelError),
    /// The command line does not fit the model (exit 2).
    #[error("{0}")]
    Usage(String),
    /// The run failed (exit 1).
    #[error("{0}")]
    Run(#[from] RunError),
    /// Validation targets failed (exit 1).
    #[error("{0}")]
    TargetsFailed(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Model(_) | CliError::Usage(_) => 2,
            CliError::Run(RunError::Settings(_)) | CliError::Run(RunError::OutputExists(_)) => 2,
            CliError::Run(_) | CliError::TargetsFailed(_) => 1,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(*args),
        Command::Check(args) => check::check(args),
        Command::Summarize(args) => summarize::summarize(args),
        Command::Validate(args) => validate::validate(args),
        Command::ExportSbml(args) => export::export(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spinesim: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
