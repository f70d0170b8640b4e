// The head's reference forward pass against hand-computed GRM values, its
// parameter validation, and the ONNX head (run in onnxruntime-node) against it.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import { minDiscriminationSpacing } from '../src/model/grading/grm.ts';
import {
  HEAD_FORMAT,
  HEAD_VERSION,
  headFeatures,
  headForward,
  parseHeadParams,
  type HeadParams,
} from '../src/model/grading/head.ts';
import { HEAD_IO, headToOnnx } from '../src/model/onnx/onnx-head.ts';
import { mulberry32 } from '../src/model/util/rng.ts';

const logistic = (z: number) => 1 / (1 + Math.exp(-z));

function linearHead(over: Partial<HeadParams> = {}): HeadParams {
  return parseHeadParams({
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    kind: 'linear',
    input: { type: 'image' },
    inputDim: 2,
    mean: [1, -2],
    std: [2, 0.5],
    weights: [0.5, -1],
    bias: 0.25,
    grm: { a: 1.5, b1: -1, d: 1 },
    K: 5,
    mos: { min: 0, max: 5 },
    ...over,
  });
}

function randomHead(
  rand: () => number,
  opts: { kind: 'linear' | 'mlp'; text: boolean; F: number },
): HeadParams {
  const r = (s = 1) => (rand() * 2 - 1) * s;
  const E = opts.F;
  const input = opts.text
    ? {
        type: 'image-text' as const,
        parts: ['cosine', 'product', 'image', 'text'] as ('cosine' | 'product' | 'image' | 'text')[],
        embedDim: E,
      }
    : { type: 'image' as const };
  const dim = opts.text ? 1 + 3 * E : E;
  const units = 7;
  return parseHeadParams({
    format: HEAD_FORMAT,
    version: HEAD_VERSION,
    kind: opts.kind,
    input,
    inputDim: dim,
    mean: Array.from({ length: dim }, () => r(0.1)),
    std: Array.from({ length: dim }, () => 0.05 + rand() * 0.3),
    weights: Array.from({ length: dim }, () => r(0.3)),
    bias: r(),
    hidden:
      opts.kind === 'mlp'
        ? {
            units,
            activation: 'relu',
            weights: Array.from({ length: units * dim }, () => r(0.3)),
            bias: Array.from({ length: units }, () => r(0.5)),
            out: Array.from({ length: units }, () => r(0.5)),
          }
        : undefined,
    grm: { a: 0.9, b1: -1.2, d: 1.4 },
    K: 5,
    mos: { min: 0, max: 5 },
  });
}

describe('headForward', () => {
  it('matches the GRM computed by hand for a 2-feature linear head', () => {
    const head = linearHead();
    const x = [3, -1.5]; // z = [(3-1)/2, (-1.5+2)/0.5] = [1, 1]; theta = 0.5 - 1 + 0.25 = -0.25
    const out = headForward(head, Float32Array.from(x));
    expect(out.ability).toBeCloseTo(-0.25, 12);
    const b = [-1, 0, 1, 2];
    expect(out.thresholds).toEqual(b);
    const c = b.map((bk) => logistic(1.5 * (-0.25 - bk)));
    const p = [1 - c[0], c[0] - c[1], c[1] - c[2], c[2] - c[3], c[3]];
    out.probabilities.forEach((v, k) => expect(v).toBeCloseTo(p[k], 12));
    const e = 1 + c.reduce((s, v) => s + v, 0);
    expect(out.expectedGrade).toBeCloseTo(e, 12);
    expect(out.score).toBeCloseTo(((e - 1) / 4) * 5, 12);
  });

  it('adds the ReLU branch: only units with a positive pre-activation contribute', () => {
    const head = linearHead({
      kind: 'mlp',
      hidden: { units: 2, activation: 'relu', weights: [1, 0, 0, -1], bias: [0.5, 0], out: [2, 10] },
    });
    // z = [1, 1]: unit 1 pre = 1.5 -> +3; unit 2 pre = -1 -> 0
    expect(headForward(head, [3, -1.5]).ability).toBeCloseTo(-0.25 + 3, 12);
  });

  it('composes alignment features from normalised embeddings', () => {
    const input = { type: 'image-text' as const, parts: ['cosine', 'product', 'text'] as const, embedDim: 2 };
    const f = headFeatures({ input: { ...input, parts: [...input.parts] } }, [3, 4], [0, 2]);
    // u = [0.6, 0.8], v = [0, 1]: cos 0.8, u*v = [0, 0.8], v = [0, 1]
    expect(Array.from(f)).toEqual([0.8, 0, 0.8, 0, 1].map((v) => expect.closeTo(v, 12)));
    expect(() => headFeatures({ input: { ...input, parts: ['cosine'] } }, [1, 0])).toThrow(AgqgError);
  });

  it('refuses a feature vector of the wrong length', () => {
    expect(() => headForward(linearHead(), [1, 2, 3])).toThrow(/expects 2 features/);
  });
});

describe('parseHeadParams', () => {
  const valid = linearHead();
  it('rejects heads below the unimodality bound, wrong lengths and zero std', () => {
    const bound = minDiscriminationSpacing(5);
    expect(() => parseHeadParams({ ...valid, grm: { a: 1, b1: 0, d: bound * 0.99 } })).toThrow(/unimodality/);
    expect(() => parseHeadParams({ ...valid, weights: [1] })).toThrow(/weights: has 1 values, needs 2/);
    expect(() => parseHeadParams({ ...valid, std: [1, 0] })).toThrow(/std/);
    expect(() => parseHeadParams({ ...valid, kind: 'mlp' })).toThrow(/hidden/);
    let caught: unknown = null;
    try {
      parseHeadParams({ ...valid, mean: [0] });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AgqgError);
    expect((caught as AgqgError).code).toBe('pack_invalid');
  });
  it('round-trips through JSON', () => {
    expect(parseHeadParams(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });
});

async function runOnnx(bytes: Uint8Array, feeds: Record<string, ort.Tensor>) {
  const s = await ort.InferenceSession.create(bytes);
  try {
    return await s.run(feeds);
  } finally {
    await s.release();
  }
}

describe('headToOnnx', () => {
  const cases = [
    { kind: 'linear' as const, text: false },
    { kind: 'mlp' as const, text: false },
    { kind: 'linear' as const, text: true },
    { kind: 'mlp' as const, text: true },
  ];
  for (const c of cases) {
    it(`equals headForward for a ${c.kind} ${c.text ? 'image-text' : 'image'} head (max abs diff 1e-5)`, async () => {
      const rand = mulberry32(c.kind === 'mlp' ? 7 : 3);
      const F = 16;
      const head = randomHead(rand, { kind: c.kind, text: c.text, F });
      const batch = 6;
      const img = Float32Array.from({ length: batch * F }, () => rand() * 2 - 1);
      const txt = Float32Array.from({ length: batch * F }, () => rand() * 2 - 1);
      const feeds: Record<string, ort.Tensor> = {
        [HEAD_IO.image]: new ort.Tensor('float32', img, [batch, F]),
      };
      if (c.text) feeds[HEAD_IO.text] = new ort.Tensor('float32', txt, [batch, F]);
      const out = await runOnnx(headToOnnx(head), feeds);
      expect(out[HEAD_IO.probabilities].dims).toEqual([batch, 5]);
      expect(Array.from(out[HEAD_IO.thresholds].data as Float32Array)).toEqual(
        [0, 1, 2, 3].map((k) => expect.closeTo(-1.2 + 1.4 * k, 5)),
      );
      const abilities: number[] = [];
      for (let i = 0; i < batch; i++) {
        const im = img.subarray(i * F, (i + 1) * F);
        const tx = txt.subarray(i * F, (i + 1) * F);
        const ref = headForward(head, headFeatures(head, im, c.text ? tx : undefined));
        abilities.push(ref.ability);
        const close = (v: number, w: number) => expect(Math.abs(v - w)).toBeLessThanOrEqual(1e-5);
        close((out[HEAD_IO.ability].data as Float32Array)[i], ref.ability);
        close((out[HEAD_IO.expectedGrade].data as Float32Array)[i], ref.expectedGrade);
        close((out[HEAD_IO.score].data as Float32Array)[i], ref.score);
        ref.probabilities.forEach((p, k) =>
          close((out[HEAD_IO.probabilities].data as Float32Array)[i * 5 + k], p),
        );
      }
      // The test only means something if the batch spans several grades.
      expect(Math.max(...abilities) - Math.min(...abilities)).toBeGreaterThan(0.5);
    });
  }
});
