//! `summary.parquet`: for every recorded quantity and sample time, the ensemble's n, mean,
//! sample sd (n − 1) and the 5/25/50/75/95 % quantiles (linear interpolation between order
//! statistics, numpy's default).
//!
//! It is computed from the trajectory files after they are written, one column and one block
//! of sample times at a time, so memory stays under a fixed budget whatever the ensemble size
//! (a bigger ensemble only means more passes over the files).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::{ArrowWriter, ProjectionMask};

use super::{commit, partial_path, writer_properties};
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

/// Writes `out` from every trajectory file under `trajectories_dir`.
pub fn write_summary(
    trajectories_dir: &Path,
    out: &Path,
    metadata: &[(String, String)],
) -> Result<(), RunError> {
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

    let (mut o_time, mut o_name, mut o_n, mut o_mean, mut o_sd) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut o_q: Vec<Vec<f64>> = vec![Vec::new(); QUANTILES.len()];
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
                let s = Stats::of(bucket);
                o_time.push(times[lo + k]);
                o_name.push(column.clone());
                o_n.push(s.n);
                o_mean.push(s.mean);
                o_sd.push(s.sd);
                for (q, v) in o_q.iter_mut().zip(s.quantiles) {
                    q.push(v);
                }
            }
        }
    }

    let mut fields = vec![
        Field::new("time", DataType::Float64, false),
        Field::new("quantity", DataType::Utf8, false),
        Field::new("n", DataType::UInt64, false),
        Field::new("mean", DataType::Float64, false),
        Field::new("sd", DataType::Float64, false),
    ];
    fields.extend(
        QUANTILES
            .iter()
            .map(|(_, name)| Field::new(*name, DataType::Float64, false)),
    );
    let schema = Arc::new(Schema::new(fields));
    let mut arrays: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(o_time)),
        Arc::new(StringArray::from(o_name)),
        Arc::new(UInt64Array::from(o_n)),
        Arc::new(Float64Array::from(o_mean)),
        Arc::new(Float64Array::from(o_sd)),
    ];
    arrays.extend(
        o_q.into_iter()
            .map(|q| Arc::new(Float64Array::from(q)) as ArrayRef),
    );
    let batch =
        RecordBatch::try_new(schema.clone(), arrays).map_err(|e| RunError::parquet(out, e))?;
    let file = File::create(partial_path(out)).map_err(|e| RunError::io(out, e))?;
    let mut writer = ArrowWriter::try_new(file, schema, Some(writer_properties(metadata)))
        .map_err(|e| RunError::parquet(out, e))?;
    writer
        .write(&batch)
        .map_err(|e| RunError::parquet(out, e))?;
    writer.close().map_err(|e| RunError::parquet(out, e))?;
    commit(out)
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
