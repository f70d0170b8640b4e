"""Which blocks to pool, per view (the 7x7 stage costs ~45% of the wasm time)."""
import sys
import numpy as np
from probe import DEFAULT6, evaluate, fmt, load_labels, load_view

L = load_labels()
UP12 = ['c0', 'ec0', 'ec1', 'ec2', 'ec3', 'ec4', 'ec5', 'ec6', 'ec7', 'ec8', 'ec9', 'ec10', 'ec11', 'ec12']
STAGE_ENDS12 = ['ec0', 'ec2', 'ec5', 'ec12']
UP5 = ['c0', 'ec0', 'ec1', 'ec2', 'ec3', 'ec4', 'ec5']
ALL = UP12 + ['ec13', 'ec14', 'ec15', 'ec16', 'c1']


def X(tag, blocks):
    return load_view(tag, blocks)[0]


def report(name, M):
    lam, m = evaluate(M, L)
    print('%-52s F=%-6d lam %-5g %s' % (name, M.shape[1], lam, fmt(m)), flush=True)


configs = {
    'full:default6': [('s224_full', DEFAULT6)],
    'full:stage-ends<=12': [('s224_full', STAGE_ENDS12)],
    'full:all<=12': [('s224_full', UP12)],
    'full:all19': [('s224_full', ALL)],
    'full:default6 + c:default6': [('s224_full', DEFAULT6), ('s224_c', DEFAULT6)],
    'full:stage-ends<=12 + c:stage-ends<=12': [('s224_full', STAGE_ENDS12), ('s224_c', STAGE_ENDS12)],
    'full:all<=12 + c:all<=12': [('s224_full', UP12), ('s224_c', UP12)],
    'full:default6 + c:all<=5': [('s224_full', DEFAULT6), ('s224_c', UP5)],
    'full:all<=12 + c:all<=5': [('s224_full', UP12), ('s224_c', UP5)],
    'full:all19 + c:all19': [('s224_full', ALL), ('s224_c', ALL)],
    's384:default6': [('s384_full', DEFAULT6)],
    's384:all<=12': [('s384_full', UP12)],
}
if __name__ == '__main__':
    want = sys.argv[1:]
    for name, parts in configs.items():
        if want and not any(w in name for w in want):
            continue
        report(name, np.hstack([X(t, b) for t, b in parts]))
