//! Accuracy of the slow-scale SSA on the shipped `spine_bidirectional` (its buffer pair `A12`,
//! `Ca + Bf <-> BfCa`, marked fast) under an LFS-like train: the use `spinesim validate
//! --method slow-scale` makes of it. `tests/slow_scale.rs` checks the method on small models
//! with exact answers and on `spine_ltd_core` under 2 pulses; this test runs the full spine
//! model (CaN, CaMKII, PKA/PP1, AMPAR trafficking, structure) through a 1 Hz train long enough
//! for the Ca-driven enzymes to build up and for AMPAR phosphorylation to move.
//!
//! Protocol: the model's `freq_1hz` pulse (binomial release from the docked vesicles, EPSP
//! conductance drives) at 1 Hz × [`PULSES`] from 0.5 s, then a [`TAIL`] s tail. Per trajectory:
//! the time integrals of free and buffer-bound Ca from the first pulse to the end, the peak and
//! the integral of active CaN, and the bound Ca, synaptic S845-P and surface AMPAR counts at the
//! end (a recorded fast species is a draw from its conditional law).
//! Two-sample KS (critical value from the asymptotic Kolmogorov distribution,
//! c(α) = √(−ln(α/2)/2)) and a z-test on the difference of means for each, at family-wise
//! α = 0.001 split over the 2 × 7 tests (Bonferroni). Nothing is tuned. Power, checked by hand
//! with the fast pair's K made 10 % too large: the bound-Ca integral and bound Ca at the end
//! fail (z = 4.2 and 4.0 against 3.97), the other outcomes do not move (free Ca is set by influx
//! and extrusion, not by the buffer's K); so this test resolves K to about 10 %.

use spinesim::model::{Model, Outcome, OutcomeKind, Quantity, TimePoint, Window};
use spinesim::outcome::OutcomeValue;
use spinesim::simulator::{MethodRequest, SimStats};

use crate::common::{
    ks_two_sample, ks_two_sample_critical, mean_var, shipped_model, z_critical, Setup,
};

/// Pulses of the train (1 Hz).
const PULSES: u64 = 30;
/// Simulated time after the last pulse (s).
const TAIL: f64 = 5.0;
/// First pulse (s).
const START: f64 = 0.5;

/// `spine_bidirectional` with the train `lfs_short` added and the outcomes of this test in
/// place of its own (which need the 600 s baseline of the shipped protocols).
fn spine_lfs(t_end: f64) -> Model {
    let mut m = shipped_model("spine_bidirectional.toml");
    assert!(
        m.reactions.iter().any(|r| r.fast && r.name == "A12"),
        "the shipped spine marks its buffer A12 fast"
    );
    let mut lfs = m.protocol("freq_1hz").expect("freq_1hz").clone();
    lfs.name = "lfs_short".into();
    let [train] = lfs.trains.as_mut_slice() else {
        panic!("freq_1hz is one train")
    };
    train.start = START;
    train.count = PULSES;
    lfs.t_end = Some(t_end);
    m.protocols.push(lfs);
    let quantity = |name: &str| {
        m.observables
            .iter()
            .position(|o| o.name == name)
            .map(Quantity::Observable)
            .or_else(|| {
                m.species
                    .iter()
                    .position(|s| s.name == name)
                    .map(Quantity::Species)
            })
            .unwrap_or_else(|| panic!("no '{name}'"))
    };
    let from_first_pulse = Window {
        start: TimePoint::Absolute(START),
        end: TimePoint::BeforeEnd(0.0),
    };
    let outcomes = vec![
        Outcome {
            name: "Ca_integral".into(),
            quantity: quantity("Ca"),
            kind: OutcomeKind::Integral(from_first_pulse),
        },
        Outcome {
            name: "BfCa_integral".into(),
            quantity: quantity("BfCa"),
            kind: OutcomeKind::Integral(from_first_pulse),
        },
        Outcome {
            name: "CaN_active_peak".into(),
            quantity: quantity("CaN_active"),
            kind: OutcomeKind::Peak(Window::WHOLE_RUN),
        },
        Outcome {
            name: "CaN_active_integral".into(),
            quantity: quantity("CaN_active"),
            kind: OutcomeKind::Integral(from_first_pulse),
        },
    ];
    m.outcomes = outcomes;
    m.record = vec![
        quantity("BfCa"),
        quantity("S845P_syn"),
        quantity("AMPAR_surface"),
    ];
    m
}

/// The seven samples of `runs` trajectories: the four outcomes, then the recorded quantities
/// at the end.
fn samples(s: &Setup, request: MethodRequest, seed: u64, runs: u64) -> (Vec<Vec<f64>>, SimStats) {
    let mut out = vec![Vec::new(); 7];
    let end = s.plan.record_times.len() - 1;
    let stats = s.run_method(request, seed, runs, |t| {
        for (v, o) in out.iter_mut().zip(&t.outcomes) {
            match o {
                OutcomeValue::Scalar(x) => v.push(*x),
                other => panic!("unexpected outcome {other:?}"),
            }
        }
        for column in 0..3 {
            out[4 + column].push(s.value(t, end, column));
        }
    });
    (out, stats)
}

/// Slow-scale against the direct method, n = [`RUNS`] each (different seeds). The pulses' NMDA
/// Ca influx outpaces the buffer's relaxation (the separation diagnostic falls to ≈ 0.005 during
/// a pulse), so this is where the approximation could show.
#[test]
fn spine_bidirectional_lfs_train_matches_exact_ssa() {
    let runs = RUNS;
    let t_end = START + (PULSES - 1) as f64 + TAIL;
    let s = Setup::new(spine_lfs(t_end), Some("lfs_short"), t_end, t_end);
    let started = std::time::Instant::now();
    let (exact, exact_stats) = samples(&s, MethodRequest::Direct, 101, runs);
    let exact_seconds = started.elapsed().as_secs_f64();
    let (slow, slow_stats) = samples(&s, MethodRequest::SlowScale, 202, runs);
    let slow_seconds = started.elapsed().as_secs_f64() - exact_seconds;
    eprintln!(
        "spine_bidirectional, {PULSES} pulses at 1 Hz + {TAIL} s, n = {runs}: direct \
         {exact_seconds:.1} s ({} events), slow-scale {slow_seconds:.1} s ({} slow events, \
         separation {:?})",
        exact_stats.events, slow_stats.events, slow_stats.slow_scale_separation
    );
    let names = [
        "Ca integral",
        "BfCa integral",
        "CaN_active peak",
        "CaN_active integral",
        "BfCa at end",
        "S845P_syn at end",
        "AMPAR_surface at end",
    ];
    let alpha = 0.001 / (2 * names.len()) as f64;
    let (d_crit, z_crit) = (
        ks_two_sample_critical(alpha, runs as usize, runs as usize),
        z_critical(alpha),
    );
    let mut failures = Vec::new();
    for ((x, y), name) in exact.iter().zip(&slow).zip(names) {
        let d = ks_two_sample(x, y);
        let ((mx, vx), (my, vy)) = (mean_var(x), mean_var(y));
        let se = (vx / x.len() as f64 + vy / y.len() as f64).sqrt();
        let z = if se > 0.0 { (my - mx) / se } else { 0.0 };
        let line = format!(
            "{name}: direct mean {mx:.3} (sd {:.3}), slow-scale {my:.3} (sd {:.3}); z = {z:.2} \
             (critical {z_crit:.2}); KS D = {d:.4} (critical {d_crit:.4})",
            vx.sqrt(),
            vy.sqrt()
        );
        eprintln!("{line}");
        if d >= d_crit || z.abs() >= z_crit {
            failures.push(line);
        }
    }
    assert!(
        failures.is_empty(),
        "slow-scale differs from exact SSA:\n{}",
        failures.join("\n")
    );
    assert!(
        slow_stats.events * 2 < exact_stats.events,
        "no saving: {slow_stats:?} against {exact_stats:?}"
    );
}

/// Trajectories per method.
const RUNS: u64 = 80;
