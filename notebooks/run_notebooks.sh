#!/usr/bin/env bash
# Executes every notebook in notebooks/ against small datasets that the real CLI produces here.
#
#   notebooks/run_notebooks.sh            # from anywhere in the repository
#
# 1. creates (or reuses) a venv in target/notebook-venv from notebooks/requirements.txt;
# 2. builds the release binary;
# 3. runs three tiny ensembles of models/spine_bidirectional.toml into a temp dir (few
#    trajectories, --t-end 660: 60 s of stimulation after the 600 s burn-in); 04 reads the
#    accuracy ensembles committed in docs/accuracy/;
# 4. executes each notebook with nbclient (any cell error fails the script) and prints the PNGs.
#
# Environment: PYTHON (interpreter for the venv, default python3.11 or python3),
# NOTEBOOK_WORK (work dir, default a new mktemp dir; kept so the figures can be looked at).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

venv="$repo/target/notebook-venv"
requirements="$repo/notebooks/requirements.txt"
python=${PYTHON:-$(command -v python3.11 || command -v python3)}

# --- 1. the venv (recreated when requirements.txt changes) ---------------------------------------
stamp="$venv/requirements.sha256"
want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -x "$venv/bin/python" || ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "creating $venv from notebooks/requirements.txt" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$want" >"$stamp"
fi

# --- 2. the binary ----------------------------------------------------------------------------------
# SPINESIM_BIN: a binary already built (e.g. by `cargo test --release`, whose dependency features
# differ from `cargo build`'s, so building again would take minutes).
if [[ -n "${SPINESIM_BIN:-}" ]]; then
    spinesim=$(cd "$(dirname "$SPINESIM_BIN")" && pwd)/$(basename "$SPINESIM_BIN")
else
    cargo build --release --quiet
    spinesim="$repo/target/release/spinesim"
fi

# --- 3. small datasets (the notebooks make the real figures from the large runs in the README) -----
work=${NOTEBOOK_WORK:-$(mktemp -d /tmp/spinesim-notebooks.XXXXXX)}
mkdir -p "$work/figures" "$work/executed"
model="$repo/models/spine_bidirectional.toml"
small=(--t-end 660 --record-every 5 --quiet --force)
echo "simulating the test data into $work" >&2
"$spinesim" run "$model" --protocol freq_1hz --runs 3 "${small[@]}" --out "$work/ltd_noise"
"$spinesim" run "$model" --sweep protocol=freq_1hz,freq_10hz,freq_100hz --runs 2 "${small[@]}" \
    --out "$work/freq_response"
"$spinesim" run "$model" --protocol freq_1hz --sweep "spine=0.03,0.06,0.1 fL" --runs 2 "${small[@]}" \
    --out "$work/noise_volume"

# --- 4. execute the notebooks -----------------------------------------------------------------------
export SPINESIM_LTD_DATA="$work/ltd_noise"
export SPINESIM_FREQ_DATA="$work/freq_response"
export SPINESIM_VOLUME_DATA="$work/noise_volume"
export SPINESIM_FIGURES="$work/figures"
export MPLBACKEND=Agg
# The kernel is the venv's python: no user-level kernelspec named python3 may shadow it.
export JUPYTER_DATA_DIR="$work/jupyter"
"$venv/bin/python" - "$repo/notebooks" "$work/executed" <<'PY'
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

notebooks, executed = Path(sys.argv[1]), Path(sys.argv[2])
for path in sorted(notebooks.glob("*.ipynb")):
    print(f"executing {path.name}", file=sys.stderr)
    nb = nbformat.read(path, as_version=4)
    # Raises CellExecutionError (and so fails the script) on the first cell that raises.
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(notebooks)}}).execute()
    nbformat.write(nb, executed / path.name)
PY

figures=("$work"/figures/*.png)
for notebook in notebooks/*.ipynb; do
    prefix=$(basename "$notebook" .ipynb | cut -d_ -f1)
    if ! compgen -G "$work/figures/${prefix}_*.png" >/dev/null; then
        echo "error: $notebook saved no figure ${prefix}_*.png in $work/figures" >&2
        exit 1
    fi
done
echo "executed notebooks: $work/executed"
echo "figures:"
printf '  %s\n' "${figures[@]}"
