# V3 (FK506 / okadaic acid at 1 and 100 Hz), V8 (chem-LTD), rest state, for a parameter set given as t_scan3 multipliers km:ck:cz:csz
# FK506: CaN-catalysed reactions 0; okadaic acid approximated as PP1 = 0 (as in reference/modelB_meanfield.py);
# both applied to the control rest state 30 min before the train, change vs the time-matched sham of the same variant.
from proto import *
from t_scan3 import over
import proto, sys, time
late = sys.argv[1] == "late"; proto.LATE = late
for x in sys.argv[2:]:
    t0 = time.time()
    mult, _, extra = x.partition("@")
    o = OLD if x == "OLD" else NEW if x == "NEW" else over(*map(float, mult.split(":")))
    o = dict(o, **{k: float(v) for k, v in (e.split("=") for e in filter(None, extra.split(",")))})
    mc = model(o); yc = rest(mc); ix = mc.ix
    line = f"{'late' if late else 'std'} {x}: rest W {W(mc,yc):.1f} Ca {1e3*yc[ix['Ca']]/NPM:.1f} nM PP1 {yc[ix['PP1']]:.2f} Z3 {yc[ix['Z3']]:.3f} surf {surface(mc,yc):.1f} int {internal(mc,yc):.1f}"
    r = chem_ltd(mc, yc, G=1.0)
    line += f" | V8: {r['frac']:.1f} % half {r['half_min']:.1f} min W60 {r['W60']:+.1f} %"
    res = {}
    for var in ("control", "FK506", "PP1=0"):
        m = model(o, "FK506" if var == "FK506" else "control")
        y0 = yc.copy()
        if var == "PP1=0":
            for n in ("PP1", "PP1pI1", "PP1P"): y0[ix[n]] = 0.0
        if var != "control": y0 = m.run(y0, 1800.0)
        for f, nm in ((1.0, "1Hz"), (100.0, "100Hz")):
            kw = PROTOS[nm](); y = stim(m, y0, **kw); y = m.run(y, 3600.0)
            ws = W(m, m.run(y0, 900 / f + 1 + 3600.0))
            res[(var, nm)] = 100 * (W(m, y) / ws - 1)
    line += " | " + " ".join(f"{v} {n} {c:+.1f}" for (v, n), c in res.items())
    print(line + f" [{time.time()-t0:.0f}s]", flush=True)
