//! One trajectory: the simulator is stopped at every scheduled event, recording time and
//! outcome window boundary; at each stop, events are applied first (protocol actions, then
//! triggered events), then window boundaries, then the state is recorded. Triggered events
//! ([`crate::simulator::triggers`]) add stops: after reactions that change what a trigger reads,
//! at pending executions and where a comparison with time may change.

use rand::Rng;

use crate::error::RunError;
use crate::model::{Model, Protocol};
use crate::network::{Network, State};
use crate::outcome::{OutcomePlan, OutcomeTracker, OutcomeValue};
use crate::schedule::{apply_action, same_instant_tolerance, Schedule};
use crate::simulator::triggers::{EventRuntime, EventSet};
use crate::simulator::{Simulator, StopReason};

/// Everything fixed for all trajectories of a run.
#[derive(Debug, Clone)]
pub struct RunPlan {
    /// End of the simulation (s).
    pub t_end: f64,
    /// Recording interval (s).
    pub record_every: f64,
    /// Recording times: `k × record_every` for every k with the time ≤ `t_end`.
    pub record_times: Vec<f64>,
    /// Recorded column names.
    pub columns: Vec<String>,
    /// Whether each recorded column only takes integer values.
    pub integer_columns: Vec<bool>,
    /// (species, weight) terms of each recorded column.
    column_terms: Vec<Vec<(usize, f64)>>,
    /// The protocol's events.
    pub schedule: Schedule,
    /// The outcomes.
    pub outcomes: OutcomePlan,
    /// The model's triggered events.
    pub triggered: EventSet,
}

impl RunPlan {
    /// Builds the plan; errors name the setting that does not fit.
    pub fn new(
        model: &Model,
        net: &Network,
        protocol: Option<&Protocol>,
        t_end: f64,
        record_every: f64,
    ) -> Result<RunPlan, RunError> {
        if !(t_end.is_finite() && t_end > 0.0) {
            return Err(RunError::Settings(format!(
                "--t-end must be a positive number of seconds, got {t_end}"
            )));
        }
        if !(record_every.is_finite() && record_every > 0.0) {
            return Err(RunError::Settings(format!(
                "--record-every must be a positive number of seconds, got {record_every}"
            )));
        }
        let n = (t_end / record_every * (1.0 + 1e-12)).floor() as u64;
        if n > 10_000_000 {
            return Err(RunError::Settings(format!(
                "--record-every {record_every} s gives {n} samples per trajectory; choose a larger interval"
            )));
        }
        let record_times = (0..=n).map(|k| k as f64 * record_every).collect();
        let schedule = protocol
            .map(|p| Schedule::new(p, t_end))
            .unwrap_or_default();
        let outcomes = OutcomePlan::new(model, net, t_end).map_err(RunError::Settings)?;
        Ok(RunPlan {
            t_end,
            record_every,
            record_times,
            columns: model
                .record
                .iter()
                .map(|&q| model.quantity_name(q).to_string())
                .collect(),
            integer_columns: model
                .record
                .iter()
                .map(|&q| model.quantity_is_integer(q))
                .collect(),
            column_terms: model
                .record
                .iter()
                .map(|&q| model.quantity_terms(q))
                .collect(),
            schedule,
            outcomes,
            triggered: EventSet::new(&model.events, net),
        })
    }
}

/// The result of one trajectory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Trajectory {
    /// Trajectory index in the ensemble.
    pub run: u64,
    /// The seed derived for it from (master seed, run).
    pub seed: u64,
    /// Recorded values, row-major: one row per recording time, one column per quantity.
    pub samples: Vec<f64>,
    /// One value per outcome.
    pub outcomes: Vec<OutcomeValue>,
    /// Reaction events fired.
    pub events: u64,
}

/// Reusable buffers for simulating many trajectories on one thread.
#[derive(Debug)]
pub struct Worker<'p, S> {
    net: &'p Network,
    plan: &'p RunPlan,
    sim: S,
    state: State,
    tracker: OutcomeTracker<'p>,
    events: EventRuntime,
}

impl<'p, S: Simulator> Worker<'p, S> {
    /// A worker with its own simulator.
    pub fn new(net: &'p Network, plan: &'p RunPlan, sim: S) -> Self {
        Worker {
            net,
            plan,
            sim,
            state: net.initial_state(),
            tracker: OutcomeTracker::new(&plan.outcomes),
            events: EventRuntime::default(),
        }
    }

    /// The simulator (for its statistics).
    pub fn simulator(&self) -> &S {
        &self.sim
    }

    /// Simulates one trajectory from time 0 to `t_end` into `out`.
    pub fn simulate<R: Rng + ?Sized>(
        &mut self,
        rng: &mut R,
        out: &mut Trajectory,
    ) -> Result<(), RunError> {
        let Worker {
            net,
            plan,
            sim,
            state,
            tracker,
            events: triggered,
        } = self;
        plan.triggered
            .check_simulator(sim)
            .map_err(RunError::Settings)?;
        let events_before = sim.stats().events;
        net.reset(state);
        triggered.reset(&plan.triggered);
        sim.reset(net, state).map_err(|e| invalid(net, e))?;
        tracker.reset(state);
        out.samples.clear();
        let mut events = plan.schedule.events().iter().peekable();
        let mut records = plan.record_times.iter().copied().peekable();
        let mut boundaries = plan.outcomes.boundary_times().peekable();
        loop {
            let next = [
                events.peek().map(|e| e.time),
                records.peek().copied(),
                boundaries.peek().copied(),
            ]
            .into_iter()
            .flatten()
            .fold(f64::INFINITY, f64::min);
            if next == f64::INFINITY {
                break;
            }
            // A triggered event may need an earlier stop (never past the last one above).
            let next = next.min(triggered.next_time(&plan.triggered, state));
            if next > state.t {
                let reason = if plan.triggered.watches_reactions() {
                    let mut hook = plan.triggered.stop_hook(tracker);
                    sim.advance_until(net, state, next, rng, &mut hook)
                } else {
                    sim.advance_until(net, state, next, rng, tracker)
                };
                match reason {
                    StopReason::ReachedStop => {}
                    StopReason::Interrupted => {
                        // A reaction changed what a trigger reads.
                        if triggered.settle(&plan.triggered, net, state, rng)? {
                            sim.refresh(net, state).map_err(|e| invalid(net, e))?;
                            tracker.resync(state);
                        }
                        continue;
                    }
                    e => return Err(invalid(net, e)),
                }
            }
            // Stops closer than rounding error (a pulse at 0.1 + 12 × 0.1 s and the recording at
            // 13 × 0.1 s) are the same instant.
            let horizon = next + same_instant_tolerance(next);
            let mut changed = false;
            while let Some(e) = events.next_if(|e| e.time <= horizon) {
                for action in plan.schedule.actions(e) {
                    apply_action(action, state, rng);
                }
                changed = true;
            }
            if changed {
                net.update_constants(state);
            }
            changed |= triggered.settle(&plan.triggered, net, state, rng)?;
            if changed {
                sim.refresh(net, state).map_err(|e| invalid(net, e))?;
                tracker.resync(state);
            }
            while boundaries.next_if(|&b| b <= horizon).is_some() {}
            tracker.boundaries_at(next, horizon);
            while records.next_if(|&r| r <= horizon).is_some() {
                for terms in &plan.column_terms {
                    out.samples
                        .push(terms.iter().map(|&(s, w)| w * state.counts[s] as f64).sum());
                }
            }
        }
        tracker.results(&mut out.outcomes);
        out.events = sim.stats().events - events_before;
        Ok(())
    }
}

fn invalid(net: &Network, reason: StopReason) -> RunError {
    match reason {
        StopReason::InvalidPropensity { channel, value } => RunError::Settings(format!(
            "reaction '{}' has propensity {value}; a propensity must be finite and not negative \
             (check its expression and the values protocols set)",
            net.channel_names()[channel]
        )),
        StopReason::ReachedStop | StopReason::Interrupted => unreachable!("not an error"),
    }
}
