// Closed-form ridge regression: min ||y - Z w - c||^2 + lambda ||w||^2.
// Primal (Z^T Z + lambda I) w = Z^T y costs D^3; dual alpha = (Z Z^T + lambda I)^-1 y,
// w = Z^T alpha costs N^3: with thousands of features and ~2k images the dual
// is far cheaper, so the form is picked by shape. One factorisation of the
// Gram matrix serves a whole lambda path.
import { AgqgError } from '../errors.ts';
import { cholesky, choleskySolve, crossProduct, dot, gram, matTVec, matrix, type Matrix } from './linalg.ts';

export interface RidgeModel {
  weights: Float64Array;
  bias: number;
  lambda: number;
}

export type RidgeForm = 'auto' | 'primal' | 'dual';

function centred(z: Matrix, y: ArrayLike<number>) {
  const { rows: n, cols: d } = z;
  if (y.length !== n) throw new AgqgError('internal', `ridge: ${n} rows but ${y.length} targets`);
  if (n < 2) throw new AgqgError('internal', `ridge needs at least 2 rows, got ${n}`);
  const mz = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mz[j] += z.data[i * d + j];
  for (let j = 0; j < d; j++) mz[j] /= n;
  const zc = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) zc[i * d + j] = z.data[i * d + j] - mz[j];
  let my = 0;
  for (let i = 0; i < n; i++) my += y[i];
  my /= n;
  const yc = Float64Array.from({ length: n }, (_, i) => y[i] - my);
  return { zc: matrix(n, d, zc), yc, mz, my };
}

export function pickForm(rows: number, cols: number, form: RidgeForm): 'primal' | 'dual' {
  if (form !== 'auto') return form;
  return cols > rows ? 'dual' : 'primal';
}

/**
 * Ridge for each lambda in `lambdas`, sharing one Gram matrix.
 * Lambdas are absolute; see lambdaScale() for a shape-free unit.
 */
export function ridgePath(
  z: Matrix,
  y: ArrayLike<number>,
  lambdas: readonly number[],
  form: RidgeForm = 'auto',
): RidgeModel[] {
  for (const l of lambdas) {
    if (!(l > 0) || !Number.isFinite(l))
      throw new AgqgError('internal', `ridge lambda must be finite and > 0, got ${l}`);
  }
  const { zc, yc, mz, my } = centred(z, y);
  const use = pickForm(z.rows, z.cols, form);
  const g = use === 'dual' ? gram(zc) : crossProduct(zc);
  const zty = use === 'primal' ? matTVec(zc, yc) : null;
  return lambdas.map((lambda) => {
    const l = cholesky(g, lambda);
    const weights =
      use === 'dual' ? matTVec(zc, choleskySolve(l, yc)) : choleskySolve(l, zty as Float64Array);
    let bias = my;
    for (let j = 0; j < weights.length; j++) bias -= mz[j] * weights[j];
    return { weights, bias, lambda };
  });
}

export function fitRidge(
  z: Matrix,
  y: ArrayLike<number>,
  lambda: number,
  form: RidgeForm = 'auto',
): RidgeModel {
  return ridgePath(z, y, [lambda], form)[0];
}

/** Mean squared row norm of the centred data: lambda / lambdaScale is comparable across shapes. */
export function lambdaScale(z: Matrix): number {
  const { zc } = centred(z, new Float64Array(z.rows));
  let s = 0;
  for (const v of zc.data) s += v * v;
  return s / z.rows;
}

export function predictLinear(z: Matrix, weights: Float64Array, bias: number): Float64Array {
  const out = new Float64Array(z.rows);
  for (let i = 0; i < z.rows; i++) {
    let s = bias;
    const off = i * z.cols;
    for (let j = 0; j < z.cols; j++) s += z.data[off + j] * weights[j];
    out[i] = s;
  }
  return out;
}

/**
 * Ridge predictions straight from a Gram matrix over rows train ∪ test (any
 * superset): the training rows are centred in feature space through the Gram
 * entries (K_c = K - r 1^T - 1 r^T + s), so no feature matrix is needed and
 * nested folds reuse one Gram. Returns one prediction vector per lambda.
 */
export function kernelRidgePredict(
  g: Matrix,
  y: ArrayLike<number>,
  train: readonly number[],
  test: readonly number[],
  lambdas: readonly number[],
): Float64Array[] {
  const n = train.length;
  const N = g.rows;
  if (n < 2) throw new AgqgError('internal', `ridge needs at least 2 training rows, got ${n}`);
  // r[i] = mean over training rows j of G[i, j], for every row i of the Gram.
  const r = new Float64Array(N);
  const rowsNeeded = [...train, ...test];
  for (const i of rowsNeeded) {
    let s = 0;
    const off = i * N;
    for (const j of train) s += g.data[off + j];
    r[i] = s / n;
  }
  let s = 0;
  for (const j of train) s += r[j];
  s /= n;
  let my = 0;
  for (const j of train) my += y[j];
  my /= n;
  const kc = new Float64Array(n * n);
  for (let a = 0; a < n; a++) {
    const i = train[a];
    for (let b = 0; b < n; b++) kc[a * n + b] = g.data[i * N + train[b]] - r[i] - r[train[b]] + s;
  }
  const yc = Float64Array.from(train, (j) => y[j] - my);
  const kTest = new Float64Array(test.length * n);
  test.forEach((v, t) => {
    for (let b = 0; b < n; b++) kTest[t * n + b] = g.data[v * N + train[b]] - r[v] - r[train[b]] + s;
  });
  const kcM = matrix(n, n, kc);
  return lambdas.map((lambda) => {
    const alpha = choleskySolve(cholesky(kcM, lambda), yc);
    return Float64Array.from(test, (_, t) => my + dot(kTest.subarray(t * n, t * n + n), alpha, n));
  });
}
