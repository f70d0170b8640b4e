// The reference the ONNX conversion must match: the same pooled features
// computed by nsfwjs's own TF.js graph model.
import * as tf from '@tensorflow/tfjs';
import { AgqgError } from '../../model/errors.ts';
import { checkBlocks, DEFAULT_MID_BLOCKS, type LoadedMid, loadMid, MID_NODE_PREFIX } from './nsfwjs-mid.ts';

const modelsAtSize = new Map<number, Promise<tf.GraphModel>>();

/**
 * nsfwjs's graph with its placeholder declared at another square size: TF.js
 * refuses inputs that do not match the declared shape, although every op
 * (SAME-padded convolutions, no reshapes before the pooled blocks) takes any size.
 */
function midModelAtSize(mid: LoadedMid, size: number): Promise<tf.GraphModel> {
  let p = modelsAtSize.get(size);
  if (!p) {
    const nodes = mid.nodes.map((n) =>
      n === mid.placeholder
        ? {
            ...n,
            attr: {
              ...n.attr,
              shape: { shape: { dim: ['-1', String(size), String(size), '3'].map((d) => ({ size: d })) } },
            },
          }
        : n,
    );
    const topology = { ...mid.source.modelJson.modelTopology, node: nodes };
    const artifacts = {
      ...mid.source.artifacts,
      modelTopology: topology as tf.io.ModelArtifacts['modelTopology'],
    };
    p = tf.loadGraphModel(tf.io.fromMemory(artifacts));
    modelsAtSize.set(size, p);
  }
  return p;
}

/**
 * The same features computed by nsfwjs's own TF.js model, as the reference the
 * ONNX conversion must match. `pixelsNchw` is [n, 3, S, S] in [0, 1].
 */
export async function midFeaturesWithTfjs(
  pixelsNchw: Float32Array,
  batch: number,
  blocks: readonly string[] = DEFAULT_MID_BLOCKS,
  inputSize?: number,
): Promise<Float32Array> {
  const mid = await loadMid();
  checkBlocks(mid.nodes, blocks);
  const size = inputSize ?? mid.inputSize;
  if (pixelsNchw.length !== batch * 3 * size * size) {
    throw new AgqgError(
      'internal',
      `expected ${batch}x3x${size}x${size} pixels, got ${pixelsNchw.length} values`,
    );
  }
  const model = size === mid.inputSize ? mid.model : await midModelAtSize(mid, size);
  const features = tf.tidy(() => {
    const x = tf.tensor4d(pixelsNchw, [batch, 3, size, size]).transpose([0, 2, 3, 1]);
    const outs = model.execute(
      { [mid.placeholder.name]: x },
      blocks.map((b) => MID_NODE_PREFIX + b),
    );
    const list = Array.isArray(outs) ? outs : [outs];
    const parts: tf.Tensor[] = [];
    for (const t of list) {
      const { mean, variance } = tf.moments(t, [1, 2]);
      parts.push(mean, tf.sqrt(variance));
    }
    return tf.concat(parts, 1);
  });
  const data = (await features.data()) as Float32Array;
  features.dispose();
  return data;
}
