//! Triggered SBML events (`src/simulator/triggers.rs`), one small model per semantic feature,
//! each with an exact expectation: first-passage distributions of a death process (where
//! X(t) ~ Binomial(X₀, e^{−μt}), so P(τ ≤ t) is a binomial CDF) judged by a KS distance on the
//! recording grid, binomial z-tests for probabilities, and deterministic invariants that a late or
//! missed trigger would break. Each exact method (direct, next-reaction) is tested.

use std::path::Path;
use std::process::Command;

use spinesim::model::Model;
use spinesim::sbml::parse_sbml;
use spinesim::simulator::{AnySimulator, MethodRequest, TauLeapSettings};
use spinesim::trajectory::{Trajectory, Worker};
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::common::{ks_critical, z_critical, Setup, EXACT_METHODS};

const TIME: &str =
    r#"<csymbol encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time">t</csymbol>"#;

fn ap(op: &str, args: &[&str]) -> String {
    format!("<apply><{op}/>{}</apply>", args.concat())
}

fn ci(x: &str) -> String {
    format!("<ci>{x}</ci>")
}

fn cn(x: f64) -> String {
    format!("<cn>{x}</cn>")
}

fn math(inner: &str) -> String {
    format!(r#"<math xmlns="http://www.w3.org/1998/Math/MathML">{inner}</math>"#)
}

/// An event, written as SBML L3V1.
struct Ev {
    id: &'static str,
    trigger: String,
    initial_value: bool,
    persistent: bool,
    delay: Option<String>,
    priority: Option<String>,
    from_trigger_time: bool,
    assign: Vec<(&'static str, String)>,
}

impl Ev {
    fn new(id: &'static str, trigger: String, assign: &[(&'static str, String)]) -> Ev {
        Ev {
            id,
            trigger,
            initial_value: false,
            persistent: true,
            delay: None,
            priority: None,
            from_trigger_time: true,
            assign: assign.to_vec(),
        }
    }

    fn xml(&self) -> String {
        let delay = self
            .delay
            .as_ref()
            .map_or(String::new(), |d| format!("<delay>{}</delay>", math(d)));
        let priority = self.priority.as_ref().map_or(String::new(), |p| {
            format!("<priority>{}</priority>", math(p))
        });
        let assignments: String = self
            .assign
            .iter()
            .map(|(v, m)| {
                format!(
                    r#"<eventAssignment variable="{v}">{}</eventAssignment>"#,
                    math(m)
                )
            })
            .collect();
        format!(
            r#"<event id="{}" useValuesFromTriggerTime="{}"><trigger initialValue="{}" persistent="{}">{}</trigger>{delay}{priority}<listOfEventAssignments>{assignments}</listOfEventAssignments></event>"#,
            self.id,
            self.from_trigger_time,
            self.initial_value,
            self.persistent,
            math(&self.trigger)
        )
    }
}

/// A death process `X → ∅` with propensity `mu·X`, the boundary species `others` (counters the
/// events set; reactions do not change them) and the events.
fn death_model(x0: i64, mu: f64, others: &[&str], events: &[Ev]) -> String {
    let species: String = std::iter::once(format!(
        r#"<species id="X" compartment="C" initialAmount="{x0}" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/>"#
    ))
    .chain(others.iter().map(|s| {
        format!(
            r#"<species id="{s}" compartment="C" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="true" constant="false"/>"#
        )
    }))
    .collect();
    let events: String = events.iter().map(Ev::xml).collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
<model id="death_with_events">
<listOfCompartments><compartment id="C" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>
<listOfSpecies>{species}</listOfSpecies>
<listOfParameters><parameter id="mu" value="{mu}" constant="true"/></listOfParameters>
<listOfReactions><reaction id="Death" reversible="false" fast="false">
<listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>
<kineticLaw>{}</kineticLaw></reaction></listOfReactions>
<listOfEvents>{events}</listOfEvents>
</model>
</sbml>"#,
        math(&ap("times", &[&ci("mu"), &ci("X")]))
    )
}

fn load(xml: &str) -> Model {
    parse_sbml(xml, Path::new("events.xml")).unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

/// `X + n`.
fn plus(x: &str, n: f64) -> String {
    ap("plus", &[&ci(x), &cn(n)])
}

/// For each recording time, the fraction of `runs` trajectories in which column `col` is ≥ 1.
fn fraction_set(s: &Setup, method: MethodRequest, seed: u64, runs: u64, col: usize) -> Vec<f64> {
    let rows = s.plan.record_times.len();
    let mut count = vec![0u64; rows];
    s.run_method(method, seed, runs, |t| {
        for (k, c) in count.iter_mut().enumerate() {
            if s.value(t, k, col) >= 1.0 {
                *c += 1;
            }
        }
    });
    count.iter().map(|&c| c as f64 / runs as f64).collect()
}

/// P(τ ≤ t) for τ the first time a death process from `x0` (rate `mu` per molecule) is below
/// `level`: X(t) ~ Binomial(x0, e^{−μt}).
fn below_by(x0: u64, mu: f64, level: u64, t: f64) -> f64 {
    Binomial::new((-mu * t).exp(), x0).unwrap().cdf(level - 1)
}

/// |z| of `k` successes in `n` trials against probability `p`.
fn binomial_z(k: u64, n: u64, p: f64) -> f64 {
    let n = n as f64;
    ((k as f64 - n * p) / (n * p * (1.0 - p)).sqrt()).abs()
}

/// `X < 50` refills X by 100 as soon as the 51st molecule dies: the first firing time has the
/// exact distribution P(Binomial(100, e^{−μt}) ≤ 49) (KS distance on a 0.05 s grid, which can
/// only be smaller than the continuous one), X is never seen below 50, and the value of X the
/// event sees (`Seen := X`, from trigger time) is always 49: a trigger evaluated only at the
/// next stop (recording) would see fewer.
#[test]
fn a_state_trigger_fires_at_the_reaction_that_makes_it_true() {
    let refill = Ev::new(
        "refill",
        ap("lt", &[&ci("X"), &cn(50.0)]),
        &[
            ("X", plus("X", 100.0)),
            ("Fired", plus("Fired", 1.0)),
            ("Seen", ci("X")),
        ],
    );
    let s = Setup::new(
        load(&death_model(100, 0.1, &["Fired", "Seen"], &[refill])),
        None,
        20.0,
        0.05,
    );
    assert!(s.model.protocols.is_empty() && s.model.events.len() == 1);
    let (x, fired, seen) = (s.column("X"), s.column("Fired"), s.column("Seen"));
    let runs = 2000;
    for (m, method) in EXACT_METHODS.into_iter().enumerate() {
        let mut min_x = f64::INFINITY;
        s.run_method(method, 11 + m as u64, 200, |t| {
            for k in 0..s.plan.record_times.len() {
                min_x = min_x.min(s.value(t, k, x));
                let v = s.value(t, k, seen);
                assert!(v == 0.0 || v == 49.0, "{method:?}: the event saw X = {v}");
            }
        });
        assert_eq!(
            min_x, 50.0,
            "{method:?}: X below the trigger level was recorded"
        );
        let f = fraction_set(&s, method, 7 + m as u64, runs, fired);
        let d = s
            .plan
            .record_times
            .iter()
            .zip(&f)
            .map(|(&t, &fn_)| (fn_ - below_by(100, 0.1, 50, t)).abs())
            .fold(0.0, f64::max);
        let limit = ks_critical(0.001, runs as usize);
        assert!(d < limit, "{method:?}: KS distance {d} ≥ {limit}");
    }
}

/// `and(gt(time, 5), lt(X, 10))` from X₀ = 20, μ = 0.2: P(X(5) < 10) ≈ 0.8, and those
/// trajectories must fire just after t = 5 (a stop the simulator makes, whether or not a reaction
/// happens), the others at the death that takes X below 10. So the fraction fired is 0 up to
/// and including t = 5 (the state at 5 is recorded before a `time > 5` event) and
/// P(X(t) < 10) after. With `geq` the event fires at 5 and is recorded there. The event also
/// writes `T := floor(1000 time)`: T = 5000 exactly when X(5) < 10 (probability P(X(5) < 10),
/// binomial z-test), and T > 5000 otherwise; a trigger checked only after reactions or at
/// recordings would fire later.
#[test]
fn a_trigger_mixing_time_and_state_fires_at_the_time_threshold() {
    for (op, fires_at_5) in [("gt", false), ("geq", true)] {
        let event = Ev::new(
            "late",
            ap(
                "and",
                &[
                    &ap(op, &[TIME, &cn(5.0)]),
                    &ap("lt", &[&ci("X"), &cn(10.0)]),
                ],
            ),
            &[
                ("X", plus("X", 1000.0)),
                ("Fired", plus("Fired", 1.0)),
                ("T", ap("floor", &[&ap("times", &[&cn(1000.0), TIME])])),
            ],
        );
        let s = Setup::new(
            load(&death_model(20, 0.2, &["Fired", "T"], &[event])),
            None,
            12.0,
            0.05,
        );
        let t_col = s.column("T");
        let last = s.plan.record_times.len() - 1;
        let runs = 2000;
        for (m, method) in EXACT_METHODS.into_iter().enumerate() {
            let mut at_5 = 0u64;
            s.run_method(method, 31 + m as u64, runs, |t| {
                let v = s.value(t, last, t_col);
                assert!(v >= 5000.0, "{op} {method:?}: fired at {v} ms");
                at_5 += (v == 5000.0) as u64;
            });
            let p = below_by(20, 0.2, 10, 5.0);
            let z = binomial_z(at_5, runs, p);
            assert!(
                z < z_critical(0.001),
                "{op} {method:?}: {at_5} of {runs} fired at t = 5, expected {p}: z = {z}"
            );
            let f = fraction_set(&s, method, 21 + m as u64, runs, s.column("Fired"));
            let mut d: f64 = 0.0;
            for (&t, &fn_) in s.plan.record_times.iter().zip(&f) {
                let before = t < 5.0 - 1e-9 || (!fires_at_5 && t < 5.0 + 1e-9);
                if before {
                    assert_eq!(fn_, 0.0, "{op} {method:?}: fired before t = 5 (t = {t})");
                } else {
                    d = d.max((fn_ - below_by(20, 0.2, 10, t)).abs());
                }
            }
            let limit = ks_critical(0.001, runs as usize);
            assert!(d < limit, "{op} {method:?}: KS distance {d} ≥ {limit}");
            // The bulk fires at the threshold itself: at the first recording after it.
            let row = s.row_at(5.05);
            assert!(
                f[row] > 0.7,
                "{op} {method:?}: only {} fired by 5.05",
                f[row]
            );
        }
    }
}

/// `initialValue` is the trigger's value at t = 0⁻: a trigger true at t = 0 fires then (before
/// the state at 0 is recorded) when it is false, never when it is true; it fires once.
#[test]
fn initial_value_decides_whether_a_trigger_true_at_start_fires() {
    for initial_value in [false, true] {
        let mut e = Ev::new(
            "start",
            ap("geq", &[&ci("X"), &cn(1.0)]),
            &[("Fired", plus("Fired", 1.0))],
        );
        e.initial_value = initial_value;
        let s = Setup::new(
            load(&death_model(10, 0.01, &["Fired"], &[e])),
            None,
            5.0,
            1.0,
        );
        for method in EXACT_METHODS {
            let mut seen = Vec::new();
            s.run_method(method, 3, 20, |t| {
                seen.extend((0..6).map(|k| s.value(t, k, s.column("Fired"))))
            });
            let expected = if initial_value { 0.0 } else { 1.0 };
            assert!(
                seen.iter().all(|&v| v == expected),
                "initialValue {initial_value} {method:?}: {seen:?}"
            );
        }
    }
}

/// One molecule A that dies at rate ln 2 (survives to t = 1 with probability 1/2); the trigger
/// `A == 1` is true at t = 0 (initialValue false) and the event executes after a delay of 1,
/// setting Y := A and counting in Fired. A persistent event always executes; a non-persistent
/// one only if A is still there at t = 1. With useValuesFromTriggerTime Y is the value at
/// t = 0 (1), without it the value at t = 1.
#[test]
fn persistence_and_values_from_trigger_time_with_a_delay() {
    let ln2 = std::f64::consts::LN_2;
    let runs = 4000;
    for persistent in [true, false] {
        for from_trigger_time in [true, false] {
            let mut e = Ev::new(
                "delayed",
                ap("eq", &[&ci("X"), &cn(1.0)]),
                &[("Y", ci("X")), ("Fired", plus("Fired", 1.0))],
            );
            e.persistent = persistent;
            e.from_trigger_time = from_trigger_time;
            e.delay = Some(cn(1.0));
            let s = Setup::new(
                load(&death_model(1, ln2, &["Y", "Fired"], &[e])),
                None,
                2.0,
                0.5,
            );
            let (x, y, fired) = (s.column("X"), s.column("Y"), s.column("Fired"));
            let (before, at) = (s.row_at(0.5), s.row_at(1.0));
            for (m, method) in EXACT_METHODS.into_iter().enumerate() {
                let what = format!(
                    "persistent {persistent}, useValuesFromTriggerTime {from_trigger_time}, {method:?}"
                );
                let (mut n_fired, mut n_y) = (0u64, 0u64);
                s.run_method(method, 40 + m as u64, runs, |t| {
                    let v = |row, col| s.value(t, row, col);
                    assert_eq!(v(before, fired), 0.0, "{what}: executed before the delay");
                    // Executions at t = 1 are applied before the state at 1 is recorded.
                    let (f1, y1, x1) = (v(at, fired), v(at, y), v(at, x));
                    assert_eq!(v(s.row_at(2.0), fired), f1, "{what}");
                    match (persistent, from_trigger_time) {
                        (true, true) => assert_eq!((f1, y1), (1.0, 1.0), "{what}"),
                        (true, false) => assert_eq!((f1, y1), (1.0, x1), "{what}"),
                        // Executes only when A survived, and then Y = 1 either way.
                        (false, _) => {
                            assert_eq!(f1, x1, "{what}");
                            assert_eq!(y1, x1, "{what}");
                        }
                    }
                    n_fired += f1 as u64;
                    n_y += y1 as u64;
                });
                let p_fired = if persistent { 1.0 } else { 0.5 };
                let p_y = if persistent && from_trigger_time {
                    1.0
                } else {
                    0.5
                };
                for (k, p) in [(n_fired, p_fired), (n_y, p_y)] {
                    if p < 1.0 {
                        let z = binomial_z(k, runs, p);
                        assert!(z < z_critical(0.001), "{what}: {k} of {runs}, z = {z}");
                    } else {
                        assert_eq!(k, runs, "{what}");
                    }
                }
            }
        }
    }
}

/// An execution that makes another trigger true fires it at the same instant: `X < 50` counts
/// in Z, and `Z > W` refills X, counts in W and keeps the X it sees in Seen. Both counters must
/// agree at every recording, X is never seen below 50, and the second event sees X = 49.
#[test]
fn a_cascade_fires_at_the_same_instant() {
    let first = Ev::new(
        "low",
        ap("lt", &[&ci("X"), &cn(50.0)]),
        &[("Z", plus("Z", 1.0))],
    );
    let second = Ev::new(
        "refill",
        ap("gt", &[&ci("Z"), &ci("W")]),
        &[
            ("X", plus("X", 100.0)),
            ("W", plus("W", 1.0)),
            ("Seen", ci("X")),
        ],
    );
    let s = Setup::new(
        load(&death_model(
            100,
            0.1,
            &["Z", "W", "Seen"],
            &[first, second],
        )),
        None,
        30.0,
        0.5,
    );
    let (x, z, w, seen) = (
        s.column("X"),
        s.column("Z"),
        s.column("W"),
        s.column("Seen"),
    );
    for method in EXACT_METHODS {
        let mut fired = 0.0;
        s.run_method(method, 5, 200, |t| {
            for k in 0..s.plan.record_times.len() {
                assert_eq!(s.value(t, k, z), s.value(t, k, w), "{method:?}");
                assert!(s.value(t, k, x) >= 50.0, "{method:?}");
                let v = s.value(t, k, seen);
                assert!(v == 0.0 || v == 49.0, "{method:?}: the cascade saw X = {v}");
            }
            fired += s.value(t, s.plan.record_times.len() - 1, z);
        });
        // By t = 30 every trajectory fired at least once (P(X(30) ≥ 50 | no event) ≈ 1e-30).
        assert!(fired >= 200.0, "{method:?}: {fired}");
    }
}

/// Two events on the same trigger `X < 50` at one instant: `hi` refills X and sets M = 1,
/// `lo` sets M = 2. Higher priority executes first, so M ends as the last one set it; a
/// non-persistent `lo` is cancelled when `hi` makes the trigger false before `lo` runs; equal
/// priorities run in random order (each last with probability 1/2).
#[test]
fn priorities_order_simultaneous_executions() {
    let case = |p_hi: f64, p_lo: f64, lo_persistent: bool| {
        let mut hi = Ev::new(
            "hi",
            ap("lt", &[&ci("X"), &cn(50.0)]),
            &[("X", plus("X", 100.0)), ("M", cn(1.0))],
        );
        hi.priority = Some(cn(p_hi));
        let mut lo = Ev::new("lo", ap("lt", &[&ci("X"), &cn(50.0)]), &[("M", cn(2.0))]);
        lo.priority = Some(cn(p_lo));
        lo.persistent = lo_persistent;
        Setup::new(
            load(&death_model(100, 0.1, &["M"], &[hi, lo])),
            None,
            20.0,
            20.0,
        )
    };
    let runs = 2000;
    // (priority of hi, of lo, lo persistent, P(M = 2 at the end))
    for (p_hi, p_lo, persistent, p_two) in [
        (2.0, 1.0, true, 1.0),
        (2.0, 1.0, false, 0.0),
        (1.0, 3.0, true, 0.0),
        (1.0, 1.0, true, 0.5),
    ] {
        let s = case(p_hi, p_lo, persistent);
        let m_col = s.column("M");
        for (m, method) in EXACT_METHODS.into_iter().enumerate() {
            let mut twos = 0u64;
            s.run_method(method, 60 + m as u64, runs, |t| {
                let v = s.value(t, 1, m_col);
                assert!(v == 1.0 || v == 2.0, "M = {v}: no event fired");
                twos += (v == 2.0) as u64;
            });
            let what = format!("priorities {p_hi}/{p_lo}, lo persistent {persistent}, {method:?}");
            if p_two == 0.5 {
                let z = binomial_z(twos, runs, 0.5);
                assert!(z < z_critical(0.001), "{what}: {twos} of {runs}, z = {z}");
            } else {
                assert_eq!(twos as f64, p_two * runs as f64, "{what}");
            }
        }
    }
}

/// Tau-leaping cannot stop at the reaction that makes a trigger true: refused, naming the
/// event, by the library and the CLI. A trigger of time and parameters only is fine.
#[test]
fn tau_leaping_refuses_state_triggers() {
    let refill = Ev::new(
        "refill",
        ap("lt", &[&ci("X"), &cn(50.0)]),
        &[("X", plus("X", 100.0))],
    );
    let xml = death_model(100, 0.1, &[], &[refill]);
    let s = Setup::new(load(&xml), None, 5.0, 1.0);
    let tau =
        AnySimulator::new(MethodRequest::TauLeap(TauLeapSettings::default()), &s.net).unwrap();
    let mut worker = Worker::new(&s.net, &s.plan, tau);
    let err = worker
        .simulate(
            &mut spinesim::ensemble::trajectory_rng(1, 0),
            &mut Trajectory::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'tau-leap'") && err.contains("'refill'"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("refill.xml");
    std::fs::write(&file, &xml).unwrap();
    let run = |method: &str| {
        Command::new(env!("CARGO_BIN_EXE_spinesim"))
            .arg("run")
            .arg(&file)
            .args([
                "--runs",
                "4",
                "--t-end",
                "5",
                "--record-every",
                "1",
                "--quiet",
            ])
            .args(["--method", method, "--out"])
            .arg(dir.path().join(method))
            .output()
            .unwrap()
    };
    let out = run("tau-leap");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("'refill'"),
        "{stderr}"
    );
    assert!(!dir.path().join("tau-leap").join("trajectories").exists());
    let out = run("ssa");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let timed = Ev::new(
        "timed",
        ap(
            "and",
            &[
                &ap("gt", &[TIME, &cn(2.0)]),
                &ap("gt", &[&ci("mu"), &cn(0.0)]),
            ],
        ),
        &[("X", plus("X", 100.0))],
    );
    let s = Setup::new(load(&death_model(100, 0.1, &[], &[timed])), None, 5.0, 1.0);
    assert!(!s.plan.triggered.watches_reactions());
    let tau =
        AnySimulator::new(MethodRequest::TauLeap(TauLeapSettings::default()), &s.net).unwrap();
    let mut worker = Worker::new(&s.net, &s.plan, tau);
    let mut out = Trajectory::default();
    worker
        .simulate(&mut spinesim::ensemble::trajectory_rng(1, 0), &mut out)
        .unwrap();
    // 100 molecules added just after t = 2: X(3) > X(2).
    assert!(out.samples[3] > out.samples[2], "{:?}", out.samples);
}

/// A species assignment that is not a whole number of molecules stops the run, naming the
/// event, the species and the value.
#[test]
fn a_fractional_species_assignment_is_an_error() {
    let halve = Ev::new(
        "halve",
        ap("geq", &[&ci("X"), &cn(1.0)]),
        &[("X", ap("divide", &[&ci("X"), &cn(2.0)]))],
    );
    let s = Setup::new(load(&death_model(3, 0.1, &[], &[halve])), None, 5.0, 1.0);
    let sim = AnySimulator::new(MethodRequest::Direct, &s.net).unwrap();
    let err = Worker::new(&s.net, &s.plan, sim)
        .simulate(
            &mut spinesim::ensemble::trajectory_rng(1, 0),
            &mut Trajectory::default(),
        )
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("event 'halve'") && err.contains("1.5") && err.contains("'X'"),
        "{err}"
    );
}

/// After a first trajectory has sized the buffers, a trajectory with triggered events (pending
/// delayed executions, values kept from trigger time, refills) allocates nothing.
#[test]
fn triggered_events_allocate_nothing_per_trajectory() {
    let mut refill = Ev::new(
        "refill",
        ap("lt", &[&ci("X"), &cn(50.0)]),
        &[("X", plus("X", 100.0)), ("Fired", plus("Fired", 1.0))],
    );
    refill.delay = Some(cn(0.5));
    refill.persistent = false;
    let s = Setup::new(
        load(&death_model(100, 0.3, &["Fired"], &[refill])),
        None,
        50.0,
        1.0,
    );
    for method in EXACT_METHODS {
        let sim = AnySimulator::new(method, &s.net).unwrap();
        let mut worker = Worker::new(&s.net, &s.plan, sim);
        let mut out = Trajectory::default();
        for run in 0..3 {
            worker
                .simulate(&mut spinesim::ensemble::trajectory_rng(9, run), &mut out)
                .unwrap();
        }
        let before = crate::allocation::allocations();
        worker
            .simulate(&mut spinesim::ensemble::trajectory_rng(9, 3), &mut out)
            .unwrap();
        assert_eq!(crate::allocation::allocations() - before, 0, "{method:?}");
        assert!(out.samples.last().copied().unwrap_or(0.0) >= 0.0);
    }
}

/// Immigration `∅ → X` at rate `2·k`, written through a parameter `k2` with the assignment
/// rule `k2 = 2·k`. `X ≥ 10` sets k := 0: the rule must follow (derived parameters are
/// recomputed after every execution) and the simulator must see the new propensity, so X stops
/// at exactly 10.
#[test]
fn a_parameter_assignment_reaches_rules_and_propensities() {
    let xml = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1">
<model id="stop_at_ten">
<listOfCompartments><compartment id="C" size="1" constant="true" spatialDimensions="3"/></listOfCompartments>
<listOfSpecies><species id="X" compartment="C" initialAmount="0" hasOnlySubstanceUnits="true" boundaryCondition="false" constant="false"/></listOfSpecies>
<listOfParameters><parameter id="k" value="1" constant="false"/><parameter id="k2" constant="false"/></listOfParameters>
<listOfRules><assignmentRule variable="k2">{}</assignmentRule></listOfRules>
<listOfReactions><reaction id="Birth" reversible="false" fast="false">
<listOfProducts><speciesReference species="X" stoichiometry="1" constant="true"/></listOfProducts>
<kineticLaw>{}</kineticLaw></reaction></listOfReactions>
<listOfEvents>{}</listOfEvents>
</model>
</sbml>"#,
        math(&ap("times", &[&cn(2.0), &ci("k")])),
        math(&ci("k2")),
        Ev::new("stop", ap("geq", &[&ci("X"), &cn(10.0)]), &[("k", cn(0.0))]).xml()
    );
    let s = Setup::new(load(&xml), None, 30.0, 1.0);
    for method in EXACT_METHODS {
        s.run_method(method, 8, 100, |t| {
            let last = s.plan.record_times.len() - 1;
            assert!((0..=last).all(|k| s.value(t, k, 0) <= 10.0), "{method:?}");
            // P(fewer than 10 arrivals at rate 2 in 30 s) ≈ 1e-17.
            assert_eq!(s.value(t, last, 0), 10.0, "{method:?}");
        });
    }
}

/// Several executions of one event can be pending: pure immigration at rate 4, the trigger
/// `X is odd` (`rem(X, 2) == 1`) turns true at X = 1, 3, 5, … and each time counts in N after
/// a delay of 0.75, usually while earlier executions are still pending. So at every recording
/// time t ≥ 0.75, N(t) = ⌈X(t − 0.75) / 2⌉ exactly.
#[test]
fn several_executions_of_one_event_can_be_pending() {
    let mut odd = Ev::new(
        "odd",
        ap("eq", &[&ap("rem", &[&ci("X"), &cn(2.0)]), &cn(1.0)]),
        &[("N", plus("N", 1.0))],
    );
    odd.delay = Some(cn(0.75));
    // N + 1 at execution time (from trigger time, overlapping executions would all write the
    // same N + 1).
    odd.from_trigger_time = false;
    // A birth process: "death" with mu = −4 per molecule would be negative; use immigration by
    // turning the death model's reaction around.
    let xml = death_model(0, 1.0, &["N"], &[odd])
        .replace(
            r#"<listOfReactants><speciesReference species="X" stoichiometry="1" constant="true"/></listOfReactants>"#,
            r#"<listOfProducts><speciesReference species="X" stoichiometry="1" constant="true"/></listOfProducts>"#,
        )
        .replace(&math(&ap("times", &[&ci("mu"), &ci("X")])), &math(&cn(4.0)));
    let s = Setup::new(load(&xml), None, 10.0, 0.25);
    let (x, n) = (s.column("X"), s.column("N"));
    for method in EXACT_METHODS {
        let mut max_pending = 0.0f64;
        s.run_method(method, 12, 200, |t| {
            for k in 3..s.plan.record_times.len() {
                let triggered_before = (s.value(t, k - 3, x) / 2.0).ceil();
                assert_eq!(s.value(t, k, n), triggered_before, "{method:?} row {k}");
                max_pending = max_pending.max((s.value(t, k, x) / 2.0).ceil() - s.value(t, k, n));
            }
        });
        assert!(
            max_pending >= 2.0,
            "{method:?}: never two pending ({max_pending})"
        );
    }
}
