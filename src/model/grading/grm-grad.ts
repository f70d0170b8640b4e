// Analytic gradients of the GRM (grm.ts) in its natural parameters (a, b1, d)
// and in the raw training parameterisation (rawA, b1, rawD), for the trainers'
// least-squares and gradient steps. test/grm.test.ts checks them against central
// differences.
import {
  checkTheta,
  expectedGrade,
  fromRaw,
  gradeProbs,
  sigmoid,
  thresholds,
  type GrmParams,
  type RawGrmParams,
} from './grm.ts';

/** sigma(z) * (1 - sigma(z)) = sigma(z) * sigma(-z), accurate in both tails. */
function sigmoidSlope(z: number): number {
  return sigmoid(z) * sigmoid(-z);
}

export interface GradeProbsGrad {
  probs: number[];
  /** d p_k / d theta, d p_k / d a, ... for k = 1..K. */
  dTheta: number[];
  dA: number[];
  dB1: number[];
  dD: number[];
}

export interface GradeProbsRawGrad {
  probs: number[];
  dTheta: number[];
  dRawA: number[];
  dB1: number[];
  dRawD: number[];
}

export interface ExpectedGradeGrad {
  value: number;
  dTheta: number;
  dA: number;
  dB1: number;
  dD: number;
}

export interface ExpectedGradeRawGrad {
  value: number;
  dTheta: number;
  dRawA: number;
  dB1: number;
  dRawD: number;
}

/**
 * Derivatives of each cumulative c_k: with z_k = a (theta - b1 - (k-1) d),
 * dz/dtheta = a, dz/da = theta - b_k, dz/db1 = -a, dz/dd = -a (k-1), and
 * dc/dz = sigma(z) sigma(-z).
 */
function cumulativeGrads(theta: number, p: GrmParams, K: number) {
  const b = thresholds(p, K);
  checkTheta(theta);
  const dTheta: number[] = [];
  const dA: number[] = [];
  const dB1: number[] = [];
  const dD: number[] = [];
  for (let k = 0; k < K - 1; k++) {
    const slope = sigmoidSlope(p.a * (theta - b[k]));
    dTheta.push(slope * p.a);
    dA.push(slope * (theta - b[k]));
    dB1.push(-slope * p.a);
    dD.push(-slope * p.a * k);
  }
  return { dTheta, dA, dB1, dD };
}

/** dp_k = dc_{k-1} - dc_k with the constant ends c_0 = 1, c_K = 0. */
function differences(dc: readonly number[], K: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < K; k++) {
    const upper = k === 0 ? 0 : dc[k - 1];
    const lower = k === K - 1 ? 0 : dc[k];
    out.push(upper - lower);
  }
  return out;
}

export function gradeProbsGrad(theta: number, p: GrmParams, K: number): GradeProbsGrad {
  const probs = gradeProbs(theta, p, K);
  const g = cumulativeGrads(theta, p, K);
  return {
    probs,
    dTheta: differences(g.dTheta, K),
    dA: differences(g.dA, K),
    dB1: differences(g.dB1, K),
    dD: differences(g.dD, K),
  };
}

/** Since E = 1 + sum c_k, dE is the sum of the cumulative derivatives. */
export function expectedGradeGrad(theta: number, p: GrmParams, K: number): ExpectedGradeGrad {
  const g = cumulativeGrads(theta, p, K);
  const sum = (v: number[]) => v.reduce((s, x) => s + x, 0);
  return {
    value: expectedGrade(gradeProbs(theta, p, K)),
    dTheta: sum(g.dTheta),
    dA: sum(g.dA),
    dB1: sum(g.dB1),
    dD: sum(g.dD),
  };
}

/**
 * Chain rule through fromRaw: a = softplus(rawA), d = s / a with s = cMin + softplus(rawD).
 *   da/drawA = sigmoid(rawA),  dd/drawA = -(d/a) sigmoid(rawA),  dd/drawD = sigmoid(rawD) / a.
 */
function rawChain(raw: RawGrmParams, p: GrmParams) {
  const sa = sigmoid(raw.rawA);
  return {
    aFromRawA: sa,
    dFromRawA: -(p.d / p.a) * sa,
    dFromRawD: sigmoid(raw.rawD) / p.a,
  };
}

export function gradeProbsGradRaw(theta: number, raw: RawGrmParams, K: number): GradeProbsRawGrad {
  const p = fromRaw(raw, K);
  const g = gradeProbsGrad(theta, p, K);
  const c = rawChain(raw, p);
  return {
    probs: g.probs,
    dTheta: g.dTheta,
    dRawA: g.dA.map((da, k) => da * c.aFromRawA + g.dD[k] * c.dFromRawA),
    dB1: g.dB1,
    dRawD: g.dD.map((dd) => dd * c.dFromRawD),
  };
}

export function expectedGradeGradRaw(theta: number, raw: RawGrmParams, K: number): ExpectedGradeRawGrad {
  const p = fromRaw(raw, K);
  const g = expectedGradeGrad(theta, p, K);
  const c = rawChain(raw, p);
  return {
    value: g.value,
    dTheta: g.dTheta,
    dRawA: g.dA * c.aFromRawA + g.dD * c.dFromRawA,
    dB1: g.dB1,
    dRawD: g.dD * c.dFromRawD,
  };
}
