//! Every spinesim method next to rebop, in one criterion run: ns per reaction event.
//!
//! Run with `cargo bench --bench methods` (groups `birth_death`, `vilar_oscillator`,
//! `spine_camkii_can`, `spine_ltd_core` (with the slow-scale SSA too), `spine_bidirectional_fast`
//! (direct against the slow-scale SSA); `cargo bench --bench methods -- _ci` is a ≈ 10 s smoke
//! run). For each model the trajectory is first run (untimed, direct method) from the initial state
//! to the start of a slice; every entry then simulates the same slice from that same state:
//!
//! - `spinesim/<method>`: a fresh simulator of that method, `reset` on the state (untimed), then
//!   `advance_until(t_stop)` (timed), generator `trajectory_rng(SEED, 0)` at the slice start;
//! - `rebop/runtime_sparse`: `rebop::gillespie::Gillespie` built at run time from spinesim's
//!   compiled network (`Rate::lma_sparse` with spinesim's stochastic constants, sparse jumps),
//!   `advance_until(t_stop)`;
//! - `rebop/define_system`: the model compiled in with `rebop::define_system!`
//!   (`benches/support/rebop_models.rs`), parameters set from spinesim's constants, `advance_until(t_stop)`.
//!
//! Every entry is deterministic (fixed seed, inputs cloned in the untimed setup) and its own number
//! of events is counted beforehand (for rebop, by an untimed run of the same model with an extra
//! species that every reaction increments) and given as `Throughput::Elements`, so criterion's
//! `thrpt` is events per second and ns/event = 10⁹ / thrpt.

// rebop's `define_system!` generates a `with_parameters` taking one argument per rate constant.
#![allow(clippy::too_many_arguments)]

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use rand_pcg::Pcg64;
use rebop::define_system;
use rebop::gillespie::{Gillespie, Rate};
use spinesim::ensemble::trajectory_rng;
use spinesim::model::load::load_model;
use spinesim::network::{Network, State};
use spinesim::simulator::{
    AnySimulator, Direct, MethodRequest, Simulator, StopReason, TauLeapSettings,
};

include!("support/rebop_models.rs");

/// Master seed of every benchmark.
const SEED: u64 = 20_250_601;

/// The spinesim methods compared.
const METHODS: [(&str, MethodRequest); 3] = [
    ("direct", MethodRequest::Direct),
    ("next-reaction", MethodRequest::NextReaction),
    (
        "tau-leap",
        MethodRequest::TauLeap(TauLeapSettings {
            epsilon: 0.03,
            critical_firings: 10,
            exact_below: 10.0,
            exact_batch: 100,
            exact_batch_max: 6400,
        }),
    ),
];

fn load(path: &str) -> Network {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path);
    let model = load_model(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Network::compile(&model)
}

fn count(net: &Network, state: &State, species: &str) -> isize {
    let s = net
        .species_names()
        .iter()
        .position(|n| n == species)
        .unwrap_or_else(|| panic!("no species {species}"));
    state.counts[s] as isize
}

fn constant(net: &Network, state: &State, channel: &str) -> f64 {
    let r = net
        .channel_names()
        .iter()
        .position(|n| n == channel)
        .unwrap_or_else(|| panic!("no channel {channel}"));
    assert!(
        net.custom_elasticity(r).is_none(),
        "{channel} is not mass action"
    );
    state.constants[r]
}

/// rebop's run-time API on spinesim's network (mass action only), sparse; with `counted`, an
/// extra last species counts the events.
fn rebop_runtime(net: &Network, state: &State, counted: bool) -> Gillespie {
    let n = net.n_species() + usize::from(counted);
    let mut species: Vec<isize> = state.counts.iter().map(|&c| c as isize).collect();
    species.resize(n, 0);
    let mut g = Gillespie::new_with_seed(species, true, SEED);
    for r in 0..net.n_channels() {
        assert!(net.custom_elasticity(r).is_none(), "mass action only");
        let mut jump = vec![0isize; n];
        for (s, d) in net.changes(r) {
            jump[s] = d as isize;
        }
        if counted {
            jump[n - 1] = 1;
        }
        g.add_reaction(Rate::lma_sparse(state.constants[r], net.reactants(r)), jump);
    }
    g.set_time(state.t);
    g
}

/// The state and generator at `t_start` of the direct method's trajectory from the initial state.
fn state_at(net: &Network, t_start: f64) -> (State, Pcg64) {
    let mut state = net.initial_state();
    let mut rng = trajectory_rng(SEED, 0);
    let mut sim = Direct::new(net);
    sim.reset(net, &state).expect("valid initial state");
    if t_start > 0.0 {
        let stop = sim.advance_until(net, &mut state, t_start, &mut rng, &mut ());
        assert_eq!(stop, StopReason::ReachedStop);
    }
    (state, rng)
}

/// Settings shared by the groups (10 samples; the whole run stays within a few minutes).
fn group<'a>(c: &'a mut Criterion, name: &str, ci: bool) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10);
    if ci {
        g.warm_up_time(Duration::from_millis(100))
            .measurement_time(Duration::from_millis(300));
    } else {
        g.warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(5));
    }
    g
}

/// Which rebop macro model a workload has.
#[derive(Clone, Copy)]
enum Macro {
    BirthDeath,
    Vilar,
    Camkii,
    None,
}

/// One model and slice, benchmarked with every method.
struct Workload<'n> {
    net: &'n Network,
    state: State,
    rng: Pcg64,
    t_stop: f64,
    slice: String,
}

impl<'n> Workload<'n> {
    fn new(net: &'n Network, t_start: f64, length: f64) -> Self {
        let (state, rng) = state_at(net, t_start);
        Workload {
            net,
            state,
            rng,
            t_stop: t_start + length,
            slice: format!("{t_start}-{}s", t_start + length),
        }
    }

    fn spinesim(&self, g: &mut BenchmarkGroup<'_, WallTime>, label: &str, request: MethodRequest) {
        self.spinesim_per(g, label, request, None);
    }

    /// Like `spinesim`, with the throughput given as `per_events` events (the exact method's
    /// count, for an approximate method that fires fewer) instead of the events it fires.
    fn spinesim_per(
        &self,
        g: &mut BenchmarkGroup<'_, WallTime>,
        label: &str,
        request: MethodRequest,
        per_events: Option<u64>,
    ) -> u64 {
        let (net, t_stop) = (self.net, self.t_stop);
        let setup = || {
            let mut sim = AnySimulator::new(request, net).expect("method runs the model");
            sim.reset(net, &self.state).expect("valid state");
            (sim, self.state.clone(), self.rng.clone())
        };
        let run = |(mut sim, mut state, mut rng): (AnySimulator, State, Pcg64)| {
            let stop = sim.advance_until(net, &mut state, t_stop, &mut rng, &mut ());
            assert_eq!(stop, StopReason::ReachedStop);
            (sim, state, rng)
        };
        let events = run(setup()).0.stats().events;
        assert_eq!(run(setup()).0.stats().events, events, "not reproducible");
        eprintln!("{}: spinesim/{label}: {events} events", self.slice);
        g.throughput(Throughput::Elements(per_events.unwrap_or(events)));
        let id = BenchmarkId::new(format!("spinesim/{label}"), &self.slice);
        g.bench_function(id, |b| {
            b.iter_batched(setup, |input| run(black_box(input)), BatchSize::SmallInput)
        });
        events
    }

    /// Events the direct method fires over the slice (the throughput unit of approximate
    /// methods that fire fewer).
    fn exact_events(&self) -> u64 {
        let mut sim = AnySimulator::new(MethodRequest::Direct, self.net).expect("direct runs");
        sim.reset(self.net, &self.state).expect("valid state");
        let (mut state, mut rng) = (self.state.clone(), self.rng.clone());
        let stop = sim.advance_until(self.net, &mut state, self.t_stop, &mut rng, &mut ());
        assert_eq!(stop, StopReason::ReachedStop);
        sim.stats().events
    }

    fn rebop_runtime(&self, g: &mut BenchmarkGroup<'_, WallTime>) {
        let mut counted = rebop_runtime(self.net, &self.state, true);
        counted.advance_until(self.t_stop);
        let events = counted.get_species(self.net.n_species()) as u64;
        eprintln!("{}: rebop/runtime_sparse: {events} events", self.slice);
        let prepared = rebop_runtime(self.net, &self.state, false);
        g.throughput(Throughput::Elements(events));
        let id = BenchmarkId::new("rebop/runtime_sparse", &self.slice);
        g.bench_function(id, |b| {
            b.iter_batched(
                || prepared.clone(),
                |mut m| {
                    m.advance_until(self.t_stop);
                    m
                },
                BatchSize::SmallInput,
            )
        });
    }

    fn rebop_macro(&self, g: &mut BenchmarkGroup<'_, WallTime>, which: Macro) {
        let (net, state, t_stop) = (self.net, &self.state, self.t_stop);
        let id = BenchmarkId::new("rebop/define_system", &self.slice);
        macro_rules! bench_macro {
            ($make:ident, $make_counted:ident) => {{
                let mut counted = $make_counted(net, state, SEED);
                counted.advance_until(t_stop);
                let events = counted.ev as u64;
                eprintln!("{}: rebop/define_system: {events} events", self.slice);
                let prepared = $make(net, state, SEED);
                g.throughput(Throughput::Elements(events));
                g.bench_function(id, |b| {
                    b.iter_batched(
                        || prepared.clone(),
                        |mut m| {
                            m.advance_until(t_stop);
                            m
                        },
                        BatchSize::SmallInput,
                    )
                });
            }};
        }
        match which {
            Macro::BirthDeath => bench_macro!(birth_death_macro, birth_death_macro_counted),
            Macro::Vilar => bench_macro!(vilar_macro, vilar_macro_counted),
            Macro::Camkii => bench_macro!(camkii_macro, camkii_macro_counted),
            Macro::None => {}
        }
    }

    /// Every spinesim method, then rebop (both APIs) when the model is mass action.
    fn bench_all(&self, g: &mut BenchmarkGroup<'_, WallTime>, which: Macro) {
        for (label, request) in METHODS {
            self.spinesim(g, label, request);
        }
        if !matches!(which, Macro::None) {
            self.rebop_runtime(g);
            self.rebop_macro(g, which);
        }
    }
}

fn ci(c: &mut Criterion) {
    let net = load("models/birth_death.toml");
    let mut g = group(c, "_ci", true);
    Workload::new(&net, 20.0, 2000.0).bench_all(&mut g, Macro::BirthDeath);
    g.finish();
}

fn birth_death(c: &mut Criterion) {
    let net = load("models/birth_death.toml");
    let mut g = group(c, "birth_death", false);
    // Stationary (mean 10): 20 events/s, ≈ 4e5 events.
    Workload::new(&net, 20.0, 20_000.0).bench_all(&mut g, Macro::BirthDeath);
    g.finish();
}

fn vilar(c: &mut Criterion) {
    let net = load("models/vilar_oscillator.toml");
    let mut g = group(c, "vilar_oscillator", false);
    // The cross-simulator workload: t = 0 … 200 from the initial state, ≈ 5.5e5 events.
    Workload::new(&net, 0.0, 200.0).bench_all(&mut g, Macro::Vilar);
    g.finish();
}

fn camkii(c: &mut Criterion) {
    let net = load("benches/models/spine_camkii_can.toml");
    let mut g = group(c, "spine_camkii_can", false);
    // After 2 s of relaxation from the initial state: ≈ 1.4e5 events/s, 3 s ≈ 4e5 events.
    Workload::new(&net, 2.0, 3.0).bench_all(&mut g, Macro::Camkii);
    g.finish();
}

fn spine_ltd_core(c: &mut Criterion) {
    let net = load("models/spine_ltd_core.toml");
    let mut g = group(c, "spine_ltd_core", false);
    // At rest (custom Hill propensities: rebop's mass-action APIs cannot run it).
    let w = Workload::new(&net, 1.0, 3.0);
    w.bench_all(&mut g, Macro::None);
    // Its buffer is marked fast: the slow-scale SSA, with the direct method's event count as
    // throughput, so `thrpt` compares simulated time per second.
    w.spinesim_per(
        &mut g,
        "slow-scale",
        MethodRequest::SlowScale,
        Some(w.exact_events()),
    );
    g.finish();
}

/// `spine_bidirectional` with the Ca buffer and neurogranin binding marked `fast = true`
/// (`benches/models/spine_bidirectional_fast.toml`): the direct method against the slow-scale
/// SSA over the same slice at rest. Both entries' throughput is the direct method's event count,
/// so `thrpt` compares simulated time per second (the slow-scale SSA fires ≈ 9× fewer events).
fn spine_bidirectional_fast(c: &mut Criterion) {
    let net = load("benches/models/spine_bidirectional_fast.toml");
    let mut g = group(c, "spine_bidirectional_fast", false);
    let w = Workload::new(&net, 1.0, 3.0);
    let exact = w.spinesim_per(&mut g, "direct", MethodRequest::Direct, None);
    w.spinesim_per(&mut g, "slow-scale", MethodRequest::SlowScale, Some(exact));
    g.finish();
}

criterion_group!(
    benches,
    ci,
    birth_death,
    vilar,
    camkii,
    spine_ltd_core,
    spine_bidirectional_fast
);
criterion_main!(benches);
