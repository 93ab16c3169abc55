# SSA ensembles (cached JSON): baseline W, W at 4200 s, final W and raw change per ensemble, new (ensembles/) and old (ensembles-d5647d1/); the 6000-s ones without W_change are the shams
import json,glob,numpy as np
import os
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..')
for dd in (os.path.join(ROOT, 'ensembles'), os.path.join(ROOT, 'ensembles-d5647d1')):
  print(dd)
  for f in sorted(glob.glob(dd+'/*.json')):
    d=json.load(open(f))
    if d['method']!='slow-scale': continue
    t=np.array(d['times']); s=dict((x[0],np.array(x[1])) for x in d['series'])
    W=s['W']; sel=(t>=300)&(t<=600)
    b=W[:,sel].mean(); fin=W[:,t>=t[-1]-60].mean()
    def at(T): return W[:,np.argmin(abs(t-T))].mean()
    S=s['AMPAR_surface']; I=s['AMPAR_internal']
    print(f.split('/')[-1][:8], int(t[-1]), 'W0 %.1f base %.1f W4200 %.1f final %.1f raw %+.1f'%(W[:,0].mean(),b,at(4200),fin,100*(fin/b-1)), '| surf %.1f->%.1f int %.1f->%.1f'%(S[:,0].mean(),S[:,sel].mean(),I[:,0].mean(),I[:,sel].mean()))
