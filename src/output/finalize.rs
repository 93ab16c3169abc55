//! The second pass over a finished run (the end of `spinesim run`, or `spinesim summarize DIR`
//! after the shards of a run): checks that every part of every sweep point is there, then
//! writes the tables computed from all of them and, last, `run.json`.
//!
//! - `outcomes.parquet`: the outcome parts in (sweep_id, run) order, with `sweep_id` and one
//!   column per sweep axis in front when the run has a sweep;
//! - `sweeps.parquet` (with a sweep): `sweep_id`, one column per axis, `t_end`;
//! - `summary.parquet`: see [`super::summary`];
//! - `outcome_stats.parquet`: per sweep point and numeric outcome column: n, mean, sd, sem, a
//!   Student t 95 % CI of the mean, quantiles; on `NAME_pct` rows of a relative change also
//!   P(LTD) and P(LTP) with Wilson 95 % CIs.
//!
//! Memory does not grow with the number of trajectories: `outcomes.parquet` is written in row
//! groups of at most [`OUTCOMES_ROW_GROUP_BYTES`], pages of [`OUTCOMES_ROWS_PER_PAGE`] rows and
//! dictionaries of at most [`OUTCOMES_DICTIONARY_BYTES`], and the statistics of
//! `outcome_stats.parquet` and `summary.parquet` are computed in streaming passes over the
//! parts under a fixed budget (see [`super::summary::exact_stats`]).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, SchemaRef, UInt64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;

use super::layout::{finished_parts, part_name, Layout, RunSpec, ShardRecord};
use super::metadata::{sha256_hex, Digests, RunMetadata};
use super::stats::{t_interval, wilson_interval};
use super::summary::{
    exact_stats, for_each_number, write_summary_of_points, Stats, QUANTILES, SUMMARY_BUDGET_BYTES,
};
use super::{commit, partial_path, write_table, writer_properties};
use crate::error::RunError;
use crate::sweep::AxisKind;

/// Bytes of `outcomes.parquet` buffered before its row group is written out.
pub const OUTCOMES_ROW_GROUP_BYTES: usize = 1 << 18;

/// Rows of a data page of `outcomes.parquet` (the encoder buffers a page's values per column).
pub const OUTCOMES_ROWS_PER_PAGE: usize = 1 << 10;

/// Bytes of a column's dictionary in `outcomes.parquet` before it falls back to plain encoding
/// (outcome values are mostly distinct, and the dictionary is held in memory per row group).
pub const OUTCOMES_DICTIONARY_BYTES: usize = 1 << 14;

/// What [`finalize`] found.
#[derive(Debug, Clone)]
pub struct FinalReport {
    /// The metadata written to `run.json`.
    pub metadata: RunMetadata,
}

/// The parts of one sweep point that are missing from `0..runs`, as run ranges.
fn missing_ranges(parts: &[(u64, u64)], runs: u64) -> Vec<(u64, u64)> {
    let mut missing = Vec::new();
    let mut next = 0;
    for &(a, b) in parts {
        if a > next {
            missing.push((next, a));
        }
        next = next.max(b);
    }
    if next < runs {
        missing.push((next, runs));
    }
    missing
}

/// Checks that the parts tile `0..runs` without overlap.
fn check_tiling(parts: &[(u64, u64)], runs: u64, what: &Path) -> Result<(), String> {
    let mut next = 0;
    for &(a, b) in parts {
        if a != next || b <= a || b > runs {
            return Err(format!(
                "{}: parts overlap or are out of range near runs {a}..{b}; the directory mixes runs of different plans",
                what.display()
            ));
        }
        next = b;
    }
    Ok(())
}

/// Checks the run in `layout` for completeness and consistency, and writes the merged tables
/// and `run.json`. `command_line` is recorded when the run has several shards.
pub fn finalize(
    layout: &Layout,
    command_line: Vec<String>,
    extra_seconds: f64,
) -> Result<FinalReport, RunError> {
    let started = std::time::Instant::now();
    let spec = layout.read_plan()?.ok_or_else(|| {
        RunError::Settings(format!(
            "{} has no plan.json; it is not the output of a spinesim run",
            layout.dir.display()
        ))
    })?;
    if spec.model_sha256 != sha256_hex(&spec.model_text) {
        return Err(RunError::Settings(format!(
            "{}: the model text does not match its hash",
            layout.plan().display()
        )));
    }

    // Completeness: every part of every point, in both directories, and every shard's record.
    let mut problems = Vec::new();
    for point in &spec.points {
        let tdir = spec.point_dir(&layout.trajectories(), point.sweep_id);
        let odir = spec.point_dir(&layout.outcome_parts(), point.sweep_id);
        let (tparts, oparts) = (finished_parts(&tdir)?, finished_parts(&odir)?);
        let done: Vec<(u64, u64)> = tparts
            .iter()
            .copied()
            .filter(|p| oparts.binary_search(p).is_ok())
            .collect();
        let missing = missing_ranges(&done, spec.runs);
        if !missing.is_empty() {
            let ranges: Vec<String> = missing
                .iter()
                .take(5)
                .map(|(a, b)| format!("{a}..{b}"))
                .collect();
            problems.push(format!(
                "sweep point {}: runs {}{} are missing",
                point.sweep_id,
                ranges.join(", "),
                if missing.len() > 5 { ", ..." } else { "" }
            ));
        } else if let Err(e) = check_tiling(&done, spec.runs, &tdir) {
            problems.push(e);
        }
    }
    let mut records = Vec::new();
    for k in 0..spec.shards {
        match ShardRecord::read(layout, k, spec.shards)? {
            Some(r) => records.push(r),
            None => problems.push(format!(
                "shard {k}/{} has not finished ({} is missing)",
                spec.shards,
                ShardRecord::path(layout, k, spec.shards).display()
            )),
        }
    }
    if !problems.is_empty() {
        return Err(RunError::Settings(format!(
            "{} is not complete:\n  {}\nrun the missing shards, or repeat the run command with --resume",
            layout.dir.display(),
            problems.join("\n  ")
        )));
    }

    let mut meta = RunMetadata::from_spec(&spec, &records);
    if spec.shards > 1 {
        meta.command_line = command_line;
    }
    let kv = meta.key_values(&spec.model_text);

    let merged = merge_outcomes(layout, &spec, &kv)?;
    meta.trajectories = merged.rows;
    meta.total_events = merged.events;
    meta.digests = Some(Digests {
        trajectories: dataset_digest(&spec, &layout.trajectories())?,
        outcomes: dataset_digest(&spec, &layout.outcome_parts())?,
    });
    if spec.is_swept() {
        write_sweeps(layout, &spec, &kv)?;
    }
    let points: Vec<(Option<u64>, std::path::PathBuf)> = spec
        .points
        .iter()
        .map(|p| {
            (
                spec.is_swept().then_some(p.sweep_id),
                spec.point_dir(&layout.trajectories(), p.sweep_id),
            )
        })
        .collect();
    write_summary_of_points(&points, &layout.dir.join("summary.parquet"), &kv)?;

    meta.wall_seconds = records.iter().map(|r| r.wall_seconds).sum::<f64>()
        + extra_seconds
        + started.elapsed().as_secs_f64();
    let run_json = layout.dir.join("run.json");
    std::fs::write(partial_path(&run_json), meta.to_json())
        .map_err(|e| RunError::io(&run_json, e))?;
    commit(&run_json)?;
    Ok(FinalReport { metadata: meta })
}

/// Calls `f` with every record batch of the finished parts in `dir`, in run order.
fn for_each_part_batch(
    dir: &Path,
    mut f: impl FnMut(&Path, RecordBatch) -> Result<(), RunError>,
) -> Result<(), RunError> {
    for (a, b) in finished_parts(dir)? {
        let path = dir.join(part_name(a, b));
        let file = File::open(&path).map_err(|e| RunError::io(&path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| RunError::parquet(&path, e))?
            .build()
            .map_err(|e| RunError::parquet(&path, e))?;
        for batch in reader {
            f(&path, batch.map_err(|e| RunError::parquet(&path, e))?)?;
        }
    }
    Ok(())
}

/// SHA-256 of the rows of a partitioned dataset (`trajectories/` or `outcome_parts/`), in
/// (sweep_id, run) order, independent of how the rows are split into files and row groups:
/// each column's values are hashed as one stream (little-endian numbers, strings with a 0
/// terminator), then the column names and digests, and the row count of each point.
fn dataset_digest(spec: &RunSpec, base: &Path) -> Result<String, RunError> {
    use sha2::{Digest, Sha256};
    let mut columns: Vec<(String, Sha256)> = Vec::new();
    let mut points = Sha256::new();
    for point in &spec.points {
        let dir = spec.point_dir(base, point.sweep_id);
        let mut rows = 0u64;
        for_each_part_batch(&dir, |path, batch| {
            rows += batch.num_rows() as u64;
            for (field, array) in batch.schema().fields().iter().zip(batch.columns()) {
                let i = match columns.iter().position(|(n, _)| n == field.name()) {
                    Some(i) => i,
                    None => {
                        columns.push((field.name().clone(), Sha256::new()));
                        columns.len() - 1
                    }
                };
                let h = &mut columns[i].1;
                match array.data_type() {
                    DataType::UInt64 => {
                        for v in array.as_primitive::<UInt64Type>().values() {
                            h.update(v.to_le_bytes());
                        }
                    }
                    DataType::Int64 => {
                        for v in array.as_primitive::<arrow::datatypes::Int64Type>().values() {
                            h.update(v.to_le_bytes());
                        }
                    }
                    DataType::Float64 => {
                        for v in array.as_primitive::<Float64Type>().values() {
                            h.update(v.to_bits().to_le_bytes());
                        }
                    }
                    DataType::Utf8 => {
                        let s = array.as_string::<i32>();
                        for i in 0..s.len() {
                            h.update(s.value(i).as_bytes());
                            h.update([0u8]);
                        }
                    }
                    other => {
                        return Err(RunError::parquet(
                            path,
                            format!("unexpected column type {other}"),
                        ))
                    }
                }
            }
            Ok(())
        })?;
        points.update(point.sweep_id.to_le_bytes());
        points.update(rows.to_le_bytes());
    }
    let mut all = Sha256::new();
    all.update(points.finalize());
    for (name, h) in columns {
        all.update(name.as_bytes());
        all.update([0u8]);
        all.update(h.finalize());
    }
    Ok(all.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Per sweep point, the numeric outcome columns and the class counts, for
/// `outcome_stats.parquet`.
struct OutcomeColumns {
    names: Vec<String>,
    /// Per class column: (name, LTD count, LTP count, total).
    classes: Vec<(String, u64, u64, u64)>,
}

struct Merged {
    rows: u64,
    events: u64,
}

/// The column of numeric sweep axis `i`, its canonical unit in the field metadata (`unit`).
fn axis_field(spec: &RunSpec, i: usize) -> Field {
    let field = Field::new(&spec.axes[i].name, DataType::Float64, false);
    match &spec.axis_units[i] {
        Some(unit) => field.with_metadata(std::collections::HashMap::from([(
            "unit".to_string(),
            unit.clone(),
        )])),
        None => field,
    }
}

/// The sweep columns (sweep_id and one per axis) for `rows` rows of a point.
fn sweep_columns(spec: &RunSpec, sweep_id: u64, rows: usize) -> Vec<(Field, ArrayRef)> {
    if !spec.is_swept() {
        return Vec::new();
    }
    let point = &spec.points[sweep_id as usize];
    let mut out: Vec<(Field, ArrayRef)> = vec![(
        Field::new("sweep_id", DataType::UInt64, false),
        Arc::new(UInt64Array::from(vec![sweep_id; rows])),
    )];
    for (i, axis) in spec.axes.iter().enumerate() {
        match (axis.kind, point.numeric[i]) {
            (AxisKind::Value, Some(x)) => {
                let field = axis_field(spec, i);
                out.push((field, Arc::new(Float64Array::from(vec![x; rows]))));
            }
            _ => out.push((
                Field::new(&axis.name, DataType::Utf8, false),
                Arc::new(StringArray::from(vec![point.values[i].as_str(); rows])),
            )),
        }
    }
    out
}

/// Writes `outcomes.parquet` and `outcome_stats.parquet`.
fn merge_outcomes(
    layout: &Layout,
    spec: &RunSpec,
    kv: &[(String, String)],
) -> Result<Merged, RunError> {
    let out = layout.dir.join("outcomes.parquet");
    let mut writer: Option<(ArrowWriter<File>, SchemaRef)> = None;
    let mut merged = Merged { rows: 0, events: 0 };
    let mut stats_rows = StatsRows::default();
    for point in &spec.points {
        let dir = spec.point_dir(&layout.outcome_parts(), point.sweep_id);
        let mut columns: Option<OutcomeColumns> = None;
        for_each_part_batch(&dir, |path, batch| {
            let cols = columns.get_or_insert_with(|| OutcomeColumns::new(&batch.schema()));
            cols.push(&batch);
            merged.rows += batch.num_rows() as u64;
            let events = batch
                .column_by_name("events")
                .ok_or_else(|| RunError::parquet(path, "no column 'events'"))?;
            merged.events += events
                .as_primitive::<UInt64Type>()
                .values()
                .iter()
                .sum::<u64>();
            let mut fields = Vec::new();
            let mut arrays = Vec::new();
            for (f, a) in sweep_columns(spec, point.sweep_id, batch.num_rows()) {
                fields.push(f);
                arrays.push(a);
            }
            for (f, a) in batch.schema().fields().iter().zip(batch.columns()) {
                fields.push(f.as_ref().clone());
                arrays.push(a.clone());
            }
            let schema = Arc::new(Schema::new(fields));
            if writer.is_none() {
                let file = File::create(partial_path(&out)).map_err(|e| RunError::io(&out, e))?;
                let properties = writer_properties(kv)
                    .into_builder()
                    .set_data_page_row_count_limit(OUTCOMES_ROWS_PER_PAGE)
                    .set_dictionary_page_size_limit(OUTCOMES_DICTIONARY_BYTES)
                    .build();
                let w = ArrowWriter::try_new(file, schema.clone(), Some(properties))
                    .map_err(|e| RunError::parquet(&out, e))?;
                writer = Some((w, schema.clone()));
            }
            let (w, first_schema) = writer.as_mut().expect("writer is open");
            if first_schema.fields() != schema.fields() {
                return Err(RunError::parquet(
                    path,
                    "outcome columns differ from the first sweep point's",
                ));
            }
            let out_batch = RecordBatch::try_new(first_schema.clone(), arrays)
                .map_err(|e| RunError::parquet(&out, e))?;
            w.write(&out_batch)
                .map_err(|e| RunError::parquet(&out, e))?;
            if w.in_progress_size() > OUTCOMES_ROW_GROUP_BYTES {
                w.flush().map_err(|e| RunError::parquet(&out, e))?;
            }
            Ok(())
        })?;
        if let Some(cols) = columns {
            let stats = exact_stats(cols.names.len(), SUMMARY_BUDGET_BYTES, |emit| {
                for_each_part_batch(&dir, |_, batch| {
                    for (j, name) in cols.names.iter().enumerate() {
                        if let Some(c) = batch.column_by_name(name) {
                            for_each_number(c, |_, x| emit(j, x));
                        }
                    }
                    Ok(())
                })
            })?;
            stats_rows.add(spec.is_swept().then_some(point.sweep_id), &cols, stats);
        }
    }
    let (w, _) = writer.ok_or_else(|| {
        RunError::Settings(format!(
            "no outcome parts under {}",
            layout.outcome_parts().display()
        ))
    })?;
    w.close().map_err(|e| RunError::parquet(&out, e))?;
    commit(&out)?;
    stats_rows.write(
        &layout.dir.join("outcome_stats.parquet"),
        spec.is_swept(),
        kv,
    )?;
    Ok(merged)
}

impl OutcomeColumns {
    fn new(schema: &Schema) -> Self {
        let mut names = Vec::new();
        let mut classes = Vec::new();
        for f in schema.fields() {
            match f.data_type() {
                DataType::Float64 => names.push(f.name().clone()),
                DataType::Utf8 => classes.push((f.name().clone(), 0, 0, 0)),
                _ => {}
            }
        }
        OutcomeColumns { names, classes }
    }

    fn push(&mut self, batch: &RecordBatch) {
        for (name, ltd, ltp, total) in &mut self.classes {
            if let Some(c) = batch.column_by_name(name) {
                let s = c.as_string::<i32>();
                for i in 0..s.len() {
                    match s.value(i) {
                        "LTD" => *ltd += 1,
                        "LTP" => *ltp += 1,
                        _ => {}
                    }
                }
                *total += s.len() as u64;
            }
        }
    }
}

/// The rows of `outcome_stats.parquet`.
#[derive(Default)]
struct StatsRows {
    sweep_id: Vec<u64>,
    outcome: Vec<String>,
    stats: Vec<Stats>,
    ci: Vec<(f64, f64)>,
    /// P(LTD), its CI, P(LTP), its CI: on `NAME_pct` rows only.
    classes: Vec<Option<[f64; 6]>>,
}

impl StatsRows {
    /// Adds the rows of one sweep point: `stats` are those of the columns `cols.names`.
    fn add(&mut self, sweep_id: Option<u64>, cols: &OutcomeColumns, stats: Vec<Stats>) {
        for (name, s) in cols.names.iter().zip(stats) {
            self.sweep_id.push(sweep_id.unwrap_or(0));
            self.outcome.push(name.clone());
            self.ci.push(t_interval(s.mean, s.sd, s.n, 0.95));
            self.stats.push(s);
            let class = name
                .strip_suffix("_pct")
                .and_then(|base| cols.classes.iter().find(|c| c.0 == format!("{base}_class")));
            self.classes.push(class.map(|&(_, ltd, ltp, n)| {
                let (ltd_lo, ltd_hi) = wilson_interval(ltd, n, 0.95);
                let (ltp_lo, ltp_hi) = wilson_interval(ltp, n, 0.95);
                [
                    ltd as f64 / n as f64,
                    ltd_lo,
                    ltd_hi,
                    ltp as f64 / n as f64,
                    ltp_lo,
                    ltp_hi,
                ]
            }));
        }
    }

    fn write(&self, out: &Path, swept: bool, kv: &[(String, String)]) -> Result<(), RunError> {
        let mut fields = Vec::new();
        let mut arrays: Vec<ArrayRef> = Vec::new();
        if swept {
            fields.push(Field::new("sweep_id", DataType::UInt64, false));
            arrays.push(Arc::new(UInt64Array::from(self.sweep_id.clone())));
        }
        fields.push(Field::new("outcome", DataType::Utf8, false));
        arrays.push(Arc::new(StringArray::from(self.outcome.clone())));
        fields.push(Field::new("n", DataType::UInt64, false));
        arrays.push(Arc::new(UInt64Array::from_iter_values(
            self.stats.iter().map(|s| s.n),
        )));
        let mut float = |name: &str, values: Vec<f64>| {
            fields.push(Field::new(name, DataType::Float64, false));
            arrays.push(Arc::new(Float64Array::from(values)));
        };
        float("mean", self.stats.iter().map(|s| s.mean).collect());
        float("sd", self.stats.iter().map(|s| s.sd).collect());
        float("sem", self.stats.iter().map(|s| s.sem()).collect());
        float("mean_ci95_lo", self.ci.iter().map(|c| c.0).collect());
        float("mean_ci95_hi", self.ci.iter().map(|c| c.1).collect());
        for (k, (_, name)) in QUANTILES.iter().enumerate() {
            float(name, self.stats.iter().map(|s| s.quantiles[k]).collect());
        }
        for (k, name) in [
            "p_ltd",
            "p_ltd_ci95_lo",
            "p_ltd_ci95_hi",
            "p_ltp",
            "p_ltp_ci95_lo",
            "p_ltp_ci95_hi",
        ]
        .iter()
        .enumerate()
        {
            fields.push(Field::new(*name, DataType::Float64, true));
            arrays.push(Arc::new(Float64Array::from(
                self.classes
                    .iter()
                    .map(|c| c.map(|v| v[k]))
                    .collect::<Vec<Option<f64>>>(),
            )));
        }
        write_table(out, fields, arrays, kv)
    }
}

/// Writes `sweeps.parquet`: one row per sweep point.
fn write_sweeps(layout: &Layout, spec: &RunSpec, kv: &[(String, String)]) -> Result<(), RunError> {
    let n = spec.points.len();
    let mut fields = vec![Field::new("sweep_id", DataType::UInt64, false)];
    let mut arrays: Vec<ArrayRef> = vec![Arc::new(UInt64Array::from_iter_values(
        spec.points.iter().map(|p| p.sweep_id),
    ))];
    for (i, axis) in spec.axes.iter().enumerate() {
        if axis.kind == AxisKind::Value {
            let field = axis_field(spec, i);
            fields.push(field);
            arrays.push(Arc::new(Float64Array::from_iter_values(
                spec.points.iter().map(|p| p.numeric[i].unwrap_or(f64::NAN)),
            )));
        } else {
            fields.push(Field::new(&axis.name, DataType::Utf8, false));
            arrays.push(Arc::new(StringArray::from_iter_values(
                spec.points.iter().map(|p| p.values[i].clone()),
            )));
        }
    }
    fields.push(Field::new("t_end", DataType::Float64, false));
    arrays.push(Arc::new(Float64Array::from_iter_values(
        spec.points.iter().map(|p| p.t_end),
    )));
    debug_assert!(arrays.iter().all(|a| a.len() == n));
    write_table(&layout.dir.join("sweeps.parquet"), fields, arrays, kv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ranges_and_tiling() {
        assert_eq!(missing_ranges(&[(0, 4), (8, 10)], 12), [(4, 8), (10, 12)]);
        assert_eq!(missing_ranges(&[], 3), [(0, 3)]);
        assert!(check_tiling(&[(0, 4), (4, 10)], 10, Path::new("x")).is_ok());
        assert!(check_tiling(&[(0, 4), (2, 10)], 10, Path::new("x")).is_err());
    }
}
