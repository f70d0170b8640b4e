"""Final candidates, 3 fold seeds."""
import sys
from probe import evaluate, fmt, load_labels
from probe_models import load

L = load_labels()
specs = sys.argv[1:] or ['s288_full:ALL', 's320_full:ALL', 's320_full_wide:WIDE']
for spec in specs:
    for t in ['none']:
        M = load(spec, t)
        lam, m = evaluate(M, L, seeds=(0, 1, 2), lams=[0.1, 0.2, 0.3, 0.5, 1, 2])
        print('%-28s %-8s F=%-6d lam %-5g %s' % (spec, t, M.shape[1], lam, fmt(m)), flush=True)
