// The final head on every row: ridge with the chosen penalty (weights recovered
// from the dual) and, when the MLP won, the MLP folded onto the standardised
// features so the head stays HeadParams 'linear' or 'mlp' (see cv.ts).
import { jsGram, type MlpOptions, type TrainData } from './cv-types.ts';
import { groupIds, kernelScale } from './cv-folds.ts';
import { cholesky, choleskySolve, matTVec, matrix, type Matrix } from './linalg.ts';
import { trainMlp, type Mlp } from './mlp.ts';
import { fitKernelPca, kernelPcaScores, type MatMulFn } from './pca.ts';
import { applyStandardizer, fitStandardizer } from './standardize.ts';

/** Ridge on every row with pool standardisation; returns the head's linear part. */
export async function fitFinalRidge(
  x: Matrix,
  mos: Float64Array,
  lambdaRel: number,
  gramFn: (m: Matrix) => Promise<Matrix> = jsGram,
  /** The Gram of the pool-standardised rows when CV already has it (pooledStandardisation). */
  known: Matrix | null = null,
) {
  const st = fitStandardizer(x);
  const z = applyStandardizer(st, x);
  const all = Array.from({ length: x.rows }, (_, i) => i);
  const g = known ?? (await gramFn(z));
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
