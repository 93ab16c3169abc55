//! Statistical tests of the exact SSA against laws known in closed form.
//!
//! Every test uses fixed seeds, so it is deterministic; its tolerance comes from the stated
//! significance level α (a correct simulator fails with probability ≤ α for a random seed), never
//! from tuning to the observed values. Where a test makes several comparisons, α is split over them
//! (Bonferroni). Meant for `cargo test --release`.

use spinesim::ensemble::trajectory_rng;
use spinesim::network::Network;
use spinesim::schedule::Schedule;
use spinesim::simulator::{AnySimulator, FireHook, MethodRequest, Simulator, StopReason};
use statrs::distribution::{Binomial, DiscreteCDF, Exp, Poisson};

use crate::common::{
    as_counts, birth_death_toml, chi_square_discrete, ks_critical, ks_statistic, model, z_critical,
    z_mean, Setup, EXACT_METHODS,
};

/// Birth rate (events/s) and death rate (/s) of the birth–death tests.
const K_BIRTH: f64 = 10.0;
const GAMMA: f64 = 1.0;

#[test]
fn birth_death_propensity_is_exactly_k() {
    // Not statistical: the zero-order conversion k[µM/s] × NAV must give k events/s, and the
    // first-order one γ × n.
    let s = Setup::new(model(&birth_death_toml(K_BIRTH, GAMMA, 7)), None, 1.0, 1.0);
    let state = s.net.initial_state();
    assert!((s.net.propensity(0, &state) - K_BIRTH).abs() < 1e-12);
    assert!((s.net.propensity(1, &state) - 7.0 * GAMMA).abs() < 1e-12);
}

/// Stationary law of ∅ → X → ∅: Poisson(k/γ) = Poisson(10).
///
/// 4000 independent trajectories from X(0) = 10, one sample each at t = 50 s. The exact law at t
/// is Binomial(10, e^{−γt}) + Poisson(10 (1 − e^{−γt})), which differs from Poisson(10) by
/// O(e^{−50}) ≈ 2e-22 in total variation at t = 50 s: negligible. Chi-square with pooled tails,
/// α = 0.001.
///
/// Power: a 5 % error in either rate shifts the law to Poisson(10.5) or Poisson(9.52); the
/// expected chi-square excess is ≈ N (Δλ)²/λ = 4000 × 0.25 / 10 = 100 on ~20 df, far beyond the
/// critical value χ²₂₀(0.999) = 45.3 (checked by running this test against Poisson(10.5):
/// p ≈ 2e-13, and against Poisson(10/1.05): p ≈ 1e-15).
#[test]
fn birth_death_stationary_is_poisson() {
    for method in EXACT_METHODS {
        let s = Setup::new(
            model(&birth_death_toml(K_BIRTH, GAMMA, 10)),
            None,
            50.0,
            50.0,
        )
        .with_method(method);
        let col = s.column("X");
        let x = as_counts(&s.collect_at(1, 4000, &[50.0], col)[0]);
        let law = Poisson::new(K_BIRTH / GAMMA).unwrap();
        let chi = chi_square_discrete(&x, |k| law.cdf(k));
        // α = 0.001 per method.
        assert!(
            chi.p_value > 0.001,
            "{method:?}: X(50) is not Poisson(10): {chi:?}" // bins show where the histogram departs
        );
    }
}

/// Transient law from X(0) = 0: Poisson with mean m(t) = (k/γ)(1 − e^{−γt}), so sd = √m(t).
/// z-tests of the mean of 4000 trajectories at t = 0.5, 1, 2 s; family-wise α = 0.001
/// (Bonferroni: α/3 per time, two-sided).
///
/// Power: a 5 % error in k shifts m(0.5) = 3.93 by 0.197, i.e. z ≈ 0.197 / √(3.93/4000) ≈ 6.3,
/// against a critical value of 3.4.
#[test]
fn birth_death_transient_mean() {
    for method in EXACT_METHODS {
        let s = Setup::new(model(&birth_death_toml(K_BIRTH, GAMMA, 0)), None, 2.0, 0.5)
            .with_method(method);
        let col = s.column("X");
        let times = [0.5, 1.0, 2.0];
        let values = s.collect_at(2, 4000, &times, col);
        let crit = z_critical(0.001 / times.len() as f64);
        for (&t, x) in times.iter().zip(&values) {
            let m = K_BIRTH / GAMMA * (1.0 - (-GAMMA * t).exp());
            let z = z_mean(x, m, m.sqrt());
            assert!(
                z.abs() < crit,
                "{method:?}: E[X({t})]: z = {z:.2}, |z| must be < {crit:.2}"
            );
        }
    }
}

/// Pure decay A → ∅ at k = 0.5 /s from 50 molecules: each molecule survives to t independently
/// with probability e^{−kt}, so A(t) ~ Binomial(50, e^{−kt}). Chi-square at t = 1 and 3 s over
/// 4000 trajectories; family-wise α = 0.001 (α/2 per time).
#[test]
fn decay_is_binomial() {
    let text = r#"
[model]
name = "decay"
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "A"
initial = 50
[[reactions]]
name = "decay"
equation = "A ->"
rate = "0.5 /s"
"#;
    for method in EXACT_METHODS {
        let s = Setup::new(model(text), None, 3.0, 1.0).with_method(method);
        let col = s.column("A");
        let times = [1.0, 3.0];
        let values = s.collect_at(3, 4000, &times, col);
        for (&t, x) in times.iter().zip(&values) {
            let law = Binomial::new((-0.5 * t).exp(), 50).unwrap();
            let chi = chi_square_discrete(&as_counts(x), |k| law.cdf(k));
            assert!(
                chi.p_value > 0.001 / times.len() as f64,
                "{method:?}: A({t}) is not Binomial(50, e^-{}): {chi:?}",
                0.5 * t
            );
        }
    }
}

/// Records the time of every firing.
#[derive(Default)]
struct Firings(Vec<(usize, f64)>);

impl FireHook for Firings {
    fn fired(&mut self, channel: usize, t: f64) {
        self.0.push((channel, t));
    }

    fn leaped(&mut self, _t: f64, _counts: &[i64]) {
        unreachable!("only exact methods run here")
    }
}

const DECAY_20: &str = r#"
[model]
name = "decay20"
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "A"
initial = 20
[[reactions]]
name = "decay"
equation = "A ->"
rate = "0.5 /s"
"#;

/// Runs `method` on A → ∅ (20 molecules, 0.5 /s) until every molecule is gone, for `runs`
/// trajectories, returning the firing times of each.
fn decay20_firings(method: MethodRequest, seed: u64, runs: u64) -> Vec<Vec<f64>> {
    let net = Network::compile(&model(DECAY_20));
    let mut sim = AnySimulator::new(method, &net).unwrap();
    (0..runs)
        .map(|i| {
            let mut state = net.initial_state();
            sim.reset(&net, &state).unwrap();
            let mut hook = Firings::default();
            let stop = sim.advance_until(
                &net,
                &mut state,
                1e9,
                &mut trajectory_rng(seed, i),
                &mut hook,
            );
            assert_eq!(stop, StopReason::ReachedStop);
            assert_eq!(state.counts[0], 0);
            assert_eq!(state.t, 1e9);
            assert_eq!(hook.0.len(), 20);
            hook.0.iter().map(|&(_, t)| t).collect()
        })
        .collect()
}

/// The first waiting time is Exp(a₀) with a₀ = 0.5 × 20 = 10 /s. KS over n = 5000, α = 0.001
/// (asymptotic critical value 1.949/√n = 0.0276).
///
/// Power: a 10 % error in a₀ moves the CDF by up to 0.035 > 0.0276; smaller errors are left to
/// `all_waiting_times_are_exponential`, which pools 20× more waiting times.
#[test]
fn first_waiting_time_is_exponential() {
    for method in EXACT_METHODS {
        let n = 5000;
        let firsts: Vec<f64> = decay20_firings(method, 4, n).iter().map(|t| t[0]).collect();
        let law = Exp::new(10.0).unwrap();
        let d = ks_statistic(&firsts, |x| {
            statrs::distribution::ContinuousCDF::cdf(&law, x)
        });
        let crit = ks_critical(0.001, n as usize);
        assert!(
            d < crit,
            "{method:?}: first waiting time: D = {d:.4}, must be < {crit:.4}"
        );
    }
}

/// Every waiting time, scaled by the total propensity before it (a₀ = 0.5 × (20 − j) before the
/// j-th firing), is Exp(1), independently of j. KS over 5000 × 20 = 100 000 scaled times,
/// α = 0.001 (critical value 0.0062).
///
/// Power: a 5 % error in the rate (or in a₀ after a dependency-graph update) moves the CDF by
/// 0.018, three times the critical value.
#[test]
fn all_waiting_times_are_exponential() {
    for method in EXACT_METHODS {
        let firings = decay20_firings(method, 5, 5000);
        let mut scaled = Vec::with_capacity(100_000);
        for times in &firings {
            let mut prev = 0.0;
            for (j, &t) in times.iter().enumerate() {
                scaled.push(0.5 * (20 - j) as f64 * (t - prev));
                prev = t;
            }
        }
        let d = ks_statistic(&scaled, |x| 1.0 - (-x).exp());
        let crit = ks_critical(0.001, scaled.len());
        assert!(
            d < crit,
            "{method:?}: scaled waiting times: D = {d:.5}, must be < {crit:.5}"
        );
    }
}

/// A model with X that only a protocol changes: `add` 10 molecules at 2 Hz, 20 pulses from 1 s.
/// (The zero-rate decay gives X a reaction without ever firing.)
const PULSED: &str = r#"
[model]
name = "pulsed"
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "X"
initial = 0
[[reactions]]
name = "never"
equation = "X ->"
rate = "0 /s"
[[protocols]]
name = "train"
[[protocols.trains]]
start = "1 s"
frequency = "2 Hz"
count = 20
on = [ { add = "X", amount = 10 } ]
"#;

/// Deterministic: the schedule has exactly the pulse times start + k/f, cut at t_end (inclusive),
/// and a recording at a pulse time shows that pulse applied.
#[test]
fn pulse_train_times_and_counts() {
    let m = model(PULSED);
    let proto = m.protocol("train").unwrap().clone();
    let pulse_times: Vec<f64> = (0..20).map(|k| 1.0 + 0.5 * k as f64).collect();

    let full = Schedule::new(&proto, 12.0);
    let times: Vec<f64> = full.events().iter().map(|e| e.time).collect();
    assert_eq!(times, pulse_times);
    // Cut by t_end: pulses at 1, 1.5, …, 5 (t_end itself included) and 1 … 4.5.
    assert_eq!(Schedule::new(&proto, 5.0).events().len(), 9);
    assert_eq!(Schedule::new(&proto, 4.999).events().len(), 8);
    assert_eq!(Schedule::new(&proto, 0.999).events().len(), 0);

    for (t_end, pulses) in [(12.0, 20), (5.0, 9), (4.75, 8)] {
        let s = Setup::new(m.clone(), Some("train"), t_end, 0.25);
        let traj = s.one(9);
        assert_eq!(traj.events, 0);
        let x: Vec<f64> = traj.samples.clone();
        assert_eq!(x.len(), s.plan.record_times.len());
        for (&t, &v) in s.plan.record_times.iter().zip(&x) {
            let applied = pulse_times.iter().filter(|&&p| p <= t).count();
            assert_eq!(v, 10.0 * applied as f64, "X({t}) with t_end = {t_end}");
        }
        let jumps: Vec<f64> = x
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|&d| d != 0.0)
            .collect();
        assert_eq!(jumps.len(), pulses, "t_end = {t_end}");
        assert!(jumps.iter().all(|&d| d == 10.0));
        assert_eq!(*x.last().unwrap(), 10.0 * pulses as f64);
    }
}

/// X decays at γ = 0.5 /s and receives 20 molecules at each of 10 pulses at 1 Hz from 0.5 s.
/// Molecules decay independently, so X(t) is a sum over pulses t_j ≤ t of independent
/// Binomial(20, p_j), p_j = e^{−γ(t − t_j)}: E X(t) = Σ 20 p_j, Var X(t) = Σ 20 p_j (1 − p_j).
/// z-tests of the mean of 2000 trajectories at 2, 5.5 (a pulse time: that pulse is counted),
/// 9.75 and 14 s; family-wise α = 0.001 (α/4 per time).
///
/// Power: γ 5 % too large lowers E X(5.5) from 48.30 to 46.87 (z ≈ 15) and E X(14) from 5.32 to
/// 4.59 (z ≈ 15); a pulse applied after rather than before the recording at 5.5 s would lower the
/// mean by 20 (z ≈ 200).
#[test]
fn pulsed_decay_mean() {
    let text = r#"
[model]
name = "pulsed_decay"
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "X"
initial = 0
[[reactions]]
name = "decay"
equation = "X ->"
rate = "0.5 /s"
[[protocols]]
name = "train"
[[protocols.trains]]
start = "0.5 s"
frequency = "1 Hz"
count = 10
on = [ { add = "X", amount = 20 } ]
"#;
    let (gamma, n) = (0.5, 20.0);
    let pulses: Vec<f64> = (0..10).map(|j| 0.5 + j as f64).collect();
    for method in EXACT_METHODS {
        let s = Setup::new(model(text), Some("train"), 14.0, 0.25).with_method(method);
        let col = s.column("X");
        let times = [2.0, 5.5, 9.75, 14.0];
        let values = s.collect_at(6, 2000, &times, col);
        let crit = z_critical(0.001 / times.len() as f64);
        for (&t, x) in times.iter().zip(&values) {
            let p: Vec<f64> = pulses
                .iter()
                .filter(|&&tj| tj <= t)
                .map(|&tj| (-gamma * (t - tj)).exp())
                .collect();
            let mean: f64 = p.iter().map(|p| n * p).sum();
            let var: f64 = p.iter().map(|p| n * p * (1.0 - p)).sum();
            let z = z_mean(x, mean, var.sqrt());
            assert!(
                z.abs() < crit,
                "{method:?}: E[X({t})] = {mean:.3}: z = {z:.2}, |z| must be < {crit:.2}"
            );
        }
    }
}

/// `{ binomial = "X", p = 0.3, into = "Y" }` at 1 s with X = 40 and no reactions: Y(1) ~
/// Binomial(40, 0.3) (chi-square over 4000 trajectories, α = 0.001), and X + Y = 40 at every
/// recorded time.
#[test]
fn binomial_action() {
    let text = r#"
[model]
name = "split"
record = ["X", "Y"]
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "X"
initial = 40
[[species]]
name = "Y"
initial = 0
[[reactions]]
name = "never"
equation = "X -> Y"
rate = "0 /s"
[[protocols]]
name = "split"
[[protocols.events]]
time = "1 s"
actions = [ { binomial = "X", p = 0.3, into = "Y" } ]
"#;
    let s = Setup::new(model(text), Some("split"), 2.0, 0.5);
    let (cx, cy) = (s.column("X"), s.column("Y"));
    let row = s.row_at(1.0);
    let mut y1 = Vec::new();
    s.run(7, 4000, |t| {
        for r in 0..s.plan.record_times.len() {
            assert_eq!(s.value(t, r, cx) + s.value(t, r, cy), 40.0);
            if s.plan.record_times[r] < 1.0 {
                assert_eq!(s.value(t, r, cy), 0.0);
            }
        }
        // Nothing happens after the event.
        assert_eq!(s.value(t, row, cy), *t.samples.last().unwrap());
        y1.push(s.value(t, row, cy));
    });
    let law = Binomial::new(0.3, 40).unwrap();
    let chi = chi_square_discrete(&as_counts(&y1), |k| law.cdf(k));
    // α = 0.001.
    assert!(
        chi.p_value > 0.001,
        "Y(1) is not Binomial(40, 0.3): {chi:?}"
    );
}

// ------------------------------------------------------------------------------------------------
// Regression tests for two bugs found while writing these tests; both fail on commit eb204ee
// (the 1.3 s pulse is dropped or recorded late, and Y(10) = 0 in every trajectory).
// ------------------------------------------------------------------------------------------------

/// A 10 Hz train from 0.1 s and recordings every 0.1 s: the k-th recording is nominally at the
/// k-th pulse, so it must show k molecules. Pulse times are computed as `start + k × (1/f)` and
/// recording times as `k × record_every`; these differ by an ulp for some k (pulse
/// 0.1 + 12 × 0.1 = 1.3000000000000003 s, recording 13 × 0.1 = 1.3 s). Compared exactly, the
/// pulse was applied *after* the recording it nominally coincides with (at 1.3, 1.5 and 1.8 s
/// here), and a train cut at `t_end = 1.3 s` lost its nominal 1.3 s pulse while one cut at
/// `t_end = 5 s` keeps its 5 s pulse (`pulse_train_times_and_counts`).
#[test]
fn pulse_at_nominal_recording_time_is_recorded() {
    let text = PULSED
        .replace("start = \"1 s\"", "start = \"0.1 s\"")
        .replace("frequency = \"2 Hz\"", "frequency = \"10 Hz\"")
        .replace("amount = 10", "amount = 1");
    let m = model(&text);
    let proto = m.protocol("train").unwrap().clone();
    assert_eq!(
        Schedule::new(&proto, 1.3).events().len(),
        13,
        "pulses up to and including t_end = 1.3 s"
    );
    let s = Setup::new(m, Some("train"), 2.0, 0.1);
    let x = s.one(1).samples;
    let wrong: Vec<(f64, f64)> = s
        .plan
        .record_times
        .iter()
        .zip(&x)
        .enumerate()
        .filter(|&(k, (_, &v))| v != k as f64)
        .map(|(_, (&t, &v))| (t, v))
        .collect();
    assert!(
        wrong.is_empty(),
        "(time, X) not showing the pulse at that time: {wrong:?}"
    );
}

/// `Direct` keeps the total propensity a₀ by differences. A propensity below half an ulp of a
/// large one is absorbed in a₀: here a₀ = 1e18 + 1 = 1e18; the fast channel fires once and the
/// running a₀ becomes exactly 0 while the slow channel (`-> Y`, 1 event/s) still has a
/// propensity of 1. A simulator that believes a₀ ≤ 0 without re-summing (as `Direct` did,
/// re-summing only every 4096 events and on `refresh`) never fires Y again. The exact law is Y(10) ~ Poisson(10):
/// chi-square over 1000 trajectories, α = 0.001 (the bug gave Y(10) = 0 every time, p = 0).
#[test]
fn small_propensity_survives_a_fast_channel() {
    let text = r#"
[model]
name = "absorbed"
[[compartments]]
name = "cell"
volume = "1.6605390671738466e-3 fL"
[[species]]
name = "A"
initial = 1
[[species]]
name = "Y"
initial = 0
[[reactions]]
name = "fast"
equation = "A ->"
rate = "1e18 /s"
[[reactions]]
name = "slow"
equation = "-> Y"
rate = "1 uM/s"
"#;
    for method in EXACT_METHODS {
        let s = Setup::new(model(text), None, 10.0, 10.0).with_method(method);
        let col = s.column("Y");
        let y = as_counts(&s.collect_at(8, 1000, &[10.0], col)[0]);
        let law = Poisson::new(10.0).unwrap();
        let chi = chi_square_discrete(&y, |k| law.cdf(k));
        assert!(
            chi.p_value > 0.001,
            "{method:?}: Y(10) is not Poisson(10): {chi:?}"
        );
    }
}

/// Reversible dimerisation 2A ⇄ B in 1 fL with A + 2B = 100 conserved: a(2A → B) = c₁ A(A − 1),
/// c₁ = 0.005 /s, a(B → 2A) = c₂ B, c₂ = 1 /s, from A = 100, B = 0. The chain in B is a
/// birth–death chain on 0 … 50, so its stationary law is exact by detailed balance:
/// π(b + 1) / π(b) = c₁ A(A − 1) / (c₂ (b + 1)) with A = 100 − 2b. The slowest relaxation rate
/// is ≈ 2 /s, so at t = 20 s the law is stationary to within e^{−40}. Chi-square over 4000
/// trajectories per exact method, α = 0.001 per method.
///
/// Power (computed from the same detailed balance): c₁ 5 % too large shifts the mean of B from
/// 19.04 to 19.45, z ≈ 0.417 / (2.92 / √4000) ≈ 9; the chi-square over ~15 bins sees it as
/// clearly. (A propensity c₁ A² instead of c₁ A(A − 1) shifts it by only 0.14, z ≈ 3: not
/// reliably detected at this n.)
#[test]
fn dimerisation_stationary_law_is_exact() {
    let text = crate::common::dimerisation_toml(0.005, 1.0, 100);
    // Exact stationary law of B.
    let mut pi = vec![1.0f64];
    for b in 0..50 {
        let a = (100 - 2 * b) as f64;
        let next = pi[b] * 0.005 * a * (a - 1.0) / (b as f64 + 1.0);
        pi.push(next);
    }
    let total: f64 = pi.iter().sum();
    let cdf: Vec<f64> = pi
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p / total;
            Some(*acc)
        })
        .collect();
    for method in EXACT_METHODS {
        let s = Setup::new(model(&text), None, 20.0, 20.0).with_method(method);
        let col = s.column("B");
        let b = as_counts(&s.collect_at(9, 4000, &[20.0], col)[0]);
        let chi = chi_square_discrete(&b, |k| cdf[(k as usize).min(50)]);
        assert!(
            chi.p_value > 0.001,
            "{method:?}: B(20) does not follow the exact stationary law: {chi:?}"
        );
    }
}
