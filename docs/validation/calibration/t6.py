from evalset import *
for q in (0.1, 0.067, 0.05):
    for c in (3, 5):
        evaluate(f"s0.25 q{q:.3f} c39x{c}", cyc(0.25, c, q), freqs=())
for G in (0.75, 1.25, 1.5):
    evaluate(f"s0.25 q0.067 c39x3 G{G}", cyc(0.25, 3, 0.067), G=G, freqs=())
