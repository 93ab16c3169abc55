//! `spinesim validate`: the validation targets of science.md §4 (V1, V2, V3, V4, V5, V6, V8, V9,
//! V10, V14, V15) run as ensembles of `models/spine_bidirectional.toml`, with a Markdown +
//! Parquet report.
//!
//! Every number is an ensemble statistic with its 95 % CI. Drug and mutant variants are applied
//! from t = 0, so their effect is measured against a sham: the same variant without stimulation,
//! over the same time ("vs sham", science-modelB.md §5). In the full run a sham has 3 times
//! the trajectories of a stimulation ensemble (its error is shared by every row it serves), and
//! so do the ensembles judged at the scale of a few %: APV (V2, |change| < 3 %) and the pairing
//! of V6 (100 pulses move W by about one standard error of the others' ensemble size). `--quick` runs small ensembles with a
//! 5-minute tail, compares each trajectory with its own baseline window instead of a sham, and
//! judges only the sign-level targets (LTD at 1 Hz, more potentiation at 100 Hz than at 1 Hz, no
//! change under APV, S845 dephosphorylation after LFS, spine shrinkage during LFS); it reports
//! V4, V5, V14 and V15 without judging them. V17 runs on `release_std`, V18 and V19 (the mGluR
//! and endocannabinoid LTD routes) on their own models, see [`routes`].
//!
//! The full run also reports, without a numbered target (target `other`), the model's remaining
//! protocols and variants against their shams: HFS (1 and 4 trains), theta burst, STDP ±10 ms,
//! KN-62 and S831A at 100 Hz, dynasore at 1 Hz.
//!
//! Methods: `--method` ([`Settings::method`]) simulates the long-protocol ensembles (the
//! stimulation protocols and their shams under every variant: V1, V2, V3, V6, V8, V9, V10),
//! e.g. with the slow-scale SSA (`slow-scale`, docs/slow_scale.md); the targets that measure
//! fast Ca dynamics, single releases or steady Ca (V4, V5, V14, V15) and the other models (V17,
//! V18, V19) always run the exact direct method. The report names the method of every row and
//! ensemble, and its header which method ran which targets.

mod decoding;
pub mod ensemble;
mod release;
pub mod report;
pub mod routes;
mod targets;

use std::path::PathBuf;
use std::time::Instant;

use crate::error::RunError;
use crate::model::load_model;
use crate::simulator::MethodRequest;

pub use report::{Ensemble, Report, Row};

/// How to run the validation.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Small ensembles and short tails; sign-level targets only.
    pub quick: bool,
    /// The folder with `spine_bidirectional.toml` (and `release_std.toml` for V17).
    pub models_dir: PathBuf,
    /// Trajectories per stimulation condition (default 16, quick 4).
    pub runs: Option<u64>,
    /// Master seed.
    pub seed: u64,
    /// The method of the long-protocol ensembles (the others always run the direct method; see
    /// the module doc).
    pub method: MethodRequest,
    /// Worker threads.
    pub threads: usize,
    /// Print each ensemble as it finishes.
    pub verbose: bool,
    /// The command line, for the report.
    pub command: String,
    /// Folder keeping every finished ensemble of `spine_bidirectional`, reused when the same
    /// ensemble is asked again (see [`ensemble::simulate_cached`]); `None`: no cache.
    pub cache: Option<PathBuf>,
}

/// Runs every target and returns the report (not yet written).
pub fn validate(settings: &Settings) -> Result<Report, RunError> {
    let started = Instant::now();
    let path = settings.models_dir.join("spine_bidirectional.toml");
    let model = load_model(&path).map_err(|e| RunError::Settings(e.to_string()))?;
    let route_models = routes::RouteModels::load(&settings.models_dir)?;
    let mut runner = targets::Runner::new(&model, settings);
    let mut rows = targets::all(&mut runner)?;
    let mut ensembles = runner.ensembles();
    let (release_rows, release_ensembles) = release::short_term_depression(settings)?;
    rows.extend(release_rows);
    ensembles.extend(release_ensembles);
    let routes = route_models.rows(settings)?;
    rows.extend(routes.rows);
    ensembles.extend(routes.ensembles);
    Ok(Report {
        rows,
        ensembles,
        wall_seconds: started.elapsed().as_secs_f64(),
        command: settings.command.clone(),
        quick: settings.quick,
    })
}
