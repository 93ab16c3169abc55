//! `spinesim validate`: targets → ensembles → report.

use super::{CliError, ValidateArgs, ValidateMethod};
use crate::error::RunError;
use crate::simulator::MethodRequest;
use crate::validate::{validate as run_targets, Settings};

/// Runs the validation and writes its report; fails (exit 1) if a target fails.
pub fn validate(args: ValidateArgs) -> Result<(), CliError> {
    let threads = match args.threads {
        Some(0) => return Err(CliError::Usage("--threads must be at least 1".into())),
        Some(n) => n,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    if args.runs == Some(0) || args.runs == Some(1) {
        return Err(CliError::Usage(
            "--runs must be at least 2 (confidence intervals)".into(),
        ));
    }
    let report_md = args.out.join("validation.md");
    if report_md.exists() && !args.force {
        return Err(RunError::OutputExists(report_md).into());
    }
    let settings = Settings {
        quick: args.quick,
        models_dir: args.models,
        runs: args.runs,
        seed: args.seed,
        method: match args.method {
            ValidateMethod::Direct => MethodRequest::Direct,
            ValidateMethod::SlowScale => MethodRequest::SlowScale,
        },
        threads,
        verbose: !args.quiet,
        command: std::env::args().collect::<Vec<_>>().join(" "),
        cache: args.cache,
    };
    let report = run_targets(&settings)?;
    report.write(&args.out)?;
    let failed: Vec<String> = report
        .failures()
        .map(|r| format!("{} {} ({})", r.target, r.check, r.got))
        .collect();
    if !args.quiet {
        eprintln!(
            "spinesim validate: {} checks in {:.0} s -> {}",
            report.rows.len(),
            report.wall_seconds,
            report_md.display()
        );
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(CliError::TargetsFailed(format!(
            "validation failed (report in {}): {}",
            report_md.display(),
            failed.join("; ")
        )))
    }
}
