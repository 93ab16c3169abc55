//! Run metadata: `run.json` and the Parquet key-value metadata.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::layout::{RunSpec, ShardRecord};
use crate::model::overrides::AppliedAssignment;
use crate::model::Model;
use crate::simulator::{TauLeapSettings, RANDOM_STREAM_VERSION};
use crate::sweep::Axis;

/// What a run was and what it did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RunMetadata {
    /// Always "spinesim".
    pub program: String,
    /// The crate version.
    pub version: String,
    /// The methods' random-stream version ([`RANDOM_STREAM_VERSION`]): the same seed gives the
    /// same trajectories only under the same version.
    pub random_stream: u32,
    /// `[model] name`.
    pub model_name: String,
    /// The model file as given.
    pub model_path: String,
    /// SHA-256 of the model file's text.
    pub model_sha256: String,
    /// The protocol, if any.
    pub protocol: Option<String>,
    /// The simulation method that ran (`--method ssa` names the exact method it chose).
    pub method: String,
    /// Tau-leaping settings (only with `--method tau-leap`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tau_leap: Option<TauLeapSettings>,
    /// Tau-leaping: leaps taken in all trajectories (set at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leaps: Option<u64>,
    /// Tau-leaping: exact SSA steps taken in all trajectories (set at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exact_steps: Option<u64>,
    /// Tau-leaping: leaps rejected (a count would have gone negative) (set at the end).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rejected_leaps: Option<u64>,
    /// Slow-scale SSA: the smallest ratio seen, over fast pairs and time, of a pair's relaxation
    /// rate to the total propensity of the slow channels that read or change it (set at the
    /// end; docs/slow_scale.md: accurate when ≫ 1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slow_scale_separation: Option<f64>,
    /// The master seed.
    pub seed: u64,
    /// Number of trajectories requested.
    pub runs: u64,
    /// Simulated time (s).
    pub t_end: f64,
    /// Recording interval (s).
    pub record_every: f64,
    /// Worker threads.
    pub threads: usize,
    /// The command line.
    pub command_line: Vec<String>,
    /// Trajectories completed (set at the end).
    pub trajectories: u64,
    /// Reaction events fired in all trajectories (set at the end).
    pub total_events: u64,
    /// Wall-clock seconds of the simulation and writing (set at the end; summed over shards).
    pub wall_seconds: f64,
    /// `--variant` names, in order.
    pub variants: Vec<String>,
    /// `--variant` and `--set` assignments applied at every sweep point, in order.
    pub overrides: Vec<AppliedAssignment>,
    /// Sweep axes (empty without a sweep).
    pub sweep: Vec<Axis>,
    /// Number of sweep points (1 without a sweep).
    pub sweep_points: usize,
    /// Number of shards the trajectory indices were split into.
    pub shards: u64,
    /// Trajectories per part file.
    pub runs_per_part: u64,
    /// What each shard's (last) invocation did.
    pub shard_records: Vec<ShardRecord>,
    /// Content digests of the results (set at the end).
    pub digests: Option<Digests>,
}

/// SHA-256 digests of a run's rows, independent of how they are split into files: two runs
/// with the same digests hold the same values bit for bit (e.g. a sharded and an unsharded run).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Digests {
    /// All trajectory rows, in (sweep_id, run, time) order.
    pub trajectories: String,
    /// All outcome rows, in (sweep_id, run) order.
    pub outcomes: String,
}

impl RunMetadata {
    /// Metadata for a run that is about to start.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        model: &Model,
        protocol: Option<&str>,
        method: &str,
        seed: u64,
        runs: u64,
        t_end: f64,
        record_every: f64,
        threads: usize,
        command_line: Vec<String>,
    ) -> Self {
        RunMetadata {
            program: "spinesim".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            random_stream: RANDOM_STREAM_VERSION,
            model_name: model.name.clone(),
            model_path: model.path.display().to_string(),
            model_sha256: sha256_hex(&model.full_text()),
            protocol: protocol.map(str::to_string),
            method: method.into(),
            tau_leap: None,
            leaps: None,
            exact_steps: None,
            rejected_leaps: None,
            slow_scale_separation: None,
            seed,
            runs,
            t_end,
            record_every,
            threads,
            command_line,
            trajectories: 0,
            total_events: 0,
            wall_seconds: 0.0,
            variants: Vec::new(),
            overrides: Vec::new(),
            sweep: Vec::new(),
            sweep_points: 1,
            shards: 1,
            runs_per_part: runs,
            shard_records: Vec::new(),
            digests: None,
        }
    }

    /// Metadata of a run from its plan and its shards' records (threads, model path and
    /// command line from the first shard; protocol and t_end of sweep point 0).
    pub fn from_spec(spec: &RunSpec, records: &[ShardRecord]) -> Self {
        let first = records.first();
        let point = spec.points.first();
        RunMetadata {
            program: spec.program.clone(),
            version: spec.version.clone(),
            random_stream: spec.random_stream,
            model_name: spec.model_name.clone(),
            model_path: first.map(|r| r.model_path.clone()).unwrap_or_default(),
            model_sha256: spec.model_sha256.clone(),
            protocol: point.and_then(|p| p.protocol.clone()),
            method: spec.method.clone(),
            tau_leap: spec.tau_leap,
            leaps: spec
                .tau_leap
                .map(|_| records.iter().map(|r| r.leaps[0]).sum()),
            exact_steps: spec
                .tau_leap
                .map(|_| records.iter().map(|r| r.leaps[1]).sum()),
            rejected_leaps: spec
                .tau_leap
                .map(|_| records.iter().map(|r| r.leaps[2]).sum()),
            slow_scale_separation: records
                .iter()
                .filter_map(|r| r.slow_scale_separation)
                .reduce(f64::min),
            seed: spec.seed,
            runs: spec.runs,
            t_end: point.map_or(f64::NAN, |p| p.t_end),
            record_every: spec.record_every,
            threads: first.map_or(0, |r| r.threads),
            command_line: first.map(|r| r.command_line.clone()).unwrap_or_default(),
            trajectories: 0,
            total_events: 0,
            wall_seconds: 0.0,
            variants: spec.variants.clone(),
            overrides: spec.overrides.clone(),
            sweep: spec.axes.clone(),
            sweep_points: spec.points.len(),
            shards: spec.shards,
            runs_per_part: spec.runs_per_part,
            shard_records: records.to_vec(),
            digests: None,
        }
    }

    /// Pretty JSON for `run.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("metadata serialises")
    }

    /// Key-value pairs for Parquet files (`spinesim.*` keys, and the model text).
    pub fn key_values(&self, model_text: &str) -> Vec<(String, String)> {
        vec![
            (
                "spinesim.run".into(),
                serde_json::to_string(self).expect("metadata serialises"),
            ),
            ("spinesim.version".into(), self.version.clone()),
            ("spinesim.model_name".into(), self.model_name.clone()),
            ("spinesim.model_sha256".into(), self.model_sha256.clone()),
            ("spinesim.model_text".into(), model_text.to_string()),
            (
                "spinesim.protocol".into(),
                self.protocol.clone().unwrap_or_default(),
            ),
            ("spinesim.method".into(), self.method.clone()),
            ("spinesim.seed".into(), self.seed.to_string()),
            ("spinesim.command_line".into(), self.command_line.join(" ")),
        ]
    }
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
