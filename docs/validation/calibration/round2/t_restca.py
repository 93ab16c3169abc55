# optional: resting free Ca 50 -> 65 nM by a larger leak (A10 100 -> 130 uM/s), on the PROPOSED set, standard closure
from proto import *
from t_final import PROPOSED
import time
for leak in (100.0, 130.0):
    o = dict(PROPOSED, leak=leak); m = model(o); y = rest(m); ix = m.ix
    t0 = time.time()
    print(f"leak {leak:g}: rest Ca {1e3*y[ix['Ca']]/NPM:.1f} nM W {W(m,y):.1f} PP1 {y[ix['PP1']]:.2f} Z3 {y[ix['Z3']]:.3f} CNM4 {y[ix['CNM4']]:.2f} active slots {y[ix['Slot']]+y[ix['Rs']]+y[ix['RsP']]+y[ix['Rs8']]:.1f}", flush=True)
    evaluate(o, ["1Hz", "50Hz", "pair-40", "pair0"], f"  std leak {leak:g}"); print(f"  [{time.time()-t0:.0f}s]", flush=True)
