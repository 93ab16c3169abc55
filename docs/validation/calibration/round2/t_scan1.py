# one-knob scans on the NEW model (standard closure): B21c (c_slot_km), B21a/b (c_slot_ck), AC->PKA (k_ac)
from proto import *
import time
names = ["pair-50", "pair-40", "pair-20", "pair0", "0.5Hz", "1Hz", "3Hz", "50Hz", "HFS", "TBS"]
base_km, base_ck, base_ac = 1.2e-4, 1.2e-4, 7e-3
runs = [("NEW", {})] + [(f"c_slot_km x{x}", dict(c_slot_km=base_km*x)) for x in (3, 10)] \
     + [(f"k_ac x{x}", dict(k_ac=base_ac*x)) for x in (10, 100)] + [(f"c_slot_ck x{x}", dict(c_slot_ck=base_ck*x)) for x in (3,)]
for lab, o in runs:
    t0 = time.time(); evaluate(dict(NEW, **o), names, lab); print(f"  [{time.time()-t0:.0f}s]", flush=True)
