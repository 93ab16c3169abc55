from calib import *
import time
def ex(kex, ratio=0.25):
    return dict(extra=[("BXo", ["CaBAPTA"], ["BAPTA"], kex), ("BXi", ["BAPTA"], ["CaBAPTA"], kex * ratio)])
for kex in (3.0, 10.0):
    m = model(ex(kex)); yc = rest(m)   # BAPTA = 0 at rest: control unchanged
    for mM in (0.1, 0.3, 1.0):
        t0 = time.time(); yb = bapta_init(m, yc, mM)
        r = freq_change(m, yb, 1.0, burn=0, sham=True, info=True)
        print(f"k_ex {kex}/s BAPTA {mM} mM: 1Hz {r['ch60']:+.1f}% (sham {r['sham']:+.2f}) PP1mean {r['PP1_mean']:.1f} Z3 {r['Z3_mean']:.2f} [{time.time()-t0:.0f}s]", flush=True)
m = model(ex(10.0)); yc = rest(m); yb = bapta_init(m, yc, 0.1)
r = freq_change(m, yb, 50.0, burn=0, sham=True); print("k_ex 10, 0.1 mM, 50 Hz", round(r['ch60'],1))
r = freq_change(m, yc, 1.0, burn=0, sham=False); print("control with exchange reactions (BAPTA 0) 1 Hz", round(r['ch60'],1))
