// readImageHeader: format and size from the bytes, specific errors for
// non-images, truncation and bombs. Images come from real encoders (fast-png,
// jpeg-js), so the parsers are checked against what encoders actually write.
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import { readImageHeader } from '../src/model/image/image-header.ts';
import { MAX_IMAGE_PIXELS } from '../src/model/limits.ts';

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    if (err instanceof AgqgError) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'no error';
}

function rgba(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37) % 256;
  return data;
}

const png = (w: number, h: number) =>
  encodePng({ width: w, height: h, data: rgba(w, h), channels: 4, depth: 8 });
const jpg = (w: number, h: number) =>
  new Uint8Array(jpeg.encode({ width: w, height: h, data: Buffer.from(rgba(w, h)) }, 90).data);

/** A PNG whose header declares w x h, with a real (all-zero, 1-bit) IDAT: a decompression bomb. */
function bombPng(w: number, h: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    // CRCs are not checked by the header reader; zero keeps the helper short.
    return Buffer.concat([len, Buffer.from(type), data, Buffer.alloc(4)]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 1;
  return new Uint8Array(
    Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc((1 + Math.ceil(w / 8)) * h))),
      chunk('IEND', Buffer.alloc(0)),
    ]),
  );
}

describe('readImageHeader', () => {
  it('reads PNG and JPEG sizes as their encoders wrote them', () => {
    expect(readImageHeader(png(7, 3))).toEqual({ format: 'png', mime: 'image/png', width: 7, height: 3 });
    expect(readImageHeader(jpg(9, 5))).toEqual({ format: 'jpeg', mime: 'image/jpeg', width: 9, height: 5 });
  });

  it('reads GIF, WebP (VP8X, VP8L) and BMP headers', () => {
    const gif = new Uint8Array([...Buffer.from('GIF89a'), 0x2c, 0x01, 0x10, 0x00, 0, 0, 0]);
    expect(readImageHeader(gif)).toMatchObject({ format: 'gif', width: 300, height: 16 });
    const vp8x = new Uint8Array(30);
    vp8x.set(Buffer.from('RIFF'), 0);
    vp8x.set(Buffer.from('WEBPVP8X'), 8);
    vp8x.set([0x3f, 0x01, 0x00], 24); // width - 1 = 319
    vp8x.set([0xef, 0x00, 0x00], 27); // height - 1 = 239
    expect(readImageHeader(vp8x)).toMatchObject({ format: 'webp', width: 320, height: 240 });
    const vp8l = new Uint8Array(25);
    vp8l.set(Buffer.from('RIFF'), 0);
    vp8l.set(Buffer.from('WEBPVP8L'), 8);
    vp8l[20] = 0x2f;
    const bits = (100 - 1) | ((50 - 1) << 14);
    vp8l.set([bits & 0xff, (bits >> 8) & 0xff, (bits >> 16) & 0xff, (bits >>> 24) & 0xff], 21);
    expect(readImageHeader(vp8l)).toMatchObject({ format: 'webp', width: 100, height: 50 });
    const bmp = new Uint8Array(26);
    bmp.set(Buffer.from('BM'), 0);
    new DataView(bmp.buffer).setInt32(18, 64, true);
    new DataView(bmp.buffer).setInt32(22, -32, true); // top-down rows
    expect(readImageHeader(bmp)).toMatchObject({ format: 'bmp', width: 64, height: 32 });
  });

  it('refuses an empty file', () => {
    expect(codeOf(() => readImageHeader(new Uint8Array(0), 'a.png'))).toMatch(/^empty_file: a\.png is empty/);
  });

  it('names text and SVG for what they are, whatever the file is called', () => {
    expect(codeOf(() => readImageHeader(Buffer.from('hello, not an image\n'), 'x.jpg'))).toMatch(
      /^unsupported_format: x\.jpg is text/,
    );
    const svg = Buffer.from('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(codeOf(() => readImageHeader(svg, 'd.png'))).toMatch(/^unsupported_format: d\.png is an SVG/);
    expect(codeOf(() => readImageHeader(new Uint8Array([0, 1, 2, 3, 0xff]), 'b.bin'))).toMatch(
      /^unsupported_format: .*starts with bytes 00 01 02 03/,
    );
  });

  it('calls a JPEG or PNG cut short truncated, not an image', () => {
    const j = jpg(16, 16);
    expect(codeOf(() => readImageHeader(j.subarray(0, Math.floor(j.length * 0.7)), 'c.jpg'))).toMatch(
      /^decode_failed: c\.jpg: the JPEG file is truncated .*end-of-image/,
    );
    expect(codeOf(() => readImageHeader(j.subarray(0, 40), 'c.jpg'))).toMatch(/^decode_failed/);
    const p = png(16, 16);
    expect(codeOf(() => readImageHeader(p.subarray(0, p.length - 20), 'c.png'))).toMatch(
      /^decode_failed: .*IEND/,
    );
  });

  it('refuses a decompression bomb from its header, before any decoding', () => {
    const bomb = bombPng(12000, 12000);
    expect(bomb.length).toBeLessThan(100_000);
    expect(codeOf(() => readImageHeader(bomb, 'huge.png'))).toBe(
      `image_too_large: huge.png is 12000x12000 = 144000000 pixels, over the limit of ${MAX_IMAGE_PIXELS}`,
    );
    const side = Math.floor(Math.sqrt(MAX_IMAGE_PIXELS));
    expect(readImageHeader(bombPng(side, side))).toMatchObject({ width: side, height: side });
  });
});
