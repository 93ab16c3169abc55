//! The slow-scale SSA's limits: a clamped species in a fast pair is refused before any work, and
//! a fast pair switched off (both constants 0, as a variant may set them) never fires: its
//! species keep their counts, and it gets its stationary law again when a protocol switches it
//! back on. ≈ 1 s in `--profile quick`.

use std::process::Command;

use spinesim::model::overrides::{self, Assignment};
use spinesim::model::spec::Amount;
use spinesim::simulator::{AnySimulator, MethodRequest};

use crate::common::{model, shipped_model, z_critical, Setup};

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

fn clamp(name: &str, count: i64) -> Assignment {
    Assignment {
        name: name.into(),
        value: Amount::Int(count),
        origin: "--clamp".into(),
        clamp: true,
    }
}

/// `A + B <-> C` fast with the constants `kon`, `koff` (in 1 fL: c_bind = 0.01 /s per pair,
/// c_unbind = 1 /s); slow: `-> A` at 5 /s, `A -> A + X` at 1 /s per A, `C -> C + Y` at
/// 0.5 /s per C. Variant `off` sets both constants to 0; protocol `on_at_5s` sets them back.
const PAIR: &str = r#"
[model]
name = "pair"
[[compartments]]
name = "c"
volume = "1 fL"
[[parameters]]
name = "kon"
value = "6.02214076 uM^-1 s^-1"
[[parameters]]
name = "koff"
value = "1 s^-1"
[[species]]
name = "A"
initial = 30
[[species]]
name = "B"
initial = 20
[[species]]
name = "C"
initial = 5
[[species]]
name = "X"
initial = 0
[[species]]
name = "Y"
initial = 0
[[reactions]]
name = "bind"
equation = "A + B <-> C"
rate = "kon"
reverse = "koff"
fast = true
[[reactions]]
name = "birth"
equation = "-> A"
rate = "0.00830269 uM/s"
[[reactions]]
name = "read_a"
equation = "A -> A + X"
rate = "1 /s"
[[reactions]]
name = "read_c"
equation = "C -> C + Y"
rate = "0.5 /s"
[variants.off]
set = { kon = "0 uM^-1 s^-1", koff = "0 s^-1" }
[[protocols]]
name = "on_at_5s"
[[protocols.events]]
time = "5 s"
actions = [ { set = "kon", value = "6.02214076 uM^-1 s^-1" }, { set = "koff", value = "1 s^-1" } ]
"#;

/// The pair model under the variant `off`.
fn switched_off() -> spinesim::model::Model {
    let base = model(PAIR);
    let off = overrides::variant_assignments(&base, &["off".into()]).unwrap();
    overrides::apply(&base, &off).unwrap().0
}

/// A clamped species in a fast pair: `SlowScale::new` refuses it, naming the species and the
/// reaction (on the shipped spine with Ca clamped, as V5 of `validate` clamps it); `spinesim
/// run` fails with exit 2 before creating its output folder.
#[test]
fn a_clamped_species_in_a_fast_pair_is_refused() {
    let base = model(PAIR);
    for species in ["A", "B", "C"] {
        let (m, _) = overrides::apply(&base, &[clamp(species, 10)]).unwrap();
        let net = spinesim::network::Network::compile(&m);
        let err = AnySimulator::new(MethodRequest::SlowScale, &net).unwrap_err();
        assert!(
            err.contains(&format!("'{species}'"))
                && err.contains("'bind'")
                && err.contains("clamped"),
            "{err}"
        );
        // Exact methods run it.
        assert!(AnySimulator::new(MethodRequest::Direct, &net).is_ok());
    }
    let (spine, _) = overrides::apply(
        &shipped_model("spine_bidirectional.toml"),
        &[clamp("Ca", 60)],
    )
    .unwrap();
    let err = AnySimulator::new(
        MethodRequest::SlowScale,
        &spinesim::network::Network::compile(&spine),
    )
    .unwrap_err();
    assert!(err.contains("'Ca'") && err.contains("'A12'"), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pair.toml");
    std::fs::write(&file, PAIR).unwrap();
    let out = dir.path().join("out");
    let o = Command::new(BIN)
        .arg("run")
        .arg(&file)
        .args([
            "--method",
            "slow-scale",
            "--clamp",
            "B=10",
            "--t-end",
            "1",
            "--runs",
            "2",
        ])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("spinesim runs");
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'B'") && stderr.contains("'bind'"),
        "{stderr}"
    );
    assert!(!out.exists(), "output written before the error");
}

/// Switched off, the pair's species keep their counts: B and C never move, A only grows by
/// births (A − 30 = births, so A never falls), and the slow channels read the true counts:
/// Y(10 s) ~ Poisson(0.5 · 5 · 10 = 25) exactly, and X(10 s) is a doubly stochastic Poisson count
/// with mean ∫ E[A] = 30·10 + 5·10²/2 = 550 and variance 550 + Var(∫ N) = 550 + 5·10³/3 (N the
/// Poisson birth process). n = 200; z on both means at family-wise α = 0.001 (α/2 each).
#[test]
fn a_fast_pair_switched_off_keeps_its_counts() {
    let s = Setup::new(switched_off(), None, 10.0, 0.5).with_method(MethodRequest::SlowScale);
    let [a, b, c, x, y] = ["A", "B", "C", "X", "Y"].map(|n| s.column(n));
    let end = s.row_at(10.0);
    let (mut xs, mut ys) = (Vec::new(), Vec::new());
    s.run(5, 200, |t| {
        let mut last_a = 30.0;
        for row in 0..=end {
            assert_eq!(s.value(t, row, b), 20.0);
            assert_eq!(s.value(t, row, c), 5.0);
            let now = s.value(t, row, a);
            assert!(now >= last_a, "A fell from {last_a} to {now}");
            last_a = now;
        }
        xs.push(s.value(t, end, x));
        ys.push(s.value(t, end, y));
    });
    let z_crit = z_critical(0.001 / 2.0);
    let z = |v: &[f64], mean: f64, var: f64| {
        (v.iter().sum::<f64>() / v.len() as f64 - mean) / (var / v.len() as f64).sqrt()
    };
    let (zx, zy) = (z(&xs, 550.0, 550.0 + 5000.0 / 3.0), z(&ys, 25.0, 25.0));
    assert!(
        zx.abs() < z_crit && zy.abs() < z_crit,
        "z(X) = {zx:.2}, z(Y) = {zy:.2}"
    );
}

/// Switched off until 5 s, then on (the cache of laws must not keep the point laws): at 10 s,
/// given the totals T_A = A + C and T_B = B + C of each trajectory, C is a draw from the pair's
/// law P(c) ∝ K^c / (c! (T_A − c)! (T_B − c)!), K = c_bind / c_unbind = 0.01 per pair.
/// z of Σ (C − E[C | T]) / √Σ Var[C | T] at α = 0.001, n = 300. Kept at C = 5 the whole run
/// would give z ≈ −50 (E[C | T] ≈ 10–11, sd ≈ 2).
#[test]
fn a_fast_pair_switched_back_on_gets_its_law() {
    let base = switched_off();
    let s = Setup::new(base, Some("on_at_5s"), 10.0, 10.0).with_method(MethodRequest::SlowScale);
    let [a, b, c] = ["A", "B", "C"].map(|n| s.column(n));
    let end = s.row_at(10.0);
    let k = 0.01;
    let (mut deviation, mut variance) = (0.0, 0.0);
    s.run(7, 300, |t| {
        let (count_a, count_b, count_c) = (
            s.value(t, end, a) as i64,
            s.value(t, end, b) as i64,
            s.value(t, end, c) as i64,
        );
        let (ta, tb) = (count_a + count_c, count_b + count_c);
        // The law by its ratio recursion from c = 0 (small totals: no underflow).
        let mut w = vec![1.0];
        for j in 0..ta.min(tb) {
            let next = w[j as usize] * k * (ta - j) as f64 * (tb - j) as f64 / (j + 1) as f64;
            w.push(next);
        }
        let z: f64 = w.iter().sum();
        let mean = w.iter().enumerate().map(|(j, p)| j as f64 * p).sum::<f64>() / z;
        let second = w
            .iter()
            .enumerate()
            .map(|(j, p)| (j * j) as f64 * p)
            .sum::<f64>()
            / z;
        deviation += count_c as f64 - mean;
        variance += second - mean * mean;
    });
    let z = deviation / variance.sqrt();
    assert!(z.abs() < z_critical(0.001), "z = {z:.2}");
}
