//! `outcomes.parquet`: one row per trajectory — `run`, `seed`, `events`, then per outcome either
//! one Float64 column (peak, min, mean, integral) or four (`NAME_baseline`, `NAME_final`,
//! `NAME_pct`, and `NAME_class` = "LTD" / "LTP" / "none") for a relative change.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;

use super::{commit, partial_path, writer_properties};
use crate::error::RunError;
use crate::model::OutcomeKind;
use crate::outcome::{OutcomePlan, OutcomeValue};
use crate::trajectory::Trajectory;

const ROWS_PER_BATCH: usize = 8192;

/// Streams outcome rows into `outcomes.parquet`.
pub struct OutcomesWriter {
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
    run: Vec<u64>,
    seed: Vec<u64>,
    events: Vec<u64>,
    numbers: Vec<Vec<f64>>,
    classes: Vec<Vec<&'static str>>,
}

impl std::fmt::Debug for OutcomesWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutcomesWriter")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl OutcomesWriter {
    /// Starts `path` for the outcomes of `plan`.
    pub fn create(
        path: &Path,
        plan: &OutcomePlan,
        metadata: &[(String, String)],
    ) -> Result<Self, RunError> {
        let mut fields = vec![
            Field::new("run", DataType::UInt64, false),
            Field::new("seed", DataType::UInt64, false),
            Field::new("events", DataType::UInt64, false),
        ];
        let (mut n_numbers, mut n_classes) = (0, 0);
        for (name, kind) in plan.names().iter().zip(plan.kinds()) {
            if matches!(kind, OutcomeKind::RelativeChange { .. }) {
                for suffix in ["baseline", "final", "pct"] {
                    fields.push(Field::new(
                        format!("{name}_{suffix}"),
                        DataType::Float64,
                        false,
                    ));
                }
                fields.push(Field::new(format!("{name}_class"), DataType::Utf8, false));
                n_numbers += 3;
                n_classes += 1;
            } else {
                fields.push(Field::new(name, DataType::Float64, false));
                n_numbers += 1;
            }
        }
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(partial_path(path)).map_err(|e| RunError::io(path, e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(writer_properties(metadata)))
            .map_err(|e| RunError::parquet(path, e))?;
        Ok(OutcomesWriter {
            path: path.to_path_buf(),
            schema,
            writer,
            run: Vec::new(),
            seed: Vec::new(),
            events: Vec::new(),
            numbers: vec![Vec::new(); n_numbers],
            classes: vec![Vec::new(); n_classes],
        })
    }

    /// Appends one trajectory's outcomes.
    pub fn push(&mut self, t: &Trajectory) -> Result<(), RunError> {
        self.run.push(t.run);
        self.seed.push(t.seed);
        self.events.push(t.events);
        let (mut n, mut c) = (0, 0);
        for value in &t.outcomes {
            match *value {
                OutcomeValue::Change {
                    baseline,
                    last,
                    percent,
                    class,
                } => {
                    for x in [baseline, last, percent] {
                        self.numbers[n].push(x);
                        n += 1;
                    }
                    self.classes[c].push(class.label());
                    c += 1;
                }
                OutcomeValue::Scalar(x) => {
                    self.numbers[n].push(x);
                    n += 1;
                }
            }
        }
        if self.run.len() >= ROWS_PER_BATCH {
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
            Arc::new(UInt64Array::from(std::mem::take(&mut self.seed))),
            Arc::new(UInt64Array::from(std::mem::take(&mut self.events))),
        ];
        // Columns in schema order: walk the fields and take from the numbers/classes queues.
        let (mut n, mut c) = (0, 0);
        for field in self.schema.fields().iter().skip(3) {
            if field.data_type() == &DataType::Utf8 {
                arrays.push(Arc::new(StringArray::from(std::mem::take(
                    &mut self.classes[c],
                ))));
                c += 1;
            } else {
                arrays.push(Arc::new(Float64Array::from(std::mem::take(
                    &mut self.numbers[n],
                ))));
                n += 1;
            }
        }
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| RunError::parquet(&self.path, e))?;
        self.writer
            .write(&batch)
            .map_err(|e| RunError::parquet(&self.path, e))
    }

    /// Writes the remaining rows, closes and renames the file.
    pub fn finish(mut self) -> Result<(), RunError> {
        self.flush()?;
        self.writer
            .close()
            .map_err(|e| RunError::parquet(&self.path, e))?;
        commit(&self.path)
    }
}
