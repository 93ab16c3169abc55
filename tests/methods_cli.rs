//! `spinesim run --method …`: each method runs, `run.json` says which ran and, for tau-leaping,
//! with what settings and how many leaps; options that do not fit are refused before any work.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

fn run(cwd: &Path, extra: &[&str]) -> Output {
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/birth_death.toml");
    Command::new(BIN)
        .arg("run")
        .arg(&model)
        .args(["--runs", "4", "--t-end", "50", "--quiet", "--threads", "1"])
        .args(extra)
        .current_dir(cwd)
        .output()
        .expect("the spinesim binary runs")
}

fn run_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

#[test]
fn every_method_runs_and_run_json_names_it() {
    let tmp = tempfile::tempdir().unwrap();
    for (arg, name) in [
        ("ssa", "direct"),
        ("direct", "direct"),
        ("next-reaction", "next-reaction"),
        ("tau-leap", "tau-leap"),
    ] {
        let out = tmp.path().join(arg);
        let o = run(
            tmp.path(),
            &["--method", arg, "--out", out.to_str().unwrap()],
        );
        assert!(
            o.status.success(),
            "{arg}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let meta = run_json(&out);
        assert_eq!(meta["method"], name, "{arg}");
        assert!(meta["total_events"].as_u64().unwrap() > 0);
        if arg == "tau-leap" {
            assert_eq!(meta["tau_leap"]["epsilon"], 0.03);
            assert_eq!(meta["tau_leap"]["critical_firings"], 10);
            let (leaps, exact) = (
                meta["leaps"].as_u64().unwrap(),
                meta["exact_steps"].as_u64().unwrap(),
            );
            // Mean 10 molecules: every step is exact, and exact steps are events.
            assert_eq!(leaps, 0);
            assert_eq!(exact, meta["total_events"].as_u64().unwrap());
        } else {
            assert!(meta.get("tau_leap").is_none() && meta.get("leaps").is_none());
        }
    }
    let out = tmp.path().join("eps");
    let o = run(
        tmp.path(),
        &[
            "--method",
            "tau-leap",
            "--tau-epsilon",
            "0.1",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success());
    assert_eq!(run_json(&out)["tau_leap"]["epsilon"], 0.1);
}

#[test]
fn tau_options_that_do_not_fit_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for (args, message) in [
        (
            &["--tau-epsilon", "0.05"][..],
            "--tau-epsilon only applies to --method tau-leap",
        ),
        (
            &["--method", "tau-leap", "--tau-epsilon", "1.5"][..],
            "--tau-epsilon must be between 0 and 1",
        ),
        (
            &["--method", "tau-leap", "--tau-epsilon", "0"][..],
            "--tau-epsilon must be between 0 and 1",
        ),
    ] {
        let o = run(tmp.path(), args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(message), "{args:?}: {err}");
        assert!(
            !tmp.path().join("results").exists(),
            "{args:?} wrote output"
        );
    }
}

/// A custom propensity whose sensitivity has no bound (exp of a species) cannot be leapt: the
/// error names the reaction and the species.
#[test]
fn tau_leap_refuses_an_unbounded_custom_propensity() {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m.toml");
    std::fs::write(
        &model,
        r#"
[model]
name = "expo"
[[compartments]]
name = "cell"
volume = "1 fL"
[[parameters]]
name = "k"
value = "1 /s"
[[species]]
name = "X"
initial = 5
[[reactions]]
name = "grow"
equation = "-> X"
propensity = "k * exp(X / 100)"
"#,
    )
    .unwrap();
    let o = Command::new(BIN)
        .args([
            "run",
            model.to_str().unwrap(),
            "--t-end",
            "1",
            "--method",
            "tau-leap",
        ])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("reaction 'grow'") && err.contains("species 'X'"),
        "{err}"
    );
}

/// `--method ssa` picks the next-reaction method for a ring of 200 equal channels (the direct
/// method's sorted search would visit 100.5 channels per event) and the direct method for the
/// spine (a few channels carry most events).
#[test]
fn ssa_picks_next_reaction_for_many_equal_channels() {
    let tmp = tempfile::tempdir().unwrap();
    let mut text = String::from(
        "[model]\nname = \"ring\"\n[[compartments]]\nname = \"cell\"\nvolume = \"1 fL\"\n",
    );
    for i in 0..200 {
        text += &format!("[[species]]\nname = \"X{i}\"\ninitial = 10\n");
    }
    for i in 0..200 {
        let j = (i + 1) % 200;
        text += &format!(
            "[[reactions]]\nname = \"r{i}\"\nequation = \"X{i} -> X{j}\"\nrate = \"1 /s\"\n"
        );
    }
    let model = tmp.path().join("ring.toml");
    std::fs::write(&model, text).unwrap();
    let out = tmp.path().join("ring");
    let o = Command::new(BIN)
        .args([
            "run",
            model.to_str().unwrap(),
            "--t-end",
            "0.1",
            "--runs",
            "2",
            "--quiet",
        ])
        .args(["--out", out.to_str().unwrap()])
        .current_dir(tmp.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(run_json(&out)["method"], "next-reaction");

    let spine = spinesim::model::load_model(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("models/spine_ltd_core.toml"),
    )
    .unwrap();
    let net = spinesim::network::Network::compile(&spine);
    let depth = spinesim::simulator::sorted_search_depth(&net);
    assert!(depth < 10.0, "spine search depth {depth}");
    assert_eq!(
        spinesim::simulator::choose_exact(&net),
        spinesim::simulator::MethodRequest::Direct
    );
}
