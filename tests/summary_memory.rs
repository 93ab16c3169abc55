//! The summary and the outcome statistics are computed in streaming passes under a fixed memory
//! budget ([`exact_stats`]), and give exactly what sorting every value in memory gives
//! ([`Stats::of`], the reference), bit for bit: on synthetic groups (real values with ties,
//! integer counts, constants, signed zeros, a huge dynamic range, n = 1 and 2) with budgets
//! that force one group per block and many histogram refinements, and on the files of real
//! runs. The peak heap of the finishing step (summary, outcome statistics, merged outcomes)
//! does not grow from 100 to 10 000 trajectories.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use rand::RngExt;

use spinesim::ensemble::trajectory_rng;
use spinesim::output::finalize::finalize;
use spinesim::output::layout::Layout;
use spinesim::output::summary::{
    exact_stats, parquet_files, summarize_trajectories, Stats, COLLECT_CAP, HISTOGRAM_BINS,
    SUMMARY_BUDGET_BYTES,
};

use crate::allocation::peak_heap_during;
use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

/// Bitwise equality, NaNs of any payload being equal.
fn same(a: f64, b: f64) -> bool {
    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
}

fn assert_same(got: &Stats, want: &Stats, what: &str) {
    assert_eq!(got.n, want.n, "{what}: n");
    assert!(
        same(got.mean, want.mean),
        "{what}: mean {} vs {}",
        got.mean,
        want.mean
    );
    assert!(
        same(got.sd, want.sd),
        "{what}: sd {} vs {}",
        got.sd,
        want.sd
    );
    for (k, (g, w)) in got.quantiles.iter().zip(&want.quantiles).enumerate() {
        assert!(same(*g, *w), "{what}: quantile {k}: {g} vs {w}");
    }
}

/// Streams `rows` (group, value) to `exact_stats` with `budget` and compares every group with
/// `Stats::of` on its values in row order; returns the number of passes.
fn check_against_reference(groups: usize, rows: &[(usize, f64)], budget: usize) -> usize {
    let mut passes = 0;
    let got = exact_stats(groups, budget, |emit| {
        passes += 1;
        for &(g, x) in rows {
            emit(g, x);
        }
        Ok(())
    })
    .unwrap();
    let mut values = vec![Vec::new(); groups];
    for &(g, x) in rows {
        values[g].push(x);
    }
    for (g, v) in values.iter_mut().enumerate() {
        let want = Stats::of(v);
        assert_same(&got[g], &want, &format!("group {g} (n = {})", want.n));
    }
    passes
}

/// Groups of many kinds, their rows interleaved in a random order.
fn synthetic_groups() -> (usize, Vec<(usize, f64)>) {
    let mut rng = trajectory_rng(42, 0);
    let big = (HISTOGRAM_BINS as u64 * COLLECT_CAP * 3) as usize;
    let mut groups: Vec<Vec<f64>> = vec![
        // Real values with ties: a few repeated values among continuous ones.
        (0..big)
            .map(|_| {
                if rng.random::<f64>() < 0.3 {
                    [1.5, -2.25, 7.0][rng.random_range(0..3)]
                } else {
                    rng.random::<f64>() * 10.0 - 3.0
                }
            })
            .collect(),
        // Integer counts with many ties (about Poisson(10)).
        (0..big)
            .map(|_| (0..40).filter(|_| rng.random::<f64>() < 0.25).count() as f64)
            .collect(),
        // Constant columns: the mean of 0.1s is not 0.1, so the sd is tiny but not 0.
        vec![0.1; 1000],
        vec![4.0; big],
        // n = 1 and n = 2, and a small sample.
        vec![3.7],
        vec![-1.0, 2.5],
        (0..17).map(|i| (i * 7 % 5) as f64).collect(),
        // Signed zeros and negative values (total_cmp puts -0.0 before +0.0).
        (0..big)
            .map(|i| [0.0, -0.0, -1.0, 1.0][i % 4] * if i % 7 == 0 { 0.5 } else { 1.0 })
            .collect(),
        // A huge dynamic range: needs several refinements of the key ranges.
        (0..big)
            .map(|_| {
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                sign * 10f64.powf(rng.random::<f64>() * 600.0 - 300.0)
            })
            .collect(),
        // Two clusters far apart, each with fine structure.
        (0..big)
            .map(|i| if i % 2 == 0 { 1e9 } else { 0.0 } + rng.random::<f64>() * 1e-6)
            .collect(),
    ];
    // Rows interleave the groups in a random order (the order within a group is kept).
    let mut rows = Vec::new();
    let mut next: Vec<usize> = vec![0; groups.len()];
    let total: usize = groups.iter().map(Vec::len).sum();
    while rows.len() < total {
        let g = rng.random_range(0..groups.len());
        if next[g] < groups[g].len() {
            rows.push((g, groups[g][next[g]]));
            next[g] += 1;
        }
    }
    let n = groups.len();
    groups.clear();
    (n, rows)
}

#[test]
fn streaming_stats_equal_the_in_memory_reference() {
    let (groups, rows) = synthetic_groups();
    // One group per block: every block needs its own passes, and large groups refine.
    let passes_tiny = check_against_reference(groups, &rows, 0);
    // One pass for the sums, then at least one per group, and more where a group refines.
    assert!(
        passes_tiny > 1 + 2 * groups,
        "a zero budget should take passes per group and refinements, took {passes_tiny}"
    );
    let passes_default = check_against_reference(groups, &rows, SUMMARY_BUDGET_BYTES);
    assert!(
        passes_default < passes_tiny,
        "{passes_default} vs {passes_tiny}"
    );
}

#[test]
fn streaming_stats_of_many_small_random_groups() {
    let mut rng = trajectory_rng(7, 1);
    for case in 0..200 {
        let groups = rng.random_range(1..5);
        let rows: Vec<(usize, f64)> = (0..rng.random_range(1..400))
            .map(|_| {
                let g = rng.random_range(0..groups);
                let x = match case % 3 {
                    0 => rng.random_range(0..4) as f64,
                    1 => (rng.random::<f64>() * 1e3).round() / 8.0,
                    _ => rng.random::<f64>() - 0.5,
                };
                (g, x)
            })
            .collect();
        check_against_reference(groups, &rows, rng.random_range(0..4000));
    }
}

/// birth_death with a recorded real-valued observable and outcomes of each kind.
fn model_with_outcomes() -> String {
    let base = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("models/birth_death.toml"),
    )
    .unwrap();
    assert!(base.contains("record = [\"X\"]"));
    base.replace("record = [\"X\"]", "record = [\"X\", \"Y\"]")
        + r#"
[[observables]]
name = "Y"
expr = "0.37 * X"

[[outcomes]]
name = "X_peak"
kind = "peak"
observable = "X"

[[outcomes]]
name = "Y_mean"
kind = "mean"
observable = "Y"

[[outcomes]]
name = "X_change"
kind = "relative_change"
observable = "X"
baseline = ["1 s", "3 s"]
final = ["end - 2 s", "end"]
ltd_below = -10.0
ltp_above = 10.0
"#
}

/// Runs the model in `dir/out` with `runs` trajectories.
fn run(dir: &Path, runs: u64, t_end: &str) -> std::path::PathBuf {
    let model = dir.join("model.toml");
    std::fs::write(&model, model_with_outcomes()).unwrap();
    let out = dir.join("out");
    let status = Command::new(BIN)
        .args(["run", model.to_str().unwrap(), "--runs", &runs.to_string()])
        .args(["--t-end", t_end, "--quiet", "--threads", "2", "--out"])
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    out
}

/// Every value of every numeric column of the Parquet files under `dir`, in file and row
/// order, keyed by column name and (for trajectories) sample time.
fn all_values(dir: &Path, by_time: bool) -> HashMap<(String, u64), Vec<f64>> {
    let mut values: HashMap<(String, u64), Vec<f64>> = HashMap::new();
    for f in parquet_files(dir).unwrap() {
        for batch in common::read_batches(&f) {
            let time = batch.column_by_name("time");
            for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
                if ["run", "time", "seed", "events"].contains(&field.name().as_str()) {
                    continue;
                }
                let numbers: Vec<f64> = match column.data_type() {
                    DataType::Int64 => column
                        .as_primitive::<Int64Type>()
                        .values()
                        .iter()
                        .map(|&v| v as f64)
                        .collect(),
                    DataType::Float64 => column.as_primitive::<Float64Type>().values().to_vec(),
                    _ => continue,
                };
                for (row, x) in numbers.into_iter().enumerate() {
                    let t = match (by_time, time) {
                        (true, Some(t)) => t.as_primitive::<Float64Type>().value(row).to_bits(),
                        _ => 0,
                    };
                    values.entry((field.name().clone(), t)).or_default().push(x);
                }
            }
        }
    }
    values
}

#[test]
fn summary_and_outcome_stats_of_real_runs_equal_the_reference() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), 700, "20");
    let mut reference = all_values(&out.join("trajectories"), true);
    for budget in [0, 5000, SUMMARY_BUDGET_BYTES] {
        let rows = summarize_trajectories(&out.join("trajectories"), budget).unwrap();
        assert_eq!(rows.len(), 2 * 21);
        for row in &rows {
            let values = reference
                .get_mut(&(row.quantity.clone(), row.time.to_bits()))
                .unwrap();
            let want = Stats::of(&mut values.clone());
            assert_eq!(want.n, 700);
            assert_same(
                &row.stats,
                &want,
                &format!("{} at {} (budget {budget})", row.quantity, row.time),
            );
        }
    }

    // outcome_stats.parquet, as written by the run, against the outcome parts.
    let mut outcomes = all_values(&out.join("outcome_parts"), false);
    let batch = common::first_batch(&out.join("outcome_stats.parquet"));
    let names = batch.column_by_name("outcome").unwrap().as_string::<i32>();
    let float = |name: &str, row: usize| {
        batch
            .column_by_name(name)
            .unwrap()
            .as_primitive::<Float64Type>()
            .value(row)
    };
    assert_eq!(
        names.len(),
        5,
        "X_peak, Y_mean, X_change_{{baseline,final,pct}}"
    );
    for row in 0..names.len() {
        let name = names.value(row);
        let want = Stats::of(outcomes.get_mut(&(name.to_string(), 0)).unwrap());
        let got = Stats {
            n: batch
                .column_by_name("n")
                .unwrap()
                .as_primitive::<arrow::datatypes::UInt64Type>()
                .value(row),
            mean: float("mean", row),
            sd: float("sd", row),
            quantiles: ["q05", "q25", "q50", "q75", "q95"].map(|q| float(q, row)),
        };
        assert_same(&got, &want, name);
    }
}

/// Peak heap bytes (on this thread) of finishing the run in `out` again: the merged outcomes,
/// outcome statistics and summary.
fn finishing_peak(out: &Path) -> usize {
    let layout = Layout {
        dir: out.to_path_buf(),
    };
    let (report, peak) = peak_heap_during(|| finalize(&layout, Vec::new(), 0.0));
    report.unwrap();
    peak
}

#[test]
fn finishing_a_run_takes_no_more_memory_for_more_trajectories() {
    let small_dir = tempfile::tempdir().unwrap();
    let large_dir = tempfile::tempdir().unwrap();
    let small = run(small_dir.path(), 100, "100");
    let large = run(large_dir.path(), 10_000, "100");
    let (small_peak, large_peak) = (finishing_peak(&small), finishing_peak(&large));
    eprintln!("peak heap of finishing: {small_peak} B for 100 runs, {large_peak} B for 10000");
    // The old summary held every value of a block of sample times (8 MB here); the bound
    // leaves 10 % for allocator and Parquet buffer rounding.
    assert!(
        large_peak as f64 <= 1.10 * small_peak as f64,
        "peak heap grew from {small_peak} B (100 runs) to {large_peak} B (10000 runs)"
    );
}
