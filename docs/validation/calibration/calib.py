"""Mean-field tests of calibration proposals for V8 / V9 S845A / V2 BAPTA (spine_bidirectional.toml)."""
import copy, math, sys, json
import numpy as np
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import mf
from mf import Model, NPM, j_of_v, rest_state, train

BASE = copy.deepcopy(mf.P)
# TOML mapping: PKA pool 70x, per-molecule rates /70 (same mean field)
BASE.update(pka_basal=0.08372, k_ac=7e-3, k_pka_i1=1.0, k_pka_845=0.011429)

def model(over=None, variant="control"):
    p = copy.deepcopy(BASE)
    if over: p.update(over)
    mf.P.clear(); mf.P.update(p)   # train() reads model.p, fine
    return Model(p, variant)

def ix(m, *names):
    return [m.ix[n] for n in names]

def W(m, y): return m.W(y)

def internal(m, y): return y[m.ix["Ri"]] + y[m.ix["RiP"]]
def surface(m, y): return sum(y[m.ix[n]] for n in ("Rs", "RsP", "Rs8", "Re", "ReP"))

def rest(m):
    return rest_state(m)

def s845a_init(m, y):
    y = y.copy()
    for a, b in (("Rs", "RsP"), ("Re", "ReP"), ("Ri", "RiP")):
        y[m.ix[a]] += y[m.ix[b]]; y[m.ix[b]] = 0.0
    return y

def bapta_init(m, y, mM=0.1):
    y = y.copy()
    tot = mM * 1000 * NPM
    ca = y[m.ix["Ca"]] / NPM
    kd = m.p.get("bapta_koff", 80.0) / m.p.get("bapta_kon", 400.0)
    bound = tot * ca / (ca + kd)
    y[m.ix["BAPTA"]] = tot - bound; y[m.ix["CaBAPTA"]] = bound
    return y

def freq_change(m, y0, f, npulse=900, burn=600.0, sham=True, info=False):
    """W change 60 min after the train vs the time-matched sham (both from y0 after `burn`)."""
    yb = m.run(y0, burn) if burn > 0 else y0
    wb = W(m, yb)
    rec = []
    y = train(m, yb, f, npulse, record=rec)
    wend = W(m, y)
    y60 = m.run(y, 3600.0)
    dur = npulse / f
    if sham:
        ys = m.run(yb, dur + 3600.0)
        ws = W(m, ys)
    else:
        ws = wb
    out = dict(f=f, W0=wb, end=100 * (wend / wb - 1), ch60=100 * (W(m, y60) / ws - 1),
               sham=100 * (ws / wb - 1))
    if info:
        a = np.array(rec)
        out["PP1_mean"] = a[:, m.ix["PP1"]].mean(); out["Z3_mean"] = a[:, m.ix["Z3"]].mean()
        out["CNM4_mean"] = a[:, m.ix["CNM4"]].mean()
        out["RsP_end"] = y[m.ix["RsP"]]; out["RsP0"] = yb[m.ix["RsP"]]
        out["slots60"] = sum(y60[m.ix[n]] for n in ("Slot", "Rs", "RsP", "Rs8"))
        out["slots0"] = sum(yb[m.ix[n]] for n in ("Slot", "Rs", "RsP", "Rs8"))
    return out

def chem_ltd(m, y0, G=30.0, dur=180.0, follow=3600.0, dt=10.0, V=-65.0, clampCa=None):
    """NMDA bath: glutamate-equivalent G on A1/A3 at V for dur; returns trajectories every dt."""
    jv = j_of_v(V)
    t, y = 0.0, y0.copy()
    T, I, S, Wt, Ca, CN, PM = [0.0], [internal(m, y)], [surface(m, y)], [W(m, y)], [y[m.ix["Ca"]]], [y[m.ix["CNM4"]]], [0.0]
    while t < dur + follow - 1e-9:
        on = t < dur - 1e-9
        y = m.run(y, dt, g=G if on else 0.0, jv=jv)
        t += dt
        T.append(t); I.append(internal(m, y)); S.append(surface(m, y)); Wt.append(W(m, y))
        Ca.append(y[m.ix["Ca"]]); CN.append(y[m.ix["CNM4"]]); PM.append(y[m.ix["PM4"]] + y[m.ix["P"]])
    T, I, S, Wt = map(np.array, (T, I, S, Wt))
    i0, s0, w0 = I[0], S[0], Wt[0]
    sel = (T >= 600) & (T <= 900)
    plateau = I[sel].mean() - i0
    frac = 100 * plateau / s0
    half = None
    if plateau > 0:
        k = np.argmax(I - i0 >= plateau / 2)
        half = T[k] / 60
    return dict(G=G, frac=frac, half_min=half, int_peak=I.max() - i0, t_peak=T[I.argmax()] / 60,
                Ca_bath_uM=np.array(Ca)[1:int(dur / dt)].mean() / NPM, CNM4_bath=np.array(CN)[1:int(dur / dt)].mean(),
                pT286_peak=max(PM), W60=100 * (Wt[-1] / w0 - 1),
                int_at={int(tt): round(float(ii - i0), 1) for tt, ii in zip(T, I) if tt in (60, 120, 180, 300, 600, 900, 1800, 3600)},
                rec60=(100 * (1 - (I[T >= dur + 3600 - 1][0] - i0) / max(I.max() - i0, 1e-9))))
