# mean field with late mixing (release / no release mixed at the end of each inter-pulse interval), old vs new
from proto import *
import time
names = ["0.5Hz", "1Hz", "3Hz", "50Hz", "100Hz", "HFS", "4xHFS", "TBS", "pair-65", "pair-50", "pair-40", "pair-20", "pair0", "STDP+10", "STDP-10"]
for lab, over in (("OLD late-mix", OLD), ("NEW late-mix", NEW)):
    t0 = time.time(); evaluate(over, names, lab, late=True); print(f"  [{time.time()-t0:.0f}s]")
