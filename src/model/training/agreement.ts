// Agreement of a fitted head with a person's ratings, as the calibration view
// shows it: grades on the ratings' own scale, Cohen's quadratic-weighted kappa
// between grades, and percentile-bootstrap intervals for SRCC and PLCC.
import { AgqgError } from '../errors.ts';
import { fromMos, type MosScale } from '../grading/grm.ts';
import { plcc, srcc } from '../grading/metrics.ts';
import { mulberry32 } from '../util/rng.ts';

/** Resamples for the bootstrap intervals: enough for stable 2.5/97.5 percentiles at a few hundred ratings. */
export const BOOTSTRAP_RESAMPLES = 1000;
/** Central interval of the bootstrap. */
export const BOOTSTRAP_LEVEL = 0.95;

/** The grade (1..K) a score on `scale` falls in: the nearest point of the grade axis. */
export function gradeOfScore(score: number, K: number, scale: MosScale): number {
  return Math.min(K, Math.max(1, Math.round(fromMos(score, K, scale))));
}

/**
 * Cohen's kappa with quadratic weights between two gradings on 1..K: 1 is full agreement,
 * 0 what two independent gradings with the same marginals would reach. NaN when the
 * chance-expected disagreement is 0 (one grading uses a single grade).
 */
export function weightedKappa(a: readonly number[], b: readonly number[], K: number): number {
  if (a.length !== b.length) throw new AgqgError('internal', `kappa: ${a.length} vs ${b.length} grades`);
  const n = a.length;
  if (n === 0) return NaN;
  const obs = new Float64Array(K * K);
  const ra = new Float64Array(K);
  const rb = new Float64Array(K);
  for (let i = 0; i < n; i++) {
    const x = a[i] - 1;
    const y = b[i] - 1;
    if (!Number.isInteger(x) || !Number.isInteger(y) || x < 0 || y < 0 || x >= K || y >= K) {
      throw new AgqgError('internal', `kappa: grade out of 1..${K} at ${i} (${a[i]}, ${b[i]})`);
    }
    obs[x * K + y] += 1;
    ra[x] += 1;
    rb[y] += 1;
  }
  let o = 0;
  let e = 0;
  for (let x = 0; x < K; x++) {
    for (let y = 0; y < K; y++) {
      const w = ((x - y) * (x - y)) / ((K - 1) * (K - 1));
      o += (w * obs[x * K + y]) / n;
      e += (w * ra[x] * rb[y]) / (n * n);
    }
  }
  return e === 0 ? NaN : 1 - o / e;
}

export interface Interval {
  lo: number;
  hi: number;
}

function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = q * (sorted.length - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  return i + 1 < sorted.length ? sorted[i] * (1 - f) + sorted[i + 1] * f : sorted[i];
}

/**
 * Percentile bootstrap of SRCC and PLCC over the rated pairs (resampled with replacement,
 * seeded): how far the figures could move with another sample of the same size.
 */
export function bootstrapCorrelations(
  pred: readonly number[],
  truth: readonly number[],
  seed = 1,
  resamples = BOOTSTRAP_RESAMPLES,
): { srcc: Interval; plcc: Interval } {
  const n = pred.length;
  const rand = mulberry32(seed);
  const s: number[] = [];
  const p: number[] = [];
  const x = new Array<number>(n);
  const y = new Array<number>(n);
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) {
      const j = Math.floor(rand() * n);
      x[i] = pred[j];
      y[i] = truth[j];
    }
    const rs = srcc(x, y);
    const rp = plcc(x, y);
    if (Number.isFinite(rs)) s.push(rs);
    if (Number.isFinite(rp)) p.push(rp);
  }
  s.sort((u, v) => u - v);
  p.sort((u, v) => u - v);
  const tail = (1 - BOOTSTRAP_LEVEL) / 2;
  return {
    srcc: { lo: percentile(s, tail), hi: percentile(s, 1 - tail) },
    plcc: { lo: percentile(p, tail), hi: percentile(p, 1 - tail) },
  };
}
