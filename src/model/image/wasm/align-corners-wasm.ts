// Runs the passes of src/model/image/align-corners.ts in WebAssembly (align-corners.wat).
// The tables come from the caller (alignCornersPlan, computed in JS); this file
// lays them out in wasm memory, copies each source row in as it is needed and
// the float planes out, and says `false` whenever the wasm cannot run, so the
// caller falls back to the JS kernel.
import type { AlignCornersJob, AlignCornersPlan } from '../align-corners-plan.ts';
import { ALIGN_CORNERS_WASM_BASE64 } from './align-corners-bytes.ts';
import { KEEP_MEMORY_BYTES, SimdKernel, WASM_PAGE_BYTES } from './simd-module.ts';

/** See align-corners.wat. */
type HRow = (src: number, cols: number, n: number, lv: number, out: number) => void;
type VRow = (t: number, b: number, n: number, rf: number, norm: number, out: number, plane: number) => void;

const RGBA = 4;
const CHANNELS = 3;
const LEVELS = 256;
const F32 = 4;
const F64 = 8;
/** Bytes of a column record: left, right (i32), fraction (f64). */
const COLUMN = 16;
/** Where align-corners.wat reads the normalisation splats: per channel, mean then std (f32x4 each). */
const NORM_AT = 0;
const NORM_BYTES = CHANNELS * 2 * 16;
/** Output rows are staged in bands of about this many bytes before they are copied out. */
const BAND_BYTES = 1 << 20;

/** The kernel, and which backend (wasm or the JS port) its callers use. */
export const alignCornersKernel = new SimdKernel<{ hrow: HRow; vrow: VRow }>(
  'align-corners.wasm',
  ALIGN_CORNERS_WASM_BASE64,
  ['hrow', 'vrow'],
);

const align = (n: number): number => (n + 15) & ~15;

/**
 * Runs `job` (well formed: the caller checked it) in wasm and writes its window
 * into job.dst. Returns false when wasm is unavailable or fails, possibly having
 * written part of the window: the caller's JS kernel then writes all of it.
 */
export function wasmAlignCorners(job: AlignCornersJob, plan: AlignCornersPlan): boolean {
  const k = alignCornersKernel.get();
  if (!k) return false;
  const { srcW, win, levels, norm, dst } = job;
  const { cols, rows } = plan;
  const ww = win.width;
  const wh = win.height;

  // Source columns the window reads: only those are copied in.
  let colFirst = srcW;
  let colEnd = 0;
  for (let i = 0; i < ww; i++) {
    colFirst = Math.min(colFirst, cols.left[i] / RGBA);
    colEnd = Math.max(colEnd, cols.right[i] / RGBA + 1, cols.left[i] / RGBA + 1);
  }
  const rowBytes = (colEnd - colFirst) * RGBA;
  const hBytes = CHANNELS * ww * F64;
  const bandRows = Math.max(1, Math.min(wh, Math.floor(BAND_BYTES / (CHANNELS * ww * F32))));
  const bandPlane = bandRows * ww * F32;

  // Layout: norm splats | levels | column records | two lerped rows | one source row | output band.
  const lvAt = align(NORM_AT + NORM_BYTES);
  const colsAt = align(lvAt + LEVELS * F64);
  const slotAt = [align(colsAt + ww * COLUMN), 0];
  slotAt[1] = align(slotAt[0] + hBytes);
  const srcAt = align(slotAt[1] + hBytes);
  const bandAt = align(srcAt + rowBytes);
  const end = bandAt + CHANNELS * bandPlane;

  let failed = false;
  try {
    const have = k.memory.buffer.byteLength;
    if (end > have) k.memory.grow(Math.ceil((end - have) / WASM_PAGE_BYTES));
    const buffer = k.memory.buffer;
    const heap = new Uint8Array(buffer);
    const f32 = new Float32Array(buffer);
    const f64 = new Float64Array(buffer);
    const i32 = new Int32Array(buffer);
    if (norm) {
      for (let c = 0; c < CHANNELS; c++) {
        f32.fill(norm.mean[c], (NORM_AT >> 2) + c * 8, (NORM_AT >> 2) + c * 8 + 4);
        f32.fill(norm.std[c], (NORM_AT >> 2) + c * 8 + 4, (NORM_AT >> 2) + c * 8 + 8);
      }
    }
    f64.set(levels, lvAt / F64);
    const colBase = colFirst * RGBA;
    for (let i = 0; i < ww; i++) {
      const r = (colsAt + i * COLUMN) >> 2;
      i32[r] = cols.left[i] - colBase;
      i32[r + 1] = cols.right[i] - colBase;
      f64[(colsAt + i * COLUMN + 8) / F64] = cols.frac[i];
    }

    // A Uint8Array view copies with memcpy whatever the source's element type.
    const src = new Uint8Array(job.src.buffer, job.src.byteOffset, job.src.length);
    const srcStride = srcW * RGBA;
    const out = dst.data;
    const normFlag = norm ? 1 : 0;
    for (let j0 = 0; j0 < wh; j0 += bandRows) {
      const n = Math.min(bandRows, wh - j0);
      for (let j = j0; j < j0 + n; j++) {
        for (let s = 0; s < 2; s++) {
          const row = rows.load[2 * j + s];
          if (row < 0) continue;
          const first = row * srcStride + colBase;
          heap.set(src.subarray(first, first + rowBytes), srcAt);
          k.hrow(srcAt, colsAt, ww, lvAt, slotAt[s]);
        }
        const t = slotAt[rows.topSlot[j]];
        const b = slotAt[rows.bottomSlot[j]];
        k.vrow(t, b, ww, rows.frac[j], normFlag, bandAt + (j - j0) * ww * F32, bandPlane);
      }
      for (let c = 0; c < CHANNELS; c++) {
        const from = (bandAt + c * bandPlane) / F32;
        const to = dst.offset + c * dst.planeStride + j0 * dst.rowStride;
        if (dst.rowStride === ww) {
          out.set(f32.subarray(from, from + n * ww), to);
        } else {
          for (let j = 0; j < n; j++)
            out.set(f32.subarray(from + j * ww, from + (j + 1) * ww), to + j * dst.rowStride);
        }
      }
    }
  } catch {
    failed = true;
  }
  // A failed call (no memory left, or a trap) gets a fresh instance next time.
  if (failed || end > KEEP_MEMORY_BYTES) alignCornersKernel.drop();
  return !failed;
}
