//! `summary.parquet`: for every sweep point, recorded quantity and sample time, the ensemble's
//! n, mean, sample sd (n − 1), standard error of the mean (sd/√n), the 5/25/50/75/95 % quantiles
//! (linear interpolation between order statistics, numpy's default), the coefficient of variation
//! `cv = sd/mean` and the Fano factor `fano = sd²/mean` (NaN where the mean is 0).
//!
//! It is computed from the trajectory files after they are written, one column and one block
//! of sample times at a time, so memory stays under a fixed budget whatever the ensemble size
//! (a bigger ensemble only means more passes over the files).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

use super::write_table;
use crate::error::RunError;

/// Values held in memory at once while summarising (128 MiB of f64).
const VALUES_PER_PASS: usize = 1 << 24;

/// The quantiles reported, with their column names.
pub const QUANTILES: [(f64, &str); 5] = [
    (0.05, "q05"),
    (0.25, "q25"),
    (0.5, "q50"),
    (0.75, "q75"),
    (0.95, "q95"),
];

/// Every finished Parquet file under `dir` (recursively, Hive partitions included), sorted.
pub fn parquet_files(dir: &Path) -> Result<Vec<PathBuf>, RunError> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).map_err(|e| RunError::io(&d, e))? {
            let path = entry.map_err(|e| RunError::io(&d, e))?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Summary statistics of one sample (sorted in place).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Sample size.
    pub n: u64,
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (NaN for n < 2).
    pub sd: f64,
    /// The [`QUANTILES`].
    pub quantiles: [f64; 5],
}

impl Stats {
    /// Standard error of the mean, `sd/√n`.
    pub fn sem(&self) -> f64 {
        self.sd / (self.n as f64).sqrt()
    }

    /// Coefficient of variation `sd/mean` (NaN for a zero mean).
    pub fn cv(&self) -> f64 {
        if self.mean == 0.0 {
            f64::NAN
        } else {
            self.sd / self.mean
        }
    }

    /// Fano factor `sd²/mean` (NaN for a zero mean).
    pub fn fano(&self) -> f64 {
        if self.mean == 0.0 {
            f64::NAN
        } else {
            self.sd * self.sd / self.mean
        }
    }
}

impl Stats {
    /// Computes the statistics of `values` (which it sorts).
    pub fn of(values: &mut [f64]) -> Stats {
        let n = values.len();
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            f64::NAN
        };
        values.sort_unstable_by(f64::total_cmp);
        let quantile = |p: f64| {
            if n == 0 {
                return f64::NAN;
            }
            let h = (n - 1) as f64 * p;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            values[lo] + (h - lo as f64) * (values[hi] - values[lo])
        };
        Stats {
            n: n as u64,
            mean,
            sd,
            quantiles: QUANTILES.map(|(p, _)| quantile(p)),
        }
    }
}

fn reader(
    path: &Path,
    columns: &[&str],
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, RunError> {
    let file = File::open(path).map_err(|e| RunError::io(path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| RunError::parquet(path, e))?;
    let schema = builder.parquet_schema();
    let indices: Vec<usize> = columns
        .iter()
        .map(|c| {
            (0..schema.num_columns())
                .find(|&i| schema.column(i).name() == *c)
                .ok_or_else(|| RunError::parquet(path, format!("no column '{c}'")))
        })
        .collect::<Result<_, _>>()?;
    let mask = ProjectionMask::leaves(schema, indices);
    builder
        .with_projection(mask)
        .with_batch_size(1 << 16)
        .build()
        .map_err(|e| RunError::parquet(path, e))
}

fn as_f64(array: &ArrayRef, i: usize) -> f64 {
    match array.data_type() {
        DataType::Int64 => array.as_primitive::<Int64Type>().value(i) as f64,
        _ => array.as_primitive::<Float64Type>().value(i),
    }
}

/// Writes `out` from every trajectory file under `trajectories_dir` (one ensemble, no
/// `sweep_id` column).
pub fn write_summary(
    trajectories_dir: &Path,
    out: &Path,
    metadata: &[(String, String)],
) -> Result<(), RunError> {
    write_summary_of_points(&[(None, trajectories_dir.to_path_buf())], out, metadata)
}

/// The rows of `summary.parquet`, column by column.
#[derive(Default)]
struct SummaryRows {
    sweep_id: Vec<u64>,
    time: Vec<f64>,
    name: Vec<String>,
    stats: Vec<Stats>,
}

/// Writes `out` with one block of rows per sweep point: `points` pairs a sweep id (`None` for
/// a run without a sweep, which then has no `sweep_id` column) with the directory of its
/// trajectory files.
pub fn write_summary_of_points(
    points: &[(Option<u64>, PathBuf)],
    out: &Path,
    metadata: &[(String, String)],
) -> Result<(), RunError> {
    let mut rows = SummaryRows::default();
    for (sweep_id, dir) in points {
        let start = rows.time.len();
        summarize_point(dir, &mut rows)?;
        let new = rows.time.len() - start;
        rows.sweep_id
            .extend(std::iter::repeat_n(sweep_id.unwrap_or(0), new));
    }
    let swept = points.iter().any(|(id, _)| id.is_some());

    let mut fields = Vec::new();
    if swept {
        fields.push(Field::new("sweep_id", DataType::UInt64, false));
    }
    fields.extend([
        Field::new("time", DataType::Float64, false),
        Field::new("quantity", DataType::Utf8, false),
        Field::new("n", DataType::UInt64, false),
        Field::new("mean", DataType::Float64, false),
        Field::new("sd", DataType::Float64, false),
        Field::new("sem", DataType::Float64, false),
    ]);
    fields.extend(
        QUANTILES
            .iter()
            .map(|(_, name)| Field::new(*name, DataType::Float64, false)),
    );
    fields.push(Field::new("cv", DataType::Float64, false));
    fields.push(Field::new("fano", DataType::Float64, false));
    let column = |f: &dyn Fn(&Stats) -> f64| -> ArrayRef {
        Arc::new(Float64Array::from_iter_values(rows.stats.iter().map(f)))
    };
    let mut arrays: Vec<ArrayRef> = Vec::new();
    if swept {
        arrays.push(Arc::new(UInt64Array::from(rows.sweep_id.clone())));
    }
    arrays.extend([
        Arc::new(Float64Array::from(rows.time.clone())) as ArrayRef,
        Arc::new(StringArray::from(rows.name.clone())),
        Arc::new(UInt64Array::from_iter_values(
            rows.stats.iter().map(|s| s.n),
        )),
        column(&|s| s.mean),
        column(&|s| s.sd),
        column(&|s| s.sem()),
    ]);
    for k in 0..QUANTILES.len() {
        arrays.push(column(&|s| s.quantiles[k]));
    }
    arrays.push(column(&|s| s.cv()));
    arrays.push(column(&|s| s.fano()));
    write_table(out, fields, arrays, metadata)
}

/// Appends the rows of one ensemble (the trajectory files under `trajectories_dir`).
fn summarize_point(trajectories_dir: &Path, rows: &mut SummaryRows) -> Result<(), RunError> {
    let files = parquet_files(trajectories_dir)?;
    let Some(first) = files.first() else {
        return Err(RunError::Settings(format!(
            "no trajectory files under {}",
            trajectories_dir.display()
        )));
    };
    let columns: Vec<String> = {
        let file = File::open(first).map_err(|e| RunError::io(first, e))?;
        let builder = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| RunError::parquet(first, e))?;
        builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .filter(|n| n != "run" && n != "time")
            .collect()
    };

    // Pass 1: the sample times and how many rows each has.
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for f in &files {
        for batch in reader(f, &["time"])? {
            let batch = batch.map_err(|e| RunError::parquet(f, e))?;
            for &t in batch.column(0).as_primitive::<Float64Type>().values() {
                *counts.entry(t.to_bits()).or_default() += 1;
            }
        }
    }
    let mut times: Vec<f64> = counts.keys().map(|&b| f64::from_bits(b)).collect();
    times.sort_unstable_by(f64::total_cmp);
    let index: HashMap<u64, usize> = times
        .iter()
        .enumerate()
        .map(|(i, t)| (t.to_bits(), i))
        .collect();
    let widest = counts.values().copied().max().unwrap_or(1).max(1);
    let block = (VALUES_PER_PASS / widest).max(1);

    for column in &columns {
        for lo in (0..times.len()).step_by(block) {
            let hi = (lo + block).min(times.len());
            let mut buckets: Vec<Vec<f64>> = (lo..hi)
                .map(|i| Vec::with_capacity(counts[&times[i].to_bits()]))
                .collect();
            for f in &files {
                for batch in reader(f, &["time", column])? {
                    let batch = batch.map_err(|e| RunError::parquet(f, e))?;
                    let t = batch.column(0).as_primitive::<Float64Type>();
                    let v = batch.column(1);
                    for row in 0..batch.num_rows() {
                        let ti = index[&t.value(row).to_bits()];
                        if (lo..hi).contains(&ti) {
                            buckets[ti - lo].push(as_f64(v, row));
                        }
                    }
                }
            }
            for (k, bucket) in buckets.iter_mut().enumerate() {
                rows.time.push(times[lo + k]);
                rows.name.push(column.clone());
                rows.stats.push(Stats::of(bucket));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_match_hand_values() {
        let mut v = vec![4.0, 1.0, 3.0, 2.0, 5.0];
        let s = Stats::of(&mut v);
        assert_eq!(s.n, 5);
        assert_eq!(s.mean, 3.0);
        assert!((s.sd - 2.5f64.sqrt()).abs() < 1e-12);
        // numpy.quantile([1,2,3,4,5], [.05,.25,.5,.75,.95]) = [1.2, 2, 3, 4, 4.8]
        let expected = [1.2, 2.0, 3.0, 4.0, 4.8];
        for (q, e) in s.quantiles.iter().zip(expected) {
            assert!((q - e).abs() < 1e-12, "{q} vs {e}");
        }
    }
}
