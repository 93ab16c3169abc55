//! `spinesim validate --method`: the flag, where the method reaches, and how the report names it.
//! The quick validation itself runs once, with the direct method, in `tests/validate.rs`; these
//! tests cost ≈ 1 s.

use std::path::Path;
use std::process::Command;

use spinesim::model::{Action, Protocol, Train};
use spinesim::simulator::MethodRequest;
use spinesim::validate::ensemble::{simulate, Condition, OutcomeChoice, ProtocolChoice};
use spinesim::validate::{Ensemble, Report, Row};

use crate::common::shipped_model;

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

fn models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// An unknown method is a usage error listing the two methods.
#[test]
fn validate_refuses_an_unknown_method() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new(BIN)
        .args(["validate", "--quick", "--method", "bogus", "--out"])
        .arg(dir.path().join("r"))
        .output()
        .expect("spinesim runs");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bogus") && err.contains("direct") && err.contains("slow-scale"),
        "{err}"
    );
    assert!(!dir.path().join("r").exists());
}

/// `--quick --method slow-scale` is accepted and reaches the simulator factory: with a spine
/// model whose buffer is not marked fast, it stops at once (exit 2, the error names the missing
/// `fast = true` and the first condition) and writes no report.
#[test]
fn validate_slow_scale_reaches_the_simulators() {
    let dir = tempfile::tempdir().unwrap();
    let models = dir.path().join("models");
    std::fs::create_dir(&models).unwrap();
    for file in ["spine_mglur_ltd.toml", "ecb_ltd.toml", "release_std.toml"] {
        std::fs::copy(models_dir().join(file), models.join(file)).unwrap();
    }
    let spine = std::fs::read_to_string(models_dir().join("spine_bidirectional.toml")).unwrap();
    assert_eq!(spine.matches("\nfast = true\n").count(), 1, "A12 only");
    std::fs::write(
        models.join("spine_bidirectional.toml"),
        spine.replace("\nfast = true\n", "\n"),
    )
    .unwrap();
    let out = dir.path().join("report");
    let o = Command::new(BIN)
        .args(["validate", "--quick", "--method", "slow-scale", "--models"])
        .arg(&models)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("spinesim runs");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("fast = true") && err.contains("freq_1hz"),
        "{err}"
    );
    assert!(!out.join("validation.md").exists());
}

/// A validation condition simulated with the slow-scale SSA says so, with its separation
/// diagnostic; the direct method is the default elsewhere. Two pulses of the 1 Hz train, 2 runs.
#[test]
fn a_condition_runs_with_its_method() {
    let model = shipped_model("spine_bidirectional.toml");
    let mut train: Train = model.protocol("freq_1hz").unwrap().trains[0].clone();
    train.start = 0.5;
    train.count = 2;
    assert!(matches!(train.on[0], Action::Binomial { .. }));
    let protocol = Protocol {
        name: "two_pulses".into(),
        description: String::new(),
        t_end: None,
        trains: vec![train],
        events: Vec::new(),
        drive_samples: model.protocol("freq_1hz").unwrap().drive_samples.clone(),
    };
    for (method, name) in [
        (MethodRequest::SlowScale, "slow-scale"),
        (MethodRequest::Direct, "direct"),
    ] {
        let condition = Condition {
            protocol: ProtocolChoice::Built(protocol.clone()),
            variants: Vec::new(),
            assignments: Vec::new(),
            t_end: 2.0,
            record_every: 1.0,
            record: vec!["Ca".into()],
            outcomes: vec![OutcomeChoice::Integral("Ca".into(), 0.5, 2.0)],
            runs: 2,
            method,
        };
        let result = simulate(&model, &condition, 1, 1).unwrap();
        assert_eq!(result.method, name);
        assert_eq!(result.slow_scale_separation.is_some(), name == "slow-scale");
        let ensemble = result.ensemble("two pulses");
        assert_eq!((ensemble.method.as_str(), ensemble.trajectories), (name, 2));
    }
}

/// The Markdown names the method of every row and ensemble, and its header which targets each
/// method ran; the Parquet file has a method column.
#[test]
fn the_report_names_the_methods() {
    let row = |target: &str, method: &str| Row {
        condition: format!("{target} condition"),
        method: method.into(),
        n: 4,
        mean: 1.0,
        ci_low: 0.5,
        ci_high: 1.5,
        ..Row::verdict(target, "check", "expected", "got".into(), Some(true))
    };
    let ensemble = |condition: &str, method: &str, separation: Option<f64>| Ensemble {
        condition: condition.into(),
        method: method.into(),
        trajectories: 4,
        events: 1000,
        slow_scale_separation: separation,
        seconds: 1.0,
        cached: false,
    };
    let report = Report {
        rows: vec![
            row("V1", "slow-scale"),
            Row::verdict("V1", "summary", "expected", "got".into(), Some(true)),
            row("V2", "slow-scale"),
            row("V14", "direct"),
            row("V17", "direct"),
        ],
        ensembles: vec![
            ensemble("freq_1hz (1200 s)", "slow-scale", Some(0.0045)),
            ensemble("one release", "direct", None),
        ],
        wall_seconds: 1.0,
        command: "spinesim validate --quick --method slow-scale".into(),
        quick: true,
    };
    assert_eq!(
        report.methods(),
        vec![
            (
                "slow-scale".to_string(),
                vec!["V1".to_string(), "V2".into()]
            ),
            ("direct".to_string(), vec!["V14".to_string(), "V17".into()]),
        ]
    );
    let md = report.markdown();
    assert!(
        md.contains("Method slow-scale: V1, V2 (1 ensembles)."),
        "{md}"
    );
    assert!(
        md.contains("Method direct: V14, V17 (1 ensembles)."),
        "{md}"
    );
    assert!(
        md.contains("Smallest separation of time scales seen: 4.50e-3"),
        "{md}"
    );
    assert!(
        md.contains("| V14 | check | V14 condition | direct |"),
        "{md}"
    );
    assert!(
        md.contains("| freq_1hz (1200 s) | slow-scale | 4 | 1.000e3 | 4.50e-3 |"),
        "{md}"
    );
    assert!(
        md.contains("| one release | direct | 4 | 1.000e3 |  |"),
        "{md}"
    );

    let dir = tempfile::tempdir().unwrap();
    report.write(dir.path()).unwrap();
    let batch = crate::common::first_batch(&dir.path().join("validation.parquet"));
    use arrow::array::AsArray;
    let methods: Vec<&str> = batch
        .column_by_name("method")
        .unwrap()
        .as_string::<i32>()
        .iter()
        .map(|m| m.unwrap())
        .collect();
    assert_eq!(
        methods,
        ["slow-scale", "", "slow-scale", "direct", "direct"]
    );
}
