// Prompt-grouped cross-validation and model selection for AGQG heads.
//
// Ability: ridge on standardised features, solved in the dual from one Gram
// matrix per outer fold (standardisation fitted on that fold's training rows).
// GRM link: fitted on out-of-fold abilities (nested folds inside each outer
// training set), never on in-sample ridge outputs, whose spread is inflated.
// The final head: ridge on the whole pool, link on the CV out-of-fold abilities.
import { AgqgError } from '../../model/errors';
import { expectedGrade, gradeProbs, toMos, type GrmParams, type MosScale } from '../../model/grm';
import { HEAD_FORMAT, HEAD_VERSION, type HeadInput, type HeadParams } from '../../model/head';
import { groupedSrcc, summarize, type MetricsSummary } from '../../model/metrics';
import { foldIndices, groupedFolds } from './folds';
import { fitGrmLink } from './grm-fit';
import { cholesky, choleskySolve, gram, matTVec, matrix, type Matrix } from './linalg';
import { applyStandardizer, fitStandardizer } from './standardize';
import { kernelRidgePredict } from './ridge';
import { inputName } from './design';

export interface TrainData {
  mos: Float64Array;
  prompts: string[];
  /** Generator of each image (within-generator SRCC, cv.groups / cv.meanGroupSrcc). */
  generators: string[];
  /** Generator setting of each image (withinSetting). */
  settings: string[];
}

export interface TrainConfig {
  K: number;
  scale: MosScale;
  folds: number;
  seed: number;
  /** Ridge penalties relative to the mean squared row norm of the centred training features. */
  lambdas: number[];
  /** When set (the grid's ratio), also tries the best lambda times and divided by its square root. */
  refine?: number;
  log: (line: string) => void;
  /** X X^T; defaults to the TypeScript one (the CLI passes onnxruntime's, see ort-gram.ts). */
  gram?: (m: Matrix) => Promise<Matrix>;
}

const jsGram = async (m: Matrix): Promise<Matrix> => gram(m);

export interface CandidateReport {
  name: string;
  input: string;
  lambda: number;
  /** Pooled out-of-fold metrics of the predicted MOS (after the GRM link). */
  cv: MetricsSummary;
  /** SRCC of each outer fold. */
  foldSrcc: number[];
  /** SRCC within each generator setting and their mean. */
  withinSetting: { groups: { name: string; n: number; srcc: number }[]; mean: number };
}

export interface LambdaReport {
  input: string;
  lambda: number;
  srcc: number;
  meanGroupSrcc: number;
}

export interface TrainResult {
  head: HeadParams;
  selected: CandidateReport;
  candidates: CandidateReport[];
  lambdaPath: LambdaReport[];
  /** Out-of-fold predicted MOS of the selected candidate. */
  oofScore: Float64Array;
  folds: Int32Array;
}

export function linkScores(theta: ArrayLike<number>, grm: GrmParams, K: number, scale: MosScale): Float64Array {
  return Float64Array.from({ length: theta.length }, (_, i) => toMos(expectedGrade(gradeProbs(theta[i], grm, K)), K, scale));
}

/** Mean squared norm of the centred training rows, from the Gram (the lambda unit). */
function kernelScale(g: Matrix, train: readonly number[]): number {
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

interface FoldState {
  train: number[];
  test: number[];
  g: Matrix;
  scale: number;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Out-of-fold ridge abilities for each lambda (relative), from the per-fold Grams. */
function oofAbilities(states: readonly FoldState[], mos: Float64Array, lambdas: readonly number[]): Float64Array[] {
  const out = lambdas.map(() => new Float64Array(mos.length));
  for (const s of states) {
    const preds = kernelRidgePredict(s.g, mos, s.train, s.test, lambdas.map((l) => l * s.scale));
    preds.forEach((p, li) => s.test.forEach((v, t) => (out[li][v] = p[t])));
  }
  return out;
}

/**
 * Ridge + GRM link for one head input: lambda by pooled out-of-fold SRCC over
 * the coarse grid, then refined around the best, then the link by nested folds.
 */
async function evaluateInput(x: Matrix, input: HeadInput, data: TrainData, folds: Int32Array, cfg: TrainConfig) {
  const N = x.rows;
  const name = inputName(input);
  const states: FoldState[] = [];
  for (let f = 0; f < cfg.folds; f++) {
    const t0 = performance.now();
    const { train, test } = foldIndices(folds, f);
    const st = fitStandardizer(matrix(train.length, x.cols, gatherRows(x, train)));
    const g = await (cfg.gram ?? jsGram)(applyStandardizer(st, x));
    states.push({ train, test, g, scale: kernelScale(g, train) });
    cfg.log(`  ${name}: fold ${f + 1}/${cfg.folds} Gram (${train.length} train, ${test.length} test) ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const mosArr = Array.from(data.mos);
  const path: LambdaReport[] = [];
  const thetas: Float64Array[] = [];
  const tryLambdas = (lambdas: readonly number[]): void => {
    const fresh = lambdas.filter((l) => !path.some((p) => Math.abs(p.lambda / l - 1) < 1e-9));
    oofAbilities(states, data.mos, fresh).forEach((oof, li) => {
      const s = summarize(Array.from(oof), mosArr, data.generators);
      path.push({ input: name, lambda: fresh[li], srcc: s.srcc, meanGroupSrcc: s.meanGroupSrcc ?? NaN });
      thetas.push(oof);
      cfg.log(`  ${name}: lambda ${fresh[li].toPrecision(3)}  CV SRCC ${s.srcc.toFixed(4)}  within-generator ${(s.meanGroupSrcc ?? NaN).toFixed(4)}`);
    });
  };
  tryLambdas(cfg.lambdas);
  if (cfg.refine) {
    const l = path[argmax(path.map((p) => p.srcc))].lambda;
    tryLambdas([l / Math.sqrt(cfg.refine), l * Math.sqrt(cfg.refine)]);
  }
  const best = argmax(path.map((p) => p.srcc));
  const lambda = path[best].lambda;
  const theta = thetas[best];
  path.sort((a, b) => a.lambda - b.lambda);

  // Link per outer fold from nested out-of-fold abilities of its training rows.
  const score = new Float64Array(N);
  const foldSrcc: number[] = [];
  states.forEach((s, f) => {
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
    const link = fitGrmLink(innerTheta, s.train.map((i) => data.mos[i]), cfg.K, cfg.scale);
    const testTheta = s.test.map((i) => theta[i]);
    const mapped = linkScores(testTheta, link.params, cfg.K, cfg.scale);
    s.test.forEach((i, t) => (score[i] = mapped[t]));
    foldSrcc.push(summarize(Array.from(mapped), s.test.map((i) => data.mos[i])).srcc);
  });
  const report: CandidateReport = {
    name: `ridge[${name}]+grm`,
    input: name,
    lambda,
    cv: summarize(Array.from(score), mosArr, data.generators),
    foldSrcc,
    withinSetting: groupedSrcc(Array.from(score), mosArr, data.settings),
  };
  return { report, path, theta, score };
}

function gatherRows(x: Matrix, idx: readonly number[]): Float64Array {
  const out = new Float64Array(idx.length * x.cols);
  idx.forEach((r, i) => out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return out;
}

/** Ridge on every row with pool standardisation; returns the head's linear part. */
export async function fitFinalRidge(x: Matrix, mos: Float64Array, lambdaRel: number, gramFn: (m: Matrix) => Promise<Matrix> = jsGram) {
  const st = fitStandardizer(x);
  const z = applyStandardizer(st, x);
  const all = Array.from({ length: x.rows }, (_, i) => i);
  const g = await gramFn(z);
  const lambda = lambdaRel * kernelScale(g, all);
  // Dual solve, then w = Z_c^T alpha: the same solution as the primal, at N^3 cost.
  const n = x.rows;
  let my = 0;
  for (const v of mos) my += v;
  my /= n;
  const r = new Float64Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let j = 0; j < n; j++) t += g.data[i * n + j];
    r[i] = t / n;
    s += r[i];
  }
  s /= n;
  const kc = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) kc[i * n + j] = g.data[i * n + j] - r[i] - r[j] + s;
  const alpha = choleskySolve(cholesky(matrix(n, n, kc), lambda), Float64Array.from(mos, (v) => v - my));
  const zMean = new Float64Array(z.cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < z.cols; j++) zMean[j] += z.data[i * z.cols + j] / n;
  const zc = matrix(n, z.cols, Float64Array.from(z.data, (v, k) => v - zMean[k % z.cols]));
  const weights = matTVec(zc, alpha);
  let bias = my;
  for (let j = 0; j < weights.length; j++) bias -= zMean[j] * weights[j];
  return { standardizer: st, weights, bias };
}

export interface InputCandidate {
  input: HeadInput;
  x: Matrix;
}

export async function trainAndSelect(candidates: readonly InputCandidate[], data: TrainData, cfg: TrainConfig): Promise<TrainResult> {
  if (candidates.length === 0) throw new AgqgError('internal', 'no head input to train on');
  const N = data.mos.length;
  const folds = groupedFolds(data.prompts, cfg.folds, cfg.seed);
  const reports: CandidateReport[] = [];
  const lambdaPath: LambdaReport[] = [];
  const results: { theta: Float64Array; score: Float64Array }[] = [];
  for (const c of candidates) {
    if (c.x.rows !== N) throw new AgqgError('internal', `design matrix has ${c.x.rows} rows for ${N} labels`);
    cfg.log(`ridge on ${inputName(c.input)} (${c.x.cols} features), ${cfg.lambdas.length} penalties, ${cfg.folds} prompt-grouped folds`);
    const r = await evaluateInput(c.x, c.input, data, folds, cfg);
    reports.push(r.report);
    lambdaPath.push(...r.path);
    results.push(r);
  }
  const best = argmax(reports.map((r) => r.cv.srcc));
  const chosen = candidates[best];
  const selected = reports[best];
  cfg.log(`final fit: ${selected.name}, lambda ${selected.lambda} on all ${N} images`);
  const fin = await fitFinalRidge(chosen.x, data.mos, selected.lambda, cfg.gram);
  // Calibrate the link on out-of-fold abilities: they spread like abilities of unseen images.
  const link = fitGrmLink(results[best].theta, data.mos, cfg.K, cfg.scale);
  const head: HeadParams = {
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    kind: 'linear',
    input: chosen.input,
    inputDim: chosen.x.cols,
    mean: Array.from(fin.standardizer.mean),
    std: Array.from(fin.standardizer.std),
    weights: Array.from(fin.weights),
    bias: fin.bias,
    grm: link.params,
    K: cfg.K,
    mos: { min: cfg.scale.min, max: cfg.scale.max },
  };
  return { head, selected, candidates: reports, lambdaPath, oofScore: results[best].score, folds };
}
