"""Feature probes for the default pack (numpy only).

Reads the dumps of research/dump-features.ts (.cache/features/s<size>_<view>.f32
+ .json) and AGIQA-3K labels; evaluates ridge-type heads with prompt-grouped
5-fold CV: SRCC, PLCC (Pearson), mean within-generator SRCC (6 generators) and
within-setting SRCC (10 settings).
"""
import csv
import json
import os
import sys

import numpy as np
from scipy.linalg import cho_factor, cho_solve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FEAT = os.path.join(ROOT, '.cache', 'features')
DATA = os.path.join(ROOT, '..', 'shared', 'datasets', 'agiqa-3k')


def load_labels():
    with open(os.path.join(DATA, 'labels.csv'), newline='') as f:
        rows = list(csv.DictReader(f))
    names = [r['name'] for r in rows]
    prompts = np.array([r['prompt'] for r in rows])
    gens = np.array([n.split('_')[0] for n in names])
    settings = np.array(['_'.join(n.split('_')[:-1]) for n in names])
    mos = np.array([float(r['mos_quality']) for r in rows])
    return names, prompts, gens, settings, mos


def load_view(tag, blocks=None, stats=('mean', 'std')):
    """Feature matrix of one dump; blocks = list of substrings selecting blocks (None = all)."""
    meta = json.load(open(os.path.join(FEAT, tag + '.json')))
    X = np.fromfile(os.path.join(FEAT, tag + '.f32'), dtype=np.float32).reshape(len(meta['names']), meta['featureDim'])
    cols = []
    for s in meta['segments']:
        if s['stat'] not in stats:
            continue
        if blocks is not None and not any(b == short(s['block']) for b in blocks):
            continue
        cols.extend(range(s['offset'], s['offset'] + s['length']))
    return X[:, cols].astype(np.float64), meta


def short(block):
    """'MobilenetV2/expanded_conv_12/add' -> 'ec12'; Conv -> 'c0'; Conv_1 -> 'c1'."""
    p = block.split('/')[1]
    if p == 'Conv':
        return 'c0'
    if p == 'Conv_1':
        return 'c1'
    if p == 'expanded_conv':
        return 'ec0'
    if block.endswith('/expand/Relu6'):
        return 'x' + p.split('_')[-1]
    return 'ec' + p.split('_')[-1]


DEFAULT6 = ['ec0', 'ec2', 'ec5', 'ec12', 'ec16', 'c1']


def rankdata(x):
    order = np.argsort(x, kind='mergesort')
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    # average ties
    xs = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and xs[j + 1] == xs[i]:
            j += 1
        if j > i:
            r[order[i:j + 1]] = (i + j) / 2
        i = j + 1
    return r


def srcc(a, b):
    return np.corrcoef(rankdata(a), rankdata(b))[0, 1]


def plcc(a, b):
    return np.corrcoef(a, b)[0, 1]


def grouped_folds(prompts, k=5, seed=0):
    uniq = np.array(sorted(set(prompts)))
    rng = np.random.default_rng(seed)
    rng.shuffle(uniq)
    fold_of = {p: i % k for i, p in enumerate(uniq)}
    return np.array([fold_of[p] for p in prompts])


def within(pred, mos, groups):
    vals = [srcc(pred[groups == g], mos[groups == g]) for g in sorted(set(groups))]
    return float(np.mean(vals)), vals


def metrics(pred, mos, gens, settings):
    return {
        'srcc': srcc(pred, mos),
        'plcc': plcc(pred, mos),
        'wgen': within(pred, mos, gens)[0],
        'wset': within(pred, mos, settings)[0],
    }


def standardize(X):
    """Label-free global standardisation (column mean 0, std 1)."""
    m = X.mean(0)
    s = X.std(0)
    s[s < 1e-8] = 1.0
    return (X - m) / s


def rbf_gram(Z, gamma):
    sq = (Z * Z).sum(1)
    return np.exp(-gamma * np.maximum(sq[:, None] + sq[None, :] - 2 * Z @ Z.T, 0))


def gram(X, kernel='linear', gamma_scale=1.0):
    """Kernel matrix of the standardised features, scaled so that lambda grids transfer across feature counts."""
    Z = standardize(X)
    F = Z.shape[1]
    if kernel == 'linear':
        return Z @ Z.T / F
    return rbf_gram(Z, gamma_scale / (2 * F))


def cv_predict_gram(K, mos, folds, lams):
    """Kernel ridge with an unpenalised intercept (kernel centred on the training fold), per lambda."""
    preds = {l: np.zeros(len(mos)) for l in lams}
    for f in np.unique(folds):
        tr, te = np.where(folds != f)[0], np.where(folds == f)[0]
        Ktr = K[np.ix_(tr, tr)]
        Kte = K[np.ix_(te, tr)]
        cm = Ktr.mean(0)
        mm = cm.mean()
        Kc = Ktr - cm[None, :] - cm[:, None] + mm
        Ktc = Kte - Kte.mean(1, keepdims=True) - cm[None, :] + mm
        ym = mos[tr].mean()
        yc = mos[tr] - ym
        n = len(tr)
        for l in lams:
            c = cho_factor(Kc + l * np.eye(n))
            preds[l][te] = Ktc @ cho_solve(c, yc) + ym
    return preds


def cv_predict(X, mos, folds, lams, kernel='linear', gamma_scale=1.0):
    return cv_predict_gram(gram(X, kernel, gamma_scale), mos, folds, lams)


LAMS = [0.01, 0.03, 0.1, 0.3, 1, 3]


def evaluate(X, labels, lams=LAMS, seeds=(0,), kernel='linear', gamma_scale=1.0, verbose=False, K=None):
    """Best lambda by mean CV SRCC over seeds; returns (lam, metrics averaged over seeds)."""
    names, prompts, gens, settings, mos = labels
    if K is None:
        K = gram(X, kernel, gamma_scale)
    per = {l: [] for l in lams}
    for seed in seeds:
        folds = grouped_folds(prompts, 5, seed)
        preds = cv_predict_gram(K, mos, folds, lams)
        for l in lams:
            per[l].append(metrics(preds[l], mos, gens, settings))
    avg = {l: {k: float(np.mean([m[k] for m in per[l]])) for k in per[l][0]} for l in lams}
    if verbose:
        for l in lams:
            print('   lam %-6g %s' % (l, fmt(avg[l])))
    best = max(lams, key=lambda l: avg[l]['srcc'])
    return best, avg[best]


def fmt(m):
    return 'SRCC %.4f PLCC %.4f wGen %.4f wSet %.4f' % (m['srcc'], m['plcc'], m['wgen'], m['wset'])


if __name__ == '__main__':
    labels = load_labels()
    for tag in sys.argv[1:]:
        X, _ = load_view(tag, DEFAULT6)
        lam, m = evaluate(X, labels)
        print(tag, 'lam', lam, fmt(m))
