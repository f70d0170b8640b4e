// The align-corners preprocessing as it was before the separable kernels
// (src/model/image/align-corners.ts, wasm/align-corners.wat): alignCornersBilinearRgb
// (copied verbatim as referenceRgb) writing interleaved float32 RGB, then
// preprocess.ts's per-element normaliser closures copying it into the CHW planes.
// The reference the new kernels must equal float for float
// (test/align-corners.test.ts), and the "before" of bench/preprocess.ts.
import type { AlignCornersJob } from '../src/model/image/align-corners-plan.ts';
import type { Window } from '../src/model/image/window.ts';

export function referenceRgb(
  src: Uint8Array | Uint8ClampedArray,
  srcW: number,
  srcH: number,
  outW: number,
  outH: number,
  levels: Float32Array,
  win: Window,
  dst: Float32Array,
): void {
  const effInH = outH > 1 ? srcH - 1 : srcH;
  const effOutH = outH > 1 ? outH - 1 : outH;
  const effInW = outW > 1 ? srcW - 1 : srcW;
  const effOutW = outW > 1 ? outW - 1 : outW;
  const rowRatio = effInH / effOutH;
  const colRatio = effInW / effOutW;

  const colLeft = new Int32Array(win.width);
  const colRight = new Int32Array(win.width);
  const colFrac = new Float64Array(win.width);
  for (let i = 0; i < win.width; i++) {
    const frac = colRatio * (win.x + i);
    const fl = Math.max(0, Math.floor(frac));
    colLeft[i] = fl * 4;
    colRight[i] = Math.min(srcW - 1, Math.ceil(frac)) * 4;
    colFrac[i] = frac - fl;
  }

  let o = 0;
  for (let j = 0; j < win.height; j++) {
    const frac = rowRatio * (win.y + j);
    const fl = Math.max(0, Math.floor(frac));
    const rowFrac = frac - fl;
    const top = fl * srcW * 4;
    const bot = Math.min(srcH - 1, Math.ceil(frac)) * srcW * 4;
    for (let i = 0; i < win.width; i++) {
      const cf = colFrac[i];
      const tl0 = top + colLeft[i];
      const tr0 = top + colRight[i];
      const bl0 = bot + colLeft[i];
      const br0 = bot + colRight[i];
      for (let c = 0; c < 3; c++) {
        const tl = levels[src[tl0 + c]];
        const tr = levels[src[tr0 + c]];
        const bl = levels[src[bl0 + c]];
        const br = levels[src[br0 + c]];
        const t = tl + (tr - tl) * cf;
        const b = bl + (br - bl) * cf;
        dst[o++] = t + (b - t) * rowFrac;
      }
    }
  }
}

type Normaliser = (x: number) => number;

export function referenceNormalisers(
  norm: { mean: readonly number[]; std: readonly number[] } | null,
): Normaliser[] {
  return [0, 1, 2].map((c): Normaliser => {
    if (!norm) return (x) => x;
    const m = Math.fround(norm.mean[c]);
    const s = Math.fround(norm.std[c]);
    return (x) => Math.fround(x - m) / s;
  });
}

/** The reference resize plus the old per-element normalising copy into the planes. */
export function referenceJob(job: AlignCornersJob): void {
  const { win, dst } = job;
  const rgb = new Float32Array(win.width * win.height * 3);
  referenceRgb(job.src, job.srcW, job.srcH, job.outW, job.outH, job.levels, win, rgb);
  const norm = referenceNormalisers(job.norm);
  for (let c = 0; c < 3; c++) {
    const f = norm[c];
    for (let y = 0; y < win.height; y++) {
      let d = dst.offset + c * dst.planeStride + y * dst.rowStride;
      let s = y * win.width * 3 + c;
      for (let x = 0; x < win.width; x++, s += 3) dst.data[d++] = f(rgb[s]);
    }
  }
}
