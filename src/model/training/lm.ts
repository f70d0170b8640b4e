// Levenberg-Marquardt for small least-squares problems (a handful of
// parameters, thousands of residuals): the GRM link and the 4-parameter
// logistic both fit this way, deterministically and to convergence.
import { cholesky, choleskySolve, matrix } from './linalg.ts';

export interface Residuals {
  /** r_i(params) */
  r: Float64Array;
  /** Row-major Jacobian dr_i/dparam_j, r.length x params.length. */
  jac: Float64Array;
}

export interface LmOptions {
  maxIter: number;
  /** Stop when the relative decrease of the sum of squares falls below this. */
  tol: number;
}

export interface LmResult {
  params: Float64Array;
  sse: number;
  iterations: number;
}

function sumSquares(r: Float64Array): number {
  let s = 0;
  for (const v of r) s += v * v;
  return s;
}

export function levenbergMarquardt(
  fn: (params: Float64Array) => Residuals,
  init: Float64Array,
  options: LmOptions,
): LmResult {
  const p = init.length;
  let params = Float64Array.from(init);
  let cur = fn(params);
  let sse = sumSquares(cur.r);
  let mu = 1e-3;
  let it = 0;
  for (; it < options.maxIter; it++) {
    const n = cur.r.length;
    const jtj = new Float64Array(p * p);
    const jtr = new Float64Array(p);
    for (let i = 0; i < n; i++) {
      const ji = cur.jac.subarray(i * p, i * p + p);
      for (let a = 0; a < p; a++) {
        jtr[a] += ji[a] * cur.r[i];
        for (let b = 0; b < p; b++) jtj[a * p + b] += ji[a] * ji[b];
      }
    }
    let improved = false;
    // Marquardt's scaled damping; retry with more damping until the step helps.
    for (let tries = 0; tries < 30 && !improved; tries++) {
      const damped = Float64Array.from(jtj);
      for (let a = 0; a < p; a++) damped[a * p + a] += mu * Math.max(jtj[a * p + a], Number.EPSILON);
      let step: Float64Array;
      try {
        step = choleskySolve(cholesky(matrix(p, p, damped)), jtr);
      } catch {
        mu *= 10;
        continue;
      }
      const next = params.map((v, a) => v - step[a]);
      const trial = fn(next);
      const trialSse = sumSquares(trial.r);
      if (Number.isFinite(trialSse) && trialSse < sse) {
        const rel = (sse - trialSse) / Math.max(sse, Number.MIN_VALUE);
        params = next;
        cur = trial;
        sse = trialSse;
        mu = Math.max(mu / 10, 1e-12);
        improved = true;
        if (rel < options.tol) return { params, sse, iterations: it + 1 };
      } else {
        mu *= 10;
      }
    }
    if (!improved) break;
  }
  return { params, sse, iterations: it };
}
