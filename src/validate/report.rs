//! The validation report: one row per checked quantity, written as Markdown and Parquet.

use std::fmt::Write as _;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Float64Array, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;

use crate::error::RunError;
use crate::output::stats::wilson_interval;
use crate::output::{commit, partial_path, writer_properties};

/// One line of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Target id, e.g. `V1`.
    pub target: String,
    /// What is checked.
    pub check: String,
    /// The ensemble(s) it is computed from.
    pub condition: String,
    /// The simulation method of those ensembles (`direct`, `slow-scale`); empty for a row
    /// computed from other rows.
    pub method: String,
    /// The contract, in words.
    pub expected: String,
    /// Trajectories.
    pub n: u64,
    /// Ensemble mean of the checked quantity (NaN if not applicable).
    pub mean: f64,
    /// Lower end of its 95 % CI.
    pub ci_low: f64,
    /// Upper end of its 95 % CI.
    pub ci_high: f64,
    /// Fraction of trajectories classified LTD (NaN if not applicable).
    pub p_ltd: f64,
    /// Fraction classified LTP.
    pub p_ltp: f64,
    /// The result, in words.
    pub got: String,
    /// Pass / fail; `None` for information rows and targets not evaluated.
    pub pass: Option<bool>,
}

impl Row {
    /// A row with no numbers (a summary check or a target not evaluated).
    pub fn verdict(
        target: &str,
        check: &str,
        expected: &str,
        got: String,
        pass: Option<bool>,
    ) -> Row {
        Row {
            target: target.into(),
            check: check.into(),
            condition: String::new(),
            method: String::new(),
            expected: expected.into(),
            n: 0,
            mean: f64::NAN,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
            p_ltd: f64::NAN,
            p_ltp: f64::NAN,
            got,
            pass,
        }
    }
}

/// One ensemble the validation ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Ensemble {
    /// The condition (protocol, variants, settings, simulated time).
    pub condition: String,
    /// The simulation method (`direct`, `slow-scale`).
    pub method: String,
    /// Trajectories.
    pub trajectories: u64,
    /// Reaction events (for the slow-scale SSA: the slow events it fired).
    pub events: u64,
    /// Slow-scale SSA: the smallest separation of time scales seen (see docs/slow_scale.md).
    pub slow_scale_separation: Option<f64>,
    /// Wall time of its simulation (s), in whichever run simulated it.
    pub seconds: f64,
    /// Read back from the validation cache (`--cache`) instead of simulated in this run.
    pub cached: bool,
}

/// The whole report.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The rows, in target order.
    pub rows: Vec<Row>,
    /// Ensembles run, in order.
    pub ensembles: Vec<Ensemble>,
    /// Wall time (s).
    pub wall_seconds: f64,
    /// The command line.
    pub command: String,
    /// Quick mode.
    pub quick: bool,
}

impl Report {
    /// Rows that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.pass == Some(false))
    }

    /// Each method that ran, with the targets whose rows were computed from its ensembles (in
    /// report order; a target appears under every method it used).
    pub fn methods(&self) -> Vec<(String, Vec<String>)> {
        let mut methods: Vec<(String, Vec<String>)> = Vec::new();
        for r in self.rows.iter().filter(|r| !r.method.is_empty()) {
            let targets = match methods.iter_mut().find(|(m, _)| *m == r.method) {
                Some((_, targets)) => targets,
                None => {
                    methods.push((r.method.clone(), Vec::new()));
                    &mut methods.last_mut().expect("just pushed").1
                }
            };
            if !targets.contains(&r.target) {
                targets.push(r.target.clone());
            }
        }
        methods
    }

    /// The report as Markdown.
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# spinesim validation report{}\n",
            if self.quick { " (quick)" } else { "" }
        );
        let _ = writeln!(s, "Command: `{}`  ", self.command);
        let _ = writeln!(
            s,
            "Wall time: {:.0} s for {} ensembles, {} trajectories, {:.3e} reaction events.  ",
            self.wall_seconds,
            self.ensembles.len(),
            self.ensembles.iter().map(|e| e.trajectories).sum::<u64>(),
            self.ensembles.iter().map(|e| e.events as f64).sum::<f64>()
        );
        let cached: Vec<&Ensemble> = self.ensembles.iter().filter(|e| e.cached).collect();
        if !cached.is_empty() {
            let _ = writeln!(
                s,
                "Of these, {} ensembles were read from the cache (`--cache`); simulating them took \
                 {:.0} s of wall time in earlier runs, so the whole validation took {:.0} s.  ",
                cached.len(),
                cached.iter().map(|e| e.seconds).sum::<f64>(),
                self.wall_seconds + cached.iter().map(|e| e.seconds).sum::<f64>()
            );
        }
        for (method, targets) in self.methods() {
            let ensembles = self.ensembles.iter().filter(|e| e.method == method);
            let _ = writeln!(
                s,
                "Method {method}: {} ({} ensembles).  ",
                targets.join(", "),
                ensembles.count()
            );
        }
        let separation = self
            .ensembles
            .iter()
            .filter_map(|e| e.slow_scale_separation)
            .fold(f64::INFINITY, f64::min);
        if separation.is_finite() {
            let _ = writeln!(
                s,
                "The slow-scale SSA averages the reactions marked `fast = true` over their \
                 stationary law (approximate; its event counts are slow events only). Smallest \
                 separation of time scales seen: {separation:.2e} (a fast pair's relaxation rate / \
                 the slow propensity touching it; below 1 during NMDA pulses, see \
                 docs/slow_scale.md).  "
            );
        }
        let (pass, fail, info) = self
            .rows
            .iter()
            .fold((0, 0, 0), |(p, f, i), r| match r.pass {
                Some(true) => (p + 1, f, i),
                Some(false) => (p, f + 1, i),
                None => (p, f, i + 1),
            });
        let _ = writeln!(
            s,
            "Checks: {pass} pass, {fail} fail, {info} information or not evaluated.\n"
        );
        let _ = writeln!(
            s,
            "Means are ensemble means with Student t 95 % CIs; P(LTD), P(LTP) are fractions of \
             trajectories below -10 % / above +10 % (their Wilson 95 % CIs are in the Parquet \
             file). \"vs sham\" is the mean % change minus that of the same variant without \
             stimulation over the same time (Welch CI).\n"
        );
        let _ = writeln!(s, "| target | check | condition | method | expected | n | mean [95 % CI] | P(LTD) | P(LTP) | got | pass |");
        let _ = writeln!(s, "|---|---|---|---|---|---|---|---|---|---|---|");
        for r in &self.rows {
            let num = |x: f64| {
                if x.is_nan() {
                    String::new()
                } else {
                    format!("{x:.3}")
                }
            };
            let mean = if r.mean.is_nan() {
                String::new()
            } else {
                format!("{:.2} [{:.2}, {:.2}]", r.mean, r.ci_low, r.ci_high)
            };
            let pass = match r.pass {
                Some(true) => "pass",
                Some(false) => "**FAIL**",
                None => "-",
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                r.target,
                r.check,
                r.condition,
                r.method,
                r.expected,
                if r.n == 0 {
                    String::new()
                } else {
                    r.n.to_string()
                },
                mean,
                num(r.p_ltd),
                num(r.p_ltp),
                r.got,
                pass
            );
        }
        let _ = writeln!(
            s,
            "\n## Ensembles\n\n| condition | method | trajectories | reaction events | \
             slow-scale separation | wall time (s) |\n|---|---|---|---|---|---|"
        );
        for e in &self.ensembles {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {:.3e} | {} | {:.0}{} |",
                e.condition,
                e.method,
                e.trajectories,
                e.events as f64,
                e.slow_scale_separation
                    .map_or(String::new(), |x| format!("{x:.2e}")),
                e.seconds,
                if e.cached { " (cached)" } else { "" }
            );
        }
        s
    }

    /// Writes `validation.md` and `validation.parquet` into `dir` (each atomically).
    pub fn write(&self, dir: &Path) -> Result<(), RunError> {
        std::fs::create_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
        let md = dir.join("validation.md");
        std::fs::write(partial_path(&md), self.markdown()).map_err(|e| RunError::io(&md, e))?;
        commit(&md)?;
        let pq = dir.join("validation.parquet");
        self.write_parquet(&partial_path(&pq))
            .map_err(|e| RunError::io(&pq, std::io::Error::other(e.to_string())))?;
        commit(&pq)
    }

    fn write_parquet(&self, path: &Path) -> Result<(), Box<dyn std::error::Error>> {
        let strings = |f: fn(&Row) -> &str| -> ArrayRef {
            Arc::new(StringArray::from_iter_values(self.rows.iter().map(f)))
        };
        let floats = |f: fn(&Row) -> f64| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(self.rows.iter().map(f)))
        };
        // The Wilson 95 % CI of a fraction of the row's n trajectories: (low, high) picks an end.
        let wilson = |f: fn(&Row) -> f64, high: bool| -> ArrayRef {
            Arc::new(Float64Array::from_iter_values(self.rows.iter().map(|r| {
                let p = f(r);
                if !p.is_finite() || r.n == 0 {
                    return f64::NAN;
                }
                let (lo, hi) = wilson_interval((p * r.n as f64).round() as u64, r.n, 0.95);
                if high {
                    hi
                } else {
                    lo
                }
            })))
        };
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("target", strings(|r| &r.target)),
            ("check", strings(|r| &r.check)),
            ("condition", strings(|r| &r.condition)),
            ("method", strings(|r| &r.method)),
            ("expected", strings(|r| &r.expected)),
            (
                "n",
                Arc::new(UInt64Array::from_iter_values(self.rows.iter().map(|r| r.n))),
            ),
            ("mean", floats(|r| r.mean)),
            ("ci_low", floats(|r| r.ci_low)),
            ("ci_high", floats(|r| r.ci_high)),
            ("p_ltd", floats(|r| r.p_ltd)),
            ("p_ltd_low", wilson(|r| r.p_ltd, false)),
            ("p_ltd_high", wilson(|r| r.p_ltd, true)),
            ("p_ltp", floats(|r| r.p_ltp)),
            ("p_ltp_low", wilson(|r| r.p_ltp, false)),
            ("p_ltp_high", wilson(|r| r.p_ltp, true)),
            ("got", strings(|r| &r.got)),
            (
                "pass",
                Arc::new(BooleanArray::from(
                    self.rows.iter().map(|r| r.pass).collect::<Vec<_>>(),
                )),
            ),
        ];
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| {
                    Field::new(
                        *n,
                        a.data_type().clone(),
                        *n == "pass" || a.data_type() == &DataType::Float64,
                    )
                })
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )?;
        let props = writer_properties(&[
            ("spinesim.version".into(), env!("CARGO_PKG_VERSION").into()),
            ("spinesim.command".into(), self.command.clone()),
        ]);
        let mut w = ArrowWriter::try_new(File::create(path)?, schema, Some(props))?;
        w.write(&batch)?;
        w.close()?;
        Ok(())
    }
}
