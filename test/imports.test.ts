// The layers of src/ as its imports show them: no circle anywhere, and each
// area importing only what it may (src/model/README.md for the core's folders,
// the shells never importing each other, the UI never reaching onnxruntime).
// The checker is first run on small made-up trees, so that it is known to fail.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  importCircles,
  importGraph,
  layerViolations,
  modelRulesFromReadme,
  specifiersOf,
} from './import-graph.ts';

const ROOT = join(import.meta.dirname, '..');
const README = 'src/model/README.md';

function treeFiles(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(relative(ROOT, p).split(sep).join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(join(ROOT, dir));
  return out;
}

const RULES = modelRulesFromReadme(
  [
    '- `errors.ts`, `limits.ts`: the errors. May import: nothing.',
    '- `util/`: helpers. May import: errors.',
    '- `scoring/`: scoring. May import: errors, util.',
  ].join('\n'),
);

function check(files: Record<string, string>): { circles: string[][]; violations: string[] } {
  const map = new Map(Object.entries(files));
  const graph = importGraph(map);
  return { circles: importCircles(graph), violations: layerViolations(graph, new Set(map.keys()), RULES) };
}

describe('the import checker', () => {
  it('reads every kind of specifier, and which are type-only', () => {
    const src = [
      "import a from './a.ts';",
      "import type { B } from './b.ts';",
      "import { type C, type D } from './c.ts';",
      "import { type E, f } from './e.ts';",
      "import './side.ts';",
      "export { g } from './g.ts';",
      "export type { H } from './h.ts';",
      "export * from './star.ts';",
      "const m = await import('./lazy.ts');",
      "let t: import('./typed.ts').T;",
      "new Worker(new URL('./entry.ts', import.meta.url));",
      "new URL('https://example.org/', base);",
      "// import x from './comment.ts';",
      'const s = "import y from \'./string.ts\'";',
    ].join('\n');
    expect(specifiersOf('src/x.ts', src)).toEqual([
      { spec: './a.ts', kind: 'value' },
      { spec: './b.ts', kind: 'type' },
      { spec: './c.ts', kind: 'type' },
      { spec: './e.ts', kind: 'value' },
      { spec: './side.ts', kind: 'value' },
      { spec: './g.ts', kind: 'value' },
      { spec: './h.ts', kind: 'type' },
      { spec: './star.ts', kind: 'value' },
      { spec: './lazy.ts', kind: 'value' },
      { spec: './typed.ts', kind: 'type' },
      { spec: './entry.ts', kind: 'url' },
    ]);
  });

  it('finds circles, type-only ones too, and nothing in a tree without them', () => {
    const { circles } = check({
      'src/model/util/a.ts': "import type { B } from './b.ts';",
      'src/model/util/b.ts': "import { c } from './c.ts';",
      'src/model/util/c.ts': "export { a } from './a.ts';",
      'src/model/util/d.ts': "import { a } from './a.ts';",
      'src/model/util/self.ts': "import { s } from './self.ts';",
    });
    expect(circles).toEqual([
      ['src/model/util/a.ts', 'src/model/util/b.ts', 'src/model/util/c.ts', 'src/model/util/a.ts'],
      ['src/model/util/self.ts', 'src/model/util/self.ts'],
    ]);
    expect(
      check({
        'src/model/util/a.ts': "import { b } from './b.ts';",
        'src/model/util/b.ts': "import { errors } from '../errors.ts';",
        'src/model/errors.ts': '',
      }).circles,
    ).toEqual([]);
  });

  it('flags what src/model may not import', () => {
    const { violations } = check({
      'src/model/util/a.ts': [
        "import { readFileSync } from 'node:fs';",
        "import { join } from 'path';",
        "import { useState } from 'react';",
        "import type { InferenceSession } from 'onnxruntime-common';",
        "import { api } from '../../worker/api.ts';",
        "import { x } from '../scoring/s.ts';",
        "import { y } from './missing.ts';",
        "import { z } from 'zod';",
        "import { e } from '../errors.ts';",
      ].join('\n'),
      'src/model/scoring/s.ts': "import { a } from '../util/a.ts';\nimport { v } from './view.tsx';",
      'src/model/scoring/view.tsx': '',
      'src/model/errors.ts': '',
      'src/model/other/o.ts': "import { e } from '../errors.ts';",
      'src/worker/api.ts': '',
    });
    expect(violations).toEqual([
      'src/model/util/a.ts imports node:fs: src/model uses no Node module',
      'src/model/util/a.ts imports path: src/model uses no Node module',
      'src/model/util/a.ts imports react: src/model uses no DOM-only package',
      'src/model/util/a.ts imports onnxruntime-common: src/model never imports a runtime (scoring/runtime.ts is the seam)',
      'src/model/util/a.ts imports ../../worker/api.ts: src/model imports nothing outside src/model',
      'src/model/util/a.ts imports ../scoring/s.ts: util may not import scoring (src/model/README.md)',
      'src/model/util/a.ts imports ./missing.ts: no such file',
      'src/model/scoring/s.ts imports ./view.tsx: src/model has no DOM code',
      'src/model/other/o.ts imports ../errors.ts: src/model/README.md has no line for other',
    ]);
  });

  it('flags shells that import each other and a UI that reaches onnxruntime', () => {
    const { violations } = check({
      'src/worker/w.ts': "import { c } from '../cli/c.ts';\nimport * as ort from 'onnxruntime-web';",
      'src/worker/types.ts': 'export type T = number;',
      'src/cli/c.ts': "import { w } from '../worker/types.ts';\nimport { u } from '../ui/u.ts';",
      'src/ui/u.ts': [
        "import type { T } from '../worker/w.ts';",
        "import { t } from '../worker/types.ts';",
        "import { w } from '../worker/w.ts';",
        "new Worker(new URL('../worker/w.ts', import.meta.url));",
      ].join('\n'),
      'src/ui/direct.ts': "import type { Tensor } from 'onnxruntime-web';",
    });
    expect(violations).toEqual([
      'src/worker/w.ts imports ../cli/c.ts: src/worker never imports src/cli',
      'src/cli/c.ts imports ../worker/types.ts: src/cli never imports src/worker',
      'src/cli/c.ts imports ../ui/u.ts: src/cli never imports src/ui',
      'src/ui/u.ts imports ../worker/w.ts: src/ui never touches onnxruntime, but src/worker/w.ts loads it',
      'src/ui/direct.ts imports onnxruntime-web: src/ui never touches onnxruntime',
    ]);
  });
});

describe('src/', () => {
  const files = treeFiles('src');
  const graph = importGraph(files);

  it('has no import circle', () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(importCircles(graph)).toEqual([]);
  });

  it('keeps its layers (src/model/README.md and the shells)', () => {
    const rules = modelRulesFromReadme(files.get(README) ?? '');
    const folders = new Set(
      [...files.keys()].flatMap((f) => {
        const m = /^src\/model\/([^/]+)(\/)?/.exec(f);
        if (!m || f === README || f.endsWith('.d.ts')) return [];
        return [m[2] ? m[1] : m[1].replace(/\.[^.]+$/, '')];
      }),
    );
    // Every folder and root file of src/model has its README line.
    expect([...rules.keys()].sort()).toEqual([...folders].sort());
    expect(layerViolations(graph, new Set(files.keys()), rules)).toEqual([]);
  });

  it('type-checks src/model without DOM, WebWorker or Node types', () => {
    const cfg = JSON.parse(readFileSync(join(ROOT, 'tsconfig.model.json'), 'utf8')) as {
      compilerOptions: { lib: string[]; types: string[] };
      include: string[];
    };
    // src/lib/core is the package's pure subpath: it re-exports src/model and is held to the same lib.
    expect(cfg.include).toEqual(['src/lib/core', 'src/model']);
    expect(cfg.compilerOptions.lib.map((l) => l.toLowerCase())).toEqual(['es2022']);
    expect(cfg.compilerOptions.types).toEqual([]);
  });
});
