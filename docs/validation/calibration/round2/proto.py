"""Mean-field versions of the TOML protocols (any pulse times, clamp, bAP) on top of ../calib.py.
OLD = model d5647d1 (calib BASE), NEW = b364a5a (cycle x1/4, A40/A41 x1/20, A39 x5)."""
import os, sys, math, time
os.environ.setdefault("OMP_NUM_THREADS", "1"); os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from calib import *          # noqa: model, rest, W, chem_ltd, surface, internal, BASE
import mf
from mf import j_of_v, EDGES

def cyc(s, c39m=1.0, q=None, **kw):
    q = s if q is None else q
    d = dict(k38a=0.005*s, k38b=0.0025*s, k42a=0.0017*s, k42b=0.005*s, k40=0.025*q, k41=0.01*q, c39=1.66e-4*c39m)
    d.update(kw); return d
OLD = {}
NEW = cyc(0.25, 5, 0.05)

LATE = False   # True: mix release / no release at the end of each inter-pulse interval (see findings)

def stim(m, y, times, clamp=None, bap=None, bap_w=0.002, bap_v=75.0, late=None):
    late = LATE if late is None else late
    """Pulses at `times` (s, sorted, relative). clamp: V (mV) for the whole stimulus (None = drive).
    bap: offset (s) of a +bap_v mV, 2 ms bAP relative to each pulse (may be negative)."""
    p = m.p
    R, gsyn, gslow = 1.0, 0.0, 0.0
    ev = sorted(times)
    # build list of bAP windows
    baps = [(t + bap, t + bap + bap_w) for t in ev] if bap is not None else []
    tnow = ev[0] if bap is None or bap >= 0 else ev[0] + bap
    # integrate pre-first-pulse part if bAP precedes
    def vdrive(gg):
        return p["V_rest"] + (p["E_syn"] - p["V_rest"]) * gg / (1.0 + gg)
    def seg(y, a, b, g, gs_at, gl_at, t_ref):
        # a,b absolute; V evaluated at mid (max 50 ms into the segment); bAP adds if mid inside a window
        tm = 0.5 * (a + b) if b - a < 0.2 else a + 0.05
        gg = gs_at * math.exp(-(tm - t_ref) / p["tau_epsp"]) + gl_at * math.exp(-(tm - t_ref) / p["tau_slow"])
        v = clamp if clamp is not None else vdrive(gg)
        for (ba, bb) in baps:
            if ba <= tm < bb: v += bap_v
        return m.run(y, b - a, g=g, jv=j_of_v(v))
    if baps and baps[0][0] < ev[0]:
        # bAP before the first pulse: rest -> bAP -> pulse
        y = seg(y, baps[0][0], baps[0][1], 0.0, 0, 0, baps[0][0])
        y = m.run(y, ev[0] - baps[0][1], g=0.0, jv=j_of_v(clamp if clamp is not None else p["V_rest"]))
    for k, t0 in enumerate(ev):
        pr = p["U"] * R
        gsyn += p["g_epsp"]; gslow += p["g_slow"]
        tnext = ev[k + 1] if k + 1 < len(ev) else t0 + max(1.0 / 1.0, 0.2) if False else (ev[k + 1] if k + 1 < len(ev) else t0 + 1.0)
        edges = sorted(set([t0 + e for e in EDGES if t0 + e < tnext] + [tnext] +
                           [x for w in baps for x in w if t0 < x < tnext]))
        if late:
            y1, y0 = y, y
            for a, b in zip(edges[:-1], edges[1:]):
                y1 = seg(y1, a, b, p["G0"] if a == t0 else 0.0, gsyn, gslow, t0)
                y0 = seg(y0, a, b, 0.0, gsyn, gslow, t0)
            y = pr * y1 + (1.0 - pr) * y0
        else:
          for a, b in zip(edges[:-1], edges[1:]):
            if a == t0:
                y1 = seg(y, a, b, p["G0"], gsyn, gslow, t0)
                y0 = seg(y, a, b, 0.0, gsyn, gslow, t0)
                y = pr * y1 + (1.0 - pr) * y0
            else:
                y = seg(y, a, b, 0.0, gsyn, gslow, t0)
        dt = tnext - t0
        gsyn *= math.exp(-dt / p["tau_epsp"]); gslow *= math.exp(-dt / p["tau_slow"])
        R = R * (1.0 - p["U"]); R = 1.0 - (1.0 - R) * math.exp(-dt / p["tau_rec"])
    return y

def train_times(f, n, t0=0.0): return [t0 + k / f for k in range(n)]
PROTOS = {
    "0.5Hz": lambda: dict(times=train_times(0.5, 900)),
    "1Hz": lambda: dict(times=train_times(1.0, 900)),
    "3Hz": lambda: dict(times=train_times(3.0, 900)),
    "5Hz": lambda: dict(times=train_times(5.0, 900)),
    "10Hz": lambda: dict(times=train_times(10.0, 900)),
    "20Hz": lambda: dict(times=train_times(20.0, 900)),
    "50Hz": lambda: dict(times=train_times(50.0, 900)),
    "100Hz": lambda: dict(times=train_times(100.0, 900)),
    "HFS": lambda: dict(times=train_times(100.0, 100)),
    "4xHFS": lambda: dict(times=sum([train_times(100.0, 100, 20.0 * i) for i in range(4)], [])),
    "TBS": lambda: dict(times=sorted(sum([train_times(5.0, 10, 0.01 * i) for i in range(4)], []))),
    "pair-65": lambda: dict(times=train_times(1.0, 100), clamp=-65.0),
    "pair-50": lambda: dict(times=train_times(1.0, 100), clamp=-50.0),
    "pair-40": lambda: dict(times=train_times(1.0, 100), clamp=-40.0),
    "pair-20": lambda: dict(times=train_times(1.0, 100), clamp=-20.0),
    "pair0": lambda: dict(times=train_times(1.0, 100), clamp=0.0),
    "STDP+10": lambda: dict(times=train_times(1.0, 100), bap=0.010),
    "STDP-10": lambda: dict(times=train_times(1.0, 100), bap=-0.010),
}

def change(m, y0, name, follow=3600.0, variant_sham=None):
    """% W change at last pulse + 1 s + follow vs rest (mean-field sham = rest, no drift)."""
    kw = PROTOS[name]()
    y = stim(m, y0, **kw)
    y = m.run(y, follow)
    return 100 * (W(m, y) / W(m, y0) - 1)

def evaluate(over, names, label="", variant="control", y0=None, late=None):
    global LATE
    if late is not None: LATE = late
    m = model(over, variant); y0 = rest(m) if y0 is None else y0
    out = {}
    for n in names:
        out[n] = change(m, y0, n)
    print(f"{label:24s} W0 {W(m,y0):5.1f} " + " ".join(f"{n} {v:+.1f}" for n, v in out.items()), flush=True)
    return out
