from calib import *
import itertools
rows=[]
for k42b, k42a, c39m in [(0.005,0.0017,1),(0.0017,0.0017,1),(0.001,0.0017,1),(0.001,0.001,1),(0.0017,0.0017,3),(0.001,0.001,3),(0.005,0.0017,4)]:
    m = model(dict(k42b=k42b, k42a=k42a, c39=1.66e-4*c39m)); y0 = rest(m)
    for G in (1.0, 1.5, 2.0):
        r = chem_ltd(m, y0, G=G)
        print(f"k42b {k42b} k42a {k42a} c39x{c39m} | rest W {W(m,y0):.1f} surf {surface(m,y0):.1f} int {internal(m,y0):.1f} | G {G}: Ca {r['Ca_bath_uM']:.2f} uM frac {r['frac']:.1f}% half {r['half_min']} peak {r['int_peak']:.1f} W60 {r['W60']:.1f} pT286pk {r['pT286_peak']:.1f} rec60 {r['rec60']:.0f}% {r['int_at']}", flush=True)
