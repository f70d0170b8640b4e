// A trained AGQG head as plain JSON-serialisable data, and its reference
// forward pass: standardise the encoder features, ability theta from a linear
// map plus an optional one-hidden-layer ReLU branch, then the GRM link. The
// ONNX head (onnx-head.ts) must compute exactly this.
import { z } from 'zod';
import { AgqgError } from '../errors.ts';
import {
  expectedGrade,
  gradeProbs,
  meetsUnimodalBound,
  minDiscriminationSpacing,
  thresholds,
  toMos,
  type GrmParams,
  type MosScale,
} from './grm.ts';
import { GrmSchema, MosScaleSchema } from './grm-schema.ts';

export const HEAD_FORMAT = 'agqg-head';
export const HEAD_VERSION = 1;

const Finite = z.number().refine(Number.isFinite, { message: 'must be finite' });

export const HiddenLayerSchema = z.object({
  units: z.number().int().positive(),
  activation: z.literal('relu'),
  /** units x inputDim, row-major. */
  weights: z.array(Finite),
  bias: z.array(Finite),
  /** Output weights, one per unit. */
  out: z.array(Finite),
});
export type HiddenLayer = z.infer<typeof HiddenLayerSchema>;

/** Parts of the alignment feature vector built from an image and a prompt embedding (both L2-normalised). */
export const PAIR_PARTS = ['cosine', 'product', 'image', 'text'] as const;
export type PairPart = (typeof PAIR_PARTS)[number];

/** What the head reads: the image encoder's output, or features composed from image and text embeddings. */
export const HeadInputSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('image') }),
  z.object({
    type: z.literal('image-text'),
    /** In order: cosine (1 value), product u*v (E), image u (E), text v (E). */
    parts: z.array(z.enum(PAIR_PARTS)).min(1),
    embedDim: z.number().int().positive(),
  }),
]);
export type HeadInput = z.infer<typeof HeadInputSchema>;

export function composedDim(input: HeadInput, imageDim: number): number {
  if (input.type === 'image') return imageDim;
  return input.parts.reduce((s, p) => s + (p === 'cosine' ? 1 : input.embedDim), 0);
}

export const HeadParamsSchema = z
  .object({
    format: z.literal(HEAD_FORMAT),
    version: z.literal(HEAD_VERSION),
    /** 'linear': theta = w.z + c. 'mlp': theta = w.z + out.relu(W z + bh) + c (w may be all zero). */
    kind: z.enum(['linear', 'mlp']),
    input: HeadInputSchema,
    inputDim: z.number().int().positive(),
    mean: z.array(Finite),
    /** Strictly positive; features are standardised as (x - mean) / std. */
    std: z.array(Finite.refine((v) => v > 0, { message: 'must be > 0' })),
    weights: z.array(Finite),
    bias: Finite,
    hidden: HiddenLayerSchema.optional(),
    grm: GrmSchema,
    K: z.number().int().min(2),
    mos: MosScaleSchema,
  })
  .superRefine((h, ctx) => {
    const need = (len: number, want: number, path: string): void => {
      if (len !== want)
        ctx.addIssue({ code: 'custom', path: [path], message: `has ${len} values, needs ${want}` });
    };
    if (h.input.type === 'image-text') need(h.inputDim, composedDim(h.input, 0), 'inputDim');
    need(h.mean.length, h.inputDim, 'mean');
    need(h.std.length, h.inputDim, 'std');
    need(h.weights.length, h.inputDim, 'weights');
    if (h.kind === 'mlp' && !h.hidden)
      ctx.addIssue({ code: 'custom', path: ['hidden'], message: 'an mlp head needs hidden' });
    if (h.kind === 'linear' && h.hidden)
      ctx.addIssue({ code: 'custom', path: ['hidden'], message: 'a linear head has no hidden layer' });
    if (h.hidden) {
      need(h.hidden.weights.length, h.hidden.units * h.inputDim, 'hidden.weights');
      need(h.hidden.bias.length, h.hidden.units, 'hidden.bias');
      need(h.hidden.out.length, h.hidden.units, 'hidden.out');
    }
    const bound = minDiscriminationSpacing(h.K);
    if (!meetsUnimodalBound(h.grm, h.K)) {
      ctx.addIssue({
        code: 'custom',
        path: ['grm'],
        message: `a*d = ${h.grm.a * h.grm.d} is below the unimodality bound ${bound} for K=${h.K}`,
      });
    }
  });

export type HeadParams = z.infer<typeof HeadParamsSchema>;

export function parseHeadParams(json: unknown, where = 'head parameters'): HeadParams {
  const r = HeadParamsSchema.safeParse(json);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new AgqgError(
    'pack_invalid',
    `${where} are not valid AGQG head parameters:\n  ${problems.join('\n  ')}`,
  );
}

export interface HeadOutput {
  ability: number;
  thresholds: number[];
  /** p_1..p_K */
  probabilities: number[];
  /** In [1, K]. */
  expectedGrade: number;
  /** expectedGrade mapped onto the MOS scale. */
  score: number;
}

function unit(v: ArrayLike<number>, what: string, dim: number): Float64Array {
  if (v.length !== dim)
    throw new AgqgError('pack_invalid', `the head expects ${dim}-value ${what} embeddings, got ${v.length}`);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  const n = Math.sqrt(s);
  // A zero embedding has no direction; it stays zero (cosine 0), as in similarity.ts.
  return Float64Array.from(v, (x) => (n === 0 ? 0 : x / n));
}

/**
 * The head's input vector: the image features themselves, or the alignment
 * features [cosine, u*v, u, v] (parts as listed) of the normalised embeddings.
 */
export function headFeatures(
  params: Pick<HeadParams, 'input'>,
  image: ArrayLike<number>,
  text?: ArrayLike<number>,
): Float64Array {
  const input = params.input;
  if (input.type === 'image') return Float64Array.from(image);
  if (!text)
    throw new AgqgError(
      'no_text_encoder',
      'this head needs the prompt embedding as well as the image embedding',
    );
  const u = unit(image, 'image', input.embedDim);
  const v = unit(text, 'text', input.embedDim);
  const out = new Float64Array(composedDim(input, 0));
  let o = 0;
  for (const part of input.parts) {
    if (part === 'cosine') {
      let c = 0;
      for (let i = 0; i < u.length; i++) c += u[i] * v[i];
      out[o++] = c;
    } else {
      for (let i = 0; i < u.length; i++)
        out[o++] = part === 'product' ? u[i] * v[i] : part === 'image' ? u[i] : v[i];
    }
  }
  return out;
}

/** theta for one (composed) feature vector, in float64 arithmetic. */
export function headAbility(params: HeadParams, features: ArrayLike<number>): number {
  const n = params.inputDim;
  if (features.length !== n) {
    throw new AgqgError(
      'pack_invalid',
      `the head expects ${n} features but the encoder gave ${features.length}`,
    );
  }
  const zs = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const v = features[j];
    if (!Number.isFinite(v)) throw new AgqgError('internal', `feature ${j} is not finite (${v})`);
    zs[j] = (v - params.mean[j]) / params.std[j];
  }
  let theta = params.bias;
  for (let j = 0; j < n; j++) theta += params.weights[j] * zs[j];
  const h = params.hidden;
  if (h) {
    for (let u = 0; u < h.units; u++) {
      let s = h.bias[u];
      const off = u * n;
      for (let j = 0; j < n; j++) s += h.weights[off + j] * zs[j];
      if (s > 0) theta += h.out[u] * s;
    }
  }
  return theta;
}

/** Reference forward pass from the composed feature vector (see headFeatures). */
export function headForward(params: HeadParams, features: ArrayLike<number>): HeadOutput {
  const ability = headAbility(params, features);
  const grm: GrmParams = params.grm;
  const probabilities = gradeProbs(ability, grm, params.K);
  const e = expectedGrade(probabilities);
  const scale: MosScale = params.mos;
  return {
    ability,
    thresholds: thresholds(grm, params.K),
    probabilities,
    expectedGrade: e,
    score: toMos(e, params.K, scale),
  };
}
