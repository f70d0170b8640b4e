"""Single and paired views by size (cost ~ size^2), ALL blocks, sqrt(std)."""
import numpy as np
from probe import evaluate, fmt, load_labels
from probe_models import load

L = load_labels()
for spec in ['s256_full:ALL', 's320_full:ALL', 's384_full:ALL', 's224_full:ALL,s224_c:ALL', 's224_full:ALL,s384_full:ALL',
             's256_full:ALL,s224_c:ALL']:
    try:
        M = load(spec, 'sqrtstd')
    except FileNotFoundError:
        continue
    lam, m = evaluate(M, L)
    print('%-40s F=%-6d lam %-5g %s' % (spec, M.shape[1], lam, fmt(m)), flush=True)
