// Fits the GRM link (a, b1, d) on top of a fixed ability: the ability sets the
// ranking, the link maps it onto the grade/MOS scale. Fitted in the
// unimodality-safe raw parameterisation of src/model/grading/grm.ts, so every fitted
// head satisfies a*d >= minDiscriminationSpacing(K) by construction.
import { AgqgError } from '../errors.ts';
import {
  constrainParams,
  fromMos,
  fromRaw,
  minDiscriminationSpacing,
  toRaw,
  type GrmParams,
  type MosScale,
} from '../grading/grm.ts';
import { expectedGradeGradRaw } from '../grading/grm-grad.ts';
import { levenbergMarquardt } from './lm.ts';

export interface GrmLinkFit {
  params: GrmParams;
  /** Root mean squared error on the MOS scale after the fit. */
  rmse: number;
  iterations: number;
}

/**
 * Start: a least-squares line grade ~ alpha*theta + beta puts threshold k where
 * the line crosses grade k + 1/2, so b1 = (1.5 - beta)/alpha, d = 1/alpha; a*d
 * starts at twice the unimodality bound (a smooth staircase that the fit sharpens or flattens).
 */
export function initialLink(
  theta: ArrayLike<number>,
  mos: ArrayLike<number>,
  K: number,
  scale: MosScale,
): GrmParams {
  const n = theta.length;
  let mt = 0;
  let mg = 0;
  for (let i = 0; i < n; i++) {
    mt += theta[i];
    mg += fromMos(mos[i], K, scale);
  }
  mt /= n;
  mg /= n;
  let stg = 0;
  let stt = 0;
  for (let i = 0; i < n; i++) {
    const dt = theta[i] - mt;
    stg += dt * (fromMos(mos[i], K, scale) - mg);
    stt += dt * dt;
  }
  const sdTheta = Math.sqrt(stt / n);
  if (!(sdTheta > 0))
    throw new AgqgError('internal', 'GRM link fit: the ability is constant over the training set');
  // An ability that does not rise with MOS cannot be linked monotonically; start from a unit-slope guess.
  const alpha = stg > 0 ? stg / stt : 1 / sdTheta;
  const beta = mg - alpha * mt;
  const d = 1 / alpha;
  const b1 = (1.5 - beta) / alpha;
  const spacing = 2 * Math.max(minDiscriminationSpacing(K), Math.log(3));
  return { a: spacing / d, b1, d };
}

/** Least squares of toMos(E[Y | theta]) against MOS, by Levenberg-Marquardt on (rawA, b1, rawD). */
export function fitGrmLink(
  theta: ArrayLike<number>,
  mos: ArrayLike<number>,
  K: number,
  scale: MosScale,
  init: GrmParams = initialLink(theta, mos, K, scale),
): GrmLinkFit {
  const n = theta.length;
  if (mos.length !== n)
    throw new AgqgError('internal', `GRM link fit: ${n} abilities but ${mos.length} MOS values`);
  if (n < 3) throw new AgqgError('internal', `GRM link fit needs at least 3 items, got ${n}`);
  const unit = (scale.max - scale.min) / (K - 1);
  const raw0 = toRaw(init, K);
  const res = levenbergMarquardt(
    (p) => {
      const raw = { rawA: p[0], b1: p[1], rawD: p[2] };
      const r = new Float64Array(n);
      const jac = new Float64Array(n * 3);
      for (let i = 0; i < n; i++) {
        const g = expectedGradeGradRaw(theta[i], raw, K);
        r[i] = scale.min + (g.value - 1) * unit - mos[i];
        jac[i * 3] = g.dRawA * unit;
        jac[i * 3 + 1] = g.dB1 * unit;
        jac[i * 3 + 2] = g.dRawD * unit;
      }
      return { r, jac };
    },
    Float64Array.from([raw0.rawA, raw0.b1, raw0.rawD]),
    { maxIter: 300, tol: 1e-12 },
  );
  // At the bound softplus(rawD) underflows and d = s/a can round a*d one ulp below it; constrainParams nudges a up.
  const params = constrainParams(
    fromRaw({ rawA: res.params[0], b1: res.params[1], rawD: res.params[2] }, K),
    K,
  );
  return { params, rmse: Math.sqrt(res.sse / n), iterations: res.iterations };
}
