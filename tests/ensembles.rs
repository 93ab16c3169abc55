//! Ensembles for papers: overrides and variants, sweeps (partitions and columns), shards
//! (their union is the unsharded run, bit for bit), kill-and-resume, and the coverage of the
//! confidence intervals in `outcome_stats.parquet`.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use rand::{RngExt, SeedableRng};
use rand_distr::{Binomial, Distribution, Normal};
use rand_pcg::Pcg64;

use spinesim::model::overrides::{apply, parse_assignment};
use spinesim::model::ParameterDefinition;
use spinesim::output::stats::{t_interval, wilson_interval};

use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

/// A small model with a parameter of each kind of use, a concentration-given species, two
/// protocols, a relative-change outcome and two variants.
const MODEL: &str = r#"
[model]
name = "ens"
record = ["X", "Y"]

[[compartments]]
name = "cell"
volume = "1 fL"

[[parameters]]
name = "k_in"
value = "0.0166 uM/s"

[[parameters]]
name = "k_out"
value = "1 /s"

[[species]]
name = "X"
initial = "0.01 uM"

[[species]]
name = "Y"
initial = 5

[[reactions]]
name = "birth"
equation = "-> X"
rate = "k_in"

[[reactions]]
name = "death"
equation = "X ->"
rate = "k_out"

[[reactions]]
name = "conversion"
equation = "Y -> X"
rate = "0.1 /s"

[[protocols]]
name = "small"
t_end = "6 s"
[[protocols.events]]
time = "2 s"
actions = [ { add = "X", amount = 5 } ]

[[protocols]]
name = "big"
t_end = "6 s"
[[protocols.events]]
time = "2 s"
actions = [ { add = "X", amount = 40 } ]

[[outcomes]]
name = "X_change"
kind = "relative_change"
observable = "X"
baseline = ["0 s", "2 s"]
final = ["end - 2 s", "end"]
ltd_below = -10.0
ltp_above = 10.0

[[outcomes]]
name = "X_peak"
kind = "peak"
observable = "X"

[variants.knockout]
description = "no births"
set = { k_in = "0 uM/s" }

[variants.big_cell]
description = "twice the volume, twice the Y"
set = { cell = "2 fL", Y = 10 }
"#;

fn write_model(dir: &Path) -> PathBuf {
    let path = dir.join("ens.toml");
    std::fs::write(&path, MODEL).unwrap();
    path
}

fn spinesim(cwd: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("the spinesim binary runs")
}

#[track_caller]
fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "exit status\n--- stderr\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Column names and rows (cells as exact strings) of a Parquet file.
fn table(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let batches = common::read_batches(path);
    let names = batches
        .first()
        .map(|b| {
            b.schema()
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect()
        })
        .unwrap_or_default();
    let mut rows = Vec::new();
    for b in &batches {
        for i in 0..b.num_rows() {
            rows.push(
                b.columns()
                    .iter()
                    .map(|c| common::exact_cell(c, i))
                    .collect(),
            );
        }
    }
    (names, rows)
}

fn column(path: &Path, name: &str) -> Vec<String> {
    let (names, rows) = table(path);
    let i = names
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("{}: no column {name} in {names:?}", path.display()));
    rows.into_iter().map(|r| r[i].clone()).collect()
}

fn f64s(path: &Path, name: &str) -> Vec<f64> {
    column(path, name)
        .iter()
        .map(|s| f64::from_bits(u64::from_str_radix(s, 16).unwrap()))
        .collect()
}

/// Every row of every Parquet file under `dir`, prefixed with its Hive partition values
/// (`sweep_id=K`), sorted: the dataset a Python reader sees, whatever the files.
fn dataset(dir: &Path) -> Vec<Vec<String>> {
    fn walk(dir: &Path, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_dir() {
                let mut pre = prefix.clone();
                pre.push(name);
                walk(&p, pre, out);
            } else if name.ends_with(".parquet") {
                for row in table(&p).1 {
                    out.push(prefix.iter().cloned().chain(row).collect());
                }
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, Vec::new(), &mut out);
    out.sort();
    out
}

fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    spinesim::output::summary::parquet_files(dir).unwrap()
}

// ---------------------------------------------------------------- overrides and variants

#[test]
fn overrides_rebuild_the_model_in_the_files_units() {
    let m = common::model(MODEL);
    // X = round(0.01 uM × 602.2) = 6 molecules in 1 fL.
    assert_eq!(m.species[0].initial, 6);
    let set = |s: &str| parse_assignment(s, "--set").unwrap();

    let (changed, applied) = apply(&m, &[set("k_out=2 1/s"), set("X=0.5 uM")]).unwrap();
    assert_eq!(
        changed.parameters[1].definition,
        ParameterDefinition::Value(2.0)
    );
    assert_eq!(
        changed.species[0].initial, 301,
        "0.5 uM × 602.2 molecules/uM"
    );
    assert_eq!(applied[1].unit, "uM");
    assert_eq!(applied[1].canonical, 0.5);

    // A volume keeps concentrations (X doubles) and counts (Y stays); zero-order rates scale.
    let (bigger, _) = apply(&m, &[set("cell=2 fL")]).unwrap();
    assert_eq!(bigger.species[0].initial, 12);
    assert_eq!(bigger.species[1].initial, 5);
    let nav = |model: &spinesim::model::Model| {
        let net = spinesim::network::Network::compile(model);
        let state = net.initial_state();
        net.propensity(0, &state)
    };
    let ratio = nav(&bigger) / nav(&m);
    assert!(
        (ratio - 2.0).abs() < 1e-12,
        "birth propensity ratio {ratio}"
    );

    // A later assignment wins; a count is a count.
    let (c, _) = apply(&m, &[set("Y=7"), set("Y=9")]).unwrap();
    assert_eq!(c.species[1].initial, 9);

    // Variants go through the same mechanism.
    let v = spinesim::model::overrides::variant_assignments(&m, &["big_cell".into()]).unwrap();
    let (c, _) = apply(&m, &v).unwrap();
    assert_eq!((c.species[0].initial, c.species[1].initial), (12, 10));
}

#[test]
fn bad_overrides_are_errors_naming_the_item() {
    let m = common::model(MODEL);
    let err = |s: &str| apply(&m, &[parse_assignment(s, "--set").unwrap()]).unwrap_err();
    let e = err("k_inn=1 uM/s");
    assert!(
        e.contains("unknown name 'k_inn'") && e.contains("did you mean 'k_in'"),
        "{e}"
    );
    let e = err("k_in=1 /s");
    assert!(
        e.contains("parameter 'k_in'") && e.contains("expected uM/s"),
        "{e}"
    );
    let e = err("k_in=3");
    assert!(e.contains("a unit is missing"), "{e}");
    let e = err("X=2.5");
    assert!(e.contains("not a whole number"), "{e}");
    let e = err("X=1 mV");
    assert!(e.contains("species 'X'"), "{e}");
    let e = err("cell=1 uM");
    assert!(e.contains("compartment 'cell'"), "{e}");
    let e = err("cell=0 fL");
    assert!(e.contains("positive"), "{e}");
    let e = spinesim::model::overrides::variant_assignments(&m, &["knockot".into()]).unwrap_err();
    assert!(e.contains("did you mean 'knockout'"), "{e}");
}

#[test]
fn variants_are_validated_at_load_with_lines() {
    let bad = MODEL.replace(
        "set = { k_in = \"0 uM/s\" }",
        "set = { k_inx = \"0 uM/s\", k_out = \"2 uM\" }",
    );
    let e = spinesim::model::parse_model(&bad, Path::new("bad.toml"))
        .unwrap_err()
        .to_string();
    let line = bad.lines().position(|l| l.contains("k_inx")).unwrap() + 1;
    assert!(
        e.contains(&format!("bad.toml:{line}: variant 'knockout'")),
        "{e}"
    );
    assert!(e.contains("did you mean 'k_in'"), "{e}");
    assert!(e.contains("expected 1/s"), "{e}");
    let bad = MODEL.replace("[variants.knockout]", "[variants.control]");
    let e = spinesim::model::parse_model(&bad, Path::new("bad.toml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("`control` means no variant"), "{e}");
    let bad = MODEL.replace("description = \"no births\"", "descr = \"no births\"");
    assert!(spinesim::model::parse_model(&bad, Path::new("bad.toml")).is_err());
}

#[test]
fn set_and_variant_on_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write_model(tmp.path());
    let m = m.to_str().unwrap();
    let o = spinesim(tmp.path(), &["check", m]);
    assert_exit(&o, 0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("knockout") && text.contains("k_in = 0 uM/s"),
        "{text}"
    );

    let args = [
        "run",
        m,
        "--runs",
        "4",
        "--quiet",
        "--out",
        "o",
        "--protocol",
        "big",
        "--variant",
        "knockout",
        "--set",
        "k_out=2 1/s",
        "--set",
        "Y=0",
    ];
    assert_exit(&spinesim(tmp.path(), &args), 0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("o/run.json")).unwrap())
            .unwrap();
    assert_eq!(json["variants"], serde_json::json!(["knockout"]));
    let overrides = json["overrides"].as_array().unwrap();
    let names: Vec<&str> = overrides
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["k_in", "k_out", "Y"]);
    assert_eq!(overrides[0]["origin"], "variant 'knockout'");
    assert_eq!(overrides[1]["origin"], "--set");
    assert_eq!(overrides[1]["canonical"], 2.0);

    // Errors before any work: exit 2, nothing written.
    for (flag, value, expect) in [
        ("--set", "k_ot=1 1/s", "did you mean 'k_out'"),
        ("--set", "k_out=1 uM", "expected 1/s"),
        ("--set", "k_out", "expected NAME=VALUE"),
        ("--variant", "nope", "has no variant 'nope'"),
        ("--sweep", "k_out=lin:1:2:1", "lin:A:B:N"),
        ("--sweep", "protocol=small,huge", "no protocol 'huge'"),
        ("--shard", "3/3", "0 <= K < N"),
    ] {
        let o = spinesim(
            tmp.path(),
            &[
                "run", m, "--runs", "2", "--t-end", "6", "--quiet", "--out", "bad", flag, value,
            ],
        );
        assert_exit(&o, 2);
        assert!(
            stderr(&o).contains(expect),
            "{flag} {value}: {}",
            stderr(&o)
        );
        assert!(!tmp.path().join("bad").exists());
    }
}

// ---------------------------------------------------------------- sweeps

#[test]
fn sweep_points_are_partitions_with_columns_and_common_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write_model(tmp.path());
    let args = [
        "run",
        m.to_str().unwrap(),
        "--runs",
        "6",
        "--runs-per-part",
        "4",
        "--quiet",
        "--out",
        "o",
        "--sweep",
        "protocol=small,big",
        "--sweep",
        "X=0,0.02 uM",
    ];
    assert_exit(&spinesim(tmp.path(), &args), 0);
    let out = tmp.path().join("o");
    for k in 0..4 {
        for base in ["trajectories", "outcome_parts"] {
            let dir = out.join(base).join(format!("sweep_id={k}"));
            let names: Vec<String> = parquet_files(&dir)
                .iter()
                .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
                .collect();
            assert_eq!(
                names,
                [
                    "part-0000000000-0000000004.parquet",
                    "part-0000000004-0000000006.parquet"
                ]
            );
        }
    }
    let sweeps = out.join("sweeps.parquet");
    assert_eq!(table(&sweeps).0, ["sweep_id", "protocol", "X", "t_end"]);
    assert_eq!(
        column(&sweeps, "protocol"),
        ["small", "small", "big", "big"]
    );
    assert_eq!(f64s(&sweeps, "X"), [0.0, 0.02, 0.0, 0.02]);
    let unit = ParquetRecordBatchReaderBuilder::try_new(File::open(&sweeps).unwrap())
        .unwrap()
        .schema()
        .field_with_name("X")
        .unwrap()
        .metadata()
        .get("unit")
        .cloned();
    assert_eq!(unit.as_deref(), Some("uM"));

    let outcomes = out.join("outcomes.parquet");
    let (names, rows) = table(&outcomes);
    assert_eq!(names[..5], ["sweep_id", "protocol", "X", "run", "seed"]);
    assert_eq!(rows.len(), 24);
    // Common random numbers: the same seeds at every point.
    let seeds = column(&outcomes, "seed");
    for k in 1..4 {
        assert_eq!(seeds[6 * k..6 * k + 6], seeds[0..6]);
    }
    // The initial state follows the point: X(0) = 0 or round(0.02 × 602.2) = 12.
    for k in 0..4u64 {
        let traj = out.join(format!("trajectories/sweep_id={k}"));
        for f in parquet_files(&traj) {
            let (names, rows) = table(&f);
            let (t, x) = (
                names.iter().position(|n| n == "time").unwrap(),
                names.iter().position(|n| n == "X").unwrap(),
            );
            for r in rows
                .iter()
                .filter(|r| r[t] == format!("{:016x}", 0f64.to_bits()))
            {
                assert_eq!(r[x], if k % 2 == 0 { "0" } else { "12" });
            }
        }
    }

    // Summary and outcome statistics per point.
    let summary = out.join("summary.parquet");
    let ids = column(&summary, "sweep_id");
    assert_eq!(ids.len(), 4 * 7 * 2, "4 points × 7 times × 2 quantities");
    let stats = out.join("outcome_stats.parquet");
    let (names, rows) = table(&stats);
    for c in [
        "sweep_id",
        "outcome",
        "n",
        "mean",
        "mean_ci95_lo",
        "p_ltd",
        "p_ltp_ci95_hi",
    ] {
        assert!(names.contains(&c.to_string()), "{names:?}");
    }
    // Per point: X_change_baseline, _final, _pct, X_peak.
    assert_eq!(rows.len(), 4 * 4);
    let outcome = column(&stats, "outcome");
    let p_ltd = column(&stats, "p_ltd");
    for (o, p) in outcome.iter().zip(&p_ltd) {
        assert_eq!(o == "X_change_pct", p != "null", "{o}: {p}");
    }
}

#[test]
fn sweep_file_variants_and_ranges() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write_model(tmp.path());
    std::fs::write(
        tmp.path().join("design.toml"),
        "[sweep]\nvariant = [\"control\", \"knockout\"]\nk_out = \"lin:0.5:1.5:3 1/s\"\n",
    )
    .unwrap();
    let args = [
        "run",
        m.to_str().unwrap(),
        "--runs",
        "3",
        "--t-end",
        "4",
        "--quiet",
        "--out",
        "o",
        "--sweep-file",
        "design.toml",
    ];
    assert_exit(&spinesim(tmp.path(), &args), 0);
    let sweeps = tmp.path().join("o/sweeps.parquet");
    assert_eq!(table(&sweeps).0, ["sweep_id", "variant", "k_out", "t_end"]);
    assert_eq!(
        column(&sweeps, "variant"),
        ["control", "control", "control", "knockout", "knockout", "knockout"]
    );
    assert_eq!(f64s(&sweeps, "k_out"), [0.5, 1.0, 1.5, 0.5, 1.0, 1.5]);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("o/plan.json")).unwrap())
            .unwrap();
    let point4 = &plan["points"][4]["assignments"];
    assert_eq!(point4[0]["name"], "k_in");
    assert_eq!(point4[1]["name"], "k_out");

    // A bad design file names the file and line.
    std::fs::write(
        tmp.path().join("bad.toml"),
        "[sweep]\nk_out = \"lin:1:2\"\n",
    )
    .unwrap();
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            m.to_str().unwrap(),
            "--t-end",
            "1",
            "--out",
            "b",
            "--sweep-file",
            "bad.toml",
        ],
    );
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("bad.toml:2"), "{}", stderr(&o));
}

// ---------------------------------------------------------------- shards

#[test]
fn union_of_shards_equals_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write_model(tmp.path());
    let m = m.to_str().unwrap();
    let common_args = [
        "run",
        m,
        "--runs",
        "11",
        "--runs-per-part",
        "4",
        "--seed",
        "5",
        "--quiet",
        "--sweep",
        "protocol=small,big",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        common_args
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        spinesim(tmp.path(), &refs)
    };
    assert_exit(&run(with(&["--out", "whole", "--threads", "2"])), 0);
    // Shards in a scrambled order, one of them on 1 thread.
    for (k, threads) in [(2, "1"), (0, "2"), (1, "2")] {
        let shard = format!("{k}/3");
        let o = run(with(&[
            "--out",
            "sharded",
            "--shard",
            &shard,
            "--threads",
            threads,
        ]));
        assert_exit(&o, 0);
        if k == 2 {
            // Not complete yet: summarize names what is missing.
            let o = spinesim(tmp.path(), &["summarize", "sharded"]);
            assert_exit(&o, 2);
            assert!(
                stderr(&o).contains("runs 0..7 are missing"),
                "{}",
                stderr(&o)
            );
            assert!(!tmp.path().join("sharded/run.json").exists());
        }
    }
    // A shard with other settings cannot join.
    let o = run(vec![
        "run".into(),
        m.into(),
        "--runs".into(),
        "11".into(),
        "--runs-per-part".into(),
        "4".into(),
        "--seed".into(),
        "6".into(),
        "--quiet".into(),
        "--sweep".into(),
        "protocol=small,big".into(),
        "--out".into(),
        "sharded".into(),
        "--shard".into(),
        "0/3".into(),
    ]);
    assert_exit(&o, 2);
    assert!(
        stderr(&o).contains("holds a different run (seed"),
        "{}",
        stderr(&o)
    );

    let o = spinesim(tmp.path(), &["summarize", "sharded"]);
    assert_exit(&o, 0);
    let (whole, sharded) = (tmp.path().join("whole"), tmp.path().join("sharded"));
    // Shard boundaries (0..3, 3..7, 7..11) cut the part grid (0..4, 4..8, 8..11).
    let names: Vec<String> = parquet_files(&sharded.join("trajectories/sweep_id=1"))
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    assert_eq!(
        dataset(&whole.join("trajectories")),
        dataset(&sharded.join("trajectories")),
        "trajectory rows"
    );
    for file in [
        "outcomes.parquet",
        "summary.parquet",
        "outcome_stats.parquet",
        "sweeps.parquet",
    ] {
        assert_eq!(
            table(&whole.join(file)),
            table(&sharded.join(file)),
            "{file}"
        );
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sharded.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["shards"], 3);
    let whole_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(whole.join("run.json")).unwrap()).unwrap();
    assert_eq!(json["digests"], whole_json["digests"]);
    assert_eq!(json["digests"]["trajectories"].as_str().unwrap().len(), 64);
    // Another seed gives other digests.
    let other_seed: Vec<String> = with(&["--out", "other"])
        .into_iter()
        .map(|a| if a == "5" { "6".into() } else { a })
        .collect();
    assert_exit(&run(other_seed), 0);
    let other: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("other/run.json")).unwrap())
            .unwrap();
    assert_ne!(
        other["digests"]["trajectories"],
        json["digests"]["trajectories"]
    );
    assert_ne!(other["digests"]["outcomes"], json["digests"]["outcomes"]);
    assert_eq!(json["trajectories"], 22);
    assert_eq!(json["shard_records"].as_array().unwrap().len(), 3);
}

// ---------------------------------------------------------------- kill and resume

#[test]
fn a_killed_run_resumes_to_the_uninterrupted_result() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/birth_death.toml");
    let args = |out: &str| -> Vec<String> {
        [
            "run",
            model.to_str().unwrap(),
            "--runs",
            "600",
            "--runs-per-part",
            "10",
            "--t-end",
            "3000",
            "--record-every",
            "50",
            "--threads",
            "2",
            "--out",
            out,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let mut child = Command::new(BIN)
        .args(args("killed"))
        .arg("--quiet")
        .current_dir(tmp.path())
        .spawn()
        .unwrap();
    let traj = tmp.path().join("killed/trajectories");
    let started = std::time::Instant::now();
    loop {
        let n = std::fs::read_dir(&traj)
            .map(|d| {
                d.filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .ends_with(".parquet")
                })
                .count()
            })
            .unwrap_or(0);
        if n >= 3 {
            break;
        }
        assert!(started.elapsed().as_secs() < 60, "no parts appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    assert!(!status.success(), "the run was killed, not finished");
    let killed = tmp.path().join("killed");
    assert!(!killed.join("run.json").exists());
    // Every finished part is readable; fewer than all exist.
    let parts = parquet_files(&traj);
    assert!(
        parts.len() >= 3 && parts.len() < 60,
        "{} parts",
        parts.len()
    );
    for p in &parts {
        assert_eq!(table(p).1.len() % 61, 0, "{}", p.display());
    }
    // Without --resume the directory is not touched.
    let o = Command::new(BIN)
        .args(args("killed"))
        .arg("--quiet")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--resume"), "{}", stderr(&o));

    let o = Command::new(BIN)
        .args(args("killed"))
        .arg("--resume")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let report = stderr(&o);
    assert!(
        report.contains("if the run stops early, finish it with:"),
        "{report}"
    );
    assert!(report.contains("600 trajectories ("), "{report}");
    assert!(
        !report.contains("(600 simulated now)"),
        "resume redid everything: {report}"
    );

    let o = Command::new(BIN)
        .args(args("whole"))
        .arg("--quiet")
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let whole = tmp.path().join("whole");
    assert_eq!(dataset(&whole.join("trajectories")), dataset(&traj));
    for file in [
        "outcomes.parquet",
        "summary.parquet",
        "outcome_stats.parquet",
    ] {
        assert_eq!(
            table(&whole.join(file)),
            table(&killed.join(file)),
            "{file}"
        );
    }
    // The part files themselves are byte-identical (their content depends on the plan only).
    let bytes = |dir: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        parquet_files(dir)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(dir).unwrap().to_path_buf(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect()
    };
    assert!(bytes(&whole.join("trajectories")) == bytes(&traj));
    // No temporary file is left.
    assert!(dataset_leftovers(&killed).is_empty());
}

/// An unfinished run committed to git and cloned elsewhere keeps its files but not its empty
/// folders (`shards/` is empty until the run ends): `--resume` must still finish it.
#[test]
fn resume_finishes_a_run_whose_empty_folders_were_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write_model(tmp.path());
    let model = m.to_str().unwrap();
    let run = |out: &str, resume: bool| {
        let mut args = vec![
            "run",
            model,
            "--runs",
            "6",
            "--runs-per-part",
            "2",
            "--t-end",
            "4",
            "--quiet",
            "--out",
            out,
        ];
        if resume {
            args.push("--resume");
        }
        spinesim(tmp.path(), &args)
    };
    assert_exit(&run("whole", false), 0);
    assert_exit(&run("cloned", false), 0);
    // What a clone of the run committed after its first two parts holds.
    let cloned = tmp.path().join("cloned");
    std::fs::remove_dir_all(cloned.join("shards")).unwrap();
    for entry in std::fs::read_dir(&cloned).unwrap() {
        let p = entry.unwrap().path();
        if p.is_file() && p.file_name().unwrap() != "plan.json" {
            std::fs::remove_file(&p).unwrap();
        }
    }
    let mut removed = 0;
    for folder in ["trajectories", "outcome_parts"] {
        for p in parquet_files(&cloned.join(folder)) {
            if p.to_string_lossy().contains("part-0000000004-0000000006") {
                std::fs::remove_file(&p).unwrap();
                removed += 1;
            }
        }
    }
    assert!(removed > 0, "the last part was not found");
    assert!(!cloned.join("shards").exists());

    assert_exit(&run("cloned", true), 0);
    assert!(cloned.join("shards/shard-0-of-1.json").exists());
    let whole = tmp.path().join("whole");
    assert_eq!(
        dataset(&cloned.join("trajectories")),
        dataset(&whole.join("trajectories"))
    );
    assert_eq!(
        table(&cloned.join("summary.parquet")),
        table(&whole.join("summary.parquet"))
    );
}

/// A run started by a binary with another random stream (the same seed gives other
/// trajectories there) is not resumed: its plan names the stream, and the refusal names it.
#[test]
fn resume_refuses_a_run_of_another_random_stream() {
    let tmp = tempfile::tempdir().unwrap();
    let m = write_model(tmp.path());
    let model = m.to_str().unwrap();
    let run = |extra: Option<&str>| {
        let mut args = vec![
            "run", model, "--runs", "2", "--t-end", "4", "--quiet", "--out", "o",
        ];
        args.extend(extra);
        spinesim(tmp.path(), &args)
    };
    assert_exit(&run(None), 0);
    let plan_path = tmp.path().join("o/plan.json");
    let mut plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&plan_path).unwrap()).unwrap();
    assert_eq!(
        plan["random_stream"],
        spinesim::simulator::RANDOM_STREAM_VERSION
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("o/run.json")).unwrap())
            .unwrap();
    assert_eq!(meta["random_stream"], plan["random_stream"]);
    // As an older binary would have written it.
    plan["random_stream"] = (spinesim::simulator::RANDOM_STREAM_VERSION - 1).into();
    std::fs::write(&plan_path, serde_json::to_string_pretty(&plan).unwrap()).unwrap();
    let o = run(Some("--resume"));
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("random_stream"), "{}", stderr(&o));
}

fn dataset_leftovers(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(".partial") {
                out.push(p);
            }
        }
    }
    out
}

// ---------------------------------------------------------------- summary statistics

/// Birth–death from X(0) = 0: at t = 20 s, X ~ Poisson(10 (1 − e⁻²⁰)), so the Fano factor is 1
/// and the CV is 1/√λ. Over n = 1000 trajectories the delta method for a Poisson sample (with
/// μ₃ = λ, μ₄ = λ + 3λ²) gives sd(Fano) ≈ √(2/n) = 0.045 and sd(CV) ≈ CV·√(1/(2n) + 1/(4nλ))
/// = 0.0072; both bounds are 4 sd. sem is sd/√n exactly.
#[test]
fn summary_fano_and_cv_match_the_poisson_law() {
    let tmp = tempfile::tempdir().unwrap();
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/birth_death.toml");
    let o = spinesim(
        tmp.path(),
        &[
            "run",
            model.to_str().unwrap(),
            "--runs",
            "1000",
            "--t-end",
            "20",
            "--record-every",
            "10",
            "--seed",
            "3",
            "--quiet",
            "--out",
            "o",
        ],
    );
    assert_exit(&o, 0);
    let summary = tmp.path().join("o/summary.parquet");
    let (time, n) = (f64s(&summary, "time"), column(&summary, "n"));
    let (sd, sem) = (f64s(&summary, "sd"), f64s(&summary, "sem"));
    let (cv, fano) = (f64s(&summary, "cv"), f64s(&summary, "fano"));
    let i = time.iter().position(|&t| t == 20.0).unwrap();
    assert_eq!(n[i], "1000");
    assert!((sem[i] - sd[i] / 1000f64.sqrt()).abs() < 1e-12);
    let lambda = 10.0 * (1.0 - (-20f64).exp());
    let fano_sd = (2.0f64 / 1000.0).sqrt();
    assert!((fano[i] - 1.0).abs() < 4.0 * fano_sd, "Fano {}", fano[i]);
    let cv_sd = (1.0 / lambda).sqrt() * (0.5 / 1000.0 + 0.25 / (1000.0 * lambda)).sqrt();
    assert!(
        (cv[i] - (1.0 / lambda).sqrt()).abs() < 4.0 * cv_sd,
        "CV {} vs {}",
        cv[i],
        (1.0 / lambda).sqrt()
    );
    // At t = 0 every count is 0: mean 0, so CV and Fano are undefined (NaN), not infinite.
    let j = time.iter().position(|&t| t == 0.0).unwrap();
    assert!(cv[j].is_nan() && fano[j].is_nan());
}

// ---------------------------------------------------------------- interval coverage

/// Wilson 95 % intervals cover the true p at the nominal rate. The coverage of any interval
/// for a discrete binomial oscillates with (n, p), so p is drawn uniformly from [0.05, 0.95]
/// and n from {50, 100, 200}: the exact mean coverage over that design is 0.9508 (computed by
/// summing binomial probabilities), within 0.001 of 0.95. With M = 40 000 intervals the
/// coverage count has sd √(M·0.95·0.05) = 43.6; the bound is 4 sd (two-sided α ≈ 6e-5).
/// A Wald interval (p̂ ± z·√(p̂(1−p̂)/n)) has a mean coverage of 0.939 here (z ≈ −10) and fails.
#[test]
fn wilson_interval_covers_at_the_nominal_rate() {
    let mut rng = Pcg64::seed_from_u64(20261128);
    let m = 40_000u64;
    let mut covered = 0u64;
    for i in 0..m {
        let n = [50u64, 100, 200][(i % 3) as usize];
        let p: f64 = 0.05 + 0.9 * rng.random::<f64>();
        let k = Binomial::new(n, p).unwrap().sample(&mut rng);
        let (lo, hi) = wilson_interval(k, n, 0.95);
        assert!(lo <= k as f64 / n as f64 && k as f64 / n as f64 <= hi);
        if lo <= p && p <= hi {
            covered += 1;
        }
    }
    let expected = 0.95 * m as f64;
    let sd = (m as f64 * 0.95 * 0.05).sqrt();
    let z = (covered as f64 - expected) / sd;
    assert!(z.abs() < 4.0, "coverage {covered}/{m}, z = {z:.2}");
}

/// Student t 95 % intervals of the mean of n = 8 normal values cover the true mean in exactly
/// 95 % of samples; 4 sd of the coverage count over M = 20 000 samples.
#[test]
fn t_interval_covers_at_the_nominal_rate() {
    let mut rng = Pcg64::seed_from_u64(7);
    let normal = Normal::new(3.0, 2.0).unwrap();
    let (m, n) = (20_000u64, 8usize);
    let mut covered = 0u64;
    let mut sample = vec![0.0; n];
    for _ in 0..m {
        for x in sample.iter_mut() {
            *x = normal.sample(&mut rng);
        }
        let s = spinesim::output::summary::Stats::of(&mut sample);
        let (lo, hi) = t_interval(s.mean, s.sd, s.n, 0.95);
        if lo <= 3.0 && 3.0 <= hi {
            covered += 1;
        }
    }
    let sd = (m as f64 * 0.95 * 0.05).sqrt();
    let z = (covered as f64 - 0.95 * m as f64) / sd;
    assert!(z.abs() < 4.0, "coverage {covered}/{m}, z = {z:.2}");
}
