// Reads an image file's format and pixel dimensions from its first bytes, so a
// decompression bomb (a small file declaring a huge canvas) is refused before
// any decoder allocates it, and non-images get a specific error instead of a
// decoder's generic failure.
import { AgqgError } from '../errors.ts';
import { MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS } from '../limits.ts';

export type ImageFormat = 'png' | 'jpeg' | 'gif' | 'webp' | 'bmp' | 'avif';

export interface ImageHeader {
  format: ImageFormat;
  mime: string;
  width: number;
  height: number;
}

const MIME: Record<ImageFormat, string> = {
  png: 'image/png',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  bmp: 'image/bmp',
  avif: 'image/avif',
};

/** Each format's name as people write it. */
export const FORMAT_NAME: Record<ImageFormat, string> = {
  png: 'PNG',
  jpeg: 'JPEG',
  gif: 'GIF',
  webp: 'WebP',
  bmp: 'BMP',
  avif: 'AVIF',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(b: Uint8Array, at: number, len: number): string {
  let s = '';
  for (let i = at; i < at + len && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

const u16be = (b: Uint8Array, i: number): number => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number): number => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number): number =>
  ((b[i] << 24) >>> 0) + ((b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]);
const i32le = (b: Uint8Array, i: number): number =>
  b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

function truncated(name: string, format: string, what: string): AgqgError {
  return new AgqgError('decode_failed', `${name}: the ${format} file is truncated or corrupt (${what})`);
}

function lastIndexOfPair(b: Uint8Array, x: number, y: number, from: number): number {
  for (let i = b.length - 2; i >= from; i--) if (b[i] === x && b[i + 1] === y) return i;
  return -1;
}

function png(b: Uint8Array, name: string): ImageHeader {
  // Signature, then IHDR must be the first chunk: length(4) "IHDR" width(4) height(4).
  if (b.length < 24 || ascii(b, 12, 4) !== 'IHDR') throw truncated(name, 'PNG', 'no IHDR header');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  // Browsers render a PNG cut short as far as it goes; a missing IEND chunk is how we tell.
  const tail = ascii(b, Math.max(0, b.length - 12), 12);
  if (!tail.includes('IEND')) throw truncated(name, 'PNG', 'no IEND chunk at the end');
  return { format: 'png', mime: MIME.png, width, height };
}

function jpeg(b: Uint8Array, name: string): ImageHeader {
  let i = 2;
  let dims: { width: number; height: number } | null = null;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw truncated(name, 'JPEG', `expected a marker at byte ${i}`);
    const marker = b[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length field
      continue;
    }
    const len = u16be(b, i + 2);
    if (len < 2) throw truncated(name, 'JPEG', `bad segment length at byte ${i}`);
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC) carry the frame size.
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (i + 9 > b.length) throw truncated(name, 'JPEG', 'frame header cut short');
      dims = { height: u16be(b, i + 5), width: u16be(b, i + 7) };
    }
    if (marker === 0xda) {
      if (!dims) throw truncated(name, 'JPEG', 'scan data before any frame header');
      // Entropy-coded data stuffs 0xFF as FF 00, so FF D9 after the scan can only be the end-of-image marker;
      // browsers draw a JPEG cut short with grey rows rather than failing, so check for it here.
      if (lastIndexOfPair(b, 0xff, 0xd9, i + 2 + len) < 0)
        throw truncated(name, 'JPEG', 'no end-of-image marker');
      return { format: 'jpeg', mime: MIME.jpeg, ...dims };
    }
    i += 2 + len;
  }
  throw truncated(name, 'JPEG', dims ? 'no image data' : 'no frame header');
}

function gif(b: Uint8Array, name: string): ImageHeader {
  if (b.length < 10) throw truncated(name, 'GIF', 'header cut short');
  return { format: 'gif', mime: MIME.gif, width: u16le(b, 6), height: u16le(b, 8) };
}

function webp(b: Uint8Array, name: string): ImageHeader {
  const chunk = ascii(b, 12, 4);
  if (chunk === 'VP8 ' && b.length >= 30) {
    // Key frame: 3-byte frame tag, start code 9D 01 2A, then 14-bit width and height.
    if (!startsWith(b, [0x9d, 0x01, 0x2a], 23)) throw truncated(name, 'WebP', 'bad VP8 start code');
    return { format: 'webp', mime: MIME.webp, width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
  }
  if (chunk === 'VP8L' && b.length >= 25) {
    if (b[20] !== 0x2f) throw truncated(name, 'WebP', 'bad VP8L signature');
    const bits = b[21] | (b[22] << 8) | (b[23] << 16) | (b[24] << 24);
    return {
      format: 'webp',
      mime: MIME.webp,
      width: (bits & 0x3fff) + 1,
      height: ((bits >>> 14) & 0x3fff) + 1,
    };
  }
  if (chunk === 'VP8X' && b.length >= 30) {
    return { format: 'webp', mime: MIME.webp, width: u24le(b, 24) + 1, height: u24le(b, 27) + 1 };
  }
  throw truncated(name, 'WebP', `unknown or cut-short chunk "${chunk.trim()}"`);
}

function bmp(b: Uint8Array, name: string): ImageHeader {
  if (b.length < 26) throw truncated(name, 'BMP', 'header cut short');
  return { format: 'bmp', mime: MIME.bmp, width: Math.abs(i32le(b, 18)), height: Math.abs(i32le(b, 22)) };
}

/** AVIF (ISOBMFF): the first 'ispe' property box holds the image size. */
function avif(b: Uint8Array, name: string): ImageHeader {
  const end = Math.min(b.length - 20, 1 << 16);
  for (let i = 4; i < end; i++) {
    if (b[i] === 0x69 && b[i + 1] === 0x73 && b[i + 2] === 0x70 && b[i + 3] === 0x65) {
      // 'ispe', version/flags (4), width (4), height (4)
      return { format: 'avif', mime: MIME.avif, width: u32be(b, i + 8), height: u32be(b, i + 12) };
    }
  }
  throw truncated(name, 'AVIF', 'no image size (ispe) box');
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0x09 || c === 0x0a || c === 0x0d || (c >= 0x20 && c !== 0x7f)) continue;
    return false;
  }
  return true;
}

/** The formats both the page and the CLI read, for messages. */
export const READ_FORMATS = 'PNG, JPEG, WebP, GIF, BMP and AVIF';

/** Image formats recognised by their first bytes only to name them in the refusal. */
const OTHER_FORMATS: { name: string; test: (b: Uint8Array) => boolean }[] = [
  { name: 'a TIFF', test: (b) => ['II*\0', 'MM\0*'].includes(ascii(b, 0, 4)) },
  {
    name: 'a HEIC (HEIF)',
    test: (b) =>
      ascii(b, 4, 4) === 'ftyp' && ['heic', 'heix', 'hevc', 'heim', 'mif1', 'msf1'].includes(ascii(b, 8, 4)),
  },
  { name: 'a JPEG XL', test: (b) => startsWith(b, [0xff, 0x0a]) || ascii(b, 4, 4) === 'JXL ' },
  { name: 'a JPEG 2000', test: (b) => ascii(b, 4, 4) === 'jP  ' || startsWith(b, [0xff, 0x4f, 0xff, 0x51]) },
  { name: 'a Photoshop (PSD)', test: (b) => ascii(b, 0, 4) === '8BPS' },
  { name: 'an ICO (icon)', test: (b) => startsWith(b, [0, 0, 1, 0]) && b.length > 6 && b[4] > 0 },
];

function describeNonImage(b: Uint8Array, name: string): AgqgError {
  const head = new TextDecoder('utf-8', { fatal: false })
    .decode(b.subarray(0, 1024))
    .trimStart()
    .toLowerCase();
  if (head.includes('<svg') || (head.startsWith('<?xml') && head.includes('svg'))) {
    return new AgqgError(
      'unsupported_format',
      `${name} is an SVG (vector) image; the grader reads ${READ_FORMATS}: export it as PNG first`,
    );
  }
  const other = OTHER_FORMATS.find((f) => f.test(b));
  if (other) {
    return new AgqgError(
      'unsupported_format',
      `${name} is ${other.name} image; the grader reads ${READ_FORMATS}: convert it to PNG or JPEG first`,
    );
  }
  if (looksLikeText(b)) {
    return new AgqgError('unsupported_format', `${name} is text, not an image (whatever its file name says)`);
  }
  const hex = Array.from(b.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join(' ');
  return new AgqgError(
    'unsupported_format',
    `${name} is not a PNG, JPEG, WebP, GIF, BMP or AVIF image (it starts with bytes ${hex})`,
  );
}

/**
 * Format and size from the file's bytes (never its name or MIME type).
 * Throws AgqgError: empty_file, unsupported_format, decode_failed (truncated), image_too_large.
 */
export function readImageHeader(bytes: Uint8Array, name = 'image'): ImageHeader {
  if (bytes.length === 0) throw new AgqgError('empty_file', `${name} is empty (0 bytes)`);
  if (bytes.length > MAX_IMAGE_BYTES) {
    throw new AgqgError(
      'image_too_large',
      `${name} is ${bytes.length} bytes, over the limit of ${MAX_IMAGE_BYTES} bytes`,
    );
  }
  let header: ImageHeader;
  if (startsWith(bytes, PNG_SIGNATURE)) header = png(bytes, name);
  // FF D8 alone is a JPEG cut short after its start marker: truncated, not an unknown format.
  else if (startsWith(bytes, [0xff, 0xd8])) header = jpeg(bytes, name);
  else if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') header = gif(bytes, name);
  else if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') header = webp(bytes, name);
  else if (ascii(bytes, 0, 2) === 'BM') header = bmp(bytes, name);
  else if (ascii(bytes, 4, 4) === 'ftyp' && ['avif', 'avis'].includes(ascii(bytes, 8, 4)))
    header = avif(bytes, name);
  else throw describeNonImage(bytes, name);

  const { width, height } = header;
  if (width < 1 || height < 1) {
    throw new AgqgError(
      'decode_failed',
      `${name}: the ${FORMAT_NAME[header.format]} header declares ${width}x${height} pixels`,
    );
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new AgqgError(
      'image_too_large',
      `${name} is ${width}x${height} = ${width * height} pixels, over the limit of ${MAX_IMAGE_PIXELS}`,
    );
  }
  return header;
}
