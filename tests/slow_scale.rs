//! Accuracy of the slow-scale SSA (`--method slow-scale`) and the `fast = true` declarations.
//!
//! - Exact answers: a fast pair `A + B ⇌ C` with slow birth and death of A has a product-form
//!   stationary law (A ~ Poisson, C ~ Binomial, independent) that the slow-scale process keeps
//!   exactly; slow channels reading a fast pair non-linearly (custom `A²`, mass action
//!   `2 A`, `A + C`) must fire at rates given by the exact moments of the pair's law, not by
//!   `E[A]²`. A 5 % error in the equilibrium constant must fail the first check.
//! - Against exact SSA (two-sample KS and z on means): a Ca buffer model with pulses, and
//!   `spine_ltd_core` (buffer marked fast) under a few LFS pulses.
//! - Declarations: exact methods ignore the marks (same trajectories bit for bit), bad marks are
//!   errors with their line.
//!
//! Tolerances are sampling tolerances at a stated family-wise α, never tuned. Meant for
//! `cargo test --release`: ≈ 15 s of CPU in all, most of it the exact-SSA references.

use std::path::Path;

use spinesim::ensemble::trajectory_rng;
use spinesim::model::{parse_model, Model};
use spinesim::network::Network;
use spinesim::outcome::OutcomeValue;
use spinesim::simulator::{AnySimulator, MethodRequest, SimStats};
use spinesim::trajectory::{Trajectory, Worker};

use crate::common::{
    ks_two_sample, ks_two_sample_critical, mean_var, model, pearson, shipped_model, z_critical,
    Setup, NAV_1FL,
};

const SLOW: MethodRequest = MethodRequest::SlowScale;

/// `-> A` at 50 /s, `A ->` at 1 /s, `A + B <-> C` (fast) with c_bind = 20 /s per pair and
/// c_unbind = 1000 × `unbind_factor` /s, B_T = 100, in 1 fL, from A = 50, B = C = 50.
fn birth_death_pair_toml(unbind_factor: f64) -> String {
    let birth = 50.0 / NAV_1FL;
    let kon = 20.0 * NAV_1FL;
    let koff = 1000.0 * unbind_factor;
    format!(
        r#"
[model]
name = "pair"
record = ["A", "B", "C"]
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "A"
initial = 50
[[species]]
name = "B"
initial = 50
[[species]]
name = "C"
initial = 50
[[reactions]]
name = "birth"
equation = "-> A"
rate = "{birth:?} uM/s"
[[reactions]]
name = "death"
equation = "A ->"
rate = "1 /s"
[[reactions]]
name = "binding"
equation = "A + B <-> C"
rate = "{kon:?} /uM/s"
reverse = "{koff:?} /s"
fast = true
"#
    )
}

/// The exact stationary law of `birth_death_pair_toml(1.0)`: the network is complex balanced,
/// so π(a, b, c) ∝ λa^a λb^b λc^c / (a! b! c!) on b + c = 100 with λa = 50 and λc/λb = K λa = 1
/// (K = c_bind / c_unbind = 0.02): A ~ Poisson(50) and C ~ Binomial(100, 1/2), independent. The
/// slow-scale process on T_A = A + C (birth 50, death E[A | T_A]) has the same marginal, since
/// E[A | T_A] π(T_A) = 50 π(T_A − 1) under the product form, whatever the time-scale separation.
///
/// At t = 10 s (T_A relaxes at ≥ 2/3 /s from a state with the stationary means), n = 4000, five
/// checks at family-wise α = 0.001 (α/5 each): z of mean A against 50 (sd √50) and of mean C
/// against 50 (sd 5); sample variances against 50 and 25 (se of the ratio √((2 + 1/λ)/n) for the
/// Poisson, √((2 + κ)/n) with excess kurtosis κ = (1 − 6pq)/(npq) = −0.02 for the binomial);
/// correlation of A and C against 0 (se 1/√n).
fn birth_death_pair_check(unbind_factor: f64) -> Result<SimStats, String> {
    let s = Setup::new(
        model(&birth_death_pair_toml(unbind_factor)),
        None,
        10.0,
        10.0,
    );
    let (col_a, col_c) = (s.column("A"), s.column("C"));
    let row = s.row_at(10.0);
    let runs = 4000;
    let (mut a, mut c) = (Vec::new(), Vec::new());
    let stats = s.run_method(SLOW, 7, runs, |t| {
        a.push(s.value(t, row, col_a));
        c.push(s.value(t, row, col_c));
    });
    let n = runs as f64;
    let crit = z_critical(0.001 / 5.0);
    let (mean_a, var_a) = mean_var(&a);
    let (mean_c, var_c) = mean_var(&c);
    let checks = [
        ("mean A", (mean_a - 50.0) / (50.0 / n).sqrt()),
        ("mean C", (mean_c - 50.0) / (25.0 / n).sqrt()),
        (
            "variance A",
            (var_a / 50.0 - 1.0) / ((2.0 + 1.0 / 50.0) / n).sqrt(),
        ),
        (
            "variance C",
            (var_c / 25.0 - 1.0) / ((2.0 - 0.02) / n).sqrt(),
        ),
        ("correlation A, C", pearson(&a, &c) * n.sqrt()),
    ];
    eprintln!(
        "fast pair, unbind × {unbind_factor}: A {mean_a:.3} ({var_a:.2}), C {mean_c:.3} ({var_c:.2}); {stats:?}"
    );
    for (what, z) in checks {
        if z.abs() >= crit {
            return Err(format!("{what}: z = {z:.2}, |z| must be < {crit:.2}"));
        }
    }
    Ok(stats)
}

#[test]
fn fast_pair_with_birth_and_death_has_the_exact_stationary_law() {
    let stats = birth_death_pair_check(1.0).unwrap_or_else(|e| panic!("slow-scale: {e}"));
    // Only the slow channels fire (≈ 100 /s for 10 s), and the pair relaxes ≥ 10× faster.
    assert!(stats.events < 4000 * 1500, "{stats:?}");
    let separation = stats.slow_scale_separation.expect("diagnostic measured");
    assert!(separation > 10.0, "{stats:?}");
}

/// Power: the same checks with the unbinding constant 5 % too large (K 5 % too small: E[C] =
/// 48.8, z ≈ −15 on the mean of C) must fail.
#[test]
fn the_checks_detect_a_wrong_equilibrium_constant() {
    let err = birth_death_pair_check(1.05).expect_err("a 5 % error in K passed");
    eprintln!("K off by 5 % fails as it must: {err}");
}

/// `A <-> C` fast (binomial: T = 20, K = 1, so A ~ Binomial(20, 1/2), E[A] = 10, E[A²] = 105)
/// and three slow channels that produce X1, X2, X3 without changing A or C: a custom
/// propensity `k A²` (E = 105 k), mass action `2 A -> 2 A + X2` (c A(A − 1), E = 95 c) and
/// `A + C -> A + C + X3` (c A C, E[A (20 − A)] = 95 c). With the pair's law fixed, each X(t) is
/// exactly Poisson(E[a] t); t = 10 s with k = c = 1 /s gives means 1050, 950, 950 (sd ≈ 32, 31,
/// 31), while `k E[A]²` would give 1000 for X1 (and 900 for both mass-action channels if the
/// factors were averaged separately). n = 200, z against the exact means at family-wise
/// α = 0.001 (α/3 each): |z| < 3.99, i.e. within ≈ 9 of the mean; the wrong values are 11σ off.
#[test]
fn slow_channels_read_exact_moments_of_the_fast_law() {
    let k2 = 1.0 * NAV_1FL; // a bimolecular c of 1 /s in 1 fL
    let text = format!(
        r#"
[model]
name = "moments"
record = ["X1", "X2", "X3", "A"]
[[compartments]]
name = "cell"
volume = "1 fL"
[[parameters]]
name = "k"
value = "1 /s"
[[species]]
name = "A"
initial = 20
[[species]]
name = "C"
initial = 0
[[species]]
name = "X1"
initial = 0
[[species]]
name = "X2"
initial = 0
[[species]]
name = "X3"
initial = 0
[[reactions]]
name = "switch"
equation = "A <-> C"
rate = "300 /s"
reverse = "300 /s"
fast = true
[[reactions]]
name = "custom"
equation = "-> X1"
propensity = "k * A * A"
[[reactions]]
name = "dimer"
equation = "2 A -> 2 A + X2"
rate = "{k2:?} /uM/s"
[[reactions]]
name = "joint"
equation = "A + C -> A + C + X3"
rate = "{k2:?} /uM/s"
"#
    );
    let s = Setup::new(model(&text), None, 10.0, 10.0);
    let row = s.row_at(10.0);
    let runs = 200;
    let cols = [s.column("X1"), s.column("X2"), s.column("X3")];
    let mut x = vec![Vec::new(); 3];
    s.run_method(SLOW, 3, runs, |t| {
        for (v, &c) in x.iter_mut().zip(&cols) {
            v.push(s.value(t, row, c));
        }
    });
    let crit = z_critical(0.001 / 3.0);
    for (name, values, rate) in [
        ("X1 (k A²)", &x[0], 105.0),
        ("X2 (2 A)", &x[1], 95.0),
        ("X3 (A + C)", &x[2], 95.0),
    ] {
        let mean_exact = rate * 10.0;
        let (mean, _) = mean_var(values);
        let z = (mean - mean_exact) / (mean_exact / runs as f64).sqrt();
        eprintln!("{name}: mean {mean:.1}, exact {mean_exact}, z = {z:.2}");
        assert!(
            z.abs() < crit,
            "{name}: z = {z:.2}, |z| must be < {crit:.2}"
        );
    }
}

/// A spine-like Ca buffer in 0.1 fL: Ca influx 20 /s, extrusion 5 /s per ion, a fast buffer
/// `Ca + B <-> CaB` (B_T = 1000, c_bind = 10 /s per pair, c_unbind = 1000 /s: ≈ 90 % of Ca bound,
/// relaxation ≈ 10⁴ /s), a slow sensor `Ca + S <-> CaS` (S_T = 100, 0.05 /s per pair, 2 /s),
/// and three pulses adding 100 Ca at 0.1, 0.2 and 0.3 s, run to 0.5 s. The slow channels that
/// touch Ca fire at ≲ 300 /s: the pair relaxes ≈ 40× faster.
fn buffer_toml() -> String {
    let nav = NAV_1FL * 0.1;
    format!(
        r#"
[model]
name = "buffer"
record = ["Ca", "CaB", "CaS"]
[[compartments]]
name = "spine"
volume = "0.1 fL"
[[species]]
name = "Ca"
initial = 4
[[species]]
name = "B"
initial = 960
[[species]]
name = "CaB"
initial = 40
[[species]]
name = "S"
initial = 100
[[species]]
name = "CaS"
initial = 0
[[reactions]]
name = "influx"
equation = "-> Ca"
rate = "{influx:?} uM/s"
[[reactions]]
name = "extrusion"
equation = "Ca ->"
rate = "5 /s"
[[reactions]]
name = "buffer"
equation = "Ca + B <-> CaB"
rate = "{kon_b:?} /uM/s"
reverse = "1000 /s"
fast = true
[[reactions]]
name = "sensor"
equation = "Ca + S <-> CaS"
rate = "{kon_s:?} /uM/s"
reverse = "2 /s"
[[outcomes]]
name = "Ca_integral"
kind = "integral"
observable = "Ca"
window = ["0.1 s", "end"]
[[protocols]]
name = "pulses"
[[protocols.trains]]
start = "0.1 s"
frequency = "10 Hz"
count = 3
on = [ {{ add = "Ca", amount = 100 }} ]
"#,
        influx = 20.0 / nav,
        kon_b = 10.0 * nav,
        kon_s = 0.05 * nav,
    )
}

/// Two-sample comparison of slow-scale against exact SSA (direct), n each: KS on every sample
/// at family-wise α = 0.001 split over the samples, and z on the difference of means at the
/// same α. Returns the worst ratio statistic / critical value.
fn compare(what: &str, exact: &[Vec<f64>], slow: &[Vec<f64>], names: &[&str]) -> f64 {
    let alpha = 0.001 / (2 * names.len()) as f64;
    let mut worst: f64 = 0.0;
    for ((x, y), name) in exact.iter().zip(slow).zip(names) {
        let d = ks_two_sample(x, y);
        let d_crit = ks_two_sample_critical(alpha, x.len(), y.len());
        let ((mx, vx), (my, vy)) = (mean_var(x), mean_var(y));
        let se = (vx / x.len() as f64 + vy / y.len() as f64).sqrt();
        let z = if se > 0.0 { (my - mx) / se } else { 0.0 };
        let z_crit = z_critical(alpha);
        eprintln!(
            "{what}: {name}: exact mean {mx:.3}, slow-scale {my:.3} (z = {z:.2}, critical {z_crit:.2}); KS D = {d:.4} (critical {d_crit:.4})"
        );
        worst = worst.max(d / d_crit).max(z.abs() / z_crit);
    }
    worst
}

/// Samples of the recorded `columns` at each of `times` (column-major: every time of the first
/// column, then of the next) and of every scalar outcome, from `runs` trajectories of `request`.
fn samples(
    s: &Setup,
    request: MethodRequest,
    seed: u64,
    runs: u64,
    times: &[f64],
    columns: &[&str],
) -> (Vec<Vec<f64>>, SimStats) {
    let cells: Vec<(usize, usize)> = columns
        .iter()
        .flat_map(|c| times.iter().map(move |&t| (s.row_at(t), s.column(c))))
        .collect();
    let mut out = vec![Vec::new(); cells.len() + s.model.outcomes.len()];
    let stats = s.run_method(request, seed, runs, |t| {
        for (v, &(row, col)) in out.iter_mut().zip(&cells) {
            v.push(s.value(t, row, col));
        }
        for (v, o) in out[cells.len()..].iter_mut().zip(&t.outcomes) {
            match o {
                OutcomeValue::Scalar(x) => v.push(*x),
                other => panic!("unexpected outcome {other:?}"),
            }
        }
    });
    (out, stats)
}

/// The buffer model: CaS at 0.25 s (during the pulses) and 0.5 s, and the Ca integral (over
/// unbiased roundings of E[Ca | Ca_T] after each slow event), n = 600 (≈ 1.7×10⁵ exact events
/// per trajectory).
#[test]
fn buffer_model_matches_exact_ssa() {
    let s = Setup::new(model(&buffer_toml()), Some("pulses"), 0.5, 0.25);
    let runs = 600;
    let (exact, exact_stats) = samples(&s, MethodRequest::Direct, 51, runs, &[0.25, 0.5], &["CaS"]);
    let (slow, slow_stats) = samples(&s, SLOW, 61, runs, &[0.25, 0.5], &["CaS"]);
    eprintln!("buffer: exact {exact_stats:?}\n        slow-scale {slow_stats:?}");
    let worst = compare(
        "buffer",
        &exact,
        &slow,
        &["CaS(0.25 s)", "CaS(0.5 s)", "Ca integral"],
    );
    assert!(
        worst < 1.0,
        "slow-scale differs from exact SSA: worst statistic / critical = {worst:.3}"
    );
    assert!(
        slow_stats.events * 10 < exact_stats.events,
        "no saving: {slow_stats:?}"
    );
}

/// A fast pair written the other way round (`CaB <-> Ca + B`, rates swapped) is the same pair:
/// the slow-scale trajectories are identical for the same seed.
#[test]
fn a_fast_pair_may_be_written_either_way_round() {
    let forward = buffer_toml();
    let kon = format!("{:?} /uM/s", 10.0 * (NAV_1FL * 0.1));
    let rates = format!("rate = \"{kon}\"\nreverse = \"1000 /s\"");
    assert!(forward.contains(&rates), "{forward}");
    let backward = forward
        .replacen("\"Ca + B <-> CaB\"", "\"CaB <-> Ca + B\"", 1)
        .replacen(
            &rates,
            &format!("rate = \"1000 /s\"\nreverse = \"{kon}\""),
            1,
        );
    let a = Setup::new(model(&forward), Some("pulses"), 0.5, 0.05).with_method(SLOW);
    let b = Setup::new(model(&backward), Some("pulses"), 0.5, 0.05).with_method(SLOW);
    for seed in [3, 4] {
        let (ta, tb) = (a.one(seed), b.one(seed));
        assert!(ta.events > 100, "{}", ta.events);
        assert_eq!(ta.samples, tb.samples);
    }
}

/// The shipped `spine_ltd_core` (its buffer `A12_buffer` is marked fast) without its protocols,
/// and `extra` appended (protocols, outcomes).
fn ltd_core_fast(extra: &str) -> String {
    let shipped = shipped_model("spine_ltd_core.toml");
    assert!(
        shipped.text.contains("equation = \"Ca + Bf <-> BfCa\"\nrate = \"247 uM^-1 s^-1\"\nreverse = \"524 s^-1\"\nfast = true"),
        "the shipped buffer is no longer the marked fast pair this test is about"
    );
    let mut text = shipped.text.clone();
    let cut = text
        .find("\n[[protocols]]")
        .expect("the model has protocols");
    text.truncate(cut);
    text + extra
}

/// `spine_ltd_core` under LFS cut to 2 pulses at 1 Hz from 0.5 s (each: glutamate 150 µM for
/// 1 ms, −50 mV for 20 ms, as in the model's `lfs_1hz`), to 2 s: CaN_active at 2 s, Ca
/// integral and CaN_active integral over [0.5 s, 2 s], n = 250 each (≈ 4×10⁵ exact events per
/// trajectory). The pulses' NMDA Ca influx outpaces buffering (the separation diagnostic falls
/// far below 1 during a pulse), so this checks that the brief violations do not show at this n.
#[test]
fn spine_ltd_core_short_lfs_matches_exact_ssa() {
    let text = ltd_core_fast(
        r#"
[[protocols]]
name = "lfs_short"
[[protocols.trains]]
start = "0.5 s"
frequency = "1 Hz"
count = 2
width = "1 ms"
on = [ { set = "G", value = "150 uM" } ]
off = [ { set = "G", value = "0 uM" } ]
[[protocols.trains]]
start = "0.5 s"
frequency = "1 Hz"
count = 2
width = "20 ms"
on = [ { set = "V_m", value = "-50 mV" } ]
off = [ { set = "V_m", value = "-64 mV" } ]

[[outcomes]]
name = "Ca_integral"
kind = "integral"
observable = "Ca"
window = ["0.5 s", "end"]

[[outcomes]]
name = "CaN_active_integral"
kind = "integral"
observable = "CaN_active"
window = ["0.5 s", "end"]
"#,
    );
    let s = Setup::new(model(&text), Some("lfs_short"), 2.0, 0.5);
    let runs = 250;
    let (exact, exact_stats) =
        samples(&s, MethodRequest::Direct, 71, runs, &[2.0], &["CaN_active"]);
    let (slow, slow_stats) = samples(&s, SLOW, 72, runs, &[2.0], &["CaN_active"]);
    eprintln!("spine_ltd_core: exact {exact_stats:?}\n                slow-scale {slow_stats:?}");
    let worst = compare(
        "spine_ltd_core",
        &exact,
        &slow,
        &["CaN_active(2 s)", "Ca integral", "CaN_active integral"],
    );
    assert!(
        worst < 1.0,
        "slow-scale differs from exact SSA: worst statistic / critical = {worst:.3}"
    );
    assert!(
        slow_stats.events * 4 < exact_stats.events,
        "no saving: {slow_stats:?}"
    );
}

/// The `fast` marks change nothing for exact methods: `benches/models/spine_bidirectional_fast.toml`
/// (buffer as one reversible reaction, buffer and neurogranin binding marked fast) gives the
/// shipped model's trajectories bit for bit under the direct method.
#[test]
fn exact_methods_ignore_fast_marks() {
    let mut shipped = shipped_model("spine_bidirectional.toml");
    let mut marked = bidirectional_fast();
    // Their outcomes need a protocol-length run.
    shipped.outcomes.clear();
    marked.outcomes.clear();
    assert_eq!(
        marked.reactions.iter().filter(|r| r.fast).count(),
        4,
        "two fast reactions, two channels each"
    );
    let a = Setup::new(shipped, None, 0.2, 0.05);
    let b = Setup::new(marked, None, 0.2, 0.05);
    for seed in [1, 2] {
        let (ta, tb) = (a.one(seed), b.one(seed));
        assert!(ta.events > 10_000, "{}", ta.events);
        assert_eq!(ta.samples, tb.samples);
        assert_eq!(ta.events, tb.events);
    }
}

/// The diagnostic of the shipped spine copy flags the neurogranin pair as poorly separated (the
/// CaN + CaM0 channels fire faster than Ng + CaM0 relaxes) — what docs/slow_scale.md warns of.
#[test]
fn separation_diagnostic_on_the_bidirectional_copy() {
    let mut m = bidirectional_fast();
    m.outcomes.clear();
    let s = Setup::new(m, None, 1.0, 1.0);
    let stats = s.run_method(SLOW, 1, 1, |_| {});
    let separation = stats.slow_scale_separation.expect("measured");
    eprintln!("spine_bidirectional_fast at rest: {stats:?}");
    assert!(separation < 1.0, "{stats:?}");
}

fn bidirectional_fast() -> Model {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models/spine_bidirectional_fast.toml");
    spinesim::model::load_model(&path).expect("the bench copy loads")
}

/// No heap allocation per event (the counting allocator of `tests/allocation.rs`), on the
/// spine copy (two pairs, ≈ 2×10⁴ slow events/s) and on the buffer model; and none in a whole
/// pulsed trajectory once the first one warmed the buffers up.
#[test]
fn slow_scale_allocates_nothing_per_event() {
    let mut spine = bidirectional_fast();
    spine.outcomes.clear();
    for (name, m, t_stop) in [
        ("spine", &spine, 5.0),
        ("buffer", &model(&buffer_toml()), 800.0),
    ] {
        let (stats, allocated) = crate::allocation::count_method(m, SLOW, t_stop);
        assert!(stats.events > 50_000, "{name}: too few events: {stats:?}");
        assert_eq!(allocated, 0, "{name}: {allocated} allocations in {stats:?}");
    }
    let s = Setup::new(model(&buffer_toml()), Some("pulses"), 20.0, 0.01);
    let sim = AnySimulator::new(SLOW, &s.net).unwrap();
    let mut worker = Worker::new(&s.net, &s.plan, sim);
    let mut out = Trajectory::default();
    worker
        .simulate(&mut trajectory_rng(9, 0), &mut out)
        .unwrap();
    let before = crate::allocation::allocations();
    worker
        .simulate(&mut trajectory_rng(9, 1), &mut out)
        .unwrap();
    let allocated = crate::allocation::allocations() - before;
    assert!(out.events > 1000, "{}", out.events);
    assert_eq!(
        allocated, 0,
        "{allocated} allocations in a pulsed trajectory"
    );
}

#[track_caller]
fn load_error(text: &str) -> String {
    match parse_model(text, Path::new("fast.toml")) {
        Ok(_) => panic!("should be rejected:\n{text}"),
        Err(e) => e.to_string(),
    }
}

fn pair_model(reactions: &str) -> String {
    format!(
        r#"
[model]
name = "bad"
[[compartments]]
name = "cell"
volume = "1 fL"
[[species]]
name = "A"
initial = 1
[[species]]
name = "B"
initial = 1
[[species]]
name = "C"
initial = 1
[[species]]
name = "D"
initial = 1
{reactions}"#
    )
}

#[test]
fn bad_fast_declarations_are_located_errors() {
    // Line numbers: the reactions start on line 19 of `pair_model`.
    let one_way = pair_model(
        "[[reactions]]\nname = \"r1\"\nequation = \"A -> B\"\nrate = \"1 /s\"\nfast = true\n",
    );
    let e = load_error(&one_way);
    assert!(
        e.contains("fast.toml:23") && e.contains("r1") && e.contains("only for reversible"),
        "{e}"
    );

    let dimer = pair_model(
        "[[reactions]]\nname = \"r2\"\nequation = \"2 A <-> B\"\nrate = \"1 /uM/s\"\nreverse = \"1 /s\"\nfast = true\n",
    );
    let e = load_error(&dimer);
    assert!(
        e.contains("fast.toml:24") && e.contains("r2") && e.contains("'A + B <-> C'"),
        "{e}"
    );

    let three = pair_model(
        "[[reactions]]\nname = \"r3\"\nequation = \"A + B <-> C + D\"\nrate = \"1 /uM/s\"\nreverse = \"1 /uM/s\"\nfast = true\n",
    );
    assert!(load_error(&three).contains("r3"));

    let shared = pair_model(
        "[[reactions]]\nname = \"r4\"\nequation = \"A + B <-> C\"\nrate = \"1 /uM/s\"\nreverse = \"1 /s\"\nfast = true\n\n\
         [[reactions]]\nname = \"r5\"\nequation = \"C <-> D\"\nrate = \"1 /s\"\nreverse = \"1 /s\"\nfast = true\n",
    );
    let e = load_error(&shared);
    assert!(
        e.contains("fast.toml:31")
            && e.contains("r5")
            && e.contains("'C'")
            && e.contains("'r4' (line 24)"),
        "{e}"
    );

    let custom = pair_model(
        "[[reactions]]\nname = \"r6\"\nequation = \"A -> B\"\npropensity = \"1[1/s] * A\"\nfast = true\n",
    );
    assert!(load_error(&custom).contains("r6"));

    // `fast = false` is allowed and means nothing.
    let off = pair_model(
        "[[reactions]]\nname = \"r7\"\nequation = \"A <-> B\"\nrate = \"1 /s\"\nreverse = \"1 /s\"\nfast = false\n",
    );
    let m = model(&off);
    assert!(m.reactions.iter().all(|r| !r.fast));
}

#[test]
fn slow_scale_refuses_what_it_cannot_average() {
    let none = pair_model("[[reactions]]\nname = \"r\"\nequation = \"A <-> B\"\nrate = \"1 /s\"\nreverse = \"1 /s\"\n");
    let e = AnySimulator::new(SLOW, &Network::compile(&model(&none))).unwrap_err();
    assert!(e.contains("no reaction is declared `fast = true`"), "{e}");

    let two_pairs = pair_model(
        "[[reactions]]\nname = \"p1\"\nequation = \"A <-> B\"\nrate = \"1 /s\"\nreverse = \"1 /s\"\nfast = true\n\n\
         [[reactions]]\nname = \"p2\"\nequation = \"C <-> D\"\nrate = \"1 /s\"\nreverse = \"1 /s\"\nfast = true\n\n\
         [[reactions]]\nname = \"reads_both\"\nequation = \"-> A\"\npropensity = \"1[1/s] * B / (1 + C)\"\n",
    );
    let e = AnySimulator::new(SLOW, &Network::compile(&model(&two_pairs))).unwrap_err();
    assert!(
        e.contains("reads_both") && e.contains("p1") && e.contains("p2"),
        "{e}"
    );
}

/// `spinesim run --method slow-scale` names the method and the separation diagnostic in
/// `run.json`, and warns on stderr when the separation is poor; without a fast reaction it is a
/// usage error naming the cause.
#[test]
fn cli_runs_slow_scale_and_reports_the_separation() {
    let bin = env!("CARGO_BIN_EXE_spinesim");
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("pair.toml");
    // unbind × 0.001: almost all A is bound, so the pair relaxes at ≲ 2× the slow rates.
    std::fs::write(&path, birth_death_pair_toml(0.001)).unwrap();
    let out_dir = tmp.path().join("out");
    let run = |method: &str| {
        std::process::Command::new(bin)
            .args(["run", path.to_str().unwrap(), "--t-end", "5", "--runs", "4"])
            .args([
                "--method",
                method,
                "--out",
                out_dir.to_str().unwrap(),
                "--force",
            ])
            .output()
            .unwrap()
    };
    let out = run("slow-scale");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: slow-scale separation fell to"),
        "{stderr}"
    );
    let meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(meta["method"], "slow-scale");
    let separation = meta["slow_scale_separation"].as_f64().expect("reported");
    assert!(separation > 0.0 && separation < 10.0, "{separation}");

    std::fs::write(
        &path,
        birth_death_pair_toml(1.0).replace("fast = true\n", ""),
    )
    .unwrap();
    let out = run("slow-scale");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no reaction is declared `fast = true`"),
        "{stderr}"
    );
}

/// A protocol that changes a fast pair's constant (here `koff` halved at 5 s, so K λa = 2) gets
/// the new law: at 15 s C ~ Binomial(100, 2/3) (mean 66.67, sd 4.71) and A ~ Poisson(50), as in
/// `birth_death_pair_check`. n = 2000, z on both means at family-wise α = 0.001 (α/2 each);
/// the old law would put mean C at 50 (z ≈ −160).
#[test]
fn a_protocol_that_changes_k_changes_the_law() {
    let text = birth_death_pair_toml(1.0).replace(
        "reverse = \"1000.0 /s\"\nfast = true",
        "reverse = \"koff\"\nfast = true\n[[parameters]]\nname = \"koff\"\nvalue = \"1000 /s\"\n\
         [[protocols]]\nname = \"halve\"\n[[protocols.events]]\ntime = \"5 s\"\n\
         actions = [ { scale = \"koff\", factor = 0.5 } ]",
    );
    assert!(text.contains("koff"), "{text}");
    let s = Setup::new(model(&text), Some("halve"), 15.0, 15.0);
    let (row, col_a, col_c) = (s.row_at(15.0), s.column("A"), s.column("C"));
    let runs = 2000;
    let (mut a, mut c) = (Vec::new(), Vec::new());
    s.run_method(SLOW, 17, runs, |t| {
        a.push(s.value(t, row, col_a));
        c.push(s.value(t, row, col_c));
    });
    let n = runs as f64;
    let crit = z_critical(0.001 / 2.0);
    let (mean_a, _) = mean_var(&a);
    let (mean_c, _) = mean_var(&c);
    let p = 2.0 / 3.0;
    let z_a = (mean_a - 50.0) / (50.0 / n).sqrt();
    let z_c = (mean_c - 100.0 * p) / (100.0 * p * (1.0 - p) / n).sqrt();
    eprintln!("K doubled at 5 s: A {mean_a:.3} (z = {z_a:.2}), C {mean_c:.3} (z = {z_c:.2})");
    assert!(
        z_a.abs() < crit && z_c.abs() < crit,
        "|z| must be < {crit:.2}"
    );
}
