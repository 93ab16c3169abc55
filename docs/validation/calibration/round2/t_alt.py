# alternatives to PROPOSED (Z chain unchanged or milder) in both closures; args as t_scan3 (km:ck:cz:csz[@name=value])
from proto import *
from t_scan3 import over
import sys, time
names = ["0.5Hz", "1Hz", "3Hz", "10Hz", "50Hz", "pair-50", "pair-40", "pair-20", "pair0", "HFS", "TBS"]
for x in sys.argv[1:]:
    mult, _, extra = x.partition("@")
    o = over(*map(float, mult.split(":"))); o.update({k: float(v) for k, v in (e.split("=") for e in filter(None, extra.split(",")))})
    for late in (False, True):
        t0 = time.time(); evaluate(o, names, f"{'late' if late else 'std'} {x}", late=late); print(f"  [{time.time()-t0:.0f}s]", flush=True)
