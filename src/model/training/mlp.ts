// A small ability MLP on principal scores: theta = ym + w0.s + out.relu(W s + b).
// Trained by AdamW (decoupled weight decay) on minibatches, loss = mean squared
// error on MOS plus, optionally, a logistic pairwise ranking term over pairs of
// the same group (generator) in the minibatch. Seeded: same data + seed give
// the same weights.
import { AgqgError } from '../errors.ts';
import type { Matrix } from './linalg.ts';
import { gaussian, mulberry32, shuffleInPlace } from '../util/rng.ts';

export interface MlpConfig {
  hidden: number;
  epochs: number;
  lr: number;
  weightDecay: number;
  batch: number;
  /** Weight of the pairwise ranking term (0 = MSE only). */
  rank: number;
  seed: number;
}

export const DEFAULT_MLP: MlpConfig = {
  hidden: 64,
  epochs: 60,
  lr: 1e-3,
  weightDecay: 0.05,
  batch: 128,
  rank: 0,
  seed: 1,
};

export interface Mlp {
  inputs: number;
  hidden: number;
  /** inputs x hidden, row-major (column u = weights of unit u). */
  w1: Float64Array;
  b1: Float64Array;
  out: Float64Array;
  /** Linear skip weights on the inputs. */
  skip: Float64Array;
  bias: number;
}

export function mlpPredict(m: Mlp, x: Matrix): Float64Array {
  const { inputs: d, hidden: H } = m;
  const y = new Float64Array(x.rows);
  const h = new Float64Array(H);
  for (let i = 0; i < x.rows; i++) y[i] = forwardRow(m, x.data.subarray(i * d, i * d + d), h);
  return y;
}

/** One row's output; leaves the hidden pre-activations in `h` (the loss needs them for the backward pass). */
function forwardRow(m: Mlp, xi: Float64Array, h: Float64Array): number {
  const { inputs: d, hidden: H } = m;
  h.set(m.b1);
  let s = m.bias;
  for (let j = 0; j < d; j++) {
    const v = xi[j];
    s += v * m.skip[j];
    const w = m.w1.subarray(j * H, j * H + H);
    for (let u = 0; u < H; u++) h[u] += v * w[u];
  }
  for (let u = 0; u < H; u++) if (h[u] > 0) s += h[u] * m.out[u];
  return s;
}

/**
 * Loss and gradients on one batch (exposed for the finite-difference test).
 * Loss = mean (p - y)^2 + rank * mean over same-group ordered pairs of log(1 + exp(-sign(yi - yj)(pi - pj))).
 */
export function mlpLossGrad(
  m: Mlp,
  x: Matrix,
  y: ArrayLike<number>,
  groups: ArrayLike<number>,
  rank: number,
) {
  const { inputs: d, hidden: H } = m;
  const n = x.rows;
  const pre = new Float64Array(n * H);
  const p = new Float64Array(n);
  for (let i = 0; i < n; i++)
    p[i] = forwardRow(m, x.data.subarray(i * d, i * d + d), pre.subarray(i * H, i * H + H));
  let loss = 0;
  const gp = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = p[i] - y[i];
    loss += (r * r) / n;
    gp[i] = (2 * r) / n;
  }
  if (rank > 0) {
    let pairs = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) if (i !== j && groups[i] === groups[j] && y[i] !== y[j]) pairs++;
    if (pairs > 0) {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          if (i === j || groups[i] !== groups[j] || y[i] === y[j]) continue;
          const t = y[i] > y[j] ? 1 : -1;
          const m_ = -t * (p[i] - p[j]);
          // log(1 + e^m), stable
          loss += (rank * (m_ > 0 ? m_ + Math.log1p(Math.exp(-m_)) : Math.log1p(Math.exp(m_)))) / pairs;
          const sig = 1 / (1 + Math.exp(-m_));
          const g = (rank * -t * sig) / pairs;
          gp[i] += g;
          gp[j] -= g;
        }
      }
    }
  }
  const gw1 = new Float64Array(d * H);
  const gb1 = new Float64Array(H);
  const gout = new Float64Array(H);
  const gskip = new Float64Array(d);
  let gbias = 0;
  const ga = new Float64Array(H);
  for (let i = 0; i < n; i++) {
    const g = gp[i];
    if (g === 0) continue;
    gbias += g;
    const xi = x.data.subarray(i * d, i * d + d);
    const h = pre.subarray(i * H, i * H + H);
    for (let u = 0; u < H; u++) {
      if (h[u] > 0) {
        gout[u] += g * h[u];
        ga[u] = g * m.out[u];
        gb1[u] += ga[u];
      } else ga[u] = 0;
    }
    for (let j = 0; j < d; j++) {
      const v = xi[j];
      gskip[j] += g * v;
      const gw = gw1.subarray(j * H, j * H + H);
      for (let u = 0; u < H; u++) gw[u] += v * ga[u];
    }
  }
  return { loss, grad: { w1: gw1, b1: gb1, out: gout, skip: gskip, bias: gbias } };
}

export function initMlp(inputs: number, hidden: number, bias: number, seed: number): Mlp {
  const g = gaussian(mulberry32(seed));
  const s1 = Math.sqrt(2 / inputs);
  const s2 = 0.1 / Math.sqrt(hidden);
  return {
    inputs,
    hidden,
    w1: Float64Array.from({ length: inputs * hidden }, () => g() * s1),
    b1: new Float64Array(hidden),
    out: Float64Array.from({ length: hidden }, () => g() * s2),
    skip: new Float64Array(inputs),
    bias,
  };
}

/** Trains on (x, y); groups (small integers) restrict ranking pairs. */
export function trainMlp(x: Matrix, y: ArrayLike<number>, groups: ArrayLike<number>, cfg: MlpConfig): Mlp {
  const n = x.rows;
  const d = x.cols;
  if (y.length !== n || groups.length !== n)
    throw new AgqgError('internal', `MLP: ${n} rows, ${y.length} targets, ${groups.length} groups`);
  let ym = 0;
  for (let i = 0; i < n; i++) ym += y[i];
  ym /= n;
  const m = initMlp(d, cfg.hidden, ym, cfg.seed);
  const params = [m.w1, m.b1, m.out, m.skip];
  const mom = params.map((p) => new Float64Array(p.length));
  const vel = params.map((p) => new Float64Array(p.length));
  const rand = mulberry32(cfg.seed ^ 0x9e3779b9);
  const order = Array.from({ length: n }, (_, i) => i);
  const b1 = 0.9;
  const b2 = 0.999;
  let t = 0;
  for (let ep = 0; ep < cfg.epochs; ep++) {
    shuffleInPlace(order, rand);
    for (let s = 0; s < n; s += cfg.batch) {
      const idx = order.slice(s, s + cfg.batch);
      const xb = { rows: idx.length, cols: d, data: new Float64Array(idx.length * d) };
      idx.forEach((r, i) => xb.data.set(x.data.subarray(r * d, r * d + d), i * d));
      const { grad } = mlpLossGrad(
        m,
        xb,
        idx.map((i) => y[i]),
        idx.map((i) => groups[i]),
        cfg.rank,
      );
      t++;
      const c1 = 1 - b1 ** t;
      const c2 = 1 - b2 ** t;
      const grads = [grad.w1, grad.b1, grad.out, grad.skip];
      params.forEach((p, k) => {
        const g = grads[k];
        const mk = mom[k];
        const vk = vel[k];
        for (let j = 0; j < p.length; j++) {
          mk[j] = b1 * mk[j] + (1 - b1) * g[j];
          vk[j] = b2 * vk[j] + (1 - b2) * g[j] * g[j];
          p[j] -= cfg.lr * (mk[j] / c1 / (Math.sqrt(vk[j] / c2) + 1e-8) + cfg.weightDecay * p[j]);
        }
      });
      // The output bias stays at the training mean: the MOS offset needs no learning.
    }
  }
  return m;
}
