// Training algorithms against hand-solved and synthetic references, and the
// agqg train command end to end on a tiny CLIP pack and a slice of AGIQA-3K.
import { createHash } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIO } from '../src/cli/io.ts';
import { openPackDir } from '../src/cli/node-pack-source.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { readImage } from '../src/cli/images.ts';
import { run as trainRun } from '../src/cli/train/command.ts';
import { trainAndSelect } from '../src/model/training/cv.ts';
import type { TrainConfig } from '../src/model/training/cv-types.ts';
import { foldIndices, groupedFolds } from '../src/model/training/folds.ts';
import { fitGrmLink } from '../src/model/training/grm-fit.ts';
import { matrix } from '../src/model/training/linalg.ts';
import { fitRidge, kernelRidgePredict, predictLinear } from '../src/model/training/ridge.ts';
import { gaussian, mulberry32 } from '../src/model/util/rng.ts';
import { parseCsvTable } from '../src/model/util/csv.ts';
import {
  expectedGrade,
  gradeProbs,
  isUnimodal,
  minDiscriminationSpacing,
  toMos,
} from '../src/model/grading/grm.ts';
import { headFeatures, headForward, parseHeadParams } from '../src/model/grading/head.ts';
import { gram } from '../src/model/training/linalg.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';
import { describeShared, sharedPath } from './shared.ts';

function randomMatrix(rows: number, cols: number, seed: number) {
  const g = gaussian(mulberry32(seed));
  return matrix(
    rows,
    cols,
    Float64Array.from({ length: rows * cols }, () => g()),
  );
}

describe('ridge', () => {
  it('matches a hand-solved system', () => {
    // Columns are centred and orthogonal, Z^T Z = 4 I; y - mean(y) = [2, 0, 0, -2], Z^T yc = [4, 4].
    // w = (4 + lambda)^-1 [4, 4] = [0.8, 0.8] at lambda = 1; intercept = mean(y) = 1.
    const z = matrix(4, 2, Float64Array.from([1, 1, -1, 1, 1, -1, -1, -1]));
    const y = [3, 1, 1, -1];
    for (const form of ['primal', 'dual'] as const) {
      const m = fitRidge(z, y, 1, form);
      expect(m.weights[0]).toBeCloseTo(0.8, 12);
      expect(m.weights[1]).toBeCloseTo(0.8, 12);
      expect(m.bias).toBeCloseTo(1, 12);
    }
  });

  it('gives the same solution in primal and dual form, and from a Gram matrix', () => {
    for (const [n, d] of [
      [30, 80],
      [80, 30],
    ]) {
      const z = randomMatrix(n, d, n + d);
      const y = Array.from({ length: n }, (_, i) => Math.sin(i) + 0.1 * i);
      const p = fitRidge(z, y, 2.5, 'primal');
      const q = fitRidge(z, y, 2.5, 'dual');
      p.weights.forEach((w, j) => expect(Math.abs(w - q.weights[j])).toBeLessThan(1e-9));
      expect(Math.abs(p.bias - q.bias)).toBeLessThan(1e-9);
      // Kernel form: train on the first 2/3, predict the rest.
      const train = Array.from({ length: Math.floor((2 * n) / 3) }, (_, i) => i);
      const test = Array.from({ length: n - train.length }, (_, i) => train.length + i);
      const sub = matrix(train.length, d, z.data.slice(0, train.length * d));
      const m = fitRidge(
        sub,
        train.map((i) => y[i]),
        2.5,
      );
      const direct = predictLinear(matrix(test.length, d, z.data.slice(train.length * d)), m.weights, m.bias);
      const [viaGram] = kernelRidgePredict(gram(z), y, train, test, [2.5]);
      direct.forEach((v, i) => expect(Math.abs(v - viaGram[i])).toBeLessThan(1e-9));
    }
  });
});

describe('GRM link fit', () => {
  it('recovers (a, b1, d) from mean grades of raters drawn from the GRM', () => {
    const truth = { a: 1.7, b1: -1.5, d: 1.1 };
    const K = 5;
    const scale = { min: 0, max: 5 };
    const rand = mulberry32(42);
    const raters = 25;
    const theta: number[] = [];
    const mos: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const t = -4 + 8 * rand();
      const p = gradeProbs(t, truth, K);
      let sum = 0;
      for (let r = 0; r < raters; r++) {
        let u = rand();
        let k = 0;
        while (k < K - 1 && u >= p[k]) u -= p[k++];
        sum += k + 1;
      }
      theta.push(t);
      mos.push(toMos(sum / raters, K, scale));
    }
    const fit = fitGrmLink(theta, mos, K, scale);
    expect(fit.params.a).toBeGreaterThan(truth.a * 0.9);
    expect(fit.params.a).toBeLessThan(truth.a * 1.1);
    expect(Math.abs(fit.params.b1 - truth.b1)).toBeLessThan(0.1);
    expect(Math.abs(fit.params.d - truth.d)).toBeLessThan(0.06);
    expect(fit.params.a * fit.params.d).toBeGreaterThanOrEqual(minDiscriminationSpacing(K));
  });
});

describe('prompt-grouped folds', () => {
  const prompts = Array.from({ length: 230 }, (_, i) => `prompt ${i % 47}`);
  it('never split a prompt, use every fold, and balance sizes', () => {
    const f = groupedFolds(prompts, 5, 7);
    const foldOf = new Map<string, number>();
    prompts.forEach((p, i) => {
      if (foldOf.has(p)) expect(f[i]).toBe(foldOf.get(p));
      foldOf.set(p, f[i]);
    });
    const sizes = [0, 1, 2, 3, 4].map((k) => foldIndices(f, k).test.length);
    expect(sizes.every((s) => s > 0)).toBe(true);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(5); // at most one prompt of 5 images apart
  });
  it('are deterministic per seed and differ between seeds', () => {
    expect(Array.from(groupedFolds(prompts, 5, 3))).toEqual(Array.from(groupedFolds(prompts, 5, 3)));
    expect(Array.from(groupedFolds(prompts, 5, 3))).not.toEqual(Array.from(groupedFolds(prompts, 5, 4)));
  });
  it('refuses more folds than prompts', () => {
    expect(() => groupedFolds(['a', 'b', 'a'], 3, 1)).toThrow(/2 prompts cannot fill 3 folds/);
  });
});

describe('trainAndSelect', () => {
  // Synthetic pool: 30 prompts x 6 "generators", MOS a noisy monotone function of a linear signal.
  const n = 180;
  const d = 40;
  const x = randomMatrix(n, d, 5);
  const rand = gaussian(mulberry32(9));
  const wTrue = Float64Array.from({ length: d }, (_, j) => (j < 8 ? 1 : 0));
  const signal = predictLinear(x, wTrue, 0);
  const mos = Float64Array.from(signal, (s) => 5 / (1 + Math.exp(-s / 2)) + 0.2 * rand());
  const data = {
    mos,
    prompts: Array.from({ length: n }, (_, i) => `p${i % 30}`),
    generators: Array.from({ length: n }, (_, i) => `g${Math.floor(i / 30)}`),
    settings: Array.from({ length: n }, (_, i) => `g${Math.floor(i / 30)}_s`),
  };
  const cfg: TrainConfig = {
    K: 5,
    scale: { min: 0, max: 5 },
    folds: 5,
    seed: 1,
    lambdas: [0.01, 0.1, 1, 10],
    refine: 10,
    log: () => {},
  };

  it('learns the signal, and is identical when repeated with the same seed', async () => {
    const a = await trainAndSelect([{ input: { type: 'image' }, x }], data, cfg);
    const b = await trainAndSelect([{ input: { type: 'image' }, x }], data, cfg);
    expect(a.head).toEqual(b.head);
    expect(a.selected.cv.srcc).toBeGreaterThan(0.8);
    expect(a.lambdaPath.length).toBe(6);
    // The stored head is the plain standardise-then-dot-product the reference forward pass computes.
    const head = parseHeadParams(a.head);
    const out = headForward(head, x.data.subarray(0, d));
    expect(out.ability).toBeCloseTo(
      head.bias +
        Array.from(x.data.subarray(0, d)).reduce(
          (s, v, j) => s + ((v - head.mean[j]) / head.std[j]) * head.weights[j],
          0,
        ),
      10,
    );
  });

  it('keeps fitted heads unimodal at every ability', async () => {
    const { head } = await trainAndSelect([{ input: { type: 'image' }, x }], data, { ...cfg, seed: 2 });
    expect(head.grm.a * head.grm.d).toBeGreaterThanOrEqual(minDiscriminationSpacing(head.K));
    expect(() => parseHeadParams(head)).not.toThrow();
    for (let t = -20; t <= 20; t += 0.05) {
      const p = gradeProbs(head.grm.b1 + t, head.grm, head.K);
      expect(isUnimodal(p)).toBe(true);
      expect(expectedGrade(p)).toBeGreaterThanOrEqual(1);
    }
  });
});

const AGIQA = 'datasets/agiqa-3k/labels.csv';
const TINY = 'fixtures/tiny-clip/onnx/vision_model.onnx';

describeShared('agqg train end to end (tiny-clip, 40 AGIQA-3K images)', [AGIQA, TINY], () => {
  let root = '';
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'agqg-train-'));
    const labels = parseCsvTable(await readFile(sharedPath(AGIQA), 'utf8'));
    const prompts = [...new Set(labels.rows.map((r) => r.prompt))].sort().slice(0, 8);
    const rows = labels.rows.filter((r) => prompts.includes(r.prompt)).slice(0, 40);
    await mkdir(join(root, 'data', 'images'), { recursive: true });
    const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    const lines = [labels.header.join(','), ...rows.map((r) => labels.header.map((h) => q(r[h])).join(','))];
    await writeFile(join(root, 'data', 'labels.csv'), `${lines.join('\n')}\n`);
    for (const r of rows)
      await symlink(sharedPath('datasets/agiqa-3k/images', r.name), join(root, 'data', 'images', r.name));
    await cp(sharedPath('fixtures/tiny-clip'), join(root, 'pack'), { recursive: true });
    // ../shared is read-only and cp keeps its modes: the copy must be writable to be trained into.
    for (const path of [join(root, 'pack'), join(root, 'pack', 'onnx')]) await chmod(path, 0o755);
  });
  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('trains an alignment head into the pack, which the scorer then runs like headForward', async () => {
    const args = [
      '--pack',
      join(root, 'pack'),
      '--data',
      join(root, 'data'),
      '--target',
      'mos_align',
      '--quick',
    ];
    const cache = ['--cache', join(root, 'cache')];
    const io = bufferIO();
    expect(await trainRun([...args, ...cache, '--out', join(root, 'out')], io)).toBe(0);
    expect(io.stdout()).toMatch(/SRCC within generator: /);
    const report = JSON.parse(await readFile(join(root, 'out', 'train-mos_align.json'), 'utf8'));
    expect(report.images).toBe(40);
    expect(report.features.fromCache).toBe(false);

    const manifest = JSON.parse(await readFile(join(root, 'pack', 'manifest.json'), 'utf8'));
    const headSpec = manifest.heads.alignment;
    expect(headSpec.type).toBe('onnx');
    expect(Object.values(headSpec.inputs).sort()).toEqual(['image_features', 'text_features']);
    const onnxBytes = await readFile(join(root, 'pack', headSpec.file));
    const entry = manifest.files.find((f: { path: string }) => f.path === headSpec.file);
    expect(entry.sha256).toBe(createHash('sha256').update(onnxBytes).digest('hex'));
    expect(manifest.metrics.alignment.n).toBe(40);

    const params = parseHeadParams(
      JSON.parse(await readFile(join(root, 'pack', 'heads', 'alignment.json'), 'utf8')),
    );
    expect(params.grm).toEqual(headSpec.grm);
    const pack = await openPackDir(join(root, 'pack'));
    const scorer = await PackScorer.load(pack, new NodeRuntime());
    try {
      const labels = parseCsvTable(await readFile(join(root, 'data', 'labels.csv'), 'utf8'));
      for (const r of labels.rows.slice(0, 3)) {
        const { img } = await readImage(join(root, 'data', 'images', r.name));
        const { features } = await scorer.embedImage(img);
        const [text] = await scorer.embedTexts([r.prompt]);
        const graded = await scorer.gradeFeatures(features, r.prompt);
        const ref = headForward(params, headFeatures(params, features, text));
        expect(graded.alignment).not.toBeNull();
        expect(Math.abs((graded.alignment?.ability ?? NaN) - ref.ability)).toBeLessThan(1e-5);
        expect(Math.abs((graded.alignment?.score ?? NaN) - ref.score)).toBeLessThan(1e-5);
      }
    } finally {
      await scorer.release();
    }

    // A rerun reads the feature cache and trains the same head.
    const io2 = bufferIO();
    expect(await trainRun([...args, ...cache, '--dry-run', '--out', join(root, 'out2')], io2)).toBe(0);
    expect(io2.stderr()).toMatch(/from cache/);
    const report2 = JSON.parse(await readFile(join(root, 'out2', 'train-mos_align.json'), 'utf8'));
    expect(report2.features.fromCache).toBe(true);
    expect(report2.selected).toEqual(report.selected);
  });

  it('refuses to write into a read-only pack, and --save writes a trained copy instead', async () => {
    const ro = join(root, 'ro-pack');
    await cp(sharedPath('fixtures/tiny-clip'), ro, { recursive: true });
    await chmod(ro, 0o555);
    try {
      const base = [
        '--pack',
        ro,
        '--data',
        join(root, 'data'),
        '--target',
        'mos_align',
        '--quick',
        '--cache',
        join(root, 'cache'),
      ];
      await expect(trainRun(base, bufferIO())).rejects.toThrow(/read-only: pass --save DIR/);
      const saved = join(root, 'saved-pack');
      expect(await trainRun([...base, '--save', saved], bufferIO())).toBe(0);
      await expect(readFile(join(ro, 'manifest.json'))).rejects.toThrow(/ENOENT/);
      const pack = await openPackDir(saved);
      expect(pack.manifest.id).toBe('saved-pack');
      expect(pack.manifest.heads.alignment?.type).toBe('onnx');
      expect(pack.manifest.heads.alignment?.uncalibrated).toBe(false);
    } finally {
      await chmod(ro, 0o755);
    }
  });

  it('refuses an unknown target and a missing data folder with specific errors', async () => {
    const io = bufferIO();
    await expect(
      trainRun(['--pack', join(root, 'pack'), '--data', join(root, 'data'), '--target', 'mos_fun'], io),
    ).rejects.toThrow(/--target must be mos_quality or mos_align/);
    await expect(
      trainRun(['--pack', join(root, 'pack'), '--data', join(root, 'nowhere')], io),
    ).rejects.toThrow(/does not exist/);
  });
});

describe('onnxruntime Gram', () => {
  it('equals the TypeScript Gram to float32 precision', async () => {
    const { ortGram, releaseOrtGram } = await import('../src/cli/train/ort-gram.ts');
    const z = randomMatrix(37, 300, 11);
    const a = gram(z);
    const b = await ortGram(z);
    await releaseOrtGram();
    let maxRel = 0;
    for (let i = 0; i < a.data.length; i++) maxRel = Math.max(maxRel, Math.abs(a.data[i] - b.data[i]) / 300);
    expect(maxRel).toBeLessThan(1e-5);
    expect(b.data[5 * 37 + 9]).toBe(b.data[9 * 37 + 5]);
  });
});
