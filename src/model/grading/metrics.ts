// Agreement metrics used in IQA papers: SRCC, KRCC, PLCC (raw and after the
// VQEG 4-parameter logistic mapping), RMSE, and per-group SRCC.
//
// Degenerate-but-well-formed inputs (fewer than 2 pairs, or a constant series)
// have no defined correlation and give NaN, as scipy.stats does; callers print
// NaN rather than inventing a number. Malformed inputs (length mismatch,
// non-finite values) throw an AgqgError naming the metric.
import { AgqgError } from '../errors.ts';

function checkPair(name: string, x: readonly number[], y: readonly number[]): void {
  if (x.length !== y.length) {
    throw new AgqgError('internal', `${name}: inputs differ in length (${x.length} vs ${y.length})`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new AgqgError('internal', `${name}: non-finite value at index ${i} (${x[i]}, ${y[i]})`);
    }
  }
}

const mean = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;

/** Population standard deviation. */
function std(v: readonly number[]): number {
  const m = mean(v);
  return Math.sqrt(v.reduce((s, x) => s + (x - m) * (x - m), 0) / v.length);
}

function pearsonUnchecked(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return NaN;
  const mx = mean(x);
  const my = mean(y);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx;
    const dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return NaN;
  // Rounding can push |r| a hair past 1 for perfectly linear data.
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** Pearson linear correlation. */
export function plcc(x: readonly number[], y: readonly number[]): number {
  checkPair('plcc', x, y);
  return pearsonUnchecked(x, y);
}

/** 1-based ranks, tied values sharing the average of the ranks they span. */
export function averageRanks(v: readonly number[]): number[] {
  const order = v.map((_, i) => i).sort((i, j) => v[i] - v[j]);
  const ranks = new Array<number>(v.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && v[order[end + 1]] === v[order[start]]) end++;
    const avg = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]] = avg;
    start = end + 1;
  }
  return ranks;
}

/** Spearman rank correlation: Pearson on average ranks (handles ties). */
export function srcc(x: readonly number[], y: readonly number[]): number {
  checkPair('srcc', x, y);
  return pearsonUnchecked(averageRanks(x), averageRanks(y));
}

/**
 * Kendall tau-b: (nc - nd) / sqrt((n0 - n1)(n0 - n2)) with n0 = n(n-1)/2 and
 * n1, n2 the pairs tied in x, in y. O(n^2): a few ms at dataset sizes (~3k).
 */
export function krcc(x: readonly number[], y: readonly number[]): number {
  checkPair('krcc', x, y);
  const n = x.length;
  if (n < 2) return NaN;
  let s = 0;
  let tiedX = 0;
  let tiedY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[j] - x[i]);
      const dy = Math.sign(y[j] - y[i]);
      if (dx === 0) tiedX++;
      if (dy === 0) tiedY++;
      s += dx * dy;
    }
  }
  const n0 = (n * (n - 1)) / 2;
  const denom = Math.sqrt((n0 - tiedX) * (n0 - tiedY));
  return denom === 0 ? NaN : s / denom;
}

/** Root mean squared difference. */
export function rmse(x: readonly number[], y: readonly number[]): number {
  checkPair('rmse', x, y);
  if (x.length === 0) return NaN;
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - y[i]) ** 2;
  return Math.sqrt(s / x.length);
}

// ---------------------------------------------------------------------------
// VQEG 4-parameter logistic: f(x) = (b1 - b2) / (1 + exp(-(x - b3) / |b4|)) + b2

export interface Logistic4Params {
  b1: number;
  b2: number;
  b3: number;
  b4: number;
}

export interface Logistic4Fit {
  params: Logistic4Params;
  /** Sum of squared residuals at the solution. */
  sse: number;
  iterations: number;
  converged: boolean;
}

function sig(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

export function logistic4(x: number, p: Logistic4Params): number {
  return (p.b1 - p.b2) * sig((x - p.b3) / Math.abs(p.b4)) + p.b2;
}

type Vec4 = [number, number, number, number];

/** Solves the 4x4 system A x = b by Gaussian elimination with partial pivoting; null if singular. */
function solve4(A: number[][], b: number[]): Vec4 | null {
  const m = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < 4; c++) {
    let piv = c;
    for (let r = c + 1; r < 4; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
    if (!(Math.abs(m[piv][c]) > 0)) return null;
    [m[c], m[piv]] = [m[piv], m[c]];
    for (let r = c + 1; r < 4; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k < 5; k++) m[r][k] -= f * m[c][k];
    }
  }
  const out: Vec4 = [0, 0, 0, 0];
  for (let r = 3; r >= 0; r--) {
    let v = m[r][4];
    for (let k = r + 1; k < 4; k++) v -= m[r][k] * out[k];
    out[r] = v / m[r][r];
  }
  return out.every(Number.isFinite) ? out : null;
}

const toParams = (v: Vec4): Logistic4Params => ({ b1: v[0], b2: v[1], b3: v[2], b4: v[3] });

function sseOf(x: readonly number[], y: readonly number[], v: Vec4): number {
  const p = toParams(v);
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (logistic4(x[i], p) - y[i]) ** 2;
  return s;
}

// Levenberg-Marquardt stopping rules (standardised data, so absolute scales are O(1)).
const LM_MAX_ITER = 500;
const LM_REL_TOL = 1e-12;
const LM_LAMBDA_MAX = 1e12;
const LM_LAMBDA_START = 1e-3;
// Keeps damping alive for a parameter whose curvature vanishes (e.g. b3 when the curve is saturated).
const LM_DIAG_FLOOR = 1e-12;

/** Levenberg-Marquardt with Marquardt's diagonal scaling, from one start point. */
function levenbergMarquardt(x: readonly number[], y: readonly number[], start: Vec4): Logistic4Fit {
  let v: Vec4 = [...start];
  let sse = sseOf(x, y, v);
  let lambda = LM_LAMBDA_START;
  let iterations = 0;
  let converged = false;
  while (iterations < LM_MAX_ITER) {
    iterations++;
    const [b1, b2, b3, s] = v;
    const A = [0, 1, 2, 3].map(() => [0, 0, 0, 0]);
    const g = [0, 0, 0, 0];
    for (let i = 0; i < x.length; i++) {
      const u = (x[i] - b3) / Math.abs(s);
      const sg = sig(u);
      const slope = sg * sig(-u);
      const r = (b1 - b2) * sg + b2 - y[i];
      // du/db3 = -1/|s|, du/ds = -u/s.
      const J = [sg, 1 - sg, (-(b1 - b2) * slope) / Math.abs(s), -(b1 - b2) * slope * (u / s)];
      for (let a = 0; a < 4; a++) {
        g[a] += J[a] * r;
        for (let c = 0; c < 4; c++) A[a][c] += J[a] * J[c];
      }
    }
    let accepted = false;
    while (lambda <= LM_LAMBDA_MAX) {
      const M = A.map((row, a) =>
        row.map((val, c) => (a === c ? val + lambda * Math.max(val, LM_DIAG_FLOOR) : val)),
      );
      const step = solve4(
        M,
        g.map((gi) => -gi),
      );
      if (step) {
        const next: Vec4 = [v[0] + step[0], v[1] + step[1], v[2] + step[2], v[3] + step[3]];
        const nextSse = next[3] !== 0 ? sseOf(x, y, next) : Infinity;
        if (nextSse < sse) {
          const gain = sse - nextSse;
          v = next;
          const small = gain <= LM_REL_TOL * sse;
          sse = nextSse;
          lambda = Math.max(lambda / 3, LM_LAMBDA_START * 1e-12);
          accepted = true;
          if (small) converged = true;
          break;
        }
      }
      lambda *= 4;
    }
    // No damping finds a decrease: we sit at a (numerical) minimum.
    if (!accepted) converged = true;
    if (converged) break;
  }
  return { params: toParams(v), sse, iterations, converged };
}

/**
 * Least-squares fit of the VQEG 4-parameter logistic mapping pred -> mos.
 * Works on standardised data for conditioning and tries a few slopes from the
 * usual start (b1 = max, b2 = min, b3 = mean), keeping the lowest SSE.
 * Throws for fewer than 4 pairs or constant pred / mos (nothing to fit).
 */
export function fitLogistic4(pred: readonly number[], mos: readonly number[]): Logistic4Fit {
  checkPair('fitLogistic4', pred, mos);
  if (pred.length < 4) {
    throw new AgqgError(
      'internal',
      `fitLogistic4: needs at least 4 pairs for 4 parameters, got ${pred.length}`,
    );
  }
  const mx = mean(pred);
  const sx = std(pred);
  const my = mean(mos);
  const sy = std(mos);
  if (sx === 0 || sy === 0) {
    throw new AgqgError('internal', `fitLogistic4: ${sx === 0 ? 'predictions' : 'MOS values'} are constant`);
  }
  const x = pred.map((v) => (v - mx) / sx);
  const y = mos.map((v) => (v - my) / sy);
  const hi = Math.max(...y);
  const lo = Math.min(...y);
  // A decreasing relation is the same curve with the asymptotes swapped.
  const increasing = !(pearsonUnchecked(x, y) < 0);
  const [top, bottom] = increasing ? [hi, lo] : [lo, hi];
  let best: Logistic4Fit | null = null;
  // Slopes in units of std(pred): near-step, moderate, near-linear.
  for (const scale of [0.25, 1, 4]) {
    const fit = levenbergMarquardt(x, y, [top, bottom, 0, scale]);
    if (!best || fit.sse < best.sse) best = fit;
  }
  const f = best as Logistic4Fit;
  return {
    params: {
      b1: my + sy * f.params.b1,
      b2: my + sy * f.params.b2,
      b3: mx + sx * f.params.b3,
      b4: sx * Math.abs(f.params.b4),
    },
    sse: f.sse * sy * sy,
    iterations: f.iterations,
    converged: f.converged,
  };
}

export interface LogisticAgreement {
  /** PLCC between logistic-mapped predictions and MOS. */
  plcc: number;
  /** RMSE between logistic-mapped predictions and MOS (MOS units). */
  rmse: number;
  /** null when the fit is undefined (fewer than 4 pairs or constant input); plcc/rmse are then NaN. */
  fit: Logistic4Fit | null;
}

export function plccLogistic(pred: readonly number[], mos: readonly number[]): LogisticAgreement {
  checkPair('plccLogistic', pred, mos);
  if (pred.length < 4 || std(pred) === 0 || std(mos) === 0) return { plcc: NaN, rmse: NaN, fit: null };
  const fit = fitLogistic4(pred, mos);
  const mapped = pred.map((v) => logistic4(v, fit.params));
  return { plcc: pearsonUnchecked(mapped, mos), rmse: rmse(mapped, mos), fit };
}

// ---------------------------------------------------------------------------
// Grouped metrics and summary

export interface GroupMetric {
  name: string;
  n: number;
  srcc: number;
  plcc: number;
}

function groupIndices(groups: readonly string[]): Map<string, number[]> {
  const byName = new Map<string, number[]>();
  groups.forEach((g, i) => {
    const list = byName.get(g);
    if (list) list.push(i);
    else byName.set(g, [i]);
  });
  return byName;
}

function perGroup(pred: readonly number[], mos: readonly number[], groups: readonly string[]): GroupMetric[] {
  if (groups.length !== pred.length) {
    throw new AgqgError('internal', `groupedSrcc: ${groups.length} group labels for ${pred.length} pairs`);
  }
  return [...groupIndices(groups)].map(([name, idx]) => {
    const p = idx.map((i) => pred[i]);
    const m = idx.map((i) => mos[i]);
    return {
      name,
      n: idx.length,
      srcc: pearsonUnchecked(averageRanks(p), averageRanks(m)),
      plcc: pearsonUnchecked(p, m),
    };
  });
}

/** Mean over groups whose SRCC is defined; NaN if none is. */
function meanDefined(values: readonly number[]): number {
  const ok = values.filter(Number.isFinite);
  return ok.length === 0 ? NaN : mean(ok);
}

/** Per-group SRCC (groups in first-appearance order) and their mean. */
export function groupedSrcc(
  pred: readonly number[],
  mos: readonly number[],
  groups: readonly string[],
): { groups: { name: string; n: number; srcc: number }[]; mean: number } {
  checkPair('groupedSrcc', pred, mos);
  const g = perGroup(pred, mos, groups);
  return {
    groups: g.map(({ name, n, srcc: s }) => ({ name, n, srcc: s })),
    mean: meanDefined(g.map((x) => x.srcc)),
  };
}

export interface MetricsSummary {
  n: number;
  srcc: number;
  krcc: number;
  plcc: number;
  plccLogistic: number;
  rmse: number;
  rmseLogistic: number;
  /** Present when group labels were given. */
  groups?: GroupMetric[];
  meanGroupSrcc?: number;
}

export function summarize(
  pred: readonly number[],
  mos: readonly number[],
  groups?: readonly string[],
): MetricsSummary {
  checkPair('summarize', pred, mos);
  const logistic = plccLogistic(pred, mos);
  const out: MetricsSummary = {
    n: pred.length,
    srcc: srcc(pred, mos),
    krcc: krcc(pred, mos),
    plcc: plcc(pred, mos),
    plccLogistic: logistic.plcc,
    rmse: rmse(pred, mos),
    rmseLogistic: logistic.rmse,
  };
  if (groups) {
    out.groups = perGroup(pred, mos, groups);
    out.meanGroupSrcc = meanDefined(out.groups.map((g) => g.srcc));
  }
  return out;
}
