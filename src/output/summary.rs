//! `summary.parquet`: for every sweep point, recorded quantity and sample time, the ensemble's
//! n, mean, sample sd (n − 1), standard error of the mean (sd/√n), the 5/25/50/75/95 % quantiles
//! (linear interpolation between order statistics, numpy's default), the coefficient of variation
//! `cv = sd/mean` and the Fano factor `fano = sd²/mean` (NaN where the mean is 0).
//!
//! It is computed from the trajectory files after they are written, one column and one block
//! of sample times at a time, by [`exact_stats`]: a few streaming passes over the files (with
//! column projection) give n, the mean and sd (summed in file order, so the numbers are
//! bit-identical to sorting all values in memory, [`Stats::of`]), then histograms narrow each
//! needed order statistic down to a small key range whose values are collected and sorted. The
//! block of sample times is chosen so that its counters, histograms and collected values stay
//! under [`SUMMARY_BUDGET_BYTES`] whatever the ensemble size: a bigger ensemble only means more
//! passes over the files, never more memory.

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

/// Memory [`write_summary`] may hold at once for statistics (counters, histograms, values).
pub const SUMMARY_BUDGET_BYTES: usize = 1 << 20;

/// Bins of one histogram in [`exact_stats`].
pub const HISTOGRAM_BINS: usize = 32;

/// Values of one key range [`exact_stats`] collects (and sorts) instead of refining it with
/// another histogram; as many bytes as a histogram.
pub const COLLECT_CAP: u64 = (HISTOGRAM_BINS * 3) as u64;

/// Rows per record batch when reading Parquet files for statistics.
const READ_BATCH_ROWS: usize = 8192;

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
        Stats {
            n: n as u64,
            mean,
            sd,
            quantiles: quantiles_from(n as u64, |rank| values[rank as usize]),
        }
    }
}

/// Opens `path` for reading only `columns`, in batches of [`READ_BATCH_ROWS`] rows.
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
        .with_batch_size(READ_BATCH_ROWS)
        .build()
        .map_err(|e| RunError::parquet(path, e))
}

/// Calls `f` with every value of a numeric (Int64 or Float64) column, in order.
pub(crate) fn for_each_number(array: &ArrayRef, mut f: impl FnMut(usize, f64)) {
    match array.data_type() {
        DataType::Int64 => {
            for (i, &v) in array
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .enumerate()
            {
                f(i, v as f64);
            }
        }
        _ => {
            for (i, &v) in array
                .as_primitive::<Float64Type>()
                .values()
                .iter()
                .enumerate()
            {
                f(i, v);
            }
        }
    }
}

/// The position of `x` in the order of [`f64::total_cmp`] (the order [`Stats::of`] sorts in),
/// as an unsigned integer: `key(a) < key(b)` exactly when `a` sorts before `b`.
fn key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

/// The inverse of [`key`].
fn value_of(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// The ranks (0-based, in sorted order) of the two order statistics quantile `p` of `n > 0`
/// values interpolates between, and the weight of the upper one (numpy's linear method).
fn quantile_ranks(n: u64, p: f64) -> (u64, u64, f64) {
    let h = (n - 1) as f64 * p;
    let lo = h.floor() as u64;
    (lo, (lo + 1).min(n - 1), h - lo as f64)
}

/// The [`QUANTILES`] of `n` values, given the value of each needed rank.
fn quantiles_from(n: u64, value_at: impl Fn(u64) -> f64) -> [f64; 5] {
    QUANTILES.map(|(p, _)| {
        if n == 0 {
            return f64::NAN;
        }
        let (lo, hi, weight) = quantile_ranks(n, p);
        let (a, b) = (value_at(lo), value_at(hi));
        a + weight * (b - a)
    })
}

/// Distinct order statistics [`exact_stats`] may look for in one group (two per quantile).
const MAX_RANKS: usize = 2 * QUANTILES.len();

/// Bookkeeping bytes per group and per key range, for the memory budget.
const GROUP_BYTES: usize = 128;

/// Bytes of one histogram of [`HISTOGRAM_BINS`] bins.
const HISTOGRAM_BYTES: usize = HISTOGRAM_BINS * std::mem::size_of::<Bin>();

/// The most bytes [`exact_stats`] holds for one group of `n` values in any pass.
fn group_bytes(n: u64) -> usize {
    GROUP_BYTES
        + if n <= COLLECT_CAP {
            n as usize * 8 + GROUP_BYTES
        } else {
            MAX_RANKS * (HISTOGRAM_BYTES.max(COLLECT_CAP as usize * 8) + GROUP_BYTES)
        }
}

/// One histogram bin: how many keys fell in it, and the smallest and largest.
#[derive(Debug, Clone, Copy)]
struct Bin {
    count: u64,
    min: u64,
    max: u64,
}

/// What a pass does with the values of a key range.
enum Work {
    /// Keeps them (at most [`COLLECT_CAP`]), to sort after the pass.
    Collect(Vec<f64>),
    /// Counts them in [`HISTOGRAM_BINS`] equal bins of the key range.
    Refine(Vec<Bin>),
}

/// A key range `lo..=hi` of one group (with exactly `count` values of the group in it, the
/// smallest at `lo` and the largest at `hi`) that holds the order statistics `ranks`: pairs
/// (rank within the range, rank within the group).
struct KeyRange {
    group: usize,
    lo: u64,
    hi: u64,
    count: u64,
    ranks: Vec<(u64, u64)>,
    work: Work,
}

impl KeyRange {
    fn new(group: usize, lo: u64, hi: u64, count: u64, ranks: Vec<(u64, u64)>) -> KeyRange {
        let work = if count <= COLLECT_CAP {
            Work::Collect(Vec::with_capacity(count as usize))
        } else {
            Work::Refine(vec![
                Bin {
                    count: 0,
                    min: u64::MAX,
                    max: 0
                };
                HISTOGRAM_BINS
            ])
        };
        KeyRange {
            group,
            lo,
            hi,
            count,
            ranks,
            work,
        }
    }

    /// The bin of `key` (within `lo..=hi`): exact integer arithmetic, monotone in the key.
    fn bin(&self, key: u64) -> usize {
        let width = u128::from(self.hi - self.lo) + 1;
        (u128::from(key - self.lo) * HISTOGRAM_BINS as u128 / width) as usize
    }

    fn add(&mut self, key: u64, x: f64) {
        let bin = self.bin(key);
        match &mut self.work {
            Work::Collect(values) => values.push(x),
            Work::Refine(bins) => {
                let b = &mut bins[bin];
                b.count += 1;
                b.min = b.min.min(key);
                b.max = b.max.max(key);
            }
        }
    }

    /// After a pass: stores the order statistics found, and returns the narrower ranges that
    /// hold the others.
    fn finish(self, found: &mut Vec<(u64, f64)>, next: &mut Vec<KeyRange>) {
        match self.work {
            Work::Collect(mut values) => {
                debug_assert_eq!(values.len() as u64, self.count);
                values.sort_unstable_by(f64::total_cmp);
                for (local, global) in self.ranks {
                    found.push((global, values[local as usize]));
                }
            }
            Work::Refine(bins) => {
                let mut before = 0;
                let mut ranks = self.ranks.into_iter().peekable();
                for bin in bins {
                    let mut inside = Vec::new();
                    while let Some(&(local, global)) = ranks.peek() {
                        if local >= before + bin.count {
                            break;
                        }
                        inside.push((local - before, global));
                        ranks.next();
                    }
                    if !inside.is_empty() {
                        if bin.min == bin.max {
                            let v = value_of(bin.min);
                            found.extend(inside.iter().map(|&(_, global)| (global, v)));
                        } else {
                            next.push(KeyRange::new(
                                self.group, bin.min, bin.max, bin.count, inside,
                            ));
                        }
                    }
                    before += bin.count;
                }
                debug_assert_eq!(before, self.count);
            }
        }
    }
}

/// Per group: n, the sum of the values (in scan order), and the smallest and largest key.
#[derive(Debug, Clone, Copy)]
struct Totals {
    n: u64,
    sum: f64,
    min: u64,
    max: u64,
}

/// The [`Stats`] of `groups` groups of values that `scan` streams: each call of `scan` must
/// call its argument with (group, value) for every value, always in the same order. The
/// results equal [`Stats::of`] on each group's values in that order, bit for bit.
///
/// The first pass counts and sums every group. Then, one block of groups at a time (as many as
/// `budget_bytes` allows for their counters, histograms and collected values, at least one),
/// passes sum the squared deviations from the mean and narrow each order statistic the
/// quantiles need to a key range (in the order of [`f64::total_cmp`]): a range holding more
/// than [`COLLECT_CAP`] values is split by a histogram of [`HISTOGRAM_BINS`] bins, which
/// records each bin's smallest and largest key (a bin of equal values is done), a smaller one
/// is collected and sorted. Memory is independent of the number of values per group.
pub fn exact_stats<F>(
    groups: usize,
    budget_bytes: usize,
    mut scan: F,
) -> Result<Vec<Stats>, RunError>
where
    F: FnMut(&mut dyn FnMut(usize, f64)) -> Result<(), RunError>,
{
    // `Iterator::sum`'s starting value, so that the sums equal `Stats::of`'s.
    let zero: f64 = std::iter::empty::<f64>().sum();
    let mut totals = vec![
        Totals {
            n: 0,
            sum: zero,
            min: u64::MAX,
            max: 0
        };
        groups
    ];
    scan(&mut |g, x| {
        let t = &mut totals[g];
        let k = key(x);
        t.n += 1;
        t.sum += x;
        t.min = t.min.min(k);
        t.max = t.max.max(k);
    })?;

    let mut stats = Vec::with_capacity(groups);
    let mut first = 0;
    while first < groups {
        let mut end = first + 1;
        let mut bytes = group_bytes(totals[first].n);
        while end < groups && bytes + group_bytes(totals[end].n) <= budget_bytes {
            bytes += group_bytes(totals[end].n);
            end += 1;
        }
        stats.extend(block_stats(&totals[first..end], first, zero, &mut scan)?);
        first = end;
    }
    Ok(stats)
}

/// The statistics of the groups `offset..offset + totals.len()` (see [`exact_stats`]).
fn block_stats<F>(
    totals: &[Totals],
    offset: usize,
    zero: f64,
    scan: &mut F,
) -> Result<Vec<Stats>, RunError>
where
    F: FnMut(&mut dyn FnMut(usize, f64)) -> Result<(), RunError>,
{
    let means: Vec<f64> = totals.iter().map(|t| t.sum / t.n as f64).collect();
    let mut squares = vec![zero; totals.len()];
    let mut found: Vec<Vec<(u64, f64)>> = vec![Vec::new(); totals.len()];
    let mut ranges: Vec<KeyRange> = Vec::new();
    for (i, t) in totals.iter().enumerate() {
        if t.n == 0 {
            continue;
        }
        let mut ranks: Vec<u64> = QUANTILES
            .iter()
            .flat_map(|&(p, _)| {
                let (lo, hi, _) = quantile_ranks(t.n, p);
                [lo, hi]
            })
            .collect();
        ranks.sort_unstable();
        ranks.dedup();
        let ranks = ranks.into_iter().map(|r| (r, r)).collect();
        if t.min == t.max {
            found[i].extend(QUANTILES.iter().flat_map(|&(p, _)| {
                let (lo, hi, _) = quantile_ranks(t.n, p);
                [(lo, value_of(t.min)), (hi, value_of(t.min))]
            }));
        } else {
            ranges.push(KeyRange::new(i, t.min, t.max, t.n, ranks));
        }
    }

    let mut first_pass = true;
    while first_pass || !ranges.is_empty() {
        // Ranges are in group order; `starts[i]..starts[i + 1]` are group i's.
        let mut starts = vec![0; totals.len() + 1];
        for r in &ranges {
            starts[r.group + 1] += 1;
        }
        let mut before = 0;
        for start in &mut starts {
            before += *start;
            *start = before;
        }
        let groups = offset..offset + totals.len();
        scan(&mut |g, x| {
            if !groups.contains(&g) {
                return;
            }
            let i = g - offset;
            if first_pass {
                squares[i] += (x - means[i]).powi(2);
            }
            let k = key(x);
            if let Some(r) = ranges[starts[i]..starts[i + 1]]
                .iter_mut()
                .find(|r| r.lo <= k && k <= r.hi)
            {
                r.add(k, x);
            }
        })?;
        first_pass = false;
        let mut next = Vec::new();
        for r in ranges {
            let group = r.group;
            r.finish(&mut found[group], &mut next);
        }
        ranges = next;
    }

    Ok(totals
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let value_at = |rank: u64| {
                found[i]
                    .iter()
                    .find(|&&(r, _)| r == rank)
                    .map(|&(_, v)| v)
                    .expect("every needed order statistic is found")
            };
            Stats {
                n: t.n,
                mean: means[i],
                sd: if t.n > 1 {
                    (squares[i] / (t.n - 1) as f64).sqrt()
                } else {
                    f64::NAN
                },
                quantiles: quantiles_from(t.n, value_at),
            }
        })
        .collect())
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

/// One row of `summary.parquet` (without the sweep point).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Sample time (s).
    pub time: f64,
    /// Recorded quantity (column of the trajectory files).
    pub quantity: String,
    /// Its statistics over the ensemble at that time.
    pub stats: Stats,
}

/// Writes `out` with one block of rows per sweep point: `points` pairs a sweep id (`None` for
/// a run without a sweep, which then has no `sweep_id` column) with the directory of its
/// trajectory files.
pub fn write_summary_of_points(
    points: &[(Option<u64>, PathBuf)],
    out: &Path,
    metadata: &[(String, String)],
) -> Result<(), RunError> {
    let mut rows: Vec<SummaryRow> = Vec::new();
    let mut sweep_ids: Vec<u64> = Vec::new();
    for (sweep_id, dir) in points {
        let point_rows = summarize_trajectories(dir, SUMMARY_BUDGET_BYTES)?;
        sweep_ids.extend(std::iter::repeat_n(sweep_id.unwrap_or(0), point_rows.len()));
        rows.extend(point_rows);
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
        Arc::new(Float64Array::from_iter_values(
            rows.iter().map(|r| f(&r.stats)),
        ))
    };
    let mut arrays: Vec<ArrayRef> = Vec::new();
    if swept {
        arrays.push(Arc::new(UInt64Array::from(sweep_ids)));
    }
    arrays.extend([
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.time))) as ArrayRef,
        Arc::new(StringArray::from_iter_values(
            rows.iter().map(|r| r.quantity.as_str()),
        )),
        Arc::new(UInt64Array::from_iter_values(
            rows.iter().map(|r| r.stats.n),
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

/// The rows of one ensemble (the trajectory files under `trajectories_dir`): per recorded
/// quantity (in column order) and sample time (ascending), its statistics; computed by
/// [`exact_stats`] with `budget_bytes`.
pub fn summarize_trajectories(
    trajectories_dir: &Path,
    budget_bytes: usize,
) -> Result<Vec<SummaryRow>, RunError> {
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

    // The sample times (one group each).
    let mut index: HashMap<u64, usize> = HashMap::new();
    for f in &files {
        for batch in reader(f, &["time"])? {
            let batch = batch.map_err(|e| RunError::parquet(f, e))?;
            for &t in batch.column(0).as_primitive::<Float64Type>().values() {
                let next = index.len();
                index.entry(t.to_bits()).or_insert(next);
            }
        }
    }
    let mut times: Vec<f64> = index.keys().map(|&b| f64::from_bits(b)).collect();
    times.sort_unstable_by(f64::total_cmp);
    for (i, t) in times.iter().enumerate() {
        index.insert(t.to_bits(), i);
    }

    let mut rows = Vec::with_capacity(columns.len() * times.len());
    for column in &columns {
        let stats = exact_stats(times.len(), budget_bytes, |emit| {
            for f in &files {
                for batch in reader(f, &["time", column])? {
                    let batch = batch.map_err(|e| RunError::parquet(f, e))?;
                    let time = batch.column(0).as_primitive::<Float64Type>().values();
                    for_each_number(batch.column(1), |row, x| {
                        emit(index[&time[row].to_bits()], x);
                    });
                }
            }
            Ok(())
        })?;
        rows.extend(times.iter().zip(stats).map(|(&time, stats)| SummaryRow {
            time,
            quantity: column.clone(),
            stats,
        }));
    }
    Ok(rows)
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
