from calib import *
import time
m = model(); yc = rest(m)
for mM in (0.1, 0.3, 1.0, 3.0, 10.0):
    t0=time.time()
    yb = bapta_init(m, yc, mM)
    r = freq_change(m, yb, 1.0, burn=0, sham=True, info=True)
    print(f"BAPTA {mM} mM: 1Hz {r['ch60']:+.1f}% (sham {r['sham']:+.1f}) end {r['end']:+.1f} PP1mean {r['PP1_mean']:.1f} Z3mean {r['Z3_mean']:.2f} CNM4mean {r['CNM4_mean']:.2f} [{time.time()-t0:.0f}s]", flush=True)
# S845A from its own steady state (germline knock-in)
ms = model(dict(k_pka_845=0.0)); ys = rest(ms)
r = freq_change(ms, ys, 1.0, burn=0, sham=False); print(f"S845A own rest W {W(ms,ys):.1f}: 1Hz {r['ch60']:+.1f}")
