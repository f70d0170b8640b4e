// Per-feature standardisation fitted on training rows only (never on the rows
// being evaluated), the first layer of every head.
import { matrix, type Matrix } from './linalg.ts';

export interface Standardizer {
  mean: Float64Array;
  /** Constant features get std 1, so they map to 0 instead of NaN. */
  std: Float64Array;
}

export function fitStandardizer(x: Matrix): Standardizer {
  const { rows: n, cols: d } = x;
  const mean = new Float64Array(d);
  const m2 = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const r = x.data.subarray(i * d, i * d + d);
    for (let j = 0; j < d; j++) mean[j] += r[j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  for (let i = 0; i < n; i++) {
    const r = x.data.subarray(i * d, i * d + d);
    for (let j = 0; j < d; j++) {
      const v = r[j] - mean[j];
      m2[j] += v * v;
    }
  }
  const std = new Float64Array(d);
  for (let j = 0; j < d; j++) {
    const s = Math.sqrt(m2[j] / n);
    std[j] = s > 0 && Number.isFinite(s) ? s : 1;
  }
  return { mean, std };
}

export function applyStandardizer(s: Standardizer, x: Matrix): Matrix {
  const { rows: n, cols: d } = x;
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) out[i * d + j] = (x.data[i * d + j] - s.mean[j]) / s.std[j];
  }
  return matrix(n, d, out);
}
