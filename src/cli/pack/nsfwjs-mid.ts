// nsfwjs's MobileNetV2-mid graph as the backbone converter reads it: the node
// prefix, the default pooled blocks, the graph loaded once into tfjs, and its
// weights (optionally as the uint8 codes TF.js dequantised them from).
import type * as tf from '@tensorflow/tfjs';
import { AgqgError } from '../../model/errors.ts';
import {
  loadNsfwjsGraphModel,
  type NsfwjsArtifacts,
  quantizedWeights,
  type TfNodeDef,
} from './nsfwjs-source.ts';
import type { WeightStorage, WeightTensor } from './tf-weights.ts';

/** Common prefix of every node of the MobileNetV2-mid graph (TF-Hub module inside a Keras model). */
export const MID_NODE_PREFIX =
  'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/';

/**
 * The last block of each resolution stage (112, 56, 28, 14, 7 at 224 input)
 * plus the final 1x1 conv before pooling. Names are relative to MID_NODE_PREFIX.
 */
export const DEFAULT_MID_BLOCKS: readonly string[] = [
  'MobilenetV2/expanded_conv/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/expanded_conv_2/add',
  'MobilenetV2/expanded_conv_5/add',
  'MobilenetV2/expanded_conv_12/add',
  'MobilenetV2/expanded_conv_16/project/BatchNorm/FusedBatchNormV3',
  'MobilenetV2/Conv_1/Relu6',
];

export interface LoadedMid {
  model: tf.GraphModel;
  source: NsfwjsArtifacts;
  nodes: TfNodeDef[];
  placeholder: TfNodeDef;
  inputSize: number;
}

let midPromise: Promise<LoadedMid> | undefined;

/** Loads (once per process) the nsfwjs MobileNetV2-mid graph model into tfjs. */
export function loadMid(): Promise<LoadedMid> {
  midPromise ??= (async () => {
    const { model, source } = await loadNsfwjsGraphModel('mobilenet_v2_mid');
    const nodes = source.modelJson.modelTopology.node ?? [];
    const placeholders = nodes.filter((n) => n.op === 'Placeholder');
    if (placeholders.length !== 1)
      throw new AgqgError('pack_invalid', `MobileNetV2-mid has ${placeholders.length} inputs, expected 1`);
    const dims = (placeholders[0].attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
    if (dims.length !== 4 || dims[1] !== dims[2] || dims[3] !== 3 || !(dims[1] > 0)) {
      throw new AgqgError('pack_invalid', `MobileNetV2-mid input shape [${dims}] is not [batch, S, S, 3]`);
    }
    return { model, source, nodes, placeholder: placeholders[0], inputSize: dims[1] };
  })();
  return midPromise;
}

export function checkBlocks(nodes: TfNodeDef[], blocks: readonly string[]): void {
  if (blocks.length === 0) throw new AgqgError('pack_invalid', 'at least one backbone block is needed');
  const names = new Set(nodes.map((n) => n.name));
  for (const b of blocks) {
    if (!names.has(MID_NODE_PREFIX + b))
      throw new AgqgError('pack_invalid', `MobileNetV2-mid has no node '${b}'`);
  }
  if (new Set(blocks).size !== blocks.length)
    throw new AgqgError('pack_invalid', 'backbone blocks are listed twice');
}

export type WeightSource = (name: string) => WeightTensor | undefined;

export function weightSource(mid: LoadedMid, weightStorage: WeightStorage): WeightSource {
  const tfWeights = mid.model.weights;
  const quantized = weightStorage === 'uint8-lut' ? quantizedWeights(mid.source) : undefined;
  return (name) => {
    const t = tfWeights[name]?.[0];
    if (!t) return undefined;
    const data = t.dataSync() as Float32Array;
    const q = quantized?.get(name);
    if (q) {
      // The codes were sliced by offset arithmetic: prove they are this weight's.
      if (q.codes.length !== data.length || data.some((v, i) => v !== q.lut[q.codes[i]])) {
        throw new AgqgError('pack_invalid', `uint8 codes of ${name} do not reproduce the TF.js weight`);
      }
    }
    return { data, shape: t.shape.slice(), quantized: q };
  };
}
