// The per-fold work of cross-validation: one standardisation and Gram per outer
// fold, out-of-fold ridge (and MLP) abilities, and the GRM link fitted on
// out-of-fold abilities of each fold's training rows (see cv.ts).
import { nowMs } from '../util/clock.ts';
import { expectedGrade, gradeProbs, toMos, type GrmParams, type MosScale } from '../grading/grm.ts';
import type { HeadInput } from '../grading/head.ts';
import { groupedSrcc, summarize } from '../grading/metrics.ts';
import {
  jsGram,
  type CandidateReport,
  type LambdaReport,
  type MlpOptions,
  type TrainConfig,
  type TrainData,
} from './cv-types.ts';
import { inputName } from './design.ts';
import { foldIndices, groupedFolds } from './folds.ts';
import { fitGrmLink } from './grm-fit.ts';
import { matrix, type Matrix } from './linalg.ts';
import { mlpPredict, trainMlp } from './mlp.ts';
import { fitKernelPca, kernelPcaScores } from './pca.ts';
import { kernelRidgePredict } from './ridge.ts';
import { applyStandardizer, fitStandardizer } from './standardize.ts';

export function linkScores(
  theta: ArrayLike<number>,
  grm: GrmParams,
  K: number,
  scale: MosScale,
): Float64Array {
  return Float64Array.from({ length: theta.length }, (_, i) =>
    toMos(expectedGrade(gradeProbs(theta[i], grm, K)), K, scale),
  );
}

/** Mean squared norm of the centred training rows, from the Gram (the lambda unit). */
export function kernelScale(g: Matrix, train: readonly number[]): number {
  const N = g.rows;
  let diag = 0;
  let total = 0;
  for (const i of train) {
    diag += g.data[i * N + i];
    for (const j of train) total += g.data[i * N + j];
  }
  const n = train.length;
  return diag / n - total / (n * n);
}

export interface FoldState {
  train: number[];
  test: number[];
  g: Matrix;
  scale: number;
}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Out-of-fold ridge abilities for each lambda (relative), from the per-fold Grams. */
export function oofAbilities(
  states: readonly FoldState[],
  mos: Float64Array,
  lambdas: readonly number[],
): Float64Array[] {
  const out = lambdas.map(() => new Float64Array(mos.length));
  for (const s of states) {
    const preds = kernelRidgePredict(
      s.g,
      mos,
      s.train,
      s.test,
      lambdas.map((l) => l * s.scale),
    );
    preds.forEach((p, li) => s.test.forEach((v, t) => (out[li][v] = p[t])));
  }
  return out;
}

/**
 * Ridge + GRM link for one head input: lambda by pooled out-of-fold SRCC over
 * the coarse grid, then refined around the best, then the link by nested folds.
 */
export async function evaluateInput(
  x: Matrix,
  input: HeadInput,
  data: TrainData,
  folds: Int32Array,
  cfg: TrainConfig,
) {
  const N = x.rows;
  const name = inputName(input);
  const states: FoldState[] = [];
  // Standardised on every row (features only, no ratings): one Gram serves all folds and the final fit.
  const pooled = cfg.pooledStandardisation
    ? await (cfg.gram ?? jsGram)(applyStandardizer(fitStandardizer(x), x))
    : null;
  for (let f = 0; f < cfg.folds; f++) {
    const t0 = nowMs();
    const { train, test } = foldIndices(folds, f);
    const g =
      pooled ??
      (await (cfg.gram ?? jsGram)(
        applyStandardizer(fitStandardizer(matrix(train.length, x.cols, gatherRows(x, train))), x),
      ));
    states.push({ train, test, g, scale: kernelScale(g, train) });
    await cfg.checkpoint?.();
    cfg.log(
      `  ${name}: fold ${f + 1}/${cfg.folds} Gram (${train.length} train, ${test.length} test) ${((nowMs() - t0) / 1000).toFixed(1)} s`,
    );
  }
  const mosArr = Array.from(data.mos);
  const path: LambdaReport[] = [];
  const thetas: Float64Array[] = [];
  const tryLambdas = async (lambdas: readonly number[]): Promise<void> => {
    const fresh = lambdas.filter((l) => !path.some((p) => Math.abs(p.lambda / l - 1) < 1e-9));
    await cfg.checkpoint?.();
    oofAbilities(states, data.mos, fresh).forEach((oof, li) => {
      const s = summarize(Array.from(oof), mosArr, data.generators);
      path.push({ input: name, lambda: fresh[li], srcc: s.srcc, meanGroupSrcc: s.meanGroupSrcc ?? NaN });
      thetas.push(oof);
      cfg.log(
        `  ${name}: lambda ${fresh[li].toPrecision(3)}  CV SRCC ${s.srcc.toFixed(4)}  within-generator ${(s.meanGroupSrcc ?? NaN).toFixed(4)}`,
      );
    });
  };
  await tryLambdas(cfg.lambdas);
  if (cfg.refine) {
    const l = path[argmax(path.map((p) => p.srcc))].lambda;
    await tryLambdas([l / Math.sqrt(cfg.refine), l * Math.sqrt(cfg.refine)]);
  }
  const best = argmax(path.map((p) => p.srcc));
  const lambda = path[best].lambda;
  const theta = thetas[best];
  path.sort((a, b) => a.lambda - b.lambda);

  // Link per outer fold from nested out-of-fold abilities of its training rows.
  const score = new Float64Array(N);
  const foldSrcc: number[] = [];
  for (const [f, s] of states.entries()) {
    await cfg.checkpoint?.();
    const inner = groupedFolds(
      s.train.map((i) => data.prompts[i]),
      cfg.folds,
      cfg.seed + 1 + f,
    );
    const innerTheta = new Float64Array(s.train.length);
    for (let h = 0; h < cfg.folds; h++) {
      const { train: it, test: iv } = foldIndices(inner, h);
      const [pred] = kernelRidgePredict(
        s.g,
        data.mos,
        it.map((k) => s.train[k]),
        iv.map((k) => s.train[k]),
        [lambda * s.scale],
      );
      iv.forEach((k, t) => (innerTheta[k] = pred[t]));
    }
    const link = fitGrmLink(
      innerTheta,
      s.train.map((i) => data.mos[i]),
      cfg.K,
      cfg.scale,
    );
    const testTheta = s.test.map((i) => theta[i]);
    const mapped = linkScores(testTheta, link.params, cfg.K, cfg.scale);
    s.test.forEach((i, t) => (score[i] = mapped[t]));
    foldSrcc.push(
      summarize(
        Array.from(mapped),
        s.test.map((i) => data.mos[i]),
      ).srcc,
    );
  }
  const report: CandidateReport = {
    name: `ridge[${name}]+grm`,
    input: name,
    lambda,
    cv: summarize(Array.from(score), mosArr, data.generators),
    foldSrcc,
    withinSetting: groupedSrcc(Array.from(score), mosArr, data.settings),
  };
  return { report, path, theta, score, states, pooled };
}

export function groupIds(names: readonly string[]): Int32Array {
  const ids = new Map<string, number>();
  return Int32Array.from(names, (g) => {
    if (!ids.has(g)) ids.set(g, ids.size);
    return ids.get(g) as number;
  });
}

/**
 * Link per outer fold fitted on the out-of-fold abilities of the other folds'
 * rows (an MLP per inner fold would cost folds^2 trainings; the three link
 * parameters see abilities from models that were trained on the held-out fold,
 * which can only flatter PLCC/RMSE slightly, never SRCC).
 */
export function linkedReport(
  name: string,
  input: string,
  lambda: number,
  theta: Float64Array,
  data: TrainData,
  states: readonly FoldState[],
  cfg: TrainConfig,
) {
  const score = new Float64Array(theta.length);
  const foldSrcc: number[] = [];
  for (const s of states) {
    const link = fitGrmLink(
      s.train.map((i) => theta[i]),
      s.train.map((i) => data.mos[i]),
      cfg.K,
      cfg.scale,
    );
    const mapped = linkScores(
      s.test.map((i) => theta[i]),
      link.params,
      cfg.K,
      cfg.scale,
    );
    s.test.forEach((i, t) => (score[i] = mapped[t]));
    foldSrcc.push(
      summarize(
        Array.from(mapped),
        s.test.map((i) => data.mos[i]),
      ).srcc,
    );
  }
  const mosArr = Array.from(data.mos);
  const report: CandidateReport = {
    name,
    input,
    lambda,
    cv: summarize(Array.from(score), mosArr, data.generators),
    foldSrcc,
    withinSetting: groupedSrcc(Array.from(score), mosArr, data.settings),
  };
  return { report, score };
}

/** Out-of-fold MLP abilities: kernel PCA and MLP fitted on each outer fold's training rows. */
export async function oofMlp(
  states: readonly FoldState[],
  data: TrainData,
  opts: MlpOptions,
  cfg: TrainConfig,
): Promise<Float64Array> {
  const out = new Float64Array(data.mos.length);
  const groups = groupIds(data.generators);
  for (let f = 0; f < states.length; f++) {
    const t0 = nowMs();
    const s = states[f];
    const pca = await fitKernelPca(s.g, s.train, opts.components, cfg.seed + 100 + f, cfg.matMul);
    const xtr = kernelPcaScores(s.g, pca, s.train);
    const xte = kernelPcaScores(s.g, pca, s.test);
    const net = trainMlp(
      xtr,
      s.train.map((i) => data.mos[i]),
      s.train.map((i) => groups[i]),
      { ...opts, seed: opts.seed + f },
    );
    mlpPredict(net, xte).forEach((v, t) => (out[s.test[t]] = v));
    cfg.log(
      `  mlp: fold ${f + 1}/${states.length} (${pca.values.length} components, ${opts.hidden} units) ${((nowMs() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return out;
}

export function gatherRows(x: Matrix, idx: readonly number[]): Float64Array {
  const out = new Float64Array(idx.length * x.cols);
  idx.forEach((r, i) => out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return out;
}
