// The page's two fits of a pack's head to one person's ratings (issue 26), on the
// same maths as `agqg train`:
// - recalibrate: the pack's ability weights stay; the GRM link (a, b1, d) and the
//   MOS scale are fitted to the ratings, so the ranking does not move and the grades
//   follow the person's scale;
// - retrain: new ridge ability weights on the pack's image features as well, chosen
//   by grouped cross-validation (trainAndSelect, ridge only).
// Both report out-of-fold agreement beside the base head's on the same ratings.
import { AgqgError } from '../errors.ts';
import { expectedGrade, gradeProbs, toMos, type GrmParams, type MosScale } from '../grading/grm.ts';
import type { HeadParams } from '../grading/head.ts';
import { plcc, rmse, srcc } from '../grading/metrics.ts';
import { bootstrapCorrelations, gradeOfScore, weightedKappa, type Interval } from './agreement.ts';
import { linkScores } from './cv-folds.ts';
import { trainAndSelect } from './cv.ts';
import type { Matrix } from './linalg.ts';
import { foldIndices, groupedFolds } from './folds.ts';
import { fitGrmLink } from './grm-fit.ts';

export type CalibrationMode = 'recalibrate' | 'retrain';

/** Ratings each mode needs at least: 3 link parameters, or a penalty chosen by nested folds. */
export const MIN_RATINGS: Readonly<Record<CalibrationMode, number>> = { recalibrate: 10, retrain: 50 };
/** Cross-validation folds (fewer when there are fewer groups). */
export const CALIBRATION_FOLDS = 5;
/** Fewer distinct prompts than this and folds go by image: a handful of prompt groups leaves folds lopsided. */
export const MIN_PROMPT_GROUPS = 10;
/** Ridge penalties of the retrain (relative, as in agqg train): decades, refined by half decades. */
export const RETRAIN_LAMBDAS = [1e-2, 1e-1, 1, 10, 100, 1000];
const RETRAIN_REFINE = 10;
/** A new head counts as worse when its CV figure is below the base head's by more than this. */
export const WORSE_MARGIN = 0.01;

export interface CalibrationData {
  /** One per rated image, on `scale`. */
  ratings: Float64Array;
  /** The person's scale: the new head's MOS scale. */
  scale: MosScale;
  /** Prompt of each rated image ('' when unknown): folds keep one prompt's images together. */
  prompts: readonly string[];
  /** Image names (folds by image when prompts are too few). */
  names: readonly string[];
  /** The base head's ability of each rated image. */
  theta: Float64Array;
  base: { grm: GrmParams; scale: MosScale };
  K: number;
}

export interface CalibrationOptions {
  seed?: number;
  log?: (line: string) => void;
  checkpoint?: () => Promise<void>;
  /** X X^T (the worker passes onnxruntime-web's). */
  gram?: (m: Matrix) => Promise<Matrix>;
}

export interface Agreement {
  srcc: number;
  plcc: number;
  /** On the person's scale. */
  rmse: number;
  /** Quadratic-weighted kappa of the grade (rounded expected grade) against the rated grade. */
  kappa: number;
  /** 95% percentile bootstrap over the rated images. */
  srccInterval: Interval;
  plccInterval: Interval;
}

export interface CalibrationFit {
  mode: CalibrationMode;
  n: number;
  folds: number;
  /** How the folds were grouped. */
  groupedBy: 'prompt' | 'image';
  /** Out-of-fold agreement of the new head. */
  cv: Agreement & { foldSrcc: number[] };
  /** The base head on the same ratings (its score moved linearly onto the person's scale). */
  base: Agreement;
  grm: GrmParams;
  scale: MosScale;
  /** Retrain only: the new head (ability weights, standardisation, link). */
  head: HeadParams | null;
  lambda: number | null;
  /** Plain-words verdicts: empty when the new head is at least as good as the base head. */
  warnings: string[];
}

function agreement(
  pred: readonly number[],
  truth: readonly number[],
  K: number,
  scale: MosScale,
  seed: number,
): Agreement {
  const boot = bootstrapCorrelations(pred, truth, seed);
  return {
    srcc: srcc(pred, truth),
    plcc: plcc(pred, truth),
    rmse: rmse(pred, truth),
    kappa: weightedKappa(
      pred.map((v) => gradeOfScore(v, K, scale)),
      truth.map((v) => gradeOfScore(v, K, scale)),
      K,
    ),
    srccInterval: boot.srcc,
    plccInterval: boot.plcc,
  };
}

/** The base head's scores of the rated images, on the person's scale. */
export function baseScores(data: CalibrationData): number[] {
  const { base, scale, K } = data;
  return Array.from(data.theta, (t) => {
    const s = toMos(expectedGrade(gradeProbs(t, base.grm, K)), K, base.scale);
    return scale.min + ((s - base.scale.min) / (base.scale.max - base.scale.min)) * (scale.max - scale.min);
  });
}

function foldGroups(data: CalibrationData): { groups: string[]; by: 'prompt' | 'image'; folds: number } {
  const distinct = new Set(data.prompts.filter((p) => p !== '')).size;
  const byPrompt = distinct >= MIN_PROMPT_GROUPS && data.prompts.every((p) => p !== '');
  const groups = byPrompt ? [...data.prompts] : data.names.map((n, i) => `${i}\u0000${n}`);
  return {
    groups,
    by: byPrompt ? 'prompt' : 'image',
    folds: Math.min(CALIBRATION_FOLDS, new Set(groups).size),
  };
}

function check(data: CalibrationData, mode: CalibrationMode): void {
  const n = data.ratings.length;
  if (data.theta.length !== n || data.prompts.length !== n || data.names.length !== n) {
    throw new AgqgError('internal', `calibration: ${n} ratings but ${data.theta.length} abilities`);
  }
  const need = MIN_RATINGS[mode];
  if (n < need) {
    throw new AgqgError(
      'invalid_argument',
      `${mode === 'recalibrate' ? 'Recalibrating' : 'Retraining'} needs at least ${need} ratings; there are ${n}. Rate ${need - n} more.`,
    );
  }
  for (const r of data.ratings) {
    if (!Number.isFinite(r) || r < data.scale.min || r > data.scale.max) {
      throw new AgqgError(
        'invalid_argument',
        `a rating of ${r} is outside the scale ${data.scale.min}..${data.scale.max}`,
      );
    }
  }
  if (new Set(data.ratings).size < 2) {
    throw new AgqgError('invalid_argument', 'every rating is the same: a fit needs ratings that differ');
  }
}

function verdicts(fit: Pick<CalibrationFit, 'mode' | 'cv' | 'base' | 'n'>): string[] {
  const out: string[] = [];
  if (fit.mode === 'retrain' && fit.cv.srcc < fit.base.srcc - WORSE_MARGIN) {
    out.push(
      `The retrained head ranks your ratings worse than the pack's own head (SRCC ${fit.cv.srcc.toFixed(3)} against ${fit.base.srcc.toFixed(3)}): keep the pack's head, or recalibrate it instead.`,
    );
  }
  if (fit.cv.kappa < fit.base.kappa - WORSE_MARGIN && fit.cv.rmse > fit.base.rmse) {
    out.push(
      `The new grades agree with yours less than the pack's own grades do (kappa ${fit.cv.kappa.toFixed(3)} against ${fit.base.kappa.toFixed(3)}): the fit is worse than the base head.`,
    );
  }
  if (fit.cv.srccInterval.hi - fit.cv.srccInterval.lo > 0.3) {
    out.push(
      `With ${fit.n} ratings the figures are uncertain (SRCC could be anywhere from ${fit.cv.srccInterval.lo.toFixed(2)} to ${fit.cv.srccInterval.hi.toFixed(2)}): rate more images for a firmer result.`,
    );
  }
  return out;
}

/** Recalibrate: the base head's abilities, a new GRM link and MOS scale, by grouped CV then on every rating. */
export async function recalibrate(
  data: CalibrationData,
  opts: CalibrationOptions = {},
): Promise<CalibrationFit> {
  check(data, 'recalibrate');
  const seed = opts.seed ?? 1;
  const { K, scale } = data;
  const n = data.ratings.length;
  const { groups, by, folds } = foldGroups(data);
  const assign = groupedFolds(groups, folds, seed);
  const oof = new Float64Array(n);
  const foldSrcc: number[] = [];
  for (let f = 0; f < folds; f++) {
    await opts.checkpoint?.();
    const { train, test } = foldIndices(assign, f);
    const link = fitGrmLink(
      train.map((i) => data.theta[i]),
      train.map((i) => data.ratings[i]),
      K,
      scale,
    );
    const mapped = linkScores(
      test.map((i) => data.theta[i]),
      link.params,
      K,
      scale,
    );
    test.forEach((i, t) => (oof[i] = mapped[t]));
    foldSrcc.push(
      srcc(
        Array.from(mapped),
        test.map((i) => data.ratings[i]),
      ),
    );
    opts.log?.(`recalibrate: fold ${f + 1}/${folds}`);
  }
  const link = fitGrmLink(data.theta, data.ratings, K, scale);
  const truth = Array.from(data.ratings);
  const fit = {
    mode: 'recalibrate' as const,
    n,
    folds,
    groupedBy: by,
    cv: { ...agreement(Array.from(oof), truth, K, scale, seed), foldSrcc },
    base: agreement(baseScores(data), truth, K, scale, seed),
    grm: link.params,
    scale: { ...scale },
    head: null,
    lambda: null,
  };
  return { ...fit, warnings: verdicts(fit) };
}

/** Retrain: new ridge ability weights on the image features (one row per rating) and their link, by grouped CV. */
export async function retrain(
  data: CalibrationData,
  features: Matrix,
  opts: CalibrationOptions = {},
): Promise<CalibrationFit> {
  check(data, 'retrain');
  const n = data.ratings.length;
  if (features.rows !== n)
    throw new AgqgError('internal', `retrain: ${features.rows} feature rows for ${n} ratings`);
  const seed = opts.seed ?? 1;
  const { K, scale } = data;
  const { groups, by, folds } = foldGroups(data);
  // Ratings the features cannot predict at all leave a flat link (a -> 0): say so, not the maths.
  const result = await trainAndSelect(
    [{ input: { type: 'image' }, x: features }],
    {
      mos: data.ratings,
      prompts: groups,
      generators: groups.map(() => 'all'),
      settings: groups.map(() => 'all'),
    },
    {
      K,
      scale,
      folds,
      seed,
      lambdas: RETRAIN_LAMBDAS,
      refine: RETRAIN_REFINE,
      log: opts.log ?? (() => undefined),
      gram: opts.gram,
      checkpoint: opts.checkpoint,
      pooledStandardisation: true,
    },
  ).catch((err: unknown) => {
    if (err instanceof AgqgError && /discrimination|ability is constant/.test(err.message)) {
      throw new AgqgError(
        'invalid_argument',
        `Retraining found no relation between your ${n} ratings and the pack's image features that it could use: recalibrate instead, or rate more images.`,
      );
    }
    throw err;
  });
  const truth = Array.from(data.ratings);
  const fit = {
    mode: 'retrain' as const,
    n,
    folds,
    groupedBy: by,
    cv: {
      ...agreement(Array.from(result.oofScore), truth, K, scale, seed),
      foldSrcc: result.selected.foldSrcc,
    },
    base: agreement(baseScores(data), truth, K, scale, seed),
    grm: result.head.grm,
    scale: { ...scale },
    head: result.head,
    lambda: result.selected.lambda,
  };
  return { ...fit, warnings: verdicts(fit) };
}
