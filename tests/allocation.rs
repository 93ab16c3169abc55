//! The inner simulation loop allocates nothing: a counting allocator (per thread, so tests
//! running in parallel do not disturb each other) sees zero heap allocations while each method
//! (direct, next-reaction, tau-leap) fires ~10⁵ events, on the shipped spine model and on the
//! Vilar oscillator (and, for tau-leaping, on a birth–death process that leaps), and while a
//! whole pulsed trajectory runs after the first one warmed the buffers up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use spinesim::ensemble::trajectory_rng;
use spinesim::model::Model;
use spinesim::network::Network;
use spinesim::simulator::{
    AnySimulator, Direct, MethodRequest, SimStats, Simulator, StopReason, TauLeapSettings,
};
use spinesim::trajectory::{RunPlan, Trajectory, Worker};

use crate::common::{birth_death_toml, model, shipped_model};

const TAU_LEAP: MethodRequest = MethodRequest::TauLeap(TauLeapSettings {
    epsilon: 0.03,
    critical_firings: 10,
    exact_below: 10.0,
    exact_batch: 100,
    exact_batch_max: 6400,
});

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Bytes allocated minus bytes freed by the current thread, and the highest value seen.
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
    static PEAK_BYTES: Cell<isize> = const { Cell::new(0) };
}

/// Adds `change` to the current thread's live heap bytes and raises the peak.
fn track_bytes(change: isize) {
    let live = LIVE_BYTES.with(|l| {
        l.set(l.get() + change);
        l.get()
    });
    PEAK_BYTES.with(|p| p.set(p.get().max(live)));
}

/// Counts allocations (and live bytes) of the current thread, then defers to the system
/// allocator.
struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to `System`, which upholds the GlobalAlloc contract;
// the counter is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        track_bytes(layout.size() as isize);
        // SAFETY: same layout as requested, forwarded to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track_bytes(-(layout.size() as isize));
        // SAFETY: `ptr` was allocated by `System` with this layout (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        track_bytes(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged to the allocator that made `ptr`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Runs `f` and returns its result and the peak of the heap bytes this thread allocated (and
/// had not freed) meanwhile, above what it held before.
pub fn peak_heap_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = LIVE_BYTES.with(Cell::get);
    PEAK_BYTES.with(|p| p.set(before));
    let result = f();
    let peak = PEAK_BYTES.with(Cell::get) - before;
    (result, peak.max(0) as usize)
}

/// Fires events from the initial state up to `t_stop` with `method` and returns (counters,
/// allocations).
pub(crate) fn count_method(model: &Model, method: MethodRequest, t_stop: f64) -> (SimStats, u64) {
    let net = Network::compile(model);
    let mut state = net.initial_state();
    let mut sim = AnySimulator::new(method, &net).unwrap();
    let mut rng = trajectory_rng(5, 0);
    sim.reset(&net, &state).unwrap();
    let before = allocations();
    let reason = sim.advance_until(&net, &mut state, t_stop, &mut rng, &mut ());
    let allocated = allocations() - before;
    assert_eq!(reason, StopReason::ReachedStop);
    (sim.stats(), allocated)
}

#[test]
fn next_reaction_and_tau_leap_allocate_nothing_per_event() {
    let spine = shipped_model("spine_ltd_core.toml");
    let vilar = shipped_model("vilar_oscillator.toml");
    let leaping = model(&birth_death_toml(400.0, 1.0, 400));
    for (name, model, t_stop, method) in [
        ("spine", &spine, 1.0, MethodRequest::NextReaction),
        ("vilar", &vilar, 50.0, MethodRequest::NextReaction),
        ("spine", &spine, 1.0, TAU_LEAP),
        ("vilar", &vilar, 50.0, TAU_LEAP),
        ("birth-death", &leaping, 500.0, TAU_LEAP),
    ] {
        let (stats, allocated) = count_method(model, method, t_stop);
        assert!(
            stats.events > 50_000,
            "{name}, {method:?}: too few events: {stats:?}"
        );
        if name != "spine" && method == TAU_LEAP {
            assert!(
                stats.leaps > 100,
                "{name}: too few leaps to mean anything: {stats:?}"
            );
        }
        assert_eq!(
            allocated, 0,
            "{name}, {method:?}: {allocated} allocations in {stats:?}"
        );
    }
}

/// Fires events from the initial state up to `t_stop` and returns (events, allocations).
fn count_in_hot_loop(file: &str, t_stop: f64) -> (u64, u64) {
    let model = shipped_model(file);
    let net = Network::compile(&model);
    let mut state = net.initial_state();
    let mut sim = Direct::new(&net);
    let mut rng = trajectory_rng(5, 0);
    sim.reset(&net, &state).unwrap();
    let before = allocations();
    let reason = sim.advance_until(&net, &mut state, t_stop, &mut rng, &mut ());
    let allocated = allocations() - before;
    assert_eq!(reason, StopReason::ReachedStop);
    (sim.stats().events, allocated)
}

#[test]
fn direct_method_allocates_nothing_per_event_spine() {
    let (events, allocated) = count_in_hot_loop("spine_ltd_core.toml", 1.0);
    assert!(events > 50_000, "too few events to mean anything: {events}");
    assert_eq!(allocated, 0, "{allocated} allocations in {events} events");
}

#[test]
fn direct_method_allocates_nothing_per_event_vilar() {
    let (events, allocated) = count_in_hot_loop("vilar_oscillator.toml", 50.0);
    assert!(events > 50_000, "too few events to mean anything: {events}");
    assert_eq!(allocated, 0, "{allocated} allocations in {events} events");
}

/// A second pulsed trajectory reuses every buffer of the first: protocol events, recording and
/// outcome tracking allocate nothing either.
#[test]
fn a_pulsed_trajectory_allocates_nothing_once_warm() {
    let model = shipped_model("spine_ltd_core.toml");
    let net = Network::compile(&model);
    let protocol = model.protocol("lfs_1hz").unwrap();
    // 300 s baseline would take seconds; cut the outcome-free copy of the plan short instead.
    let mut model_short = model.clone();
    model_short.outcomes.clear();
    let plan = RunPlan::new(&model_short, &net, Some(protocol), 302.5, 0.5).unwrap();
    for method in [MethodRequest::Direct, MethodRequest::NextReaction, TAU_LEAP] {
        let sim = AnySimulator::new(method, &net).unwrap();
        let mut worker = Worker::new(&net, &plan, sim);
        let mut out = Trajectory::default();
        worker
            .simulate(&mut trajectory_rng(9, 0), &mut out)
            .unwrap();
        let before = allocations();
        worker
            .simulate(&mut trajectory_rng(9, 1), &mut out)
            .unwrap();
        let allocated = allocations() - before;
        assert!(out.events > 1_000_000, "{}", out.events);
        assert_eq!(
            allocated, 0,
            "{method:?}: {allocated} allocations in a trajectory of {} events",
            out.events
        );
    }
}
