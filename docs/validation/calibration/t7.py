from evalset import *
A = cyc(0.25, 3, 1/15)
evaluate("optA", A, freqs=(1.0, 10.0, 50.0))
evaluate("optB 300s", cyc(0.25, 3, 0.1), dur=300.0, freqs=(1.0, 10.0, 50.0))
# S845A in the reference/TOML mapping
for lab, over in [("TOML", {}), ("optA", A)]:
    m = model(over); yc = rest(m)
    r = freq_change(m, yc, 1.0, burn=600, info=True); print(lab, "control 1Hz", {k: round(float(v),2) for k,v in r.items()})
    ms = model(dict(over, k_pka_845=0.0)); ys = s845a_init(ms, yc)
    r = freq_change(ms, ys, 1.0, burn=600, info=True); print(lab, "S845A 1Hz", {k: round(float(v),2) for k,v in r.items()})
    yss = rest(ms); print(lab, "S845A true rest W %.1f (control %.1f)" % (W(ms, yss), W(m, yc)))
