// The hand-written ONNX serialiser is checked by running what it writes in
// onnxruntime-node and comparing with values computed by hand / by naive loops.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import { attr, GraphBuilder } from '../src/model/onnx/graph-builder.ts';
import { ProtoWriter, utf8Encode } from '../src/model/onnx/protobuf.ts';

async function run(
  bytes: Uint8Array,
  feeds: Record<string, ort.Tensor>,
): Promise<ort.InferenceSession.OnnxValueMapType> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    return await session.run(feeds);
  } finally {
    await session.release();
  }
}

const f32 = (values: number[], dims: number[]): ort.Tensor =>
  new ort.Tensor('float32', Float32Array.from(values), dims);

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-5): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expect(
      Math.abs(actual[i] - expected[i]),
      `index ${i}: ${actual[i]} vs ${expected[i]}`,
    ).toBeLessThanOrEqual(tol);
  }
}

describe('protobuf wire format', () => {
  it('encodes varints, negative int64, floats and strings as the spec examples', () => {
    // protobuf encoding guide: field 1 = 150 -> 08 96 01
    expect(Array.from(new ProtoWriter().varint(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
    // field 2 string "testing" -> 12 07 74 65 73 74 69 6e 67
    expect(Array.from(new ProtoWriter().string(2, 'testing').finish())).toEqual([
      0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67,
    ]);
    // int64 -1 is ten bytes of two's complement
    expect(Array.from(new ProtoWriter().varint(1, -1).finish())).toEqual([
      0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
    ]);
    // 2^35 exceeds 32 bits
    expect(Array.from(new ProtoWriter().varint(1, 2 ** 35).finish())).toEqual([
      0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
    ]);
    // fixed32 float 1.0 = 0x3f800000 little-endian, wire type 5
    expect(Array.from(new ProtoWriter().float(3, 1).finish())).toEqual([0x1d, 0x00, 0x00, 0x80, 0x3f]);
    // packed repeated int: field 4 [3, 270, 86942] -> 22 06 03 8E 02 9E A7 05
    expect(Array.from(new ProtoWriter().packedVarints(4, [3, 270, 86942]).finish())).toEqual([
      0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05,
    ]);
  });

  it('encodes UTF-8 like the platform encoder', () => {
    for (const s of ['', 'abc', 'é', '€uro', '😀 grin', 'mixed ascii/日本語']) {
      expect(Array.from(utf8Encode(s))).toEqual(Array.from(new TextEncoder().encode(s)));
    }
  });
});

describe('GraphBuilder -> onnxruntime-node', () => {
  it('runs Gemm with float attributes, transB and a bias, with a symbolic batch', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', ['batch', 2]);
    g.initializer('w', Float32Array.from([1, 2, 3, 4, 5, 6]), [3, 2]); // transB: y = x @ w^T
    g.initializer('b', Float32Array.from([0.5, -1, 2]), [3]);
    g.node('Gemm', ['x', 'w', 'b'], ['y'], { alpha: attr.float(0.5), beta: attr.float(2), transB: 1 });
    g.output('y', 'float32', ['batch', 3]);
    const out = await run(g.toBytes({ opset: 17, producer: 'agqg-test' }), { x: f32([1, 1, 2, -1], [2, 2]) });
    // row [1,1]: 0.5*[3,7,11] + 2*[0.5,-1,2] = [2.5, 1.5, 9.5]
    // row [2,-1]: 0.5*[0,2,4] + [1,-2,4] = [1, -1, 6]
    expect(out.y.dims).toEqual([2, 3]);
    expectClose(out.y.data as Float32Array, [2.5, 1.5, 9.5, 1, -1, 6]);
  });

  it('runs strided, asymmetrically padded, grouped Conv like a naive loop', async () => {
    const [n, c, h, w, k, groups] = [1, 4, 5, 6, 3, 2];
    const outC = 4;
    const stride = 2;
    const pads = [0, 1, 1, 0]; // top, left, bottom, right
    const x = Float32Array.from({ length: n * c * h * w }, (_, i) => Math.sin(i * 0.37));
    const wt = Float32Array.from({ length: outC * (c / groups) * k * k }, (_, i) => Math.cos(i * 0.11));
    const bias = Float32Array.from([0.1, -0.2, 0.3, -0.4]);
    const g = new GraphBuilder();
    g.input('x', 'float32', [n, c, h, w]);
    g.initializer('w', wt, [outC, c / groups, k, k]);
    g.initializer('b', bias, [outC]);
    g.node('Conv', ['x', 'w', 'b'], ['y'], {
      strides: [stride, stride],
      pads,
      group: groups,
      kernel_shape: [k, k],
    });
    const oh = Math.floor((h + pads[0] + pads[2] - k) / stride) + 1;
    const ow = Math.floor((w + pads[1] + pads[3] - k) / stride) + 1;
    g.output('y', 'float32', [n, outC, oh, ow]);
    const out = await run(g.toBytes({ opset: 17, producer: 'agqg-test' }), {
      x: new ort.Tensor('float32', x, [n, c, h, w]),
    });

    const expected: number[] = [];
    const perGroupIn = c / groups;
    const perGroupOut = outC / groups;
    for (let o = 0; o < outC; o++) {
      const grp = Math.floor(o / perGroupOut);
      for (let oy = 0; oy < oh; oy++) {
        for (let ox = 0; ox < ow; ox++) {
          let s = bias[o];
          for (let ci = 0; ci < perGroupIn; ci++) {
            for (let ky = 0; ky < k; ky++) {
              for (let kx = 0; kx < k; kx++) {
                const iy = oy * stride + ky - pads[0];
                const ix = ox * stride + kx - pads[1];
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                s +=
                  x[((grp * perGroupIn + ci) * h + iy) * w + ix] *
                  wt[((o * perGroupIn + ci) * k + ky) * k + kx];
              }
            }
          }
          expected.push(s);
        }
      }
    }
    expect(out.y.dims).toEqual([n, outC, oh, ow]);
    expectClose(out.y.data as Float32Array, expected, 1e-5);
  });

  it('chains Sub, Sigmoid, ReduceMean (negative axis), Clip, Concat and Reshape with an int64 initializer', async () => {
    const g = new GraphBuilder();
    g.input('a', 'float32', [2, 3]);
    g.input('b', 'float32', [2, 3]);
    const d = g.op('Sub', ['a', 'b']);
    const s = g.op('Sigmoid', [d]);
    const m = g.op('ReduceMean', [s], { axes: [-1], keepdims: 1 });
    g.initializer('lo', Float32Array.from([0]), []);
    g.initializer('hi', Float32Array.from([0.6]), []);
    const clipped = g.op('Clip', [d, 'lo', 'hi']);
    const cat = g.op('Concat', [clipped, m], { axis: 1 });
    g.initializer('shape', BigInt64Array.from([8n]), [1]);
    g.node('Reshape', [cat, 'shape'], ['flat']);
    g.output('flat', 'float32', [8]);
    const bytes = g.toBytes({ opset: 17, producer: 'agqg-test', metadata: { purpose: 'writer test' } });
    const a = [0, 1, 2, 3, 4, 5];
    const b = [0, 0.5, 3, 3.5, 4, 4];
    const out = await run(bytes, { a: f32(a, [2, 3]), b: f32(b, [2, 3]) });
    const sig = (v: number): number => 1 / (1 + Math.exp(-v));
    const diff = a.map((v, i) => v - b[i]); // [0, .5, -1, -.5, 0, 1]
    const row = (r: number): number[] => [
      ...diff.slice(r * 3, r * 3 + 3).map((v) => Math.min(0.6, Math.max(0, v))),
      diff.slice(r * 3, r * 3 + 3).reduce((acc, v) => acc + sig(v), 0) / 3,
    ];
    expectClose(out.flat.data as Float32Array, [...row(0), ...row(1)], 1e-6);
  });

  it('writes metadata, producer and opset that onnxruntime reads back', async () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [1]);
    g.node('Identity', ['x'], ['y']);
    g.output('y', 'float32', [1]);
    const session = await ort.InferenceSession.create(
      g.toBytes({ opset: 13, producer: 'agqg-test', metadata: { featureDim: '42', note: 'naïve ✓' } }),
    );
    expect(session.inputNames).toEqual(['x']);
    expect(session.outputNames).toEqual(['y']);
    const out = await session.run({ x: f32([7], [1]) });
    expect(Array.from(out.y.data as Float32Array)).toEqual([7]);
    await session.release();
  });

  it('rejects malformed graphs with specific errors', () => {
    const g = new GraphBuilder();
    g.input('x', 'float32', [2]);
    expect(() => g.input('x', 'float32', [2])).toThrow(/defined twice/);
    expect(() => g.node('Relu', ['nope'], ['y'])).toThrow(/'nope', which is not defined/);
    expect(() => g.initializer('w', new Float32Array(5), [2, 3])).toThrow(/hold 6 values but the data has 5/);
    expect(() => g.node('LeakyRelu', ['x'], ['z'], { alpha: 0.1 })).toThrow(/use attr.float/);
    expect(() => g.output('missing', 'float32', [2])).toThrow(/never produced/);
    expect(() => new GraphBuilder().toBytes({ opset: 17, producer: 't' })).toThrow(/no outputs/);
    expect(() => g.node('Relu', ['nope'], ['y2'])).toThrow(AgqgError);
  });
});
