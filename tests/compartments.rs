//! Mass action across compartments (models/README.md, "Several compartments"): a hand-computed
//! propensity table, the located errors, SBML export, and concentration equilibration.
//!
//! Convention: `rate` is a concentration rate in compartment c (the reaction's `compartment`,
//! default the reactants' own when unique, the products' for order 0), so
//! `a = k · NAV_c · Π_i [X_i]^(ν_i)` with `[X_i] = n_i / NAV(compartment of X_i)` and falling
//! factorials for ν > 1.

use std::path::Path;

use spinesim::model::parse_model;
use spinesim::network::Network;
use spinesim::sbml::parse_sbml;
use spinesim::sbml::write::{to_sbml, ProtocolChoice};
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::common::{as_counts, chi_square_discrete, model, z_critical, z_mean, Setup, NAV_1FL};

/// Three compartments of different volumes and one reaction of each kind.
const TABLE_MODEL: &str = r#"
[model]
name = "compartments"
[[compartments]]
name = "spine"
volume = "0.1 fL"
[[compartments]]
name = "er"
volume = "0.02 fL"
[[compartments]]
name = "cleft"
volume = "1 fL"
[[species]]
name = "A"
initial = 10
compartment = "spine"
[[species]]
name = "B"
initial = 4
compartment = "er"
[[species]]
name = "C"
initial = 0
compartment = "spine"
[[species]]
name = "D"
initial = 0
compartment = "er"
[[reactions]]
name = "make_spine"
equation = "-> A"
rate = "2 uM/s"
[[reactions]]
name = "make_er_units"
equation = "-> A"
rate = "2 uM/s"
compartment = "er"
[[reactions]]
name = "export"
equation = "A -> B"
rate = "3 /s"
[[reactions]]
name = "export_er_units"
equation = "A -> B"
rate = "3 /s"
compartment = "er"
[[reactions]]
name = "bind"
equation = "A + B -> C"
rate = "0.5 /uM/s"
compartment = "spine"
[[reactions]]
name = "bind_cleft_units"
equation = "A + B -> C"
rate = "0.5 /uM/s"
compartment = "cleft"
[[reactions]]
name = "dimer"
equation = "2 A -> D"
rate = "0.7 /uM/s"
[[reactions]]
name = "dimer_er_units"
equation = "2 A -> D"
rate = "0.7 /uM/s"
compartment = "er"
[[reactions]]
name = "third"
equation = "2 A + B -> C + D"
rate = "0.3 uM^-2 s^-1"
compartment = "cleft"
[[reactions]]
name = "swap"
equation = "C <-> D"
rate = "4 /s"
reverse = "6 /s"
"#;

#[test]
fn propensity_table_by_hand() {
    let m = model(TABLE_MODEL);
    let net = Network::compile(&m);
    let state = net.initial_state();
    let (s, e, c) = (0.1 * NAV_1FL, 0.02 * NAV_1FL, NAV_1FL);
    let (a, b) = (10.0, 4.0);
    // (channel, hand-computed propensity in events/s)
    let table = [
        ("make_spine", 2.0 * s),                               // k NAV_spine
        ("make_er_units", 2.0 * e),                            // k NAV_er
        ("export", 3.0 * a),                                   // k n_A
        ("export_er_units", 3.0 * e * a / s),                  // k NAV_er [A]
        ("bind", 0.5 * a * b / e),                             // k NAV_s (nA/NAV_s)(nB/NAV_er)
        ("bind_cleft_units", 0.5 * c * (a / s) * (b / e)),     // k NAV_cleft [A][B]
        ("dimer", 0.7 / s * a * (a - 1.0)),                    // k/NAV_s nA(nA−1)
        ("dimer_er_units", 0.7 * e * a * (a - 1.0) / (s * s)), // k NAV_er nA(nA−1)/NAV_s²
        ("third", 0.3 * c * a * (a - 1.0) / (s * s) * b / e),  // k NAV_cl [A]²[B]
        ("swap", 0.0),                                         // C = 0
        ("swap.rev", 0.0),                                     // D = 0
    ];
    assert_eq!(net.n_channels(), table.len());
    for (name, expected) in table {
        let r = net.channel_names().iter().position(|n| n == name).unwrap();
        let got = net.propensity(r, &state);
        assert!(
            (got - expected).abs() <= 1e-12 * expected.abs(),
            "{name}: propensity {got}, by hand {expected}"
        );
    }
    // A one-compartment reaction keeps exactly the NAV^(1 − order) constant of before.
    let dimer = m.reactions.iter().find(|r| r.name == "dimer").unwrap();
    let spinesim::model::RateLaw::MassAction { scale, .. } = dimer.law else {
        panic!("mass action")
    };
    assert_eq!(scale, m.compartments[0].molecules_per_micromolar().powi(-1));
}

/// A reaction between compartments needs `compartment` (order > 0: the reactants decide; order 0:
/// the products); the key only goes with mass action and must name a compartment.
#[test]
fn ambiguous_or_wrong_compartments_are_located_errors() {
    let base = r#"
[model]
name = "bad"
[[compartments]]
name = "spine"
volume = "0.1 fL"
[[compartments]]
name = "er"
volume = "0.02 fL"
[[species]]
name = "A"
initial = 1
compartment = "spine"
[[species]]
name = "B"
initial = 1
compartment = "er"
"#;
    let cases = [
        (
            "[[reactions]]\nname = \"r\"\nequation = \"A + B -> A\"\nrate = \"1 /uM/s\"\n",
            "reactants are in several compartments (spine, er)",
        ),
        (
            "[[reactions]]\nname = \"r\"\nequation = \"-> A + B\"\nrate = \"1 uM/s\"\n",
            "products are in several compartments",
        ),
        (
            "[[reactions]]\nname = \"r\"\nequation = \"A -> B\"\nrate = \"1 /s\"\ncompartment = \"spin\"\n",
            "unknown compartment 'spin'; did you mean 'spine'?",
        ),
        (
            "[[reactions]]\nname = \"r\"\nequation = \"A -> B\"\npropensity = \"1[1/s] * A\"\ncompartment = \"er\"\n",
            "a custom `propensity` is in events/s and takes none",
        ),
    ];
    for (reaction, message) in cases {
        let text = format!("{base}{reaction}");
        let err = parse_model(&text, Path::new("bad.toml"))
            .expect_err(reaction)
            .to_string();
        let line = base.lines().count() + 1;
        assert!(err.contains(message), "{reaction}: {err}");
        assert!(err.contains("bad.toml:"), "{err}");
        // The error points into the reaction's lines.
        let located = (line..line + 5).any(|l| err.contains(&format!("bad.toml:{l}")));
        assert!(located, "{err}");
    }
}

/// SBML kinetic laws are propensities (amount/s), so a cross-compartment reaction exports as
/// `rate × scale × counts` and imports to the same propensities.
#[test]
fn cross_compartment_reactions_export_to_sbml() {
    let m = model(TABLE_MODEL);
    let exported = to_sbml(&m, ProtocolChoice::None, false).unwrap();
    let back = parse_sbml(&exported.xml, Path::new("exported.xml")).unwrap();
    assert_eq!(back.species, m.species);
    let (na, nb) = (Network::compile(&m), Network::compile(&back));
    let (mut sa, mut sb) = (na.initial_state(), nb.initial_state());
    for k in 0..4i64 {
        for (i, (x, y)) in sa.counts.iter_mut().zip(sb.counts.iter_mut()).enumerate() {
            *x = (i as i64 * 5 + k * 3) % 11;
            *y = *x;
        }
        for r in 0..na.n_channels() {
            let (p, q) = (na.propensity(r, &sa), nb.propensity(r, &sb));
            assert!(
                (p - q).abs() <= 1e-12 * p.abs().max(1e-300),
                "channel {r}: {p} vs {q}"
            );
        }
    }
}

/// `A_spine <-> A_er` with the same rate both ways, given in spine concentration units:
/// a molecule leaves the spine at k and the ER at k·NAV_spine/NAV_er, so at stationarity each of
/// the 60 molecules is in the spine with probability V_spine/(V_spine + V_er) = 5/6 and the
/// count there is Binomial(60, 5/6): mean 50, the concentrations equal. 4000 trajectories sampled
/// at t = 2 s (relaxation time 1/(k (1 + 5)) = 1/30 s); z-test of the mean and chi-square of the
/// law, α = 0.001 each.
///
/// Power: with the rates applied per molecule in each own compartment (k n both ways) the mean
/// would be 30, z ≈ 400.
#[test]
fn exchange_equalises_concentrations() {
    let text = r#"
[model]
name = "exchange"
record = ["A_spine", "A_er"]
[[compartments]]
name = "spine"
volume = "0.1 fL"
[[compartments]]
name = "er"
volume = "0.02 fL"
[[species]]
name = "A_spine"
initial = 0
compartment = "spine"
[[species]]
name = "A_er"
initial = 60
compartment = "er"
[[reactions]]
name = "exchange"
equation = "A_spine <-> A_er"
rate = "5 /s"
reverse = "5 /s"
compartment = "spine"
"#;
    let s = Setup::new(model(text), None, 2.0, 2.0);
    let col = s.column("A_spine");
    let x = s.collect_at(3, 4000, &[2.0], col).remove(0);
    let p = 0.1 / (0.1 + 0.02);
    let z = z_mean(&x, 60.0 * p, (60.0 * p * (1.0 - p)).sqrt());
    assert!(z.abs() < z_critical(0.001), "mean A_spine: z = {z:.2}");
    let law = Binomial::new(p, 60).unwrap();
    let chi = chi_square_discrete(&as_counts(&x), |k| law.cdf(k));
    assert!(chi.p_value > 0.001, "{chi:?}");
}
