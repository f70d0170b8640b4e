// Bit-exact port of Pillow's Image.resize for 8-bit RGB (src/libImaging/Resample.c
// for the convolution filters, Geometry.c ImagingScaleAffine for NEAREST), so that
// pixels match what CLIP-family checkpoints saw in training.
//
// What makes it exact, all taken from Pillow rather than re-derived:
// - separable passes, horizontal first, each rounded and clipped to uint8;
// - antialiasing: the filter support is widened by the downscale factor;
// - coefficients normalised in double, then fixed point with PRECISION_BITS = 22,
//   rounded half away from zero; accumulators start at 1 << 21 (round half up);
// - a pass is skipped when that dimension keeps its size.
//
// The convolution filters run in WebAssembly SIMD (wasm/resample.wat) when the
// runtime has it, with the same tables and arithmetic; this JS port is the
// fallback and the reference the wasm is tested against.
import { PIL_RESAMPLE } from './preprocess-config.ts';
import { resampleKernel, wasmConvolve } from './wasm/resample-wasm.ts';
import type { KernelBackend } from './wasm/simd-module.ts';

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

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

/** A rectangle [x, x+width) x [y, y+height) of the resized image. */
export interface Window {
  x: number;
  y: number;
  width: number;
  height: number;
}

const clip8 = (ss: number): number => {
  const v = ss >> PRECISION_BITS;
  return v < 0 ? 0 : v > 255 ? 255 : v;
};

export type ResampleBackend = KernelBackend;

/** Tests and benchmarks only: 'js' forces the JS port; 'auto' (the default) uses wasm where it works. */
export const setResampleBackend = (mode: 'js' | 'auto'): void => resampleKernel.setMode(mode);
/** Which backend pilResizeRgb uses now ('js' when forced or when wasm is unavailable). */
export const resampleBackend = (): ResampleBackend => resampleKernel.backend();
/** Which backend computed the last pilResizeRgb call (null before the first). */
export const lastResampleBackend = (): ResampleBackend | null => resampleKernel.lastServed();

/** Coefficients and source rows of a convolution resize; a null table = that pass is skipped. */
interface ConvPlan {
  ch: AxisCoeffs | null;
  cv: AxisCoeffs | null;
  rowFirst: number;
  rowEnd: number;
}

function convPlan(
  srcW: number,
  srcH: number,
  outW: number,
  outH: number,
  filter: number,
  win: Window,
): ConvPlan {
  const ch = outW !== srcW ? axisCoeffs(srcW, outW, filter) : null;
  const cv = outH !== srcH ? axisCoeffs(srcH, outH, filter) : null;
  // Source rows the vertical pass will read for this window.
  let rowFirst = win.y;
  let rowEnd = win.y + win.height;
  if (cv) {
    rowFirst = cv.start[win.y];
    rowEnd = 0;
    for (let yy = win.y; yy < win.y + win.height; yy++) {
      rowFirst = Math.min(rowFirst, cv.start[yy]);
      rowEnd = Math.max(rowEnd, cv.start[yy] + cv.count[yy]);
    }
  }
  return { ch, cv, rowFirst, rowEnd };
}

/** Whether the wasm kernel can take this call with the JS port's exact result. */
function wasmFits(
  src: Uint8Array | Uint8ClampedArray,
  srcW: number,
  srcH: number,
  outW: number,
  outH: number,
  filter: number,
  win: Window,
  dst: Uint8Array,
): boolean {
  const ints = [srcW, srcH, outW, outH, win.x, win.y, win.width, win.height];
  return (
    filter !== PIL_RESAMPLE.NEAREST &&
    FILTERS[filter] !== undefined &&
    (outW !== srcW || outH !== srcH) &&
    ints.every(Number.isInteger) &&
    srcW > 0 &&
    srcH > 0 &&
    win.width > 0 &&
    win.height > 0 &&
    win.x >= 0 &&
    win.y >= 0 &&
    win.x + win.width <= outW &&
    win.y + win.height <= outH &&
    src.length >= srcW * srcH * 4 &&
    dst.length >= win.width * win.height * 3
  );
}

/**
 * PIL `Image.resize((outW, outH), filter)` of the RGB channels of an RGBA image
 * (alpha dropped first, as convert("RGB") does), computing only `win` of the
 * output. Every output pixel depends on the source alone, so the window equals
 * the same crop of a full resize. Writes packed RGB uint8 (win.width*win.height*3).
 * Convolution filters run in wasm SIMD when available, else in JS; same bytes.
 */
export function pilResizeRgb(
  src: Uint8Array | Uint8ClampedArray,
  srcW: number,
  srcH: number,
  outW: number,
  outH: number,
  filter: number,
  win: Window,
  dst: Uint8Array,
): void {
  resampleKernel.run(
    () =>
      wasmFits(src, srcW, srcH, outW, outH, filter, win, dst) &&
      wasmConvolve({ src, srcW, win, dst, ...convPlan(srcW, srcH, outW, outH, filter, win) }),
    () => pilResizeRgbJs(src, srcW, srcH, outW, outH, filter, win, dst),
  );
}

/** The JS port behind pilResizeRgb (same contract): the fallback, and the reference for the wasm. */
export function pilResizeRgbJs(
  src: Uint8Array | Uint8ClampedArray,
  srcW: number,
  srcH: number,
  outW: number,
  outH: number,
  filter: number,
  win: Window,
  dst: Uint8Array,
): void {
  const { x: x0, y: y0, width: ww, height: wh } = win;
  if (filter === PIL_RESAMPLE.NEAREST) {
    const xi = outW === srcW ? null : nearestIndex(srcW, outW);
    const yi = outH === srcH ? null : nearestIndex(srcH, outH);
    let o = 0;
    for (let y = 0; y < wh; y++) {
      const sy = yi ? yi[y0 + y] : y0 + y;
      for (let x = 0; x < ww; x++) {
        const sx = xi ? xi[x0 + x] : x0 + x;
        if (sy < 0 || sx < 0) {
          dst[o] = dst[o + 1] = dst[o + 2] = 0;
        } else {
          const s = (sy * srcW + sx) * 4;
          dst[o] = src[s];
          dst[o + 1] = src[s + 1];
          dst[o + 2] = src[s + 2];
        }
        o += 3;
      }
    }
    return;
  }

  const { ch, cv, rowFirst, rowEnd } = convPlan(srcW, srcH, outW, outH, filter, win);

  // Horizontal pass into an 8-bit intermediate (rowFirst..rowEnd) x window columns,
  // or, without one, read the source in place.
  let buf: Uint8Array | Uint8ClampedArray = src;
  let base = (rowFirst * srcW + x0) * 4;
  let rowStride = srcW * 4;
  let pix = 4;
  if (ch) {
    const rows = rowEnd - rowFirst;
    const tmp = new Uint8Array(rows * ww * 3);
    const { ksize, start, count, k } = ch;
    let o = 0;
    for (let r = 0; r < rows; r++) {
      const rowBase = (rowFirst + r) * srcW * 4;
      for (let xx = x0; xx < x0 + ww; xx++) {
        let s0 = HALF;
        let s1 = HALF;
        let s2 = HALF;
        const n = count[xx];
        const kb = xx * ksize;
        let p = rowBase + start[xx] * 4;
        for (let i = 0; i < n; i++) {
          const c = k[kb + i];
          s0 = (s0 + Math.imul(src[p], c)) | 0;
          s1 = (s1 + Math.imul(src[p + 1], c)) | 0;
          s2 = (s2 + Math.imul(src[p + 2], c)) | 0;
          p += 4;
        }
        tmp[o] = clip8(s0);
        tmp[o + 1] = clip8(s1);
        tmp[o + 2] = clip8(s2);
        o += 3;
      }
    }
    buf = tmp;
    base = 0;
    rowStride = ww * 3;
    pix = 3;
  }

  if (!cv) {
    let o = 0;
    for (let y = 0; y < wh; y++) {
      let p = base + y * rowStride;
      for (let x = 0; x < ww; x++) {
        dst[o] = buf[p];
        dst[o + 1] = buf[p + 1];
        dst[o + 2] = buf[p + 2];
        o += 3;
        p += pix;
      }
    }
    return;
  }

  // Vertical pass, accumulated a whole output row at a time (int32 sums as in
  // Pillow; addition order does not change them).
  const { ksize, start, count, k } = cv;
  const acc = new Int32Array(ww * 3);
  let o = 0;
  for (let yy = y0; yy < y0 + wh; yy++) {
    acc.fill(HALF);
    const n = count[yy];
    const kb = yy * ksize;
    for (let i = 0; i < n; i++) {
      const c = k[kb + i];
      let p = base + (start[yy] + i - rowFirst) * rowStride;
      for (let a = 0; a < ww * 3; a += 3) {
        acc[a] = (acc[a] + Math.imul(buf[p], c)) | 0;
        acc[a + 1] = (acc[a + 1] + Math.imul(buf[p + 1], c)) | 0;
        acc[a + 2] = (acc[a + 2] + Math.imul(buf[p + 2], c)) | 0;
        p += pix;
      }
    }
    for (let a = 0; a < ww * 3; a++) dst[o++] = clip8(acc[a]);
  }
}
