//! Per-trajectory outcomes, tracked exactly along the path.
//!
//! Window means and integrals are integrals of the piecewise-constant path (updated at every
//! event that changes the quantity), not averages of recorded samples; peaks and minima see
//! every event inside their window. Only channels that change a tracked quantity pay for it.

use crate::model::{Model, OutcomeKind, Window};
use crate::network::{Network, State};
use crate::simulator::FireHook;

/// The class of a relative change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Class {
    /// At or below the LTD threshold.
    Ltd,
    /// At or above the LTP threshold.
    Ltp,
    /// In between (or undefined, e.g. a zero baseline).
    None,
}

impl Class {
    /// "LTD", "LTP" or "none".
    pub fn label(self) -> &'static str {
        match self {
            Class::Ltd => "LTD",
            Class::Ltp => "LTP",
            Class::None => "none",
        }
    }
}

/// The result of one outcome for one trajectory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OutcomeValue {
    /// A relative change with its windows' means.
    Change {
        /// Mean over the baseline window.
        baseline: f64,
        /// Mean over the final window.
        last: f64,
        /// 100 × (last / baseline − 1).
        percent: f64,
        /// LTD / LTP / none.
        class: Class,
    },
    /// A peak, minimum, mean or integral.
    Scalar(f64),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Boundary {
    Start,
    End,
}

/// Outcomes compiled for one network and one run length.
#[derive(Debug, Clone)]
pub struct OutcomePlan {
    kinds: Vec<OutcomeKind>,
    names: Vec<String>,
    /// Resolved windows: [window or baseline, final].
    windows: Vec<[(f64, f64); 2]>,
    terms: Vec<Vec<(usize, f64)>>,
    delta_start: Vec<u32>,
    deltas: Vec<(u32, f64)>,
    /// (time, outcome, window 0/1, start/end), sorted by time.
    boundaries: Vec<(f64, u32, u8, Boundary)>,
}

impl OutcomePlan {
    /// Resolves windows against `t_end`; an error says which outcome's window does not fit.
    pub fn new(model: &Model, net: &Network, t_end: f64) -> Result<OutcomePlan, String> {
        let mut windows = Vec::new();
        let mut boundaries = Vec::new();
        for (i, o) in model.outcomes.iter().enumerate() {
            let resolve = |w: &Window, what: &str| -> Result<(f64, f64), String> {
                let (a, b) = (w.start.resolve(t_end), w.end.resolve(t_end));
                if a < 0.0 || b > t_end || a >= b {
                    Err(format!(
                        "outcome '{}': {what} window [{a} s, {b} s] does not fit in a run of {t_end} s; \
                         lengthen --t-end or change the window",
                        o.name
                    ))
                } else {
                    Ok((a, b))
                }
            };
            let pair = match &o.kind {
                OutcomeKind::RelativeChange { baseline, last, .. } => {
                    [resolve(baseline, "baseline")?, resolve(last, "final")?]
                }
                OutcomeKind::FirstPassage {
                    baseline, window, ..
                } => {
                    let pair = [resolve(baseline, "baseline")?, resolve(window, "the")?];
                    if pair[0].1 > pair[1].0 {
                        return Err(format!(
                            "outcome '{}': the baseline window must end before the window starts \
                             (baseline ends at {} s, window starts at {} s)",
                            o.name, pair[0].1, pair[1].0
                        ));
                    }
                    pair
                }
                OutcomeKind::Peak(w)
                | OutcomeKind::Min(w)
                | OutcomeKind::Mean(w)
                | OutcomeKind::Integral(w) => {
                    let r = resolve(w, "the")?;
                    [r, r]
                }
            };
            let used = if matches!(
                o.kind,
                OutcomeKind::RelativeChange { .. } | OutcomeKind::FirstPassage { .. }
            ) {
                2
            } else {
                1
            };
            for (k, &(a, b)) in pair.iter().enumerate().take(used) {
                boundaries.push((a, i as u32, k as u8, Boundary::Start));
                boundaries.push((b, i as u32, k as u8, Boundary::End));
            }
            windows.push(pair);
        }
        boundaries.sort_by(|a, b| a.0.total_cmp(&b.0));
        let terms: Vec<Vec<(usize, f64)>> = model
            .outcomes
            .iter()
            .map(|o| model.quantity_terms(o.quantity))
            .collect();
        let mut delta_start = vec![0u32];
        let mut deltas = Vec::new();
        for r in 0..net.n_channels() {
            for (i, t) in terms.iter().enumerate() {
                let d: f64 = net
                    .changes(r)
                    .map(|(s, n)| {
                        t.iter()
                            .filter(|(ts, _)| *ts == s)
                            .map(|(_, w)| w * n as f64)
                            .sum::<f64>()
                    })
                    .sum();
                if d != 0.0 {
                    deltas.push((i as u32, d));
                }
            }
            delta_start.push(deltas.len() as u32);
        }
        Ok(OutcomePlan {
            kinds: model.outcomes.iter().map(|o| o.kind.clone()).collect(),
            names: model.outcomes.iter().map(|o| o.name.clone()).collect(),
            windows,
            terms,
            delta_start,
            deltas,
            boundaries,
        })
    }

    /// Number of outcomes.
    pub fn len(&self) -> usize {
        self.kinds.len()
    }

    /// True when the model declares no outcomes.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
    }

    /// Outcome names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Outcome kinds.
    pub fn kinds(&self) -> &[OutcomeKind] {
        &self.kinds
    }

    /// Times at which the simulator must stop for a window boundary, sorted.
    pub fn boundary_times(&self) -> impl Iterator<Item = f64> + '_ {
        self.boundaries.iter().map(|b| b.0)
    }
}

/// What a change of an outcome's value updates besides its integral, while its window is open.
#[derive(Debug, Clone, Copy, PartialEq)]
enum OnChange {
    /// The smallest value.
    Min,
    /// The largest value (kept for every kind that is not a minimum or a first passage).
    Max,
    /// The first-passage test.
    Passage,
}

/// The part of one outcome's path that every change of its value updates, in one record so
/// that a reaction event touches one cache line per outcome it changes.
#[derive(Debug, Clone, Copy)]
struct Running {
    value: f64,
    last_t: f64,
    integral: f64,
    extreme: f64,
    active: bool,
    on_change: OnChange,
}

/// Tracks every outcome along one trajectory.
#[derive(Debug, Clone)]
pub struct OutcomeTracker<'p> {
    plan: &'p OutcomePlan,
    running: Vec<Running>,
    /// First passage: the level (known once the baseline window has ended; NaN before).
    threshold: Vec<f64>,
    /// First passage: when it happened (NaN until then).
    passage: Vec<f64>,
    /// First passage: since when the value has been at or below the level (NaN: it is above).
    below_since: Vec<f64>,
    /// Cumulative integral at each window's start, then the window's integral.
    window_integral: Vec<[f64; 2]>,
    next_boundary: usize,
}

impl<'p> OutcomeTracker<'p> {
    /// A tracker for `plan` (buffers sized once).
    pub fn new(plan: &'p OutcomePlan) -> Self {
        let n = plan.len();
        let running = plan
            .kinds
            .iter()
            .map(|kind| Running {
                value: 0.0,
                last_t: 0.0,
                integral: 0.0,
                extreme: 0.0,
                active: false,
                on_change: match kind {
                    OutcomeKind::Min(_) => OnChange::Min,
                    OutcomeKind::FirstPassage { .. } => OnChange::Passage,
                    _ => OnChange::Max,
                },
            })
            .collect();
        OutcomeTracker {
            plan,
            running,
            threshold: vec![f64::NAN; n],
            passage: vec![f64::NAN; n],
            below_since: vec![f64::NAN; n],
            window_integral: vec![[0.0; 2]; n],
            next_boundary: 0,
        }
    }

    /// Starts a new trajectory at `state` (time 0).
    pub fn reset(&mut self, state: &State) {
        for i in 0..self.plan.len() {
            self.running[i].value = self.current(i, state);
            self.running[i].last_t = state.t;
            self.running[i].integral = 0.0;
            self.running[i].active = false;
            self.threshold[i] = f64::NAN;
            self.passage[i] = f64::NAN;
            self.below_since[i] = f64::NAN;
            self.window_integral[i] = [0.0; 2];
        }
        self.next_boundary = 0;
    }

    fn current(&self, i: usize, state: &State) -> f64 {
        self.plan.terms[i]
            .iter()
            .map(|&(s, w)| w * state.counts[s] as f64)
            .sum()
    }

    #[inline(always)]
    fn set_value(&mut self, i: usize, value: f64, t: f64) {
        let r = &mut self.running[i];
        r.integral += r.value * (t - r.last_t);
        r.last_t = t;
        r.value = value;
        if r.active {
            match r.on_change {
                OnChange::Min => r.extreme = r.extreme.min(value),
                OnChange::Max => r.extreme = r.extreme.max(value),
                OnChange::Passage => self.check_passage(i, t),
            }
        }
    }

    /// Called at `t` when outcome `i`'s value may have changed (it was `value` since the last
    /// call): records the first passage once the value has stayed at or below its level for the
    /// hold time. The path is piecewise constant, so a stay that began at `s` and is still
    /// unbroken at `t` covers `[s, t]`.
    #[inline]
    fn check_passage(&mut self, i: usize, t: f64) {
        if !self.passage[i].is_nan() {
            return;
        }
        let OutcomeKind::FirstPassage { hold, .. } = self.plan.kinds[i] else {
            return;
        };
        let since = self.below_since[i];
        if !since.is_nan() && t - since >= hold {
            self.passage[i] = since;
        } else if self.running[i].value <= self.threshold[i] {
            if since.is_nan() {
                self.below_since[i] = t;
                if hold == 0.0 {
                    self.passage[i] = t;
                }
            }
        } else {
            self.below_since[i] = f64::NAN;
        }
    }

    /// Takes in changes made outside reactions (protocol actions) at `state.t`.
    pub fn resync(&mut self, state: &State) {
        for i in 0..self.plan.len() {
            let v = self.current(i, state);
            self.set_value(i, v, state.t);
        }
    }

    /// Handles every window boundary up to `horizon` (the same instant as `t`, within rounding);
    /// the state must be at `t`.
    pub fn boundaries_at(&mut self, t: f64, horizon: f64) {
        while let Some(&(time, i, k, which)) = self.plan.boundaries.get(self.next_boundary) {
            if time > horizon {
                break;
            }
            let i = i as usize;
            let v = self.running[i].value;
            self.set_value(i, v, t);
            match which {
                Boundary::Start => {
                    self.window_integral[i][k as usize] = self.running[i].integral;
                    self.running[i].active = true;
                    self.running[i].extreme = v;
                    if k == 1 {
                        if let OutcomeKind::FirstPassage { .. } = self.plan.kinds[i] {
                            self.check_passage(i, t);
                        }
                    }
                }
                Boundary::End => {
                    self.window_integral[i][k as usize] =
                        self.running[i].integral - self.window_integral[i][k as usize];
                    self.running[i].active = false;
                    if let (0, OutcomeKind::FirstPassage { below, .. }) = (k, &self.plan.kinds[i]) {
                        let (a, b) = self.plan.windows[i][0];
                        let mean = self.window_integral[i][0] / (b - a);
                        self.threshold[i] = mean * (1.0 + below / 100.0);
                    }
                }
            }
            self.next_boundary += 1;
        }
    }

    /// The outcomes, once every boundary has passed.
    pub fn results(&self, out: &mut Vec<OutcomeValue>) {
        out.clear();
        for (i, kind) in self.plan.kinds.iter().enumerate() {
            let [(a0, b0), (a1, b1)] = self.plan.windows[i];
            let [i0, i1] = self.window_integral[i];
            out.push(match *kind {
                OutcomeKind::RelativeChange {
                    ltd_below,
                    ltp_above,
                    ..
                } => {
                    let baseline = i0 / (b0 - a0);
                    let last = i1 / (b1 - a1);
                    let percent = 100.0 * (last / baseline - 1.0);
                    let class = if percent <= ltd_below {
                        Class::Ltd
                    } else if percent >= ltp_above {
                        Class::Ltp
                    } else {
                        Class::None
                    };
                    OutcomeValue::Change {
                        baseline,
                        last,
                        percent,
                        class,
                    }
                }
                OutcomeKind::FirstPassage { .. } => OutcomeValue::Scalar(self.passage[i] - a1),
                OutcomeKind::Peak(_) | OutcomeKind::Min(_) => {
                    OutcomeValue::Scalar(self.running[i].extreme)
                }
                OutcomeKind::Mean(_) => OutcomeValue::Scalar(i0 / (b0 - a0)),
                OutcomeKind::Integral(_) => OutcomeValue::Scalar(i0),
            });
        }
    }
}

impl FireHook for OutcomeTracker<'_> {
    #[inline(always)]
    fn fired(&mut self, channel: usize, t: f64) {
        let plan = self.plan;
        let range = plan.delta_start[channel] as usize..plan.delta_start[channel + 1] as usize;
        for &(i, d) in &plan.deltas[range] {
            let i = i as usize;
            let v = self.running[i].value + d;
            self.set_value(i, v, t);
        }
    }

    /// Only the outcomes whose value changed are updated, as [`FireHook::fired`] does: the path
    /// is piecewise constant, so an unchanged value needs no new piece.
    fn leaped(&mut self, t: f64, counts: &[i64]) {
        for i in 0..self.plan.len() {
            let v: f64 = self.plan.terms[i]
                .iter()
                .map(|&(s, w)| w * counts[s] as f64)
                .sum();
            if v != self.running[i].value {
                self.set_value(i, v, t);
            }
        }
    }
}
