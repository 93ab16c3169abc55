# NEW (b364a5a) vs PROPOSED, every W protocol, standard and late-mix closures
from proto import *
from t_scan3 import over
import proto, time, sys
PROPOSED = dict(over(5, 0.5, 0.8, 1.4), tau_rec=0.4)
CAND_CZ06 = dict(over(5, 0.5, 0.6, 2), tau_rec=0.4)   # first candidate (final_candidate_cz0.6.log)
names = ["0.5Hz", "1Hz", "3Hz", "5Hz", "10Hz", "50Hz", "100Hz", "HFS", "4xHFS", "TBS", "pair-65", "pair-50", "pair-40", "pair-20", "pair0", "STDP+10", "STDP-10"]
if __name__ == "__main__":
    for late in (False, True):
        for lab, o in [(n, {"NEW": NEW, "PROPOSED": PROPOSED, "CAND_CZ06": CAND_CZ06}[n]) for n in (sys.argv[1:] or ["NEW", "PROPOSED"])]:
            t0 = time.time(); evaluate(o, names, f"{'late' if late else 'std'} {lab}", late=late); print(f"  [{time.time()-t0:.0f}s]", flush=True)
