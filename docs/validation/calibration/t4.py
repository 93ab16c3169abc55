from calib import *
def scaled(s, c39m, extra=None):
    d = dict(k38a=0.005*s, k38b=0.0025*s, k42a=0.0017*s, k42b=0.005*s, c39=1.66e-4*c39m)
    if extra: d.update(extra)
    return d
for s in (1/2, 1/3, 1/4):
    for c39m in (2, 4, 8):
        m = model(scaled(s, c39m)); y0 = rest(m)
        for G in (1.0,):
            r = chem_ltd(m, y0, G=G)
            print(f"s {s:.2f} c39x{c39m} | rest W {W(m,y0):.1f} surf {surface(m,y0):.1f} int {internal(m,y0):.1f} | G {G}: frac {r['frac']:.1f}% half {r['half_min']} peak {r['int_peak']:.1f}@{r['t_peak']:.1f} W60 {r['W60']:.1f} rec60 {r['rec60']:.0f}% {r['int_at']}", flush=True)
