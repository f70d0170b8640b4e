// Pillow's resampling coefficient tables (src/libImaging/Resample.c
// precompute_coeffs + normalize_coeffs_8bpc, Geometry.c for NEAREST), kept
// apart from the passes: both the JS port (resample.ts) and the wasm kernel
// (wasm/resample-wasm.ts) read them. Each expression keeps Pillow's order.
import { PIL_RESAMPLE } from './preprocess-config.ts';

/** Fractional bits of the fixed-point coefficients (Pillow's PRECISION_BITS). */
export const PRECISION_BITS = 32 - 8 - 2;
/** Fixed-point 1.0. */
export const ONE = 1 << PRECISION_BITS;
/** Fixed-point 0.5: accumulators start here (round half up). */
export const HALF = 1 << (PRECISION_BITS - 1);

interface Filter {
  fn: (x: number) => number;
  support: number;
}

// Each expression keeps Pillow's operation order so doubles round identically.
const box = (x: number): number => (x > -0.5 && x <= 0.5 ? 1.0 : 0.0);
const bilinear = (x: number): number => {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
};
const F32_054 = Math.fround(0.54);
const F32_046 = Math.fround(0.46);
const hamming = (x: number): number => {
  if (x < 0.0) x = -x;
  if (x === 0.0) return 1.0;
  if (x >= 1.0) return 0.0;
  x = x * Math.PI;
  return (Math.sin(x) / x) * (F32_054 + F32_046 * Math.cos(x));
};
const A = -0.5;
const bicubic = (x: number): number => {
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * A;
  return 0.0;
};
const sinc = (x: number): number => {
  if (x === 0.0) return 1.0;
  x = x * Math.PI;
  return Math.sin(x) / x;
};
const lanczos = (x: number): number => (-3.0 <= x && x < 3.0 ? sinc(x) * sinc(x / 3) : 0.0);

const FILTERS: Record<number, Filter> = {
  [PIL_RESAMPLE.BOX]: { fn: box, support: 0.5 },
  [PIL_RESAMPLE.BILINEAR]: { fn: bilinear, support: 1.0 },
  [PIL_RESAMPLE.HAMMING]: { fn: hamming, support: 1.0 },
  [PIL_RESAMPLE.BICUBIC]: { fn: bicubic, support: 2.0 },
  [PIL_RESAMPLE.LANCZOS]: { fn: lanczos, support: 3.0 },
};

/** Fixed-point coefficients for one axis: output i reads `count[i]` inputs from `start[i]`. */
export interface AxisCoeffs {
  ksize: number;
  start: Int32Array;
  count: Int32Array;
  /** outSize * ksize, fixed point with PRECISION_BITS fractional bits. */
  k: Int32Array;
}

// Tables depend only on (filter, in, out): a handful of sizes recur per session.
const CACHE_LIMIT = 32;
const coeffCache = new Map<string, AxisCoeffs>();
const nearestCache = new Map<string, Int32Array>();

function remember<T>(cache: Map<string, T>, key: string, make: () => T): T {
  const hit = cache.get(key);
  if (hit) return hit;
  const v = make();
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(key, v);
  return v;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for box (0, inSize). */
export function axisCoeffs(inSize: number, outSize: number, filter: number): AxisCoeffs {
  return remember(coeffCache, `${filter}:${inSize}:${outSize}`, () => {
    const f = FILTERS[filter];
    if (!f) throw new RangeError(`no convolution filter for PIL resample ${filter}`);
    const scale = inSize / outSize;
    const filterscale = scale < 1.0 ? 1.0 : scale;
    const support = f.support * filterscale;
    const ksize = Math.ceil(support) * 2 + 1;
    const start = new Int32Array(outSize);
    const count = new Int32Array(outSize);
    const k = new Int32Array(outSize * ksize);
    const w = new Float64Array(ksize);
    const ss = 1.0 / filterscale;
    for (let xx = 0; xx < outSize; xx++) {
      const center = (xx + 0.5) * scale;
      let xmin = Math.trunc(center - support + 0.5);
      if (xmin < 0) xmin = 0;
      let xmax = Math.trunc(center + support + 0.5);
      if (xmax > inSize) xmax = inSize;
      xmax -= xmin;
      let ww = 0.0;
      for (let x = 0; x < xmax; x++) {
        const v = f.fn((x + xmin - center + 0.5) * ss);
        w[x] = v;
        ww += v;
      }
      for (let x = 0; x < xmax; x++) {
        const v = ww !== 0.0 ? w[x] / ww : w[x];
        k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
      }
      start[xx] = xmin;
      count[xx] = xmax;
    }
    return { ksize, start, count, k };
  });
}

/** Source index per output index for PIL NEAREST (ImagingScaleAffine: centre sampling, accumulated step). */
export function nearestIndex(inSize: number, outSize: number): Int32Array {
  return remember(nearestCache, `${inSize}:${outSize}`, () => {
    const a = inSize / outSize;
    const idx = new Int32Array(outSize);
    let xo = a * 0.5;
    for (let x = 0; x < outSize; x++) {
      const xin = xo < 0.0 ? -1 : Math.trunc(xo);
      idx[x] = xin >= 0 && xin < inSize ? xin : -1;
      xo += a;
    }
    return idx;
  });
}

/** Whether `filter` is one of PIL's convolution filters (NEAREST is not). */
export function isConvolutionFilter(filter: number): boolean {
  return FILTERS[filter] !== undefined;
}
