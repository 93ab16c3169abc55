from calib import *
import math
m = model(); yc = rest(m); p = m.p
def cycle_avg(y, npre=300, f=1.0):
    y = train(m, y, f, npre)
    # one more period with release prob of steady state (~0.4 at 1 Hz), drive accumulates ~0 at 1 Hz
    pr = 0.4; g0 = p["g_epsp"]; gs = p["g_slow"]
    ts = [0, 0.001] + list(np.linspace(0.002, 1.0, 400))
    y1 = m.run(y, 0.001, g=p["G0"], jv=j_of_v(-65 + 65*(g0+gs)/(1+g0+gs))); y0 = m.run(y, 0.001, g=0, jv=j_of_v(-65))
    y = pr*y1 + (1-pr)*y0
    acc = {"Ca":0, "CNM4":0, "KM4":0}; peak=0
    for a, b in zip(ts[1:-1], ts[2:]):
        tm = 0.5*(a+b); gg = g0*math.exp(-tm/0.05) + gs*math.exp(-tm/0.2)
        v = -65 + 65*gg/(1+gg)
        y = m.run(y, b-a, g=0, jv=j_of_v(v))
        for k in acc: acc[k] += y[m.ix[k]]*(b-a)
        peak = max(peak, y[m.ix["Ca"]])
    return {k: round(v/0.999 if k!="Ca" else v/0.999/NPM, 4) for k, v in acc.items()}, peak/NPM, y
for mM in (0.0, 0.1, 10.0):
    yb = bapta_init(m, yc, mM) if mM else yc
    a, pk, y = cycle_avg(yb)
    print(mM, "mM: cycle-avg", a, "peak Ca uM %.3f" % pk, "PP1 %.1f pI1 %.1f" % (y[m.ix['PP1']], y[m.ix['pI1']]))
