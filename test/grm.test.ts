import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import {
  constrainParams,
  cumulative,
  expectedGrade,
  fromMos,
  fromRaw,
  gradeProbs,
  isUnimodal,
  minDiscriminationSpacing,
  mostLikelyGrade,
  sigmoid,
  softplus,
  softplusInverse,
  thresholds,
  toMos,
  toRaw,
  type GrmParams,
  type RawGrmParams,
} from '../src/model/grading/grm.ts';
import {
  expectedGradeGrad,
  expectedGradeGradRaw,
  gradeProbsGrad,
  gradeProbsGradRaw,
} from '../src/model/grading/grm-grad.ts';
import { mulberry32 } from '../src/model/util/rng.ts';

// Deterministic PRNG (mulberry32) so failures reproduce.
const rng = mulberry32;
const uniform = (r: () => number, lo: number, hi: number) => lo + (hi - lo) * r();
const sum = (v: readonly number[]) => v.reduce((s, x) => s + x, 0);

describe('scalar helpers', () => {
  it('sigmoid is stable and symmetric in both tails', () => {
    expect(sigmoid(0)).toBe(0.5);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(-30)).toBeCloseTo(Math.exp(-30), 25);
    expect(sigmoid(2) + sigmoid(-2)).toBeCloseTo(1, 15);
  });

  it('softplus and its inverse round-trip, including large and tiny values', () => {
    expect(softplus(0)).toBeCloseTo(Math.LN2, 15);
    expect(softplus(1000)).toBe(1000);
    expect(softplus(-50)).toBeCloseTo(Math.exp(-50), 30);
    for (const x of [-20, -3, -0.1, 0, 0.7, 5, 40]) {
      expect(softplusInverse(softplus(x))).toBeCloseTo(x, 9);
    }
    expect(() => softplusInverse(0)).toThrow(AgqgError);
  });
});

describe('GRM forward model', () => {
  it('thresholds are b1 + k*d, strictly increasing', () => {
    const r = rng(1);
    for (let i = 0; i < 100; i++) {
      const K = 2 + Math.floor(r() * 9);
      const p = { a: uniform(r, 0.01, 20), b1: uniform(r, -10, 10), d: uniform(r, 1e-4, 5) };
      const b = thresholds(p, K);
      expect(b).toHaveLength(K - 1);
      expect(b[0]).toBe(p.b1);
      for (let k = 1; k < b.length; k++) expect(b[k]).toBeGreaterThan(b[k - 1]);
    }
  });

  it('probabilities are non-negative and sum to 1, also at extreme theta and parameters', () => {
    const r = rng(2);
    const thetas = [-1e300, -1e6, -50, -3, 0, 3, 50, 1e6, 1e300];
    for (let i = 0; i < 300; i++) {
      const K = 2 + Math.floor(r() * 9);
      const p = {
        a: Math.exp(uniform(r, -6, 6)),
        b1: uniform(r, -20, 20),
        d: Math.exp(uniform(r, -8, 3)),
      };
      for (const theta of [...thetas, uniform(r, -30, 30)]) {
        const probs = gradeProbs(theta, p, K);
        expect(probs).toHaveLength(K);
        for (const v of probs) {
          expect(Number.isFinite(v)).toBe(true);
          expect(v).toBeGreaterThanOrEqual(0);
        }
        expect(Math.abs(sum(probs) - 1)).toBeLessThan(1e-12);
      }
    }
  });

  it('puts all mass on the end grades at extreme theta', () => {
    const p = { a: 2, b1: -1, d: 0.7 };
    expect(gradeProbs(1e6, p, 5)).toEqual([0, 0, 0, 0, 1]);
    expect(gradeProbs(-1e6, p, 5)).toEqual([1, 0, 0, 0, 0]);
  });

  it('keeps relative precision for a grade far in the upper tail', () => {
    // theta 40 above b_3 = 1, b_4 = 2 with a = 1: p_4 = sigma(-38) - sigma(-39) ≈ e^-38 (1 - e^-1).
    const p = { a: 1, b1: -1, d: 1 };
    const probs = gradeProbs(40, p, 5);
    const expected = Math.exp(-38) * (1 - Math.exp(-1));
    expect(Math.abs(probs[3] - expected) / expected).toBeLessThan(1e-9);
  });

  it('matches the hand-computed K=5, a=1, d=1 case at the centre of the thresholds', () => {
    // b = [-1.5, -0.5, 0.5, 1.5], theta = 0 (centre), so the logits are 1.5, 0.5, -0.5, -1.5.
    // sigma(1.5) = 1/(1+e^-1.5) = 1/(1+0.223130) = 0.817574
    // sigma(0.5) = 1/(1+e^-0.5) = 1/(1+0.606531) = 0.622459
    // sigma(-0.5) = 1 - 0.622459 = 0.377541,  sigma(-1.5) = 1 - 0.817574 = 0.182426
    // p = [1-0.817574, 0.817574-0.622459, 0.622459-0.377541, 0.377541-0.182426, 0.182426]
    //   = [0.182426, 0.195115, 0.244918, 0.195115, 0.182426]
    const p = { a: 1, b1: -1.5, d: 1 };
    const c = cumulative(0, p, 5);
    expect(c.map((v) => +v.toFixed(6))).toEqual([0.817574, 0.622459, 0.377541, 0.182426]);
    const probs = gradeProbs(0, p, 5);
    expect(probs.map((v) => +v.toFixed(3))).toEqual([0.182, 0.195, 0.245, 0.195, 0.182]);
    // By symmetry p_k = p_{6-k}, so E = 3 exactly (up to rounding).
    expect(expectedGrade(probs)).toBeCloseTo(3, 14);
    expect(mostLikelyGrade(probs)).toBe(2);
  });

  it('expected grade equals 1 + sum of cumulatives and is increasing in theta', () => {
    const p = { a: 1.7, b1: -2, d: 0.9 };
    let prev = -Infinity;
    for (let theta = -8; theta <= 8; theta += 0.25) {
      const e = expectedGrade(gradeProbs(theta, p, 5));
      expect(e).toBeCloseTo(1 + sum(cumulative(theta, p, 5)), 12);
      expect(e).toBeGreaterThan(prev);
      expect(e).toBeGreaterThanOrEqual(1);
      expect(e).toBeLessThanOrEqual(5);
      prev = e;
    }
  });

  it('maps expected grades linearly to the MOS scale and back', () => {
    const scale = { min: 0, max: 5 };
    // [1, 5] -> [0, 5]: 1 -> 0, 3 -> 2.5, 5 -> 5, 2 -> 1.25
    expect(toMos(1, 5, scale)).toBe(0);
    expect(toMos(3, 5, scale)).toBe(2.5);
    expect(toMos(5, 5, scale)).toBe(5);
    expect(toMos(2, 5, scale)).toBe(1.25);
    expect(toMos(2, 3, { min: 1, max: 9 })).toBe(5);
    for (const m of [0, 0.3, 2.5, 4.99]) expect(toMos(fromMos(m, 5, scale), 5, scale)).toBeCloseTo(m, 12);
    expect(() => toMos(3, 5, { min: 5, max: 5 })).toThrow(/min < max/);
  });

  it('mostLikelyGrade breaks ties towards the lower grade', () => {
    expect(mostLikelyGrade([0.1, 0.4, 0.4, 0.1])).toBe(1);
    expect(mostLikelyGrade([0.7, 0.3])).toBe(0);
  });

  it('rejects invalid parameters with specific errors', () => {
    expect(() => gradeProbs(0, { a: 0, b1: 0, d: 1 }, 5)).toThrow(/discrimination a/);
    expect(() => gradeProbs(0, { a: 1, b1: 0, d: -1 }, 5)).toThrow(/spacing d/);
    expect(() => gradeProbs(0, { a: 1, b1: NaN, d: 1 }, 5)).toThrow(/b1/);
    expect(() => gradeProbs(NaN, { a: 1, b1: 0, d: 1 }, 5)).toThrow(/theta/);
    expect(() => gradeProbs(0, { a: 1, b1: 0, d: 1 }, 1)).toThrow(/K >= 2/);
    expect(() => gradeProbs(0, { a: 1, b1: 0, d: 1 }, 2.5)).toThrow(AgqgError);
  });
});

describe('GRM analytic gradients', () => {
  // Relative error with a floor so derivatives that are ~0 compare absolutely.
  const relErr = (x: number, y: number) => Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-3);
  const H = 1e-5;
  const central = (f: (h: number) => number) => (f(H) - f(-H)) / (2 * H);

  it('d p_k / d{theta, a, b1, d} match central finite differences', () => {
    const r = rng(3);
    let worst = 0;
    for (let i = 0; i < 200; i++) {
      const K = 2 + Math.floor(r() * 7);
      const p: GrmParams = { a: uniform(r, 0.2, 4), b1: uniform(r, -3, 1), d: uniform(r, 0.2, 2) };
      const theta = uniform(r, -5, 5);
      const g = gradeProbsGrad(theta, p, K);
      for (let k = 0; k < K; k++) {
        const fd = {
          theta: central((h) => gradeProbs(theta + h, p, K)[k]),
          a: central((h) => gradeProbs(theta, { ...p, a: p.a + h }, K)[k]),
          b1: central((h) => gradeProbs(theta, { ...p, b1: p.b1 + h }, K)[k]),
          d: central((h) => gradeProbs(theta, { ...p, d: p.d + h }, K)[k]),
        };
        worst = Math.max(
          worst,
          relErr(g.dTheta[k], fd.theta),
          relErr(g.dA[k], fd.a),
          relErr(g.dB1[k], fd.b1),
          relErr(g.dD[k], fd.d),
        );
      }
      // Probabilities sum to 1, so every gradient column sums to 0.
      for (const col of [g.dTheta, g.dA, g.dB1, g.dD]) expect(Math.abs(sum(col))).toBeLessThan(1e-12);
    }
    expect(worst).toBeLessThan(1e-5);
  });

  it('d E / d{theta, a, b1, d} match central finite differences', () => {
    const r = rng(4);
    const E = (theta: number, p: GrmParams, K: number) => expectedGrade(gradeProbs(theta, p, K));
    for (let i = 0; i < 200; i++) {
      const K = 2 + Math.floor(r() * 7);
      const p: GrmParams = { a: uniform(r, 0.2, 4), b1: uniform(r, -3, 1), d: uniform(r, 0.2, 2) };
      const theta = uniform(r, -5, 5);
      const g = expectedGradeGrad(theta, p, K);
      expect(g.value).toBeCloseTo(E(theta, p, K), 14);
      expect(
        relErr(
          g.dTheta,
          central((h) => E(theta + h, p, K)),
        ),
      ).toBeLessThan(1e-5);
      expect(
        relErr(
          g.dA,
          central((h) => E(theta, { ...p, a: p.a + h }, K)),
        ),
      ).toBeLessThan(1e-5);
      expect(
        relErr(
          g.dB1,
          central((h) => E(theta, { ...p, b1: p.b1 + h }, K)),
        ),
      ).toBeLessThan(1e-5);
      expect(
        relErr(
          g.dD,
          central((h) => E(theta, { ...p, d: p.d + h }, K)),
        ),
      ).toBeLessThan(1e-5);
    }
  });

  it('raw-parameter gradients match central finite differences through fromRaw', () => {
    const r = rng(5);
    const P = (theta: number, raw: RawGrmParams, K: number) => gradeProbs(theta, fromRaw(raw, K), K);
    const E = (theta: number, raw: RawGrmParams, K: number) => expectedGrade(P(theta, raw, K));
    for (let i = 0; i < 150; i++) {
      const K = 2 + Math.floor(r() * 7);
      const raw: RawGrmParams = { rawA: uniform(r, -1, 2), b1: uniform(r, -3, 1), rawD: uniform(r, -3, 2) };
      const theta = uniform(r, -4, 4);
      const g = gradeProbsGradRaw(theta, raw, K);
      for (let k = 0; k < K; k++) {
        expect(
          relErr(
            g.dTheta[k],
            central((h) => P(theta + h, raw, K)[k]),
          ),
        ).toBeLessThan(1e-5);
        expect(
          relErr(
            g.dRawA[k],
            central((h) => P(theta, { ...raw, rawA: raw.rawA + h }, K)[k]),
          ),
        ).toBeLessThan(1e-5);
        expect(
          relErr(
            g.dB1[k],
            central((h) => P(theta, { ...raw, b1: raw.b1 + h }, K)[k]),
          ),
        ).toBeLessThan(1e-5);
        expect(
          relErr(
            g.dRawD[k],
            central((h) => P(theta, { ...raw, rawD: raw.rawD + h }, K)[k]),
          ),
        ).toBeLessThan(1e-5);
      }
      const ge = expectedGradeGradRaw(theta, raw, K);
      expect(
        relErr(
          ge.dRawA,
          central((h) => E(theta, { ...raw, rawA: raw.rawA + h }, K)),
        ),
      ).toBeLessThan(1e-5);
      expect(
        relErr(
          ge.dRawD,
          central((h) => E(theta, { ...raw, rawD: raw.rawD + h }, K)),
        ),
      ).toBeLessThan(1e-5);
      expect(
        relErr(
          ge.dB1,
          central((h) => E(theta, { ...raw, b1: raw.b1 + h }, K)),
        ),
      ).toBeLessThan(1e-5);
      expect(
        relErr(
          ge.dTheta,
          central((h) => E(theta + h, raw, K)),
        ),
      ).toBeLessThan(1e-5);
    }
  });
});

describe('unimodality constraint', () => {
  // Dense theta grid covering every threshold with generous margins.
  function thetaGrid(p: GrmParams, K: number, step: number): number[] {
    const b = thresholds(p, K);
    const margin = 12 / p.a;
    const out: number[] = [];
    for (let t = b[0] - margin; t <= b[b.length - 1] + margin; t += step) out.push(t);
    return out;
  }
  const firstDip = (p: GrmParams, K: number, step: number, tol: number) =>
    thetaGrid(p, K, step).find((t) => !isUnimodal(gradeProbs(t, p, K), tol));

  it('isUnimodal recognises peaks, plateaus, monotone runs and dips', () => {
    expect(isUnimodal([0.1, 0.2, 0.4, 0.2, 0.1])).toBe(true);
    expect(isUnimodal([0.5, 0.3, 0.1, 0.05, 0.05])).toBe(true);
    expect(isUnimodal([0.25, 0.25, 0.25, 0.25])).toBe(true);
    expect(isUnimodal([0.3, 0.2, 0.3, 0.1, 0.1])).toBe(false);
    expect(isUnimodal([0.4, 0.1, 0.1, 0.4])).toBe(false);
    expect(isUnimodal([0.3, 0.3 - 1e-14, 0.4], 1e-12)).toBe(true);
    expect(isUnimodal([0.3, 0.3 - 1e-14, 0.4], 0)).toBe(false);
  });

  it('bound is ln 4 for K=3 and ln 3 for K>=4 (analytic derivation in grm.ts)', () => {
    expect(minDiscriminationSpacing(2)).toBe(0);
    expect(minDiscriminationSpacing(3)).toBeCloseTo(Math.log(4), 15);
    for (const K of [4, 5, 6, 10]) expect(minDiscriminationSpacing(K)).toBeCloseTo(Math.log(3), 15);
  });

  it('at the K=5 bound the left dip degenerates into the tie p1 = p2 = p3 = 1/4', () => {
    // a*d = ln 3, theta one spacing above b1 (x = s): c1 = sigma(ln 3) = 3/4, c2 = sigma(0) = 1/2,
    // c3 = sigma(-ln 3) = 1/4, c4 = sigma(-2 ln 3) = 1/10.
    // p = [1 - 3/4, 3/4 - 1/2, 1/2 - 1/4, 1/4 - 1/10, 1/10] = [0.25, 0.25, 0.25, 0.15, 0.1].
    const p = { a: 1, b1: 0, d: Math.log(3) };
    const probs = gradeProbs(Math.log(3), p, 5);
    const expected = [0.25, 0.25, 0.25, 0.15, 0.1];
    probs.forEach((v, k) => expect(v).toBeCloseTo(expected[k], 14));
    expect(isUnimodal(probs)).toBe(true);
  });

  it('is unimodal over a dense theta grid for random parameters satisfying the constraint', () => {
    const r = rng(6);
    for (let i = 0; i < 120; i++) {
      const K = 3 + Math.floor(r() * 6);
      // Half exactly on the bound (worst case), half from the training parameterisation.
      const p =
        i % 2 === 0
          ? constrainParams(
              { a: Math.exp(uniform(r, -2, 2)), b1: uniform(r, -3, 3), d: Math.exp(uniform(r, -4, 0)) },
              K,
            )
          : fromRaw({ rawA: uniform(r, -3, 3), b1: uniform(r, -3, 3), rawD: uniform(r, -8, 2) }, K);
      expect(p.a * p.d).toBeGreaterThanOrEqual(minDiscriminationSpacing(K));
      expect(firstDip(p, K, 0.002 / p.a, 1e-12)).toBeUndefined();
    }
  });

  it('below the bound a dip does occur, so the bound is tight', () => {
    for (const K of [3, 4, 5, 6, 8]) {
      const s = minDiscriminationSpacing(K) * 0.99;
      const p = { a: 1.3, b1: -0.4, d: s / 1.3 };
      const theta = firstDip(p, K, 0.001, 0);
      expect(theta, `K=${K}`).toBeDefined();
      const probs = gradeProbs(theta as number, p, K);
      expect(isUnimodal(probs, 0)).toBe(false);
    }
    // The a = d = 1 hand case (a*d = 1 < ln 3) is unimodal at its centre but not everywhere:
    // at x = a(theta - b1) = 1.05: sigma(1.05) = 0.74077, sigma(0.05) = 0.51250, sigma(-0.95) = 0.27888,
    // p1 = 0.25923, p2 = 0.74077 - 0.51250 = 0.22828, p3 = 0.51250 - 0.27888 = 0.23361 (p1 > p2 < p3).
    const hand = { a: 1, b1: -1.5, d: 1 };
    const probs = gradeProbs(-1.5 + 1.05, hand, 5);
    expect(probs.slice(0, 3).map((v) => +v.toFixed(5))).toEqual([0.25923, 0.22828, 0.23361]);
    expect(isUnimodal(probs)).toBe(false);
  });

  it('constrainParams raises a only when needed and keeps thresholds', () => {
    const K = 5;
    const low = { a: 0.5, b1: -1, d: 1 };
    const c = constrainParams(low, K);
    expect(c.a * c.d).toBeGreaterThanOrEqual(Math.log(3));
    expect(c.a).toBeCloseTo(Math.log(3), 12);
    expect(thresholds(c, K)).toEqual(thresholds(low, K));
    const ok = { a: 3, b1: -1, d: 1 };
    expect(constrainParams(ok, K)).toEqual(ok);
  });

  it('fromRaw / toRaw round-trip and fromRaw always respects the bound', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const K = 2 + Math.floor(r() * 9);
      const raw = { rawA: uniform(r, -5, 5), b1: uniform(r, -5, 5), rawD: uniform(r, -15, 5) };
      const p = fromRaw(raw, K);
      expect(p.a * p.d).toBeGreaterThan(minDiscriminationSpacing(K));
      const back = toRaw(p, K);
      expect(back.rawA).toBeCloseTo(raw.rawA, 8);
      expect(back.b1).toBe(raw.b1);
      // rawD far negative is ill-conditioned (softplus ~ e^rawD); compare in softplus space.
      expect(softplus(back.rawD)).toBeCloseTo(softplus(raw.rawD), 10);
    }
    expect(() => toRaw({ a: 1, b1: 0, d: 1 }, 5)).toThrow(/unimodality bound/);
  });
});

describe('meetsUnimodalBound', () => {
  it('accepts parameters from the raw parameterisation at its limit despite round-off', async () => {
    const { fromRaw, meetsUnimodalBound, minDiscriminationSpacing } =
      await import('../src/model/grading/grm.ts');
    // rawD far negative: softplus underflows and a*d = ln 3 up to the rounding of s/a*a.
    for (const rawA of [-3, -0.7, 0.1, 0.9, 2.3, 7]) {
      const p = fromRaw({ rawA, b1: 0.3, rawD: -800 }, 5);
      expect(meetsUnimodalBound(p, 5)).toBe(true);
    }
    expect(meetsUnimodalBound({ a: 1, d: minDiscriminationSpacing(5) * (1 - 1e-9) }, 5)).toBe(false);
    expect(meetsUnimodalBound({ a: 1, d: 1 }, 5)).toBe(false);
  });
});
