// The align-corners preprocessing (TF.js resizeBilinear, alignCorners=true, then
// float32 rounding and Normalize) must give every float, bit for bit, of the
// formulation it replaced (align-corners-reference.ts: an interleaved float32 RGB
// resize, then a per-element normaliser). Both kernels, wasm and JS, are checked
// against it, including through preprocess(), and the wasm falls back to JS.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wasmFallbackTests } from './wasm-fallbacks.ts';
import { ALIGN_CORNERS, compileWat, generatedModule } from '../scripts/build-wasm.ts';
import {
  alignCornersBackend,
  alignCornersBilinear,
  alignCornersBilinearJs,
  lastAlignCornersBackend,
  setAlignCornersBackend,
} from '../src/model/image/align-corners.ts';
import type { AlignCornersJob, ChannelNormalisation } from '../src/model/image/align-corners-plan.ts';
import {
  outputSize,
  parsePreprocessConfig,
  preprocess,
  preprocessInto,
  preprocessPlan,
  type PreprocessConfig,
  type PreprocessConfigInput,
  type RgbaImage,
} from '../src/model/image/preprocess.ts';
import type { Window } from '../src/model/image/window.ts';
import { mulberry32 } from '../src/model/util/rng.ts';
import { ALIGN_CORNERS_WASM_BASE64 } from '../src/model/image/wasm/align-corners-bytes.ts';
import { referenceJob, referenceNormalisers } from './align-corners-reference.ts';

const rgb = (v: readonly number[]): [number, number, number] => [v[0], v[1], v[2]];

/** preprocess() for align-corners configs as it was (plan, padding, resize, normalise). */
function referencePreprocess(img: RgbaImage, cfg: PreprocessConfig): Float32Array {
  // The crop/pad plan is shared with preprocess() (test/preprocess.test.ts checks it against torchvision's).
  const { resized, out: o, top, left, win } = preprocessPlan(img, cfg);
  const plane = o.height * o.width;
  const out = new Float32Array(3 * plane);
  const levels = new Float32Array(256);
  for (let v = 0; v < 256; v++) levels[v] = cfg.do_rescale ? v * cfg.rescale_factor : v;
  const norm = referenceNormalisers(cfg.do_normalize ? { mean: cfg.image_mean, std: cfg.image_std } : null);
  if (win.width < o.width || win.height < o.height) {
    for (let c = 0; c < 3; c++) out.fill(norm[c](levels[0]), c * plane, (c + 1) * plane);
  }
  if (win.width <= 0 || win.height <= 0) return out;
  referenceJob({
    src: img.data,
    srcW: img.width,
    srcH: img.height,
    outW: resized.width,
    outH: resized.height,
    win,
    levels,
    norm: cfg.do_normalize ? { mean: rgb(cfg.image_mean), std: rgb(cfg.image_std) } : null,
    dst: {
      data: out,
      offset: (win.y - top) * o.width + (win.x - left),
      rowStride: o.width,
      planeStride: plane,
    },
  });
  return out;
}

// ---- Inputs ----

/** Noise, or hard 0/255 blocks, in a view that may start inside a larger buffer. */
function image(rand: () => number, w: number, h: number, clamped: boolean): Uint8Array | Uint8ClampedArray {
  const offset = rand() < 0.5 ? 0 : 1 + Math.floor(rand() * 15);
  const buf = new ArrayBuffer(offset + w * h * 4 + 7);
  const data = clamped
    ? new Uint8ClampedArray(buf, offset, w * h * 4)
    : new Uint8Array(buf, offset, w * h * 4);
  const blocky = rand() < 0.3;
  const cell = 1 + Math.floor(rand() * 5);
  for (let i = 0; i < w * h * 4; i++) {
    const p = i >> 2;
    data[i] = blocky
      ? ((Math.floor((p % w) / cell) + Math.floor(p / w / cell) + (i & 3)) % 2) * 255
      : Math.floor(rand() * 256);
  }
  return data;
}

const side = (rand: () => number, max: number): number => 1 + Math.floor(rand() * max);

/** 1, a downscale, or anything up to 300 (mostly upscales of small sources). */
function outSide(rand: () => number, s: number): number {
  const r = rand();
  if (r < 0.15) return 1;
  if (r < 0.25) return s;
  if (r < 0.6) return side(rand, s);
  return side(rand, 300);
}

function randomWindow(rand: () => number, outW: number, outH: number): Window {
  if (rand() < 0.4) return { x: 0, y: 0, width: outW, height: outH };
  const width = side(rand, outW);
  const height = side(rand, outH);
  return {
    x: Math.floor(rand() * (outW - width + 1)),
    y: Math.floor(rand() * (outH - height + 1)),
    width,
    height,
  };
}

/** Float32 values of the 8-bit levels: v * factor as ToTensor computes it, or v itself. */
function randomLevels(rand: () => number): Float32Array {
  const r = rand();
  const factor = r < 0.4 ? 1 / 255 : r < 0.6 ? 1 : r < 0.8 ? 1 / 127.5 : rand() * 3;
  return Float32Array.from({ length: 256 }, (_, v) => v * factor);
}

function randomNorm(rand: () => number): ChannelNormalisation | null {
  if (rand() < 0.4) return null;
  const f = Math.fround;
  const std = (): number => f((rand() < 0.2 ? -1 : 1) * (0.05 + rand() * 2));
  return {
    mean: [f(rand() * 2 - 0.5), f(rand() * 2 - 0.5), f(rand() * 2 - 0.5)],
    std: [std(), std(), std()],
  };
}

/** A job writing into a larger tensor (strides and offset beyond the window), pre-filled with a NaN pattern. */
function randomJob(rand: () => number): AlignCornersJob {
  const srcW = rand() < 0.1 ? 1 : side(rand, 160);
  const srcH = rand() < 0.1 ? 1 : side(rand, 160);
  const outW = outSide(rand, srcW);
  const outH = outSide(rand, srcH);
  const win = randomWindow(rand, outW, outH);
  const rowStride = win.width + (rand() < 0.5 ? 0 : Math.floor(rand() * 9));
  const planeStride = win.height * rowStride + (rand() < 0.5 ? 0 : Math.floor(rand() * 40));
  const offset = rand() < 0.3 ? 0 : Math.floor(rand() * 50);
  const data = new Float32Array(offset + 3 * planeStride + 5);
  return {
    src: image(rand, srcW, srcH, rand() < 0.5),
    srcW,
    srcH,
    outW,
    outH,
    win,
    levels: randomLevels(rand),
    norm: randomNorm(rand),
    dst: { data, offset, rowStride, planeStride },
  };
}

const SENTINEL = 0x7fc0_dead;

function withFreshTarget(job: AlignCornersJob): AlignCornersJob {
  const data = new Float32Array(job.dst.data.length);
  new Uint32Array(data.buffer).fill(SENTINEL);
  return { ...job, dst: { ...job.dst, data } };
}

/** Index of the first float whose bits differ (so -0/+0 and NaN payloads count), or -1. */
function firstBitDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return i;
  return -1;
}

function label(job: AlignCornersJob): string {
  const { srcW, srcH, outW, outH, win, norm, dst } = job;
  return `${srcW}x${srcH} -> ${outW}x${outH} win ${JSON.stringify(win)} norm ${norm ? 'on' : 'off'} strides ${dst.rowStride}/${dst.planeStride} at ${dst.offset}`;
}

function run(job: AlignCornersJob, kernel: (job: AlignCornersJob) => void): Float32Array {
  const j = withFreshTarget(job);
  kernel(j);
  return j.dst.data;
}

afterEach(() => {
  vi.unstubAllGlobals();
  setAlignCornersBackend('auto');
});

describe('align-corners wasm module', () => {
  it('the generated module matches align-corners.wat (else run npm run build:wasm)', async () => {
    const bytes = await compileWat(ALIGN_CORNERS);
    expect(Buffer.from(ALIGN_CORNERS_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(readFileSync(ALIGN_CORNERS.generated, 'utf8')).toBe(generatedModule(ALIGN_CORNERS, bytes));
  });

  it('is what Node uses', () => {
    expect(alignCornersBackend()).toBe('wasm');
  });
});

describe('both kernels give every float of the reference', () => {
  it('random sizes (1-pixel sides, up and down), windows, levels, normalisation, strides', () => {
    const rand = mulberry32(20250301);
    for (let i = 0; i < 160; i++) {
      const job = randomJob(rand);
      const want = run(job, referenceJob);
      expect(firstBitDiff(run(job, alignCornersBilinearJs), want), `js ${label(job)}`).toBe(-1);
      expect(firstBitDiff(run(job, alignCornersBilinear), want), `wasm ${label(job)}`).toBe(-1);
      expect(lastAlignCornersBackend(), label(job)).toBe('wasm');
    }
  });

  it('a window wider than one staged band and a source row shared by many output rows', () => {
    const rand = mulberry32(5);
    const src = image(rand, 1200, 7, false);
    const levels = randomLevels(rand);
    const base = { src, srcW: 1200, srcH: 7, levels };
    const norm: ChannelNormalisation = { mean: [0.5, 0.25, 0], std: [0.5, 2, -1] };
    const jobs: AlignCornersJob[] = [
      // 3 * 1000 * 4 bytes a row: 87 rows a band, so 400 rows take 5 bands.
      {
        ...base,
        norm,
        outW: 1000,
        outH: 400,
        win: { x: 0, y: 0, width: 1000, height: 400 },
        dst: { data: new Float32Array(3 * 400 * 1000), offset: 0, rowStride: 1000, planeStride: 400 * 1000 },
      },
      {
        ...base,
        norm: null,
        outW: 1000,
        outH: 400,
        win: { x: 3, y: 20, width: 997, height: 301 },
        dst: {
          data: new Float32Array(3 * 400 * 1000),
          offset: 1000,
          rowStride: 1000,
          planeStride: 400 * 1000,
        },
      },
    ];
    for (const job of jobs) {
      const want = run(job, referenceJob);
      expect(firstBitDiff(run(job, alignCornersBilinearJs), want), `js ${label(job)}`).toBe(-1);
      expect(firstBitDiff(run(job, alignCornersBilinear), want), `wasm ${label(job)}`).toBe(-1);
    }
  });
});

describe('preprocess with align_corners_bilinear equals the reference', () => {
  const manifest = JSON.parse(
    readFileSync(new URL('../public/models/default/manifest.json', import.meta.url), 'utf8'),
  ) as {
    vision: { inputs: { preprocess: PreprocessConfigInput }[] };
  };
  const defaultPack = parsePreprocessConfig(manifest.vision.inputs[0].preprocess);

  function expectBothBackends(img: RgbaImage, cfg: PreprocessConfig, what: string): void {
    const want = referencePreprocess(img, cfg);
    for (const mode of ['auto', 'js'] as const) {
      setAlignCornersBackend(mode);
      expect(firstBitDiff(preprocess(img, cfg).data, want), `${mode} ${what}`).toBe(-1);
      expect(lastAlignCornersBackend(), what).toBe(mode === 'auto' ? 'wasm' : 'js');
    }
  }

  it("the default pack's config on 512x512 (AGIQA-3K's size) and other sizes, also with its normalisation on", () => {
    expect(defaultPack.agqg_resize.mode).toBe('align_corners_bilinear');
    const rand = mulberry32(99);
    const normalised = parsePreprocessConfig({ ...manifest.vision.inputs[0].preprocess, do_normalize: true });
    for (const [w, h] of [
      [512, 512],
      [640, 427],
      [1, 1],
      [3, 900],
    ]) {
      const img = { width: w, height: h, data: image(rand, w, h, true) };
      expectBothBackends(img, defaultPack, `default pack ${w}x${h}`);
      expectBothBackends(img, normalised, `default pack normalised ${w}x${h}`);
    }
  });

  it('random configs: shortest edge, centre crops with and without padding, native-size crops, at batch offsets', () => {
    const rand = mulberry32(4242);
    for (let i = 0; i < 40; i++) {
      const w = side(rand, 120);
      const h = side(rand, 120);
      const edge = side(rand, 150);
      const cfg = parsePreprocessConfig({
        size: rand() < 0.5 ? { height: side(rand, 150), width: side(rand, 150) } : { shortest_edge: edge },
        do_center_crop: rand() < 0.5,
        crop_size: { height: side(rand, 150), width: side(rand, 150) },
        do_rescale: rand() < 0.8,
        rescale_factor: rand() < 0.5 ? 1 / 255 : 0.5 + rand(),
        do_normalize: rand() < 0.5,
        image_mean: [rand(), rand(), rand()],
        image_std: [0.1 + rand(), 0.1 + rand(), 0.1 + rand()],
        agqg_resize: { mode: 'align_corners_bilinear' },
        ...(rand() < 0.2 ? { agqg_crop: 'center' as const } : {}),
      });
      const img = { width: w, height: h, data: image(rand, w, h, rand() < 0.5) };
      expectBothBackends(img, cfg, `${w}x${h} cfg ${i}`);
      // The same tensor at an offset into a batch.
      const { height, width } = outputSize(img, cfg);
      const n = 3 * height * width;
      const batch = new Float32Array(3 * n);
      preprocessInto(img, cfg, batch, n);
      expect(firstBitDiff(batch.subarray(n, 2 * n), referencePreprocess(img, cfg)), `batch ${i}`).toBe(-1);
      expect(batch.subarray(0, n).every((v) => v === 0) && batch.subarray(2 * n).every((v) => v === 0)).toBe(
        true,
      );
    }
  });
});

describe('alignCornersBilinear falls back to the JS kernel', () => {
  const rand = mulberry32(3);
  const job: AlignCornersJob = {
    src: image(rand, 64, 48, false),
    srcW: 64,
    srcH: 48,
    outW: 30,
    outH: 90,
    win: { x: 2, y: 1, width: 25, height: 80 },
    levels: Float32Array.from({ length: 256 }, (_, v) => v / 255),
    norm: { mean: [0.5, 0.25, 0.125], std: [0.25, 0.5, 2] },
    dst: { data: new Float32Array(3 * 90 * 30), offset: 31, rowStride: 30, planeStride: 90 * 30 },
  };
  const want = run(job, referenceJob);

  wasmFallbackTests({
    setBackend: setAlignCornersBackend,
    backend: alignCornersBackend,
    last: lastAlignCornersBackend,
    sameAsJs: () => firstBitDiff(run(job, alignCornersBilinear), want) === -1,
  });

  it('for a job that does not fit its target (the wasm would copy out of bounds)', () => {
    const small = { ...job, dst: { ...job.dst, data: new Float32Array(100) } };
    alignCornersBilinear(small);
    expect(lastAlignCornersBackend()).toBe('js');
  });
});
