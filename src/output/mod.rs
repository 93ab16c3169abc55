//! Results on disk: a directory of Parquet files plus `run.json`.
//!
//! ```text
//! OUT/
//!   plan.json                      what the run computes (shards and --resume must match it)
//!   trajectories/[sweep_id=K/]part-FIRST-END.parquet
//!                                  run, time, one column per recorded species/observable
//!   outcome_parts/[sweep_id=K/]part-FIRST-END.parquet
//!                                  one row per trajectory, per part
//!   shards/shard-K-of-N.json       what each shard's invocation did
//!   outcomes.parquet               all outcome rows, with the sweep columns
//!   sweeps.parquet                 (with a sweep) one row per sweep point
//!   summary.parquet                per sweep point, time and quantity: n, mean, sd, ...
//!   outcome_stats.parquet          per sweep point and outcome: CIs, P(LTD), P(LTP)
//!   run.json                       version, model hash, method, seed, command line, events, wall time
//! ```
//!
//! Every file is written under a hidden `.NAME.partial` name and renamed when complete; `run.json` comes
//! last, so its presence means the run finished.

pub mod finalize;
pub mod layout;
pub mod metadata;
pub mod outcomes;
pub mod stats;
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

/// Where `path` is written until it is complete: `.NAME.partial` in the same directory. The
/// leading dot hides it from dataset readers (pyarrow, polars and DuckDB skip hidden files and
/// globs on `*.parquet` do not match it), so a directory being written, or left by a killed
/// run, reads as the finished parts only.
pub fn partial_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(PARTIAL_SUFFIX);
    path.with_file_name(name)
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

/// Writes one record batch as the Parquet file `out` (under its `.partial` name, then renamed).
pub(crate) fn write_table(
    out: &Path,
    fields: Vec<arrow::datatypes::Field>,
    arrays: Vec<arrow::array::ArrayRef>,
    metadata: &[(String, String)],
) -> Result<(), RunError> {
    let schema = std::sync::Arc::new(arrow::datatypes::Schema::new(fields));
    let batch = arrow::array::RecordBatch::try_new(schema.clone(), arrays)
        .map_err(|e| RunError::parquet(out, e))?;
    let file = fs::File::create(partial_path(out)).map_err(|e| RunError::io(out, e))?;
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, schema, Some(writer_properties(metadata)))
            .map_err(|e| RunError::parquet(out, e))?;
    writer
        .write(&batch)
        .map_err(|e| RunError::parquet(out, e))?;
    writer.close().map_err(|e| RunError::parquet(out, e))?;
    commit(out)
}
