# old vs new model (b364a5a) in the mean field: every W-change protocol of the task
from proto import *
import time
names = ["0.5Hz", "1Hz", "3Hz", "50Hz", "100Hz", "HFS", "4xHFS", "TBS", "pair-65", "pair-50", "pair-40", "pair-20", "pair0", "STDP+10", "STDP-10"]
for lab, over in (("OLD d5647d1", OLD), ("NEW b364a5a", NEW)):
    t0 = time.time(); evaluate(over, names, lab); print(f"  [{time.time()-t0:.0f}s]")
