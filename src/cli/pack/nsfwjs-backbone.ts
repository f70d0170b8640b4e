// The default pack's image backbone: nsfwjs's MobileNetV2-mid (really
// MobileNetV2-1.4, ImageNet-trained then fine-tuned as a content classifier),
// converted to ONNX and cut at intermediate blocks. Its class outputs are of
// no use for quality; pooled multi-level features are (ridge on these gave
// SRCC 0.77 on AGIQA-3K). Each block contributes the mean and the population
// standard deviation of its activations over H and W, per channel.
import * as tf from '@tensorflow/tfjs';
import { AgqgError } from '../../model/errors';
import { GraphBuilder } from '../../model/onnx/graph-builder';
import { loadNsfwjsGraphModel, type NsfwjsArtifacts, quantizedWeights, type TfNodeDef } from './nsfwjs-source';
import { convertTfGraph, type WeightStorage, type WeightTensor } from './tf-graph-to-onnx';

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

export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'features';
export const ONNX_OPSET = 17;

export interface FeatureSegment {
  /** Block name relative to the graph prefix. */
  block: string;
  stat: 'mean' | 'std';
  /** Offset of this segment in the feature vector. */
  offset: number;
  /** Number of channels. */
  length: number;
  /** Spatial size of the block output at the model's input size. */
  height: number;
  width: number;
}

export interface BackboneDescription {
  source: { package: 'nsfwjs'; version: string; model: string; license: 'MIT' };
  input: {
    name: string;
    layout: 'NCHW';
    size: number;
    channels: 3;
    /** Pixel values are RGB/255; the graph maps them to [-1, 1] itself, as nsfwjs does. */
    range: [0, 1];
    /** How nsfwjs brings an image to `size`: bilinear with aligned corners. */
    resize: { method: 'bilinear'; alignCorners: true };
  };
  output: { name: string; featureDim: number };
  weightStorage: WeightStorage;
  /** std is the population standard deviation sqrt(mean((x - mean)^2)) over H and W. */
  segments: FeatureSegment[];
  opset: number;
}

export interface ConvertNsfwjsMidOptions {
  /** Blocks to pool, relative to MID_NODE_PREFIX; default DEFAULT_MID_BLOCKS. */
  blocks?: readonly string[];
  /** 'float32' (default): dequantised float weights; 'uint8-lut': 4x smaller file, bit-identical weights. */
  weightStorage?: WeightStorage;
}

export interface ConvertedBackbone {
  onnx: Uint8Array;
  description: BackboneDescription;
  blocks: readonly string[];
  featureDim: number;
  inputSize: number;
}

interface LoadedMid {
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
    if (placeholders.length !== 1) throw new AgqgError('pack_invalid', `MobileNetV2-mid has ${placeholders.length} inputs, expected 1`);
    const dims = (placeholders[0].attr?.shape?.shape?.dim ?? []).map((d) => Number(d.size));
    if (dims.length !== 4 || dims[1] !== dims[2] || dims[3] !== 3 || !(dims[1] > 0)) {
      throw new AgqgError('pack_invalid', `MobileNetV2-mid input shape [${dims}] is not [batch, S, S, 3]`);
    }
    return { model, source, nodes, placeholder: placeholders[0], inputSize: dims[1] };
  })();
  return midPromise;
}

function checkBlocks(nodes: TfNodeDef[], blocks: readonly string[]): void {
  if (blocks.length === 0) throw new AgqgError('pack_invalid', 'at least one backbone block is needed');
  const names = new Set(nodes.map((n) => n.name));
  for (const b of blocks) {
    if (!names.has(MID_NODE_PREFIX + b)) throw new AgqgError('pack_invalid', `MobileNetV2-mid has no node '${b}'`);
  }
  if (new Set(blocks).size !== blocks.length) throw new AgqgError('pack_invalid', 'backbone blocks are listed twice');
}

/** Converts nsfwjs MobileNetV2-mid to an ONNX multi-level feature extractor. */
export async function convertNsfwjsMid(options: ConvertNsfwjsMidOptions = {}): Promise<ConvertedBackbone> {
  const blocks = options.blocks ?? DEFAULT_MID_BLOCKS;
  const mid = await loadMid();
  checkBlocks(mid.nodes, blocks);
  const tfWeights = mid.model.weights;
  const weightStorage = options.weightStorage ?? 'float32';
  const quantized = weightStorage === 'uint8-lut' ? quantizedWeights(mid.source) : undefined;
  const weight = (name: string): WeightTensor | undefined => {
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

  const size = mid.inputSize;
  const g = new GraphBuilder();
  g.input(ONNX_INPUT, 'float32', ['batch', 3, size, size]);
  const endpoints = blocks.map((b) => MID_NODE_PREFIX + b);
  const converted = convertTfGraph(
    {
      nodes: mid.nodes,
      weight,
      builder: g,
      inputs: { [mid.placeholder.name]: { name: ONNX_INPUT, tfShape: [-1, size, size, 3] } },
      weightStorage,
    },
    endpoints,
  );

  const segments: FeatureSegment[] = [];
  const pooled: string[] = [];
  let offset = 0;
  blocks.forEach((block, i) => {
    const v = converted[endpoints[i]];
    if (v.tfShape.length !== 4) throw new AgqgError('pack_invalid', `block ${block} is not a 4-D activation`);
    const [, h, w, c] = v.tfShape;
    const tag = `feat/${i}`;
    const meanKeep = g.op('ReduceMean', [v.name], { axes: [2, 3], keepdims: 1 }, `${tag}/mean_keep`);
    const centred = g.op('Sub', [v.name, meanKeep], {}, `${tag}/centred`);
    const sq = g.op('Mul', [centred, centred], {}, `${tag}/sq`);
    const variance = g.op('ReduceMean', [sq], { axes: [2, 3], keepdims: 0 }, `${tag}/var`);
    const std = g.op('Sqrt', [variance], {}, `${tag}/std`);
    const mean = g.op('Flatten', [meanKeep], { axis: 1 }, `${tag}/mean`);
    pooled.push(mean, std);
    segments.push({ block, stat: 'mean', offset, length: c, height: h, width: w });
    segments.push({ block, stat: 'std', offset: offset + c, length: c, height: h, width: w });
    offset += 2 * c;
  });
  g.node('Concat', pooled, [ONNX_OUTPUT], { axis: 1 });
  g.output(ONNX_OUTPUT, 'float32', ['batch', offset]);

  const description: BackboneDescription = {
    source: { package: 'nsfwjs', version: mid.source.version, model: 'mobilenet_v2_mid', license: 'MIT' },
    input: {
      name: ONNX_INPUT,
      layout: 'NCHW',
      size,
      channels: 3,
      range: [0, 1],
      resize: { method: 'bilinear', alignCorners: true },
    },
    output: { name: ONNX_OUTPUT, featureDim: offset },
    weightStorage,
    segments,
    opset: ONNX_OPSET,
  };
  const onnx = g.toBytes({
    opset: ONNX_OPSET,
    producer: 'agqg',
    docString: 'nsfwjs MobileNetV2-mid (MIT) multi-level pooled features',
    metadata: { featureDim: String(offset), blocks: JSON.stringify(blocks) },
  });
  return { onnx, description, blocks, featureDim: offset, inputSize: size };
}

/**
 * The same features computed by nsfwjs's own TF.js model, as the reference the
 * ONNX conversion must match. `pixelsNchw` is [n, 3, S, S] in [0, 1].
 */
export async function midFeaturesWithTfjs(
  pixelsNchw: Float32Array,
  batch: number,
  blocks: readonly string[] = DEFAULT_MID_BLOCKS,
): Promise<Float32Array> {
  const mid = await loadMid();
  checkBlocks(mid.nodes, blocks);
  const size = mid.inputSize;
  if (pixelsNchw.length !== batch * 3 * size * size) {
    throw new AgqgError('internal', `expected ${batch}x3x${size}x${size} pixels, got ${pixelsNchw.length} values`);
  }
  const features = tf.tidy(() => {
    const x = tf.tensor4d(pixelsNchw, [batch, 3, size, size]).transpose([0, 2, 3, 1]);
    const outs = mid.model.execute({ [mid.placeholder.name]: x }, blocks.map((b) => MID_NODE_PREFIX + b));
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
