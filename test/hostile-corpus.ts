// The hostile-input corpus, built at test time (nothing from ../shared): the
// files a careless or malicious user might hand the grader, each with the
// outcome it must get. test/hostile.test.ts runs it through `agqg score`,
// e2e/hostile.e2e.ts through the page. Valid images are gradients (not one
// colour) big enough to grade without a caveat unless the case is about that.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import type { ErrorCode } from '../src/model/errors.ts';

export interface HostileFile {
  /** File name (also the page's name for it). */
  name: string;
  bytes: Buffer;
  /** The error code it must get, or 'graded' (with `note` when the result must carry one). */
  expect: ErrorCode | 'graded';
  /** What the message (error) or qualityNote (graded) must say. */
  says?: RegExp;
  /** What the case is, for failure messages. */
  what: string;
}

const EDGE = 96;

/** An RGB gradient, every pixel different from its neighbours. */
function gradient(width = EDGE, height = EDGE, seed = 0): Buffer {
  const b = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      b[i] = (x * 5 + seed * 17) & 0xff;
      b[i + 1] = (y * 7 + x * 3) & 0xff;
      b[i + 2] = (x * y + seed) & 0xff;
    }
  return b;
}

const img = (seed = 0, width = EDGE, height = EDGE, channels: 3 | 4 = 3) =>
  sharp(channels === 3 ? gradient(width, height, seed) : withAlpha(gradient(width, height, seed)), {
    raw: { width, height, channels },
  });

function withAlpha(rgb: Buffer): Buffer {
  const n = rgb.length / 3;
  const out = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) {
    rgb.copy(out, i * 4, i * 3, i * 3 + 3);
    out[i * 4 + 3] = (i * 11) & 0xff;
  }
  return out;
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function pngChunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  let c = 0xffffffff;
  for (const b of body) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A valid 1-bit PNG of width x height black pixels: a decompression bomb of a few KB. */
function pngBomb(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 1;
  const raw = Buffer.alloc((1 + Math.ceil(width / 8)) * height);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(raw, { level: 9 })),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A JPEG whose frame header claims width x height (the scan is a stub: refused before decoding). */
function jpegBombHeader(width: number, height: number): Buffer {
  return Buffer.from([
    0xff,
    0xd8,
    0xff,
    0xc0,
    0,
    11,
    8,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    1,
    1,
    0x11,
    0,
    0xff,
    0xda,
    0,
    8,
    1,
    1,
    0,
    0,
    0x3f,
    0,
    0xff,
    0xd9,
  ]);
}

/** A GIF header claiming 65535 x 65535 (4.3 Gpixel). */
function gifBombHeader(): Buffer {
  return Buffer.concat([Buffer.from('GIF89a'), Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0x3b])]);
}

/** Inserts JPEG segments (APPn or COM) right after SOI. */
function withSegments(jpeg: Buffer, marker: number, payloads: Buffer[]): Buffer {
  const segs = payloads.map((p) => {
    const h = Buffer.from([0xff, marker, 0, 0]);
    h.writeUInt16BE(p.length + 2, 2);
    return Buffer.concat([h, p]);
  });
  return Buffer.concat([jpeg.subarray(0, 2), ...segs, jpeg.subarray(2)]);
}

/** A 24-bit BI_RGB BMP, rows bottom-up and padded to 4 bytes, as the format (and Windows) writes it. */
export function bmp24(width: number, height: number, rgb: Uint8Array): Uint8Array {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + stride * height;
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  b.set([0x42, 0x4d]);
  dv.setUint32(2, size, true);
  dv.setUint32(10, 54, true);
  dv.setUint32(14, 40, true);
  dv.setInt32(18, width, true);
  dv.setInt32(22, height, true);
  dv.setUint16(26, 1, true);
  dv.setUint16(28, 24, true);
  dv.setUint32(34, stride * height, true);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const src = (y * width + x) * 3;
      const dst = 54 + (height - 1 - y) * stride + x * 3;
      b[dst] = rgb[src + 2];
      b[dst + 1] = rgb[src + 1];
      b[dst + 2] = rgb[src];
    }
  return b;
}

const MAX_SEGMENT = 65_533;

export async function buildHostileFiles(): Promise<HostileFile[]> {
  const jpeg = await img(1).jpeg({ quality: 90 }).toBuffer();
  const png = await img(2).png().toBuffer();
  const files: HostileFile[] = [
    // Nothing there, or not an image at all.
    {
      name: 'empty.png',
      bytes: Buffer.alloc(0),
      expect: 'empty_file',
      says: /empty \(0 bytes\)/,
      what: 'empty',
    },
    {
      name: 'notes.jpg',
      bytes: Buffer.from('these are my notes, not a picture\n'),
      expect: 'unsupported_format',
      says: /is text, not an image/,
      what: 'text named .jpg',
    },
    {
      name: 'drawing.png',
      bytes: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>'),
      expect: 'unsupported_format',
      says: /is an SVG \(vector\) image; the grader reads PNG, JPEG, WebP, GIF, BMP and AVIF/,
      what: 'SVG named .png',
    },
    {
      name: 'scan.tif',
      bytes: await img(3).tiff().toBuffer(),
      expect: 'unsupported_format',
      says: /is a TIFF image; the grader reads/,
      what: 'TIFF',
    },
    // Cut short or broken.
    {
      name: 'cut.jpg',
      bytes: jpeg.subarray(0, Math.floor(jpeg.length * 0.6)),
      expect: 'decode_failed',
      says: /JPEG file is truncated or corrupt/,
      what: 'truncated JPEG',
    },
    {
      name: 'cut.png',
      bytes: png.subarray(0, Math.floor(png.length * 0.6)),
      expect: 'decode_failed',
      says: /PNG file is truncated or corrupt/,
      what: 'truncated PNG',
    },
    {
      name: 'soi-only.jpg',
      bytes: Buffer.from([0xff, 0xd8]),
      expect: 'decode_failed',
      says: /JPEG file is truncated or corrupt \(no frame header\)/,
      what: 'SOI-only JPEG',
    },
    // Pixel bombs by header: refused before any decoder allocates them.
    {
      name: 'bomb.png',
      bytes: pngBomb(12_000, 12_000),
      expect: 'image_too_large',
      says: /12000x12000 = 144000000 pixels, over the limit/,
      what: 'PNG bomb',
    },
    {
      name: 'bomb.jpg',
      bytes: jpegBombHeader(60_000, 60_000),
      expect: 'image_too_large',
      says: /60000x60000/,
      what: 'JPEG bomb header',
    },
    {
      name: 'bomb.gif',
      bytes: gifBombHeader(),
      expect: 'image_too_large',
      says: /65535x65535/,
      what: 'GIF bomb header',
    },
    // Unusual but valid: graded.
    { name: 'plain.jpg', bytes: jpeg, expect: 'graded', what: 'baseline JPEG' },
    { name: 'plain.png', bytes: png, expect: 'graded', what: 'PNG' },
    {
      name: 'deep16.png',
      bytes: await img(4).toColourspace('rgb16').png().toBuffer(),
      expect: 'graded',
      what: '16-bit PNG',
    },
    {
      name: 'alpha.png',
      bytes: await img(5, EDGE, EDGE, 4).png().toBuffer(),
      expect: 'graded',
      what: 'RGBA PNG',
    },
    {
      name: 'grey.jpg',
      bytes: await img(6).greyscale().jpeg().toBuffer(),
      expect: 'graded',
      what: 'greyscale JPEG',
    },
    {
      name: 'print-cmyk.jpg',
      bytes: await img(7).toColourspace('cmyk').jpeg().toBuffer(),
      expect: 'graded',
      what: 'CMYK JPEG',
    },
    {
      name: 'progressive.jpg',
      bytes: await img(8).jpeg({ progressive: true }).toBuffer(),
      expect: 'graded',
      what: 'progressive JPEG',
    },
    {
      name: 'rotated-exif6.jpg',
      bytes: await img(9, EDGE, EDGE / 2)
        .jpeg()
        .withMetadata({ orientation: 6 })
        .toBuffer(),
      expect: 'graded',
      what: 'EXIF-rotated JPEG',
    },
    {
      name: 'huge-exif.jpg',
      bytes: withSegments(jpeg, 0xe1, [
        Buffer.concat([Buffer.from('Exif\0\0MM\0*'), Buffer.alloc(MAX_SEGMENT - 12, 0x41)]),
      ]),
      expect: 'graded',
      what: 'JPEG with a 64 KB EXIF segment',
    },
    {
      name: 'comments.jpg',
      bytes: withSegments(
        jpeg,
        0xfe,
        Array.from({ length: 16 }, () => Buffer.alloc(MAX_SEGMENT, 0x20)),
      ),
      expect: 'graded',
      what: 'JPEG with 1 MB of comment segments',
    },
    {
      name: 'paint.bmp',
      bytes: Buffer.from(bmp24(EDGE, EDGE, gradient(EDGE, EDGE, 13))),
      expect: 'graded',
      what: '24-bit BMP',
    },
    { name: 'anim.webp', bytes: await img(10).webp().toBuffer(), expect: 'graded', what: 'WebP' },
    { name: 'frames.gif', bytes: await img(11).gif().toBuffer(), expect: 'graded', what: 'GIF' },
    { name: 'photo.avif', bytes: await img(12).avif().toBuffer(), expect: 'graded', what: 'AVIF' },
    // Content and extension disagree: the bytes decide.
    { name: 'really-a-png.jpg', bytes: png, expect: 'graded', what: 'PNG named .jpg' },
    { name: 'really-a-jpeg.png', bytes: jpeg, expect: 'graded', what: 'JPEG named .png' },
    // Names that are data, never markup or formulas.
    { name: '<img src=x onerror=alert(1)>.png', bytes: png, expect: 'graded', what: 'markup in the name' },
    { name: '=HYPERLINK("http:x")+1.jpg', bytes: jpeg, expect: 'graded', what: 'formula prefix' },
    { name: '@sum.jpg', bytes: jpeg, expect: 'graded', what: 'formula prefix @' },
    { name: 'my holiday photo.jpg', bytes: jpeg, expect: 'graded', what: 'spaces in the name' },
    { name: '猫の写真.png', bytes: png, expect: 'graded', what: 'CJK name' },
    // Too small or plain to judge: graded, with a note.
    {
      name: 'dot.png',
      bytes: await sharp({ create: { width: 1, height: 1, channels: 3, background: '#3070a0' } })
        .png()
        .toBuffer(),
      expect: 'graded',
      says: /1x1 pixels, below the 32 pixels/,
      what: '1x1 image',
    },
    {
      name: 'flat.png',
      bytes: await sharp({ create: { width: 200, height: 120, channels: 3, background: '#808080' } })
        .png()
        .toBuffer(),
      expect: 'graded',
      says: /single colour \(#808080\)/,
      what: 'single-colour image',
    },
  ];
  return files;
}
