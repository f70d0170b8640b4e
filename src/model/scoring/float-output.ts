// onnxruntime (node and web) hands outputs over as typed arrays of the graph's
// element type; the core works in float32, so both adapters widen through here.
// The encoders' outputs are checked here too: present, and rows of the width expected.
import { AgqgError } from '../errors.ts';
import type { TensorOut } from './runtime.ts';

/** IEEE 754 binary16 bit patterns to float32 values. */
export function halfBitsToFloat32(bits: Uint16Array): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 0x1f) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** The float32 view of an output tensor; fp16 exports still report scores. */
export function outputToFloat32(
  t: { type: string; data: unknown },
  label: string,
  name: string,
): Float32Array {
  if (t.type === 'float32') return t.data as Float32Array;
  if (t.type === 'float16') {
    // Raw half bits in a Uint16Array, or a Float16Array where the platform has one.
    const src = t.data as ArrayLike<number>;
    return src instanceof Uint16Array ? halfBitsToFloat32(src) : Float32Array.from(src);
  }
  if (t.type === 'float64') return Float32Array.from(t.data as Float64Array);
  throw new AgqgError('backend_failed', `${label}: output "${name}" is ${t.type}, expected a float tensor`);
}

/** Output `name` of a run of `what` ("vision encoder"); a backend failure when it is missing. */
export function requireOutput(out: Record<string, TensorOut>, name: string, what: string): TensorOut {
  const y = out[name];
  if (!y) throw new AgqgError('backend_failed', `${what} gave no output "${name}"`);
  return y;
}

/** Width of the last axis, checked against the element count the caller expects per row. */
export function lastDim(dims: readonly number[], expected: number): number {
  const w = dims[dims.length - 1];
  if (!Number.isInteger(w) || w <= 0 || (Number.isInteger(expected) && w !== expected)) {
    throw new AgqgError(
      'backend_failed',
      `encoder output has shape [${dims.join(', ')}], expected rows of ${expected}`,
    );
  }
  return w;
}
