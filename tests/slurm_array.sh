#!/usr/bin/env bash
# The Slurm test: start a one-node Slurm cluster (tests/slurm/start-slurm.sh), submit
# examples/slurm/spinesim-array.sbatch as a 4-task array, run `spinesim summarize`, and check
# that the result equals a single-machine run of the same ensemble bit for bit (the content
# digests in run.json, and the row counts); stop the cluster whatever happens.
#
# Needs root (the cluster scripts do). Installs Debian's slurm packages when they are missing
# and SLURM_TEST_INSTALL=1 (the default when CI=true). Prints its timings. In CI, after
# `cargo test --release`:  SPINESIM_BIN=target/release/spinesim bash tests/slurm_array.sh
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SLURM_SCRIPTS="$ROOT/tests/slurm"
now() { date +%s.%N; }
dt() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f", b-a}'; }
t_start=$(now)

if [ "$(id -u)" != 0 ]; then
  echo "slurm_array.sh: needs root to start a Slurm cluster" >&2
  exit 1
fi
if ! command -v slurmctld >/dev/null 2>&1; then
  if [ "${SLURM_TEST_INSTALL:-${CI:-false}}" = 1 ] || [ "${SLURM_TEST_INSTALL:-${CI:-false}}" = true ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      slurmctld slurmd slurm-client munge >/dev/null
  else
    echo "slurm_array.sh: Slurm is not installed (set SLURM_TEST_INSTALL=1 to apt-get it)" >&2
    exit 1
  fi
fi
t_installed=$(now)

# SPINESIM_BIN: a spinesim binary already built (e.g. by `cargo test --release`, whose
# dependency features differ from `cargo build`'s, so building again would take minutes).
if [ -n "${SPINESIM_BIN:-}" ]; then
  BIN=$(cd "$(dirname "$SPINESIM_BIN")" && pwd)/$(basename "$SPINESIM_BIN")
  [ -x "$BIN" ] || { echo "slurm_array.sh: SPINESIM_BIN=$SPINESIM_BIN is not executable" >&2; exit 1; }
else
  (cd "$ROOT" && cargo build --release --quiet)
  BIN="$ROOT/target/release/spinesim"
fi
t_built=$(now)
MODEL="$ROOT/models/birth_death.toml"
WORK=$(mktemp -d /tmp/spinesim-slurm.XXXXXX)
# 2 sweep points × 400 trajectories; shard boundaries (0, 100, 200, 300, 400) cut the part grid
# of 64 trajectories (10 part files per point instead of 7), so the files differ from the
# single run's while the rows must not.
ARGS=(--runs 400 --t-end 20 --record-every 0.5 --seed 11 --runs-per-part 64
      --sweep "cell=0.5,1 fL")

bash "$SLURM_SCRIPTS/start-slurm.sh"
trap 'bash "$SLURM_SCRIPTS/stop-slurm.sh"; rm -rf "$WORK"' EXIT
t_started=$(now)

jid=$(cd "$WORK" && SPINESIM="$BIN" sbatch --parsable --array=0-3 \
  -o "$WORK/slurm-%A_%a.out" --export=ALL,SPINESIM="$BIN" \
  "$ROOT/examples/slurm/spinesim-array.sbatch" "$MODEL" "$WORK/sharded" "${ARGS[@]}")
jid=${jid%%;*}
# Poll instead of `sbatch --wait` (whose back-off waits up to 10 s for a short array).
for _ in $(seq 1 600); do
  [ -z "$(squeue -h -j "$jid" -t PD,CF,R,CG,S -o %i 2>/dev/null)" ] && break
  sleep 0.5
done
if [ -n "$(squeue -h -j "$jid" -t PD,CF,R,CG,S -o %i 2>/dev/null)" ]; then
  echo "FAILED: array $jid still running after 300 s" >&2
  exit 1
fi
states=$(scontrol -o show job "$jid" | grep -o 'JobState=[A-Z]*\|ExitCode=[0-9:]*' | paste -sd' ')
ntasks=$(scontrol -o show job "$jid" | grep -c 'JobState=COMPLETED.*ExitCode=0:0' || true)
if [ "$ntasks" != 4 ]; then
  echo "FAILED: array $jid: $states" >&2
  cat "$WORK"/slurm-*.out >&2 || true
  exit 1
fi
t_array=$(now)

"$BIN" summarize "$WORK/sharded"
"$BIN" run "$MODEL" --out "$WORK/single" --quiet "${ARGS[@]}"
t_compared=$(now)

digests() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["digests"]["trajectories"], r["digests"]["outcomes"], r["trajectories"], r["shards"])' "$1"; }
read -r st so sn sshards <<<"$(digests "$WORK/sharded/run.json")"
read -r wt wo wn wshards <<<"$(digests "$WORK/single/run.json")"
echo "sharded: $sshards shards, $sn trajectories, trajectories $st, outcomes $so"
echo "single:  $wshards shard,  $wn trajectories, trajectories $wt, outcomes $wo"
nparts=$(find "$WORK/sharded/trajectories" -name 'part-*.parquet' | wc -l)
if [ "$sshards" != 4 ] || [ "$sn" != 800 ] || [ "$nparts" != 20 ]; then
  echo "FAILED: expected 4 shards, 800 trajectories, 20 part files; got $sshards, $sn, $nparts" >&2
  exit 1
fi
if [ "$st" != "$wt" ] || [ "$so" != "$wo" ] || [ "$sn" != "$wn" ]; then
  echo "FAILED: the Slurm array's results differ from the single-machine run" >&2
  exit 1
fi
for f in summary.parquet outcome_stats.parquet outcomes.parquet sweeps.parquet; do
  [ -s "$WORK/sharded/$f" ] || { echo "FAILED: no $f" >&2; exit 1; }
done
echo "slurm array == single machine: OK (install $(dt "$t_start" "$t_installed") s, build $(dt "$t_installed" "$t_built") s, cluster start $(dt "$t_built" "$t_started") s, array $(dt "$t_started" "$t_array") s, summarize + single run $(dt "$t_array" "$t_compared") s)"
