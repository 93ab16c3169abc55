//! Parameters driven by pulse trains (summed exponential kernels, piecewise constant): the
//! schedule's values against the closed form, and the validation of drives.

use spinesim::model::{parse_model, Action};
use spinesim::schedule::{Schedule, DRIVE_MAX_LAG};

use crate::common::model;

const DRIVEN: &str = r#"
[model]
name = "driven"
[[compartments]]
name = "c"
volume = "1 fL"
[[parameters]]
name = "V"
value = "-65 mV"
[[species]]
name = "X"
initial = 0
[[reactions]]
name = "never"
equation = "X ->"
rate = "0 /s"
[[protocols]]
name = "two_trains"
drive_samples = ["0 ms", "10 ms"]
[[protocols.trains]]
start = "1 s"
frequency = "2 Hz"
count = 2
drives = [ { parameter = "V", step = "20 mV", tau = "50 ms" } ]
[[protocols.trains]]
start = "1.005 s"
frequency = "1 Hz"
count = 1
drives = [ { parameter = "V", step = "5 mV", tau = "200 ms" } ]
"#;

/// The kernel sum of the pulses at or before `u`, evaluated at `s`.
fn kernel_sum(u: f64, s: f64) -> f64 {
    let mut v = -65.0;
    for t in [1.0, 1.5] {
        if t <= u {
            v += 20.0 * (-(s - t) / 0.05f64).exp();
        }
    }
    if 1.005 <= u {
        v += 5.0 * (-(s - 1.005) / 0.2f64).exp();
    }
    v
}

/// Updates at every pulse + each sample offset + 10 τ_max; the value is the kernel sum at the
/// middle of the interval to the next update, at most DRIVE_MAX_LAG into it.
#[test]
fn driven_values_match_the_closed_form() {
    let m = model(DRIVEN);
    let schedule = Schedule::new(m.protocol("two_trains").unwrap(), 10.0);
    let mut updates: Vec<f64> = vec![1.0, 1.01, 3.0, 1.5, 1.51, 3.5, 1.005, 1.015, 3.005];
    updates.sort_by(f64::total_cmp);
    let got: Vec<(f64, f64)> = schedule
        .events()
        .iter()
        .flat_map(|e| {
            schedule.actions(e).iter().map(move |a| match *a {
                Action::SetParameter { value, .. } => (e.time, value),
                ref other => panic!("unexpected action {other:?}"),
            })
        })
        .collect();
    assert_eq!(got.len(), updates.len());
    for (i, (&(t, v), &u)) in got.iter().zip(&updates).enumerate() {
        assert!((t - u).abs() < 1e-12, "update {i} at {t}, expected {u}");
        let lag = updates
            .get(i + 1)
            .map_or(DRIVE_MAX_LAG, |next| ((next - u) / 2.0).min(DRIVE_MAX_LAG));
        let want = kernel_sum(u, u + lag);
        assert!(
            (v - want).abs() < 1e-12,
            "update {i} at {u}: {v} mV, expected {want} mV"
        );
    }
    // The last update returns to rest within 5e-5 of a kernel height.
    assert!((got.last().unwrap().1 + 65.0).abs() < 20.0 * 5e-5);
}

/// A run that ends early keeps only the updates up to its end.
#[test]
fn driven_updates_stop_at_t_end() {
    let m = model(DRIVEN);
    let schedule = Schedule::new(m.protocol("two_trains").unwrap(), 1.2);
    let times: Vec<f64> = schedule.events().iter().map(|e| e.time).collect();
    assert_eq!(times.len(), 4);
    assert!(times.iter().all(|&t| t <= 1.2));
}

fn load_error(text: &str) -> String {
    parse_model(text, std::path::Path::new("bad.toml"))
        .unwrap_err()
        .to_string()
}

/// Drives are validated like everything else: unknown parameter, wrong unit, a driven
/// parameter that an action also sets, samples that do not start at 0.
#[test]
fn bad_drives_are_located_errors() {
    let e = load_error(&DRIVEN.replace(
        "parameter = \"V\", step = \"20 mV\"",
        "parameter = \"Vm\", step = \"20 mV\"",
    ));
    assert!(
        e.contains("bad.toml:")
            && e.contains("unknown parameter 'Vm'")
            && e.contains("did you mean 'V'"),
        "{e}"
    );
    let e = load_error(&DRIVEN.replace("step = \"20 mV\"", "step = \"20 s\""));
    assert!(e.contains("drive step for 'V'"), "{e}");
    let e = load_error(&DRIVEN.replace(
        "count = 1\n",
        "count = 1\non = [ { set = \"V\", value = \"0 mV\" } ]\n",
    ));
    assert!(e.contains("driven by a train and also set"), "{e}");
    let e = load_error(&DRIVEN.replace("[\"0 ms\", \"10 ms\"]", "[\"10 ms\"]"));
    assert!(e.contains("drive_samples must start at"), "{e}");
}
