//! The command line: `spinesim run` and `spinesim check`.
//!
//! Exit codes: 0 success, 1 run or I/O failure, 2 usage or model error.

mod check;
mod run;

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
    Run(RunArgs),
    /// Validate a model and print the compiled network.
    Check(CheckArgs),
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
}

/// `spinesim run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The model file (TOML).
    pub model: PathBuf,
    /// Protocol to apply (one of the model's `[[protocols]]`); none means no events.
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
}

/// `spinesim check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The model file (TOML).
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
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Model(_) | CliError::Usage(_) => 2,
            CliError::Run(RunError::Settings(_)) | CliError::Run(RunError::OutputExists(_)) => 2,
            CliError::Run(_) => 1,
        }
    }
}

/// Runs the command line and returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Check(args) => check::check(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("spinesim: error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
