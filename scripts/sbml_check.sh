#!/usr/bin/env bash
# SBML checks that need Python (not part of `cargo test`):
#  1. every shipped model (models/*.toml), with each of its protocols and with none, is exported
#     with `spinesim export-sbml` and validated by python-libsbml: 0 errors required;
#  2. every DSMTS case in tests/dsmts/cases is run at 10^4 replicates and judged by the suite's
#     own checker, tests/dsmts/check.py (the Rust test tests/dsmts.rs applies the same rules).
# Creates a venv with pinned packages under target/sbml-venv (needs python3 >= 3.11 and PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/sbml-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet python-libsbml==5.21.2 numpy==2.4.6 pyarrow==26.0.1
fi
py="$venv/bin/python"

# SPINESIM_BIN: a binary already built (e.g. by `cargo test --release`, whose dependency features
# differ from `cargo build`'s, so building again would take minutes).
bin=${SPINESIM_BIN:-}
if [ -z "$bin" ]; then
    cargo build --release --quiet
    bin=target/release/spinesim
fi
out=target/sbml-check
rm -rf "$out"
mkdir -p "$out/export" "$out/dsmts"

exported=()
for model in models/*.toml; do
    stem=$(basename "$model" .toml)
    protocols=$("$py" -c 'import sys, tomllib; print(" ".join(p["name"] for p in tomllib.load(open(sys.argv[1], "rb")).get("protocols", [])))' "$model")
    "$bin" export-sbml "$model" --protocol none -o "$out/export/$stem.xml" 2>/dev/null || \
        "$bin" export-sbml "$model" -o "$out/export/$stem.xml"
    exported+=("$out/export/$stem.xml")
    for p in $protocols; do
        # Binomial draws (stochastic release) have no SBML core equivalent: export them lossy.
        "$bin" export-sbml "$model" --protocol "$p" -o "$out/export/$stem-$p.xml" 2>/dev/null || \
            "$bin" export-sbml "$model" --protocol "$p" --lossy -o "$out/export/$stem-$p.xml" 2>/dev/null
        exported+=("$out/export/$stem-$p.xml")
    done
done
"$py" scripts/validate_sbml.py "${exported[@]}"

for case in tests/dsmts/cases/*/; do
    id=$(basename "$case")
    "$bin" run "$case/$id-sbml-l3v1.xml" --runs 10000 --seed $((20081 + 10#$id)) --t-end 50 --record-every 1 \
        --quiet --out "$out/dsmts/$id"
done
"$py" tests/dsmts/check.py "$out/dsmts" --cases-dir tests/dsmts/cases --require-all
