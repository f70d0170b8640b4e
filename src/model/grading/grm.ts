// Graded Response Model (Samejima) with equally spaced thresholds: the AGQG head.
//
//   b_k = b1 + (k-1) d            k = 1..K-1, d > 0
//   c_k = P(Y >= k+1) = sigmoid(a (theta - b_k)),   c_0 = 1, c_K = 0
//   p_k = P(Y = k)    = c_{k-1} - c_k               k = 1..K
//   E[Y] = sum k p_k  = 1 + sum_{k=1}^{K-1} c_k     (tail-sum formula)
//
// Grades are 1-based in the maths (E in [1, K]); array indices are 0-based.
import { AgqgError } from '../errors.ts';

export interface GrmParams {
  /** Discrimination, > 0. */
  a: number;
  /** First (lowest) threshold. */
  b1: number;
  /** Threshold spacing, > 0. */
  d: number;
}

/** Unconstrained training parameters; see fromRaw() for the mapping. */
export interface RawGrmParams {
  rawA: number;
  b1: number;
  rawD: number;
}

export interface MosScale {
  min: number;
  max: number;
}

// ---------------------------------------------------------------------------
// Scalar helpers

/** Logistic function, never computing exp of a large positive number. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** log(1 + e^x) without overflow for large x or loss of precision for very negative x. */
export function softplus(x: number): number {
  if (x > 0) return x + Math.log1p(Math.exp(-x));
  return Math.log1p(Math.exp(x));
}

/** Inverse of softplus on y > 0: log(e^y - 1), written as y + log(1 - e^-y) for large y. */
export function softplusInverse(y: number): number {
  if (!(y > 0) || !Number.isFinite(y)) {
    throw new AgqgError('internal', `softplusInverse needs a finite value > 0, got ${y}`);
  }
  return y + Math.log(-Math.expm1(-y));
}

// ---------------------------------------------------------------------------
// Validation

function checkK(K: number): void {
  if (!Number.isInteger(K) || K < 2) {
    throw new AgqgError('internal', `GRM needs an integer grade count K >= 2, got ${K}`);
  }
}

function checkParams(p: GrmParams): void {
  if (!(p.a > 0) || !Number.isFinite(p.a)) {
    throw new AgqgError('internal', `GRM discrimination a must be finite and > 0, got ${p.a}`);
  }
  if (!(p.d > 0) || !Number.isFinite(p.d)) {
    throw new AgqgError('internal', `GRM threshold spacing d must be finite and > 0, got ${p.d}`);
  }
  if (!Number.isFinite(p.b1)) {
    throw new AgqgError('internal', `GRM first threshold b1 must be finite, got ${p.b1}`);
  }
}

export function checkTheta(theta: number): void {
  if (!Number.isFinite(theta)) {
    throw new AgqgError('internal', `GRM ability theta must be finite, got ${theta}`);
  }
}

// ---------------------------------------------------------------------------
// Forward model

/** b_1..b_{K-1}, strictly increasing. */
export function thresholds(p: GrmParams, K: number): number[] {
  checkK(K);
  checkParams(p);
  const out: number[] = [];
  for (let k = 0; k < K - 1; k++) out.push(p.b1 + k * p.d);
  return out;
}

/** Logits z_k = a (theta - b_k), k = 1..K-1 (0-based array). */
function logits(theta: number, p: GrmParams, K: number): number[] {
  checkTheta(theta);
  return thresholds(p, K).map((b) => p.a * (theta - b));
}

/** c_k = P(Y >= k+1) for k = 1..K-1, non-increasing. */
export function cumulative(theta: number, p: GrmParams, K: number): number[] {
  return logits(theta, p, K).map(sigmoid);
}

/**
 * Difference of two sigmoids sigma(hi) - sigma(lo), hi >= lo.
 * When both are in the upper tail, sigma(-lo) - sigma(-hi) subtracts two small
 * numbers instead of two numbers near 1, keeping relative precision.
 */
function sigmoidDiff(hi: number, lo: number): number {
  if (lo > 0) return sigmoid(-lo) - sigmoid(-hi);
  return sigmoid(hi) - sigmoid(lo);
}

/** p_1..p_K: non-negative, summing to 1 for any finite theta. */
export function gradeProbs(theta: number, p: GrmParams, K: number): number[] {
  const z = logits(theta, p, K);
  const probs: number[] = [];
  for (let k = 0; k < K; k++) {
    const hi = k === 0 ? Infinity : z[k - 1];
    const lo = k === K - 1 ? -Infinity : z[k];
    let v: number;
    if (k === 0) v = sigmoid(-lo);
    else if (k === K - 1) v = sigmoid(hi);
    else v = sigmoidDiff(hi, lo);
    probs.push(v > 0 ? v : 0); // rounding can leave -1e-17 where the true value is ~0
  }
  // The mixed tail formulas do not telescope exactly; renormalising costs one ulp at most.
  const sum = probs.reduce((s, v) => s + v, 0);
  return probs.map((v) => v / sum);
}

/** E[Y] = sum k p_k with grades 1..K. */
export function expectedGrade(probs: readonly number[]): number {
  if (probs.length === 0) throw new AgqgError('internal', 'expectedGrade needs at least one probability');
  let e = 0;
  for (let k = 0; k < probs.length; k++) e += (k + 1) * probs[k];
  return e;
}

/** 0-based index of the most probable grade; ties go to the lower grade. */
export function mostLikelyGrade(probs: readonly number[]): number {
  if (probs.length === 0) throw new AgqgError('internal', 'mostLikelyGrade needs at least one probability');
  let best = 0;
  for (let k = 1; k < probs.length; k++) if (probs[k] > probs[best]) best = k;
  return best;
}

function checkScale(scale: MosScale): void {
  if (!Number.isFinite(scale.min) || !Number.isFinite(scale.max) || !(scale.max > scale.min)) {
    throw new AgqgError('internal', `MOS scale needs finite min < max, got [${scale.min}, ${scale.max}]`);
  }
}

/** Linear map of an expected grade in [1, K] onto [scale.min, scale.max]. */
export function toMos(expected: number, K: number, scale: MosScale): number {
  checkK(K);
  checkScale(scale);
  return scale.min + ((expected - 1) / (K - 1)) * (scale.max - scale.min);
}

/** Inverse of toMos: a MOS value back to the grade axis [1, K]. */
export function fromMos(mos: number, K: number, scale: MosScale): number {
  checkK(K);
  checkScale(scale);
  return 1 + ((mos - scale.min) / (scale.max - scale.min)) * (K - 1);
}

// ---------------------------------------------------------------------------
// Unimodality
//
// Write x = a (theta - b1) and s = a d, so c_k = sigma(x - (k-1) s); the shape of
// p depends on s = a*d only, theta merely slides x. Interior grades are
// p_k = g(x - (k-2) s) with g(y) = sigma(y) - sigma(y - s): the mass of a
// logistic (log-concave) latent in a fixed-width window, so g is log-concave and
// symmetric about s/2 and the interior sequence p_2..p_{K-1} is unimodal. A dip
// therefore needs an open-ended tail grade as a witness. With t = e^x, r = e^s:
//
//  * p_1 > p_2  <=>  1/(1+t) > t/(1+t) - t/(t+r)  <=>  t (r - 2) < r.
//  * Left dip p_1 > p_2 < p_3 (K >= 4): p_3 > p_2 <=> x > s (g symmetric), and
//    t (r-2) < r with t > r is possible iff r (r-2) < r iff r < 3:  s < ln 3.
//    The right dip p_{K-2} > p_{K-1} < p_K is the mirror image: same bound.
//  * U shape p_1 > p_2, p_K > p_{K-1}: the p_K condition is the mirror one at
//    x' = (K-2)s - x, so both hold for some x iff (K-2) s < 2 ln(r/(r-2)).
//    K=3: r (r-2)^2 < r^2 <=> r < 4, s < ln 4.  K=4: s < ln 3.
//    K=5: r (r-2)^2 < 1 <=> r < phi^2, s < 2 ln(phi) = 0.962 < ln 3; larger K lower still.
//
// Hence p is unimodal for every theta iff a*d >= ln 4 (K = 3) or ln 3 (K >= 4);
// K = 2 is always unimodal. At equality the dip degenerates into a tie (e.g.
// K=5, s=ln 3, x=s: p_1 = p_2 = p_3 = 1/4). Note the bound does not grow with K.

/** Smallest a*d for which the grade distribution is unimodal at every theta. */
export function minDiscriminationSpacing(K: number): number {
  checkK(K);
  if (K === 2) return 0;
  if (K === 3) return Math.log(4);
  return Math.log(3);
}

/** Relative slack for float round-off: fromRaw's d = s/a can land a few ulps under the bound. */
export const UNIMODAL_BOUND_RTOL = 1e-12;

/** Whether a*d clears the unimodality bound for K grades (up to float round-off). */
export function meetsUnimodalBound(p: Pick<GrmParams, 'a' | 'd'>, K: number): boolean {
  const bound = minDiscriminationSpacing(K);
  return p.a * p.d >= bound * (1 - UNIMODAL_BOUND_RTOL);
}

/**
 * True if probs rises then falls (plateaus allowed): no grade is lower by more
 * than tol than some grade on each side of it.
 */
export function isUnimodal(probs: readonly number[], tol = 1e-12): boolean {
  const n = probs.length;
  // prefixMax[j] = max over i < j; a dip at j needs both sides above p_j + tol.
  let leftMax = -Infinity;
  const rightMax: number[] = new Array<number>(n).fill(-Infinity);
  for (let j = n - 2; j >= 0; j--) rightMax[j] = Math.max(rightMax[j + 1], probs[j + 1]);
  for (let j = 0; j < n; j++) {
    if (leftMax > probs[j] + tol && rightMax[j] > probs[j] + tol) return false;
    leftMax = Math.max(leftMax, probs[j]);
  }
  return true;
}

/**
 * Enforces a*d >= minDiscriminationSpacing(K) by raising a (thresholds are kept,
 * so the grade boundaries a pack was fitted with stay where they are).
 */
export function constrainParams(p: GrmParams, K: number): GrmParams {
  checkK(K);
  checkParams(p);
  const cMin = minDiscriminationSpacing(K);
  if (p.a * p.d >= cMin) return { ...p };
  let a = cMin / p.d;
  // Division can round down by one ulp; nudge up so the invariant holds exactly.
  while (a * p.d < cMin) a = a + Math.abs(a) * Number.EPSILON;
  return { a, b1: p.b1, d: p.d };
}

// ---------------------------------------------------------------------------
// Training parameterisation
//
//   a   = softplus(rawA)
//   s   = a*d = cMin(K) + softplus(rawD)
//   d   = s / a
//
// rawA sets how steeply grades change with theta; rawD sets the shape (logit
// spacing) and can never cross the unimodality bound. Every raw vector is valid
// and the map is smooth, so a gradient trainer needs no projection step.

export function fromRaw(raw: RawGrmParams, K: number): GrmParams {
  checkK(K);
  const a = softplus(raw.rawA);
  const s = minDiscriminationSpacing(K) + softplus(raw.rawD);
  return { a, b1: raw.b1, d: s / a };
}

/**
 * Inverse of fromRaw. The raw map only approaches the bound, so params must lie
 * strictly above it (run constrainParams and then widen d, or start from fromRaw).
 */
export function toRaw(p: GrmParams, K: number): RawGrmParams {
  checkK(K);
  checkParams(p);
  const excess = p.a * p.d - minDiscriminationSpacing(K);
  if (!(excess > 0)) {
    throw new AgqgError(
      'internal',
      `toRaw: a*d = ${p.a * p.d} must exceed the unimodality bound ${minDiscriminationSpacing(K)} for K=${K}`,
    );
  }
  return { rawA: softplusInverse(p.a), b1: p.b1, rawD: softplusInverse(excess) };
}
