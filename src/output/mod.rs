//! Results on disk: a directory of Parquet files plus `run.json`.
//!
//! ```text
//! OUT/
//!   trajectories/part-0.parquet   run, time, one column per recorded species/observable
//!   outcomes.parquet              one row per trajectory
//!   summary.parquet               per time and quantity: n, mean, sd, quantiles
//!   run.json                      version, model hash, method, seed, command line, events, wall time
//! ```
//!
//! Every file is written under a `.partial` name and renamed when complete; `run.json` comes
//! last, so its presence means the run finished.

pub mod metadata;
pub mod outcomes;
pub mod summary;
pub mod trajectories;

use std::fs;
use std::path::{Path, PathBuf};

use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;

use crate::error::RunError;

pub use metadata::RunMetadata;
pub use outcomes::OutcomesWriter;
pub use summary::write_summary;
pub use trajectories::TrajectoryWriter;

/// Suffix of files still being written.
pub const PARTIAL_SUFFIX: &str = ".partial";

/// Creates the output directory; an existing one is refused unless `force`, and even then only
/// when it looks like a spinesim output (so `--force` cannot wipe an unrelated folder).
pub fn create_output_dir(dir: &Path, force: bool) -> Result<(), RunError> {
    if dir.exists() {
        if !force {
            return Err(RunError::OutputExists(dir.to_path_buf()));
        }
        let is_ours = dir.join("run.json").exists()
            || dir.join("trajectories").exists()
            || fs::read_dir(dir)
                .map_err(|e| RunError::io(dir, e))?
                .next()
                .is_none();
        if !is_ours {
            return Err(RunError::Settings(format!(
                "{} exists and is not a spinesim output directory; --force only replaces spinesim outputs",
                dir.display()
            )));
        }
        fs::remove_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
    }
    fs::create_dir_all(dir.join("trajectories")).map_err(|e| RunError::io(dir, e))
}

/// `path` with the `.partial` suffix.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(PARTIAL_SUFFIX);
    PathBuf::from(name)
}

/// Renames a finished `.partial` file to its final name.
pub fn commit(path: &Path) -> Result<(), RunError> {
    fs::rename(partial_path(path), path).map_err(|e| RunError::io(path, e))
}

/// Writer settings shared by every Parquet file: Snappy compression, and the run's key-value metadata.
pub fn writer_properties(metadata: &[(String, String)]) -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_key_value_metadata(Some(
            metadata
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
                .collect(),
        ))
        .build()
}
