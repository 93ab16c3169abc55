import sys, time, numpy as np
import os; H = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(H, '..', 'round2')); sys.path.insert(0, os.path.join(H, '..'))
import proto
from proto import *
from calib import bapta_init
import pyarrow.parquet as pq, glob, pyarrow as pa
ex = dict(extra=[("BXo", ["CaBAPTA"], ["BAPTA"], 10.0), ("BXi", ["BAPTA"], ["CaBAPTA"], 2.5)])
over = dict(NEW); over.update(ex)
NAMES = ["PP1", "Z3", "CNM4", "Ca"]
def ssa(v):
    t = pa.concat_tables([pq.read_table(f) for f in glob.glob(f'ssa_{v}/trajectories/*.parquet')]).to_pandas()
    tr = t[(t.time > 600) & (t.time <= 720)]
    return {n: tr[n].mean() for n in NAMES}, t.run.nunique()
for v in ("control", "bapta"):
    s, n = ssa(v)
    for late in (False, True):
        proto.LATE = late
        m = model(over); y = rest(m)
        if v == "bapta": y = bapta_init(m, y, 0.1)
        acc = {k: [] for k in NAMES}
        for k in range(120):
            y = stim(m, y, [0.0])
            for nm in NAMES: acc[nm].append(y[m.ix[nm]])
        mf = {k: np.mean(a) for k, a in acc.items()}
        print(f"{v:8s} late={late!s:5s} MF  " + " ".join(f"{k} {mf[k]:.3g}" for k in NAMES))
    print(f"{v:8s} SSA ({n} runs)   " + " ".join(f"{k} {s[k]:.3g}" for k in NAMES), flush=True)
