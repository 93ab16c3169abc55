//! The benchmark translation `benches/models/spine_camkii_can.toml` computes exactly the
//! propensities of the peers' model `benches/models/spine_camkii_can.ant` (a copy of
//! `shared/bench/spine_camkii_can.ant`): every reaction's Antimony kinetic law, evaluated with
//! spinesim's own expression evaluator, equals the compiled channel's propensity on the initial
//! state and on 200 random states (relative difference ≤ 1e-12), and the initial counts agree.

use std::path::Path;

use rand::RngExt;
use spinesim::ensemble::trajectory_rng;
use spinesim::expr::{parse, Compiled, Slot};
use spinesim::model::load_model;
use spinesim::network::Network;

#[test]
fn spine_camkii_can_toml_has_the_antimony_propensities() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/models");
    let ant = std::fs::read_to_string(dir.join("spine_camkii_can.ant")).unwrap();
    let model = load_model(&dir.join("spine_camkii_can.toml")).unwrap();
    let net = Network::compile(&model);

    // Parameters: `name = value;` assignments after the reactions; reactions: `Rnn: … ; law;`.
    let mut params: Vec<(String, f64)> = Vec::new();
    let mut laws: Vec<(String, String)> = Vec::new();
    let mut initial: Vec<(String, i64)> = Vec::new();
    for line in ant.lines().map(str::trim) {
        if line.starts_with("//") || line.is_empty() {
            continue;
        }
        if let Some(decls) = line.strip_prefix("substanceOnly species") {
            for decl in decls.trim_end_matches(';').split(',') {
                let (name, value) = decl.split_once(" in spine = ").unwrap();
                initial.push((name.trim().to_string(), value.trim().parse().unwrap()));
            }
        } else if let Some((id, rest)) = line.split_once(':').filter(|(id, _)| id.starts_with('R'))
        {
            let law = rest.split(';').nth(1).unwrap().trim();
            laws.push((id.to_string(), law.to_string()));
        } else if !line.contains("=>")
            && !line.starts_with("unit")
            && !line.starts_with("compartment")
        {
            for assignment in line.split(';').filter(|a| a.contains('=')) {
                let (name, value) = assignment.split_once('=').unwrap();
                if let Ok(v) = value.trim().parse() {
                    params.push((name.trim().to_string(), v));
                }
            }
        }
    }
    assert_eq!(laws.len(), 40);
    assert_eq!(initial.len(), 25);
    assert_eq!(net.n_channels(), 40);
    assert_eq!(net.n_species(), 25);
    for (name, value) in &initial {
        let s = net.species_names().iter().position(|n| n == name).unwrap();
        assert_eq!(net.initial_state().counts[s], *value, "initial {name}");
    }
    let param_values: Vec<f64> = params.iter().map(|p| p.1).collect();
    let resolve = |n: &str| {
        params
            .iter()
            .position(|p| p.0 == n)
            .map(|i| Slot::Param(i as u32))
            .or_else(|| {
                net.species_names()
                    .iter()
                    .position(|s| s == n)
                    .map(|i| Slot::Species(i as u32))
            })
    };
    let compiled: Vec<(usize, Compiled)> = laws
        .iter()
        .map(|(id, law)| {
            let r = net.channel_names().iter().position(|n| n == id).unwrap();
            (r, Compiled::new(&parse(law).unwrap(), &resolve).unwrap())
        })
        .collect();
    let mut state = net.initial_state();
    let mut rng = trajectory_rng(3, 0);
    for trial in 0..=200 {
        if trial > 0 {
            for c in state.counts.iter_mut() {
                *c = rng.random_range(0..3000);
            }
        }
        for (r, law) in &compiled {
            let want = law.eval(&param_values, &state.counts);
            let got = net.propensity(*r, &state);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs(),
                "{}: spinesim {got}, Antimony {want} at {:?}",
                net.channel_names()[*r],
                state.counts
            );
        }
    }
}
