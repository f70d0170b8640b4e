// The page's calibration fits (src/model/training/calibrate.ts) and their
// agreement figures, against hand-computed cases and synthetic raters whose
// truth is known.
import { describe, expect, it } from 'vitest';
import { headAbility, parseHeadParams } from '../src/model/grading/head.ts';
import { meetsUnimodalBound } from '../src/model/grading/grm.ts';
import { srcc } from '../src/model/grading/metrics.ts';
import { bootstrapCorrelations, gradeOfScore, weightedKappa } from '../src/model/training/agreement.ts';
import { MIN_RATINGS, recalibrate, retrain, type CalibrationData } from '../src/model/training/calibrate.ts';
import { linkScores } from '../src/model/training/cv-folds.ts';
import { matrix } from '../src/model/training/linalg.ts';
import { gaussian, mulberry32 } from '../src/model/util/rng.ts';

const BASE = { grm: { a: 3, b1: -1.5, d: 1 }, scale: { min: 0, max: 5 } };

describe('weighted kappa', () => {
  it('matches hand-computed cases', () => {
    expect(weightedKappa([1, 2, 3], [1, 2, 3], 3)).toBe(1);
    // Two grades swapped: observed disagreement 1, chance 0.5.
    expect(weightedKappa([1, 2], [2, 1], 2)).toBeCloseTo(-1, 12);
    // Binary quadratic kappa is Cohen's kappa: po 0.75, pe 0.5.
    expect(weightedKappa([1, 1, 2, 2], [1, 2, 2, 2], 2)).toBeCloseTo(0.5, 12);
    // K=3, one grade of four off by one:
    const a = [1, 2, 2, 3];
    const b = [2, 2, 2, 3];
    // obs: (1,2)=1, (2,2)=2, (3,3)=1; w12=1/4 -> o = 0.25/4 = 0.0625.
    // ra=[1,2,1], rb=[0,3,1]; e = sum_xy w_xy ra_x rb_y / 16 with w = (x-y)^2/4:
    //   (w12*1*3 + w13*1*1 + w23*2*1 + w32*1*3)/16 = (0.75 + 1 + 0.5 + 0.75)/16 = 3/16.
    expect(weightedKappa(a, b, 3)).toBeCloseTo(1 - 0.0625 / (3 / 16), 12);
    // Chance disagreement 0.25 equals the observed one: kappa 0; one grade on both sides: undefined.
    expect(weightedKappa([2, 2], [1, 3], 3)).toBeCloseTo(0, 12);
    expect(weightedKappa([2, 2], [2, 2], 3)).toBeNaN();
  });

  it('grades a score on its own scale by the nearest grade', () => {
    expect(gradeOfScore(0, 5, { min: 0, max: 5 })).toBe(1);
    expect(gradeOfScore(5, 5, { min: 0, max: 5 })).toBe(5);
    expect(gradeOfScore(2.5, 5, { min: 0, max: 5 })).toBe(3);
    expect(gradeOfScore(7, 5, { min: 1, max: 10 })).toBe(4); // 1 + 6/9*4 = 3.67
  });

  it('bootstraps an interval that holds the point estimate and narrows with more data', () => {
    const g = gaussian(mulberry32(3));
    const x = Array.from({ length: 400 }, () => g());
    const y = x.map((v) => v + g());
    const small = bootstrapCorrelations(x.slice(0, 40), y.slice(0, 40));
    const big = bootstrapCorrelations(x, y);
    const r = srcc(x, y);
    expect(big.srcc.lo).toBeLessThan(r);
    expect(big.srcc.hi).toBeGreaterThan(r);
    expect(small.srcc.hi - small.srcc.lo).toBeGreaterThan(big.srcc.hi - big.srcc.lo);
  });
});

/** A rater on 1..10 who is stricter than the base head's scale: rating = 1 + 9 ((q/5)^2) with noise. */
function strictRater(n: number, seed: number, noise = 0.3): CalibrationData & { quality: number[] } {
  const g = gaussian(mulberry32(seed));
  const quality = Array.from({ length: n }, () => Math.min(5, Math.max(0, 2.5 + 1.2 * g())));
  // The base head's ability is a noisy monotone view of quality.
  const theta = Float64Array.from(quality, (q) => q - 2.5 + 0.2 * g());
  const ratings = Float64Array.from(quality, (q) =>
    Math.min(10, Math.max(1, 1 + 9 * (q / 5) ** 2 + noise * g())),
  );
  return {
    ratings,
    scale: { min: 1, max: 10 },
    prompts: quality.map((_, i) => `p${i % 17}`),
    names: quality.map((_, i) => `img${i}.png`),
    theta,
    base: BASE,
    K: 5,
    quality,
  };
}

describe('recalibrate', () => {
  it('keeps the ranking, fits the person scale, and grades closer to them than the base head', async () => {
    const data = strictRater(60, 1);
    const fit = await recalibrate(data);
    expect(fit.mode).toBe('recalibrate');
    expect(fit.n).toBe(60);
    expect(fit.groupedBy).toBe('prompt');
    expect(meetsUnimodalBound(fit.grm, 5)).toBe(true);
    expect(fit.scale).toEqual({ min: 1, max: 10 });
    // A monotone link: the final head orders the images exactly as the base ability does.
    const mapped = Array.from(linkScores(data.theta, fit.grm, 5, fit.scale));
    expect(srcc(mapped, Array.from(data.theta))).toBeCloseTo(1, 12);
    expect(fit.cv.kappa).toBeGreaterThan(fit.base.kappa + 0.1);
    expect(fit.cv.rmse).toBeLessThan(fit.base.rmse);
    expect(fit.cv.srccInterval.lo).toBeLessThanOrEqual(fit.cv.srcc);
    expect(fit.cv.srccInterval.hi).toBeGreaterThanOrEqual(fit.cv.srcc);
    expect(fit.warnings).toEqual([]);
  });

  it('says plainly when there are too few ratings or they are all the same', async () => {
    const data = strictRater(MIN_RATINGS.recalibrate - 1, 2);
    await expect(recalibrate(data)).rejects.toThrow(/at least 10 ratings; there are 9\. Rate 1 more/);
    const same = strictRater(12, 2);
    same.ratings.fill(4);
    await expect(recalibrate(same)).rejects.toThrow(/every rating is the same/);
    const out = strictRater(12, 2);
    out.ratings[3] = 11;
    await expect(recalibrate(out)).rejects.toThrow(/11 is outside the scale 1\.\.10/);
  });

  it('warns when a fit is worse than the base head', async () => {
    // Ratings on the base head's own scale that the base head already matches: a link fitted on a
    // dozen noisy ratings can only lose, and the interval is wide.
    const g = gaussian(mulberry32(5));
    const theta = Float64Array.from({ length: 12 }, () => g());
    const base = linkScores(theta, BASE.grm, 5, BASE.scale);
    const ratings = Float64Array.from(base, (v) => Math.min(5, Math.max(0, v + 1.5 * g())));
    const fit = await recalibrate({
      ratings,
      scale: BASE.scale,
      prompts: Array.from(ratings, () => ''),
      names: Array.from(ratings, (_, i) => `i${i}`),
      theta,
      base: BASE,
      K: 5,
    });
    expect(fit.groupedBy).toBe('image');
    expect(fit.warnings.some((w) => /uncertain/.test(w))).toBe(true);
  });
});

describe('retrain', () => {
  it('learns new ability weights that beat a poor base head, and the head reproduces its ability', async () => {
    const n = 150;
    const F = 40;
    const g = gaussian(mulberry32(7));
    const x = Float64Array.from({ length: n * F }, () => g());
    const w = Float64Array.from({ length: F }, (_, j) => (j < 8 ? 1 : 0));
    const signal = Array.from({ length: n }, (_, i) => {
      let s = 0;
      for (let j = 0; j < F; j++) s += x[i * F + j] * w[j];
      return s;
    });
    const ratings = Float64Array.from(signal, (s) => Math.min(100, Math.max(0, 50 + 10 * s + 5 * g())));
    const data: CalibrationData = {
      ratings,
      scale: { min: 0, max: 100 },
      prompts: signal.map((_, i) => `p${i % 30}`),
      names: signal.map((_, i) => `img${i}`),
      // The base head sees only a little of the signal.
      theta: Float64Array.from(signal, (s) => 0.2 * s + g()),
      base: BASE,
      K: 5,
    };
    const lines: string[] = [];
    const fit = await retrain(data, matrix(n, F, x), { log: (l) => lines.push(l) });
    expect(fit.mode).toBe('retrain');
    expect(fit.cv.srcc).toBeGreaterThan(0.85);
    expect(fit.cv.srcc).toBeGreaterThan(fit.base.srcc + 0.2);
    expect(fit.cv.foldSrcc).toHaveLength(5);
    expect(fit.warnings).toEqual([]);
    expect(lines.some((l) => /fold 1\/5 Gram/.test(l))).toBe(true);
    const head = parseHeadParams(fit.head);
    expect(head.mos).toEqual({ min: 0, max: 100 });
    expect(head.grm).toEqual(fit.grm);
    const ab = signal.map((_, i) => headAbility(head, x.subarray(i * F, (i + 1) * F)));
    expect(srcc(ab, signal)).toBeGreaterThan(0.95);
  });

  it('stops at a checkpoint that throws (cancel), and needs 50 ratings', async () => {
    const data = strictRater(60, 9);
    const x = matrix(
      60,
      5,
      Float64Array.from({ length: 300 }, (_, k) => Math.sin(k)),
    );
    await expect(
      retrain(data, x, {
        checkpoint: async () => {
          throw new Error('cancelled by the test');
        },
      }),
    ).rejects.toThrow('cancelled by the test');
    const few = strictRater(MIN_RATINGS.retrain - 1, 9);
    await expect(retrain(few, matrix(49, 5))).rejects.toThrow(/at least 50 ratings/);
  });
});
