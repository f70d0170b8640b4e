// Prompt-grouped cross-validation and model selection for AGQG heads.
//
// Ability: ridge on standardised features, solved in the dual from one Gram
// matrix per outer fold (standardisation fitted on that fold's training rows).
// GRM link: fitted on out-of-fold abilities (nested folds inside each outer
// training set), never on in-sample ridge outputs, whose spread is inflated.
// The final head: ridge on the whole pool, link on the CV out-of-fold abilities.
import { AgqgError } from '../errors.ts';
import { HEAD_FORMAT, HEAD_VERSION, type HeadParams } from '../grading/head.ts';
import type {
  CandidateReport,
  InputCandidate,
  LambdaReport,
  TrainConfig,
  TrainData,
  TrainResult,
} from './cv-types.ts';
import { argmax, evaluateInput, linkedReport, oofMlp, type FoldState } from './cv-folds.ts';
import { inputName } from './design.ts';
import { fitFinalMlp, fitFinalRidge } from './final-fit.ts';
import { groupedFolds } from './folds.ts';
import { fitGrmLink } from './grm-fit.ts';
import type { Matrix } from './linalg.ts';

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
  const results: { theta: Float64Array; score: Float64Array; states: FoldState[]; pooled: Matrix | null }[] =
    [];
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
  await cfg.checkpoint?.();
  cfg.log(`final fit: ${selected.name}, lambda ${selected.lambda} on all ${N} images`);
  const fin = await fitFinalRidge(chosen.x, data.mos, selected.lambda, cfg.gram, results[bestRidge].pooled);
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
