import pyarrow.parquet as pq, sys, numpy as np
t = pq.read_table(sys.argv[1] + '/outcomes.parquet').to_pandas()
key = [c for c in t.columns if c in ('protocol', 'condition')]
for k, g in t.groupby(key[0]):
    x = g.W_change_pct
    print(f"{sys.argv[2]:6s} {k:16s} n {len(x):3d} W {x.mean():+6.1f} ± {x.std(ddof=1)/np.sqrt(len(x)):.1f}")
