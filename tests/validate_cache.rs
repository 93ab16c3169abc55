//! `spinesim validate --cache`: a finished ensemble is kept under a key of everything that
//! determines it and read back, identical, instead of being simulated again; a different seed or
//! condition is simulated anew; a damaged entry is an error naming the file.

use spinesim::simulator::MethodRequest;
use spinesim::validate::ensemble::{
    simulate, simulate_cached, Condition, ConditionResult, OutcomeChoice, ProtocolChoice,
};

use crate::common::shipped_model;

fn condition(runs: u64) -> Condition {
    Condition {
        protocol: ProtocolChoice::None,
        variants: Vec::new(),
        assignments: Vec::new(),
        t_end: 20.0,
        record_every: 1.0,
        record: vec!["X".into()],
        outcomes: vec![
            OutcomeChoice::PeakOfRun("X".into()),
            OutcomeChoice::Mean("X".into(), 5.0, 20.0),
        ],
        runs,
        method: MethodRequest::Direct,
    }
}

fn same_values(a: &ConditionResult, b: &ConditionResult) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    a.method == b.method
        && a.runs == b.runs
        && a.events == b.events
        && a.times == b.times
        && a.outcomes.len() == b.outcomes.len()
        && a.outcomes
            .iter()
            .zip(&b.outcomes)
            .all(|((n, x), (m, y))| n == m && bits(x) == bits(y))
        && a.series.len() == b.series.len()
        && a.series.iter().zip(&b.series).all(|((n, x), (m, y))| {
            n == m && x.len() == y.len() && x.iter().zip(y).all(|(p, q)| bits(p) == bits(q))
        })
}

#[test]
fn a_cached_ensemble_is_read_back_bit_for_bit_and_keyed_by_what_determines_it() {
    let model = shipped_model("birth_death.toml");
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");

    let direct = simulate(&model, &condition(30), 5, 2).unwrap();
    let first = simulate_cached(&model, &condition(30), 5, 2, Some(&cache)).unwrap();
    assert!(!first.cached);
    assert!(
        same_values(&direct, &first),
        "the cache must not change a run"
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);

    // Same key (the thread count is not part of it: results do not depend on it).
    let again = simulate_cached(&model, &condition(30), 5, 1, Some(&cache)).unwrap();
    assert!(again.cached, "the same ensemble must come from the cache");
    assert!(same_values(&first, &again));
    assert_eq!(again.seconds, first.seconds);

    // Another seed, another size, another method: new entries, simulated.
    let other_seed = simulate_cached(&model, &condition(30), 6, 2, Some(&cache)).unwrap();
    assert!(!other_seed.cached && !same_values(&first, &other_seed));
    let other_runs = simulate_cached(&model, &condition(31), 5, 2, Some(&cache)).unwrap();
    assert!(!other_runs.cached);
    let mut nrm = condition(30);
    nrm.method = MethodRequest::NextReaction;
    assert!(
        !simulate_cached(&model, &nrm, 5, 2, Some(&cache))
            .unwrap()
            .cached
    );
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 4);

    // A damaged entry is an error naming the file, never silently recomputed.
    for entry in std::fs::read_dir(&cache).unwrap() {
        std::fs::write(entry.unwrap().path(), "{ not json").unwrap();
    }
    let err = simulate_cached(&model, &condition(30), 5, 2, Some(&cache))
        .unwrap_err()
        .to_string();
    assert!(err.contains(".json") && err.contains("cache"), "{err}");
}
