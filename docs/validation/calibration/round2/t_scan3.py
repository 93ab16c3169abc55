# joint scan: B21c up (c_slot_km), B21a/b down (c_slot_ck), Z chain less PP1-sensitive (c_z) and faster slot closure (c_slot_z, M3/M4)
# usage: t_scan3.py late|std km:ck:cz:csz[:c831[:kz]] ...   (multipliers of the NEW values; c831 = B19a, kz = Z chain back rates), optional @name=value,...
from proto import *
import time, sys
names = ["pair-50", "pair-40", "pair-20", "pair0", "0.5Hz", "1Hz", "3Hz", "50Hz", "HFS", "TBS"]
late = len(sys.argv) > 1 and sys.argv[1] == "late"
def over(km, ck, cz, csz, c831=1.0, kz=1.0):
    return dict(NEW, c_slot_km=1.2e-4*km, c_slot_ck=1.2e-4*ck, c_z=6.6e-3*cz, c_slot_z=3.1e-5*csz, c_831=1e-4*c831, k_z=0.05*kz)
if __name__ == "__main__":
    for x in sys.argv[2:]:
        mult, _, extra = x.partition("@")   # extra: name=value,... absolute overrides (e.g. tau_rec=0.3)
        v = list(map(float, mult.split(":")))
        o = over(*v); o.update({k: float(val) for k, val in (e.split("=") for e in filter(None, extra.split(",")))})
        t0 = time.time(); evaluate(o, names, f"{'late' if late else 'std'} {x}", late=late); print(f"  [{time.time()-t0:.0f}s]", flush=True)
