"""View / block / transform probes over the dumps (see probe.py). Usage: python3 research/probe_views.py [section...]"""
import os
import sys

import numpy as np

from probe import DEFAULT6, FEAT, evaluate, fmt, load_labels, load_view

L = load_labels()
SEEDS = (0,)


def have(tag):
    return os.path.exists(os.path.join(FEAT, tag + '.f32'))


def report(name, X, **kw):
    lam, m = evaluate(X, L, seeds=SEEDS, **kw)
    print('%-44s F=%-6d lam %-5g %s' % (name, X.shape[1], lam, fmt(m)), flush=True)
    return m


def views(tags, blocks=DEFAULT6, transform=None):
    out = []
    for t in tags:
        X, _ = load_view(t, blocks)
        out.append(transform(X, t, blocks) if transform else X)
    return out


def sections():
    return sys.argv[1:] or ['views']


if 'views' in sections():
    for t in ['s224_full', 's224_c', 's384_full', 's512_full']:
        if have(t):
            report(t, views([t])[0])
    if have('s224_c'):
        full, c = views(['s224_full', 's224_c'])
        report('full + c', np.hstack([full, c]))
        crops = views(['s224_c', 's224_tl', 's224_tr', 's224_bl', 's224_br'])
        cm = np.mean(crops, 0)
        cs = np.std(crops, 0)
        report('5crop mean', cm)
        report('full + 5crop mean', np.hstack([full, cm]))
        report('full + 5crop mean + 5crop std', np.hstack([full, cm, cs]))
        report('full + c + 5crop mean', np.hstack([full, c, cm]))
    for big in ['s384_full', 's512_full']:
        if have(big) and have('s224_c'):
            B = views([big])[0]
            report(big + ' + c', np.hstack([B, c]))
            report(big + ' + full', np.hstack([B, full]))
            report(big + ' + full + c', np.hstack([B, full, c]))

if 'blocks' in sections():
    ALL = ['c0', 'ec0', 'ec1', 'ec2', 'ec3', 'ec4', 'ec5', 'ec6', 'ec7', 'ec8', 'ec9', 'ec10', 'ec11', 'ec12', 'ec13', 'ec14', 'ec15',
           'ec16', 'c1']
    tags = ['s224_full', 's224_c']
    report('full+c all 19 blocks', np.hstack(views(tags, ALL)))
    report('full+c default6', np.hstack(views(tags, DEFAULT6)))
    for drop in DEFAULT6:
        bl = [b for b in DEFAULT6 if b != drop]
        report('full+c default6 - ' + drop, np.hstack(views(tags, bl)))
    for add in ['c0', 'ec1', 'ec4', 'ec9', 'ec15']:
        report('full+c default6 + ' + add, np.hstack(views(tags, DEFAULT6 + [add])))
    for stats in [('mean',), ('std',)]:
        Xs = [load_view(t, DEFAULT6, stats)[0] for t in tags]
        report('full+c default6 only ' + stats[0], np.hstack(Xs))
