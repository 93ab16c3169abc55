//! The `first_passage` outcome: the time of commitment, tested against the exact
//! (hypoexponential) distribution of a pure death process.

use spinesim::outcome::OutcomeValue;

use crate::common::{model, Setup};

/// X = 100 molecules die at rate k per molecule from t = 1 s (k = 0 before), so the baseline
/// mean over [0, 1 s] is exactly 100 and X first reaches 90 (−10 %) at the 10th death: a sum
/// of exponentials with rates 100k, 99k, …, 91k after the window starts at 1 s.
const DEATH: &str = r#"
[model]
name = "death"
[[compartments]]
name = "c"
volume = "1 fL"
[[parameters]]
name = "k"
value = "0 /s"
[[species]]
name = "X"
initial = 100
[[reactions]]
name = "death"
equation = "X ->"
rate = "k"
[[protocols]]
name = "start"
[[protocols.events]]
time = "1 s"
actions = [ { set = "k", value = "0.5 /s" } ]
[[outcomes]]
name = "t_commit"
kind = "first_passage"
observable = "X"
baseline = ["0 s", "1 s"]
window = ["1 s", "end"]
below = -10.0
"#;

fn passage_times(text: &str, t_end: f64, runs: u64) -> Vec<f64> {
    let s = Setup::new(model(text), Some("start"), t_end, t_end);
    let mut out = Vec::new();
    s.run(2024, runs, |t| match t.outcomes[0] {
        OutcomeValue::Scalar(v) => out.push(v),
        ref other => panic!("unexpected {other:?}"),
    });
    out
}

/// Mean and variance of the passage time against the hypoexponential's exact moments
/// (z-score on the mean; the variance through the sample variance's standard error).
#[test]
fn first_passage_time_has_the_exact_moments() {
    let k = 0.5;
    let runs = 4000;
    let times = passage_times(DEATH, 20.0, runs);
    assert!(times.iter().all(|t| t.is_finite() && *t > 0.0));
    let mean: f64 = (91..=100).map(|n| 1.0 / (n as f64 * k)).sum();
    let var: f64 = (91..=100).map(|n| 1.0 / (n as f64 * k).powi(2)).sum();
    let n = runs as f64;
    let m = times.iter().sum::<f64>() / n;
    let s2 = times.iter().map(|t| (t - m).powi(2)).sum::<f64>() / (n - 1.0);
    let z = (m - mean) / (var / n).sqrt();
    assert!(z.abs() < 4.0, "mean {m} vs exact {mean}: z = {z}");
    // Var(s²) ≈ (μ4 − σ⁴)/n; the sum of 10 similar exponentials is close to a gamma with
    // shape ≈ 10, whose excess kurtosis is 6/10, so μ4 − σ⁴ ≈ (2 + 0.6) σ⁴.
    let z_var = (s2 - var) / (2.6 * var * var / n).sqrt();
    assert!(
        z_var.abs() < 4.0,
        "variance {s2} vs exact {var}: z = {z_var}"
    );
}

/// A level that is never reached gives NaN, and a passage already true when the window
/// opens gives 0.
#[test]
fn first_passage_never_and_immediately() {
    let never = passage_times(&DEATH.replace("below = -10.0", "below = -99.9"), 2.0, 20);
    assert!(never.iter().all(|t| t.is_nan()), "{never:?}");
    let at_once = passage_times(&DEATH.replace("below = -10.0", "below = 0.0"), 2.0, 5);
    assert!(at_once.iter().all(|&t| t == 0.0), "{at_once:?}");
}

/// With a hold time, a pure death process (which never comes back up) gives the same passage
/// time as without, as long as the run lasts `hold` beyond it, and NaN otherwise: checked
/// trajectory by trajectory on the same seeds.
#[test]
fn first_passage_with_hold_on_a_one_way_path() {
    let (t_end, hold) = (4.21, 3.0); // passages take about 0.21 s: about half are cut
    let plain = passage_times(DEATH, t_end, 400);
    let held = passage_times(
        &DEATH.replace("below = -10.0", "below = -10.0\nhold = \"3 s\""),
        t_end,
        400,
    );
    let window_start = 1.0;
    let mut cut = 0;
    for (p, h) in plain.iter().zip(&held) {
        if window_start + p + hold <= t_end {
            assert_eq!(p, h);
        } else {
            assert!(
                h.is_nan(),
                "passage {p} s cannot be held {hold} s before {t_end} s"
            );
            cut += 1;
        }
    }
    assert!(
        cut > 0,
        "the test should include stays cut by the end of the run"
    );
}

/// A switch X = 1 ⇄ 0 (off at rate a, back on at rate b from t = 1 s) with level 0.5 and a hold
/// h: the passage is the start of the first off period that lasts at least h. With
/// p = exp(−b h), E[T] = (1/p)(1/a) + (1/p − 1) E[D | D < h], where
/// E[D | D < h] = 1/b − h p / (1 − p). z-score of the sample mean.
#[test]
fn first_passage_with_hold_matches_the_exact_mean() {
    let switch = r#"
[model]
name = "switch"
[[compartments]]
name = "c"
volume = "1 fL"
[[parameters]]
name = "a"
value = "0 /s"
[[parameters]]
name = "b"
value = "0 /s"
[[species]]
name = "X"
initial = 1
[[species]]
name = "Y"
initial = 0
[[reactions]]
name = "off"
equation = "X -> Y"
rate = "a"
[[reactions]]
name = "on"
equation = "Y -> X"
rate = "b"
[[protocols]]
name = "start"
[[protocols.events]]
time = "1 s"
actions = [ { set = "a", value = "1 /s" }, { set = "b", value = "1 /s" } ]
[[outcomes]]
name = "t_commit"
kind = "first_passage"
observable = "X"
baseline = ["0 s", "1 s"]
window = ["1 s", "end"]
below = -50.0
hold = "1 s"
"#;
    let (a, b, h) = (1.0f64, 1.0f64, 1.0f64);
    let runs = 4000;
    let times = passage_times(switch, 80.0, runs);
    assert!(times.iter().all(|t| t.is_finite() && *t >= 0.0));
    let p = (-b * h).exp();
    let short_off = 1.0 / b - h * p / (1.0 - p);
    let exact = 1.0 / (p * a) + (1.0 / p - 1.0) * short_off;
    let n = runs as f64;
    let m = times.iter().sum::<f64>() / n;
    let s2 = times.iter().map(|t| (t - m).powi(2)).sum::<f64>() / (n - 1.0);
    let z = (m - exact) / (s2 / n).sqrt();
    assert!(z.abs() < 4.0, "mean {m} vs exact {exact}: z = {z}");
    // Without the hold the first touch counts: the mean is 1/a.
    let touch = passage_times(&switch.replace("hold = \"1 s\"\n", ""), 80.0, runs);
    let mt = touch.iter().sum::<f64>() / n;
    let zt = (mt - 1.0 / a) / (1.0 / a / n.sqrt());
    assert!(zt.abs() < 4.0, "mean {mt} vs exact {}: z = {zt}", 1.0 / a);
}
