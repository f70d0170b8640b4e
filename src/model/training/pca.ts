// Kernel PCA of the standardised features straight from the Gram matrix the
// ridge already has: the top-k eigenpairs of the centred training Gram give the
// principal scores of training rows (V sqrt(w)) and, through the Gram entries,
// of any other row, without touching the N x F feature matrix. Eigenpairs by
// seeded subspace iteration + Rayleigh-Ritz (Jacobi on the small matrix).
import { AgqgError } from '../errors.ts';
import { matMul, matrix, type Matrix } from './linalg.ts';
import { gaussian, mulberry32 } from '../util/rng.ts';

/** Eigenvalues (descending) and eigenvectors (columns) of a small symmetric matrix, by cyclic Jacobi. */
export function jacobiEigen(a: Matrix, sweeps = 60): { values: Float64Array; vectors: Matrix } {
  const n = a.rows;
  const m = Float64Array.from(a.data);
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) v[i * n + i] = 1;
  for (let sweep = 0; sweep < sweeps; sweep++) {
    let off = 0;
    let diag = 0;
    for (let p = 0; p < n; p++) {
      diag += m[p * n + p] ** 2;
      for (let q = p + 1; q < n; q++) off += m[p * n + q] ** 2;
    }
    if (off <= 1e-30 * diag) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = m[p * n + q];
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (m[q * n + q] - m[p * n + p]) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const mkp = m[k * n + p];
          const mkq = m[k * n + q];
          m[k * n + p] = c * mkp - s * mkq;
          m[k * n + q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < n; k++) {
          const mpk = m[p * n + k];
          const mqk = m[q * n + k];
          m[p * n + k] = c * mpk - s * mqk;
          m[q * n + k] = s * mpk + c * mqk;
        }
        for (let k = 0; k < n; k++) {
          const vkp = v[k * n + p];
          const vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => m[y * n + y] - m[x * n + x] || x - y);
  const values = Float64Array.from(order, (i) => m[i * n + i]);
  const vectors = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let r = 0; r < n; r++) vectors[r * n + k] = v[r * n + order[k]];
  return { values, vectors: matrix(n, n, vectors) };
}

/** Orthonormal columns (modified Gram-Schmidt, in place on a row-major n x p matrix). */
function orthonormalise(q: Matrix): void {
  const { rows: n, cols: p } = q;
  const d = q.data;
  for (let j = 0; j < p; j++) {
    for (let i = 0; i < j; i++) {
      let s = 0;
      for (let r = 0; r < n; r++) s += d[r * p + i] * d[r * p + j];
      for (let r = 0; r < n; r++) d[r * p + j] -= s * d[r * p + i];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += d[r * p + j] ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 0)) throw new AgqgError('internal', 'PCA: subspace iteration lost rank');
    for (let r = 0; r < n; r++) d[r * p + j] /= norm;
  }
}

export type MatMulFn = (a: Matrix, b: Matrix) => Promise<Matrix>;
const jsMatMul: MatMulFn = async (a, b) => matMul(a, b);

/** Top-k eigenpairs of a symmetric PSD matrix (k + 16 probe vectors, `iters` power steps). */
export async function topEigen(a: Matrix, k: number, seed: number, iters = 6, mul: MatMulFn = jsMatMul) {
  const n = a.rows;
  const p = Math.min(n, k + 16);
  const g = gaussian(mulberry32(seed));
  let q = matrix(
    n,
    p,
    Float64Array.from({ length: n * p }, () => g()),
  );
  orthonormalise(q);
  for (let it = 0; it < iters; it++) {
    q = await mul(a, q);
    orthonormalise(q);
  }
  const aq = await mul(a, q);
  // B = Q^T A Q (p x p)
  const b = new Float64Array(p * p);
  for (let r = 0; r < n; r++) {
    for (let i = 0; i < p; i++) {
      const qi = q.data[r * p + i];
      for (let j = 0; j < p; j++) b[i * p + j] += qi * aq.data[r * p + j];
    }
  }
  for (let i = 0; i < p; i++)
    for (let j = 0; j < i; j++) b[i * p + j] = b[j * p + i] = (b[i * p + j] + b[j * p + i]) / 2;
  const e = jacobiEigen(matrix(p, p, b));
  const kk = Math.min(k, p);
  const vec = new Float64Array(n * kk);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < kk; c++) {
      let s = 0;
      for (let i = 0; i < p; i++) s += q.data[r * p + i] * e.vectors.data[i * p + c];
      vec[r * kk + c] = s;
    }
  }
  return { values: e.values.slice(0, kk), vectors: matrix(n, kk, vec) };
}

export interface KernelPca {
  /** Training-row indices (into the Gram) the components were fitted on. */
  train: number[];
  /** Eigenvalues of the centred training Gram kept (all > 0), descending. */
  values: Float64Array;
  /** n_train x k eigenvectors. */
  vectors: Matrix;
  /** Row means of the training block of the Gram, for centring any row. */
  rowMean: Float64Array;
  grandMean: number;
  /** Scores are divided by this (the first component's standard deviation) so inputs are O(1) without whitening. */
  scale: number;
}

/** Fits kernel PCA on `train` rows of the (linear) Gram `g`. */
export async function fitKernelPca(
  g: Matrix,
  train: readonly number[],
  k: number,
  seed: number,
  mul?: MatMulFn,
): Promise<KernelPca> {
  const N = g.rows;
  const n = train.length;
  const rowMean = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    let s = 0;
    for (const j of train) s += g.data[i * N + j];
    rowMean[i] = s / n;
  }
  let grand = 0;
  for (const j of train) grand += rowMean[j];
  grand /= n;
  const kc = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    const i = train[a];
    for (let b = 0; b < n; b++)
      kc[a * n + b] = g.data[i * N + train[b]] - rowMean[i] - rowMean[train[b]] + grand;
  }
  const e = await topEigen(matrix(n, n, kc), k, seed, 6, mul);
  let keep = 0;
  while (keep < e.values.length && e.values[keep] > 1e-9 * e.values[0]) keep++;
  const vectors = matrix(n, keep, new Float64Array(n * keep));
  for (let r = 0; r < n; r++)
    for (let c = 0; c < keep; c++) vectors.data[r * keep + c] = e.vectors.data[r * e.vectors.cols + c];
  return {
    train: [...train],
    values: e.values.slice(0, keep),
    vectors,
    rowMean,
    grandMean: grand,
    scale: Math.sqrt(e.values[0] / n),
  };
}

/** Principal scores of Gram rows `rows`: (centred K(row, train)) V / sqrt(w), divided by pca.scale. */
export function kernelPcaScores(g: Matrix, pca: KernelPca, rows: readonly number[]): Matrix {
  const N = g.rows;
  const n = pca.train.length;
  const k = pca.values.length;
  const out = new Float64Array(rows.length * k);
  const kr = new Float64Array(n);
  rows.forEach((i, t) => {
    let m = 0;
    for (let b = 0; b < n; b++) m += g.data[i * N + pca.train[b]];
    m /= n;
    for (let b = 0; b < n; b++)
      kr[b] = g.data[i * N + pca.train[b]] - m - pca.rowMean[pca.train[b]] + pca.grandMean;
    for (let b = 0; b < n; b++) {
      const v = kr[b];
      const vr = pca.vectors.data.subarray(b * k, b * k + k);
      for (let c = 0; c < k; c++) out[t * k + c] += v * vr[c];
    }
    for (let c = 0; c < k; c++) out[t * k + c] /= Math.sqrt(pca.values[c]) * pca.scale;
  });
  return matrix(rows.length, k, out);
}
