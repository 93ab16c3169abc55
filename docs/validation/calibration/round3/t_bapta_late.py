import sys, os, time
H = os.path.dirname(os.path.abspath(__file__)); sys.path.insert(0, os.path.join(H, '..', 'round2')); sys.path.insert(0, os.path.join(H, '..'))
import proto
from proto import *
from calib import bapta_init
ex = dict(extra=[("BXo", ["CaBAPTA"], ["BAPTA"], 10.0), ("BXi", ["BAPTA"], ["CaBAPTA"], 2.5)])
over = dict(NEW); over.update(ex)
for late in (False, True):
    proto.LATE = late
    m = model(over); yc = rest(m); yb = bapta_init(m, yc, 0.1)
    t0 = time.time()
    c = change(m, yc, "1Hz"); b = change(m, yb, "1Hz")
    # sham: BAPTA rest drift over the same time
    ys = m.run(yb, 900 + 3600.0); sh = 100 * (W(m, ys) / W(m, yb) - 1)
    print(f"late={late}: control 1 Hz {c:+.1f} %, BAPTA 1 Hz {b:+.1f} % (sham {sh:+.2f}) [{time.time()-t0:.0f}s]", flush=True)
