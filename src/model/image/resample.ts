// Bit-exact port of Pillow's Image.resize for 8-bit RGB (src/libImaging/Resample.c
// for the convolution filters, Geometry.c ImagingScaleAffine for NEAREST), so that
// pixels match what CLIP-family checkpoints saw in training.
//
// What makes it exact, all taken from Pillow rather than re-derived:
// - separable passes, horizontal first, each rounded and clipped to uint8;
// - antialiasing: the filter support is widened by the downscale factor;
// - coefficients normalised in double, then fixed point with PRECISION_BITS = 22,
//   rounded half away from zero (resample-coeffs.ts); accumulators start at
//   1 << 21 (round half up);
// - a pass is skipped when that dimension keeps its size.
//
// The convolution filters run in WebAssembly SIMD (wasm/resample.wat) when the
// runtime has it, with the same tables and arithmetic; this JS port is the
// fallback and the reference the wasm is tested against.
import { PIL_RESAMPLE } from './preprocess-config.ts';
import {
  axisCoeffs,
  HALF,
  isConvolutionFilter,
  nearestIndex,
  PRECISION_BITS,
  type AxisCoeffs,
} from './resample-coeffs.ts';
import { resampleKernel, wasmConvolve } from './wasm/resample-wasm.ts';
import type { Window } from './window.ts';
import type { KernelBackend } from './wasm/simd-module.ts';

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
function wasmFits(...[src, srcW, srcH, outW, outH, filter, win, dst]: Parameters<PilResizeRgb>): boolean {
  const ints = [srcW, srcH, outW, outH, win.x, win.y, win.width, win.height];
  return (
    filter !== PIL_RESAMPLE.NEAREST &&
    isConvolutionFilter(filter) &&
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
 */
export type PilResizeRgb = (
  src: Uint8Array | Uint8ClampedArray,
  srcW: number,
  srcH: number,
  outW: number,
  outH: number,
  filter: number,
  win: Window,
  dst: Uint8Array,
) => void;

/** PilResizeRgb: convolution filters run in wasm SIMD when available, else in JS; same bytes. */
export const pilResizeRgb: PilResizeRgb = (...args) => {
  const [src, srcW, srcH, outW, outH, filter, win, dst] = args;
  resampleKernel.run(
    () =>
      wasmFits(...args) &&
      wasmConvolve({ src, srcW, win, dst, ...convPlan(srcW, srcH, outW, outH, filter, win) }),
    () => pilResizeRgbJs(...args),
  );
};

/** The JS port behind pilResizeRgb (same contract): the fallback, and the reference for the wasm. */
export const pilResizeRgbJs: PilResizeRgb = (src, srcW, srcH, outW, outH, filter, win, dst) => {
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
};
