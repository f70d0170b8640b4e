// tf.image.resizeBilinear(images, [outH, outW], alignCorners=true) as TF.js's CPU
// kernel computes it (tfjs-backend-cpu/src/kernels/ResizeBilinear.ts): source
// coordinate = r * (in-1)/(out-1), two lerps in double, result stored as float32.
// No antialiasing and no 8-bit rounding: TF.js models (nsfwjs) resize float pixels.
import type { Window } from './resample';

/**
 * Resizes the RGB channels of an RGBA image, mapping each 8-bit value through
 * `levels` (the float32 input tensor's values, e.g. v/255) first, and writes the
 * `win` part of the output as packed float32 RGB (win.width*win.height*3).
 */
export function alignCornersBilinearRgb(
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
