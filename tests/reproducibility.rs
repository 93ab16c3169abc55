//! Reproducibility: the same seed gives bit-identical results whatever the thread count,
//! different seeds give different ones, consecutive trajectories are independent, conserved
//! totals stay conserved, and golden records pin every method's random stream to
//! [`RANDOM_STREAM_VERSION`].

use std::path::Path;

use spinesim::ensemble::{run_ensemble, trajectory_rng, trajectory_seed, EnsembleConfig};
use spinesim::model::parse_model;
use spinesim::network::Network;
use spinesim::outcome::OutcomeValue;
use spinesim::simulator::{
    Direct, FireHook, MethodRequest, Simulator, TauLeapSettings, RANDOM_STREAM_VERSION,
};
use spinesim::trajectory::Trajectory;

use crate::common::{birth_death_toml, pearson, shipped_model, z_critical, Setup};

/// The Vilar oscillator with outcomes added, so outcome values are compared too.
fn vilar_with_outcomes() -> spinesim::model::Model {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/vilar_oscillator.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(
        r#"
[[outcomes]]
name = "A_peak"
kind = "peak"
observable = "A"

[[outcomes]]
name = "R_mean"
kind = "mean"
observable = "R"
window = ["5 s", "end"]

[[outcomes]]
name = "C_integral"
kind = "integral"
observable = "C"
"#,
    );
    parse_model(&text, &path).unwrap_or_else(|e| panic!("{e}"))
}

/// Bit patterns of everything a trajectory carries, so NaN and −0.0 compare exactly.
fn fingerprint(t: &Trajectory) -> (u64, u64, u64, Vec<u64>, Vec<u64>) {
    let outcomes = t
        .outcomes
        .iter()
        .flat_map(|o| match *o {
            OutcomeValue::Scalar(v) => vec![v.to_bits()],
            OutcomeValue::Change {
                baseline,
                last,
                percent,
                class,
            } => vec![
                baseline.to_bits(),
                last.to_bits(),
                percent.to_bits(),
                class as u64,
            ],
        })
        .collect();
    (
        t.run,
        t.seed,
        t.events,
        t.samples.iter().map(|v| v.to_bits()).collect(),
        outcomes,
    )
}

/// Runs an ensemble and returns what the sink saw, in the order it saw it.
fn ensemble(s: &Setup, seed: u64, first_run: u64, runs: u64, threads: usize) -> Vec<Trajectory> {
    let config = EnsembleConfig {
        first_run,
        runs,
        seed,
        threads,
        progress: false,
    };
    let mut seen = Vec::new();
    let stats = run_ensemble(
        &s.net,
        &s.plan,
        &config,
        || Direct::new(&s.net),
        |t| {
            seen.push(t.clone());
            Ok(())
        },
    )
    .expect("ensemble runs");
    assert_eq!(stats.trajectories, runs);
    assert_eq!(stats.events, seen.iter().map(|t| t.events).sum::<u64>());
    assert_eq!(stats.sim.events, stats.events);
    seen
}

/// Same seed → bit-identical trajectories and outcomes, in run order, for 1 and 2 threads, for a
/// sub-range of runs, and for a plain sequential `Worker` with `trajectory_rng(seed, run)`.
#[test]
fn same_seed_same_trajectories_any_thread_count() {
    let s = Setup::new(vilar_with_outcomes(), None, 20.0, 0.5);
    let one = ensemble(&s, 11, 0, 16, 1);
    let two = ensemble(&s, 11, 0, 16, 2);
    assert_eq!(one.len(), 16);
    for (i, t) in one.iter().enumerate() {
        assert_eq!(t.run, i as u64, "sink order");
        assert_eq!(t.seed, trajectory_seed(11, i as u64));
        assert_eq!(t.outcomes.len(), 3);
        assert!(t.events > 1000, "the model must be nontrivial");
        assert_eq!(
            t.samples.len(),
            s.plan.record_times.len() * s.plan.columns.len()
        );
    }
    let fp1: Vec<_> = one.iter().map(fingerprint).collect();
    let fp2: Vec<_> = two.iter().map(fingerprint).collect();
    assert!(fp1 == fp2, "1 thread and 2 threads differ");

    // Runs 5..13 alone are the same trajectories as in the full ensemble.
    let part: Vec<_> = ensemble(&s, 11, 5, 8, 2).iter().map(fingerprint).collect();
    assert!(
        part == fp1[5..13],
        "a sub-range of runs differs from the full ensemble"
    );

    // One worker, sequentially, with the documented per-run generator.
    let mut sequential = Vec::new();
    s.run(11, 16, |t| {
        let mut t = t.clone();
        t.seed = trajectory_seed(11, t.run);
        sequential.push(fingerprint(&t));
    });
    assert!(
        sequential == fp1,
        "sequential Worker differs from the ensemble"
    );

    // And trajectories are not all the same.
    assert_ne!(fp1[0].3, fp1[1].3);
}

/// A different master seed gives different trajectories (every one of 16).
#[test]
fn different_seed_different_trajectories() {
    let s = Setup::new(vilar_with_outcomes(), None, 20.0, 0.5);
    let a = ensemble(&s, 11, 0, 16, 2);
    let b = ensemble(&s, 12, 0, 16, 2);
    for (x, y) in a.iter().zip(&b) {
        assert_ne!(x.seed, y.seed);
        assert_ne!(
            fingerprint(x).3,
            fingerprint(y).3,
            "run {} is the same under seeds 11 and 12",
            x.run
        );
    }
}

/// Consecutive runs are uncorrelated: birth–death at stationarity (X(50) ~ Poisson(10)), the
/// Pearson correlation of X(50) between runs i and i + 1 over 2000 runs. Under independence
/// √n r is asymptotically N(0, 1): reject when |r| > z_{1−α/2}/√n, α = 0.001 (two-sided;
/// 3.29/√1999 = 0.074). A lag-1 dependence of the per-run seeds (e.g. generators that share a
/// state and differ only by stream) would typically show up here.
#[test]
fn consecutive_runs_uncorrelated() {
    let s = Setup::new(model_bd(), None, 50.0, 50.0);
    let col = s.column("X");
    let x = &s.collect_at(2025, 2000, &[50.0], col)[0];
    let (a, b) = (&x[..x.len() - 1], &x[1..]);
    let r = pearson(a, b);
    let crit = z_critical(0.001) / (a.len() as f64).sqrt();
    assert!(
        r.abs() < crit,
        "lag-1 correlation r = {r:.4}, |r| must be < {crit:.4}"
    );
}

fn model_bd() -> spinesim::model::Model {
    crate::common::model(&birth_death_toml(10.0, 1.0, 10))
}

/// The conserved totals of `models/spine_ltd_core.toml` (observable names and the values its
/// descriptions state).
const CONSERVED: [(&str, f64); 6] = [
    ("CaM_total", 1805.0),
    ("CaN_total", 301.0),
    ("PP1_total", 120.0),
    ("I1_total", 180.0),
    ("AMPAR_total", 134.0),
    ("slots_total", 100.0),
];

/// Every reaction channel of the shipped LTD model leaves each conserved total unchanged
/// (structural check on the compiled stoichiometry), and the protocol only sets parameters.
#[test]
fn spine_ltd_core_totals_conserved_by_stoichiometry() {
    let m = shipped_model("spine_ltd_core.toml");
    let net = Network::compile(&m);
    for (name, _) in CONSERVED {
        let obs = m
            .observables
            .iter()
            .find(|o| o.name == name)
            .unwrap_or_else(|| panic!("no observable {name}"));
        for r in 0..net.n_channels() {
            let change: f64 = net
                .changes(r)
                .map(|(s, d)| {
                    obs.terms
                        .iter()
                        .filter(|&&(t, _)| t == s)
                        .map(|&(_, w)| w * d as f64)
                        .sum::<f64>()
                })
                .sum();
            assert_eq!(
                change,
                0.0,
                "channel '{}' changes {name} by {change}",
                net.channel_names()[r]
            );
        }
    }
    let proto = m.protocol("lfs_1hz").unwrap();
    for a in proto.trains.iter().flat_map(|t| t.on.iter().chain(&t.off)) {
        assert!(
            matches!(a, spinesim::model::Action::SetParameter { .. }),
            "lfs_1hz changes a species: {a:?}"
        );
    }
}

/// One trajectory of `lfs_1hz` cut at 330 s (31 pulse starts, 30 complete pulses): every
/// conserved total equals its initial value at every recorded second, and no recorded species or
/// observable is negative.
#[test]
fn spine_ltd_core_invariants_along_a_trajectory() {
    let s = Setup::new(
        shipped_model("spine_ltd_core.toml"),
        Some("lfs_1hz"),
        330.0,
        1.0,
    );
    // Pulse starts at 300, 301, …, 330 s (t_end is included: 31 `on`s per train); the `off`s of
    // the pulse at 330 s (330.001 and 330.020 s) fall after t_end: 30 per train.
    assert_eq!(s.plan.schedule.events().len(), 2 * (31 + 30));
    let t = s.one(330);
    assert!(t.events > 10_000, "only {} events", t.events);
    let ncol = s.plan.columns.len();
    assert_eq!(t.samples.len(), 331 * ncol);

    // Initial values from the model's initial counts, independently of the recorder.
    let state = s.net.initial_state();
    for (name, stated) in CONSERVED {
        let c = s.column(name);
        let obs = s.model.observables.iter().find(|o| o.name == name).unwrap();
        let initial: f64 = obs
            .terms
            .iter()
            .map(|&(sp, w)| w * state.counts[sp] as f64)
            .sum();
        assert_eq!(
            initial, stated,
            "{name}: initial total vs the model's description"
        );
        for (row, &time) in s.plan.record_times.iter().enumerate() {
            assert_eq!(s.value(&t, row, c), initial, "{name} at {time} s");
        }
    }
    for (row, &time) in s.plan.record_times.iter().enumerate() {
        for (c, name) in s.plan.columns.iter().enumerate() {
            let v = s.value(&t, row, c);
            assert!(v >= 0.0, "{name} = {v} at {time} s");
        }
    }
}

/// Records the first `n` firings.
struct FirstN(usize, Vec<(usize, f64)>);

impl FireHook for FirstN {
    fn fired(&mut self, channel: usize, t: f64) {
        if self.1.len() < self.0 {
            self.1.push((channel, t));
        }
    }

    fn leaped(&mut self, _t: f64, _counts: &[i64]) {
        unreachable!("only exact methods run here")
    }
}

/// Golden record: the first 10 events `Direct` fires on `models/birth_death.toml` with the
/// generator `trajectory_rng(2024, 0)` (regenerated on purpose on 2026-12-07, when the waiting
/// times moved from `−ln(u)` to the ziggurat).
///
/// This proves *stability*, not correctness: it fails whenever the sequence of random numbers
/// consumed per step, the channel-selection order, the seeding, or the floating-point evaluation
/// of waiting times changes. Such a change may be deliberate (then update the constants below on
/// purpose, and say so in the commit), but it must never happen by accident, since it silently
/// changes every published trajectory for a given seed.
#[test]
fn golden_first_events_birth_death() {
    // Channel 0 is the birth, 1 the death; times printed with `{:?}` (round-trip exact).
    const GOLDEN: [(usize, f64); 10] = [
        (0, 0.14408470460970446),
        (0, 0.17576896986346108),
        (0, 0.26235701964627633),
        (0, 0.314370287647706),
        (0, 0.46000760315586636),
        (1, 0.5318450576275294),
        (0, 0.609217087736118),
        (1, 0.6480133956972487),
        (0, 0.7768347041005093),
        (1, 0.8089290457881683),
    ];
    let m = shipped_model("birth_death.toml");
    let net = Network::compile(&m);
    let mut state = net.initial_state();
    let mut sim = Direct::new(&net);
    sim.reset(&net, &state).unwrap();
    let mut hook = FirstN(10, Vec::new());
    let mut rng = trajectory_rng(2024, 0);
    // One call, so no stop discards a waiting time: the golden record is the plain event chain.
    sim.advance_until(&net, &mut state, 5.0, &mut rng, &mut hook);
    assert_eq!(hook.1.len(), 10);
    // To regenerate after a deliberate change: print `hook.1` with `{:?}`.
    for (i, (&(c, t), &(gc, gt))) in hook.1.iter().zip(&GOLDEN).enumerate() {
        assert_eq!(c, gc, "event {i}: channel");
        assert_eq!(t.to_bits(), gt.to_bits(), "event {i}: time {t:?} vs {gt:?}");
    }
}

/// The stream version the golden records here were made with. A golden test that fails after a
/// deliberate change of some method's draws: regenerate the records, bump
/// [`RANDOM_STREAM_VERSION`] and this constant together, and say so in the commit (validation
/// caches and resumable runs key on the version, so they then refuse to mix the two streams).
const GOLDEN_STREAM: u32 = 3;

#[test]
fn golden_records_match_the_stream_version() {
    assert_eq!(
        RANDOM_STREAM_VERSION, GOLDEN_STREAM,
        "the golden records were made with stream {GOLDEN_STREAM}; regenerate them"
    );
}

/// FNV-1a over the bit patterns of a trajectory's samples, so one number pins them all.
fn samples_digest(t: &Trajectory) -> u64 {
    t.samples.iter().fold(0xcbf2_9ce4_8422_2325, |h, v| {
        (h ^ v.to_bits()).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Golden record of every method: events and the digest of all samples of run 0 (seed 2024) of
/// `spine_ltd_core` (without its outcomes; it has a fast buffer pair, for the slow-scale method)
/// over 0.3 s at rest, recorded every 10 ms, and of tau-leaping on a birth–death process at 10⁴
/// molecules, where it leaps (at rest the spine takes only exact steps). It fails whenever a method's random
/// stream or arithmetic changes.
#[test]
fn golden_trajectories_every_method() {
    const GOLDEN: [(&str, u64, u64); 5] = [
        ("direct", 31988, 17361121330625064015),
        ("next-reaction", 31041, 6713274805381835855),
        ("tau-leap", 31988, 17361121330625064015),
        ("slow-scale", 4525, 6327442981055704143),
        ("tau-leap, birth-death", 100024, 8017953095509675159),
    ];
    let mut model = shipped_model("spine_ltd_core.toml");
    model.outcomes.clear(); // their 300 s baseline window does not fit in 0.3 s
    let spine = Setup::new(model, None, 0.3, 0.01);
    let bd = birth_death_toml(1e4, 1.0, 10_000);
    let bd = parse_model(&bd, Path::new("bd.toml")).unwrap_or_else(|e| panic!("{e}"));
    let birth_death = Setup::new(bd, None, 5.0, 0.5);
    let tau_leap = MethodRequest::TauLeap(TauLeapSettings::default());
    let runs = [
        (&spine, MethodRequest::Direct),
        (&spine, MethodRequest::NextReaction),
        (&spine, tau_leap),
        (&spine, MethodRequest::SlowScale),
        (&birth_death, tau_leap),
    ];
    let mut got = Vec::new();
    for ((name, _, _), (setup, method)) in GOLDEN.iter().zip(runs) {
        let stats = setup.run_method(method, 2024, 1, |t| {
            got.push((*name, t.events, samples_digest(t)))
        });
        if *name == "tau-leap, birth-death" {
            assert!(
                stats.leaps > 0,
                "no leap: the record would not pin the leaps"
            );
        }
    }
    // To regenerate after a deliberate change: print `got` with `{:?}`.
    assert_eq!(
        got, GOLDEN,
        "golden records (method, events, samples digest)"
    );
}
