// PNG to straight (not premultiplied) RGBA, with PIL's conversion rules, so the
// CLI and the browser worker (for PNGs with transparency, which every browser
// decode path premultiplies) give the pixels CLIP's reference pipeline sees.
import { decode as decodePng, type DecodedPng } from 'fast-png';
import { AgqgError } from '../errors.ts';
import type { RgbaImage } from './image.ts';

const OPAQUE = 255;

export function pngToRgba(bytes: Uint8Array, name: string): RgbaImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    const why =
      e instanceof Error
        ? e.cause instanceof Error
          ? `${e.message} ${e.cause.message}`
          : e.message
        : String(e);
    throw new AgqgError('decode_failed', `${name}: the PNG is corrupt (${why.trim()})`, { cause: e });
  }
  const { width, height, depth, channels } = png;
  const n = width * height;
  const out = new Uint8Array(n * 4);
  const src = png.data;
  const expected = depth < 8 ? Math.ceil((width * depth) / 8) * height : n * channels;
  if (src.length < expected) {
    throw new AgqgError('decode_failed', `${name}: the PNG's image data is cut short`);
  }

  if (png.palette) {
    const pal = png.palette;
    forEachSample(src, width, height, depth, (i, index) => {
      const c = pal[index];
      // An index past the palette is black, as in PIL's 256-entry palette.
      out[i * 4] = c ? c[0] : 0;
      out[i * 4 + 1] = c ? c[1] : 0;
      out[i * 4 + 2] = c ? c[2] : 0;
      out[i * 4 + 3] = c && c.length > 3 ? c[3] : OPAQUE;
    });
    return { width, height, data: out };
  }

  if (channels === 1 && depth < 8) {
    // PIL unpacks 1/2/4-bit grey to full range ("1" mode, "L;2", "L;4").
    const scale = OPAQUE / ((1 << depth) - 1);
    forEachSample(src, width, height, depth, (i, v) => {
      const g = v * scale;
      out[i * 4] = out[i * 4 + 1] = out[i * 4 + 2] = g;
      out[i * 4 + 3] = OPAQUE;
    });
    return { width, height, data: out };
  }

  // 16-bit: PIL keeps the high byte for colour and grey+alpha ("RGB;16B",
  // "RGBA;16B", "LA;16B") but opens 16-bit grey as mode I;16, whose
  // convert("RGB") saturates every value above 255 to 255 (Convert.c I16_RGB).
  const to8 =
    depth === 16
      ? channels === 1
        ? (v: number) => (v > OPAQUE ? OPAQUE : v)
        : (v: number) => v >>> 8
      : (v: number) => v;
  for (let i = 0, s = 0; i < n; i++, s += channels) {
    const o = i * 4;
    if (channels >= 3) {
      out[o] = to8(src[s]);
      out[o + 1] = to8(src[s + 1]);
      out[o + 2] = to8(src[s + 2]);
      out[o + 3] = channels === 4 ? to8(src[s + 3]) : OPAQUE;
    } else {
      const g = to8(src[s]);
      out[o] = out[o + 1] = out[o + 2] = g;
      out[o + 3] = channels === 2 ? to8(src[s + 1]) : OPAQUE;
    }
  }
  return { width, height, data: out };
}

/** Calls fn(pixelIndex, value) for 1/2/4/8-bit single-channel rows (rows start on a byte). */
function forEachSample(
  src: Uint8Array | Uint8ClampedArray | Uint16Array,
  width: number,
  height: number,
  depth: number,
  fn: (i: number, v: number) => void,
): void {
  if (depth === 8) {
    for (let i = 0; i < width * height; i++) fn(i, src[i]);
    return;
  }
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = src[y * rowBytes + (bit >> 3)];
      fn(y * width + x, (byte >> (8 - depth - (bit & 7))) & mask);
    }
  }
}
