"""Linear two-part heads: ability = ridge(generator-mean target) + ridge(within-generator residual), separate lambdas.
Both parts are linear in the standardised features, so the sum is one linear head.
Usage: python3 probe_stack.py VIEWSPEC [transform]"""
import sys
import numpy as np
from scipy.linalg import cho_factor, cho_solve
from probe import fmt, gram, grouped_folds, load_labels, metrics
from probe_models import load

L = load_labels()
names, prompts, gens, settings, mos = L
spec = sys.argv[1]
transform = sys.argv[2] if len(sys.argv) > 2 else 'none'
K = gram(load(spec, transform))
LG = [0.03, 0.1, 0.3, 1, 3]
LR = [0.1, 0.3, 1, 3, 10]
seeds = (0, 1)
res = {}
for seed in seeds:
    folds = grouped_folds(prompts, 5, seed)
    pg = {l: np.zeros(len(mos)) for l in LG}
    pr = {l: np.zeros(len(mos)) for l in LR}
    for f in range(5):
        tr, te = np.where(folds != f)[0], np.where(folds == f)[0]
        Ktr, Kte = K[np.ix_(tr, tr)], K[np.ix_(te, tr)]
        cm = Ktr.mean(0); mm = cm.mean()
        Kc = Ktr - cm[None] - cm[:, None] + mm
        Ktc = Kte - Kte.mean(1, keepdims=True) - cm[None] + mm
        gm = {g: mos[tr][gens[tr] == g].mean() for g in set(gens[tr])}
        yg = np.array([gm[g] for g in gens[tr]])
        yr = mos[tr] - yg
        for l in sorted(set(LG) | set(LR)):
            c = cho_factor(Kc + l * np.eye(len(tr)))
            if l in LG:
                pg[l][te] = Ktc @ cho_solve(c, yg - yg.mean()) + yg.mean()
            if l in LR:
                pr[l][te] = Ktc @ cho_solve(c, yr - yr.mean()) + yr.mean()
    for a in LG:
        for b in LR:
            res.setdefault((a, b), []).append(metrics(pg[a] + pr[b], mos, gens, settings))
    for a in LG:
        if a in LR:
            res.setdefault(('plain', a), []).append(metrics(pg[a] + pr[a], mos, gens, settings))
avg = {k: {m: np.mean([r[m] for r in v]) for m in v[0]} for k, v in res.items()}
for k in sorted(avg, key=lambda k: -avg[k]['srcc'])[:8]:
    print(spec, transform, 'lam_gen %s lam_resid %s' % k, fmt(avg[k]), flush=True)
best_w = max(avg, key=lambda k: avg[k]['wgen'])
print(spec, transform, 'best wGen: lam_gen %s lam_resid %s' % best_w, fmt(avg[best_w]))
