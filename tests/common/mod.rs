//! Shared helpers for the integration tests: building models from TOML text, simulating
//! trajectories, and the goodness-of-fit statistics the statistical tests use.
//!
//! Every statistical helper returns the statistic (and where meaningful the p-value) and leaves
//! the decision to the caller, which states its α next to the assertion.

#![allow(dead_code)]

use std::fs::File;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type, Int64Type, UInt64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use spinesim::ensemble::trajectory_rng;
use spinesim::model::{parse_model, Model};
use spinesim::network::Network;
use spinesim::simulator::{AnySimulator, MethodRequest, SimStats, Simulator};
use spinesim::trajectory::{RunPlan, Trajectory, Worker};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// Every record batch of a Parquet file (panics naming the file on error).
pub fn read_batches(path: &Path) -> Vec<RecordBatch> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .build()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first record batch of a Parquet file (the whole table for the small reports).
pub fn first_batch(path: &Path) -> RecordBatch {
    read_batches(path)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{}: no rows", path.display()))
}

/// Cell `i` of a column as an exact string: integers in decimal, floats as their 16 hex digits of
/// bits, strings as they are, nulls as `null` (for bit-for-bit comparisons of outputs).
pub fn exact_cell(a: &ArrayRef, i: usize) -> String {
    if a.is_null(i) {
        return "null".into();
    }
    match a.data_type() {
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i).to_string(),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Float64 => format!(
            "{:016x}",
            a.as_primitive::<Float64Type>().value(i).to_bits()
        ),
        DataType::Utf8 => a.as_string::<i32>().value(i).to_string(),
        other => panic!("unexpected column type {other}"),
    }
}

/// Molecules per µM in 1 fL.
pub const NAV_1FL: f64 = 602.214076;

/// Parses a model from TOML text (panics with the loader's diagnostics on error).
pub fn model(text: &str) -> Model {
    match parse_model(text, Path::new("test_model.toml")) {
        Ok(m) => m,
        Err(e) => panic!("test model does not load:\n{e}\n--- text ---\n{text}"),
    }
}

/// Loads a shipped model from `models/` (relative to the crate root).
pub fn shipped_model(file: &str) -> Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(file);
    spinesim::model::load_model(&path)
        .unwrap_or_else(|e| panic!("{} does not load:\n{e}", path.display()))
}

/// The TOML of the birth–death process `-> X` (propensity exactly `k` events/s in 1 fL, the
/// zero-order rate given in µM/s) and `X ->` at `gamma` /s, starting from `x0`.
pub fn birth_death_toml(k: f64, gamma: f64, x0: i64) -> String {
    // `{:?}` prints the shortest decimal that reads back to the same f64.
    let k_um = k / NAV_1FL;
    format!(
        r#"
[model]
name = "bd"
record = ["X"]
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "X"
initial = {x0}
[[reactions]]
name = "birth"
equation = "-> X"
rate = "{k_um:?} uM/s"
[[reactions]]
name = "death"
equation = "X ->"
rate = "{gamma:?} /s"
"#
    )
}

/// The TOML of the reversible dimerisation `2 A -> B` (propensity c₁ A(A − 1), so the
/// macroscopic rate in 1 fL is c₁ × NAV) and `B -> 2 A` at `c2` /s, from A = `a0`, B = 0.
pub fn dimerisation_toml(c1: f64, c2: f64, a0: i64) -> String {
    let k1 = c1 * NAV_1FL;
    format!(
        r#"
[model]
name = "dimer"
record = ["A", "B"]
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "A"
initial = {a0}
[[species]]
name = "B"
initial = 0
[[reactions]]
name = "dimerise"
equation = "2 A -> B"
rate = "{k1:?} uM^-1 s^-1"
[[reactions]]
name = "split"
equation = "B -> 2 A"
rate = "{c2:?} /s"
"#
    )
}

/// A compiled model with a run plan, ready to simulate many trajectories.
pub struct Setup {
    /// The model.
    pub model: Model,
    /// Its network.
    pub net: Network,
    /// The plan.
    pub plan: RunPlan,
    /// The method [`Setup::run`] simulates with (the direct method unless changed).
    pub method: MethodRequest,
}

/// Every exact method: the statistical tests run each of them.
pub const EXACT_METHODS: [MethodRequest; 2] = [MethodRequest::Direct, MethodRequest::NextReaction];

impl Setup {
    /// Compiles `model` and plans a run of `protocol` (by name) to `t_end`.
    pub fn new(model: Model, protocol: Option<&str>, t_end: f64, record_every: f64) -> Setup {
        let net = Network::compile(&model);
        let proto = protocol.map(|p| {
            model
                .protocol(p)
                .unwrap_or_else(|| panic!("no protocol '{p}'"))
        });
        let plan = RunPlan::new(&model, &net, proto, t_end, record_every).expect("valid plan");
        Setup {
            model,
            net,
            plan,
            method: MethodRequest::Direct,
        }
    }

    /// The same setup simulating with `method`.
    pub fn with_method(mut self, method: MethodRequest) -> Setup {
        self.method = method;
        self
    }

    /// Index of a recorded column.
    pub fn column(&self, name: &str) -> usize {
        self.plan
            .columns
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no recorded column '{name}' in {:?}", self.plan.columns))
    }

    /// Index of a recording time (exact match of `k × record_every`).
    pub fn row_at(&self, t: f64) -> usize {
        let k = (t / self.plan.record_every).round() as usize;
        assert!(
            (self.plan.record_times[k] - t).abs() < 1e-9,
            "{t} s is not a recording time"
        );
        k
    }

    /// Simulates trajectories `0..runs` with the generators `trajectory_rng(seed, i)` on one
    /// worker with [`Setup::method`], handing each to `f`.
    pub fn run(&self, seed: u64, runs: u64, f: impl FnMut(&Trajectory)) {
        self.run_method(self.method, seed, runs, f);
    }

    /// Like [`Setup::run`] with the method `request`; returns the simulator's counters.
    pub fn run_method(
        &self,
        request: MethodRequest,
        seed: u64,
        runs: u64,
        mut f: impl FnMut(&Trajectory),
    ) -> SimStats {
        let sim = AnySimulator::new(request, &self.net).expect("method runs this network");
        let mut worker = Worker::new(&self.net, &self.plan, sim);
        let mut out = Trajectory::default();
        for i in 0..runs {
            out.run = i;
            worker
                .simulate(&mut trajectory_rng(seed, i), &mut out)
                .expect("trajectory simulates");
            f(&out);
        }
        worker.simulator().stats()
    }

    /// Column `col` at recording time `time` of many trajectories simulated with `request`,
    /// and the simulator's counters.
    pub fn collect_method(
        &self,
        request: MethodRequest,
        seed: u64,
        runs: u64,
        time: f64,
        col: usize,
    ) -> (Vec<f64>, SimStats) {
        let row = self.row_at(time);
        let mut values = Vec::with_capacity(runs as usize);
        let stats = self.run_method(request, seed, runs, |t| {
            values.push(self.value(t, row, col))
        });
        (values, stats)
    }

    /// One trajectory (run 0 of `seed`).
    pub fn one(&self, seed: u64) -> Trajectory {
        let mut t = Trajectory::default();
        self.run(seed, 1, |out| t = out.clone());
        t
    }

    /// Value of column `col` at row `row` of a trajectory.
    pub fn value(&self, t: &Trajectory, row: usize, col: usize) -> f64 {
        t.samples[row * self.plan.columns.len() + col]
    }

    /// Column `col` of many trajectories at recording time `time`, one value per trajectory.
    pub fn collect_at(&self, seed: u64, runs: u64, times: &[f64], col: usize) -> Vec<Vec<f64>> {
        let rows: Vec<usize> = times.iter().map(|&t| self.row_at(t)).collect();
        let mut values = vec![Vec::with_capacity(runs as usize); times.len()];
        self.run(seed, runs, |t| {
            for (v, &r) in values.iter_mut().zip(&rows) {
                v.push(self.value(t, r, col));
            }
        });
        values
    }
}

/// Converts recorded counts (exact integers stored as f64) to u64, checking they are counts.
pub fn as_counts(values: &[f64]) -> Vec<u64> {
    values
        .iter()
        .map(|&v| {
            assert!(v >= 0.0 && v.fract() == 0.0, "not a count: {v}");
            v as u64
        })
        .collect()
}

/// Two-sided standard-normal critical value for level `alpha`: z_{1−α/2}.
pub fn z_critical(alpha: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .unwrap()
        .inverse_cdf(1.0 - alpha / 2.0)
}

/// z statistic of the sample mean against a known mean and a known per-sample standard
/// deviation: (x̄ − μ) / (σ / √n).
pub fn z_mean(samples: &[f64], mean: f64, sd: f64) -> f64 {
    let n = samples.len() as f64;
    let xbar = samples.iter().sum::<f64>() / n;
    (xbar - mean) / (sd / n.sqrt())
}

/// Kolmogorov–Smirnov statistic D_n = sup |F_n − F| of `samples` against a continuous CDF.
pub fn ks_statistic(samples: &[f64], cdf: impl Fn(f64) -> f64) -> f64 {
    let mut x = samples.to_vec();
    x.sort_by(f64::total_cmp);
    let n = x.len() as f64;
    x.iter()
        .enumerate()
        .map(|(i, &xi)| {
            let f = cdf(xi);
            (f - i as f64 / n).max((i + 1) as f64 / n - f)
        })
        .fold(0.0, f64::max)
}

/// Asymptotic KS critical value: reject when D_n > c(α)/√n with c(α) = √(−ln(α/2)/2)
/// (c = 1.949 for α = 0.001; accurate for n ≳ 100).
pub fn ks_critical(alpha: f64, n: usize) -> f64 {
    (-(alpha / 2.0).ln() / 2.0).sqrt() / (n as f64).sqrt()
}

/// Two-sample Kolmogorov–Smirnov statistic sup |F_x − F_y| (ties handled: both empirical CDFs
/// are evaluated after every distinct value).
pub fn ks_two_sample(x: &[f64], y: &[f64]) -> f64 {
    let mut x = x.to_vec();
    let mut y = y.to_vec();
    x.sort_by(f64::total_cmp);
    y.sort_by(f64::total_cmp);
    let (n, m) = (x.len() as f64, y.len() as f64);
    let (mut i, mut j, mut d) = (0usize, 0usize, 0.0f64);
    while i < x.len() && j < y.len() {
        let v = x[i].min(y[j]);
        while i < x.len() && x[i] <= v {
            i += 1;
        }
        while j < y.len() && y[j] <= v {
            j += 1;
        }
        d = d.max((i as f64 / n - j as f64 / m).abs());
    }
    d
}

/// Asymptotic two-sample KS critical value at level `alpha` for sizes `n` and `m`:
/// c(α) √((n + m)/(n m)) with c(α) = √(−ln(α/2)/2) (1.949 for α = 0.001). Conservative for
/// discrete data (ties only make D smaller in distribution).
pub fn ks_two_sample_critical(alpha: f64, n: usize, m: usize) -> f64 {
    let (n, m) = (n as f64, m as f64);
    (-(alpha / 2.0).ln() / 2.0).sqrt() * ((n + m) / (n * m)).sqrt()
}

/// Sample mean and (unbiased) sample variance.
pub fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

/// The result of a chi-square goodness-of-fit test.
#[derive(Debug, Clone)]
pub struct ChiSquare {
    /// Σ (O − E)² / E over the bins.
    pub statistic: f64,
    /// Degrees of freedom: bins − 1 (no fitted parameters).
    pub df: usize,
    /// P(χ²_df ≥ statistic).
    pub p_value: f64,
    /// Bins as (first value, last value or `u64::MAX` for the open tail, observed, expected).
    pub bins: Vec<(u64, u64, u64, f64)>,
}

/// Chi-square goodness of fit of integer `samples` against the discrete distribution with CDF
/// `cdf(k) = P(X ≤ k)` on {0, 1, 2, …}. Values are pooled left to right into bins with expected
/// count ≥ 5; the last bin is the open right tail (its expected count is ≥ 5 too), so the left
/// tail is pooled into the first bin and the right tail into the last.
pub fn chi_square_discrete(samples: &[u64], cdf: impl Fn(u64) -> f64) -> ChiSquare {
    let n = samples.len() as f64;
    // Bin edges: bins [lo_i, hi_i]; the last one is [lo, ∞).
    let mut edges: Vec<(u64, u64, f64)> = Vec::new();
    let mut lo = 0u64;
    let mut below = 0.0; // P(X < lo)
    let mut k = 0u64;
    loop {
        let ck = cdf(k);
        let tail = n * (1.0 - ck);
        if n * (ck - below) >= 5.0 && tail >= 5.0 {
            edges.push((lo, k, n * (ck - below)));
            lo = k + 1;
            below = ck;
        } else if tail < 5.0 {
            edges.push((lo, u64::MAX, n * (1.0 - below)));
            break;
        }
        k += 1;
    }
    assert!(edges.len() >= 2, "too few samples for a chi-square test");
    let mut observed = vec![0u64; edges.len()];
    for &s in samples {
        let b = edges.iter().position(|&(_, hi, _)| s <= hi).unwrap();
        observed[b] += 1;
    }
    let statistic = edges
        .iter()
        .zip(&observed)
        .map(|(&(_, _, e), &o)| (o as f64 - e).powi(2) / e)
        .sum();
    let df = edges.len() - 1;
    let p_value = ChiSquared::new(df as f64).unwrap().sf(statistic);
    ChiSquare {
        statistic,
        df,
        p_value,
        bins: edges
            .iter()
            .zip(&observed)
            .map(|(&(lo, hi, e), &o)| (lo, hi, o, e))
            .collect(),
    }
}

/// Pearson correlation coefficient of two equally long samples.
pub fn pearson(x: &[f64], y: &[f64]) -> f64 {
    assert_eq!(x.len(), y.len());
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    sxy / (sxx * syy).sqrt()
}
