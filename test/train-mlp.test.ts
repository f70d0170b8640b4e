// The MLP ability branch: gradients against finite differences, kernel PCA
// against a directly computed eigendecomposition, the folded head against the
// unfolded network, and bit-for-bit determinism.
import { describe, expect, it } from 'vitest';
import { fitFinalMlp } from '../src/model/training/final-fit.ts';
import { gram, matrix, matMul, transpose } from '../src/model/training/linalg.ts';
import { initMlp, mlpLossGrad, mlpPredict, trainMlp, type Mlp } from '../src/model/training/mlp.ts';
import { fitKernelPca, jacobiEigen, kernelPcaScores, topEigen } from '../src/model/training/pca.ts';
import { gaussian, mulberry32 } from '../src/model/util/rng.ts';
import { fitStandardizer, applyStandardizer } from '../src/model/training/standardize.ts';
import { headAbility, HEAD_FORMAT, HEAD_VERSION, type HeadParams } from '../src/model/grading/head.ts';

function randomMatrix(rows: number, cols: number, seed: number) {
  const g = gaussian(mulberry32(seed));
  return matrix(
    rows,
    cols,
    Float64Array.from({ length: rows * cols }, () => g()),
  );
}

describe('MLP', () => {
  it('has gradients equal to central finite differences (MSE + within-group ranking)', () => {
    const x = randomMatrix(12, 5, 3);
    const y = Array.from({ length: 12 }, (_, i) => Math.cos(i) * 2);
    const groups = Array.from({ length: 12 }, (_, i) => i % 3);
    const m: Mlp = initMlp(5, 4, 0.3, 7);
    m.b1.forEach((_, u) => (m.b1[u] = 0.05 * (u - 1.5)));
    m.skip.forEach((_, j) => (m.skip[j] = 0.1 * j - 0.2));
    const { grad } = mlpLossGrad(m, x, y, groups, 0.7);
    const eps = 1e-6;
    const check = (arr: Float64Array, g: Float64Array) => {
      for (let j = 0; j < arr.length; j++) {
        const keep = arr[j];
        arr[j] = keep + eps;
        const up = mlpLossGrad(m, x, y, groups, 0.7).loss;
        arr[j] = keep - eps;
        const down = mlpLossGrad(m, x, y, groups, 0.7).loss;
        arr[j] = keep;
        expect(Math.abs((up - down) / (2 * eps) - g[j])).toBeLessThan(1e-6);
      }
    };
    check(m.w1, grad.w1);
    check(m.b1, grad.b1);
    check(m.out, grad.out);
    check(m.skip, grad.skip);
  });

  it('learns a nonlinear target and is deterministic for a seed', () => {
    const x = randomMatrix(200, 3, 11);
    const y = Array.from({ length: 200 }, (_, i) => Math.abs(x.data[i * 3]) + 0.5 * x.data[i * 3 + 1]);
    const groups = new Int32Array(200);
    const cfg = { hidden: 16, epochs: 150, lr: 1e-2, weightDecay: 1e-4, batch: 32, rank: 0, seed: 5 };
    const a = trainMlp(x, y, groups, cfg);
    const b = trainMlp(x, y, groups, cfg);
    expect(Array.from(a.w1)).toEqual(Array.from(b.w1));
    const p = mlpPredict(a, x);
    let sse = 0;
    let sst = 0;
    const my = y.reduce((s, v) => s + v, 0) / y.length;
    y.forEach((v, i) => {
      sse += (p[i] - v) ** 2;
      sst += (v - my) ** 2;
    });
    // |x0| is not linear: a linear fit leaves about 1 - 0.25/(0.36+0.25) of the variance; the MLP must do far better.
    expect(sse / sst).toBeLessThan(0.1);
  });
});

describe('kernel PCA', () => {
  it('Jacobi recovers a constructed spectrum', () => {
    const q = randomMatrix(6, 6, 2);
    const a = matMul(q, transpose(q));
    const { values, vectors } = jacobiEigen(a);
    // A v = lambda v for every pair
    for (let c = 0; c < 6; c++) {
      for (let r = 0; r < 6; r++) {
        let s = 0;
        for (let k = 0; k < 6; k++) s += a.data[r * 6 + k] * vectors.data[k * 6 + c];
        expect(Math.abs(s - values[c] * vectors.data[r * 6 + c])).toBeLessThan(1e-9);
      }
    }
    for (let c = 1; c < 6; c++) expect(values[c]).toBeLessThanOrEqual(values[c - 1]);
  });

  it('subspace iteration finds the top eigenvalues of a matrix with a decaying spectrum', async () => {
    const n = 60;
    const q = randomMatrix(n, n, 4);
    const d = Float64Array.from({ length: n }, (_, i) => 0.7 ** i);
    const qd = matrix(
      n,
      n,
      Float64Array.from(q.data, (v, k) => v * d[k % n]),
    );
    const a = matMul(qd, transpose(q));
    const sym = matrix(
      n,
      n,
      Float64Array.from(a.data, (v, k) => (v + a.data[(k % n) * n + Math.floor(k / n)]) / 2),
    );
    const full = jacobiEigen(sym);
    const top = await topEigen(sym, 5, 9, 10);
    for (let c = 0; c < 5; c++)
      expect(Math.abs(top.values[c] - full.values[c]) / full.values[c]).toBeLessThan(1e-8);
  });

  it('scores held-out rows as the projection of their centred features', async () => {
    const z = randomMatrix(40, 25, 8);
    const g = gram(z);
    const train = Array.from({ length: 30 }, (_, i) => i);
    const test = [30, 31, 32, 33, 34, 35, 36, 37, 38, 39];
    const pca = await fitKernelPca(g, train, 5, 1);
    const trainScores = kernelPcaScores(g, pca, train);
    const testScores = kernelPcaScores(g, pca, test);
    // Direction of component c in feature space: u_c = Z_c^T v_c / sqrt(w_c); scores (z - mu) . u_c / scale.
    const mu = new Float64Array(25);
    for (const i of train) for (let j = 0; j < 25; j++) mu[j] += z.data[i * 25 + j] / 30;
    for (let c = 0; c < 5; c++) {
      const u = new Float64Array(25);
      train.forEach((i, b) => {
        for (let j = 0; j < 25; j++) u[j] += (z.data[i * 25 + j] - mu[j]) * pca.vectors.data[b * 5 + c];
      });
      let norm = 0;
      for (const v of u) norm += v * v;
      expect(Math.abs(Math.sqrt(norm) - Math.sqrt(pca.values[c]))).toBeLessThan(1e-8); // unit direction after / sqrt(w)
      [...train, ...test].forEach((i, t) => {
        let s = 0;
        for (let j = 0; j < 25; j++) s += (z.data[i * 25 + j] - mu[j]) * u[j];
        s /= Math.sqrt(pca.values[c]) * pca.scale;
        const got = t < 30 ? trainScores.data[t * 5 + c] : testScores.data[(t - 30) * 5 + c];
        expect(Math.abs(got - s)).toBeLessThan(1e-9);
      });
    }
  });
});

describe('folded MLP head', () => {
  it('headAbility on raw features equals the MLP on kernel-PCA scores', async () => {
    const n = 50;
    const x = randomMatrix(n, 20, 21);
    const st = fitStandardizer(x);
    const z = applyStandardizer(st, x);
    const zMean = new Float64Array(20);
    for (let i = 0; i < n; i++) for (let j = 0; j < 20; j++) zMean[j] += z.data[i * 20 + j] / n;
    const zc = matrix(
      n,
      20,
      Float64Array.from(z.data, (v, k) => v - zMean[k % 20]),
    );
    const g = gram(z);
    const mos = Float64Array.from({ length: n }, (_, i) => 2.5 + Math.sin(i));
    const data = {
      mos,
      prompts: [],
      generators: Array.from({ length: n }, (_, i) => `g${i % 3}`),
      settings: [],
    };
    const opts = {
      hidden: 6,
      epochs: 5,
      lr: 1e-2,
      weightDecay: 1e-3,
      batch: 16,
      rank: 0.5,
      seed: 3,
      components: 8,
    };
    const m = await fitFinalMlp({ g, zc, zMean }, data, opts, 1);
    const pca = await fitKernelPca(
      g,
      Array.from({ length: n }, (_, i) => i),
      opts.components,
      1 + 100 + 1000,
    );
    const scores = kernelPcaScores(
      g,
      pca,
      Array.from({ length: n }, (_, i) => i),
    );
    const direct = mlpPredict(m.net, scores);
    const head: HeadParams = {
      format: HEAD_FORMAT,
      version: HEAD_VERSION,
      kind: 'mlp',
      input: { type: 'image' },
      inputDim: 20,
      mean: Array.from(st.mean),
      std: Array.from(st.std),
      weights: Array.from(m.skip),
      bias: m.bias,
      hidden: {
        units: 6,
        activation: 'relu',
        weights: Array.from(m.hiddenWeights),
        bias: Array.from(m.hiddenBias),
        out: Array.from(m.net.out),
      },
      grm: { a: 1, b1: 0, d: 2 },
      K: 5,
      mos: { min: 0, max: 5 },
    };
    for (let i = 0; i < n; i++)
      expect(Math.abs(headAbility(head, x.data.subarray(i * 20, i * 20 + 20)) - direct[i])).toBeLessThan(
        1e-9,
      );
  });
});
