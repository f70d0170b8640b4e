import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeImage, decodeImageAsync, decodeImageFile } from '../src/cli/decode.ts';
import { hasAdobeMarker } from '../src/cli/jpeg-cmyk.ts';
import { decodeJpegRgba } from '../src/cli/jpeg-turbo.ts';
import { AgqgError, type ErrorCode } from '../src/model/errors.ts';
import { describeShared, ROOT, sharedPath } from './shared.ts';

const FIX = join(ROOT, 'test', 'fixtures', 'decode');
const REF_JPEG = 'fixtures/tiny-clip-refs/images/pub_AttnGAN_normal_171.jpg';
const REF_PNG = 'fixtures/tiny-clip-refs/images/pub_alpha.png';

function errorOf(f: () => unknown): AgqgError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(AgqgError);
    return e as AgqgError;
  }
  throw new Error('expected an AgqgError, got none');
}

async function asyncErrorOf(p: Promise<unknown>): Promise<AgqgError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AgqgError);
    return e as AgqgError;
  }
  throw new Error('expected an AgqgError, got none');
}

function expectError(f: () => unknown, code: ErrorCode, message: RegExp): void {
  const e = errorOf(f);
  expect(e.code).toBe(code);
  expect(e.message).toMatch(message);
}

const u32be = (n: number) => [(n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

/** Signature + IHDR + IEND: a header that claims a size but carries no pixels (CRCs left zero). */
function pngHeaderOnly(width: number, height: number): Uint8Array {
  return new Uint8Array([
    ...[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
    ...u32be(13),
    ...ascii('IHDR'),
    ...u32be(width),
    ...u32be(height),
    ...[8, 2, 0, 0, 0],
    ...u32be(0),
    ...u32be(0),
    ...ascii('IEND'),
    ...u32be(0xae426082),
  ]);
}

const pixel = (img: { width: number; data: ArrayLike<number> }, x: number, y: number) =>
  Array.from({ length: 4 }, (_, c) => img.data[(y * img.width + x) * 4 + c]);

describe('decodeImage: bad input gets a specific error naming the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agqg-decode-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('0-byte file -> empty_file', async () => {
    const p = join(dir, 'empty.png');
    writeFileSync(p, new Uint8Array(0));
    const e = await asyncErrorOf(decodeImageFile(p));
    expect(e.code).toBe('empty_file');
    expect(e.message).toContain('empty.png');
    expectError(() => decodeImage(new Uint8Array(0), 'x.png'), 'empty_file', /x\.png/);
  });

  it('text file named .jpg -> unsupported_format', async () => {
    const p = join(dir, 'notes.jpg');
    writeFileSync(p, 'this is not a photo\n');
    const e = await asyncErrorOf(decodeImageFile(p));
    expect(e.code).toBe('unsupported_format');
    expect(e.message).toMatch(/notes\.jpg.*text/);
  });

  it('SVG -> unsupported_format saying it is SVG', () => {
    const svg = new TextEncoder().encode(
      '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>',
    );
    expectError(() => decodeImage(svg, 'logo.svg'), 'unsupported_format', /logo\.svg.*SVG/);
  });

  it('a missing file -> not_found naming the path as given', async () => {
    const p = join(dir, 'nope.png');
    const e = await asyncErrorOf(decodeImageFile(p));
    expect(e.code).toBe('not_found');
    expect(e.message).toBe(`${p} does not exist`);
  });

  it('a GIF cut short -> decode_failed naming the format as people write it', async () => {
    const gif = new Uint8Array([...ascii('GIF89a'), 1, 0, 1, 0, 0, 0, 0]);
    const e = await asyncErrorOf(decodeImageAsync(gif, 'a.gif'));
    expect(e.code).toBe('decode_failed');
    expect(e.message).toMatch(/^a\.gif: the GIF data is corrupt or truncated/);
  });

  it('a PNG header claiming 12000x12000 is refused before decoding', () => {
    expectError(
      () => decodeImage(pngHeaderOnly(12000, 12000), 'huge.png'),
      'image_too_large',
      /huge\.png.*12000x12000/,
    );
    // The same bytes with a small size reach the decoder, which fails for want of pixel data:
    // so the size check above ran before any decoding (and its 576 MB buffer).
    expectError(() => decodeImage(pngHeaderOnly(2, 2), 'small.png'), 'decode_failed', /small\.png/);
  });

  it('a JPEG frame header claiming 12000x12000 is refused before decoding', () => {
    const sof = [0xff, 0xc0, 0, 17, 8, ...[12000 >> 8, 12000 & 255], ...[12000 >> 8, 12000 & 255], 3];
    const jpeg = new Uint8Array([
      0xff,
      0xd8,
      ...sof,
      1,
      0x22,
      0,
      2,
      0x11,
      1,
      3,
      0x11,
      1,
      0xff,
      0xda,
      0,
      2,
      0xff,
      0xd9,
    ]);
    expectError(() => decodeImage(jpeg, 'huge.jpg'), 'image_too_large', /huge\.jpg/);
  });

  it('CMYK JPEG -> RGB as PIL converts it: (255-C)(255-K)/255 from the stored, Adobe-inverted channels', () => {
    const bytes = new Uint8Array(readFileSync(join(FIX, 'cmyk.jpg')));
    const img = decodeImage(bytes, 'print.jpg');
    const cmyk = decodeJpegRgba(bytes, true);
    expect([img.width, img.height]).toEqual([cmyk.width, cmyk.height]);
    expect(hasAdobeMarker(bytes)).toBe(true);
    // Hand-computed reference from the inverted channels iC, iK: R = iC*iK/255 rounded.
    for (let i = 0; i < cmyk.data.length; i += 4 * 97) {
      const k = cmyk.data[i + 3];
      for (let c = 0; c < 3; c++)
        expect(Math.abs(img.data[i + c] - (cmyk.data[i + c] * k) / 255)).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(img.data[i + 3]).toBe(255);
    }
  });

  it('corrupt and truncated PNG -> decode_failed', () => {
    const data = new Uint8Array(16 * 16 * 3).map((_, i) => (i * 31) % 256);
    const png = encodePng({ width: 16, height: 16, channels: 3, depth: 8, data });
    expectError(() => decodeImage(png.subarray(0, png.length >> 1), 'cut.png'), 'decode_failed', /cut\.png/);
    const idat = Buffer.from(png).indexOf('IDAT');
    const broken = png.slice();
    for (let i = idat + 4; i < idat + 24; i++) broken[i] ^= 0x5a;
    expectError(() => decodeImage(broken, 'bad.png'), 'decode_failed', /bad\.png/);
  });
});

describeShared('decodeImage on the reference images', [REF_JPEG, REF_PNG], () => {
  const jpeg = new Uint8Array(readFileSync(sharedPath(REF_JPEG)));

  it('truncated JPEG (first half of a fixture) -> decode_failed', () => {
    expectError(
      () => decodeImage(jpeg.subarray(0, jpeg.length >> 1), 'half.jpg'),
      'decode_failed',
      /half\.jpg.*truncated/,
    );
  });

  it('an invalid Huffman table stops libjpeg -> decode_failed, and the decoder still works afterwards', () => {
    const bad = jpeg.slice();
    const dht = Buffer.from(bad).indexOf(Buffer.from([0xff, 0xc4]));
    for (let k = dht + 5; k < dht + 21; k++) bad[k] = 0xff; // code counts summing past 256
    expectError(() => decodeImage(bad, 'bogus.jpg'), 'decode_failed', /bogus\.jpg/);
    const ok = decodeImage(jpeg, 'ok.jpg');
    expect([ok.width, ok.height, ok.data.length]).toEqual([512, 512, 512 * 512 * 4]);
  });

  it('RGBA PNG keeps its alpha channel (preprocessing drops it)', () => {
    const img = decodeImage(new Uint8Array(readFileSync(sharedPath(REF_PNG))), 'alpha.png');
    expect([img.width, img.height]).toEqual([200, 150]);
    const alphas = new Set<number>();
    for (let i = 3; i < img.data.length; i += 4) alphas.add(img.data[i]);
    expect(alphas.size).toBeGreaterThan(1);
  });
});

describe('JPEG variants', () => {
  const read = (f: string) => new Uint8Array(readFileSync(join(FIX, f)));

  it('progressive JPEG decodes to the same pixels as its baseline original', () => {
    // progressive.jpg = jpegtran -progressive baseline.jpg: lossless, same DCT coefficients.
    const base = decodeImage(read('baseline.jpg'), 'baseline.jpg');
    const prog = decodeImage(read('progressive.jpg'), 'progressive.jpg');
    expect([prog.width, prog.height]).toEqual([40, 24]);
    expect(Buffer.from(prog.data).equals(Buffer.from(base.data))).toBe(true);
  });

  it('greyscale JPEG comes out as R=G=B, opaque', () => {
    const img = decodeImage(read('grey.jpg'), 'grey.jpg');
    expect([img.width, img.height]).toEqual([40, 24]);
    let distinct = 0;
    for (let i = 0; i < img.data.length; i += 4) {
      expect(img.data[i + 1]).toBe(img.data[i]);
      expect(img.data[i + 2]).toBe(img.data[i]);
      expect(img.data[i + 3]).toBe(255);
      if (img.data[i] !== img.data[0]) distinct++;
    }
    expect(distinct).toBeGreaterThan(0);
  });
});

describe('PNG colour types convert as PIL convert("RGB") does', () => {
  const dec = (png: Uint8Array) => decodeImage(png, 'x.png');

  it('8-bit grey and grey+alpha -> R=G=B', () => {
    const g = dec(encodePng({ width: 2, height: 1, channels: 1, depth: 8, data: new Uint8Array([7, 250]) }));
    expect([pixel(g, 0, 0), pixel(g, 1, 0)]).toEqual([
      [7, 7, 7, 255],
      [250, 250, 250, 255],
    ]);
    const ga = dec(encodePng({ width: 1, height: 1, channels: 2, depth: 8, data: new Uint8Array([9, 100]) }));
    expect(pixel(ga, 0, 0)).toEqual([9, 9, 9, 100]);
  });

  it('16-bit colour keeps the high byte (RGB;16B)', () => {
    const data = new Uint16Array([0x12ff, 0x3400, 0xffff, 0x00ff, 0x0100, 0x8080]);
    const img = dec(encodePng({ width: 2, height: 1, channels: 3, depth: 16, data }));
    expect([pixel(img, 0, 0), pixel(img, 1, 0)]).toEqual([
      [0x12, 0x34, 0xff, 255],
      [0x00, 0x01, 0x80, 255],
    ]);
  });

  it("16-bit grey saturates above 255, as PIL's I;16 -> RGB does", () => {
    const data = new Uint16Array([200, 256, 65535]);
    const img = dec(encodePng({ width: 3, height: 1, channels: 1, depth: 16, data }));
    expect([0, 1, 2].map((x) => pixel(img, x, 0)[0])).toEqual([200, 255, 255]);
  });

  it('1-, 2- and 4-bit grey are stretched to 0..255', () => {
    const one = dec(
      encodePng({ width: 3, height: 1, channels: 1, depth: 1, data: new Uint8Array([0b10100000]) }),
    );
    expect([0, 1, 2].map((x) => pixel(one, x, 0)[0])).toEqual([255, 0, 255]);
    const two = dec(
      encodePng({ width: 4, height: 1, channels: 1, depth: 2, data: new Uint8Array([0b00011011]) }),
    );
    expect([0, 1, 2, 3].map((x) => pixel(two, x, 0)[0])).toEqual([0, 85, 170, 255]);
    const four = dec(encodePng({ width: 2, height: 1, channels: 1, depth: 4, data: new Uint8Array([0x1f]) }));
    expect([0, 1].map((x) => pixel(four, x, 0)[0])).toEqual([17, 255]);
  });

  it('palette images (8-bit and packed 2-bit rows) look up their colours', () => {
    const palette = [
      [255, 0, 0],
      [0, 128, 0],
      [1, 2, 3],
    ];
    const p8 = dec(
      encodePng({ width: 3, height: 1, channels: 1, depth: 8, palette, data: new Uint8Array([2, 0, 1]) }),
    );
    expect([0, 1, 2].map((x) => pixel(p8, x, 0))).toEqual([
      [1, 2, 3, 255],
      [255, 0, 0, 255],
      [0, 128, 0, 255],
    ]);
    // 3 pixels per row at 2 bits: each row is one byte, rows start on a byte boundary
    const p2 = dec(
      encodePng({
        width: 3,
        height: 2,
        channels: 1,
        depth: 2,
        palette,
        data: new Uint8Array([0b10000100, 0b01100000]),
      }),
    );
    expect([pixel(p2, 0, 0), pixel(p2, 2, 0), pixel(p2, 0, 1), pixel(p2, 1, 1)]).toEqual([
      [1, 2, 3, 255],
      [0, 128, 0, 255],
      [0, 128, 0, 255],
      [1, 2, 3, 255],
    ]);
  });
});
