from calib import *
m = model(dict(k42b=0.001, k42a=0.001, c39=1.66e-4*3)); y = rest(m)
names="Ca CNM4 PP1 PKAc Rs RsP Re ReP Rpit Ri RiP Slot SlotI Z3 PM4 P".split()
print("t   "+" ".join(f"{n:>6s}" for n in names))
t=0
jv=j_of_v(-65)
for step in [0]+[30]*6+[60]*2+[120]*6+[600]*4:
    if step: y=m.run(y, step, g=1.0 if t<180 else 0.0, jv=jv); t+=step
    print(f"{t:5d} "+" ".join(f"{y[m.ix[n]]:6.1f}" for n in names))
