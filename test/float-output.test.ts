import { describe, expect, it } from 'vitest';
import { halfBitsToFloat32, outputToFloat32 } from '../src/model/scoring/float-output.ts';

describe('float16 outputs', () => {
  it('widens IEEE binary16 bit patterns (hand-decoded values)', () => {
    // 0x3C00 = 1.0, 0xC000 = -2.0, 0x7BFF = 65504 (largest normal), 0x0001 = 2^-24 (smallest subnormal),
    // 0x3555 = 0.333251953125, 0x7C00 = +Inf, 0xFC00 = -Inf.
    const out = halfBitsToFloat32(
      new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x3555, 0x7c00, 0xfc00, 0x7e00]),
    );
    expect(Array.from(out.slice(0, 7))).toEqual([
      1,
      -2,
      65504,
      2 ** -24,
      0.333251953125,
      Infinity,
      -Infinity,
    ]);
    expect(Number.isNaN(out[7])).toBe(true);
  });

  it('passes float32 through and refuses non-float outputs with the output named', () => {
    const f = new Float32Array([1.5]);
    expect(outputToFloat32({ type: 'float32', data: f }, 'head', 'score')).toBe(f);
    expect(() => outputToFloat32({ type: 'int64', data: new BigInt64Array(1) }, 'head', 'score')).toThrow(
      /"score" is int64/,
    );
  });
});
