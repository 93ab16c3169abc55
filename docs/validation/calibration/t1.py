from calib import *
m = model(); y0 = rest(m)
print("rest: W %.1f PP1 %.2f PKAc %.1f RsP %.1f surf %.1f int %.1f Ca %.2f" % (W(m,y0), y0[m.ix['PP1']], y0[m.ix['PKAc']], y0[m.ix['RsP']], surface(m,y0), internal(m,y0), y0[m.ix['Ca']]))
for G in (30, 10, 3, 1):
    r = chem_ltd(m, y0, G=G); print(r)
