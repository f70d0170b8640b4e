// Node's image decoder: file bytes -> RgbaImage. PNG and JPEG match what PIL's
// Image.open(...).convert("RGB") gives (the reference pipeline), so that the
// CLI, eval and training see the pixels the checkpoints were trained on; JPEGs
// are then turned by their EXIF orientation, as the page shows them. WebP, GIF,
// AVIF and BMP go through decode-formats.ts. The browser decodes with
// createImageBitmap instead; see docs/preprocessing.md.
import { closeSync, lstatSync, openSync, readlinkSync, readSync, statSync, type Stats } from 'node:fs';
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { readImageHeader } from '../model/image/image-header.ts';
import { pngToRgba } from '../model/image/png.ts';
import { imageCaveat } from '../model/image/caveat.ts';
import { MAX_IMAGE_BYTES } from '../model/limits.ts';
import { decodeBmp, decodeWithSharp } from './decode-formats.ts';
import { decodeCmykJpeg } from './jpeg-cmyk.ts';
import { applyOrientation, jpegExifOrientation } from './jpeg-orientation.ts';
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
 * Decodes PNG, JPEG or BMP bytes on the calling thread (WebP, GIF and AVIF need
 * decodeImageAsync). The header is read first, so oversized images are refused
 * before any pixel buffer exists. Throws AgqgError: empty_file,
 * unsupported_format, image_too_large, decode_failed.
 */
export function decodeImage(bytes: Uint8Array, name = 'image', opts: DecodeOptions = {}): RgbaImage {
  const header = readImageHeader(bytes, name);
  if (header.format === 'png') return pngToRgba(bytes, name);
  if (header.format === 'jpeg') return jpegToRgba(bytes, name, opts);
  if (header.format === 'bmp') return decodeBmp(bytes, name);
  throw new AgqgError(
    'internal',
    `${name}: ${header.format} is decoded by decodeImageAsync, not decodeImage`,
  );
}

/** Decodes any format the grader reads (PNG, JPEG, BMP here; WebP, GIF, AVIF through sharp). */
export async function decodeImageAsync(
  bytes: Uint8Array,
  name = 'image',
  opts: DecodeOptions = {},
): Promise<RgbaImage> {
  const header = readImageHeader(bytes, name);
  const img =
    header.format === 'webp' || header.format === 'gif' || header.format === 'avif'
      ? await decodeWithSharp(bytes, name, header.format)
      : decodeImage(bytes, name, opts);
  img.caveat = imageCaveat(img);
  return img;
}

/** What the file at `path` is when it is not a regular file, in words; null for a regular file. */
function notAFile(s: Stats): string | null {
  if (s.isFile()) return null;
  if (s.isDirectory()) return 'a folder, not an image';
  if (s.isFIFO()) return 'a named pipe (FIFO), not a regular file';
  if (s.isSocket()) return 'a socket, not a regular file';
  if (s.isCharacterDevice() || s.isBlockDevice()) return 'a device, not a regular file';
  return 'not a regular file';
}

/** Plain words for the errno codes a read can meet; other codes keep their name, never libuv's text. */
const ERRNO_WORDS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  ELOOP: 'it is a symbolic link loop (the links lead back to themselves)',
  EIO: 'input/output error (a disk or network problem)',
  ENAMETOOLONG: 'the path is too long',
  EMFILE: 'too many files are open',
  ENFILE: 'too many files are open',
  EISDIR: 'it is a folder',
};

/**
 * The error for a path that could not be stat'ed or opened, naming it as given: not_found
 * (no file, or a symbolic link to nothing), unreadable (permissions, link loops, I/O).
 */
export function fileError(path: string, e: unknown): AgqgError {
  if (e instanceof AgqgError) return e;
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    const link = (() => {
      try {
        return lstatSync(path).isSymbolicLink() ? readlinkSync(path) : null;
      } catch {
        return null;
      }
    })();
    const msg =
      link !== null
        ? `${path} is a symbolic link to ${link}, which does not exist`
        : `${path} does not exist`;
    return new AgqgError('not_found', msg, { cause: e });
  }
  const words = ERRNO_WORDS[code] ?? (code ? `system error ${code}` : 'an unknown error');
  return new AgqgError('unreadable', `${path} cannot be read: ${words}`, { cause: e });
}

/**
 * Reads an image file's bytes after the checks that need no decoding: a missing
 * path (not_found), a folder or a FIFO (not_a_file), a file it may not open
 * (unreadable), an empty or oversized file each get their own error naming it
 * as given. The calls are synchronous (stat, open, read, close): on the decode
 * workers, which read one file at a time, libuv's thread pool hops for an async
 * read cost ~2 ms of CPU per image on 2 cores, taken from the encoder.
 */
export async function readImageBytes(path: string): Promise<Uint8Array> {
  let size: number;
  try {
    // Checked before opening: opening a FIFO would wait for a writer.
    const s = statSync(path);
    const what = notAFile(s);
    if (what) throw new AgqgError('not_a_file', `${path} is ${what}`);
    size = s.size;
  } catch (e) {
    throw fileError(path, e);
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
    throw fileError(path, e);
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
    throw fileError(path, e);
  } finally {
    closeSync(fd);
  }
}

/** Reads and decodes an image file of any format the grader reads; errors name the file as given. */
export async function decodeImageFile(path: string, opts: DecodeOptions = {}): Promise<RgbaImage> {
  return decodeImageAsync(await readImageBytes(path), path, opts);
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
  const img = jpegPixels(bytes, name, choice, into);
  return applyOrientation(img, jpegExifOrientation(bytes));
}

function jpegPixels(
  bytes: Uint8Array,
  name: string,
  choice: JpegDecoderChoice,
  into: Uint8Array | null | undefined,
): RgbaImage {
  const components = jpegComponents(bytes);
  if (components === CMYK_COMPONENTS) return corruptJpeg(name, () => decodeCmykJpeg(bytes));
  const native = choice === 'auto' && (components === 1 || components === 3) ? nativeJpeg() : null;
  if (native) {
    try {
      const { width, height, data } = native.decode(bytes, into ?? undefined);
      return { width, height, data };
    } catch {
      // A file the native decoder refuses goes to the WebAssembly one, whose error is the one reported.
    }
  }
  return corruptJpeg(name, () => {
    const { width, height, data } = decodeJpegRgba(bytes);
    return { width, height, data };
  });
}

/** Runs a libjpeg decode, its failure reported as decode_failed naming the file. */
function corruptJpeg(name: string, decode: () => RgbaImage): RgbaImage {
  try {
    return decode();
  } catch (e) {
    if (e instanceof JpegError) {
      throw new AgqgError('decode_failed', `${name}: the JPEG is corrupt (${e.message})`, { cause: e });
    }
    throw e;
  }
}
