# what drives W in each protocol (NEW model): slot gains from CaMKII (B21) vs losses from Z3 (M3/M4), integrated over protocol + 60 min
from proto import *
import proto, sys
def diag(over, name, late):
    proto.LATE = late
    m = model(over); y0 = rest(m); ix = m.ix; p = m.p
    kw = PROTOS[name](); y = stim(m, y0, **kw)
    # integrate the 60-min follow-up in steps and accumulate fluxes
    def fl(y):
        gain = p["c_slot_ck"] * (y[ix["PM4"]] + 0.5 * y[ix["P"]]) * y[ix["SlotI"]] + p["c_slot_km"] * y[ix["KM4"]] * y[ix["SlotI"]]
        loss = p["c_slot_z"] * y[ix["Z3"]] * (y[ix["Slot"]] + y[ix["Rs"]])
        return gain, loss
    G = L = 0.0; yy = y; dt = 5.0; pk = yy[ix["PM4"]] + yy[ix["P"]]
    for k in range(int(3600 / dt)):
        g1, l1 = fl(yy); yy = m.run(yy, dt); g2, l2 = fl(yy); G += 0.5 * (g1 + g2) * dt; L += 0.5 * (l1 + l2) * dt
    act = lambda y: y[ix["Slot"]] + y[ix["Rs"]] + y[ix["RsP"]] + y[ix["Rs8"]]
    print(f"{name:8s} late={late:d} W {100*(W(m,yy)/W(m,y0)-1):+6.1f}% | end of stim: pT286 {y[ix['PM4']]+y[ix['P']]:6.1f} KM4 {y[ix['KM4']]:5.2f} PP1 {y[ix['PP1']]:5.1f} Z3 {y[ix['Z3']]:5.2f} active slots {act(y0):.1f}->{act(y):.1f} | follow-up slot gain {G:5.1f} loss {L:5.1f} -> active {act(yy):.1f}", flush=True)
for late in (False, True):
    for n in sys.argv[1:] or ["pair-50", "pair0", "HFS", "50Hz", "1Hz"]:
        diag(NEW, n, late)
