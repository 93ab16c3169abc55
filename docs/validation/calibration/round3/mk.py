"""Build candidate models from the model before round 3 (`git show 4603239:models/spine_bidirectional.toml > pre3.toml`,
in the working folder): python3 mk.py NAME k2 [B21a_factor] [k_refill] [B21c_factor] [r] writes NAME.toml there."""
import re, sys
name, k2 = sys.argv[1], float(sys.argv[2])
fa = float(sys.argv[3]) if len(sys.argv) > 3 else 1.0
refill = sys.argv[4] if len(sys.argv) > 4 else None
fc = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
r = float(sys.argv[6]) if len(sys.argv) > 6 else 10.0
NAV = 60.2214
s = open('pre3.toml').read()
# a = b per pair, a*b/r = k2 (per molecule^2 per s)
a = (k2 * r) ** 0.5
s = s.replace('''[[species]]
name = "Ng"''', '''[[species]]
name = "SlotIp"
initial = 0
description = "inactive PSD slot primed by one CaMKII phosphorylation"
source = "[E] new"

[[species]]
name = "Ng"''')
s = s.replace('expr = "Slot + SlotI + Rs + RsP + Rs8"', 'expr = "Slot + SlotI + SlotIp + Rs + RsP + Rs8"')
s = s.replace('''[[reactions]]
name = "B19a"''', f'''[[reactions]]
name = "B22a"
equation = "SlotI + KM4 -> SlotIp + KM4"
rate = "{a*NAV:.6g}[uM^-1 s^-1] * CaMKII_activity"
source = "[E] first hit"

[[reactions]]
name = "B22b"
equation = "SlotIp -> SlotI"
rate = "{r:g} s^-1"
source = "[E] priming lost"

[[reactions]]
name = "B22c"
equation = "SlotIp + KM4 -> Slot + KM4"
rate = "{a*NAV:.6g}[uM^-1 s^-1] * CaMKII_activity"
source = "[E] second hit"

[[reactions]]
name = "B19a"''')
def scale(rx, f):
    global s
    m = re.search(r'name = "%s"\nequation = "[^"]*"\nrate = "([0-9.e-]+)' % rx, s)
    v = float(m.group(1)); s = s[:m.start(1)] + f"{v*f:.6g}" + s[m.end(1):]
if fa != 1.0: scale("B21a", fa); scale("B21b", fa)
if fc != 1.0: scale("B21c", fc)
if refill: s = s.replace('value = "5 s^-1"\nsource = "[E] vesicle refill', f'value = "{refill} s^-1"\nsource = "[E] vesicle refill')
open(f'{name}.toml', 'w').write(s)
