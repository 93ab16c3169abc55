//! Ensembles: many trajectories in parallel, bit-identical for any thread count.
//!
//! Trajectory `i` gets its own generator, a [`Pcg64`] whose 128-bit state and stream are drawn
//! from a SplitMix64 sequence seeded by hashing (master seed, `i`) — never by varying only the
//! PCG stream, whose streams may be correlated. Worker threads of a rayon pool take the next
//! index from a shared counter; finished trajectories go to the caller's sink strictly in index
//! order, so files do not depend on scheduling, and at most a bounded window of finished
//! trajectories waits in memory.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Condvar, Mutex};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use rand_pcg::Pcg64;

use crate::error::RunError;
use crate::network::Network;
use crate::simulator::{SimStats, Simulator};
use crate::trajectory::{RunPlan, Trajectory, Worker};

/// SplitMix64's output function: a strong 64-bit mixer.
#[inline]
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// The 64-bit seed of trajectory `run` under `master_seed` (written to `outcomes.parquet`).
pub fn trajectory_seed(master_seed: u64, run: u64) -> u64 {
    mix64(
        mix64(master_seed.wrapping_add(GOLDEN_GAMMA))
            ^ run.wrapping_mul(GOLDEN_GAMMA).wrapping_add(GOLDEN_GAMMA),
    )
}

/// The generator of trajectory `run`: state and stream from SplitMix64 seeded with
/// [`trajectory_seed`].
pub fn trajectory_rng(master_seed: u64, run: u64) -> Pcg64 {
    let mut x = trajectory_seed(master_seed, run);
    let mut next = || {
        x = x.wrapping_add(GOLDEN_GAMMA);
        mix64(x)
    };
    let state = (u128::from(next()) << 64) | u128::from(next());
    let stream = (u128::from(next()) << 64) | u128::from(next());
    Pcg64::new(state, stream)
}

/// How to run an ensemble.
#[derive(Debug, Clone)]
pub struct EnsembleConfig {
    /// Trajectory indices to simulate: `first_run .. first_run + runs`.
    pub first_run: u64,
    /// How many trajectories.
    pub runs: u64,
    /// The master seed.
    pub seed: u64,
    /// Worker threads.
    pub threads: usize,
    /// Show a progress bar on stderr.
    pub progress: bool,
}

/// What an ensemble did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct EnsembleStats {
    /// Trajectories completed and handed to the sink.
    pub trajectories: u64,
    /// Reaction events over all trajectories.
    pub events: u64,
    /// Simulator counters summed over workers.
    pub sim: SimStats,
}

/// Simulates the ensemble and hands each trajectory to `sink` in index order.
///
/// `make_sim` builds one simulator per worker thread. The first error (from a trajectory or
/// from the sink) stops the run; trajectories already handed to the sink stay written.
pub fn run_ensemble<S, M, F>(
    net: &Network,
    plan: &RunPlan,
    config: &EnsembleConfig,
    make_sim: M,
    mut sink: F,
) -> Result<EnsembleStats, RunError>
where
    S: Simulator,
    M: Fn() -> S + Sync,
    F: FnMut(&Trajectory) -> Result<(), RunError>,
{
    let threads = config.threads.max(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| RunError::Settings(format!("cannot start {threads} threads: {e}")))?;
    let progress = if config.progress {
        ProgressBar::with_draw_target(Some(config.runs), ProgressDrawTarget::stderr())
    } else {
        ProgressBar::hidden()
    };
    progress.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} trajectories  {per_sec}  ETA {eta}")
            .expect("valid template"),
    );

    // Workers may run at most `window` indices ahead of the sink, bounding memory.
    let window = 8 * threads as u64 + 8;
    let next_index = AtomicU64::new(0);
    let written = (Mutex::new(0u64), Condvar::new());
    let stop = AtomicBool::new(false);
    let sim_totals = Mutex::new(SimStats::default());
    let (tx, rx) = mpsc::channel::<Result<Trajectory, RunError>>();

    let mut stats = EnsembleStats::default();
    let mut outcome: Result<(), RunError> = Ok(());
    pool.in_place_scope(|scope| {
        for _ in 0..threads {
            let tx = tx.clone();
            let (next_index, written, stop, sim_totals, make_sim) =
                (&next_index, &written, &stop, &sim_totals, &make_sim);
            scope.spawn(move |_| {
                let mut worker = Worker::new(net, plan, make_sim());
                loop {
                    let k = next_index.fetch_add(1, Ordering::Relaxed);
                    if k >= config.runs || stop.load(Ordering::Relaxed) {
                        break;
                    }
                    {
                        let (lock, cv) = written;
                        let mut done = lock.lock().expect("lock");
                        while k >= *done + window && !stop.load(Ordering::Relaxed) {
                            done = cv.wait(done).expect("lock");
                        }
                    }
                    let run = config.first_run + k;
                    let mut rng = trajectory_rng(config.seed, run);
                    let mut trajectory = Trajectory {
                        run,
                        seed: trajectory_seed(config.seed, run),
                        ..Default::default()
                    };
                    let result = worker
                        .simulate(&mut rng, &mut trajectory)
                        .map(|_| trajectory);
                    if tx.send(result).is_err() {
                        break;
                    }
                }
                let s = worker.simulator().stats();
                sim_totals.lock().expect("lock").add(&s);
            });
        }
        drop(tx);
        // If the sink panics, release the workers so the scope can unwind instead of hanging.
        let _release = ReleaseOnDrop {
            stop: &stop,
            written: &written,
        };

        // The sink runs here, on the calling thread, in index order.
        let mut pending: BTreeMap<u64, Trajectory> = BTreeMap::new();
        let mut expected = config.first_run;
        for result in rx.iter() {
            if outcome.is_err() {
                continue;
            }
            match result {
                Err(e) => {
                    outcome = Err(e);
                    halt(&stop, &written);
                }
                Ok(t) => {
                    pending.insert(t.run, t);
                    while let Some(t) = pending.remove(&expected) {
                        if let Err(e) = sink(&t) {
                            outcome = Err(e);
                            halt(&stop, &written);
                            break;
                        }
                        stats.trajectories += 1;
                        stats.events += t.events;
                        expected += 1;
                        progress.inc(1);
                    }
                    *written.0.lock().expect("lock") = expected - config.first_run;
                    written.1.notify_all();
                }
            }
        }
    });
    progress.finish_and_clear();
    stats.sim = *sim_totals.lock().expect("lock");
    outcome.map(|_| stats)
}

/// Stops the workers and wakes any that wait for the sink, when dropped.
struct ReleaseOnDrop<'a> {
    stop: &'a AtomicBool,
    written: &'a (Mutex<u64>, Condvar),
}

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        halt(self.stop, self.written);
    }
}

/// Tells the workers to stop; the flag is set under the lock so no waiting worker misses it.
fn halt(stop: &AtomicBool, written: &(Mutex<u64>, Condvar)) {
    let _guard = written.0.lock().unwrap_or_else(|e| e.into_inner());
    stop.store(true, Ordering::Relaxed);
    written.1.notify_all();
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn seeds_differ_between_runs_and_masters() {
        assert_ne!(trajectory_seed(1, 0), trajectory_seed(1, 1));
        assert_ne!(trajectory_seed(1, 0), trajectory_seed(2, 0));
        assert_ne!(trajectory_seed(0, 1), trajectory_seed(1, 0));
        let mut a = trajectory_rng(7, 3);
        let mut b = trajectory_rng(7, 3);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
