# B21c (KM4 reactivates slots, c_slot_km) up x N with B21a/b (pT286, c_slot_ck) down, late-mix closure and standard closure
from proto import *
import time, sys
names = ["pair-40", "pair-20", "pair0", "0.5Hz", "1Hz", "3Hz", "50Hz", "HFS", "TBS"]
late = sys.argv[1] == "late"
combos = [(float(a), float(b)) for a, b in (x.split(":") for x in sys.argv[2:])]
for km, ck in combos:
    t0 = time.time(); evaluate(dict(NEW, c_slot_km=1.2e-4*km, c_slot_ck=1.2e-4*ck), names, f"{'late' if late else 'std'} km x{km:g} ck x{ck:g}", late=late); print(f"  [{time.time()-t0:.0f}s]", flush=True)
