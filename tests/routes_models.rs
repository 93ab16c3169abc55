//! The other LTD routes: `models/spine_mglur_ltd.toml` (mGluR-LTD, V18) and
//! `models/ecb_ltd.toml` (endocannabinoid LTD, V19).
//!
//! - both models check clean through the binary;
//! - the cross-compartment fluxes (ER -> cytosol, spine 2-AG -> bouton) have the hand-computed
//!   propensities written in the model files;
//! - conserved totals stay exact along trajectories;
//! - with CB1 = 0 the stochastic release of `ecb_ltd` has the exact stationary mean of the
//!   binomial-release / refill renewal process (t test against the computed value);
//! - DHPG lowers W more than DHPG under anisomycin (one-sided Welch test, α = 0.001);
//! - the quick V18/V19 validation passes.
//!
//! Cost (release build, 2 cores): about 10 CPU-seconds in all.

use std::path::Path;
use std::process::Command;

use spinesim::model::Model;
use spinesim::network::Network;
use spinesim::simulator::MethodRequest;
use spinesim::validate::ensemble::{simulate, Condition, OutcomeChoice, ProtocolChoice};
use spinesim::validate::routes::RouteModels;
use spinesim::validate::Settings;
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::common::shipped_model;

const BIN: &str = env!("CARGO_BIN_EXE_spinesim");

fn models_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

/// One ensemble of a shipped model: outcomes by name and recorded series.
fn ensemble(
    model: &Model,
    protocol: &str,
    variants: &[&str],
    runs: u64,
    record: &[&str],
    outcomes: &[&str],
) -> spinesim::validate::ensemble::ConditionResult {
    let t_end = model.protocol(protocol).and_then(|p| p.t_end).unwrap();
    simulate(
        model,
        &Condition {
            protocol: ProtocolChoice::Named(protocol.into()),
            variants: variants.iter().map(|v| v.to_string()).collect(),
            assignments: Vec::new(),
            t_end,
            record_every: 60.0,
            record: record.iter().map(|r| r.to_string()).collect(),
            outcomes: outcomes
                .iter()
                .map(|o| OutcomeChoice::Named(o.to_string()))
                .collect(),
            runs,
            method: MethodRequest::Direct,
        },
        20261128,
        2,
    )
    .unwrap()
}

#[test]
fn both_models_check_clean() {
    for file in ["spine_mglur_ltd.toml", "ecb_ltd.toml"] {
        let o = Command::new(BIN)
            .arg("check")
            .arg(models_dir().join(file))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{file}: {err}");
        assert!(!err.to_lowercase().contains("warning"), "{file}: {err}");
    }
}

/// The cross-compartment custom propensities, evaluated on a chosen state, equal the numbers
/// the model files derive by hand.
#[test]
fn cross_compartment_fluxes_have_the_hand_computed_propensities() {
    let set = |net: &Network, state: &mut spinesim::network::State, name: &str, n: i64| {
        let i = net.species_names().iter().position(|s| s == name).unwrap();
        state.counts[i] = n;
    };
    let channel = |net: &Network, name: &str| {
        net.channel_names()
            .iter()
            .position(|c| c == name)
            .unwrap_or_else(|| panic!("no channel {name}"))
    };
    let close = |got: f64, want: f64| (got - want).abs() <= 1e-9 * want.abs().max(1.0);

    let net = Network::compile(&shipped_model("spine_mglur_ltd.toml"));
    let mut s = net.initial_state();
    // 903 free luminal ions = 150 uM in 0.01 um^3.
    let er = net
        .species_names()
        .iter()
        .position(|n| n == "Ca_ER")
        .unwrap();
    assert_eq!(s.counts[er], 903);
    set(&net, &mut s, "IP3R_O", 2);
    set(&net, &mut s, "Ca", 30);
    // ER release: 5.27 /s per open channel per luminal ion.
    let got = net.propensity(channel(&net, "C11h_er_release"), &s);
    assert!(close(got, 5.27 * 2.0 * 903.0), "{got}");
    // SERCA: 25 /s per free cytosolic ion; extrusion 70 /s.
    assert!(close(net.propensity(channel(&net, "Ca_serca"), &s), 750.0));
    assert!(close(
        net.propensity(channel(&net, "Ca_extrusion"), &s),
        2100.0
    ));
    // Refill from the dendritic ER: net flux 0.05 /s x (903 - 800) when the store is at 800.
    s.counts[er] = 800;
    assert!(close(
        net.propensity(channel(&net, "Ca_ER_refill"), &s),
        0.05 * (150.0 * 6.02214 - 800.0)
    ));
    assert_eq!(net.propensity(channel(&net, "Ca_ER_drain"), &s), 0.0);
    // PLC.Gq + Ca: 80 /uM/s x (0.05 uM + 30 / 60.2214 uM) per PLC.Gq.
    set(&net, &mut s, "PLCGq", 3);
    assert!(close(
        net.propensity(channel(&net, "C5d_plcgq_ca"), &s),
        80.0 * (0.05 + 30.0 / 60.2214) * 3.0
    ));

    let net = Network::compile(&shipped_model("ecb_ltd.toml"));
    let mut s = net.initial_state();
    set(&net, &mut s, "AG_post", 7);
    // Retrograde 2-AG: 10 /s per spine molecule, one molecule into the bouton per event.
    assert!(close(
        net.propensity(channel(&net, "D3_retrograde"), &s),
        70.0
    ));
    // The chain: k_max x a^4 / (K^4 + a^4) per site, a = active CB1.
    set(&net, &mut s, "CB1_bath", 40);
    let got = net.propensity(channel(&net, "D6a_docked_h0_h1"), &s);
    assert!(close(got, 0.02 * 0.5 * 10.0), "{got}");
    // mGluR5 driven by the glutamate of 3 vesicles in the cleft (bouton): 0.0168 x 5 uM x 3 per receptor.
    set(&net, &mut s, "A0", 2);
    set(&net, &mut s, "B1", 1);
    assert!(close(
        net.propensity(channel(&net, "C1_mglur_agonist"), &s),
        0.0168 * 5.0 * 3.0 * 48.0
    ));
}

/// Totals that no reaction or action changes stay exact at every recorded time.
#[test]
fn conserved_totals_stay_exact() {
    let mglur = shipped_model("spine_mglur_ltd.toml");
    let r = ensemble(
        &mglur,
        "dhpg_5min",
        &[],
        2,
        &[
            "AMPAR_total",
            "slots_total",
            "Gq_total",
            "PLC_total",
            "IP3R_total",
            "mGluR_total",
        ],
        &[],
    );
    for (name, total) in [
        ("AMPAR_total", 148.0),
        ("slots_total", 100.0),
        ("Gq_total", 84.0),
        ("PLC_total", 15.0),
        ("IP3R_total", 10.0),
        ("mGluR_total", 48.0),
    ] {
        assert!(r.mean_series(name).iter().all(|v| *v == total), "{name}");
    }
    let ecb = shipped_model("ecb_ltd.toml");
    let r = ensemble(&ecb, "ag_10min", &[], 2, &["sites_total", "CB1_total"], &[]);
    assert!(r.mean_series("sites_total").iter().all(|v| *v == 10.0));
    assert!(r.mean_series("CB1_total").iter().all(|v| *v == 80.0));
}

/// With CB1 = 0 every site stays naive (p = 0.5, refill 1/3 s). Test pairs (50 ms apart) every
/// 10 s make the docked probability before a first pulse the fixed point q of
/// q = 1 - (1 - p q2) e^(-9.95/3), q2 = q (1 - p) + (1 - q (1 - p)) (1 - e^(-0.05/3)), so the
/// window mean of Rel1 is p q x 1 ms per 10 s and that of Rel2 is p q2 x 1 ms per 10 s. The
/// per-trajectory window means are i.i.d. across trajectories: a t test at α = 0.001 each.
#[test]
fn release_without_cb1_has_the_exact_renewal_mean() {
    let (p, tau) = (0.5_f64, 3.0_f64);
    let r1 = 1.0 - (-0.05 / tau).exp();
    let stay_empty = (-9.95 / tau).exp();
    let mut q = 1.0_f64;
    for _ in 0..200 {
        let q2 = q * (1.0 - p) + (1.0 - q * (1.0 - p)) * r1;
        q = 1.0 - (1.0 - q2 * (1.0 - p)) * stay_empty;
    }
    let q2 = q * (1.0 - p) + (1.0 - q * (1.0 - p)) * r1;
    let ecb = shipped_model("ecb_ltd.toml");
    let runs = 24;
    let r = ensemble(
        &ecb,
        "ag_10min",
        &["am251"],
        runs,
        &[],
        &["rel1_final", "rel2_final"],
    );
    let t_crit = StudentsT::new(0.0, 1.0, (runs - 1) as f64)
        .unwrap()
        .inverse_cdf(1.0 - 0.001 / 2.0);
    // 10 sites x p x q vesicles per first pulse, 1 ms each, one pair per 10 s.
    for (outcome, docked) in [("rel1_final", q), ("rel2_final", q2)] {
        let expected = 10.0 * p * docked * 0.001 / 10.0;
        let (m, sd) = mean_sd(r.outcome(outcome));
        let t = (m - expected) / (sd / (runs as f64).sqrt());
        assert!(
            t.abs() < t_crit,
            "{outcome}: mean {m:.4e} vs exact {expected:.4e}, t = {t:.2} (critical {t_crit:.2})"
        );
    }
}

/// DHPG lowers synaptic AMPARs more than DHPG under anisomycin: one-sided Welch t test at
/// α = 0.001 with the Welch–Satterthwaite degrees of freedom.
#[test]
fn dhpg_lowers_w_more_than_under_anisomycin() {
    let model = shipped_model("spine_mglur_ltd.toml");
    let control = ensemble(&model, "dhpg_5min", &[], 8, &[], &["W_change"]);
    let blocked = ensemble(&model, "dhpg_5min", &["anisomycin"], 8, &[], &["W_change"]);
    let (a, b) = (blocked.outcome("W_change"), control.outcome("W_change"));
    let ((ma, sa), (mb, sb)) = (mean_sd(a), mean_sd(b));
    let (va, vb) = (sa * sa / a.len() as f64, sb * sb / b.len() as f64);
    let df =
        (va + vb).powi(2) / (va * va / (a.len() as f64 - 1.0) + vb * vb / (b.len() as f64 - 1.0));
    let t = (ma - mb) / (va + vb).sqrt();
    let t_crit = StudentsT::new(0.0, 1.0, df)
        .unwrap()
        .inverse_cdf(1.0 - 0.001);
    assert!(
        t > t_crit,
        "anisomycin {ma:+.1} %, control {mb:+.1} %: t = {t:.2} < {t_crit:.2} (df {df:.1})"
    );
    assert!(mb < 0.0, "DHPG W change {mb:+.1} %");
}

/// The quick V18/V19 validation (the part `spinesim validate --quick` adds for these models)
/// passes every check and reports both targets.
#[test]
fn quick_route_validation_passes() {
    let settings = Settings {
        quick: true,
        models_dir: models_dir(),
        runs: None,
        seed: 1,
        method: MethodRequest::Direct,
        threads: 2,
        verbose: false,
        command: "tests/routes_models.rs".into(),
        cache: None,
    };
    let results = RouteModels::load(&settings.models_dir)
        .unwrap()
        .rows(&settings)
        .unwrap();
    let (rows, ensembles) = (results.rows, results.ensembles);
    let failed: Vec<String> = rows
        .iter()
        .filter(|r| r.pass == Some(false))
        .map(|r| format!("{} {}: {}", r.target, r.check, r.got))
        .collect();
    assert!(failed.is_empty(), "{failed:#?}");
    for target in ["V18", "V19"] {
        assert!(
            rows.iter()
                .filter(|r| r.target == target && r.pass == Some(true))
                .count()
                >= 3,
            "{target}"
        );
    }
    assert!(ensembles.iter().all(|e| e.trajectories == 8));
}

/// A missing model is an error naming the file, before any simulation.
#[test]
fn a_missing_route_model_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        models_dir().join("spine_mglur_ltd.toml"),
        dir.path().join("spine_mglur_ltd.toml"),
    )
    .unwrap();
    let err = match RouteModels::load(dir.path()) {
        Ok(_) => panic!("loaded without ecb_ltd.toml"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("ecb_ltd.toml"), "{err}");
}
