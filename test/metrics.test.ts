import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import {
  averageRanks,
  fitLogistic4,
  groupedSrcc,
  krcc,
  logistic4,
  plcc,
  plccLogistic,
  rmse,
  srcc,
  summarize,
  type Logistic4Params,
} from '../src/model/grading/metrics.ts';
import { mulberry32 } from '../src/model/util/rng.ts';

// Deterministic PRNG (mulberry32) so failures reproduce.
const rng = mulberry32;
/** Box-Muller normal deviate. */
const normal = (r: () => number) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());

describe('rank correlations and PLCC, hand-computed', () => {
  // x = [1,2,3,4,5], y = [2,4,5,4,5] (ties in y)
  const x = [1, 2, 3, 4, 5];
  const y = [2, 4, 5, 4, 5];

  it('averageRanks gives tied values the mean of their ranks', () => {
    // y sorted: 2 -> 1; 4,4 -> (2+3)/2 = 2.5; 5,5 -> (4+5)/2 = 4.5
    expect(averageRanks(y)).toEqual([1, 2.5, 4.5, 2.5, 4.5]);
  });

  it('plcc', () => {
    // means 3, 4; dx = [-2,-1,0,1,2], dy = [-2,0,1,0,1]
    // sxy = 4+0+0+0+2 = 6, sxx = 10, syy = 4+0+1+0+1 = 6 -> r = 6/sqrt(60) = 0.7745967
    expect(plcc(x, y)).toBeCloseTo(6 / Math.sqrt(60), 14);
    expect(plcc(x, y)).toBeCloseTo(0.7745967, 7);
  });

  it('srcc with ties uses average ranks', () => {
    // ranks x = [1..5], ranks y = [1,2.5,4.5,2.5,4.5]; both mean 3
    // dy = [-2,-0.5,1.5,-0.5,1.5]; sxy = 4+0.5+0-0.5+3 = 7; sxx = 10; syy = 4+.25+2.25+.25+2.25 = 9
    // rho = 7/sqrt(90) = 0.7378648
    expect(srcc(x, y)).toBeCloseTo(7 / Math.sqrt(90), 14);
  });

  it('krcc is tau-b with ties', () => {
    // x strictly increasing, so each pair's sign is the sign of y_j - y_i:
    // (1,2)+ (1,3)+ (1,4)+ (1,5)+ (2,3)+ (2,4)0 (2,5)+ (3,4)- (3,5)0 (4,5)+
    // nc = 7, nd = 1, n0 = 10, tied in x = 0, tied in y = 2 -> tau_b = 6/sqrt(10*8) = 0.6708204
    expect(krcc(x, y)).toBeCloseTo(6 / Math.sqrt(80), 14);
  });

  it('no ties: Spearman 1 - 6 sum d^2 / (n(n^2-1)) and Kendall (nc-nd)/n0', () => {
    const a = [1, 2, 3, 4, 5];
    const b = [10, 20, 40, 30, 50]; // ranks [1,2,4,3,5], d = [0,0,-1,1,0], sum d^2 = 2
    // rho = 1 - 12/120 = 0.9; only pair (3,4) discordant: tau = (9-1)/10 = 0.8
    expect(srcc(a, b)).toBeCloseTo(0.9, 14);
    expect(krcc(a, b)).toBeCloseTo(0.8, 14);
    // reversed b = [50,30,40,20,10]: ranks [5,3,4,2,1], d = [-4,-1,-1,2,4], sum d^2 = 38
    // rho = 1 - 6*38/120 = -0.9
    expect(srcc(a, [...b].reverse())).toBeCloseTo(-0.9, 14);
  });

  it('ties in both series', () => {
    const a = [1, 1, 2, 3];
    const b = [1, 2, 2, 3];
    // Kendall: (1,2) tied x; (2,3) tied y; other 4 pairs concordant -> 4/sqrt((6-1)(6-1)) = 0.8
    expect(krcc(a, b)).toBeCloseTo(0.8, 14);
    // ranks a = [1.5,1.5,3,4], ranks b = [1,2.5,2.5,4]; centred: [-1,-1,.5,1.5], [-1.5,0,0,1.5]
    // sxy = 1.5+2.25 = 3.75, sxx = syy = 4.5 -> 3.75/4.5 = 0.8333333
    expect(srcc(a, b)).toBeCloseTo(3.75 / 4.5, 14);
  });

  it('reversal flips the sign; rmse matches its definition', () => {
    const rev = [...y].reverse();
    const xr = [...x].reverse();
    expect(srcc(xr, y)).toBeCloseTo(-srcc(x, y), 14);
    expect(krcc(xr, y)).toBeCloseTo(-krcc(x, y), 14);
    expect(plcc(x, rev)).toBeCloseTo(plcc(xr, y), 14);
    // diffs [-1,-2,-2,0,0] -> sqrt((1+4+4)/5) = sqrt(1.8)
    expect(rmse(x, y)).toBeCloseTo(Math.sqrt(1.8), 14);
  });

  it('a monotone nonlinear relation has SRCC = KRCC = 1 but PLCC < 1', () => {
    const a = Array.from({ length: 20 }, (_, i) => i);
    const b = a.map((v) => Math.exp(v / 3));
    expect(srcc(a, b)).toBe(1);
    expect(krcc(a, b)).toBe(1);
    expect(plcc(a, b)).toBeLessThan(0.9);
  });

  it('degenerate input gives NaN; malformed input throws', () => {
    expect(srcc([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(krcc([1, 1, 1], [1, 2, 3])).toBeNaN();
    expect(plcc([1, 2, 3], [4, 4, 4])).toBeNaN();
    expect(srcc([1], [2])).toBeNaN();
    expect(rmse([], [])).toBeNaN();
    expect(() => srcc([1, 2], [1])).toThrow(/srcc: inputs differ in length \(2 vs 1\)/);
    expect(() => plcc([1, NaN], [1, 2])).toThrow(AgqgError);
    expect(() => krcc([1, 2], [1, Infinity])).toThrow(/non-finite value at index 1/);
  });
});

describe('VQEG 4-parameter logistic', () => {
  const truth: Logistic4Params = { b1: 4.6, b2: 0.4, b3: 0.3, b4: 0.15 };

  it('recovers the generating parameters from noise-free logistic data', () => {
    const r = rng(11);
    const pred = Array.from({ length: 200 }, () => -0.2 + r());
    const mos = pred.map((v) => logistic4(v, truth));
    const fit = fitLogistic4(pred, mos);
    expect(fit.converged).toBe(true);
    expect(fit.params.b1).toBeCloseTo(truth.b1, 6);
    expect(fit.params.b2).toBeCloseTo(truth.b2, 6);
    expect(fit.params.b3).toBeCloseTo(truth.b3, 6);
    expect(fit.params.b4).toBeCloseTo(truth.b4, 6);
    const agreement = plccLogistic(pred, mos);
    expect(agreement.plcc).toBeGreaterThan(1 - 1e-10);
    expect(agreement.rmse).toBeLessThan(1e-6);
    // Raw PLCC on the same data is visibly below 1: the mapping matters.
    expect(plcc(pred, mos)).toBeLessThan(0.995);
    expect(srcc(pred, mos)).toBe(1);
  });

  it('on noisy data reaches a least-squares stationary point no worse than the truth', () => {
    const r = rng(12);
    const pred = Array.from({ length: 300 }, () => -0.2 + r());
    const mos = pred.map((v) => logistic4(v, truth) + 0.25 * normal(r));
    const fit = fitLogistic4(pred, mos);
    const sse = (p: Logistic4Params) => pred.reduce((s, v, i) => s + (logistic4(v, p) - mos[i]) ** 2, 0);
    expect(fit.sse).toBeCloseTo(sse(fit.params), 8);
    expect(fit.sse).toBeLessThanOrEqual(sse(truth));
    // Central-difference gradient of the SSE vanishes at the fit (relative to the SSE scale).
    for (const key of ['b1', 'b2', 'b3', 'b4'] as const) {
      const h = 1e-6 * Math.max(1, Math.abs(fit.params[key]));
      const g =
        (sse({ ...fit.params, [key]: fit.params[key] + h }) -
          sse({ ...fit.params, [key]: fit.params[key] - h })) /
        (2 * h);
      expect(Math.abs(g) / fit.sse, key).toBeLessThan(1e-5);
    }
    expect(plccLogistic(pred, mos).plcc).toBeGreaterThanOrEqual(plcc(pred, mos) - 1e-12);
  });

  it('fits a decreasing relation and a nearly linear one', () => {
    const r = rng(13);
    const pred = Array.from({ length: 100 }, () => 10 * r());
    const down = pred.map((v) => logistic4(v, { b1: 1, b2: 5, b3: 5, b4: 1.2 }));
    expect(plccLogistic(pred, down).plcc).toBeGreaterThan(1 - 1e-10);
    const lin = pred.map((v) => 2 * v + 1);
    expect(plccLogistic(pred, lin).plcc).toBeGreaterThan(0.99999);
  });

  it('constant or too-short input: fit throws, plccLogistic reports NaN', () => {
    expect(() => fitLogistic4([1, 1, 1, 1], [1, 2, 3, 4])).toThrow(/predictions are constant/);
    expect(() => fitLogistic4([1, 2, 3], [1, 2, 3])).toThrow(/at least 4 pairs/);
    const out = plccLogistic([1, 2, 3, 4], [2, 2, 2, 2]);
    expect(out.plcc).toBeNaN();
    expect(out.rmse).toBeNaN();
    expect(out.fit).toBeNull();
  });
});

describe('grouped metrics and summary', () => {
  // group a: pred [1,2,3], mos [1,3,2] -> ranks d = [0,-1,1], rho = 1 - 6*2/(3*8) = 0.5
  // group b: pred [4,5,6,7], mos [4,5,6,7] -> 1
  // group c: a single image -> undefined, excluded from the mean
  const pred = [1, 4, 2, 5, 3, 6, 7, 9];
  const mos = [1, 4, 3, 5, 2, 6, 7, 1];
  const groups = ['a', 'b', 'a', 'b', 'a', 'b', 'b', 'c'];

  it('groupedSrcc gives per-group SRCC in first-appearance order and their mean', () => {
    const g = groupedSrcc(pred, mos, groups);
    expect(g.groups.map((x) => x.name)).toEqual(['a', 'b', 'c']);
    expect(g.groups.map((x) => x.n)).toEqual([3, 4, 1]);
    expect(g.groups[0].srcc).toBeCloseTo(0.5, 14);
    expect(g.groups[1].srcc).toBeCloseTo(1, 14);
    expect(g.groups[2].srcc).toBeNaN();
    expect(g.mean).toBeCloseTo(0.75, 14);
    expect(() => groupedSrcc(pred, mos, groups.slice(1))).toThrow(/7 group labels for 8 pairs/);
  });

  it('summarize bundles every metric consistently', () => {
    const s = summarize(pred, mos, groups);
    expect(s.n).toBe(8);
    expect(s.srcc).toBe(srcc(pred, mos));
    expect(s.krcc).toBe(krcc(pred, mos));
    expect(s.plcc).toBe(plcc(pred, mos));
    expect(s.rmse).toBe(rmse(pred, mos));
    expect(s.plccLogistic).toBe(plccLogistic(pred, mos).plcc);
    expect(s.rmseLogistic).toBe(plccLogistic(pred, mos).rmse);
    expect(s.meanGroupSrcc).toBeCloseTo(0.75, 14);
    expect(s.groups?.[0]).toMatchObject({ name: 'a', n: 3 });
    // group a plcc: pred [1,2,3], mos [1,3,2]: sxy = (-1)(-1)+0+(1)(0) = 1, sxx = syy = 2 -> 0.5
    expect(s.groups?.[0].plcc).toBeCloseTo(0.5, 14);
    const noGroups = summarize(pred, mos);
    expect(noGroups.groups).toBeUndefined();
    expect(noGroups.meanGroupSrcc).toBeUndefined();
  });
});
