//! Accuracy of adaptive tau-leaping (`--method tau-leap`) against exact results.
//!
//! Tau-leaping is approximate, so a test states two things: the sampling tolerance (z-scores or a
//! two-sample KS critical value at a stated α, never tuned to the observed values) and, where
//! theory gives it, the method's own bias at the default ε = 0.03. Every test also checks that
//! leaps actually happened (a tau-leap that always fell back to exact steps would pass
//! trivially), and `the_checks_detect_a_too_large_epsilon` shows the same checks failing when the
//! leaps are too long. Meant for `cargo test --release`: ≈ 50 s of CPU in all, most of it the
//! spine test (measured on the shared 2-core machine).

use spinesim::simulator::{MethodRequest, SimStats, TauLeapSettings};

use crate::common::{
    ks_two_sample, ks_two_sample_critical, mean_var, model, shipped_model, z_critical, Setup,
};

fn tau_leap(epsilon: f64) -> MethodRequest {
    MethodRequest::TauLeap(TauLeapSettings::with_epsilon(epsilon).unwrap())
}

/// Birth–death `∅ → X` at k = 400 /s, `X → ∅` at γ = 1 /s, from X(0) = 400 = k/γ: the exact law at
/// t = 20 s is Poisson(400) (up to e^{−20}), mean = variance = 400.
const BD_K: f64 = 400.0;
const BD_GAMMA: f64 = 1.0;
const BD_RUNS: u64 = 4000;

/// The birth–death checks at ε: Err says which one failed.
///
/// Tau-leaping's bias here is known in closed form for a fixed leap τ: the leap
/// `X' = X + Poisson(kτ) − Poisson(γXτ)` keeps the stationary mean k/γ but inflates the
/// stationary variance to (k/γ) / (1 − γτ/2). The leap chosen at ε is bounded by the variance
/// condition τ ≤ (εX)²/σ²(X) with σ² = k + γX (g = 1 for first order); over X within 5 sd of the
/// mean (X ≤ 500) that is τ_max = ε² 500² / 900, i.e. 0.25 s at ε = 0.03, so the inflation is at
/// most b = 1/(1 − γτ_max/2) − 1 = 0.143. Checks, family-wise α = 0.001 (α/3 each):
/// - mean: z-test against 400 with sd √(400 (1 + b));
/// - variance: s²/400 ≥ 1 − z·se and ≤ 1 + b + z·se, se = √((2 + 1/λ)/n) the standard error of
///   a Poisson sample variance ratio (fourth central moment λ(1 + 3λ)).
fn birth_death_check(epsilon: f64, seed: u64) -> Result<SimStats, String> {
    let toml = crate::common::birth_death_toml(BD_K, BD_GAMMA, 400);
    let s = Setup::new(model(&toml), None, 20.0, 20.0);
    let col = s.column("X");
    let (x, stats) = s.collect_method(tau_leap(epsilon), seed, BD_RUNS, 20.0, col);
    let lambda = BD_K / BD_GAMMA;
    let eps = 0.03; // the tolerance is that of the default ε, whatever ran
    let tau_max = (eps * 500.0f64).powi(2) / (BD_K + BD_GAMMA * 500.0);
    let b = 1.0 / (1.0 - BD_GAMMA * tau_max / 2.0) - 1.0;
    let n = x.len() as f64;
    let (mean, var) = mean_var(&x);
    let crit = z_critical(0.001 / 3.0);
    let z = (mean - lambda) / (lambda * (1.0 + b) / n).sqrt();
    let se = ((2.0 + 1.0 / lambda) / n).sqrt();
    let ratio = var / lambda;
    let (lo, hi) = (1.0 - crit * se, 1.0 + b + crit * se);
    if z.abs() >= crit {
        return Err(format!(
            "mean {mean:.2}: z = {z:.2}, |z| must be < {crit:.2}"
        ));
    }
    if !(lo..=hi).contains(&ratio) {
        return Err(format!(
            "variance {var:.1}: ratio to 400 = {ratio:.3}, must be in [{lo:.3}, {hi:.3}]"
        ));
    }
    Ok(stats)
}

#[test]
fn birth_death_mean_and_variance() {
    let stats = birth_death_check(0.03, 11).unwrap_or_else(|e| panic!("tau-leap, ε = 0.03: {e}"));
    // ≈ 150 events per leap here; the checks must be about leaps, not the exact fall-back.
    assert!(
        stats.events > 20 * stats.exact_steps && stats.leaps * 50 < stats.events,
        "too few leaps to test leaping: {stats:?}"
    );
}

/// Reversible dimerisation 2A ⇄ B in 1 fL: a(2A → B) = c₁ A(A − 1) with c₁ = 0.001 /s,
/// a(B → 2A) = c₂ B with c₂ = 1 /s, from A = 1000, B = 0; the mean-field equilibrium is A = 500,
/// B = 250, ≈ 500 events/s.
fn dimerisation() -> Setup {
    let text = crate::common::dimerisation_toml(0.001, 1.0, 1000);
    Setup::new(model(&text), None, 5.0, 0.25)
}

/// A at t = 0.25 s (transient: mean ≈ 640) and t = 5 s (equilibrium) from n = 2000 tau-leap
/// trajectories at ε against 2000 exact ones, two-sample KS at family-wise α = 0.001 (α/2 per
/// time): critical D = 2.036 × √(2/2000) = 0.0644. Returns the largest D / critical ratio.
fn dimerisation_ks(epsilon: f64) -> (f64, SimStats) {
    let s = dimerisation();
    let col = s.column("A");
    let runs = 2000;
    let mut worst: f64 = 0.0;
    let mut leap_stats = SimStats::default();
    for (k, &t) in [0.25, 5.0].iter().enumerate() {
        let (exact, _) = s.collect_method(MethodRequest::Direct, 21 + k as u64, runs, t, col);
        let (leap, stats) = s.collect_method(tau_leap(epsilon), 31 + k as u64, runs, t, col);
        leap_stats.add(&stats);
        let d = ks_two_sample(&exact, &leap);
        let crit = ks_two_sample_critical(0.001 / 2.0, exact.len(), leap.len());
        eprintln!("dimerisation, ε = {epsilon}: A({t}) KS D = {d:.4} (critical {crit:.4})");
        worst = worst.max(d / crit);
    }
    (worst, leap_stats)
}

#[test]
fn dimerisation_matches_exact_ssa() {
    let (ratio, stats) = dimerisation_ks(0.03);
    assert!(
        ratio < 1.0,
        "tau-leap A(t) differs from exact SSA: D / critical = {ratio:.3}"
    );
    assert!(
        stats.leaps > 0 && stats.events > 5 * stats.exact_steps,
        "{stats:?}"
    );
}

/// Power: the same checks at ε = 0.5 (leaps ~280× longer in the variance bound) must fail —
/// shows that the tolerances above can detect a tau-leap that is too coarse.
#[test]
fn the_checks_detect_a_too_large_epsilon() {
    let err = birth_death_check(0.5, 11).expect_err("ε = 0.5 passed the birth–death checks");
    eprintln!("birth–death at ε = 0.5 fails as it must: {err}");
    let (ratio, _) = dimerisation_ks(0.5);
    assert!(
        ratio >= 1.0,
        "ε = 0.5 passed the dimerisation KS test: D / critical = {ratio:.3}"
    );
}

/// `spine_ltd_core` with a short pulsed protocol: 4 pulses at 20 Hz from 0.05 s (each: glutamate
/// 150 µM for 1 ms, −50 mV for 20 ms, as in the model's own protocols), run to 0.3 s (≈ 3×10⁵
/// events per trajectory: pulses raise the event rate tenfold). See [`pulsed_check`].
#[test]
fn spine_ltd_core_pulsed_matches_exact_ssa() {
    pulsed_check("tetanus", "20 Hz", 4, 0.05, 0.3, 41);
}

/// `spine_ltd_core` under its LFS pulses (1 Hz, the pulse of `lfs_1hz`): 2 pulses from 0.5 s,
/// run to 2 s (≈ 2.3×10⁵ events per trajectory, mostly buffer binding). Tau-leaping takes
/// almost only exact steps here (865 leaps in 2.3×10⁸ steps when measured): the few
/// free Ca ions make every channel that reads them critical (benches/README.md). See
/// [`pulsed_check`].
#[test]
fn spine_ltd_core_lfs_matches_exact_ssa() {
    pulsed_check("lfs", "1 Hz", 2, 0.5, 2.0, 43);
}

/// Two-sample KS of the Ca integral from the first pulse to `t_end` (an outcome, tracked at
/// leap ends under tau-leaping) and of the active-calcineurin count at `t_end`, tau-leap
/// (ε = 0.03) against exact SSA, n = 500 each (seeds `seed` and `seed + 1`), family-wise
/// α = 0.001 (α/2 per quantity): critical D = 2.036 × √(2/500) = 0.129.
fn pulsed_check(name: &str, frequency: &str, count: u32, start: f64, t_end: f64, seed: u64) {
    let shipped = shipped_model("spine_ltd_core.toml");
    let text = &shipped.text;
    let cut = text
        .find("\n[[protocols]]")
        .expect("the model has protocols");
    let text = format!(
        r#"{}
[[protocols]]
name = "{name}"
[[protocols.trains]]
start = "{start} s"
frequency = "{frequency}"
count = {count}
width = "1 ms"
on = [ {{ set = "G", value = "150 uM" }} ]
off = [ {{ set = "G", value = "0 uM" }} ]
[[protocols.trains]]
start = "{start} s"
frequency = "{frequency}"
count = {count}
width = "20 ms"
on = [ {{ set = "V_m", value = "-50 mV" }} ]
off = [ {{ set = "V_m", value = "-64 mV" }} ]

[[outcomes]]
name = "Ca_integral"
kind = "integral"
observable = "Ca"
window = ["{start} s", "end"]
"#,
        &text[..cut]
    );
    let s = Setup::new(model(&text), Some(name), t_end, 0.1);
    let col = s.column("CaN_active");
    let row = s.row_at(t_end);
    let runs = 500;
    let sample = |request, seed| {
        let (mut integral, mut active) = (Vec::new(), Vec::new());
        let stats = s.run_method(request, seed, runs, |t| {
            match t.outcomes[0] {
                spinesim::outcome::OutcomeValue::Scalar(v) => integral.push(v),
                other => panic!("unexpected outcome {other:?}"),
            }
            active.push(s.value(t, row, col));
        });
        (integral, active, stats)
    };
    let (exact_i, exact_a, _) = sample(MethodRequest::Direct, seed);
    let (leap_i, leap_a, stats) = sample(tau_leap(0.03), seed + 1);
    eprintln!("spine_ltd_core {name}, tau-leap: {stats:?}");
    assert!(stats.leaps > 0, "no leap: {stats:?}");
    let crit = ks_two_sample_critical(0.001 / 2.0, runs as usize, runs as usize);
    for (what, x, y) in [
        ("Ca integral", &exact_i, &leap_i),
        ("CaN_active at the end", &exact_a, &leap_a),
    ] {
        let d = ks_two_sample(x, y);
        eprintln!("spine_ltd_core {name}: {what} KS D = {d:.4} (critical {crit:.4})");
        assert!(d < crit, "{name}, {what}: D = {d:.4}, must be < {crit:.4}");
    }
}
