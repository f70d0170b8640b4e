// The tables of one tf.image.resizeBilinear(alignCorners=true) job (see
// align-corners.ts): which source columns and rows each output pixel lerps,
// and with what fraction. Computed once in JS and shared by the JS kernel and
// the wasm one (wasm/align-corners-wasm.ts), which both import this file.
import type { Window } from './window.ts';

const RGBA = 4;

/** Per-channel x -> fround(x - mean) / std in float32 (torchvision Normalize); values already float32. */
export interface ChannelNormalisation {
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/** Where the window's [3, win.height, win.width] values go inside a larger CHW tensor. */
export interface PlanarTarget {
  data: Float32Array;
  /** Index of the window's top-left value of channel 0. */
  offset: number;
  /** Floats from one row to the next (the tensor's width). */
  rowStride: number;
  /** Floats from one channel plane to the next. */
  planeStride: number;
}

/** One resize of the RGB channels of an RGBA image into float32 planes. */
export interface AlignCornersJob {
  src: Uint8Array | Uint8ClampedArray;
  srcW: number;
  srcH: number;
  /** The size of the whole resized image; `win` is the part computed. */
  outW: number;
  outH: number;
  win: Window;
  /** Float32 value of each 8-bit level (the input tensor's values, e.g. v/255). */
  levels: Float32Array;
  /** Applied after the resize's float32 rounding; null = none. */
  norm: ChannelNormalisation | null;
  dst: PlanarTarget;
}

/** Source columns of the window's output columns, and the fraction between them. */
export interface ColumnTable {
  /** Byte offsets of the left and right source pixels in an RGBA row. */
  left: Int32Array;
  right: Int32Array;
  frac: Float64Array;
}

/** TF.js's scale: (in-1)/(out-1) with corners aligned, in/out for a single output. */
function ratio(inSize: number, outSize: number): number {
  return outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
}

function columnTable(srcW: number, outW: number, win: Window): ColumnTable {
  const colRatio = ratio(srcW, outW);
  const left = new Int32Array(win.width);
  const right = new Int32Array(win.width);
  const frac = new Float64Array(win.width);
  for (let i = 0; i < win.width; i++) {
    const f = colRatio * (win.x + i);
    const fl = Math.max(0, Math.floor(f));
    left[i] = fl * RGBA;
    right[i] = Math.min(srcW - 1, Math.ceil(f)) * RGBA;
    frac[i] = f - fl;
  }
  return { left, right, frac };
}

/**
 * For each window row j: the source rows to lerp into row slots 0 and 1 before
 * it (-1: the slot keeps its row), the slots of its top and bottom rows, and its
 * fraction. Source rows only move down as j grows, so keeping the last two
 * lerped rows is all the reuse there is.
 */
export interface RowSchedule {
  load: Int32Array;
  topSlot: Uint8Array;
  bottomSlot: Uint8Array;
  frac: Float64Array;
}

function rowSchedule(srcH: number, outH: number, win: Window): RowSchedule {
  const rowRatio = ratio(srcH, outH);
  const wh = win.height;
  const load = new Int32Array(2 * wh).fill(-1);
  const topSlot = new Uint8Array(wh);
  const bottomSlot = new Uint8Array(wh);
  const frac = new Float64Array(wh);
  const held = [-1, -1];
  /** Slot holding `row`, loading it into the slot that does not hold `keep`. */
  const slot = (j: number, row: number, keep: number): number => {
    if (held[0] === row) return 0;
    if (held[1] === row) return 1;
    const s = held[0] === keep ? 1 : 0;
    held[s] = row;
    load[2 * j + s] = row;
    return s;
  };
  for (let j = 0; j < wh; j++) {
    const f = rowRatio * (win.y + j);
    const fl = Math.max(0, Math.floor(f));
    const top = fl;
    const bottom = Math.min(srcH - 1, Math.ceil(f));
    topSlot[j] = slot(j, top, bottom);
    bottomSlot[j] = slot(j, bottom, top);
    frac[j] = f - fl;
  }
  return { load, topSlot, bottomSlot, frac };
}

/** The tables of one job, shared by both kernels. */
export interface AlignCornersPlan {
  cols: ColumnTable;
  rows: RowSchedule;
}

export function alignCornersPlan(job: AlignCornersJob): AlignCornersPlan {
  return { cols: columnTable(job.srcW, job.outW, job.win), rows: rowSchedule(job.srcH, job.outH, job.win) };
}
