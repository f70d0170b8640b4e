// Parity of the nsfwjs -> ONNX conversion: nsfwjs's own TF.js graph model
// (tfjs CPU backend) and the converted ONNX (onnxruntime-node) must give the
// same multi-level features on the same input. nsfwjs ships its weights inside
// node_modules, so this needs no ../shared and no network.
//
// Error measure: for feature i in segment s (one block's mean or std, one
// batch item), err_i = |onnx_i - tfjs_i| / max(|tfjs_i|, 0.05 * max_{j in s} |tfjs_j|).
// The floor keeps near-zero features (e.g. the std of a channel that ReLU6
// almost always zeroes) from turning float32 accumulation-order noise (~1e-6
// of the segment's scale) into a large ratio; conversion mistakes (a wrong
// transpose, an off-by-one pad) give errors of order 1.
import * as ort from 'onnxruntime-node';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder } from '../src/model/onnx/graph-builder.ts';
import {
  type ConvertedBackbone,
  convertNsfwjsMid,
  convertNsfwjsMultiView,
  ONNX_INPUT,
  ONNX_OUTPUT,
} from '../src/cli/pack/nsfwjs-backbone.ts';
import { DEFAULT_MID_BLOCKS, loadMid } from '../src/cli/pack/nsfwjs-mid.ts';
import { midFeaturesWithTfjs } from '../src/cli/pack/nsfwjs-tfjs-reference.ts';
import { convertTfGraph, samePads } from '../src/cli/pack/tf-graph-to-onnx.ts';

const TOLERANCE = 1e-4;
const FLOOR = 0.05;

/** Deterministic pseudo-random pixels in [0, 1) (LCG; the test must not depend on Math.random). */
function pixels(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

function worstError(
  converted: ConvertedBackbone,
  onnx: Float32Array,
  ref: Float32Array,
  batch: number,
): { err: number; where: string } {
  let err = 0;
  let where = '';
  for (let k = 0; k < batch; k++) {
    for (const seg of converted.description.segments) {
      const base = k * converted.featureDim + seg.offset;
      let scale = 0;
      for (let j = 0; j < seg.length; j++) scale = Math.max(scale, Math.abs(ref[base + j]));
      for (let j = 0; j < seg.length; j++) {
        const e = Math.abs(onnx[base + j] - ref[base + j]) / Math.max(Math.abs(ref[base + j]), FLOOR * scale);
        if (e > err) {
          err = e;
          where = `item ${k} ${seg.block} ${seg.stat}[${j}]: onnx ${onnx[base + j]} tfjs ${ref[base + j]}`;
        }
      }
    }
  }
  return { err, where };
}

describe('nsfwjs MobileNetV2-mid -> ONNX', () => {
  let converted: ConvertedBackbone;
  let session: ort.InferenceSession;

  beforeAll(async () => {
    converted = await convertNsfwjsMid();
    session = await ort.InferenceSession.create(converted.onnx, { intraOpNumThreads: 2 });
  });

  it('describes its input, output and feature layout consistently', async () => {
    expect(session.inputNames).toEqual([ONNX_INPUT]);
    expect(session.outputNames).toEqual([ONNX_OUTPUT]);
    const d = converted.description;
    expect(d.input.size).toBe(converted.inputSize);
    // The model.json placeholder is [-1, S, S, 3]; S is read from it, not assumed.
    const mid = await loadMid();
    expect(converted.inputSize).toBe(mid.inputSize);
    expect(converted.blocks).toEqual(DEFAULT_MID_BLOCKS);
    // Segments tile the feature vector: mean then std for each block, in block order.
    let offset = 0;
    d.segments.forEach((seg, i) => {
      expect(seg.block).toBe(converted.blocks[Math.floor(i / 2)]);
      expect(seg.stat).toBe(i % 2 === 0 ? 'mean' : 'std');
      expect(seg.offset).toBe(offset);
      offset += seg.length;
    });
    expect(offset).toBe(converted.featureDim);
    expect(d.output.featureDim).toBe(converted.featureDim);
  });

  it('matches nsfwjs TF.js features on a batch of two images (max error <= 1e-4)', async () => {
    const batch = 2;
    const size = converted.inputSize;
    const px = pixels(batch * 3 * size * size, 20240601);
    const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', px, [batch, 3, size, size]) });
    expect(out[ONNX_OUTPUT].dims).toEqual([batch, converted.featureDim]);
    const onnx = out[ONNX_OUTPUT].data as Float32Array;
    const ref = await midFeaturesWithTfjs(px, batch);
    expect(ref.length).toBe(onnx.length);
    const { err, where } = worstError(converted, onnx, ref, batch);
    expect(err, where).toBeLessThanOrEqual(TOLERANCE);
    // The two images differ, so their features must too (the batch axis is not mixed up).
    const a = onnx.subarray(0, converted.featureDim);
    const b = onnx.subarray(converted.featureDim);
    const diff = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    expect(diff).toBeGreaterThan(1e-2);
    // std features are non-negative by construction.
    for (const seg of converted.description.segments.filter((s) => s.stat === 'std')) {
      for (let j = 0; j < seg.length; j++) expect(a[seg.offset + j]).toBeGreaterThanOrEqual(0);
    }
  });

  it('writes uint8 codes + lookup tables (uint8-lut) that give the same features from a quarter of the bytes', async () => {
    const small = await convertNsfwjsMid({ weightStorage: 'uint8-lut' });
    expect(small.description.weightStorage).toBe('uint8-lut');
    expect(small.featureDim).toBe(converted.featureDim);
    expect(small.onnx.length).toBeLessThan(converted.onnx.length * 0.3);
    const size = converted.inputSize;
    const px = pixels(3 * size * size, 99);
    const feeds = { [ONNX_INPUT]: new ort.Tensor('float32', px, [1, 3, size, size]) };
    const s = await ort.InferenceSession.create(small.onnx, { intraOpNumThreads: 2 });
    const a = (await s.run(feeds))[ONNX_OUTPUT].data as Float32Array;
    await s.release();
    const b = (await session.run(feeds))[ONNX_OUTPUT].data as Float32Array;
    // The tables reproduce TF.js's dequantised weights bit for bit, so only kernel choice could differ.
    const { err, where } = worstError(converted, a, b, 1);
    expect(err, where).toBeLessThanOrEqual(1e-6);
  });

  it('converts the whole graph, classifier included, to the same class probabilities as nsfwjs', async () => {
    const mid = await loadMid();
    const size = mid.inputSize;
    const g = new GraphBuilder();
    g.input('x', 'float32', ['batch', 3, size, size]);
    const weights = mid.model.weights;
    const outputNode = mid.nodes.find((n) => n.op === 'Identity' && n.name === 'Identity');
    expect(outputNode).toBeDefined();
    const res = convertTfGraph(
      {
        nodes: mid.nodes,
        weight: (name) => {
          const t = weights[name]?.[0];
          return t ? { data: t.dataSync() as Float32Array, shape: t.shape.slice() } : undefined;
        },
        builder: g,
        inputs: { [mid.placeholder.name]: { name: 'x', tfShape: [-1, size, size, 3] } },
      },
      ['Identity'],
    );
    g.output(res.Identity.name, 'float32', ['batch', 5]);
    const s = await ort.InferenceSession.create(g.toBytes({ opset: 17, producer: 'agqg-test' }));
    const px = pixels(3 * size * size, 7);
    const out = await s.run({ x: new ort.Tensor('float32', px, [1, 3, size, size]) });
    await s.release();
    const probs = out[res.Identity.name].data as Float32Array;
    const ref = tf.tidy(() => {
      const x = tf.tensor4d(px, [1, 3, size, size]).transpose([0, 2, 3, 1]);
      return (mid.model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    expect(probs.length).toBe(5);
    expect(probs.reduce((a, v) => a + v, 0)).toBeCloseTo(1, 5);
    for (let i = 0; i < 5; i++) expect(Math.abs(probs[i] - ref[i]), `class ${i}`).toBeLessThanOrEqual(1e-5);
  });

  it('converts at another input size with the SAME pads TF.js uses for it (160 px, odd 5x5 last stage)', async () => {
    // 160 -> 80, 40, 20, 10, 5: the stride-2 layers then pad differently from 224 (odd sizes on the way).
    const size = 160;
    const small = await convertNsfwjsMid({ inputSize: size });
    expect(small.inputSize).toBe(size);
    expect(small.description.segments.map((s) => s.height)).toEqual([
      80, 80, 40, 40, 20, 20, 10, 10, 5, 5, 5, 5,
    ]);
    const px = pixels(3 * size * size, 4242);
    const s = await ort.InferenceSession.create(small.onnx, { intraOpNumThreads: 2 });
    const onnx = (await s.run({ [ONNX_INPUT]: new ort.Tensor('float32', px, [1, 3, size, size]) }))[
      ONNX_OUTPUT
    ].data as Float32Array;
    await s.release();
    const ref = await midFeaturesWithTfjs(px, 1, DEFAULT_MID_BLOCKS, size);
    const { err, where } = worstError(small, onnx, ref, 1);
    expect(err, where).toBeLessThanOrEqual(TOLERANCE);
    await expect(convertNsfwjsMid({ inputSize: 16 })).rejects.toThrow(
      /input size must be an integer >= 32, got 16/,
    );
  });

  it('multi-view graph: each view gives the single-view features, with one copy of the weights', async () => {
    // Two views of one size (stacked on the batch axis) and one of another size (a second branch).
    const views = [
      { name: 'view_a', size: 96 },
      { name: 'view_b', size: 64 },
      { name: 'view_c', size: 96 },
    ];
    const multi = await convertNsfwjsMultiView({ views, weightStorage: 'uint8-lut' });
    const single96 = await convertNsfwjsMid({ inputSize: 96, weightStorage: 'uint8-lut' });
    const F = single96.featureDim;
    expect(multi.featureDim).toBe(3 * F);
    expect(multi.description.inputs.map((i) => [i.name, i.size])).toEqual(views.map((v) => [v.name, v.size]));
    // Shared weights: the second branch adds only its nodes (a copy of the weights would double the size).
    expect(multi.onnx.length).toBeLessThan(single96.onnx.length * 1.05);
    const segs = multi.description.segments;
    expect(segs.filter((s) => s.view === 'view_b').map((s) => s.offset - F)).toEqual(
      single96.description.segments.map((s) => s.offset),
    );
    expect(segs.find((s) => s.view === 'view_b')?.height).toBe(32);

    const m = await ort.InferenceSession.create(multi.onnx, { intraOpNumThreads: 2 });
    expect([...m.inputNames].sort()).toEqual(['view_a', 'view_b', 'view_c']);
    const batch = 2;
    const feeds: Record<string, ort.Tensor> = {};
    views.forEach((v, i) => {
      feeds[v.name] = new ort.Tensor('float32', pixels(batch * 3 * v.size * v.size, 300 + i), [
        batch,
        3,
        v.size,
        v.size,
      ]);
    });
    const out = (await m.run(feeds))[ONNX_OUTPUT];
    await m.release();
    expect(out.dims).toEqual([batch, 3 * F]);
    const got = out.data as Float32Array;
    for (const [i, v] of views.entries()) {
      const single =
        v.size === 96 ? single96 : await convertNsfwjsMid({ inputSize: v.size, weightStorage: 'uint8-lut' });
      const s = await ort.InferenceSession.create(single.onnx, { intraOpNumThreads: 2 });
      const ref = (await s.run({ [ONNX_INPUT]: feeds[v.name] }))[ONNX_OUTPUT].data as Float32Array;
      await s.release();
      const mine = new Float32Array(batch * F);
      for (let k = 0; k < batch; k++)
        mine.set(got.subarray(k * 3 * F + i * F, k * 3 * F + (i + 1) * F), k * F);
      const { err, where } = worstError(single, mine, ref, batch);
      expect(err, `${v.name}: ${where}`).toBeLessThanOrEqual(1e-6);
    }
    await expect(convertNsfwjsMultiView({ views: [views[0], { name: 'view_a', size: 64 }] })).rejects.toThrow(
      /distinct/,
    );
    await expect(convertNsfwjsMultiView({ views: [] })).rejects.toThrow(/at least one view/);
  });

  it('rejects unknown blocks and unsupported ops with specific errors', async () => {
    await expect(convertNsfwjsMid({ blocks: ['MobilenetV2/no_such_block'] })).rejects.toThrow(
      /has no node 'MobilenetV2\/no_such_block'/,
    );
    const g = new GraphBuilder();
    g.input('x', 'float32', [1, 3, 4, 4]);
    expect(() =>
      convertTfGraph(
        {
          nodes: [
            { name: 'in', op: 'Placeholder' },
            { name: 'odd', op: 'Erf', input: ['in'] },
          ],
          weight: () => undefined,
          builder: g,
          inputs: { in: { name: 'x', tfShape: [1, 4, 4, 3] } },
        },
        ['odd'],
      ),
    ).toThrow(/op Erf \(node odd\) is not supported/);
  });
});

describe('TF SAME padding', () => {
  // Hand-computed from TF's rule: out = ceil(in / stride), total = max((out-1)*stride + k - in, 0), extra pad after.
  it.each([
    // in, k, stride, dilation, expected [before, after]
    [224, 3, 2, 1, [0, 1]], // out 112: total 111*2+3-224 = 1
    [112, 3, 1, 1, [1, 1]],
    [7, 1, 1, 1, [0, 0]],
    [15, 3, 2, 1, [1, 1]], // out 8: total 14+3-15 = 2
    [10, 3, 1, 2, [2, 2]], // effective kernel 5
    [5, 1, 2, 1, [0, 0]], // out 3: total 4+1-5 = 0
  ] as const)('in %i, k %i, stride %i, dilation %i -> %j', (inSize, k, stride, dil, expected) => {
    expect(samePads(inSize, k, stride, dil)).toEqual(expected);
  });
});
