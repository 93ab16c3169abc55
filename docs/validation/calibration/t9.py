from t8 import run, cp
for G0, k in [(130, 2e5), (125, 3e5), (130, 3e5)]:
    run(f"G0 {G0} kcp {k:.0e}", cp(G0, k), freqs=(1.0, 50.0), apv=True)
