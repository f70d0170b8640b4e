// Dynamic int8 quantization (agqg quantize): the rewritten graph computes the
// int8 arithmetic the ONNX spec defines (checked against a reference written
// here from the spec's formulas for DynamicQuantizeLinear and MatMulInteger),
// stays close to float32, and a quantized file in a Hugging Face folder
// becomes the pack's q8 variant.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImageFile } from '../src/cli/decode.ts';
import { openPackFolder } from '../src/cli/load-pack.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { GraphBuilder } from '../src/model/onnx/graph-builder.ts';
import { protoFields, protoString, type ProtoField } from '../src/model/onnx/proto-reader.ts';
import { quantizeColumns, quantizeDynamicInt8 } from '../src/model/onnx/quantize-int8.ts';
import { gaussian, mulberry32 } from '../src/model/util/rng.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';
import { describeShared } from './shared.ts';
import { refCosine, REFS, TINY } from './tiny-pack.ts';

function matMulModel(w: Float32Array, k: number, n: number, opset = 17): Uint8Array {
  const g = new GraphBuilder();
  g.input('x', 'float32', ['batch', k]);
  g.initializer('w', w, [k, n]);
  g.node('MatMul', ['x', 'w'], ['y']);
  g.output('y', 'float32', ['batch', n]);
  return g.toBytes({ opset, producer: 'agqg-test' });
}

function opsOf(model: Uint8Array): string[] {
  const graph = [...protoFields(model)].find((f) => f.no === 7);
  if (!graph) throw new Error('no graph');
  return [...protoFields(graph.body)]
    .filter((f) => f.no === 1)
    .map((f) => protoString([...protoFields(f.body)].find((g) => g.no === 4) as ProtoField));
}

/** Round half to even, as ONNX's quantizers round. */
function roundEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** ONNX DynamicQuantizeLinear then MatMulInteger, Cast, and the two scale Muls, written from the spec. */
function referenceQ8(
  x: Float32Array,
  rows: number,
  k: number,
  q: Uint8Array,
  wScale: Float32Array,
  n: number,
): Float32Array {
  let lo = 0;
  let hi = 0;
  for (const v of x) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  const scale = Math.fround((hi - lo) / 255);
  const zp = Math.max(0, Math.min(255, roundEven(-lo / scale)));
  const xq = x.map((v) => Math.max(0, Math.min(255, roundEven(v / scale) + zp)));
  const y = new Float32Array(rows * n);
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc += (xq[r * k + i] - zp) * (q[i * n + j] - 128);
      y[r * n + j] = acc * Math.fround(scale * wScale[j]);
    }
  }
  return y;
}

describe('int8 quantization of MatMul weights', () => {
  const rand = mulberry32(7);
  const normal = gaussian(rand);
  const k = 64;
  const n = 48;
  const w = Float32Array.from({ length: k * n }, () => normal() * 0.1);

  it('maps each column to 128 ± 127 with an error of at most half a step', () => {
    const { q, scale } = quantizeColumns(w, k, n);
    for (let j = 0; j < n; j++) {
      let maxAbs = 0;
      let maxQ = 0;
      for (let i = 0; i < k; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(w[i * n + j]));
        maxQ = Math.max(maxQ, Math.abs(q[i * n + j] - 128));
        expect(Math.abs((q[i * n + j] - 128) * scale[j] - w[i * n + j])).toBeLessThanOrEqual(
          scale[j] / 2 + 1e-9,
        );
      }
      expect(maxQ).toBe(127);
      expect(scale[j]).toBeCloseTo(maxAbs / 127, 9);
    }
  });

  it('rewrites MatMul into the int8 pattern and computes what the ONNX spec defines', async () => {
    const model = matMulModel(w, k, n);
    const r = quantizeDynamicInt8(model, { minWeights: 1 });
    expect(r.quantized).toBe(1);
    expect(opsOf(r.bytes)).toEqual(['DynamicQuantizeLinear', 'Mul', 'MatMulInteger', 'Cast', 'Mul']);
    expect(r.int8Bytes).toBe(k * n);
    const rows = 3;
    const x = Float32Array.from({ length: rows * k }, () => normal());
    const run = async (bytes: Uint8Array) => {
      const s = await ort.InferenceSession.create(bytes);
      const out = (await s.run({ x: new ort.Tensor('float32', x, [rows, k]) })).y.data as Float32Array;
      await s.release();
      return out;
    };
    const got = await run(r.bytes);
    const { q, scale } = quantizeColumns(w, k, n);
    const want = referenceQ8(x, rows, k, q, scale, n);
    const exact = await run(model);
    for (let i = 0; i < got.length; i++) {
      expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(want[i])));
    }
    // Rows with large activations are where a saturating int8 kernel goes wrong: all rows must match.
    // And close to float32: error well under the product's typical size.
    let err = 0;
    let mag = 0;
    for (let i = 0; i < got.length; i++) {
      err += (got[i] - exact[i]) ** 2;
      mag += exact[i] ** 2;
    }
    expect(Math.sqrt(err / mag)).toBeLessThan(0.02);
  });

  it('leaves small weight matrices float and refuses models older than opset 11', () => {
    expect(quantizeDynamicInt8(matMulModel(w, k, n)).quantized).toBe(0);
    expect(() => quantizeDynamicInt8(matMulModel(w, k, n, 10), { minWeights: 1 })).toThrow(/opset 11/);
  });
});

describeShared(
  'int8 variants of a CLIP export',
  ['fixtures/tiny-clip', 'fixtures/tiny-clip-refs/refs.json'],
  () => {
    const dirs: string[] = [];
    afterAll(() => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    });

    it('becomes the q8 variant of a Hugging Face folder and embeds close to float32', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'agqg-q8-'));
      dirs.push(dir);
      cpSync(TINY(), dir, { recursive: true });
      for (const f of ['vision_model', 'text_model']) {
        const r = quantizeDynamicInt8(new Uint8Array(readFileSync(join(dir, 'onnx', `${f}.onnx`))), {
          minWeights: 256,
        });
        expect(r.quantized).toBeGreaterThan(0);
        writeFileSync(join(dir, 'onnx', `${f}_quantized.onnx`), r.bytes);
      }
      const pack = await openPackFolder(dir);
      expect(pack.manifest.vision.variants.map((v) => v.dtype).sort()).toEqual(['fp32', 'q8']);
      const runtime = new NodeRuntime(1);
      const fp32 = await PackScorer.load(pack, runtime, { variant: 'fp32' });
      const q8 = await PackScorer.load(pack, runtime, { variant: 'q8' });
      try {
        const img = await decodeImageFile(REFS('images/pub_astronaut.png'));
        const a = await fp32.embedImage(img);
        const b = await q8.embedImage(img);
        // Tiny random weights amplify rounding; the full-size ViT-B/32 keeps a cosine of about 0.9995 (npm run bench).
        expect(refCosine(Array.from(a.features), Array.from(b.features))).toBeGreaterThan(0.95);
        const [ta] = await fp32.embedTexts(['a photo of a cat']);
        const [tb] = await q8.embedTexts(['a photo of a cat']);
        expect(refCosine(Array.from(ta), Array.from(tb))).toBeGreaterThan(0.95);
      } finally {
        await fp32.release();
        await q8.release();
      }
    });
  },
);
