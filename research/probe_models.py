"""Feature transforms, kernels and stacking on a fixed view/block set.
Usage: python3 probe_models.py VIEWSPEC [sections]; VIEWSPEC e.g. 's224_full:UP12,s224_c:UP12'."""
import sys
import numpy as np
from probe import (DEFAULT6, LAMS, cv_predict_gram, evaluate, fmt, gram, grouped_folds, load_labels, load_view, metrics,
                   standardize)
from probe_blocks import ALL, STAGE_ENDS12, UP12, UP5

L = load_labels()
names, prompts, gens, settings, mos = L
EXP = ['x%d' % i for i in range(1, 17)]
SETS = {'DEFAULT6': DEFAULT6, 'UP12': UP12, 'UP5': UP5, 'ALL': ALL, 'ENDS12': STAGE_ENDS12, 'EXP': EXP, 'WIDE': ALL + EXP,
        'EXP11': EXP[10:], 'ALLX11': ALL + EXP[10:]}


def load(spec, transform='none'):
    parts = []
    for item in spec.split(','):
        tag, bs = item.split(':')
        meta_blocks = SETS[bs]
        Xm = load_view(tag, meta_blocks, ('mean',))[0]
        Xs = load_view(tag, meta_blocks, ('std',))[0]
        if transform == 'sqrt':
            Xs = np.sqrt(Xs)
            Xm = np.sign(Xm) * np.sqrt(np.abs(Xm))
        elif transform == 'logstd':
            Xs = np.log(Xs + 1e-3)
        elif transform == 'sqrtstd':
            Xs = np.sqrt(Xs)
        parts += [Xm, Xs]
    return np.hstack(parts)


def report(name, M=None, K=None, lams=LAMS):
    lam, m = evaluate(M, L, lams=lams, K=K)
    print('%-52s lam %-6g %s' % (name, lam, fmt(m)), flush=True)
    return lam, m


def main():
    spec = sys.argv[1]
    secs = sys.argv[2:] or ['transforms']
    if 'transforms' in secs:
        for t in ['none', 'sqrtstd', 'logstd', 'sqrt']:
            report('%s transform=%s' % (spec, t), load(spec, t))
    if 'rbf' in secs:
        M = load(spec, 'sqrtstd')
        for g in [0.25, 0.5, 1, 2]:
            report('%s sqrtstd RBF gamma %.2f/F' % (spec, g), K=gram(M, 'rbf', g), lams=[0.003, 0.01, 0.03, 0.1, 0.3])
    if 'pca' in secs:
        M = standardize(load(spec, 'sqrtstd'))
        U, S, Vt = np.linalg.svd(M, full_matrices=False)
        for k in [128, 256, 512]:
            Z = U[:, :k]  # whitened principal components (label-free, global)
            report('%s sqrtstd PCA-whiten %d' % (spec, k), Z, lams=[0.1, 0.3, 1, 3, 10, 30])


if __name__ == '__main__':
    main()
