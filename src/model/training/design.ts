// The training design matrix for one head input: the cached image features as
// they are, or alignment features composed exactly as the head composes them
// at inference (headFeatures in src/model/grading/head.ts), so training and serving agree.
import { AgqgError } from '../errors.ts';
import { composedDim, headFeatures, type HeadInput } from '../grading/head.ts';
import { matrix, type Matrix } from './linalg.ts';

/** Encoder features of the rows to fit on (the CLI's cached table, the worker's per-image cache). */
export interface FeatureRows {
  names: readonly string[];
  imageDim: number;
  /** names.length x imageDim, row-major. */
  image: Float32Array;
  text: {
    dim: number;
    /** prompts x dim, row-major. */
    embeds: Float32Array;
    /** Row of `embeds` for each image. */
    promptOf: Int32Array;
  } | null;
}

export function designMatrix(table: FeatureRows, input: HeadInput): Matrix {
  const n = table.names.length;
  if (input.type === 'image') return matrix(n, table.imageDim, Float64Array.from(table.image));
  const text = table.text;
  if (!text)
    throw new AgqgError('no_text_encoder', 'alignment features need prompt embeddings; none were extracted');
  if (text.dim !== table.imageDim || input.embedDim !== text.dim) {
    throw new AgqgError(
      'pack_invalid',
      `image embeddings (${table.imageDim}) and text embeddings (${text.dim}) must share one width to compare them`,
    );
  }
  const d = composedDim(input, table.imageDim);
  const out = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const img = table.image.subarray(i * table.imageDim, (i + 1) * table.imageDim);
    const p = text.promptOf[i];
    const txt = text.embeds.subarray(p * text.dim, (p + 1) * text.dim);
    out.set(headFeatures({ input }, img, txt), i * d);
  }
  return matrix(n, d, out);
}

export function inputName(input: HeadInput): string {
  return input.type === 'image' ? 'image' : input.parts.join('+');
}
