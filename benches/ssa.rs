//! Cost per reaction event of the direct method, and ensemble throughput.
//!
//! Run with `cargo bench --bench ssa`; what each benchmark measures and the figures measured are in
//! `benches/README.md`. Every benchmark is deterministic (fixed seed; state and generator put back
//! before each timed call), so the number of events per iteration is known exactly beforehand and
//! is given to criterion as the throughput: the `thrpt` line is events per second (trajectories per
//! second for the ensemble benchmarks), and ns/event = 1e9 / thrpt.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BatchSize, BenchmarkGroup, BenchmarkId, Criterion,
    SamplingMode, Throughput,
};
use rand_pcg::Pcg64;
use spinesim::ensemble::{run_ensemble, trajectory_rng, EnsembleConfig};
use spinesim::model::{load::load_model, Model};
use spinesim::network::{Network, State};
use spinesim::simulator::{Direct, Simulator, StopReason};
use spinesim::trajectory::{RunPlan, Trajectory, Worker};

/// Master seed of every benchmark.
const SEED: u64 = 20_250_601;

/// Recording interval of the whole-trajectory benchmarks (the CLI's default).
const RECORD_EVERY: f64 = 1.0;

fn load(file: &str) -> (Model, Network) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(file);
    let model = load_model(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let net = Network::compile(&model);
    (model, net)
}

/// A group with the settings shared by all benchmarks (the whole run stays under 4 minutes on
/// 2 cores).
fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    g
}

/// The inputs of one timed call of the hot loop.
type Input = (Direct, State, Pcg64);

/// A slice `[t_start, t_stop]` of one trajectory, replayed identically at every iteration.
struct Slice<'n> {
    net: &'n Network,
    /// The simulator after the warm-up (a method that adapts to the trajectory, e.g. by
    /// reordering its search, starts the slice adapted).
    sim: Direct,
    /// The state at `t_start`.
    state: State,
    /// The generator at `t_start`.
    rng: Pcg64,
    t_start: f64,
    t_stop: f64,
    /// Events fired in the slice (exact: same state, same generator, same arithmetic).
    events: u64,
}

impl<'n> Slice<'n> {
    /// Runs a trajectory from the initial state to `t_start` (warm-up, untimed), then counts the
    /// events of `[t_start, t_start + length]`.
    fn new(net: &'n Network, t_start: f64, length: f64) -> Slice<'n> {
        let mut state = net.initial_state();
        let mut rng = trajectory_rng(SEED, 0);
        let mut sim = Direct::new(net);
        sim.refresh(net, &state).expect("valid initial state");
        if t_start > 0.0 {
            let stop = sim.advance_until(net, &mut state, t_start, &mut rng, &mut ());
            assert_eq!(stop, StopReason::ReachedStop);
        }
        let mut slice = Slice {
            net,
            sim,
            state,
            rng,
            t_start,
            t_stop: t_start + length,
            events: 0,
        };
        let before = slice.sim.stats().events;
        let (sim, _, _) = slice.run(slice.setup());
        slice.events = sim.stats().events - before;
        assert!(slice.events > 0, "no event in the slice");
        let (again, _, _) = slice.run(slice.setup());
        assert_eq!(
            again.stats().events - before,
            slice.events,
            "slice not reproducible"
        );
        slice
    }

    /// Untimed: a copy of the warmed-up simulator refreshed on a copy of the starting state, and
    /// a copy of the generator.
    fn setup(&self) -> Input {
        let state = self.state.clone();
        let mut sim = self.sim.clone();
        sim.refresh(self.net, &state).expect("valid state");
        (sim, state, self.rng.clone())
    }

    /// Timed: the simulator's hot loop over the slice. The inputs are handed back so that
    /// criterion drops them outside the measurement.
    fn run(&self, (mut sim, mut state, mut rng): Input) -> Input {
        let stop = sim.advance_until(self.net, &mut state, self.t_stop, &mut rng, &mut ());
        assert_eq!(stop, StopReason::ReachedStop);
        (sim, state, rng)
    }

    fn bench(&self, g: &mut BenchmarkGroup<'_, WallTime>, model: &str) {
        eprintln!(
            "{model}: slice [{} s, {} s] = {} events",
            self.t_start, self.t_stop, self.events
        );
        g.throughput(Throughput::Elements(self.events));
        g.sampling_mode(SamplingMode::Auto);
        let id = BenchmarkId::new(
            "direct/advance_until",
            format!("{}s_slice", self.t_stop - self.t_start),
        );
        g.bench_function(id, |b| {
            b.iter_batched(
                || self.setup(),
                |input| self.run(black_box(input)),
                BatchSize::SmallInput,
            )
        });
    }
}

/// One whole trajectory through `Worker::simulate` (protocol events, recording every second,
/// outcome tracking on every event), same seed each iteration.
fn bench_trajectory(
    g: &mut BenchmarkGroup<'_, WallTime>,
    model: &Model,
    net: &Network,
    protocol: &str,
    t_end: f64,
) {
    let p = model
        .protocol(protocol)
        .unwrap_or_else(|| panic!("no protocol {protocol}"));
    let plan = RunPlan::new(model, net, Some(p), t_end, RECORD_EVERY).expect("valid plan");
    let mut worker = Worker::new(net, &plan, Direct::new(net));
    let mut out = Trajectory::default();
    worker
        .simulate(&mut trajectory_rng(SEED, 0), &mut out)
        .expect("trajectory");
    let events = out.events;
    let clock = Instant::now();
    worker
        .simulate(&mut trajectory_rng(SEED, 0), &mut out)
        .expect("trajectory");
    let once = clock.elapsed();
    assert_eq!(out.events, events, "trajectory not reproducible");
    eprintln!(
        "{}: {protocol} to {t_end} s = {events} events, {} scheduled events",
        model.name,
        plan.schedule.events().len()
    );
    g.throughput(Throughput::Elements(events));
    // One iteration per sample: ask for the time 10 of them take (no warning), at least 5 s.
    g.sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5).max(once * 11));
    let id = BenchmarkId::new("direct/simulate", format!("{protocol}_{t_end}s"));
    g.bench_function(id, |b| {
        b.iter(|| {
            let mut rng = trajectory_rng(SEED, 0);
            worker.simulate(&mut rng, &mut out).expect("trajectory");
            black_box(out.events)
        })
    });
}

fn birth_death(c: &mut Criterion) {
    let (_, net) = load("birth_death.toml");
    let mut g = group(c, "birth_death");
    // Stationary from a few seconds on: 20 events/s, so 20 000 s ≈ 4e5 events.
    Slice::new(&net, 20.0, 20_000.0).bench(&mut g, "birth_death");
    g.finish();
}

fn vilar(c: &mut Criterion) {
    let (model, net) = load("vilar_oscillator.toml");
    let mut g = group(c, "vilar_oscillator");
    // The cross-simulator workload: t = 0 … 200 from the initial state, ≈ 5.5e5 events.
    Slice::new(&net, 0.0, 200.0).bench(&mut g, "vilar_oscillator");

    // Ensemble throughput: 16 trajectories to t = 50, results discarded, 1 vs 2 threads.
    let t_end = 50.0;
    let runs = 16;
    let p = model.protocol("none").or(model.protocols.first());
    let plan = RunPlan::new(&model, &net, p, t_end, RECORD_EVERY).expect("valid plan");
    g.throughput(Throughput::Elements(runs));
    g.sampling_mode(SamplingMode::Flat);
    for threads in [1usize, 2] {
        let config = EnsembleConfig {
            first_run: 0,
            runs,
            seed: SEED,
            threads,
            progress: false,
        };
        let stats =
            run_ensemble(&net, &plan, &config, || Direct::new(&net), |_| Ok(())).expect("ensemble");
        eprintln!(
            "vilar_oscillator: ensemble of {runs} x {t_end} s = {} events",
            stats.events
        );
        let id = BenchmarkId::new(
            format!("run_ensemble/{runs}x{t_end}s"),
            format!("threads={threads}"),
        );
        g.bench_function(id, |b| {
            b.iter(|| {
                let stats = run_ensemble(
                    &net,
                    &plan,
                    &config,
                    || Direct::new(&net),
                    |t| {
                        black_box(t);
                        Ok(())
                    },
                )
                .expect("ensemble");
                black_box(stats.trajectories)
            })
        });
    }
    g.finish();
}

fn spine(c: &mut Criterion) {
    let (model, net) = load("spine_ltd_core.toml");
    let mut g = group(c, "spine_ltd_core");
    // At rest from the first second on: ≈ 1.5e5 events/s, so 3 s ≈ 4.5e5 events.
    Slice::new(&net, 1.0, 3.0).bench(&mut g, "spine_ltd_core");

    // Whole trajectories: the first 10 pulses of LFS (pulses from 300 s; the 11th starts at
    // t_end), all 100 pulses of HFS at 100 Hz (300 … 301 s; 300 scheduled stops), and no
    // stimulation. Each takes seconds, so criterion takes 10 single-iteration samples.
    let t_end = 310.0;
    bench_trajectory(&mut g, &model, &net, "baseline", t_end);
    bench_trajectory(&mut g, &model, &net, "lfs_1hz", t_end);
    bench_trajectory(&mut g, &model, &net, "hfs_100hz", t_end);
    g.finish();
}

criterion_group!(benches, birth_death, vilar, spine);
criterion_main!(benches);
