import pyarrow.parquet as pq, glob, sys, numpy as np
import pyarrow as pa
for p in sys.argv[1:]:
    fs=sorted(glob.glob(f'{p}/trajectories/*.parquet'))  # run folders named after the protocol, in the working folder
    if not fs: continue
    t=pa.concat_tables([pq.read_table(f,columns=['run','time','KM4','pT286','PP1','CNM4','Ca','Slot','SlotI','Z3']) for f in fs]).to_pandas()
    tr=t[(t.time>=600)&(t.time<620)]; rs=t[(t.time>=300)&(t.time<600)]
    g=tr.groupby('run')
    out=dict(KM4=g.KM4.mean().mean(), KM4sq=(tr.KM4**2).groupby(tr.run).mean().mean(),
             KM4cu=(tr.KM4**3).groupby(tr.run).mean().mean(), pT=g.pT286.mean().mean(), PP1=g.PP1.mean().mean(),
             CNM4=g.CNM4.mean().mean(), Ca=g.Ca.mean().mean(), rKM4=rs.KM4.mean(), rPP1=rs.PP1.mean(), rpT=rs.pT286.mean(), Z3=g.Z3.mean().mean())
    print(f"{p:14s} runs {t.run.nunique()} "+" ".join(f"{k} {v:.4g}" for k,v in out.items()))
