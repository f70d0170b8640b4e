// Dense linear algebra for training, on row-major Float64Array matrices.
// Only what ridge, PCA and the heads need; written for contiguous inner loops
// because N and D are in the thousands.
import { AgqgError } from '../errors.ts';

export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major, rows * cols values. */
  data: Float64Array;
}

export function matrix(rows: number, cols: number, data?: Float64Array): Matrix {
  const d = data ?? new Float64Array(rows * cols);
  if (d.length !== rows * cols) {
    throw new AgqgError('internal', `matrix ${rows}x${cols} needs ${rows * cols} values, got ${d.length}`);
  }
  return { rows, cols, data: d };
}

export function row(m: Matrix, i: number): Float64Array {
  return m.data.subarray(i * m.cols, (i + 1) * m.cols);
}

/** Rows picked by index, copied. */
export function selectRows(m: Matrix, idx: readonly number[]): Matrix {
  const out = new Float64Array(idx.length * m.cols);
  idx.forEach((r, i) => out.set(row(m, r), i * m.cols));
  return matrix(idx.length, m.cols, out);
}

export function dot(a: Float64Array, b: Float64Array, n = a.length): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; k++) s0 += a[k] * b[k];
  return s0 + s1 + s2 + s3;
}

/** y = M x */
export function matVec(m: Matrix, x: Float64Array): Float64Array {
  const y = new Float64Array(m.rows);
  for (let i = 0; i < m.rows; i++) y[i] = dot(row(m, i), x, m.cols);
  return y;
}

/** y = M^T x */
export function matTVec(m: Matrix, x: Float64Array): Float64Array {
  const y = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) {
    const xi = x[i];
    if (xi === 0) continue;
    const r = row(m, i);
    for (let j = 0; j < m.cols; j++) y[j] += xi * r[j];
  }
  return y;
}

/**
 * M M^T (rows x rows), symmetric. Four rows at a time share each load of the
 * other row: the plain row-by-row loop is bound by memory bandwidth at N ~ 2k, F ~ 5k.
 */
export function gram(m: Matrix): Matrix {
  const n = m.rows;
  const d = m.cols;
  const x = m.data;
  const g = new Float64Array(n * n);
  let i0 = 0;
  for (; i0 + 4 <= n; i0 += 4) {
    const a0 = i0 * d;
    const a1 = a0 + d;
    const a2 = a1 + d;
    const a3 = a2 + d;
    for (let j = 0; j < i0 + 4; j++) {
      const b = j * d;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < d; k++) {
        const v = x[b + k];
        s0 += x[a0 + k] * v;
        s1 += x[a1 + k] * v;
        s2 += x[a2 + k] * v;
        s3 += x[a3 + k] * v;
      }
      g[i0 * n + j] = s0;
      g[(i0 + 1) * n + j] = s1;
      g[(i0 + 2) * n + j] = s2;
      g[(i0 + 3) * n + j] = s3;
    }
  }
  for (let i = i0; i < n; i++) {
    const ri = row(m, i);
    for (let j = 0; j <= i; j++) g[i * n + j] = dot(ri, row(m, j), d);
  }
  // Lower triangle is complete; mirror it.
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) g[i * n + j] = g[j * n + i];
  return matrix(n, n, g);
}

/** M^T M (cols x cols), symmetric, accumulated as a sum of row outer products. */
export function crossProduct(m: Matrix): Matrix {
  const d = m.cols;
  const c = new Float64Array(d * d);
  for (let r = 0; r < m.rows; r++) {
    const x = row(m, r);
    for (let i = 0; i < d; i++) {
      const xi = x[i];
      if (xi === 0) continue;
      const base = i * d;
      for (let j = i; j < d; j++) c[base + j] += xi * x[j];
    }
  }
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) c[i * d + j] = c[j * d + i];
  return matrix(d, d, c);
}

/** A B */
export function matMul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows)
    throw new AgqgError('internal', `matMul: ${a.rows}x${a.cols} times ${b.rows}x${b.cols}`);
  const out = new Float64Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    const o = out.subarray(i * b.cols, (i + 1) * b.cols);
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      const bk = row(b, k);
      for (let j = 0; j < b.cols; j++) o[j] += aik * bk[j];
    }
  }
  return matrix(a.rows, b.cols, out);
}

export function transpose(m: Matrix): Matrix {
  const out = new Float64Array(m.rows * m.cols);
  for (let i = 0; i < m.rows; i++)
    for (let j = 0; j < m.cols; j++) out[j * m.rows + i] = m.data[i * m.cols + j];
  return matrix(m.cols, m.rows, out);
}

/**
 * Lower Cholesky factor of a symmetric positive definite matrix (plus `shift`
 * on the diagonal). Row-oriented so the inner products run over contiguous rows.
 */
export function cholesky(a: Matrix, shift = 0): Matrix {
  const n = a.rows;
  if (a.cols !== n)
    throw new AgqgError('internal', `cholesky needs a square matrix, got ${a.rows}x${a.cols}`);
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const li = l.subarray(i * n, i * n + n);
    for (let j = 0; j <= i; j++) {
      const lj = l.subarray(j * n, j * n + n);
      const s = a.data[i * n + j] + (i === j ? shift : 0) - dot(li, lj, j);
      if (i === j) {
        if (!(s > 0)) {
          throw new AgqgError('internal', `cholesky: matrix is not positive definite (pivot ${i} = ${s})`);
        }
        li[i] = Math.sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
  }
  return matrix(n, n, l);
}

/** Solves (L L^T) x = b. */
export function choleskySolve(l: Matrix, b: Float64Array): Float64Array {
  const n = l.rows;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const li = l.data.subarray(i * n, i * n + n);
    y[i] = (b[i] - dot(li, y, i)) / li[i];
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i];
    for (let k = i + 1; k < n; k++) s -= l.data[k * n + i] * x[k];
    x[i] = s / l.data[i * n + i];
  }
  return x;
}

export function trace(m: Matrix): number {
  let t = 0;
  for (let i = 0; i < Math.min(m.rows, m.cols); i++) t += m.data[i * m.cols + i];
  return t;
}
