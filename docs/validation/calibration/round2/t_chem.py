# V8 chem-LTD with the PROPOSED set at G_bath 1 / 0.75 / 0.5 uM (internalised fraction, half-time, W60), standard closure
from proto import *
from t_final import PROPOSED
for lab, o in (("NEW", NEW), ("PROPOSED", PROPOSED)):
    m = model(o); y0 = rest(m)
    for G in (1.0, 0.75, 0.5):
        r = chem_ltd(m, y0, G=G)
        print(f"{lab:9s} G_bath {G:4.2f} uM: Ca {r['Ca_bath_uM']:.2f} uM, internalised {r['frac']:.1f} % at 10-15 min, half-time {r['half_min']:.1f} min, W60 {r['W60']:+.1f} %", flush=True)
