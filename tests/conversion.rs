//! Propensity conversion: macroscopic rates in concentration units → stochastic propensities,
//! checked against values computed by hand (written out literally below).
//!
//! NAV = 6.02214076e23 × V[L] × 1e-6 molecules per µM:
//!   0.1 fL → NAV = 60.2214076,   1 fL → NAV = 602.214076.

use std::path::Path;

use spinesim::model::parse_model;
use spinesim::network::{Network, State};

const NAV_SMALL: f64 = 60.2214076;
const NAV_BIG: f64 = 602.214076;

/// Relative tolerance of the hand values.
const REL: f64 = 1e-12;

fn assert_close(what: &str, got: f64, expected: f64) {
    let scale = expected.abs().max(f64::MIN_POSITIVE);
    let rel = (got - expected).abs() / scale;
    assert!(
        rel <= REL,
        "{what}: got {got:.17e}, hand value {expected:.17e} (relative error {rel:.3e})"
    );
}

/// Two compartments (0.1 fL and 1 fL) with one reaction of every order in each.
const MODEL: &str = r#"
[model]
name = "conversion"

[[compartments]]
name = "small"
volume = "0.1 fL"

[[compartments]]
name = "big"
volume = "1 um^3"

[[parameters]]
name = "k0"
value = "2 /uM/s"

[[parameters]]
name = "G"
value = "150 uM"

[[parameters]]
name = "vmax"
value = "5 /s"

[[parameters]]
name = "K"
value = 10

[[parameters]]
name = "kconst"
value = "7 /s"

[[species]]
name = "A_s"
initial = 0
compartment = "small"

[[species]]
name = "B_s"
initial = 0
compartment = "small"

[[species]]
name = "X_s"
initial = 0
compartment = "small"

[[species]]
name = "C_s"
initial = "50 nM"
compartment = "small"

[[species]]
name = "A_b"
initial = 0
compartment = "big"

[[species]]
name = "B_b"
initial = 0
compartment = "big"

[[species]]
name = "X_b"
initial = 0
compartment = "big"

[[species]]
name = "C_b"
initial = "1 uM"
compartment = "big"

[[species]]
name = "D_b"
initial = "2.5 nM"
compartment = "big"

# ---- 0.1 fL ----
[[reactions]]
name = "zero_s"
equation = "-> X_s"
rate = "2.5 uM/s"

[[reactions]]
name = "first_s"
equation = "A_s -> X_s"
rate = "0.7 /s"

[[reactions]]
name = "second_s"
equation = "A_s + B_s -> X_s"
rate = "1 /uM/s"

[[reactions]]
name = "dimer_s"
equation = "2 A_s -> X_s"
rate = "3 uM^-1 s^-1"

[[reactions]]
name = "third_s"
equation = "A_s + 2 B_s -> X_s"
rate = "0.5 1/(uM^2*s)"

# ---- 1 fL ----
[[reactions]]
name = "zero_b"
equation = "-> X_b"
rate = "2.5 uM/s"

[[reactions]]
name = "first_b"
equation = "A_b -> X_b"
rate = "0.7 s^-1"

[[reactions]]
name = "second_b"
equation = "A_b + B_b -> X_b"
rate = "1 1/(uM*s)"

[[reactions]]
name = "dimer_b"
equation = "2 A_b -> X_b"
rate = "3 /uM/s"

[[reactions]]
name = "third_b"
equation = "A_b + 2 B_b -> X_b"
rate = "0.5 uM^-2 s^-1"

# ---- unit conversions ----
[[reactions]]
name = "molar_b"
equation = "A_b + B_b -> C_b"
rate = "1e8 1/(M*s)"

[[reactions]]
name = "ions_b"
equation = "A_b -> C_b"
rate = "64 ions/ms"

# ---- a rate that is an expression of parameters: k0 [1/(uM s)] * G [uM] = 300 /s ----
[[reactions]]
name = "glu_s"
equation = "C_s -> X_s"
rate = "k0 * G"

# ---- custom propensities (events/s; species are counts) ----
[[reactions]]
name = "hill_s"
equation = "B_s -> X_s"
propensity = "vmax * B_s^4 / (K^4 + B_s^4)"

[[reactions]]
name = "const_b"
equation = "D_b -> X_b"
propensity = "kconst"
"#;

fn setup() -> (spinesim::model::Model, Network) {
    let model = parse_model(MODEL, Path::new("conversion.toml"))
        .unwrap_or_else(|e| panic!("the conversion model must load:\n{e}"));
    let net = Network::compile(&model);
    (model, net)
}

fn channel(net: &Network, name: &str) -> usize {
    net.channel_names()
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no channel {name}"))
}

fn species(net: &Network, name: &str) -> usize {
    net.species_names()
        .iter()
        .position(|n| n == name)
        .unwrap_or_else(|| panic!("no species {name}"))
}

/// The initial state with A_s = 30, B_s = 20, A_b = 300, B_b = 200.
fn state(net: &Network) -> State {
    let mut s = net.initial_state();
    for (name, n) in [("A_s", 30), ("B_s", 20), ("A_b", 300), ("B_b", 200)] {
        s.counts[species(net, name)] = n;
    }
    s
}

#[test]
fn nav_values() {
    let (model, _) = setup();
    assert_close(
        "NAV(0.1 fL)",
        model.compartments[0].molecules_per_micromolar(),
        NAV_SMALL,
    );
    assert_close(
        "NAV(1 um^3)",
        model.compartments[1].molecules_per_micromolar(),
        NAV_BIG,
    );
    assert_eq!(model.compartments[1].volume_fl, 1.0, "1 um^3 is 1 fL");
}

/// (channel, hand formula, hand value). Counts: nA = 30, nB = 20 in 0.1 fL; nA = 300, nB = 200 in 1 fL.
const TABLE: &[(&str, &str, f64)] = &[
    // zero order, k in uM/s: k · NAV
    ("zero_s", "2.5 × 60.2214076", 150.55351900),
    ("zero_b", "2.5 × 602.214076", 1505.5351900),
    // first order, k in 1/s: k · nA
    ("first_s", "0.7 × 30", 21.0),
    ("first_b", "0.7 × 300", 210.0),
    // second order, k in 1/(uM s): k / NAV · nA · nB
    ("second_s", "1 × 30 × 20 / 60.2214076", 9.96323440304308),
    ("second_b", "1 × 300 × 200 / 602.214076", 99.6323440304308),
    // homodimer, k in 1/(uM s): k / NAV · nA (nA − 1)
    ("dimer_s", "3 × 30 × 29 / 60.2214076", 43.3400696532374),
    ("dimer_b", "3 × 300 × 299 / 602.214076", 446.8510629764821),
    // third order A + 2 B, k in 1/(uM^2 s): k / NAV^2 · nA · nB (nB − 1)
    (
        "third_s",
        "0.5 × 30 × 20 × 19 / 60.2214076^2",
        1.5717122963580357,
    ),
    (
        "third_b",
        "0.5 × 300 × 200 × 199 / 602.214076^2",
        16.461618261855214,
    ),
    // 1e8 1/(M s) = 100 1/(uM s)
    ("molar_b", "100 × 300 × 200 / 602.214076", 9963.23440304308),
    // 64 ions/ms = 64000 /s
    ("ions_b", "64000 × 300", 19_200_000.0),
    // Hill: vmax · n^4 / (K^4 + n^4), n = B_s = 20, K = 10, vmax = 5 /s
    (
        "hill_s",
        "5 × 20^4 / (10^4 + 20^4) = 80/17",
        4.705882352941177,
    ),
];

#[test]
fn propensities_match_hand_table() {
    let (_, net) = setup();
    let s = state(&net);
    for &(name, formula, expected) in TABLE {
        let got = net.propensity(channel(&net, name), &s);
        assert_close(&format!("{name} ({formula})"), got, expected);
    }
}

#[test]
fn stochastic_constants_match_hand_values() {
    let (_, net) = setup();
    let s = net.initial_state();
    let c = |name: &str| s.constants[channel(&net, name)];
    assert_close("c zero_s = k NAV", c("zero_s"), 150.55351900);
    assert_close("c first_s = k", c("first_s"), 0.7);
    assert_close("c second_s = k / NAV", c("second_s"), 1.0 / NAV_SMALL);
    assert_close("c dimer_b = k / NAV", c("dimer_b"), 3.0 / NAV_BIG);
    assert_close(
        "c third_s = k / NAV^2",
        c("third_s"),
        0.5 / (NAV_SMALL * NAV_SMALL),
    );
    assert_close("c molar_b = 100 / NAV", c("molar_b"), 100.0 / NAV_BIG);
    assert_close("c ions_b = 64000", c("ions_b"), 64000.0);
    assert_close("c glu_s = 2 × 150", c("glu_s"), 300.0);
}

#[test]
fn propensities_with_missing_reactants_are_zero() {
    let (_, net) = setup();
    let mut s = state(&net);
    // One A: the dimer cannot fire (nA (nA − 1) = 0); one B: A + 2 B cannot fire.
    s.counts[species(&net, "A_s")] = 1;
    s.counts[species(&net, "B_s")] = 1;
    assert_eq!(net.propensity(channel(&net, "dimer_s"), &s), 0.0);
    assert_eq!(net.propensity(channel(&net, "third_s"), &s), 0.0);
    assert_close(
        "second_s with 1 and 1",
        net.propensity(channel(&net, "second_s"), &s),
        1.0 / NAV_SMALL,
    );
    // Zero-order does not depend on counts.
    assert_close(
        "zero_s",
        net.propensity(channel(&net, "zero_s"), &s),
        150.55351900,
    );
    // A custom propensity whose expression is a constant is 0 when its reactant is absent.
    let d = species(&net, "D_b");
    s.counts[d] = 0;
    assert_eq!(net.propensity(channel(&net, "const_b"), &s), 0.0);
    s.counts[d] = 1;
    assert_close(
        "const_b with D present",
        net.propensity(channel(&net, "const_b"), &s),
        7.0,
    );
}

#[test]
fn rate_expression_of_parameters() {
    let (model, net) = setup();
    let mut s = net.initial_state();
    let c_s = species(&net, "C_s");
    let glu = channel(&net, "glu_s");
    // C_s = round(0.05 uM × 60.2214076) = round(3.011) = 3; rate k0 × G = 2 × 150 = 300 /s.
    assert_eq!(s.counts[c_s], 3);
    assert_close("glu_s = 300 × 3", net.propensity(glu, &s), 900.0);
    // Change G as a protocol would: the constant follows.
    let g = model.parameters.iter().position(|p| p.name == "G").unwrap();
    s.params[g] = 0.5; // uM
    net.update_constants(&mut s);
    assert_close("glu_s after G = 0.5 uM", net.propensity(glu, &s), 3.0);
    s.params[g] = 0.0;
    net.update_constants(&mut s);
    assert_eq!(net.propensity(glu, &s), 0.0);
}

#[test]
fn hill_custom_propensity_at_several_counts() {
    let (_, net) = setup();
    let mut s = net.initial_state();
    let b = species(&net, "B_s");
    let hill = channel(&net, "hill_s");
    // 5 n^4 / (10^4 + n^4)
    for (n, expected) in [
        (0, 0.0),
        (10, 2.5),
        (5, 5.0 * 625.0 / 10_625.0),
        (40, 5.0 * 2_560_000.0 / 2_570_000.0),
    ] {
        s.counts[b] = n;
        let got = net.propensity(hill, &s);
        if expected == 0.0 {
            assert_eq!(got, 0.0, "hill at n = {n}");
        } else {
            assert_close(&format!("hill at n = {n}"), got, expected);
        }
    }
}

#[test]
fn concentration_initial_amounts_become_counts() {
    let (model, _) = setup();
    let initial = |name: &str| {
        model
            .species
            .iter()
            .find(|s| s.name == name)
            .unwrap()
            .initial
    };
    // 50 nM at 0.1 fL: 0.05 × 60.2214076 = 3.011 → 3
    assert_eq!(initial("C_s"), 3);
    // 1 uM at 1 fL: 602.214076 → 602
    assert_eq!(initial("C_b"), 602);
    // 2.5 nM at 1 fL: 1.50553519 → 2
    assert_eq!(initial("D_b"), 2);
}

#[test]
fn birth_death_model_has_ten_births_per_second() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/birth_death.toml");
    let model = spinesim::model::load_model(&path).expect("birth_death loads");
    let net = Network::compile(&model);
    let mut s = net.initial_state();
    assert_close("birth", net.propensity(channel(&net, "birth"), &s), 10.0);
    s.counts[species(&net, "X")] = 12;
    assert_close("death", net.propensity(channel(&net, "death"), &s), 12.0);
}

#[test]
fn reversible_reaction_gives_two_channels_with_their_own_orders() {
    let text = r#"
[model]
name = "rev"
[[compartments]]
name = "c"
volume = "0.1 fL"
[[species]]
name = "A"
initial = 30
[[species]]
name = "B"
initial = 20
[[species]]
name = "AB"
initial = 7
[[reactions]]
name = "bind"
equation = "A + B <-> AB"
rate = "1 /uM/s"
reverse = "4 /s"
"#;
    let model = parse_model(text, Path::new("rev.toml")).expect("loads");
    let net = Network::compile(&model);
    let s = net.initial_state();
    assert_eq!(net.channel_names(), ["bind", "bind.rev"]);
    assert_close("bind", net.propensity(0, &s), 9.96323440304308);
    assert_close("bind.rev = 4 × 7", net.propensity(1, &s), 28.0);
}
