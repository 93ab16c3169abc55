//! Where a run's files go, and what a run is (`plan.json`), so that shards, resumed runs and
//! `spinesim summarize` agree on it.
//!
//! The trajectory indices `0..runs` of every sweep point are cut into parts on a fixed grid of
//! `runs_per_part` (and at shard boundaries). A part is written to two files named by its run
//! range, `part-FIRST-END.parquet` (runs FIRST..END, END excluded), one under `trajectories/`
//! and one under `outcome_parts/`, each under a temporary `.partial` name and renamed when
//! complete. A part is done when both files exist; a resumed run redoes only the parts that are
//! not. Since each part's content depends only on the plan, it does not matter which process
//! writes it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{commit, partial_path};
use crate::error::RunError;
use crate::model::overrides::AppliedAssignment;
use crate::simulator::TauLeapSettings;
use crate::sweep::Axis;

/// File name of the plan.
pub const PLAN_FILE: &str = "plan.json";

/// What a run computes: everything that decides the bits of its results (not where or how fast
/// it runs). Shards and resumed runs must present the same plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSpec {
    /// Always "spinesim".
    pub program: String,
    /// The crate version.
    pub version: String,
    /// The methods' [`RANDOM_STREAM_VERSION`] (0 in plans written before it was recorded).
    #[serde(default)]
    pub random_stream: u32,
    /// `[model] name`.
    pub model_name: String,
    /// SHA-256 of the model file's text.
    pub model_sha256: String,
    /// The model file's text.
    pub model_text: String,
    /// The simulation method that runs (`--method ssa` names the exact method it chose).
    pub method: String,
    /// Tau-leaping settings (only with `--method tau-leap`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tau_leap: Option<TauLeapSettings>,
    /// Master seed.
    pub seed: u64,
    /// Trajectories per sweep point (indices `0..runs`, the same seeds at every point).
    pub runs: u64,
    /// Recording interval (s).
    pub record_every: f64,
    /// Trajectories per part file.
    pub runs_per_part: u64,
    /// Number of shards the index range is split into (1 without `--shard`).
    pub shards: u64,
    /// `--variant` names, in order.
    pub variants: Vec<String>,
    /// `--variant` and `--set` assignments common to all points, in the order applied.
    pub overrides: Vec<AppliedAssignment>,
    /// Sweep axes (empty without a sweep).
    pub axes: Vec<Axis>,
    /// Per axis: the canonical unit of its numeric column (`None` for protocol and variant).
    pub axis_units: Vec<Option<String>>,
    /// The sweep points (one without a sweep).
    pub points: Vec<SweepPoint>,
}

/// One sweep point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepPoint {
    /// Its index.
    pub sweep_id: u64,
    /// The protocol applied.
    pub protocol: Option<String>,
    /// Simulated time (s).
    pub t_end: f64,
    /// The value of each axis, as text.
    pub values: Vec<String>,
    /// The value of each numeric axis in canonical units (`None` for protocol and variant).
    pub numeric: Vec<Option<f64>>,
    /// Every assignment applied at this point, in order.
    pub assignments: Vec<AppliedAssignment>,
}

impl RunSpec {
    /// True when the run has sweep axes (and so `sweep_id=K` partitions).
    pub fn is_swept(&self) -> bool {
        !self.axes.is_empty()
    }

    /// The trajectory indices of shard `k` of `n`: a contiguous slice, the same in every point.
    pub fn shard_range(&self, k: u64, n: u64) -> (u64, u64) {
        let at = |i: u64| (u128::from(self.runs) * u128::from(i) / u128::from(n)) as u64;
        (at(k), at(k + 1))
    }

    /// The parts covering `lo..hi`: the grid of `runs_per_part`, cut at `lo` and `hi`.
    pub fn parts(&self, lo: u64, hi: u64) -> Vec<(u64, u64)> {
        let p = self.runs_per_part.max(1);
        let mut out = Vec::new();
        let mut first = lo;
        while first < hi {
            let end = ((first / p + 1) * p).min(hi);
            out.push((first, end));
            first = end;
        }
        out
    }

    /// The directory of a sweep point's files under `base` (`base/sweep_id=K` with a sweep).
    pub fn point_dir(&self, base: &Path, sweep_id: u64) -> PathBuf {
        if self.is_swept() {
            base.join(format!("sweep_id={sweep_id}"))
        } else {
            base.to_path_buf()
        }
    }

    /// Compact JSON of the plan.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("plan serialises")
    }
}

/// The name of a part file.
pub fn part_name(first: u64, end: u64) -> String {
    format!("part-{first:010}-{end:010}.parquet")
}

/// The run range of a part file name, if it is one.
pub fn parse_part_name(name: &str) -> Option<(u64, u64)> {
    let rest = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    let (a, b) = rest.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// The finished parts in `dir` (a missing directory has none), sorted.
pub fn finished_parts(dir: &Path) -> Result<Vec<(u64, u64)>, RunError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(RunError::io(dir, e)),
    };
    let mut parts = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| RunError::io(dir, e))?;
        if let Some(range) = entry.file_name().to_str().and_then(parse_part_name) {
            parts.push(range);
        }
    }
    parts.sort_unstable();
    Ok(parts)
}

/// The directories of a run's files.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The output directory.
    pub dir: PathBuf,
}

impl Layout {
    /// `DIR/trajectories`.
    pub fn trajectories(&self) -> PathBuf {
        self.dir.join("trajectories")
    }

    /// `DIR/outcome_parts`.
    pub fn outcome_parts(&self) -> PathBuf {
        self.dir.join("outcome_parts")
    }

    /// `DIR/shards`.
    pub fn shards(&self) -> PathBuf {
        self.dir.join("shards")
    }

    /// `DIR/plan.json`.
    pub fn plan(&self) -> PathBuf {
        self.dir.join(PLAN_FILE)
    }

    /// The plan stored in the directory, if there is one.
    pub fn read_plan(&self) -> Result<Option<RunSpec>, RunError> {
        let path = self.plan();
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                RunError::Settings(format!("{}: not a spinesim plan: {e}", path.display()))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RunError::io(&path, e)),
        }
    }
}

/// How a run may use an output directory that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// A new run: refuse an existing output (unless it may be replaced).
    Fresh {
        /// Replace an existing spinesim output.
        force: bool,
    },
    /// Join a run with the same plan (a shard, or `--resume`): keep what is there.
    Join,
}

/// Makes `dir` the output of the run `spec`: creates it, or checks that what is there is the
/// same run (`Claim::Join`) or may be replaced (`Claim::Fresh { force: true }`), and writes
/// `plan.json`. Several shards may call this at the same time on a shared filesystem.
pub fn claim_output_dir(dir: &Path, spec: &RunSpec, claim: Claim) -> Result<Layout, RunError> {
    let layout = Layout {
        dir: dir.to_path_buf(),
    };
    if dir.exists() {
        let existing = layout.read_plan()?;
        match (claim, existing) {
            // Empty folders of a run do not survive everywhere (git keeps no empty folder).
            (Claim::Join, Some(plan)) if &plan == spec => {
                create_layout_dirs(&layout)?;
                return Ok(layout);
            }
            (Claim::Join, Some(plan)) => return Err(different_run(dir, &plan, spec)),
            // Another shard may be creating the directory right now.
            (Claim::Join, None) if only_layout_entries(dir)? => {}
            (Claim::Join, None) => {
                return Err(RunError::Settings(format!(
                    "{} exists but has no {PLAN_FILE}; it is not a run to join or resume",
                    dir.display()
                )))
            }
            (Claim::Fresh { force: false }, _) => {
                return Err(RunError::OutputExists(dir.to_path_buf()))
            }
            (Claim::Fresh { force: true }, plan) => {
                let is_ours = plan.is_some()
                    || dir.join("run.json").exists()
                    || dir.join("trajectories").exists()
                    || is_empty(dir)?;
                if !is_ours {
                    return Err(RunError::Settings(format!(
                        "{} exists and is not a spinesim output directory; --force only replaces spinesim outputs",
                        dir.display()
                    )));
                }
                fs::remove_dir_all(dir).map_err(|e| RunError::io(dir, e))?;
            }
        }
    }
    create_layout_dirs(&layout)?;
    // A unique temporary name per process, then an atomic rename: shards racing here all
    // write the same text.
    let plan = layout.plan();
    let tmp = dir.join(format!(".{PLAN_FILE}.{}.partial", std::process::id()));
    fs::write(&tmp, spec.to_json()).map_err(|e| RunError::io(&tmp, e))?;
    fs::rename(&tmp, &plan).map_err(|e| RunError::io(&plan, e))?;
    // Shards with different plans racing to create the directory: the one that lost finds out.
    match layout.read_plan()? {
        Some(p) if &p == spec => Ok(layout),
        Some(p) => Err(different_run(dir, &p, spec)),
        None => Err(RunError::Settings(format!(
            "{}: {PLAN_FILE} disappeared while starting",
            dir.display()
        ))),
    }
}

/// Creates the run's folders that are missing.
fn create_layout_dirs(layout: &Layout) -> Result<(), RunError> {
    for d in [
        layout.trajectories(),
        layout.outcome_parts(),
        layout.shards(),
    ] {
        fs::create_dir_all(&d).map_err(|e| RunError::io(&d, e))?;
    }
    Ok(())
}

/// True when `dir` holds nothing but what [`claim_output_dir`] creates before `plan.json`.
fn only_layout_entries(dir: &Path) -> Result<bool, RunError> {
    for entry in fs::read_dir(dir).map_err(|e| RunError::io(dir, e))? {
        let name = entry.map_err(|e| RunError::io(dir, e))?.file_name();
        let name = name.to_string_lossy();
        let ours = matches!(name.as_ref(), "trajectories" | "outcome_parts" | "shards")
            || name.starts_with(&format!(".{PLAN_FILE}."));
        if !ours {
            return Ok(false);
        }
    }
    Ok(true)
}

fn is_empty(dir: &Path) -> Result<bool, RunError> {
    Ok(fs::read_dir(dir)
        .map_err(|e| RunError::io(dir, e))?
        .next()
        .is_none())
}

/// The error for a directory that holds another run's plan, naming the first difference.
fn different_run(dir: &Path, there: &RunSpec, here: &RunSpec) -> RunError {
    RunError::Settings(format!(
        "{} holds a different run ({}); shards and --resume need the same model, options, seed, runs, sweep and random stream",
        dir.display(),
        first_difference(there, here)
    ))
}

/// The first top-level field in which two plans differ, for the message.
fn first_difference(a: &RunSpec, b: &RunSpec) -> String {
    let (a, b) = (
        serde_json::to_value(a).expect("plan serialises"),
        serde_json::to_value(b).expect("plan serialises"),
    );
    if let (Some(a), Some(b)) = (a.as_object(), b.as_object()) {
        for (k, v) in a {
            if b.get(k) != Some(v) {
                let show = |v: Option<&serde_json::Value>| {
                    let s = v.map_or("none".to_string(), |v| v.to_string());
                    if s.chars().count() > 60 {
                        format!("{}...", s.chars().take(60).collect::<String>())
                    } else {
                        s
                    }
                };
                return format!("{k}: {} there, {} here", show(Some(v)), show(b.get(k)));
            }
        }
    }
    "plans differ".into()
}

/// What one invocation of `spinesim run` for a shard did (`shards/shard-K-of-N.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// Shard index K.
    pub shard: u64,
    /// Number of shards N.
    pub shards: u64,
    /// Its trajectory indices, `first_run..end_run` at every sweep point.
    pub first_run: u64,
    /// End of its indices (excluded).
    pub end_run: u64,
    /// The model file as given on this machine.
    pub model_path: String,
    /// Worker threads.
    pub threads: usize,
    /// The command line.
    pub command_line: Vec<String>,
    /// Trajectories simulated by the last invocation (fewer than the slice after `--resume`).
    pub simulated: u64,
    /// Wall-clock seconds of the last invocation.
    pub wall_seconds: f64,
    /// Tau-leaping counters of the last invocation: leaps, exact steps, rejected leaps.
    #[serde(default)]
    pub leaps: [u64; 3],
    /// Slow-scale SSA: the smallest time-scale separation its trajectories saw
    /// ([`crate::simulator::SimStats::slow_scale_separation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slow_scale_separation: Option<f64>,
}

impl ShardRecord {
    /// `DIR/shards/shard-K-of-N.json`.
    pub fn path(layout: &Layout, shard: u64, shards: u64) -> PathBuf {
        layout
            .shards()
            .join(format!("shard-{shard}-of-{shards}.json"))
    }

    /// Writes the record atomically.
    pub fn write(&self, layout: &Layout) -> Result<(), RunError> {
        let path = Self::path(layout, self.shard, self.shards);
        let text = serde_json::to_string_pretty(self).expect("record serialises");
        fs::write(partial_path(&path), text).map_err(|e| RunError::io(&path, e))?;
        commit(&path)
    }

    /// Reads shard `k`'s record, if it is there.
    pub fn read(layout: &Layout, shard: u64, shards: u64) -> Result<Option<Self>, RunError> {
        let path = Self::path(layout, shard, shards);
        match fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| RunError::Settings(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(RunError::io(&path, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulator::RANDOM_STREAM_VERSION;

    fn spec(runs: u64, per_part: u64) -> RunSpec {
        RunSpec {
            program: "spinesim".into(),
            version: "0".into(),
            random_stream: RANDOM_STREAM_VERSION,
            model_name: "m".into(),
            model_sha256: String::new(),
            model_text: String::new(),
            method: "direct".into(),
            tau_leap: None,
            seed: 1,
            runs,
            record_every: 1.0,
            runs_per_part: per_part,
            shards: 1,
            variants: vec![],
            overrides: vec![],
            axes: vec![],
            axis_units: vec![],
            points: vec![],
        }
    }

    #[test]
    fn shards_tile_the_runs_and_parts_follow_the_grid() {
        let s = spec(10, 4);
        let slices: Vec<_> = (0..3).map(|k| s.shard_range(k, 3)).collect();
        assert_eq!(slices, [(0, 3), (3, 6), (6, 10)]);
        assert_eq!(s.parts(0, 10), [(0, 4), (4, 8), (8, 10)]);
        assert_eq!(s.parts(3, 6), [(3, 4), (4, 6)]);
        assert_eq!(s.parts(5, 5), []);
        assert_eq!(parse_part_name(&part_name(3, 40)), Some((3, 40)));
        assert_eq!(parse_part_name("part-1.parquet"), None);
        assert_eq!(
            parse_part_name("part-0000000000-0000000004.parquet.partial"),
            None
        );
    }
}
