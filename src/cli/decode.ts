// Node's image decoder: file bytes -> RgbaImage, matching what PIL's
// Image.open(...).convert("RGB") gives (the reference pipeline), so that the
// CLI, eval and training see the pixels the checkpoints were trained on.
// The browser decodes with createImageBitmap instead; see docs/preprocessing.md.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { decode as decodePng, type DecodedPng } from 'fast-png';
import { AgqgError } from '../model/errors';
import type { RgbaImage } from '../model/image';
import { readImageHeader } from '../model/image-header';
import { MAX_IMAGE_BYTES } from '../model/limits';
import { decodeJpegRgba, JpegError } from './jpeg-turbo';

const JPEG_SOF_COMPONENTS_OFFSET = 9;
const CMYK_COMPONENTS = 4;
const OPAQUE = 255;

/**
 * Decodes PNG or JPEG bytes. The header is read first, so oversized images are
 * refused before any pixel buffer exists. Throws AgqgError: empty_file,
 * unsupported_format, image_too_large, decode_failed.
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbaImage {
  const header = readImageHeader(bytes, name);
  if (header.format === 'png') return pngToRgba(bytes, name);
  if (header.format === 'jpeg') return jpegToRgba(bytes, name);
  throw new AgqgError(
    'unsupported_format',
    `${name} is a ${header.format.toUpperCase()} image; the command-line tools read PNG and JPEG only (convert it to PNG)`,
  );
}

/** Reads and decodes an image file; the message of any error names the file. */
export async function decodeImageFile(path: string): Promise<RgbaImage> {
  const name = basename(path);
  let size: number;
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new AgqgError('decode_failed', `${path} is not a file`);
    size = s.size;
  } catch (e) {
    if (e instanceof AgqgError) throw e;
    throw new AgqgError('decode_failed', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (size === 0) throw new AgqgError('empty_file', `${path} is empty (0 bytes)`);
  if (size > MAX_IMAGE_BYTES) {
    throw new AgqgError('image_too_large', `${path} is ${size} bytes, over the limit of ${MAX_IMAGE_BYTES} bytes`);
  }
  const bytes = await readFile(path);
  return decodeImage(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), name);
}

// ---------------------------------------------------------------- PNG

function pngToRgba(bytes: Uint8Array, name: string): RgbaImage {
  let png: DecodedPng;
  try {
    png = decodePng(bytes);
  } catch (e) {
    const why = e instanceof Error ? (e.cause instanceof Error ? `${e.message} ${e.cause.message}` : e.message) : String(e);
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

// ---------------------------------------------------------------- JPEG

/** Number of colour components in the first frame header (header already validated). */
function jpegComponents(b: Uint8Array): number {
  let i = 2;
  while (i + 4 <= b.length) {
    const marker = b[i + 1];
    if (marker === 0xff || marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      i += marker === 0xff ? 1 : 2;
      continue;
    }
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) return b[i + JPEG_SOF_COMPONENTS_OFFSET] ?? 0;
    i += 2 + ((b[i + 2] << 8) | b[i + 3]);
  }
  return 0;
}

function jpegToRgba(bytes: Uint8Array, name: string): RgbaImage {
  if (jpegComponents(bytes) === CMYK_COMPONENTS) {
    throw new AgqgError(
      'unsupported_format',
      `${name} is a CMYK JPEG (print colour); the grader reads RGB and greyscale JPEGs: convert it to RGB first`,
    );
  }
  try {
    const { width, height, data } = decodeJpegRgba(bytes);
    return { width, height, data };
  } catch (e) {
    if (e instanceof JpegError) {
      throw new AgqgError('decode_failed', `${name}: the JPEG is corrupt (${e.message})`, { cause: e });
    }
    throw e;
  }
}
