//! The wide trajectory table: `run` (u64), `time` (f64, s), one column per recorded quantity
//! (Int64 for species and integer observables, Float64 otherwise). Rows are buffered until they
//! fill a row group of [`ROW_GROUP_RAW_BYTES`] of raw values (8 bytes a value, over all
//! columns); the row group is then encoded one column at a time, in data pages of at most
//! [`PAGE_BYTES`] of values over all columns, with a dictionary of at most [`DICTIONARY_BYTES`]:
//! only one column's encoder is alive at a time. Memory depends on neither the number of
//! trajectories nor (much) on the number of columns.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::{add_encoded_arrow_schema_to_metadata, ArrowSchemaConverter};
use parquet::data_type::{DoubleType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::EnabledStatistics;
use parquet::file::writer::{SerializedFileWriter, SerializedRowGroupWriter};

use super::{commit, partial_path, writer_properties};
use crate::error::RunError;
use crate::trajectory::Trajectory;

/// Bytes of the values of one data page over all columns (one column's page holds its share).
pub const PAGE_BYTES: usize = 1 << 18;

/// Bytes of a column's dictionary before it falls back to plain encoding (the dictionary of a
/// row group is held in memory).
pub const DICTIONARY_BYTES: usize = 1 << 13;

/// Bytes of raw values (8 a value, over all columns) of a row group: rows are buffered until
/// they fill one, then written out column by column. Each column's encoder holds a
/// dictionary hash table of fixed size (≈ 74 KB in parquet 60, whatever the data), so encoding
/// all columns of a row group at once, as `ArrowWriter` does, held ≈ 2 MB for 29 columns.
pub const ROW_GROUP_RAW_BYTES: usize = 1 << 19;

/// Row groups of a part file (see [`rows_per_part`]): the footer metadata of a part, kept in
/// memory until the part is closed, grows with its row groups.
pub const ROW_GROUPS_PER_PART: usize = 16;

/// Rows of `columns` 8-byte values that fit in `bytes` (at least 64).
fn rows_in(bytes: usize, columns: usize) -> usize {
    (bytes / (8 * columns.max(1))).max(64)
}

/// The default number of rows of a trajectory part file with `recorded` recorded columns (plus
/// `run` and `time`): [`ROW_GROUPS_PER_PART`] row groups.
pub fn rows_per_part(recorded: usize) -> u64 {
    (ROW_GROUPS_PER_PART * rows_in(ROW_GROUP_RAW_BYTES, recorded + 2)) as u64
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
    integer: Vec<bool>,
    times: Vec<f64>,
    rows_per_row_group: usize,
    writer: SerializedFileWriter<File>,
    run: Vec<i64>,
    time: Vec<f64>,
    values: Vec<Vec<f64>>,
    /// An integer column's values converted for the encoder (reused).
    as_integers: Vec<i64>,
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
        let parquet_schema = ArrowSchemaConverter::new()
            .convert(&schema)
            .map_err(|e| RunError::parquet(path, e))?;
        let n_fields = schema.fields().len();
        let rows_per_page = rows_in(PAGE_BYTES, n_fields);
        let rows_per_row_group = rows_in(ROW_GROUP_RAW_BYTES, n_fields);
        let mut properties = writer_properties(metadata)
            .into_builder()
            .set_data_page_row_count_limit(rows_per_page)
            .set_write_batch_size(rows_per_page.min(1024))
            .set_dictionary_page_size_limit(DICTIONARY_BYTES)
            // Statistics per column chunk, no page index: a chunk holds a few pages, and the
            // page index of every row group would stay in memory until the footer.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
            .build();
        // Readers (pyarrow, arrow-rs) take the Arrow types from this, e.g. `run` as UInt64.
        add_encoded_arrow_schema_to_metadata(&schema, &mut properties);
        let file = File::create(partial_path(path)).map_err(|e| RunError::io(path, e))?;
        let writer =
            SerializedFileWriter::new(file, parquet_schema.root_schema_ptr(), Arc::new(properties))
                .map_err(|e| RunError::parquet(path, e))?;
        let capacity = rows_per_row_group;
        Ok(TrajectoryWriter {
            path: path.to_path_buf(),
            integer: integer.to_vec(),
            times: times.to_vec(),
            rows_per_row_group,
            writer,
            run: Vec::with_capacity(capacity),
            time: Vec::with_capacity(capacity),
            values: vec![Vec::with_capacity(capacity); columns.len()],
            as_integers: Vec::with_capacity(capacity),
        })
    }

    /// Appends one trajectory's samples (writing out each row group as it fills).
    pub fn push(&mut self, t: &Trajectory) -> Result<(), RunError> {
        let n_cols = self.values.len();
        for row in 0..self.times.len() {
            self.run.push(t.run as i64);
            self.time.push(self.times[row]);
            for (c, col) in self.values.iter_mut().enumerate() {
                col.push(t.samples[row * n_cols + c]);
            }
            if self.run.len() == self.rows_per_row_group {
                self.flush()?;
            }
        }
        Ok(())
    }

    /// Writes the buffered rows as one row group, column by column.
    fn flush(&mut self) -> Result<(), RunError> {
        if self.run.is_empty() {
            return Ok(());
        }
        let mut group = self
            .writer
            .next_row_group()
            .map_err(|e| RunError::parquet(&self.path, e))?;
        let write = || -> Result<(), ParquetError> {
            // `run` is a UInt64 column: its bits as INT64, with the unsigned logical type.
            write_column::<Int64Type>(&mut group, &self.run)?;
            write_column::<DoubleType>(&mut group, &self.time)?;
            for (col, &int) in self.values.iter().zip(&self.integer) {
                if int {
                    self.as_integers.clear();
                    self.as_integers.extend(col.iter().map(|&x| x as i64));
                    write_column::<Int64Type>(&mut group, &self.as_integers)?;
                } else {
                    write_column::<DoubleType>(&mut group, col)?;
                }
            }
            group.close().map(|_| ())
        };
        write().map_err(|e| RunError::parquet(&self.path, e))?;
        self.run.clear();
        self.time.clear();
        for col in &mut self.values {
            col.clear();
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

/// Writes the next column of `group` (of physical type `T`, no nulls).
fn write_column<T: parquet::data_type::DataType>(
    group: &mut SerializedRowGroupWriter<'_, File>,
    values: &[T::T],
) -> Result<(), ParquetError> {
    let mut column = group
        .next_column()?
        .ok_or_else(|| ParquetError::General("more columns than the schema".into()))?;
    column.typed::<T>().write_batch(values, None, None)?;
    column.close()
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::AsArray;
    use arrow::datatypes::{Float64Type, Int64Type, UInt64Type};
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use parquet::file::reader::{FileReader, SerializedFileReader};

    /// Counts that compress to almost nothing still close a row group every
    /// [`ROW_GROUP_RAW_BYTES`] of raw values: 40 000 rows of 31 constant columns make 19 row
    /// groups of at most 2 114 rows, and the file reads back as written.
    #[test]
    fn row_groups_are_bounded_by_raw_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.parquet");
        let columns: Vec<String> = (0..29).map(|i| format!("S{i}")).collect();
        let integer: Vec<bool> = (0..columns.len()).map(|i| i % 2 == 0).collect();
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
        assert_eq!(cap, 2114);
        let meta = SerializedFileReader::new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .metadata()
            .clone();
        let rows: Vec<i64> = meta.row_groups().iter().map(|g| g.num_rows()).collect();
        assert_eq!(rows.iter().sum::<i64>(), 40_000);
        assert!(rows.iter().all(|&n| n as usize <= cap), "{rows:?}");
        assert_eq!(rows.len(), 19, "{rows:?}");

        let reader = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).unwrap())
            .unwrap()
            .build()
            .unwrap();
        let mut row = 0u64;
        for batch in reader {
            let batch = batch.unwrap();
            assert_eq!(batch.schema(), trajectory_schema(&columns, &integer));
            let run = batch.column(0).as_primitive::<UInt64Type>();
            let time = batch.column(1).as_primitive::<Float64Type>();
            for i in 0..batch.num_rows() {
                assert_eq!(run.value(i), (row + i as u64) / 100);
                assert_eq!(time.value(i), ((row + i as u64) % 100) as f64);
            }
            assert!(batch
                .column(2)
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .all(|&v| v == 7));
            assert!(batch
                .column(3)
                .as_primitive::<Float64Type>()
                .values()
                .iter()
                .all(|&v| v == 7.0));
            row += batch.num_rows() as u64;
        }
        assert_eq!(row, 40_000);
    }
}
