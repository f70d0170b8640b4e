// Runs the convolution passes of src/model/image/resample.ts in WebAssembly SIMD
// (resample.wat). Coefficients come from the caller (axisCoeffs, computed in JS);
// this file only lays them out in wasm memory, copies pixels in and out, and says
// `false` whenever the wasm cannot run, so the caller falls back to the JS port.
import { ONE, type AxisCoeffs } from '../resample-coeffs.ts';
import type { Window } from '../window.ts';
import { RESAMPLE_WASM_BASE64 } from './resample-bytes.ts';
import { KEEP_MEMORY_BYTES, SimdKernel, WASM_PAGE_BYTES } from './simd-module.ts';

/** hpass(src, stride, rows, ww, tab, out) and vpass(in, stride, rowBytes, wh, tab, out), see resample.wat. */
type Pass = (input: number, stride: number, a: number, b: number, tab: number, out: number) => void;

/** Bytes each pass may read or write past its region (one v128). */
const SLACK = 16;
/** Source rows are copied in bands of about this many bytes, so a huge image is never copied whole. */
const BAND_BYTES = 4 << 20;
const RGBA = 4;
const RGB = 3;

/** The kernel, and which backend (wasm or the JS port) its callers use. */
export const resampleKernel = new SimdKernel<{ hpass: Pass; vpass: Pass }>(
  'resample.wasm',
  RESAMPLE_WASM_BASE64,
  ['hpass', 'vpass'],
);

/** A convolution resize with its coefficient tables and the source rows its window needs. */
export interface ConvolutionJob {
  src: Uint8Array | Uint8ClampedArray;
  srcW: number;
  win: Window;
  /** Horizontal coefficients (srcW -> outW), null when the width is kept. */
  ch: AxisCoeffs | null;
  /** Vertical coefficients (srcH -> outH), null when the height is kept. */
  cv: AxisCoeffs | null;
  /** Source rows [rowFirst, rowEnd) feed the vertical pass (or are the window's rows without one). */
  rowFirst: number;
  rowEnd: number;
  dst: Uint8Array;
}

const align = (n: number): number => (n + 15) & ~15;

/** Records [byte offset, tap pairs, coefficients padded to even] per window column. */
function horizontalTable(ch: AxisCoeffs | null, x0: number, ww: number, colFirst: number): Int32Array {
  if (!ch) {
    // Width kept: one tap of weight 1.0 per pixel packs RGBA to RGB exactly ((v << 22) + half) >> 22 = v).
    const t = new Int32Array(ww * 4);
    for (let x = 0; x < ww; x++) {
      t[x * 4] = (x0 + x - colFirst) * RGBA;
      t[x * 4 + 1] = 1;
      t[x * 4 + 2] = ONE;
    }
    return t;
  }
  const { ksize, start, count, k } = ch;
  let len = 0;
  for (let x = x0; x < x0 + ww; x++) len += 2 + ((count[x] + 1) & ~1);
  const t = new Int32Array(len);
  let o = 0;
  for (let x = x0; x < x0 + ww; x++) {
    const n = count[x];
    t[o] = (start[x] - colFirst) * RGBA;
    t[o + 1] = (n + 1) >> 1;
    t.set(k.subarray(x * ksize, x * ksize + n), o + 2);
    o += 2 + ((n + 1) & ~1); // the pad stays 0
  }
  return t;
}

/** Records [byte offset of the first input row, taps, coefficients] per window row. */
function verticalTable(cv: AxisCoeffs, y0: number, wh: number, rowFirst: number, stride: number): Int32Array {
  const { ksize, start, count, k } = cv;
  let len = 0;
  for (let y = y0; y < y0 + wh; y++) len += 2 + count[y];
  const t = new Int32Array(len);
  let o = 0;
  for (let y = y0; y < y0 + wh; y++) {
    const n = count[y];
    t[o] = (start[y] - rowFirst) * stride;
    t[o + 1] = n;
    t.set(k.subarray(y * ksize, y * ksize + n), o + 2);
    o += 2 + n;
  }
  return t;
}

/**
 * Runs `job` in wasm and writes win.width*win.height*3 bytes to job.dst.
 * Returns false, having written nothing, when wasm is unavailable or fails.
 */
export function wasmConvolve(job: ConvolutionJob): boolean {
  const k = resampleKernel.get();
  if (!k) return false;
  const { srcW, win, ch, cv, rowFirst, rowEnd, dst } = job;
  const { x: x0, y: y0, width: ww, height: wh } = win;

  // Source columns the horizontal pass reads.
  let colFirst = x0;
  let colEnd = x0 + ww;
  if (ch) {
    colFirst = ch.start[x0];
    colEnd = 0;
    for (let x = x0; x < x0 + ww; x++) {
      colFirst = Math.min(colFirst, ch.start[x]);
      colEnd = Math.max(colEnd, ch.start[x] + ch.count[x]);
    }
  }
  const rows = rowEnd - rowFirst;
  const colBytes = (colEnd - colFirst) * RGBA;
  const bandRows = Math.max(1, Math.min(rows, Math.floor(BAND_BYTES / colBytes)));
  const rowBytes = ww * RGB;

  const hTab = horizontalTable(ch, x0, ww, colFirst);
  const vTab = cv ? verticalTable(cv, y0, wh, rowFirst, rowBytes) : null;
  // Layout: hTab | vTab | source band | intermediate rows | output (vertical pass only).
  const hTabAt = 0;
  const vTabAt = align(hTabAt + hTab.byteLength);
  const bandAt = align(vTabAt + (vTab ? vTab.byteLength : 0));
  const interAt = align(bandAt + bandRows * colBytes + SLACK);
  const outAt = align(interAt + rows * rowBytes + SLACK);
  const end = (vTab ? outAt + wh * rowBytes : interAt + rows * rowBytes) + SLACK;

  let failed = false;
  try {
    const have = k.memory.buffer.byteLength;
    if (end > have) k.memory.grow(Math.ceil((end - have) / WASM_PAGE_BYTES));
    const heap = new Uint8Array(k.memory.buffer);
    new Int32Array(k.memory.buffer, hTabAt, hTab.length).set(hTab);
    if (vTab) new Int32Array(k.memory.buffer, vTabAt, vTab.length).set(vTab);

    // A Uint8Array view copies with memcpy whatever the source's element type.
    const src = new Uint8Array(job.src.buffer, job.src.byteOffset, job.src.length);
    const srcStride = srcW * RGBA;
    for (let r = 0; r < rows; r += bandRows) {
      const n = Math.min(bandRows, rows - r);
      const first = (rowFirst + r) * srcStride + colFirst * RGBA;
      if (colBytes === srcStride) {
        heap.set(src.subarray(first, first + n * colBytes), bandAt);
      } else {
        for (let i = 0; i < n; i++) {
          const s = first + i * srcStride;
          heap.set(src.subarray(s, s + colBytes), bandAt + i * colBytes);
        }
      }
      k.hpass(bandAt, colBytes, n, ww, hTabAt, interAt + r * rowBytes);
    }
    if (vTab) k.vpass(interAt, rowBytes, rowBytes, wh, vTabAt, outAt);
    const resultAt = vTab ? outAt : interAt;
    dst.set(heap.subarray(resultAt, resultAt + wh * rowBytes));
  } catch {
    failed = true;
  }
  // A failed call (no memory left, or a trap) gets a fresh instance next time.
  if (failed || end > KEEP_MEMORY_BYTES) resampleKernel.drop();
  return !failed;
}
