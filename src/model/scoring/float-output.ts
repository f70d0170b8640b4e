// onnxruntime (node and web) hands outputs over as typed arrays of the graph's
// element type; the core works in float32, so both adapters widen through here.
import { AgqgError } from '../errors.ts';

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
