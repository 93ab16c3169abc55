//! The pharmacology and mutant variants of `spine_ltd_core` act on exactly the channels their
//! descriptions name: each sets those channels' stochastic constants to 0 (or, for okadaic acid,
//! removes the PP1 term of the slot inactivation) and leaves every other channel as in control.

use spinesim::model::{overrides, Model};
use spinesim::network::Network;

use crate::common::shipped_model;

/// Stochastic constants of every channel at the initial state, by channel name.
fn constants(model: &Model) -> Vec<(String, f64)> {
    let net = Network::compile(model);
    let state = net.initial_state();
    (0..net.n_channels())
        .map(|r| (net.channel_names()[r].clone(), state.constants[r]))
        .collect()
}

/// Propensities of every channel at the initial state, by channel name.
fn propensities(model: &Model) -> Vec<(String, f64)> {
    let net = Network::compile(model);
    let state = net.initial_state();
    (0..net.n_channels())
        .map(|r| (net.channel_names()[r].clone(), net.propensity(r, &state)))
        .collect()
}

fn with_variant(control: &Model, variant: &str) -> Model {
    let set = overrides::variant_assignments(control, &[variant.to_string()]).unwrap();
    overrides::apply(control, &set).unwrap().0
}

/// The initial count of species `name`.
fn count(model: &Model, name: &str) -> i64 {
    let net = Network::compile(model);
    let i = net
        .species_names()
        .iter()
        .position(|s| s == name)
        .unwrap_or_else(|| panic!("no species {name}"));
    net.initial_state().counts[i]
}

/// Under `variant`, the channels in `blocked` have stochastic constant 0 where control's is
/// positive, and every other channel keeps control's constant exactly.
fn assert_blocks(variant: &str, blocked: &[&str]) {
    let control = shipped_model("spine_ltd_core.toml");
    let drug = with_variant(&control, variant);
    for ((name, a), (name_v, b)) in constants(&control).iter().zip(constants(&drug)) {
        assert_eq!(name, &name_v);
        if blocked.contains(&name.as_str()) {
            assert!(*a > 0.0, "{variant}: {name} is already 0 in control");
            assert_eq!(b, 0.0, "{variant}: {name} not blocked");
        } else {
            assert_eq!(*a, b, "{variant}: {name} changed ({a} -> {b})");
        }
    }
}

#[test]
fn fk506_blocks_calcineurin_catalysis_only() {
    assert_blocks(
        "fk506",
        &[
            "A29_can_pi1_cat",
            "A31_can_releases_pp1",
            "A33s_can_S845_syn",
            "A33e_can_S845_extra",
            "A33i_can_S845_internal",
            "A39_pit_capture_can",
        ],
    );
}

#[test]
fn dynasore_blocks_scission_only() {
    assert_blocks("dynasore", &["A40_pit_scission"]);
}

/// Okadaic acid blocks PP1 on S845 and the PP1-driven part of the slot inactivation, which
/// keeps its basal rate k_b.
#[test]
fn okadaic_acid_blocks_pp1_catalysis_only() {
    let control = shipped_model("spine_ltd_core.toml");
    let drug = with_variant(&control, "okadaic_acid");
    let k_b = 1.25e-5;
    let pp1 = propensities(&control);
    for ((name, a), (_, b)) in pp1.iter().zip(propensities(&drug)) {
        match name.as_str() {
            "A34s_pp1_S845_syn" | "A34e_pp1_S845_extra" | "A34i_pp1_S845_internal" => {
                assert!(*a > 0.0 && b == 0.0, "{name}: {a} -> {b}")
            }
            "A43_slot_inactivation" => {
                let slot = count(&control, "Slot") as f64;
                assert!(*a > k_b * slot * 1.01, "{name}: no PP1 term in control");
                assert!((b - k_b * slot).abs() < 1e-12 * k_b * slot, "{name}: {b}");
            }
            "A44_occupied_slot_inactivation" => {
                let rs = count(&control, "Rs") as f64;
                assert!(*a > k_b * rs * 1.01, "{name}: no PP1 term in control");
                assert!((b - k_b * rs).abs() < 1e-12 * k_b * rs, "{name}: {b}");
            }
            _ => assert_eq!(*a, b, "okadaic_acid: {name} changed"),
        }
    }
}

/// S845A: no PKA phosphorylation, no phospho-receptors at the start, the same receptors in each
/// place.
#[test]
fn s845a_removes_phosphorylation_and_keeps_the_receptors() {
    let control = shipped_model("spine_ltd_core.toml");
    let mutant = with_variant(&control, "s845a");
    for name in [
        "A32s_pka_S845_syn",
        "A32e_pka_S845_extra",
        "A32i_pka_S845_internal",
    ] {
        let b = constants(&mutant)
            .into_iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1;
        assert_eq!(b, 0.0, "{name}");
    }
    for (plain, phospho) in [("Rs", "RsP"), ("Re", "ReP"), ("Ri", "RiP")] {
        assert_eq!(count(&mutant, phospho), 0);
        assert_eq!(
            count(&mutant, plain),
            count(&control, plain) + count(&control, phospho),
            "{plain}"
        );
    }
}
