// The types of cross-validated head training: the data and options going in,
// the per-candidate reports and the chosen head coming out (cv.ts).
import type { HeadInput, HeadParams } from '../grading/head.ts';
import type { MosScale } from '../grading/grm.ts';
import type { MetricsSummary } from '../grading/metrics.ts';
import { gram, type Matrix } from './linalg.ts';
import { DEFAULT_MLP, type MlpConfig } from './mlp.ts';
import type { MatMulFn } from './pca.ts';

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
  /**
   * Standardise on every row once instead of on each fold's training rows: it uses no labels, and
   * one Gram then serves every fold and the final fit (the page's retrain; agqg train keeps per fold).
   */
  pooledStandardisation?: boolean;
  /** Awaited between folds and penalties: the worker yields there and throws when the fit was cancelled. */
  checkpoint?: () => Promise<void>;
  /** A B for the kernel PCA; defaults to TypeScript. */
  matMul?: MatMulFn;
}

export interface MlpOptions extends MlpConfig {
  /** Principal components fed to the MLP. */
  components: number;
}

export const DEFAULT_MLP_OPTIONS: MlpOptions = { ...DEFAULT_MLP, components: 256 };

export const jsGram = async (m: Matrix): Promise<Matrix> => gram(m);

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
export interface InputCandidate {
  input: HeadInput;
  x: Matrix;
}
