from evalset import *
for s, q, c in [(1/4, 1/10, 2), (1/4, 1/10, 4), (1/4, 1/15, 3), (1/3, 1/10, 3), (1/5, 1/10, 3)]:
    evaluate(f"s{s:.2f} q{q:.3f} c39x{c}", cyc(s, c, q), freqs=())
for s, q, c in [(1/4, 1/4, 2), (1/4, 1/10, 2)]:
    evaluate(f"5min s{s:.2f} q{q:.3f} c39x{c}", cyc(s, c, q), dur=300.0, freqs=())
