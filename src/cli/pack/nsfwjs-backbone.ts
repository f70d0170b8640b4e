// The default pack's image backbone: nsfwjs's MobileNetV2-mid (really
// MobileNetV2-1.4, ImageNet-trained then fine-tuned as a content classifier),
// converted to ONNX and cut at intermediate blocks. Its class outputs are of
// no use for quality; pooled multi-level features are (ridge on these gave
// SRCC 0.77 on AGIQA-3K). Each block contributes the mean and the population
// standard deviation of its activations over H and W, per channel.
import { AgqgError } from '../../model/errors.ts';
import { GraphBuilder } from '../../model/onnx/graph-builder.ts';
import {
  checkBlocks,
  DEFAULT_MID_BLOCKS,
  type LoadedMid,
  loadMid,
  MID_NODE_PREFIX,
  type WeightSource,
  weightSource,
} from './nsfwjs-mid.ts';
import { convertTfGraph } from './tf-graph-to-onnx.ts';
import type { WeightStorage } from './tf-weights.ts';

export const ONNX_INPUT = 'pixels';
export const ONNX_OUTPUT = 'features';
export const ONNX_OPSET = 17;
/** Five stride-2 stages: below 32 pixels the 7x7 stage would be empty. */
export const MIN_INPUT_SIZE = 32;

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
  /**
   * Square input size; default the model's own (224). The graph is fully
   * convolutional up to the pooled blocks, so other sizes work: TF 'SAME' pads
   * are recomputed for the size, as TF.js would for an input of that size.
   */
  inputSize?: number;
}

export interface ConvertedBackbone {
  onnx: Uint8Array;
  description: BackboneDescription;
  blocks: readonly string[];
  featureDim: number;
  inputSize: number;
}

function checkSize(size: number): void {
  if (!Number.isInteger(size) || size < MIN_INPUT_SIZE) {
    throw new AgqgError(
      'pack_invalid',
      `backbone input size must be an integer >= ${MIN_INPUT_SIZE}, got ${size}`,
    );
  }
}

interface Branch {
  /** [batch, featureDim] pooled features. */
  features: string;
  segments: FeatureSegment[];
  featureDim: number;
}

/**
 * Adds one backbone pass over `input` ([batch, 3, size, size]) to `g`, ending in
 * the per-block channel mean and std concatenated as [batch, featureDim].
 * Branches sharing `weightCache` share weights.
 */
function addBranch(
  g: GraphBuilder,
  mid: LoadedMid,
  input: string,
  size: number,
  blocks: readonly string[],
  weight: WeightSource,
  weightStorage: WeightStorage,
  weightCache: Map<string, string>,
  tag: string,
  featuresName = `${tag}features`,
): Branch {
  const endpoints = blocks.map((b) => MID_NODE_PREFIX + b);
  const converted = convertTfGraph(
    {
      nodes: mid.nodes,
      weight,
      builder: g,
      inputs: { [mid.placeholder.name]: { name: input, tfShape: [-1, size, size, 3] } },
      weightStorage,
      weightCache,
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
    const t = `${tag}${i}`;
    const meanKeep = g.op('ReduceMean', [v.name], { axes: [2, 3], keepdims: 1 }, `${t}/mean_keep`);
    const centred = g.op('Sub', [v.name, meanKeep], {}, `${t}/centred`);
    const sq = g.op('Mul', [centred, centred], {}, `${t}/sq`);
    const variance = g.op('ReduceMean', [sq], { axes: [2, 3], keepdims: 0 }, `${t}/var`);
    const std = g.op('Sqrt', [variance], {}, `${t}/std`);
    const mean = g.op('Flatten', [meanKeep], { axis: 1 }, `${t}/mean`);
    pooled.push(mean, std);
    segments.push({ block, stat: 'mean', offset, length: c, height: h, width: w });
    segments.push({ block, stat: 'std', offset: offset + c, length: c, height: h, width: w });
    offset += 2 * c;
  });
  const features = g.fresh(featuresName);
  g.node('Concat', pooled, [features], { axis: 1 });
  return { features, segments, featureDim: offset };
}

/** Converts nsfwjs MobileNetV2-mid to an ONNX multi-level feature extractor. */
export async function convertNsfwjsMid(options: ConvertNsfwjsMidOptions = {}): Promise<ConvertedBackbone> {
  const blocks = options.blocks ?? DEFAULT_MID_BLOCKS;
  const mid = await loadMid();
  checkBlocks(mid.nodes, blocks);
  const weightStorage = options.weightStorage ?? 'float32';
  const size = options.inputSize ?? mid.inputSize;
  checkSize(size);
  const g = new GraphBuilder();
  g.input(ONNX_INPUT, 'float32', ['batch', 3, size, size]);
  const branch = addBranch(
    g,
    mid,
    ONNX_INPUT,
    size,
    blocks,
    weightSource(mid, weightStorage),
    weightStorage,
    new Map(),
    'feat/',
    ONNX_OUTPUT,
  );
  const { segments, featureDim: offset } = branch;
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

/** One image input of a multi-view backbone. */
export interface BackboneView {
  /** ONNX input name, e.g. 'view_full'. */
  name: string;
  /** Square input size in pixels. */
  size: number;
}

export interface MultiViewSegment extends FeatureSegment {
  /** The view (input name) this segment's features come from. */
  view: string;
}

export interface MultiViewDescription {
  source: BackboneDescription['source'];
  /** One per view, in feature order: each is NCHW float32 RGB/255, mapped to [-1, 1] inside the graph. */
  inputs: { name: string; layout: 'NCHW'; size: number; channels: 3; range: [0, 1] }[];
  output: { name: string; featureDim: number };
  /** Features of one view: its blocks' mean and std, as a single-view backbone of that size gives them. */
  viewFeatureDim: number;
  weightStorage: WeightStorage;
  segments: MultiViewSegment[];
  opset: number;
}

export interface ConvertedMultiView {
  onnx: Uint8Array;
  description: MultiViewDescription;
  blocks: readonly string[];
  featureDim: number;
}

/**
 * One ONNX graph for several views of an image, with one copy of the weights:
 * each view is its own input [batch, 3, S, S]; views of the same size are
 * stacked on the batch axis and go through one backbone pass, views of another
 * size through another pass reading the same initializers. The output
 * `features` [batch, views*F] is the views' features side by side, in the
 * order of `views`.
 */
export async function convertNsfwjsMultiView(options: {
  views: readonly BackboneView[];
  blocks?: readonly string[];
  weightStorage?: WeightStorage;
}): Promise<ConvertedMultiView> {
  const { views } = options;
  const blocks = options.blocks ?? DEFAULT_MID_BLOCKS;
  if (views.length === 0)
    throw new AgqgError('pack_invalid', 'a multi-view backbone needs at least one view');
  const names = new Set(views.map((v) => v.name));
  if (names.size !== views.length)
    throw new AgqgError('pack_invalid', 'backbone view names must be distinct');
  if (names.has(ONNX_OUTPUT)) throw new AgqgError('pack_invalid', `a view cannot be named '${ONNX_OUTPUT}'`);
  for (const v of views) checkSize(v.size);
  const mid = await loadMid();
  checkBlocks(mid.nodes, blocks);
  const weightStorage = options.weightStorage ?? 'float32';
  const weight = weightSource(mid, weightStorage);
  const cache = new Map<string, string>();
  const g = new GraphBuilder();
  for (const v of views) g.input(v.name, 'float32', ['batch', 3, v.size, v.size]);

  const perView = new Map<string, string>();
  let viewDim = 0;
  let firstSegments: FeatureSegment[] = [];
  const sizes = [...new Set(views.map((v) => v.size))];
  const segmentsBySize = new Map<number, FeatureSegment[]>();
  for (const [si, size] of sizes.entries()) {
    const group = views.filter((v) => v.size === size);
    const tag = `s${size}/`;
    const input =
      group.length === 1
        ? group[0].name
        : g.op(
            'Concat',
            group.map((v) => v.name),
            { axis: 0 },
            `${tag}stacked`,
          );
    const branch = addBranch(g, mid, input, size, blocks, weight, weightStorage, cache, tag);
    if (si === 0) {
      viewDim = branch.featureDim;
      firstSegments = branch.segments;
    } else if (branch.featureDim !== viewDim) {
      throw new AgqgError(
        'internal',
        `views of size ${size} give ${branch.featureDim} features, not ${viewDim}`,
      );
    }
    segmentsBySize.set(size, branch.segments);
    if (group.length === 1) {
      perView.set(group[0].name, branch.features);
      continue;
    }
    // [m*batch, F] (view-major, as stacked) -> [m, batch, F] -> view i = [batch, F].
    const shape = g.initializer(
      g.fresh(`${tag}by_view_shape`),
      BigInt64Array.from([BigInt(group.length), -1n, BigInt(viewDim)]),
      [3],
    );
    const byView = g.op('Reshape', [branch.features, shape], {}, `${tag}by_view`);
    group.forEach((v, i) => {
      const index = g.initializer(g.fresh(`${tag}index${i}`), BigInt64Array.from([BigInt(i)]), []);
      perView.set(v.name, g.op('Gather', [byView, index], { axis: 0 }, `${v.name}/features`));
    });
  }
  const parts = views.map((v) => perView.get(v.name) as string);
  if (parts.length === 1) g.node('Identity', parts, [ONNX_OUTPUT]);
  else g.node('Concat', parts, [ONNX_OUTPUT], { axis: 1 });
  const featureDim = viewDim * views.length;
  g.output(ONNX_OUTPUT, 'float32', ['batch', featureDim]);

  const segments: MultiViewSegment[] = views.flatMap((v, i) =>
    (segmentsBySize.get(v.size) ?? firstSegments).map((s) => ({
      ...s,
      view: v.name,
      offset: s.offset + i * viewDim,
    })),
  );
  const description: MultiViewDescription = {
    source: { package: 'nsfwjs', version: mid.source.version, model: 'mobilenet_v2_mid', license: 'MIT' },
    inputs: views.map((v) => ({ name: v.name, layout: 'NCHW', size: v.size, channels: 3, range: [0, 1] })),
    output: { name: ONNX_OUTPUT, featureDim },
    viewFeatureDim: viewDim,
    weightStorage,
    segments,
    opset: ONNX_OPSET,
  };
  const onnx = g.toBytes({
    opset: ONNX_OPSET,
    producer: 'agqg',
    docString: 'nsfwjs MobileNetV2-mid (MIT) multi-level pooled features of several views, shared weights',
    metadata: {
      featureDim: String(featureDim),
      blocks: JSON.stringify(blocks),
      views: JSON.stringify(views),
    },
  });
  return { onnx, description, blocks, featureDim };
}
