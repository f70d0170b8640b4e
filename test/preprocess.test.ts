import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeImageFile } from '../src/cli/decode.ts';
import { AgqgError } from '../src/model/errors.ts';
import {
  cropOffset,
  outputSize,
  parsePreprocessConfig,
  preprocess,
  preprocessInto,
  PreprocessConfigSchema,
  resizedSize,
  type PreprocessConfig,
  type RgbaImage,
} from '../src/model/image/preprocess.ts';
import { axisCoeffs, nearestIndex } from '../src/model/image/resample-coeffs.ts';
import { describeShared, sharedPath } from './shared.ts';

const CONFIG = 'fixtures/tiny-clip/preprocessor_config.json';
const REFS = 'fixtures/tiny-clip-refs/refs.json';

interface RefImage {
  file: string;
  size: [number, number];
  pixel_values: string;
  pixel_values_shape: number[];
}

/** RGBA image from per-pixel [r,g,b] (alpha 255) rows. */
function rgba(rows: number[][][], alpha = 255): RgbaImage {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Uint8Array(width * height * 4);
  rows.flat().forEach(([r, g, b], i) => data.set([r, g, b, alpha], i * 4));
  return { width, height, data };
}

const grey = (row: number[]): number[][] => row.map((v) => [v, v, v]);

/** No resize/crop/normalise: the tensor holds the 8-bit levels themselves. */
function raw(extra: Record<string, unknown>): PreprocessConfig {
  return parsePreprocessConfig({
    do_center_crop: false,
    do_rescale: false,
    do_normalize: false,
    ...extra,
  });
}

describeShared('preprocess matches the reference pixel_values', [CONFIG, REFS], () => {
  const cfg = parsePreprocessConfig(JSON.parse(readFileSync(sharedPath(CONFIG), 'utf8')));
  const refs = JSON.parse(readFileSync(sharedPath(REFS), 'utf8')) as { images: RefImage[] };

  it('covers PNG and JPEG fixtures', () => {
    expect(refs.images.filter((r) => r.file.endsWith('.png')).length).toBeGreaterThanOrEqual(6);
    expect(refs.images.filter((r) => r.file.endsWith('.jpg')).length).toBeGreaterThanOrEqual(4);
  });

  for (const ref of refs.images) {
    it(`${ref.file}: >= 99% of values in the same 8-bit level, none more than one level apart`, async () => {
      const img = await decodeImageFile(sharedPath('fixtures/tiny-clip-refs', ref.file));
      expect([img.width, img.height]).toEqual(ref.size);
      const got = preprocess(img, cfg);
      expect(got.dims).toEqual(ref.pixel_values_shape);
      const buf = readFileSync(sharedPath('fixtures/tiny-clip-refs', ref.pixel_values));
      const want = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
      expect(got.data.length).toBe(want.length);
      const plane = got.dims[2] * got.dims[3];
      const level = (v: number, c: number) => (v * cfg.image_std[c] + cfg.image_mean[c]) * 255;
      let equal = 0;
      let worst = 0;
      for (let i = 0; i < want.length; i++) {
        const c = Math.floor(i / plane);
        const d = Math.abs(level(got.data[i], c) - level(want[i], c));
        if (d <= 1e-4) equal++;
        worst = Math.max(worst, d);
      }
      expect(equal / want.length).toBeGreaterThanOrEqual(0.99);
      expect(worst).toBeLessThanOrEqual(1 + 1e-4);
    });
  }
});

describe('PreprocessConfigSchema', () => {
  it("fills absent fields with CLIPImageProcessor's defaults", () => {
    const c = PreprocessConfigSchema.parse({});
    expect(c).toMatchObject({
      do_resize: true,
      size: { shortest_edge: 224 },
      resample: 3,
      do_center_crop: true,
      crop_size: { height: 224, width: 224 },
      do_rescale: true,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
      do_convert_rgb: true,
      agqg_resize: { mode: 'pil' },
    });
    expect(c.rescale_factor).toBe(1 / 255);
  });

  it('accepts the bare-number forms HF accepts and keeps unknown keys', () => {
    const c = PreprocessConfigSchema.parse({
      size: 256,
      crop_size: 240,
      image_mean: 0.5,
      feature_extractor_type: 'X',
    });
    expect(c.size).toEqual({ shortest_edge: 256 });
    expect(c.crop_size).toEqual({ height: 240, width: 240 });
    expect(c.image_mean).toEqual([0.5, 0.5, 0.5]);
    expect((c as Record<string, unknown>).feature_extractor_type).toBe('X');
  });

  it('refuses bad configs with pack_invalid naming the field', () => {
    const bad = (json: unknown, field: string) => {
      try {
        parsePreprocessConfig(json);
        throw new Error('no error');
      } catch (e) {
        expect(e).toBeInstanceOf(AgqgError);
        expect((e as AgqgError).code).toBe('pack_invalid');
        expect((e as AgqgError).message).toContain(field);
      }
    };
    bad({ resample: 9 }, 'resample');
    bad({ image_std: [1, 0, 1] }, 'image_std');
    bad({ image_mean: [0.5, 0.5] }, 'image_mean');
    bad({ size: { longest_edge: 10 } }, 'size');
    bad({ agqg_resize: { mode: 'lanczos' } }, 'agqg_resize');
  });
});

describe('sizes and crop offsets', () => {
  const cfg = parsePreprocessConfig({});
  it('resizes the short side to 224 and truncates the long side like torchvision/HF', () => {
    expect(resizedSize({ width: 5, height: 3 }, cfg)).toEqual({ width: 373, height: 224 }); // int(224*5/3)
    expect(resizedSize({ width: 37, height: 480 }, cfg)).toEqual({ width: 224, height: 2905 });
    expect(resizedSize({ width: 512, height: 512 }, cfg)).toEqual({ width: 224, height: 224 });
    expect(outputSize({ width: 37, height: 480 }, cfg)).toEqual({ width: 224, height: 224 });
    expect(
      resizedSize({ width: 10, height: 20 }, parsePreprocessConfig({ size: { height: 7, width: 9 } })),
    ).toEqual({
      height: 7,
      width: 9,
    });
  });

  it("centres the crop with torchvision's round-half-even offset and pads when the crop is larger", () => {
    expect(cropOffset(227, 224)).toBe(2); // round(1.5); HF's floor division would give 1
    expect(cropOffset(225, 224)).toBe(0); // round(0.5)
    expect(cropOffset(229, 224)).toBe(2); // round(2.5)
    expect(cropOffset(226, 224)).toBe(1);
    expect(cropOffset(224, 224)).toBe(0);
    expect(cropOffset(220, 224)).toBe(-2); // pad (224-220)//2 before
    expect(cropOffset(221, 224)).toBe(-1);
  });

  it('crops at native resolution with do_resize false, and with agqg_crop: center', () => {
    const img = rgba([grey([0, 10, 20, 30, 40, 50, 60])]);
    const viaHf = preprocess(
      img,
      raw({ do_resize: false, do_center_crop: true, crop_size: { height: 1, width: 4 } }),
    );
    expect(Array.from(viaHf.data.subarray(0, 4))).toEqual([20, 30, 40, 50]); // offset round(1.5) = 2
    const viaExt = preprocess(img, raw({ agqg_crop: 'center', crop_size: { height: 1, width: 4 } }));
    expect(Array.from(viaExt.data)).toEqual(Array.from(viaHf.data));
  });

  it('pads a crop larger than the image with zeros (before normalisation)', () => {
    const img = rgba([grey([100, 200])]);
    const out = preprocess(
      img,
      raw({ do_resize: false, do_center_crop: true, crop_size: { height: 3, width: 4 } }),
    );
    expect(out.dims).toEqual([1, 3, 3, 4]);
    // left pad (4-2)//2 = 1, top pad (3-1)//2 = 1
    expect(Array.from(out.data.subarray(0, 12))).toEqual([0, 0, 0, 0, 0, 100, 200, 0, 0, 0, 0, 0]);
    const norm = preprocess(
      img,
      parsePreprocessConfig({
        do_resize: false,
        crop_size: { height: 3, width: 4 },
        image_mean: 0.5,
        image_std: 0.25,
      }),
    );
    expect(norm.data[0]).toBe(-2); // (0 - 0.5) / 0.25
  });
});

describe('PIL resampling, hand-computed', () => {
  it('2x2 -> 1x1 bilinear rounds after each pass (horizontal first)', () => {
    // Weights are exactly 1/2. Rows: (0+1)/2 -> 1 (round half up), (1+2)/2 -> 2; then (1+2)/2 -> 2.
    // A single float pass would give the mean 1.0.
    const img = rgba([
      [
        [0, 0, 0],
        [1, 0, 0],
      ],
      [
        [1, 0, 0],
        [2, 0, 0],
      ],
    ]);
    const out = preprocess(img, raw({ size: { height: 1, width: 1 }, resample: 2 }));
    expect(Array.from(out.data)).toEqual([2, 0, 0]);
  });

  it('bilinear upscale 2 -> 4 clips the kernel at the edges', () => {
    // centres 0.25, 0.75, 1.25, 1.75: weights {1}, {3/4, 1/4}, {1/4, 3/4}, {1}
    const out = preprocess(rgba([grey([0, 100])]), raw({ size: { height: 1, width: 4 }, resample: 2 }));
    expect(Array.from(out.data.subarray(0, 4))).toEqual([0, 25, 75, 100]);
  });

  it('fixed-point coefficients: 22 fractional bits, halves stay exact', () => {
    const c = axisCoeffs(2, 1, 2);
    expect(c.count[0]).toBe(2);
    expect(Array.from(c.k.subarray(0, 2))).toEqual([1 << 21, 1 << 21]);
    // bicubic downscale by 2 away from the edges: support 4, 8 taps at +-0.5..3.5, symmetric, summing to ~1.0
    const b = axisCoeffs(64, 32, 3);
    expect([b.start[16], b.count[16]]).toEqual([29, 8]);
    const taps = Array.from(b.k.subarray(16 * b.ksize, 16 * b.ksize + 8));
    expect(taps.reduce((a, v) => a + v, 0)).toBeGreaterThan((1 << 22) - 8);
    expect(taps.reduce((a, v) => a + v, 0)).toBeLessThan((1 << 22) + 8);
    expect(taps).toEqual([...taps].reverse());
  });

  it('identity size copies pixels and drops alpha', () => {
    const rows = [
      [
        [1, 2, 3],
        [4, 5, 6],
        [7, 8, 9],
      ],
      [
        [10, 11, 12],
        [13, 14, 15],
        [16, 17, 18],
      ],
    ];
    const out = preprocess(rgba(rows, 0), raw({ size: { height: 2, width: 3 } }));
    expect(Array.from(out.data)).toEqual([1, 4, 7, 10, 13, 16, 2, 5, 8, 11, 14, 17, 3, 6, 9, 12, 15, 18]);
  });

  it('an image already at the resized size is centre-cropped in place, by the formula', () => {
    // 5 wide x 9 tall with shortest_edge 5: resize is the identity, the 5x5 crop starts at row round(4/2) = 2.
    const cfg = parsePreprocessConfig({ size: 5, crop_size: 5 });
    const w = 5;
    const h = 9;
    const data = new Uint8Array(w * h * 4);
    for (let i = 0; i < data.length; i++) data[i] = (i * 37 + 11) % 256;
    const out = preprocess({ width: w, height: h, data }, cfg);
    const f = Math.fround;
    const want: number[] = [];
    for (let c = 0; c < 3; c++)
      for (let y = 0; y < 5; y++)
        for (let x = 0; x < 5; x++) {
          const v = data[((y + 2) * w + x) * 4 + c];
          want.push(f(f(f(v / 255) - f(cfg.image_mean[c])) / f(cfg.image_std[c])));
        }
    expect(Array.from(out.data)).toEqual(want);
  });

  it('alpha is dropped, not composited, before resizing', () => {
    const opaque = preprocess(rgba([grey([10, 200, 30])], 255), parsePreprocessConfig({}));
    const clear = preprocess(rgba([grey([10, 200, 30])], 0), parsePreprocessConfig({}));
    expect(Array.from(clear.data)).toEqual(Array.from(opaque.data));
  });

  it('NEAREST samples pixel centres like ImagingScaleAffine', () => {
    expect(Array.from(nearestIndex(4, 2))).toEqual([1, 3]);
    expect(Array.from(nearestIndex(3, 2))).toEqual([0, 2]); // 0.75, 2.25
    const out = preprocess(
      rgba([grey([0, 10, 20, 30])]),
      raw({ size: { height: 1, width: 2 }, resample: 0 }),
    );
    expect(Array.from(out.data.subarray(0, 2))).toEqual([10, 30]);
  });

  it('normalises as torch does in float32: (v/255 - mean) / std', () => {
    const cfg = parsePreprocessConfig({ do_resize: false, do_center_crop: false });
    const out = preprocess(rgba([[[0, 128, 255]]]), cfg);
    const f = Math.fround;
    const want = [0, 128, 255].map((v, c) => f(f(f(v / 255) - f(cfg.image_mean[c])) / f(cfg.image_std[c])));
    expect(Array.from(out.data)).toEqual(want);
    expect(out.data[1]).toBeCloseTo((128 / 255 - 0.4578275) / 0.26130258, 6);
  });
});

describe('align_corners_bilinear (TF.js resizeBilinear, alignCorners=true)', () => {
  const tfCfg = (h: number, w: number) =>
    parsePreprocessConfig({
      size: { height: h, width: w },
      do_center_crop: false,
      do_normalize: false,
      agqg_resize: { mode: 'align_corners_bilinear' },
    });

  it('1D 3 -> 5 hits the corners and interpolates halfway, on v/255 in float', () => {
    const out = preprocess(rgba([grey([0, 51, 255])]), tfCfg(1, 5));
    const f = Math.fround;
    const [a, b, c] = [f(0 / 255), f(51 / 255), f(255 / 255)];
    expect(Array.from(out.data.subarray(0, 5))).toEqual([
      a,
      f(a + (b - a) * 0.5),
      b,
      f(b + (c - b) * 0.5),
      c,
    ]);
    expect(out.data[1]).toBeCloseTo(0.1, 7);
  });

  it('2x2 -> 3x3: centre is the mean of the corners, corners are kept, no 8-bit rounding', () => {
    const img = rgba([
      [
        [0, 0, 0],
        [1, 0, 0],
      ],
      [
        [1, 0, 0],
        [2, 0, 0],
      ],
    ]);
    const out = preprocess(img, tfCfg(3, 3));
    const r = Array.from(out.data.subarray(0, 9));
    const l = (v: number) => Math.fround(v / 255);
    expect(r[0]).toBe(l(0));
    expect(r[2]).toBe(l(1));
    expect(r[8]).toBe(l(2));
    expect(r[4]).toBeCloseTo(1 / 255, 9); // 8-bit PIL would round to a level
    expect(r[1]).toBeCloseTo(0.5 / 255, 9);
  });

  // TF.js itself is the reference where it is installed (nsfwjs brings it).
  const hasTfjs = (() => {
    try {
      const req = createRequire(import.meta.url);
      req.resolve('@tensorflow/tfjs-core');
      req.resolve('@tensorflow/tfjs-backend-cpu');
      return true;
    } catch {
      console.warn('SKIPPED: @tensorflow/tfjs-core / tfjs-backend-cpu not installed, no TF.js cross-check');
      return false;
    }
  })();
  it.skipIf(!hasTfjs)(
    'equals tf.image.resizeBilinear(x/255, [224,224], true) on the TF.js CPU backend exactly',
    async () => {
      const tf = await import('@tensorflow/tfjs-core');
      await import('@tensorflow/tfjs-backend-cpu');
      await tf.setBackend('cpu');
      const [w, h] = [37, 29];
      const data = new Uint8Array(w * h * 4).map((_, i) => (i * 7919) % 256);
      const rgb = new Int32Array(w * h * 3);
      for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * 4 + c];
      const x = tf.div(
        tf.cast(tf.tensor3d(rgb, [h, w, 3], 'int32'), 'float32'),
        255,
      ) as import('@tensorflow/tfjs-core').Tensor3D;
      const want = tf.image.resizeBilinear(x, [224, 224], true).dataSync();
      const got = preprocess({ width: w, height: h, data }, tfCfg(224, 224)).data;
      let differ = 0;
      for (let i = 0; i < 224 * 224; i++)
        for (let c = 0; c < 3; c++) if (want[i * 3 + c] !== got[c * 224 * 224 + i]) differ++;
      expect(differ).toBe(0);
    },
  );

  it('stays within [0, 1] for 8-bit input', () => {
    const data = new Uint8Array(17 * 13 * 4).map((_, i) => (i * 97) % 256);
    data.set([255, 0, 255], 0);
    const out = preprocess({ width: 17, height: 13, data }, tfCfg(224, 224));
    expect(out.dims).toEqual([1, 3, 224, 224]);
    const values = Array.from(out.data);
    expect(values.every((v) => v >= 0 && v <= 1)).toBe(true);
    // align corners: output corners are the input corners
    expect([out.data[0], out.data[224 * 224], out.data[2 * 224 * 224]]).toEqual([1, 0, 1]);
  });
});

describe('preprocessInto', () => {
  const cfg = parsePreprocessConfig({ size: 8, crop_size: 8 });
  const a = rgba([grey([0, 50, 100]), grey([150, 200, 250])]);
  const b = rgba([grey([9, 8]), grey([7, 6]), grey([5, 4])]);

  it('fills a batch at offsets with what preprocess gives per image', () => {
    const n = 3 * 8 * 8;
    const batch = new Float32Array(2 * n);
    preprocessInto(a, cfg, batch, 0);
    preprocessInto(b, cfg, batch, n);
    expect(Array.from(batch.subarray(0, n))).toEqual(Array.from(preprocess(a, cfg).data));
    expect(Array.from(batch.subarray(n))).toEqual(Array.from(preprocess(b, cfg).data));
  });

  it('refuses an offset that would overflow the buffer, and malformed images', () => {
    expect(() => preprocessInto(a, cfg, new Float32Array(100), 0)).toThrow(AgqgError);
    expect(() => preprocess({ width: 2, height: 2, data: new Uint8Array(8) }, cfg)).toThrow(/RGBA buffer/);
    expect(() => preprocess({ width: 0, height: 2, data: new Uint8Array(0) }, cfg)).toThrow(/no pixels/);
  });
});
