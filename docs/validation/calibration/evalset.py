from calib import *
import sys, json, time
def cyc(s, c39m=1.0, q=None, **kw):
    q = s if q is None else q
    d = dict(k38a=0.005*s, k38b=0.0025*s, k42a=0.0017*s, k42b=0.005*s, k40=0.025*q, k41=0.01*q, c39=1.66e-4*c39m)
    d.update(kw); return d
def evaluate(label, over, G=1.0, dur=180.0, freqs=(1.0, 50.0)):
    t0=time.time()
    m = model(over); y0 = rest(m)
    r = chem_ltd(m, y0, G=G, dur=dur)
    out = f"{label:28s} rest W {W(m,y0):5.1f} surf {surface(m,y0):5.1f} int {internal(m,y0):4.1f} Rpit {y0[m.ix['Rpit']]:4.1f} | chem G{G} {dur:.0f}s: frac {r['frac']:5.1f}% half {r['half_min'] if r['half_min'] is None else round(r['half_min'],1)} min, peak {r['int_peak']:.0f}@{r['t_peak']:.1f}min, W60 {r['W60']:+.1f}%, rec60 {r['rec60']:.0f}%"
    for f in freqs:
        fr = freq_change(m, y0, f, burn=0, sham=False)
        out += f" | {f:g} Hz {fr['ch60']:+.1f} (end {fr['end']:+.1f})"
    print(out + f" [{time.time()-t0:.0f}s]", flush=True)
if __name__ == "__main__":
    evaluate("reference (TOML)", {}, G=30.0)
    evaluate("G_bath 1 only", {}, G=1.0, freqs=())
    for s in (1/3, 1/4):
        for c in (2, 4):
            evaluate(f"cycle x{s:.2f} c39x{c}", cyc(s, c), freqs=(1.0,50.0))
