// tf.image.resizeBilinear(images, [outH, outW], alignCorners=true) as TF.js's CPU
// kernel computes it (tfjs-backend-cpu/src/kernels/ResizeBilinear.ts): source
// coordinate = r * (in-1)/(out-1), two lerps in double, result stored as float32.
// No antialiasing and no 8-bit rounding: TF.js models (nsfwjs) resize float pixels.
//
// Computed separably without changing a single rounding: the horizontal lerp
// t = tl + (tr - tl) * cf is kept in double for each source row a window row
// reads (Float64Array, exact), so a source row shared by two output rows is
// interpolated once; the vertical lerp then runs over contiguous planes, rounds
// to float32 and applies the normalisation (float32 semantics) in the same pass.
// The passes run in WebAssembly (wasm/align-corners.wat, the vertical one with
// SIMD) where the runtime has WebAssembly SIMD, with the same double operations
// in the same order; this JS is the fallback, tested like the wasm against the
// formulation it replaced (test/align-corners-reference.ts).
import {
  alignCornersPlan,
  type AlignCornersJob,
  type AlignCornersPlan,
  type ColumnTable,
} from './align-corners-plan.ts';
import { alignCornersKernel, wasmAlignCorners } from './wasm/align-corners-wasm.ts';
import type { KernelBackend } from './wasm/simd-module.ts';

const RGBA = 4;
const CHANNELS = 3;
const LEVELS = 256;

/** The horizontal lerp of one RGBA row at `base`, in double, as planes [c][i] of `h`. */
function lerpRow(src: Uint8Array, base: number, cols: ColumnTable, lv: Float64Array, h: Float64Array): void {
  const { left, right, frac } = cols;
  const n = left.length;
  for (let i = 0; i < n; i++) {
    const l = base + left[i];
    const r = base + right[i];
    const cf = frac[i];
    const l0 = lv[src[l]];
    const l1 = lv[src[l + 1]];
    const l2 = lv[src[l + 2]];
    h[i] = l0 + (lv[src[r]] - l0) * cf;
    h[n + i] = l1 + (lv[src[r + 1]] - l1) * cf;
    h[2 * n + i] = l2 + (lv[src[r + 2]] - l2) * cf;
  }
}

/** The JS kernel: the reference for the wasm one and the fallback where wasm is missing. */
export function alignCornersBilinearJs(job: AlignCornersJob, plan = alignCornersPlan(job)): void {
  const { srcW, win, levels, norm, dst } = job;
  if (win.width <= 0 || win.height <= 0) return;
  // One element type for the loops whatever the caller's (ImageData gives Uint8ClampedArray).
  const src = new Uint8Array(job.src.buffer, job.src.byteOffset, job.src.length);
  const lv = Float64Array.from(levels);
  const { cols, rows } = plan;
  const ww = win.width;
  const stride = srcW * RGBA;
  const bufs = [new Float64Array(CHANNELS * ww), new Float64Array(CHANNELS * ww)];
  const out = dst.data;
  for (let j = 0; j < win.height; j++) {
    for (let s = 0; s < 2; s++) {
      const row = rows.load[2 * j + s];
      if (row >= 0) lerpRow(src, row * stride, cols, lv, bufs[s]);
    }
    const t = bufs[rows.topSlot[j]];
    const b = bufs[rows.bottomSlot[j]];
    const rf = rows.frac[j];
    for (let c = 0; c < CHANNELS; c++) {
      const d = dst.offset + c * dst.planeStride + j * dst.rowStride;
      if (norm) lerpPlaneNormalised(t, b, c * ww, ww, rf, norm.mean[c], norm.std[c], out, d);
      else lerpPlane(t, b, c * ww, ww, rf, out, d);
    }
  }
}

/** The vertical lerp of `n` values from `i`, stored as float32 from `d`. */
function lerpPlane(
  t: Float64Array,
  b: Float64Array,
  i: number,
  n: number,
  rf: number,
  out: Float32Array,
  d: number,
): void {
  for (const end = i + n; i < end; i++, d++) {
    const tv = t[i];
    out[d] = tv + (b[i] - tv) * rf;
  }
}

/** lerpPlane, then fround(x - m) / s in float32 (m, s float32 values). */
function lerpPlaneNormalised(
  t: Float64Array,
  b: Float64Array,
  i: number,
  n: number,
  rf: number,
  m: number,
  s: number,
  out: Float32Array,
  d: number,
): void {
  for (const end = i + n; i < end; i++, d++) {
    const tv = t[i];
    out[d] = Math.fround(Math.fround(tv + (b[i] - tv) * rf) - m) / s;
  }
}

export type AlignCornersBackend = KernelBackend;

/** Tests and benchmarks only: 'js' forces the JS port; 'auto' (the default) uses wasm where it works. */
export const setAlignCornersBackend = (mode: 'js' | 'auto'): void => alignCornersKernel.setMode(mode);
/** Which backend alignCornersBilinear uses now ('js' when forced or when wasm is unavailable). */
export const alignCornersBackend = (): AlignCornersBackend => alignCornersKernel.backend();
/** Which backend computed the last alignCornersBilinear call (null before the first). */
export const lastAlignCornersBackend = (): AlignCornersBackend | null => alignCornersKernel.lastServed();

/** Whether the job is well formed, so the wasm kernel reads and writes only inside its buffers. */
function wasmFits(job: AlignCornersJob): boolean {
  const { srcW, srcH, outW, outH, win, dst } = job;
  const ints = [
    srcW,
    srcH,
    outW,
    outH,
    win.x,
    win.y,
    win.width,
    win.height,
    dst.offset,
    dst.rowStride,
    dst.planeStride,
  ];
  const last = dst.offset + 2 * dst.planeStride + (win.height - 1) * dst.rowStride + win.width;
  return (
    ints.every(Number.isSafeInteger) &&
    srcW > 0 &&
    srcH > 0 &&
    win.x >= 0 &&
    win.y >= 0 &&
    win.x + win.width <= outW &&
    win.y + win.height <= outH &&
    job.src.length >= srcW * srcH * RGBA &&
    job.levels.length === LEVELS &&
    dst.offset >= 0 &&
    dst.rowStride >= win.width &&
    dst.planeStride >= win.height * dst.rowStride &&
    last <= dst.data.length
  );
}

/**
 * Resizes the RGB channels of an RGBA image (each 8-bit value mapped through
 * `levels` first), rounds to float32, normalises, and writes the `win` part of
 * the output as three planes into `dst`.
 */
export function alignCornersBilinear(job: AlignCornersJob): void {
  if (job.win.width <= 0 || job.win.height <= 0) return;
  const plan = alignCornersPlan(job);
  alignCornersKernel.run(
    () => wasmFits(job) && wasmAlignCorners(job, plan),
    () => alignCornersBilinearJs(job, plan),
  );
}
