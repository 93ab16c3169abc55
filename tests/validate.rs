//! `spinesim validate --quick`: the sign-level targets of spine_bidirectional, through the real
//! binary (a few minutes in release mode on 2 cores).

use std::path::Path;
use std::process::Command;

use arrow::array::AsArray;
use arrow::datatypes::Float64Type;

use crate::common;

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

/// The quick validation passes, and its report lists every target with numbers.
#[test]
fn quick_validation_passes_the_sign_level_targets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("report");
    let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    let o = Command::new(BIN)
        .args(["validate", "--quick", "--models"])
        .arg(&models)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("spinesim runs");
    let md = std::fs::read_to_string(out.join("validation.md")).unwrap_or_default();
    assert!(
        o.status.success(),
        "exit {:?}\nstderr: {}\nreport:\n{md}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
    for target in ["V1", "V2", "V9", "V14", "V15", "V4", "V5", "V10", "V17"] {
        assert!(
            md.contains(&format!("| {target} |")),
            "{target} missing:\n{md}"
        );
    }
    assert!(!md.contains("FAIL"), "{md}");
    // The Parquet report has the same rows, with a pass column.
    let batch = common::first_batch(&out.join("validation.parquet"));
    let rows = md.lines().filter(|l| l.starts_with("| V")).count();
    assert_eq!(batch.num_rows(), rows);
    let pass = batch.column_by_name("pass").unwrap().as_boolean();
    assert_eq!(pass.iter().filter(|p| *p == Some(false)).count(), 0);
    assert!(pass.iter().filter(|p| *p == Some(true)).count() >= 5);
    // Every P(LTD) / P(LTP) comes with its Wilson 95 % CI, which contains it.
    for name in ["p_ltd", "p_ltp"] {
        let col = |s: &str| {
            batch
                .column_by_name(s)
                .unwrap()
                .as_primitive::<Float64Type>()
        };
        let (p, lo, hi) = (
            col(name),
            col(&format!("{name}_low")),
            col(&format!("{name}_high")),
        );
        let with_fraction = (0..batch.num_rows()).filter(|&i| p.value(i).is_finite());
        assert!(with_fraction.clone().count() > 0, "no {name}");
        for i in with_fraction {
            assert!(
                lo.value(i) <= p.value(i) && p.value(i) <= hi.value(i),
                "{name} row {i}"
            );
            assert!(hi.value(i) - lo.value(i) > 0.0, "{name} row {i}");
        }
    }
}

/// A missing model folder is an error naming the file, before any simulation.
#[test]
fn validate_without_the_model_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["validate", "--quick", "--models"])
        .arg(dir.path())
        .arg("--out")
        .arg(dir.path().join("r"))
        .output()
        .expect("spinesim runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("spine_bidirectional.toml"), "{err}");
}
