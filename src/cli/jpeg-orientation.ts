// EXIF orientation for the CLI's JPEG decoders, which (like PIL) hand back the
// pixels as stored. Browsers draw a JPEG the way its EXIF orientation tag says
// (createImageBitmap's default imageOrientation "from-image"), so the CLI turns
// the pixels the same way and both grade the image a person sees.
import type { RgbaImage } from '../model/image/image.ts';

const APP1 = 0xe1;
const SOS = 0xda;
const TIFF_HEADER_BYTES = 8;
const IFD_ENTRY_BYTES = 12;
const ORIENTATION_TAG = 0x0112;
const EXIF_SIGNATURE = 'Exif\0\0';
/** Orientations 1..8 (TIFF 6.0); 1 is "as stored". */
const MAX_ORIENTATION = 8;

/** The EXIF orientation (1..8) of a JPEG, 1 when it has none or it is unreadable. */
export function jpegExifOrientation(b: Uint8Array): number {
  let i = 2;
  while (i + 4 <= b.length && b[i] === 0xff) {
    const marker = b[i + 1];
    if (marker === SOS) return 1;
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker === APP1 && len >= EXIF_SIGNATURE.length + TIFF_HEADER_BYTES) {
      const sig = String.fromCharCode(...b.subarray(i + 4, i + 4 + EXIF_SIGNATURE.length));
      if (sig === EXIF_SIGNATURE) return tiffOrientation(b.subarray(i + 10, Math.min(b.length, i + 2 + len)));
    }
    i += 2 + len;
  }
  return 1;
}

function tiffOrientation(t: Uint8Array): number {
  if (t.length < TIFF_HEADER_BYTES) return 1;
  const le = t[0] === 0x49 && t[1] === 0x49;
  if (!le && !(t[0] === 0x4d && t[1] === 0x4d)) return 1;
  const dv = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const ifd = dv.getUint32(4, le);
  if (ifd + 2 > t.length) return 1;
  const count = dv.getUint16(ifd, le);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + k * IFD_ENTRY_BYTES;
    if (e + IFD_ENTRY_BYTES > t.length) return 1;
    if (dv.getUint16(e, le) === ORIENTATION_TAG) {
      const v = dv.getUint16(e + 8, le);
      return v >= 1 && v <= MAX_ORIENTATION ? v : 1;
    }
  }
  return 1;
}

/** The image turned as EXIF orientation `o` says (a new buffer; `img` itself when o is 1). */
export function applyOrientation(img: RgbaImage, o: number): RgbaImage {
  if (o <= 1 || o > MAX_ORIENTATION) return img;
  const { width: w, height: h, data } = img;
  const swap = o >= 5;
  const W = swap ? h : w;
  const H = swap ? w : h;
  const out = new Uint8Array(W * H * 4);
  const aligned = data.byteOffset % 4 === 0 ? data : data.slice();
  const src = new Uint32Array(aligned.buffer, aligned.byteOffset, w * h);
  const dst = new Uint32Array(out.buffer);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      // (sx, sy): the stored pixel that lands at (x, y) of the displayed image.
      let sx: number;
      let sy: number;
      switch (o) {
        case 2:
          [sx, sy] = [w - 1 - x, y];
          break;
        case 3:
          [sx, sy] = [w - 1 - x, h - 1 - y];
          break;
        case 4:
          [sx, sy] = [x, h - 1 - y];
          break;
        case 5:
          [sx, sy] = [y, x];
          break;
        case 6:
          [sx, sy] = [y, h - 1 - x];
          break;
        case 7:
          [sx, sy] = [w - 1 - y, h - 1 - x];
          break;
        default:
          [sx, sy] = [w - 1 - y, x];
      }
      dst[y * W + x] = src[sy * w + sx];
    }
  }
  return { width: W, height: H, data: out };
}
