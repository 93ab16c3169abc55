//! `spinesim summarize DIR`: after the shards of a run, check that every part is there and
//! write the merged tables and `run.json`.

use super::{CliError, SummarizeArgs};
use crate::output::finalize::finalize;
use crate::output::layout::Layout;

/// Finalizes the run in `args.dir`.
pub fn summarize(args: SummarizeArgs) -> Result<(), CliError> {
    let layout = Layout { dir: args.dir };
    let report = finalize(&layout, std::env::args().collect(), 0.0)?;
    if !args.quiet {
        let m = &report.metadata;
        eprintln!(
            "spinesim: {} trajectories ({} sweep points, {} shards), {} reaction events -> {}",
            m.trajectories,
            m.sweep_points,
            m.shards,
            m.total_events,
            layout.dir.display()
        );
    }
    Ok(())
}
