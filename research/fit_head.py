"""Fits the default pack's linear AGQG head (ridge ability + GRM link) in numpy and
writes packs/default/head.json (HeadParams, src/model/head.ts) and head.report.json.

Features: the pack's own feature cache written by `agqg train` (.cache/features/<key>/image.f32 +
index.json, i.e. exactly what the pack's backbone computes), labels from AGIQA-3K.
  python3 research/fit_head.py CACHE_DIR LAMBDA [--seed 1]
Ridge: theta = z . w + b on population-standardised features z; penalty LAMBDA * F (F = feature count,
the mean squared row norm of z, as agqg train scales it). GRM (a, b1, d): least squares of
toMos(E[grade]) against MOS, parameterised so that a*d >= ln 3 (K = 5, src/model/grm.ts).
CV: prompt-grouped 5 folds, everything (standardisation, ridge, GRM) refitted in each fold.
"""
import json
import math
import os
import sys

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import least_squares
from scipy.stats import kendalltau

from probe import grouped_folds, load_labels, plcc, srcc, within

K = 5
MOS = {'min': 0.0, 'max': 5.0}
BOUND = math.log(K - 2)  # minDiscriminationSpacing(5) = ln 3


def softplus(x):
    return np.logaddexp(0, x)


def grm_from_raw(r):
    d = softplus(r[2]) + 1e-9
    a = BOUND / d + softplus(r[0])
    return a, r[1], d


def expected_mos(theta, a, b1, d):
    b = b1 + d * np.arange(K - 1)
    c = 1 / (1 + np.exp(-a * (theta[:, None] - b[None, :])))
    e = 1 + c.sum(1)
    return MOS['min'] + (e - 1) / (K - 1) * (MOS['max'] - MOS['min'])


def fit_grm(theta, mos):
    # Start: theta is already on the MOS scale (ridge on MOS), so grade g ~ 1 + 4 theta/5;
    # thresholds where the line crosses k + 1/2; a*d at twice the bound.
    unit = (MOS['max'] - MOS['min']) / (K - 1)
    d0 = unit
    b10 = MOS['min'] + 0.5 * unit
    a0 = 2 * BOUND / d0
    r0 = np.array([np.log(np.expm1(a0 - BOUND / d0)), b10, np.log(np.expm1(d0))])
    res = least_squares(lambda r: expected_mos(theta, *grm_from_raw(r)) - mos, r0, method='lm', max_nfev=2000)
    return grm_from_raw(res.x)


def standardise_params(X):
    m = X.mean(0)
    s = X.std(0)
    s[s <= 1e-12] = 1.0  # constant feature: any positive std, its weight is then irrelevant
    return m, s


def fit(X, y, lam):
    m, s = standardise_params(X)
    Z = (X - m) / s
    F = Z.shape[1]
    ym = y.mean()
    G = Z @ Z.T
    alpha = cho_solve(cho_factor(G + lam * F * np.eye(len(y))), y - ym)
    w = Z.T @ alpha
    theta = Z @ w + ym
    a, b1, d = fit_grm(theta, y)
    return m, s, w, ym, (a, b1, d)


def predict(params, X):
    m, s, w, b, grm = params
    theta = ((X - m) / s) @ w + b
    return theta, expected_mos(theta, *grm)


def main():
    cache, lam = sys.argv[1], float(sys.argv[2])
    seed = int(sys.argv[sys.argv.index('--seed') + 1]) if '--seed' in sys.argv else 1
    index = json.load(open(os.path.join(cache, 'index.json')))
    names, prompts, gens, settings, mos = load_labels()
    assert index['names'] == names, 'feature cache rows are not in labels.csv order'
    F = index['imageDim']
    X = np.fromfile(os.path.join(cache, 'image.f32'), dtype=np.float32).reshape(len(names), F).astype(np.float64)

    folds = grouped_folds(prompts, 5, seed)
    oof = np.zeros(len(mos))
    for f in range(5):
        tr, te = folds != f, folds == f
        p = fit(X[tr], mos[tr], lam)
        oof[te] = predict(p, X[te])[1]
    cv = {
        'n': len(mos),
        'srcc': srcc(oof, mos),
        'plcc': plcc(oof, mos),
        'krcc': float(kendalltau(oof, mos).statistic),
        'rmse': float(np.sqrt(np.mean((oof - mos) ** 2))),
        'meanGeneratorSrcc': within(oof, mos, gens)[0],
        'meanSettingSrcc': within(oof, mos, settings)[0],
        'foldSrcc': [srcc(oof[folds == f], mos[folds == f]) for f in range(5)],
        'generatorSrcc': {g: srcc(oof[gens == g], mos[gens == g]) for g in sorted(set(gens))},
    }
    print(json.dumps(cv, indent=1))

    m, s, w, b, (a, b1, d) = fit(X, mos, lam)
    head = {
        'format': 'agqg-head', 'version': 1, 'kind': 'linear', 'input': {'type': 'image'}, 'inputDim': F,
        'mean': [float(np.float32(v)) for v in m], 'std': [float(np.float32(v)) for v in s],
        'weights': [float(np.float32(v)) for v in w], 'bias': float(b),
        'grm': {'a': float(a), 'b1': float(b1), 'd': float(d)}, 'K': K, 'mos': MOS,
    }
    assert a * d >= BOUND
    out = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'packs', 'default')
    with open(os.path.join(out, 'head.json'), 'w') as fh:
        json.dump(head, fh, separators=(',', ':'))
        fh.write('\n')
    report = {
        'metrics': {
            'dataset': 'agiqa-3k', 'target': 'mos_quality',
            'protocol': '5-fold prompt-grouped cross-validation (numpy fold split, seed %d); standardisation, ridge and GRM refitted per fold' % seed,
            **{k: cv[k] for k in ('n', 'srcc', 'plcc', 'krcc', 'rmse', 'meanGeneratorSrcc', 'meanSettingSrcc', 'foldSrcc')},
        },
        'training': {
            'fit': 'research/fit_head.py',
            'head': 'linear: ridge ability on standardised features, GRM link by least squares on MOS',
            'lambda': lam, 'lambdaScale': 'times the feature count (mean squared standardised row norm)',
            'lambdaChosenBy': 'agqg train prompt-grouped CV (seed 1) over decades refined by half decades: 0.316 best for ridge',
            'featureCacheKey': index['key'], 'images': len(mos), 'prompts': len(set(prompts)),
        },
    }
    with open(os.path.join(out, 'head.report.json'), 'w') as fh:
        json.dump(report, fh, indent=2)
        fh.write('\n')
    print('GRM a=%.4f b1=%.4f d=%.4f a*d=%.4f' % (a, b1, d, a * d))


if __name__ == '__main__':
    main()
