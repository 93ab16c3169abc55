//! The `spinesim` binary: exit codes, messages, and the output directory it writes.
//!
//! Every test runs the real binary in a fresh temporary working directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common;
use arrow::array::AsArray;
use arrow::datatypes::{Float64Type, Int64Type, UInt64Type};

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

fn model(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
}

/// Runs the binary with `args` in `cwd`.
fn spinesim(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the spinesim binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status\n--- stdout\n{}\n--- stderr\n{}",
        stdout(o),
        stderr(o)
    );
}

/// Every file under `dir` with its bytes, by path relative to `dir`.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let bytes = std::fs::read(&p).unwrap();
                out.insert(p.strip_prefix(root).unwrap().to_path_buf(), bytes);
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// The one part file of a run without a sweep whose trajectories fit one part.
fn only_part(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

/// The decoded values of a Parquet file, column by column, as strings of exact bits.
fn decoded(path: &Path) -> Vec<(String, Vec<String>)> {
    let batches = common::read_batches(path);
    let schema = batches[0].schema();
    schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let values = batches
                .iter()
                .flat_map(|b| (0..b.num_rows()).map(move |r| common::exact_cell(b.column(i), r)))
                .collect();
            (f.name().clone(), values)
        })
        .collect()
}

fn run_args<'a>(model: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "run",
        model,
        "--runs",
        "20",
        "--t-end",
        "10",
        "--record-every",
        "1",
        "--quiet",
        "--out",
        out,
    ];
    v.extend_from_slice(extra);
    v
}

fn assert_no_partial(dir: &Path) {
    for f in snapshot(dir).keys() {
        assert!(
            !f.to_string_lossy().ends_with(".partial"),
            "left behind: {}",
            f.display()
        );
    }
}

#[test]
fn check_prints_species_and_channel_constants() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let o = spinesim(tmp.path(), &["check", bd.to_str().unwrap()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert!(out.contains("model birth_death"), "{out}");
    assert!(out.contains("species (1)"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("X ") && l.contains(" 0")),
        "species X with its initial count:\n{out}"
    );
    assert!(out.contains("602.214076 molecules per uM"), "{out}");
    assert!(out.contains("reaction channels (2)"), "{out}");
    // Birth: c = k · NAV = 10 /s; death: c = 1 /s.
    let line = |name: &str| {
        out.lines()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{out}"))
            .to_string()
    };
    assert!(
        line("birth").contains("c = 1.000000e1"),
        "{}",
        line("birth")
    );
    assert!(
        line("birth").contains("a(0) = 1.000000e1"),
        "{}",
        line("birth")
    );
    assert!(
        line("death").contains("c = 1.000000e0"),
        "{}",
        line("death")
    );
    assert!(
        line("death").contains("a(0) = 0.000000e0"),
        "{}",
        line("death")
    );
    assert!(out.contains("t_end 100 s"), "{out}");
}

#[test]
fn check_of_shipped_models_succeeds() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["spine_ltd_core.toml", "vilar_oscillator.toml"] {
        let m = model(name);
        let o = spinesim(tmp.path(), &["check", m.to_str().unwrap()]);
        assert_exit(&o, 0);
        assert!(stdout(&o).contains("reaction channels"), "{name}");
    }
}

const BAD_MODEL: &str = r#"[model]
name = "bad"

[[compartments]]
name = "c"
volume = "1 fL"

[[species]]
name = "A"
initial = 10

[[reactions]]
name = "decay_typo"
equation = "B -> A"
rate = "1 /s"
"#;

#[test]
fn check_of_bad_model_exits_2_and_names_file_line_item() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("bad.toml"), BAD_MODEL).unwrap();
    let o = spinesim(tmp.path(), &["check", "bad.toml"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    let line = BAD_MODEL[..BAD_MODEL.find("equation = \"B").unwrap()]
        .matches('\n')
        .count()
        + 1;
    assert!(err.contains(&format!("bad.toml:{line}:")), "{err}");
    assert!(err.contains("reaction 'decay_typo'"), "{err}");
    assert!(err.contains("unknown species 'B'"), "{err}");
    assert!(stdout(&o).is_empty(), "nothing on stdout: {}", stdout(&o));
}

#[test]
fn check_of_missing_file_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let o = spinesim(tmp.path(), &["check", "nowhere.toml"]);
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("nowhere.toml"), "{err}");
    assert!(err.contains("cannot read the model"), "{err}");
}

#[test]
fn run_writes_a_complete_output_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let out = tmp.path().join("out");
    let o = spinesim(
        tmp.path(),
        &run_args(
            bd.to_str().unwrap(),
            out.to_str().unwrap(),
            &["--seed", "17"],
        ),
    );
    assert_exit(&o, 0);
    assert!(stderr(&o).is_empty(), "--quiet: {}", stderr(&o));

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(json["total_events"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(json["seed"].as_u64(), Some(17));
    assert_eq!(json["runs"].as_u64(), Some(20));
    assert_eq!(json["trajectories"].as_u64(), Some(20));
    assert_eq!(json["method"].as_str(), Some("direct"));
    assert_eq!(json["model_name"].as_str(), Some("birth_death"));
    assert_eq!(json["t_end"].as_f64(), Some(10.0));
    let cmd: Vec<&str> = json["command_line"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(cmd.contains(&"--runs") && cmd.contains(&"20"), "{cmd:?}");
    let sha = json["model_sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);
    assert!(sha.chars().all(|c| c.is_ascii_hexdigit()));
    let text = std::fs::read_to_string(&bd).unwrap();
    assert_eq!(sha, spinesim::output::metadata::sha256_hex(&text));

    // Trajectories: 20 runs × 11 sample times (0, 1, ..., 10 s).
    let traj = common::read_batches(&only_part(&out.join("trajectories")));
    let rows: usize = traj.iter().map(|b| b.num_rows()).sum();
    assert_eq!(rows, 20 * 11);
    let schema = traj[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["run", "time", "X"]);
    let mut runs: Vec<u64> = traj
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<UInt64Type>().values().to_vec())
        .collect();
    runs.sort_unstable();
    runs.dedup();
    assert_eq!(runs, (0..20).collect::<Vec<_>>());
    // X(0) = 0 in every run; counts never go negative.
    let times: Vec<f64> = traj
        .iter()
        .flat_map(|b| b.column(1).as_primitive::<Float64Type>().values().to_vec())
        .collect();
    let xs: Vec<i64> = traj
        .iter()
        .flat_map(|b| b.column(2).as_primitive::<Int64Type>().values().to_vec())
        .collect();
    for (t, x) in times.iter().zip(&xs) {
        assert!(*x >= 0);
        if *t == 0.0 {
            assert_eq!(*x, 0);
        }
    }

    // Summary and outcomes exist and open.
    let summary = common::read_batches(&out.join("summary.parquet"));
    let srows: usize = summary.iter().map(|b| b.num_rows()).sum();
    assert_eq!(srows, 11, "one quantity × 11 times");
    let outcomes = common::read_batches(&out.join("outcomes.parquet"));
    let orows: usize = outcomes.iter().map(|b| b.num_rows()).sum();
    assert_eq!(orows, 20);
    // Events per run add up to run.json's total.
    let events: u64 = outcomes
        .iter()
        .flat_map(|b| {
            let i = b.schema().index_of("events").unwrap();
            b.column(i).as_primitive::<UInt64Type>().values().to_vec()
        })
        .sum();
    assert_eq!(events, json["total_events"].as_u64().unwrap());

    assert_no_partial(&out);
}

#[test]
fn rerun_into_existing_directory_is_refused_then_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let out = tmp.path().join("out");
    let (m, d) = (bd.to_str().unwrap(), out.to_str().unwrap());
    assert_exit(&spinesim(tmp.path(), &run_args(m, d, &[])), 0);
    let before = snapshot(&out);
    assert!(before.contains_key(Path::new("run.json")));

    let o = spinesim(tmp.path(), &run_args(m, d, &["--seed", "99"]));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    assert_eq!(snapshot(&out), before, "a refused run changes nothing");

    let o = spinesim(tmp.path(), &run_args(m, d, &["--seed", "99", "--force"]));
    assert_exit(&o, 0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(
        json["seed"].as_u64(),
        Some(99),
        "the forced run replaced it"
    );
    assert_no_partial(&out);
}

#[test]
fn force_does_not_replace_a_foreign_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let out = tmp.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("thesis.tex"), "precious").unwrap();
    let o = spinesim(
        tmp.path(),
        &run_args(bd.to_str().unwrap(), out.to_str().unwrap(), &["--force"]),
    );
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("not a spinesim output directory"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "precious"
    );
    assert_eq!(snapshot(&out).len(), 1, "nothing added");
}

#[test]
fn force_into_an_empty_directory_is_allowed() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let out = tmp.path().join("empty");
    std::fs::create_dir(&out).unwrap();
    let o = spinesim(
        tmp.path(),
        &run_args(bd.to_str().unwrap(), out.to_str().unwrap(), &["--force"]),
    );
    assert_exit(&o, 0);
    assert!(out.join("run.json").exists());
}

#[test]
fn unknown_protocol_lists_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let core = model("spine_ltd_core.toml");
    let out = tmp.path().join("out");
    let o = spinesim(
        tmp.path(),
        &run_args(
            core.to_str().unwrap(),
            out.to_str().unwrap(),
            &["--protocol", "lfs_2hz"],
        ),
    );
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("no protocol 'lfs_2hz'"), "{err}");
    for p in ["baseline", "lfs_1hz", "hfs_100hz"] {
        assert!(err.contains(p), "protocol {p} listed: {err}");
    }
    assert!(!out.exists(), "no output directory for a usage error");
}

#[test]
fn missing_t_end_without_protocol_default_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let out = tmp.path().join("out");
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            bd.to_str().unwrap(),
            "--runs",
            "2",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--t-end"), "{}", stderr(&o));
    assert!(!out.exists());
}

#[test]
fn protocol_default_t_end_is_used() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let out = tmp.path().join("out");
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            bd.to_str().unwrap(),
            "--protocol",
            "none",
            "--runs",
            "2",
            "--record-every",
            "10",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_exit(&o, 0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["t_end"].as_f64(), Some(100.0));
    assert_eq!(json["protocol"].as_str(), Some("none"));
    let rows: usize = common::read_batches(&only_part(&out.join("trajectories")))
        .iter()
        .map(|b| b.num_rows())
        .sum();
    assert_eq!(rows, 2 * 11, "0, 10, ..., 100 s");
}

#[test]
fn bad_numbers_on_the_command_line_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let m = bd.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["run", m, "--t-end", "10", "--runs", "0", "--out", "o1"],
            "--runs",
        ),
        (
            vec!["run", m, "--t-end", "10", "--threads", "0", "--out", "o2"],
            "--threads",
        ),
        (vec!["run", m, "--t-end=-5", "--out", "o3"], "--t-end"),
        (
            vec![
                "run",
                m,
                "--t-end",
                "10",
                "--record-every",
                "0",
                "--out",
                "o4",
            ],
            "--record-every",
        ),
        (
            vec!["run", m, "--t-end", "10", "--method", "tau", "--out", "o5"],
            "tau",
        ),
        (vec!["run", m, "--t-end", "ten", "--out", "o6"], "ten"),
    ] {
        let o = spinesim(tmp.path(), &args);
        assert_exit(&o, 2);
        assert!(stderr(&o).contains(needle), "{args:?}: {}", stderr(&o));
    }
    for d in ["o1", "o2", "o3", "o4", "o5", "o6"] {
        assert!(!tmp.path().join(d).exists(), "{d} should not be created");
    }
}

#[test]
fn thread_count_does_not_change_results() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let m = bd.to_str().unwrap();
    let mut results = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = tmp.path().join(format!("t{threads}"));
        let o = spinesim(
            tmp.path(),
            &[
                "run",
                m,
                "--runs",
                "40",
                "--t-end",
                "10",
                "--record-every",
                "0.5",
                "--seed",
                "5",
                "--threads",
                threads,
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_exit(&o, 0);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
        results.push((
            decoded(&only_part(&out.join("trajectories"))),
            decoded(&out.join("outcomes.parquet")),
            decoded(&out.join("summary.parquet")),
            json["total_events"].as_u64().unwrap(),
        ));
    }
    for r in &results[1..] {
        assert!(
            r.0 == results[0].0,
            "trajectories differ between thread counts"
        );
        assert!(r.1 == results[0].1, "outcomes differ between thread counts");
        assert!(
            r.2 == results[0].2,
            "summaries differ between thread counts"
        );
        assert_eq!(r.3, results[0].3, "event totals differ");
    }
}

#[test]
fn same_seed_same_results_different_seed_different_results() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let m = bd.to_str().unwrap();
    let run = |dir: &str, seed: &str| {
        let out = tmp.path().join(dir);
        assert_exit(
            &spinesim(
                tmp.path(),
                &run_args(m, out.to_str().unwrap(), &["--seed", seed]),
            ),
            0,
        );
        decoded(&only_part(&out.join("trajectories")))
    };
    let a = run("a", "3");
    let b = run("b", "3");
    let c = run("c", "4");
    assert!(a == b, "same seed, same trajectories");
    assert!(a != c, "a different seed gives different trajectories");
}

#[test]
fn unwritable_output_location_exits_1() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    // A regular file where a directory is needed: fails even for root.
    let blocker = tmp.path().join("blocker");
    std::fs::write(&blocker, "a file").unwrap();
    let out = blocker.join("out");
    let o = spinesim(
        tmp.path(),
        &run_args(bd.to_str().unwrap(), out.to_str().unwrap(), &[]),
    );
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("blocker"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&blocker).unwrap(), "a file");
}

#[test]
fn default_output_directory_is_under_results() {
    let tmp = tempfile::tempdir().unwrap();
    let bd = model("birth_death.toml");
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            bd.to_str().unwrap(),
            "--runs",
            "2",
            "--t-end",
            "2",
            "--quiet",
        ],
    );
    assert_exit(&o, 0);
    let out = tmp.path().join("results").join("birth_death-none");
    assert!(out.join("run.json").exists(), "{}", out.display());
}

#[test]
fn run_with_a_protocol_and_outcomes() {
    // A model with a protocol and outcomes of every kind runs end to end.
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
[model]
name = "pulsed"

[[compartments]]
name = "c"
volume = "1 fL"

[[parameters]]
name = "kdeg"
value = "0.5 /s"

[[species]]
name = "A"
initial = 20

[[species]]
name = "B"
initial = 0

[[reactions]]
name = "convert"
equation = "A -> B"
rate = "kdeg"

[[observables]]
name = "Total"
expr = "A + B"

[[protocols]]
name = "dose"
t_end = "6 s"

[[protocols.events]]
time = "2 s"
actions = [ { add = "A", amount = 30 } ]

[[outcomes]]
name = "T_change"
kind = "relative_change"
observable = "Total"
baseline = ["0 s", "2 s"]
final = ["end - 2 s", "end"]
ltd_below = -10.0
ltp_above = 10.0

[[outcomes]]
name = "A_peak"
kind = "peak"
observable = "A"
window = ["2 s", "end"]

[[outcomes]]
name = "B_int"
kind = "integral"
observable = "B"
"#;
    std::fs::write(tmp.path().join("pulsed.toml"), text).unwrap();
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            "pulsed.toml",
            "--protocol",
            "dose",
            "--runs",
            "8",
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert_exit(&o, 0);
    let out = tmp.path().join("out");
    let cols: BTreeMap<String, Vec<String>> =
        decoded(&out.join("outcomes.parquet")).into_iter().collect();
    // Total is conserved by the reaction: 20 before the dose, 50 after → +150 %, LTP.
    for bits in &cols["T_change_baseline"] {
        assert_eq!(f64::from_bits(u64::from_str_radix(bits, 16).unwrap()), 20.0);
    }
    for bits in &cols["T_change_final"] {
        assert_eq!(f64::from_bits(u64::from_str_radix(bits, 16).unwrap()), 50.0);
    }
    for bits in &cols["T_change_pct"] {
        let pct = f64::from_bits(u64::from_str_radix(bits, 16).unwrap());
        assert!((pct - 150.0).abs() < 1e-9, "{pct}");
    }
    assert!(cols["T_change_class"].iter().all(|c| c == "LTP"));
    // The peak of A after the dose is at least the 30 added.
    for bits in &cols["A_peak"] {
        assert!(f64::from_bits(u64::from_str_radix(bits, 16).unwrap()) >= 30.0);
    }
    let traj = decoded(&only_part(&out.join("trajectories")));
    let names: Vec<&str> = traj.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["run", "time", "A", "B", "Total"]);
    // Total at every sample: 20 before 2 s, 50 from 2 s on (the event applies before recording).
    let time = &traj[1].1;
    let total = &traj[4].1;
    for (t, v) in time.iter().zip(total) {
        let t = f64::from_bits(u64::from_str_radix(t, 16).unwrap());
        let v: i64 = v.parse().unwrap();
        assert_eq!(v, if t < 2.0 { 20 } else { 50 }, "Total at {t}");
    }
    assert_no_partial(&out);
}

#[test]
fn outcome_window_longer_than_the_run_exits_2_before_writing() {
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
[model]
name = "late"
[[compartments]]
name = "c"
volume = "1 fL"
[[species]]
name = "A"
initial = 10
[[reactions]]
name = "decay"
equation = "A ->"
rate = "1 /s"
[[outcomes]]
name = "late_mean"
kind = "mean"
observable = "A"
window = ["50 s", "end"]
"#;
    std::fs::write(tmp.path().join("late.toml"), text).unwrap();
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            "late.toml",
            "--t-end",
            "10",
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert_exit(&o, 2);
    let err = stderr(&o);
    assert!(err.contains("late_mean"), "{err}");
    assert!(err.contains("--t-end"), "{err}");
    assert!(!tmp.path().join("out").exists());
}

#[test]
fn negative_custom_propensity_fails_the_run_without_run_json() {
    // The loader cannot know a custom propensity's sign; the run must stop and say which reaction.
    let tmp = tempfile::tempdir().unwrap();
    let text = r#"
[model]
name = "negative"
[[compartments]]
name = "c"
volume = "1 fL"
[[parameters]]
name = "k"
value = "-1 /s"
[[species]]
name = "A"
initial = 10
[[reactions]]
name = "weird"
equation = "A ->"
propensity = "k * A"
"#;
    std::fs::write(tmp.path().join("negative.toml"), text).unwrap();
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            "negative.toml",
            "--t-end",
            "1",
            "--runs",
            "3",
            "--quiet",
            "--out",
            "out",
        ],
    );
    assert!(
        matches!(o.status.code(), Some(1 | 2)),
        "a failed run: {:?}\n{}",
        o.status,
        stderr(&o)
    );
    let err = stderr(&o);
    assert!(err.contains("'weird'"), "{err}");
    assert!(err.contains("propensity"), "{err}");
    assert!(
        !tmp.path().join("out").join("run.json").exists(),
        "run.json means the run finished"
    );
}
