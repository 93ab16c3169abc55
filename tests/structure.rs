//! The structural module of `spine_bidirectional` (cofilin / actin / volume): its initial counts
//! are the rest state its derived rates claim, in control and under `cofilin_ko`. A change of
//! any F-rate without re-deriving the others makes the spine drift at rest, which this catches.

use spinesim::model::overrides;
use spinesim::model::Model;
use spinesim::network::Network;

use crate::common::shipped_model;

/// The SSA mean of active calcineurin (CNM4) at rest, which the basal slingshot rate F6b is
/// derived from (the model file quotes it).
const CNM4_REST: f64 = 0.157;

/// Propensity of the channel `name` at the model's initial state, with `cnm4` molecules of CNM4.
fn propensity(model: &Model, name: &str, cnm4: f64) -> f64 {
    let net = Network::compile(model);
    let r = model
        .reactions
        .iter()
        .position(|x| x.name == name)
        .unwrap_or_else(|| panic!("no reaction {name}"));
    let mut state = net.initial_state();
    let a = net.propensity(r, &state);
    // F6 is linear in CNM4, which is 0 in the initial counts: rescale by the rest mean.
    if name == "F6" {
        let c = model.species.iter().position(|s| s.name == "CNM4").unwrap();
        state.counts[c] = 1;
        return net.propensity(r, &state) * cnm4;
    }
    a
}

fn count(model: &Model, name: &str) -> f64 {
    model
        .species
        .iter()
        .find(|s| s.name == name)
        .unwrap()
        .initial as f64
}

/// Flux balances of the actin pools and cofilin at the initial counts, within the rounding of
/// the counts (one molecule of the smaller pool).
fn assert_rest(model: &Model, label: &str) {
    let a = |n: &str| propensity(model, n, CNM4_REST);
    let close = |lhs: f64, rhs: f64, unit: f64, what: &str| {
        assert!(
            (lhs - rhs).abs() <= unit,
            "{label}: {what} out of balance at rest: {lhs:.5} vs {rhs:.5} per s"
        );
    };
    // Dynamic pool: polymerisation = basal depolymerisation + severing.
    close(a("F2"), a("F1") + a("F5"), 0.08, "G -> Fd vs Fd -> G");
    // Stable pool.
    close(a("F4"), a("F3"), 0.002, "G -> Fs vs Fs -> G");
    // Cofilin phosphorylation cycle (only when there is cofilin).
    if count(model, "Cof") + count(model, "CofP") > 0.0 {
        close(
            a("F7"),
            a("F6") + a("F6b"),
            0.05,
            "Cof -> CofP vs CofP -> Cof",
        );
    }
}

#[test]
fn the_structural_module_starts_at_its_rest_state() {
    let control = shipped_model("spine_bidirectional.toml");
    assert_rest(&control, "control");
    let ko = overrides::variant_assignments(&control, &["cofilin_ko".to_string()]).unwrap();
    let (ko, _) = overrides::apply(&control, &ko).unwrap();
    assert_eq!(count(&ko, "Cof") + count(&ko, "CofP"), 0.0);
    assert_rest(&ko, "cofilin_ko");
    // Actin is conserved by the module and the same in both.
    let actin = |m: &Model| count(m, "G") + count(m, "Fd") + count(m, "Fs");
    assert_eq!(actin(&control), 800.0);
    assert_eq!(actin(&ko), 800.0);
}
