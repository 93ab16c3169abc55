//! The wide trajectory table: `run` (u64), `time` (f64, s), one column per recorded quantity
//! (Int64 for species and integer observables, Float64 otherwise). Rows are buffered in
//! batches of [`BATCH_BYTES`] (8 bytes a value), encoded in data pages whose buffered values
//! take at most [`PAGE_BYTES`] over all columns, with dictionaries of at most
//! [`DICTIONARY_BYTES`] per column, and a row group is written out once its encoded data reach
//! [`ROW_GROUP_BYTES`] or its raw values [`ROW_GROUP_RAW_BYTES`]: memory depends on neither the
//! number of trajectories nor (much) on the number of columns.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;

use super::{commit, partial_path, writer_properties};
use crate::error::RunError;
use crate::trajectory::Trajectory;

/// Bytes of rows buffered (over all columns) before they are encoded.
pub const BATCH_BYTES: usize = 1 << 18;

/// Bytes of the values of one data page over all columns (the encoder buffers a page's values
/// per column, 8 bytes each).
pub const PAGE_BYTES: usize = 1 << 18;

/// Bytes of a column's dictionary before it falls back to plain encoding (the dictionary of a
/// row group is held in memory).
pub const DICTIONARY_BYTES: usize = 1 << 13;

/// Encoded bytes of a row group held in memory before it is written to the file.
pub const ROW_GROUP_BYTES: usize = 1 << 18;

/// Bytes of raw values (8 a value, over all columns) a row group holds before it is written out,
/// whatever their encoded size. The writer keeps the open row group's compressed pages in
/// memory, and on counts that compress well its size estimate is ≈ 7× below what they occupy
/// (≈ 3 against ≈ 24 bytes per 31-column row, measured with massif), so the encoded bound alone
/// let memory grow with the rows of a part file.
pub const ROW_GROUP_RAW_BYTES: usize = 1 << 21;

/// Rows of `columns` 8-byte values that fit in `bytes` (at least 64).
fn rows_in(bytes: usize, columns: usize) -> usize {
    (bytes / (8 * columns.max(1))).max(64)
}

/// The schema of a trajectory table.
pub fn trajectory_schema(columns: &[String], integer: &[bool]) -> SchemaRef {
    let mut fields = vec![
        Field::new("run", DataType::UInt64, false),
        Field::new("time", DataType::Float64, false),
    ];
    for (name, &int) in columns.iter().zip(integer) {
        let ty = if int {
            DataType::Int64
        } else {
            DataType::Float64
        };
        fields.push(Field::new(name, ty, false));
    }
    Arc::new(Schema::new(fields))
}

/// Streams trajectories into one Parquet file.
pub struct TrajectoryWriter {
    path: PathBuf,
    schema: SchemaRef,
    integer: Vec<bool>,
    times: Vec<f64>,
    rows_per_batch: usize,
    writer: ArrowWriter<File>,
    run: Vec<u64>,
    time: Vec<f64>,
    values: Vec<Vec<f64>>,
}

impl std::fmt::Debug for TrajectoryWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrajectoryWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TrajectoryWriter {
    /// Starts `path` (written as `path.partial` until [`TrajectoryWriter::finish`]).
    pub fn create(
        path: &Path,
        columns: &[String],
        integer: &[bool],
        times: &[f64],
        metadata: &[(String, String)],
    ) -> Result<Self, RunError> {
        let schema = trajectory_schema(columns, integer);
        let file = File::create(partial_path(path)).map_err(|e| RunError::io(path, e))?;
        let rows_per_page = rows_in(PAGE_BYTES, schema.fields().len());
        let rows_per_batch = rows_in(BATCH_BYTES, schema.fields().len());
        let rows_per_row_group = rows_in(ROW_GROUP_RAW_BYTES, schema.fields().len());
        let properties = writer_properties(metadata)
            .into_builder()
            .set_data_page_row_count_limit(rows_per_page)
            .set_write_batch_size(rows_per_page.min(1024))
            .set_dictionary_page_size_limit(DICTIONARY_BYTES)
            .set_max_row_group_row_count(Some(rows_per_row_group))
            .build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
            .map_err(|e| RunError::parquet(path, e))?;
        Ok(TrajectoryWriter {
            path: path.to_path_buf(),
            schema,
            integer: integer.to_vec(),
            times: times.to_vec(),
            rows_per_batch,
            writer,
            run: Vec::new(),
            time: Vec::new(),
            values: vec![Vec::new(); columns.len()],
        })
    }

    /// Appends one trajectory's samples.
    pub fn push(&mut self, t: &Trajectory) -> Result<(), RunError> {
        let n_cols = self.values.len();
        for (row, &time) in self.times.iter().enumerate() {
            self.run.push(t.run);
            self.time.push(time);
            for (c, col) in self.values.iter_mut().enumerate() {
                col.push(t.samples[row * n_cols + c]);
            }
        }
        if self.run.len() >= self.rows_per_batch {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), RunError> {
        if self.run.is_empty() {
            return Ok(());
        }
        let mut arrays: Vec<ArrayRef> = vec![
            Arc::new(UInt64Array::from(std::mem::take(&mut self.run))),
            Arc::new(Float64Array::from(std::mem::take(&mut self.time))),
        ];
        for (col, &int) in self.values.iter_mut().zip(&self.integer) {
            let v = std::mem::take(col);
            arrays.push(if int {
                Arc::new(Int64Array::from_iter_values(
                    v.into_iter().map(|x| x as i64),
                ))
            } else {
                Arc::new(Float64Array::from(v))
            });
        }
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| RunError::parquet(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| RunError::parquet(&self.path, e))?;
        if self.writer.in_progress_size() > ROW_GROUP_BYTES {
            self.writer
                .flush()
                .map_err(|e| RunError::parquet(&self.path, e))?;
        }
        Ok(())
    }

    /// Writes the remaining rows, adds final metadata, closes and renames the file.
    pub fn finish(mut self, extra: &[(String, String)]) -> Result<(), RunError> {
        self.flush()?;
        for (k, v) in extra {
            self.writer
                .append_key_value_metadata(KeyValue::new(k.clone(), v.clone()));
        }
        self.writer
            .close()
            .map_err(|e| RunError::parquet(&self.path, e))?;
        commit(&self.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// Counts that compress to almost nothing still close a row group every
    /// [`ROW_GROUP_RAW_BYTES`] of raw values: 40 000 rows of 31 constant columns make five row
    /// groups of at most 8 456 rows (the encoded bound alone kept them in one).
    #[test]
    fn row_groups_are_bounded_by_raw_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let columns: Vec<String> = (0..29).map(|i| format!("S{i}")).collect();
        let integer = vec![true; columns.len()];
        let times: Vec<f64> = (0..100).map(f64::from).collect();
        let mut w = TrajectoryWriter::create(&path, &columns, &integer, &times, &[]).unwrap();
        for run in 0..400 {
            let t = Trajectory {
                run,
                samples: vec![7.0; times.len() * columns.len()],
                ..Default::default()
            };
            w.push(&t).unwrap();
        }
        w.finish(&[]).unwrap();
        let cap = rows_in(ROW_GROUP_RAW_BYTES, columns.len() + 2);
        assert_eq!(cap, 8456);
        let meta = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .metadata()
            .clone();
        let rows: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(rows.iter().sum::<i64>(), 40_000);
        assert!(rows.iter().all(|&n| n as usize <= cap), "{rows:?}");
        assert_eq!(rows.len(), 5, "{rows:?}");
    }
}
