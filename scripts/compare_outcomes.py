#!/usr/bin/env python3
"""Compare the per-trajectory outcomes of two spinesim runs (e.g. exact SSA against an
approximate method) outcome by outcome: mean ± standard error of each, Welch's z on the means,
and the two-sample Kolmogorov-Smirnov distance D with its p-value.

    python3 scripts/compare_outcomes.py RUN_A RUN_B [--outcomes W_change_pct,...]

RUN_A and RUN_B are `spinesim run` output folders. A finished run is read from its
`outcomes.parquet`; an unfinished one (stopped, to be completed with `--resume`) from the
finished part files in `outcome_parts/`, so a long comparison can be followed while it runs.
Needs pyarrow, numpy and scipy (the notebooks' requirements).
"""

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy import stats

# Columns of outcomes.parquet that are bookkeeping, not outcomes.
BOOKKEEPING = {"sweep_id", "run", "seed", "events"}


def outcome_files(run: Path) -> list:
    """The run's `outcomes.parquet`, or its finished part files when it is not finished."""
    finished = run / "outcomes.parquet"
    if finished.exists():
        return [finished]
    files = sorted((run / "outcome_parts").glob("part-*.parquet"))
    if not files:
        sys.exit(f"{run}: neither outcomes.parquet nor finished outcome_parts/part-*.parquet")
    return files


def read_outcomes(run: Path) -> dict:
    """Outcome name -> float array, from outcomes.parquet or the finished part files."""
    columns: dict = {}
    for f in outcome_files(run):
        table = pq.read_table(f)
        for name in table.column_names:
            if name in BOOKKEEPING or name.endswith("_class"):
                continue
            values = table.column(name).to_numpy(zero_copy_only=False).astype(float)
            columns.setdefault(name, []).append(values)
    return {name: np.concatenate(parts) for name, parts in columns.items()}


def describe(x: np.ndarray) -> str:
    se = x.std(ddof=1) / math.sqrt(len(x)) if len(x) > 1 else float("nan")
    return f"{x.mean():.4g} ± {se:.2g}"


def ks_critical(n_a: int, n_b: int, alpha: float = 0.05) -> float:
    """The asymptotic two-sample KS distance that a level-alpha test rejects above."""
    return math.sqrt(-0.5 * math.log(alpha / 2)) * math.sqrt((n_a + n_b) / (n_a * n_b))


def compare(x: np.ndarray, y: np.ndarray) -> dict | None:
    """Welch's z on the means and the two-sample KS test of the finite values of x and y, or
    None when either has fewer than two."""
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) < 2 or len(y) < 2:
        return None
    se = math.sqrt(x.var(ddof=1) / len(x) + y.var(ddof=1) / len(y))
    ks = stats.ks_2samp(x, y)
    return {
        "n_a": len(x),
        "n_b": len(y),
        "z": (x.mean() - y.mean()) / se if se > 0 else float("nan"),
        "ks_d": float(ks.statistic),
        "ks_p": float(ks.pvalue),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run_a", type=Path)
    parser.add_argument("run_b", type=Path)
    parser.add_argument("--outcomes", help="comma-separated outcome columns (default: all)")
    args = parser.parse_args()

    a, b = read_outcomes(args.run_a), read_outcomes(args.run_b)
    names = [n for n in a if n in b]
    if args.outcomes:
        wanted = args.outcomes.split(",")
        missing = [n for n in wanted if n not in names]
        if missing:
            sys.exit(f"outcomes not in both runs: {', '.join(missing)}; both have {', '.join(names)}")
        names = wanted

    n_a = len(next(iter(a.values())))
    n_b = len(next(iter(b.values())))
    d_crit = ks_critical(n_a, n_b)
    print(f"{args.run_a}: n = {n_a}; {args.run_b}: n = {n_b}; KS D at p = 0.05: {d_crit:.3f}\n")
    print(f"| outcome | {args.run_a.name} | {args.run_b.name} | Welch z | KS D (p) |")
    print("|---|---|---|---|---|")
    for name in names:
        x, y = a[name], b[name]
        result = compare(x, y)
        if result is None:
            print(f"| {name} | {np.isfinite(x).sum()} finite | {np.isfinite(y).sum()} finite | | |")
            continue
        x, y = x[np.isfinite(x)], y[np.isfinite(y)]
        print(f"| {name} | {describe(x)} | {describe(y)} | {result['z']:+.2f} | "
              f"{result['ks_d']:.3f} ({result['ks_p']:.2g}) |")


if __name__ == "__main__":
    main()
