from evalset import *
F = cyc(0.25, 5, 0.05)
print(F)
evaluate("final V8 set q0.05 c39x5", F, freqs=(1.0, 10.0, 50.0))
m = model(F); y = rest(m); print("rest counts:", {n: round(float(y[m.ix[n]]),1) for n in "Rs RsP Re ReP Rpit Ri RiP Slot SlotI".split()})
