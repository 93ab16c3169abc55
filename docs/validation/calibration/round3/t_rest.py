import sys, os; H = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(H, '..', 'round2')); sys.path.insert(0, os.path.join(H, '..'))
from proto import *
from calib import bapta_init
import pyarrow.parquet as pq, glob, pyarrow as pa
ex = dict(extra=[("BXo", ["CaBAPTA"], ["BAPTA"], 10.0), ("BXi", ["BAPTA"], ["CaBAPTA"], 2.5)])
over = dict(NEW); over.update(ex)
m = model(over); y = rest(m)
for v in ("control", "bapta"):
    t = pa.concat_tables([pq.read_table(f) for f in glob.glob(f'ssa_{v}/trajectories/*.parquet')]).to_pandas()
    r = t[(t.time >= 300) & (t.time <= 600)]
    yy = bapta_init(m, y, 0.1) if v == "bapta" else y
    print(v, "rest SSA", " ".join(f"{n} {r[n].mean():.3g}" for n in ("PP1", "Z3", "CNM4", "Ca")), "| MF", " ".join(f"{n} {yy[m.ix[n]]:.3g}" for n in ("PP1", "Z3", "CNM4", "Ca")))
