// Transparent PNGs are decoded in JavaScript (fast-png, the CLI's PNG decoder)
// because every browser path to pixels goes through premultiplied alpha: a 2D
// canvas, and even ImageDecoder with premultiplyAlpha 'none' in Chromium 156,
// gives black for fully transparent pixels and rounded colours for the rest.
// CLIP's reference (PIL's convert("RGB")) drops alpha and keeps the colours, so
// a premultiplied decode grades a different image (cosine 0.44 on tiny-clip's
// pub_alpha.png, see e2e/clip-parity.e2e.ts). Opaque images keep the native decoder,
// which is exact for PNG and, in Chromium, for JPEG too.
//
// The conversion rules are the ones of src/cli/decode.ts (pngToRgba), which is
// Node-only; moving that function into src/model would let both share it.
import { decode as decodePng, type DecodedPng } from 'fast-png';
import { AgqgError } from '../model/errors';
import type { RgbaImage } from '../model/image';

const OPAQUE = 255;
const SIGNATURE_BYTES = 8;
const IHDR_COLOR_TYPE = 25;
const COLOR_GREY_ALPHA = 4;
const COLOR_RGBA = 6;

/** True when the PNG has an alpha channel or a tRNS chunk (header chunks only, no decoding). */
export function pngHasAlpha(b: Uint8Array): boolean {
  const colorType = b[IHDR_COLOR_TYPE];
  if (colorType === COLOR_GREY_ALPHA || colorType === COLOR_RGBA) return true;
  let i = SIGNATURE_BYTES;
  while (i + 8 <= b.length) {
    const len = ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
    const type = String.fromCharCode(b[i + 4], b[i + 5], b[i + 6], b[i + 7]);
    if (type === 'tRNS') return true;
    if (type === 'IDAT' || type === 'IEND') return false;
    i += 12 + len;
  }
  return false;
}

/** Straight (not premultiplied) RGBA of a PNG, as PIL reads it. */
export function decodePngStraight(bytes: Uint8Array, name: string): RgbaImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    throw new AgqgError('decode_failed', `${name}: the PNG is corrupt (${(e as Error).message})`, { cause: e });
  }
  const { width, height, depth, channels } = png;
  const n = width * height;
  const out = new Uint8ClampedArray(n * 4);
  const src = png.data;
  const expected = depth < 8 ? Math.ceil((width * depth) / 8) * height : n * channels;
  if (src.length < expected) throw new AgqgError('decode_failed', `${name}: the PNG's image data is cut short`);

  const sample = (i: number): number => {
    if (depth >= 8) return src[i];
    const rowBytes = Math.ceil((width * depth) / 8);
    const y = Math.floor(i / width);
    const bit = (i - y * width) * depth;
    return (src[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
  };

  if (png.palette) {
    const pal = png.palette;
    for (let i = 0; i < n; i++) {
      const c = pal[sample(i)];
      out[i * 4] = c ? c[0] : 0;
      out[i * 4 + 1] = c ? c[1] : 0;
      out[i * 4 + 2] = c ? c[2] : 0;
      out[i * 4 + 3] = c && c.length > 3 ? c[3] : OPAQUE;
    }
    return { width, height, data: out };
  }
  if (channels === 1 && depth < 8) {
    const scale = OPAQUE / ((1 << depth) - 1);
    for (let i = 0; i < n; i++) {
      out[i * 4] = out[i * 4 + 1] = out[i * 4 + 2] = sample(i) * scale;
      out[i * 4 + 3] = OPAQUE;
    }
    return { width, height, data: out };
  }
  // 16-bit: PIL keeps the high byte, except 16-bit grey (mode I;16), which saturates at 255.
  const to8 = depth === 16 ? (channels === 1 ? (v: number) => Math.min(v, OPAQUE) : (v: number) => v >>> 8) : (v: number) => v;
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
