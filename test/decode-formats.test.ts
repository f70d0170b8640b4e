// The CLI's decoders for every format the page reads, against independent
// references: pixels written losslessly by sharp (libvips) or by hand (BMP),
// EXIF orientation against libvips' own autoOrient, and the caveat note for
// images too small or plain to judge.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeImageAsync } from '../src/cli/decode.ts';
import { applyOrientation, jpegExifOrientation } from '../src/cli/jpeg-orientation.ts';
import { imageCaveat } from '../src/model/image/caveat.ts';
import type { RgbaImage } from '../src/model/image/image.ts';
import { MIN_USEFUL_IMAGE_EDGE } from '../src/model/limits.ts';
import { bmp24 } from './hostile-corpus.ts';

const W = 13;
const H = 7;
/** A gradient with every pixel different, RGB. */
const RGB = Buffer.from(
  Array.from({ length: W * H * 3 }, (_, i) => {
    const p = Math.floor(i / 3);
    return [(p * 7) % 256, (p * 13 + 40) % 256, (p * 29 + 90) % 256][i % 3];
  }),
);
const base = () => sharp(RGB, { raw: { width: W, height: H, channels: 3 } });

function rgbOf(img: RgbaImage): number[] {
  const out: number[] = [];
  for (let i = 0; i < img.width * img.height; i++)
    out.push(img.data[4 * i], img.data[4 * i + 1], img.data[4 * i + 2]);
  return out;
}

describe('CLI decoders for the formats beyond PNG and JPEG', () => {
  it('lossless WebP and AVIF decode to the exact pixels written', async () => {
    for (const [name, bytes] of [
      ['x.webp', await base().webp({ lossless: true }).toBuffer()],
      ['x.avif', await base().avif({ lossless: true }).toBuffer()],
    ] as const) {
      const img = await decodeImageAsync(new Uint8Array(bytes), name);
      expect([img.width, img.height], name).toEqual([W, H]);
      expect(rgbOf(img), name).toEqual([...RGB]);
    }
  });

  it('GIF gives its first frame only', async () => {
    const red = Buffer.alloc(W * H * 3, 0).map((_, i) => (i % 3 === 0 ? 255 : 0));
    // Two frames stacked as pages: first the gradient-free red, then blue.
    const blue = Buffer.alloc(W * H * 3, 0).map((_, i) => (i % 3 === 2 ? 255 : 0));
    const gif = await sharp(Buffer.concat([red, blue]), {
      raw: { width: W, height: H * 2, channels: 3, pageHeight: H },
    } as Parameters<typeof sharp>[1])
      .gif()
      .toBuffer();
    const img = await decodeImageAsync(new Uint8Array(gif), 'anim.gif');
    expect([img.width, img.height]).toEqual([W, H]);
    expect(rgbOf(img)).toEqual([...red]);
  });

  it('24-bit BMP (bottom-up rows, padded) decodes to the pixels encoded by hand', () => {
    const img = decodeImage(bmp24(W, H, RGB), 'x.bmp');
    expect([img.width, img.height]).toEqual([W, H]);
    expect(rgbOf(img)).toEqual([...RGB]);
  });

  it('16-bit PNG written by libvips decodes to its high bytes', async () => {
    const png16 = await base().toColourspace('rgb16').png().toBuffer();
    const img = await decodeImageAsync(new Uint8Array(png16), 'x16.png');
    expect(rgbOf(img)).toEqual([...RGB]);
  });

  it('a corrupt WebP is decode_failed in plain words, naming the file', async () => {
    const webp = await base().webp({ lossless: true }).toBuffer();
    const cut = new Uint8Array(webp.subarray(0, 40));
    await expect(decodeImageAsync(cut, 'dir/cut.webp')).rejects.toMatchObject({
      code: 'decode_failed',
      message: expect.stringMatching(/^dir\/cut\.webp: the WebP data is corrupt or truncated/),
    });
  });
});

describe('EXIF orientation, applied to JPEGs as browsers do', () => {
  it('all 8 orientations turn the pixels as libvips autoOrient does', async () => {
    // Quality 100 without chroma subsampling: both decoders see the same stored pixels.
    for (let o = 1; o <= 8; o++) {
      const jpeg = await base()
        .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
        .withMetadata({ orientation: o })
        .toBuffer();
      const bytes = new Uint8Array(jpeg);
      expect(jpegExifOrientation(bytes), `orientation ${o}`).toBe(o);
      const stored = decodeImage(bytes, 'x.jpg');
      const { data, info } = await sharp(jpeg)
        .autoOrient()
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      expect([stored.width, stored.height], `orientation ${o}`).toEqual([info.width, info.height]);
      // The same decoder library underneath: turned pixels agree to JPEG rounding.
      const got = rgbOf(stored);
      const maxDiff = got.reduce((m, v, i) => Math.max(m, Math.abs(v - data[i])), 0);
      expect(maxDiff, `orientation ${o}`).toBeLessThanOrEqual(2);
    }
  });

  it('applyOrientation by hand: orientation 6 is a quarter turn clockwise', () => {
    // 2x1: [A, B] -> 1x2 with A on top.
    const px = (v: number) => [v, v, v, 255];
    const img = { width: 2, height: 1, data: new Uint8Array([...px(10), ...px(20)]) };
    const r = applyOrientation(img, 6);
    expect([r.width, r.height]).toEqual([1, 2]);
    expect([r.data[0], r.data[4]]).toEqual([10, 20]);
    const l = applyOrientation(img, 8);
    expect([l.data[0], l.data[4]]).toEqual([20, 10]);
  });
});

describe('imageCaveat: images too small or plain to judge', () => {
  const solid = (w: number, h: number, v: number) => ({
    width: w,
    height: h,
    data: new Uint8Array(w * h * 4).fill(v),
  });

  it('notes an image below the useful size and a single-colour one, not an ordinary one', () => {
    expect(imageCaveat(solid(1, 1, 9))).toMatch(/1x1 pixels, below the 32 pixels/);
    expect(imageCaveat(solid(MIN_USEFUL_IMAGE_EDGE, 100, 255))).toMatch(/single colour \(#ffffff\)/);
    const varied = solid(64, 64, 0);
    varied.data[4 * 100] = 1;
    expect(imageCaveat(varied)).toBeNull();
  });

  it('the decoders set it', async () => {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#102030' } })
      .png()
      .toBuffer();
    expect((await decodeImageAsync(new Uint8Array(png), 'dot.png')).caveat).toMatch(/1x1 pixels/);
  });
});
