"""Expansion-layer features (x1..x16) on top of ALL blocks, and small crops."""
import numpy as np
from probe import evaluate, fmt, load_labels
from probe_models import load

L = load_labels()
for spec in ['s224_full_wide:WIDE', 's224_full_wide:ALLX11', 's224_full_wide:WIDE,s224_c_wide:WIDE', 's320_full:ALL,s128_c:ALL',
             's320_full:ALL,s160_c:ALL']:
    M = load(spec, 'none')
    lam, m = evaluate(M, L)
    print('%-40s F=%-6d lam %-5g %s' % (spec, M.shape[1], lam, fmt(m)), flush=True)
