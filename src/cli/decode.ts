// Node's image decoder: file bytes -> RgbaImage, matching what PIL's
// Image.open(...).convert("RGB") gives (the reference pipeline), so that the
// CLI, eval and training see the pixels the checkpoints were trained on.
// The browser decodes with createImageBitmap instead; see docs/preprocessing.md.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { readImageHeader } from '../model/image/image-header.ts';
import { pngToRgba } from '../model/image/png.ts';
import { MAX_IMAGE_BYTES } from '../model/limits.ts';
import { decodeJpegRgba, JpegError } from './jpeg-turbo.ts';
import { nativeJpeg, type JpegDecoderChoice } from './jpeg-native.ts';

const JPEG_SOF_COMPONENTS_OFFSET = 9;
const CMYK_COMPONENTS = 4;

export interface DecodeOptions {
  /** 'wasm' keeps the native JPEG decoder out (benchmarks compare the two). */
  jpeg?: JpegDecoderChoice;
  /**
   * A buffer the native JPEG decoder may decode into when it is big enough: the image's data is
   * then a view of it, valid until the caller reuses it.
   */
  into?: Uint8Array | null;
}

/**
 * Decodes PNG or JPEG bytes. The header is read first, so oversized images are
 * refused before any pixel buffer exists. Throws AgqgError: empty_file,
 * unsupported_format, image_too_large, decode_failed.
 */
export function decodeImage(bytes: Uint8Array, name = 'image', opts: DecodeOptions = {}): RgbaImage {
  const header = readImageHeader(bytes, name);
  if (header.format === 'png') return pngToRgba(bytes, name);
  if (header.format === 'jpeg') return jpegToRgba(bytes, name, opts);
  throw new AgqgError(
    'unsupported_format',
    `${name} is a ${header.format.toUpperCase()} image; the command-line tools read PNG and JPEG only (convert it to PNG)`,
  );
}

/**
 * Reads an image file's bytes after the checks that need no decoding: a missing
 * path, a folder, an empty or oversized file each get their own error naming it.
 * The calls are synchronous (stat, open, read, close): on the decode workers,
 * which read one file at a time, libuv's thread pool hops for an async read cost
 * ~2 ms of CPU per image on 2 cores, taken from the encoder.
 */
export async function readImageBytes(path: string): Promise<Uint8Array> {
  const cannot = (e: unknown): AgqgError => {
    if (e instanceof AgqgError) return e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return new AgqgError('decode_failed', `${path}: no such file`, { cause: e });
    return new AgqgError('decode_failed', `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  };
  let size: number;
  try {
    // Checked before opening: opening a FIFO would wait for a writer.
    const s = statSync(path);
    if (s.isDirectory()) throw new AgqgError('decode_failed', `${path} is a folder, not an image`);
    if (!s.isFile()) throw new AgqgError('decode_failed', `${path} is not a file`);
    size = s.size;
  } catch (e) {
    throw cannot(e);
  }
  if (size === 0) throw new AgqgError('empty_file', `${path} is empty (0 bytes)`);
  if (size > MAX_IMAGE_BYTES)
    throw new AgqgError(
      'image_too_large',
      `${path} is ${size} bytes, over the limit of ${MAX_IMAGE_BYTES} bytes`,
    );
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw cannot(e);
  }
  try {
    const bytes = new Uint8Array(size);
    let got = 0;
    while (got < size) {
      const k = readSync(fd, bytes, got, size - got, got);
      if (k === 0) break;
      got += k;
    }
    // A file that shrank while being read: what is there is all there is.
    return got === size ? bytes : bytes.subarray(0, got);
  } catch (e) {
    throw cannot(e);
  } finally {
    closeSync(fd);
  }
}

/** Reads and decodes an image file; the message of any error names the file. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<RgbaImage> {
  return decodeImage(await readImageBytes(path), basename(path), opts);
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

function jpegToRgba(
  bytes: Uint8Array,
  name: string,
  { jpeg: choice = 'auto', into }: DecodeOptions,
): RgbaImage {
  const components = jpegComponents(bytes);
  if (components === CMYK_COMPONENTS) {
    throw new AgqgError(
      'unsupported_format',
      `${name} is a CMYK JPEG (print colour); the grader reads RGB and greyscale JPEGs: convert it to RGB first`,
    );
  }
  const native = choice === 'auto' && (components === 1 || components === 3) ? nativeJpeg() : null;
  if (native) {
    try {
      const { width, height, data } = native.decode(bytes, into ?? undefined);
      return { width, height, data };
    } catch {
      // A file the native decoder refuses goes to the WebAssembly one, whose error is the one reported.
    }
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
