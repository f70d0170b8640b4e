// Prompt-grouped cross-validation and model selection for AGQG heads.
//
// Ability: ridge on standardised features, solved in the dual from one Gram
// matrix per outer fold (standardisation fitted on that fold's training rows).
// GRM link: fitted on out-of-fold abilities (nested folds inside each outer
// training set), never on in-sample ridge outputs, whose spread is inflated.
// The final head: ridge on the whole pool, link on the CV out-of-fold abilities.
import { AgqgError } from '../../model/errors.ts';
import { expectedGrade, gradeProbs, toMos, type GrmParams, type MosScale } from '../../model/grading/grm.ts';
import { HEAD_FORMAT, HEAD_VERSION, type HeadInput, type HeadParams } from '../../model/grading/head.ts';
import { groupedSrcc, summarize, type MetricsSummary } from '../../model/grading/metrics.ts';
import { foldIndices, groupedFolds } from './folds.ts';
import { fitGrmLink } from './grm-fit.ts';
import { cholesky, choleskySolve, gram, matTVec, matrix, type Matrix } from './linalg.ts';
import { applyStandardizer, fitStandardizer } from './standardize.ts';
import { kernelRidgePredict } from './ridge.ts';
import { inputName } from './design.ts';
import { DEFAULT_MLP, mlpPredict, trainMlp, type Mlp, type MlpConfig } from './mlp.ts';
import { fitKernelPca, kernelPcaScores, type MatMulFn } from './pca.ts';

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
  /** When set, also tries an MLP on kernel-PCA scores and the ridge+MLP average (see mlp.ts). */
  mlp?: MlpOptions;
  /** A B for the kernel PCA; defaults to TypeScript. */
  matMul?: MatMulFn;
}

export interface MlpOptions extends MlpConfig {
  /** Principal components fed to the MLP. */
  components: number;
}

export const DEFAULT_MLP_OPTIONS: MlpOptions = { ...DEFAULT_MLP, components: 256 };

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
function oofAbilities(
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
async function evaluateInput(
  x: Matrix,
  input: HeadInput,
  data: TrainData,
  folds: Int32Array,
  cfg: TrainConfig,
) {
  const N = x.rows;
  const name = inputName(input);
  const states: FoldState[] = [];
  for (let f = 0; f < cfg.folds; f++) {
    const t0 = performance.now();
    const { train, test } = foldIndices(folds, f);
    const st = fitStandardizer(matrix(train.length, x.cols, gatherRows(x, train)));
    const g = await (cfg.gram ?? jsGram)(applyStandardizer(st, x));
    states.push({ train, test, g, scale: kernelScale(g, train) });
    cfg.log(
      `  ${name}: fold ${f + 1}/${cfg.folds} Gram (${train.length} train, ${test.length} test) ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
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
      cfg.log(
        `  ${name}: lambda ${fresh[li].toPrecision(3)}  CV SRCC ${s.srcc.toFixed(4)}  within-generator ${(s.meanGroupSrcc ?? NaN).toFixed(4)}`,
      );
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
  });
  const report: CandidateReport = {
    name: `ridge[${name}]+grm`,
    input: name,
    lambda,
    cv: summarize(Array.from(score), mosArr, data.generators),
    foldSrcc,
    withinSetting: groupedSrcc(Array.from(score), mosArr, data.settings),
  };
  return { report, path, theta, score, states };
}

function groupIds(names: readonly string[]): Int32Array {
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
function linkedReport(
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
async function oofMlp(
  states: readonly FoldState[],
  data: TrainData,
  opts: MlpOptions,
  cfg: TrainConfig,
): Promise<Float64Array> {
  const out = new Float64Array(data.mos.length);
  const groups = groupIds(data.generators);
  for (let f = 0; f < states.length; f++) {
    const t0 = performance.now();
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
      `  mlp: fold ${f + 1}/${states.length} (${pca.values.length} components, ${opts.hidden} units) ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  }
  return out;
}

function gatherRows(x: Matrix, idx: readonly number[]): Float64Array {
  const out = new Float64Array(idx.length * x.cols);
  idx.forEach((r, i) => out.set(x.data.subarray(r * x.cols, (r + 1) * x.cols), i * x.cols));
  return out;
}

/** Ridge on every row with pool standardisation; returns the head's linear part. */
export async function fitFinalRidge(
  x: Matrix,
  mos: Float64Array,
  lambdaRel: number,
  gramFn: (m: Matrix) => Promise<Matrix> = jsGram,
) {
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
  const alpha = choleskySolve(
    cholesky(matrix(n, n, kc), lambda),
    Float64Array.from(mos, (v) => v - my),
  );
  const zMean = new Float64Array(z.cols);
  for (let i = 0; i < n; i++) for (let j = 0; j < z.cols; j++) zMean[j] += z.data[i * z.cols + j] / n;
  const zc = matrix(
    n,
    z.cols,
    Float64Array.from(z.data, (v, k) => v - zMean[k % z.cols]),
  );
  const weights = matTVec(zc, alpha);
  let bias = my;
  for (let j = 0; j < weights.length; j++) bias -= zMean[j] * weights[j];
  return { standardizer: st, weights, bias, g, zc, zMean };
}

/**
 * The MLP on every row, folded onto the standardised features: scores are
 * s = P^T (z - mu) with P = Z_c^T V diag(1/(sqrt(w) scale)), so hidden weights
 * become P W1, the skip P w0, and mu moves into the biases. The head stays a
 * one-hidden-layer ReLU network on z, as HeadParams 'mlp' describes.
 */
export async function fitFinalMlp(
  fin: { g: Matrix; zc: Matrix; zMean: Float64Array },
  data: TrainData,
  opts: MlpOptions,
  seed: number,
  mul?: MatMulFn,
): Promise<{
  net: Mlp;
  hiddenWeights: Float64Array;
  hiddenBias: Float64Array;
  skip: Float64Array;
  bias: number;
}> {
  const n = fin.g.rows;
  const all = Array.from({ length: n }, (_, i) => i);
  const pca = await fitKernelPca(fin.g, all, opts.components, seed + 100 + 1000, mul);
  const x = kernelPcaScores(fin.g, pca, all);
  const net = trainMlp(x, data.mos, groupIds(data.generators), { ...opts, seed: opts.seed + 1000 });
  const k = pca.values.length;
  const H = net.hidden;
  const F = fin.zc.cols;
  // M = V diag(1/(sqrt(w) scale)) [W1 | w0]  (n x (H+1)), then P[W1|w0] = Z_c^T M.
  const cols = H + 1;
  const mm = new Float64Array(n * cols);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const v = pca.vectors.data[r * k + c] / (Math.sqrt(pca.values[c]) * pca.scale);
      if (v === 0) continue;
      const w = net.w1.subarray(c * H, c * H + H);
      for (let u = 0; u < H; u++) mm[r * cols + u] += v * w[u];
      mm[r * cols + H] += v * net.skip[c];
    }
  }
  const folded = new Float64Array(F * cols); // F x (H+1)
  for (let r = 0; r < n; r++) {
    const zr = fin.zc.data.subarray(r * F, r * F + F);
    const mr = mm.subarray(r * cols, r * cols + cols);
    for (let j = 0; j < F; j++) {
      const v = zr[j];
      const o = folded.subarray(j * cols, j * cols + cols);
      for (let u = 0; u < cols; u++) o[u] += v * mr[u];
    }
  }
  const hiddenWeights = new Float64Array(H * F);
  const hiddenBias = Float64Array.from(net.b1);
  const skip = new Float64Array(F);
  let bias = net.bias;
  for (let j = 0; j < F; j++) {
    for (let u = 0; u < H; u++) {
      hiddenWeights[u * F + j] = folded[j * cols + u];
      hiddenBias[u] -= folded[j * cols + u] * fin.zMean[j];
    }
    skip[j] = folded[j * cols + H];
    bias -= skip[j] * fin.zMean[j];
  }
  return { net, hiddenWeights, hiddenBias, skip, bias };
}

export interface InputCandidate {
  input: HeadInput;
  x: Matrix;
}

export async function trainAndSelect(
  candidates: readonly InputCandidate[],
  data: TrainData,
  cfg: TrainConfig,
): Promise<TrainResult> {
  if (candidates.length === 0) throw new AgqgError('internal', 'no head input to train on');
  const N = data.mos.length;
  const folds = groupedFolds(data.prompts, cfg.folds, cfg.seed);
  const reports: CandidateReport[] = [];
  const lambdaPath: LambdaReport[] = [];
  const results: { theta: Float64Array; score: Float64Array; states: FoldState[] }[] = [];
  for (const c of candidates) {
    if (c.x.rows !== N) throw new AgqgError('internal', `design matrix has ${c.x.rows} rows for ${N} labels`);
    cfg.log(
      `ridge on ${inputName(c.input)} (${c.x.cols} features), ${cfg.lambdas.length} penalties, ${cfg.folds} prompt-grouped folds`,
    );
    const r = await evaluateInput(c.x, c.input, data, folds, cfg);
    reports.push(r.report);
    lambdaPath.push(...r.path);
    results.push(r);
  }
  const bestRidge = argmax(reports.map((r) => r.cv.srcc));
  // MLP and ridge+MLP on the best ridge input: same folds, same Grams.
  const variants: { report: CandidateReport; theta: Float64Array; score: Float64Array; mix: number }[] = [
    { report: reports[bestRidge], theta: results[bestRidge].theta, score: results[bestRidge].score, mix: 0 },
  ];
  if (cfg.mlp) {
    const r = results[bestRidge];
    const input = reports[bestRidge].input;
    cfg.log(
      `mlp on ${input}: ${cfg.mlp.components} kernel-PCA components, ${cfg.mlp.hidden} ReLU units, ${cfg.mlp.epochs} epochs${cfg.mlp.rank > 0 ? `, ranking weight ${cfg.mlp.rank}` : ''}`,
    );
    const mlpTheta = await oofMlp(r.states, data, cfg.mlp, cfg);
    const ens = Float64Array.from(mlpTheta, (v, i) => (v + r.theta[i]) / 2);
    for (const [name, theta, mix] of [
      [`mlp[${input}]+grm`, mlpTheta, 1],
      [`ridge+mlp[${input}]+grm`, ens, 0.5],
    ] as const) {
      const lr = linkedReport(name, input, reports[bestRidge].lambda, theta, data, r.states, cfg);
      reports.push(lr.report);
      variants.push({ report: lr.report, theta, score: lr.score, mix });
    }
  }
  const pick = variants[argmax(variants.map((v) => v.report.cv.srcc))];
  const chosen = candidates[bestRidge];
  const selected = pick.report;
  cfg.log(`final fit: ${selected.name}, lambda ${selected.lambda} on all ${N} images`);
  const fin = await fitFinalRidge(chosen.x, data.mos, selected.lambda, cfg.gram);
  // Calibrate the link on out-of-fold abilities: they spread like abilities of unseen images.
  const link = fitGrmLink(pick.theta, data.mos, cfg.K, cfg.scale);
  const base = {
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    input: chosen.input,
    inputDim: chosen.x.cols,
    mean: Array.from(fin.standardizer.mean),
    std: Array.from(fin.standardizer.std),
    grm: link.params,
    K: cfg.K,
    mos: { min: cfg.scale.min, max: cfg.scale.max },
  } as const;
  let head: HeadParams;
  if (pick.mix === 0 || !cfg.mlp) {
    head = { ...base, kind: 'linear', weights: Array.from(fin.weights), bias: fin.bias };
  } else {
    const m = await fitFinalMlp(fin, data, cfg.mlp, cfg.seed, cfg.matMul);
    const a = pick.mix;
    head = {
      ...base,
      kind: 'mlp',
      weights: Array.from(fin.weights, (w, j) => (1 - a) * w + a * m.skip[j]),
      bias: (1 - a) * fin.bias + a * m.bias,
      hidden: {
        units: m.net.hidden,
        activation: 'relu',
        weights: Array.from(m.hiddenWeights),
        bias: Array.from(m.hiddenBias),
        out: Array.from(m.net.out, (v) => a * v),
      },
    };
  }
  return { head, selected, candidates: reports, lambdaPath, oofScore: pick.score, folds };
}
