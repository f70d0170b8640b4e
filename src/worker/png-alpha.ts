// Transparent PNGs are decoded in JavaScript (fast-png, the CLI's PNG decoder)
// because every browser path to pixels goes through premultiplied alpha: a 2D
// canvas, and even ImageDecoder with premultiplyAlpha 'none' in Chromium 156,
// gives black for fully transparent pixels and rounded colours for the rest.
// CLIP's reference (PIL's convert("RGB")) drops alpha and keeps the colours, so
// a premultiplied decode grades a different image (cosine 0.44 on tiny-clip's
// pub_alpha.png, see e2e/clip-parity.e2e.ts). Opaque images keep the native decoder,
// which is exact for PNG and, in Chromium, for JPEG too.
//
// The decoding itself is src/model/image/png.ts, shared with the CLI.

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
