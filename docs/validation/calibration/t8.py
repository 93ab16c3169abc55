from calib import *
import time, sys
def cp(G0, kcp):  # kcp = Ca ions/s per pS845 synaptic AMPAR while glutamate is in the cleft
    return dict(G0=G0, extra=[("CP", ["RsP"], ["RsP", "Ca"], kcp / G0, "glu")])
def run(label, over, freqs=(1.0,), s845a=True, apv=False):
    t0=time.time(); out=label
    m = model(over); yc = rest(m)
    for f in freqs:
        r = freq_change(m, yc, f, burn=0, sham=False); out += f" | {f:g}Hz {r['ch60']:+.1f}"
    if s845a:
        ms = model(dict(over, k_pka_845=0.0)); ys = s845a_init(ms, yc)
        r = freq_change(ms, ys, 1.0, burn=600); out += f" | S845A 1Hz {r['ch60']:+.1f} (sham {r['sham']:+.1f})"
    if apv:
        ma = model(over, "APV"); ya = rest(ma)
        r = freq_change(ma, ya, 1.0, burn=0, sham=False); out += f" | APV 1Hz {r['ch60']:+.1f}"
    print(out + f" [{time.time()-t0:.0f}s]", flush=True)
if __name__ == "__main__":
  for G0, k in [(150, 0), (120, 0), (110, 0), (110, 2e5), (110, 4e5), (120, 2e5)]:
    run(f"G0 {G0} kcp {k:.0e}", cp(G0, k), s845a=(k > 0), apv=(k > 0))
