//! Clamped species (`constant = true`, `--clamp NAME=VALUE`): reactions read them but do not
//! change them, and a reaction that changes only clamped species never fires.

use spinesim::model::overrides::{self, Assignment};
use spinesim::model::spec::Amount;

use crate::common::{model, z_mean, Setup, EXACT_METHODS};

/// S feeds P (S → P at k) and is also removed (S → ∅ at 3/s); P dies at g. With S clamped at
/// 50, P is an immigration–death process with rate 50 k: P(t) ~ Poisson(50 k / g (1 − e^{−g t}))
/// from P(0) = 0, and S → ∅ changes nothing.
const FEED: &str = r#"
[model]
name = "feed"
[[compartments]]
name = "c"
volume = "1 fL"
[[species]]
name = "S"
initial = 10
[[species]]
name = "P"
initial = 0
[[reactions]]
name = "feed"
equation = "S -> P"
rate = "0.5 /s"
[[reactions]]
name = "loss"
equation = "S ->"
rate = "3 /s"
[[reactions]]
name = "death"
equation = "P ->"
rate = "0.1 /s"
"#;

fn clamp_s_at_50() -> spinesim::model::Model {
    let base = model(FEED);
    let clamp = Assignment {
        name: "S".into(),
        value: Amount::Int(50),
        origin: "--clamp".into(),
        clamp: true,
    };
    overrides::apply(&base, &[clamp])
        .expect("S can be clamped")
        .0
}

/// The clamped species never moves; P has the Poisson mean and variance at t = 30 s (z-scores),
/// for every exact method; the inert channel `loss` never fires (events = P births + deaths).
#[test]
fn a_clamped_species_feeds_reactions_without_changing() {
    let (k, g, t): (f64, f64, f64) = (0.5, 0.1, 30.0);
    let mean = 50.0 * k / g * (1.0 - (-g * t).exp());
    let setup = Setup::new(clamp_s_at_50(), None, t, 1.0);
    let (s_col, p_col) = (setup.column("S"), setup.column("P"));
    for method in EXACT_METHODS {
        let mut finals = Vec::new();
        let mut events = 0.0;
        let stats = setup.run_method(method, 7, 2000, |tr| {
            for row in 0..setup.plan.record_times.len() {
                assert_eq!(setup.value(tr, row, s_col), 50.0, "S moved");
            }
            finals.push(setup.value(tr, setup.row_at(t), p_col));
        });
        events += stats.events as f64;
        let z = z_mean(&finals, mean, mean.sqrt());
        assert!(z.abs() < 4.0, "{method:?}: mean P {z} sd from {mean}");
        let n = finals.len() as f64;
        let m = finals.iter().sum::<f64>() / n;
        let var = finals.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
        // Var(s²) of a Poisson sample ≈ (μ + 2μ²)/n.
        let z_var = (var - mean) / ((mean + 2.0 * mean * mean) / n).sqrt();
        assert!(z_var.abs() < 4.0, "{method:?}: variance {var} vs {mean}");
        // Births (≈ 50 k t per run) and deaths only: `loss` alone would add 150 per second.
        let births = 50.0 * k * t * n;
        assert!(
            events < 2.0 * births,
            "{method:?}: {events} events for about {births} births: the inert channel fired"
        );
    }
}

/// `constant = true` in the file means the same as a clamp.
#[test]
fn constant_in_the_file_equals_a_clamp() {
    let file = model(&FEED.replace(
        "name = \"S\"\ninitial = 10",
        "name = \"S\"\ninitial = 50\nconstant = true",
    ));
    let clamped = clamp_s_at_50();
    let a = Setup::new(file, None, 10.0, 1.0).one(3);
    let b = Setup::new(clamped, None, 10.0, 1.0).one(3);
    assert_eq!(a.samples, b.samples);
}

/// Only species can be clamped.
#[test]
fn clamping_a_parameter_is_an_error() {
    let base = model(&FEED.replace(
        "[[species]]\nname = \"S\"",
        "[[parameters]]\nname = \"k\"\nvalue = \"1 /s\"\n[[species]]\nname = \"S\"",
    ));
    let clamp = Assignment {
        name: "k".into(),
        value: Amount::Text("2 /s".into()),
        origin: "--clamp".into(),
        clamp: true,
    };
    let err = overrides::apply(&base, &[clamp]).unwrap_err();
    assert!(err.contains("only species can be clamped"), "{err}");
}
