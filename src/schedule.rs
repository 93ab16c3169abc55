//! Protocols become a sorted list of discrete events (times and the actions to apply).
//!
//! Order at equal times: pulse ends (`off`) first, then pulse starts (`on`), then single
//! events; within each group, file order. A pulse width is clipped to the train's period, and
//! a clipped pulse ends at exactly the next pulse's start time, so a pulse longer than the
//! period is a continuous one. Events after `t_end` are dropped: a run may simulate part of a
//! protocol.

use rand::Rng;
use rand_distr::{Binomial, Distribution};

use crate::model::{Action, Protocol};
use crate::network::State;

/// Two stop times closer than this (s) are one instant: relative 1e-12, far below any time
/// scale of the models and far above the rounding of `start + k × period`.
pub fn same_instant_tolerance(t: f64) -> f64 {
    1e-12 * t.abs().max(1.0)
}

/// One discrete event: a time and a range of actions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScheduledEvent {
    /// When (s).
    pub time: f64,
    first: u32,
    len: u32,
}

/// A protocol unrolled into time order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Schedule {
    events: Vec<ScheduledEvent>,
    actions: Vec<Action>,
    /// Trains whose pulse width was clipped to the period.
    pub clipped_trains: Vec<usize>,
}

impl Schedule {
    /// Unrolls `protocol` up to and including `t_end`.
    pub fn new(protocol: &Protocol, t_end: f64) -> Schedule {
        let t_last = t_end + same_instant_tolerance(t_end);
        let mut actions: Vec<Action> = Vec::new();
        let mut keyed: Vec<(f64, u8, ScheduledEvent)> = Vec::new();
        let mut clipped_trains = Vec::new();
        let push = |actions: &mut Vec<Action>, list: &[Action]| {
            let first = actions.len() as u32;
            actions.extend_from_slice(list);
            (first, list.len() as u32)
        };
        for (i, train) in protocol.trains.iter().enumerate() {
            let (on_first, on_len) = push(&mut actions, &train.on);
            let (off_first, off_len) = push(&mut actions, &train.off);
            if train.width.is_some_and(|w| w >= train.period) {
                clipped_trains.push(i);
            }
            for k in 0..train.count {
                let start = train.start + k as f64 * train.period;
                if start > t_last {
                    break;
                }
                if on_len > 0 {
                    keyed.push((
                        start,
                        1,
                        ScheduledEvent {
                            time: start,
                            first: on_first,
                            len: on_len,
                        },
                    ));
                }
                if let (Some(width), true) = (train.width, off_len > 0) {
                    let next = train.start + (k + 1) as f64 * train.period;
                    let end = if width >= train.period {
                        next
                    } else {
                        start + width
                    };
                    if end <= t_last {
                        keyed.push((
                            end,
                            0,
                            ScheduledEvent {
                                time: end,
                                first: off_first,
                                len: off_len,
                            },
                        ));
                    }
                }
            }
        }
        for event in &protocol.events {
            let (first, len) = push(&mut actions, &event.actions);
            if event.time <= t_last {
                keyed.push((
                    event.time,
                    2,
                    ScheduledEvent {
                        time: event.time,
                        first,
                        len,
                    },
                ));
            }
        }
        for (time, action) in drive_updates(protocol, t_last) {
            let (first, len) = push(&mut actions, &[action]);
            keyed.push((time, 1, ScheduledEvent { time, first, len }));
        }
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        Schedule {
            events: keyed.into_iter().map(|(_, _, e)| e).collect(),
            actions,
            clipped_trains,
        }
    }

    /// The events in time order.
    pub fn events(&self) -> &[ScheduledEvent] {
        &self.events
    }

    /// The actions of one event.
    pub fn actions(&self, event: &ScheduledEvent) -> &[Action] {
        &self.actions[event.first as usize..(event.first + event.len) as usize]
    }
}

/// The longest a driven parameter's value lags its update instant: it is the kernel sum at the
/// middle of the interval to the next update, but at most this far into it (the rule of the
/// mean-field reference of `spine_bidirectional`).
pub const DRIVE_MAX_LAG: f64 = 0.05;

/// Driven parameters become `SetParameter` actions, computed once for all trajectories.
///
/// Every driving pulse at `t_k` schedules updates at `t_k + o` for each drive-sample offset
/// `o`, and a last one at `t_k + 10 τ_max`, when its kernels have decayed to < 5e-5 of their
/// height. At an update `u` with the next update of the same parameter at `u'`, the value is
/// `base + Σ_k step_k exp(−(s − t_k)/τ_k)` over the pulses `t_k ≤ u`, evaluated at
/// `s = u + min((u' − u)/2, DRIVE_MAX_LAG)`.
fn drive_updates(protocol: &Protocol, t_last: f64) -> Vec<(f64, Action)> {
    let mut parameters: Vec<usize> = protocol
        .trains
        .iter()
        .flat_map(|t| t.drives.iter().map(|d| d.parameter))
        .collect();
    parameters.sort_unstable();
    parameters.dedup();
    let mut out = Vec::new();
    for parameter in parameters {
        // Every pulse that drives this parameter, with its kernels.
        let mut pulses: Vec<(f64, f64, f64)> = Vec::new(); // (time, step, tau)
        let mut base = 0.0;
        let mut tau_max: f64 = 0.0;
        for train in &protocol.trains {
            for drive in train.drives.iter().filter(|d| d.parameter == parameter) {
                base = drive.base;
                tau_max = tau_max.max(drive.tau);
                for k in 0..train.count {
                    let t = train.start + k as f64 * train.period;
                    if t > t_last {
                        break;
                    }
                    pulses.push((t, drive.step, drive.tau));
                }
            }
        }
        pulses.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut updates: Vec<f64> = pulses
            .iter()
            .flat_map(|&(t, _, _)| {
                protocol
                    .drive_samples
                    .iter()
                    .map(move |&o| t + o)
                    .chain(std::iter::once(t + 10.0 * tau_max))
            })
            .filter(|&u| u <= t_last)
            .collect();
        updates.sort_by(f64::total_cmp);
        updates.dedup_by(|b, a| (*b - *a).abs() <= same_instant_tolerance(*a));
        // Running kernel sums per distinct tau, advanced in time order.
        let mut taus: Vec<f64> = pulses.iter().map(|p| p.2).collect();
        taus.sort_by(f64::total_cmp);
        taus.dedup();
        let mut sums = vec![0.0; taus.len()];
        let mut sums_time = 0.0;
        let mut next_pulse = 0;
        for (i, &u) in updates.iter().enumerate() {
            for (sum, tau) in sums.iter_mut().zip(&taus) {
                *sum *= (-(u - sums_time) / tau).exp();
            }
            sums_time = u;
            while next_pulse < pulses.len() && pulses[next_pulse].0 <= u + same_instant_tolerance(u)
            {
                let (t, step, tau) = pulses[next_pulse];
                let j = taus.iter().position(|&x| x == tau).expect("tau listed");
                sums[j] += step * (-(u - t) / tau).exp();
                next_pulse += 1;
            }
            let lag = updates
                .get(i + 1)
                .map_or(DRIVE_MAX_LAG, |&next| ((next - u) / 2.0).min(DRIVE_MAX_LAG));
            let value = base
                + sums
                    .iter()
                    .zip(&taus)
                    .map(|(sum, tau)| sum * (-lag / tau).exp())
                    .sum::<f64>();
            out.push((u, Action::SetParameter { parameter, value }));
        }
    }
    out
}

/// Applies one action to the state. The caller refreshes constants and propensities afterwards.
pub fn apply_action<R: Rng + ?Sized>(action: &Action, state: &mut State, rng: &mut R) {
    match *action {
        Action::SetParameter { parameter, value } => state.params[parameter] = value,
        Action::ScaleParameter { parameter, factor } => state.params[parameter] *= factor,
        Action::SetSpecies { species, count } => state.counts[species] = count,
        Action::AddSpecies { species, count } => state.counts[species] += count,
        Action::RemoveSpecies { species, count } => {
            state.counts[species] = (state.counts[species] - count).max(0)
        }
        Action::Binomial { species, p, into } => {
            let n = state.counts[species] as u64;
            let k = if n == 0 || p == 0.0 {
                0
            } else {
                Binomial::new(n, p)
                    .expect("p was validated to lie in [0, 1]")
                    .sample(rng) as i64
            };
            state.counts[species] -= k;
            if let Some(j) = into {
                state.counts[j] += k;
            }
        }
    }
}
