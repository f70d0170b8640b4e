// The wasm SIMD resize must give the JS port's bytes (itself checked against
// Pillow in preprocess.test.ts) for every convolution filter, size and window,
// and pilResizeRgb must fall back to JS whenever the wasm cannot run.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { wasmFallbackTests } from './wasm-fallbacks.ts';
import { compileResampleWat, GENERATED_PATH, generatedSource } from '../scripts/build-wasm.ts';
import { PIL_RESAMPLE } from '../src/model/image/preprocess-config.ts';
import {
  lastResampleBackend,
  pilResizeRgb,
  pilResizeRgbJs,
  resampleBackend,
  setResampleBackend,
} from '../src/model/image/resample.ts';
import type { Window } from '../src/model/image/window.ts';
import { mulberry32 } from '../src/model/util/rng.ts';
import { RESAMPLE_WASM_BASE64 } from '../src/model/image/wasm/resample-bytes.ts';

const CONVOLUTION = [
  PIL_RESAMPLE.BOX,
  PIL_RESAMPLE.BILINEAR,
  PIL_RESAMPLE.HAMMING,
  PIL_RESAMPLE.BICUBIC,
  PIL_RESAMPLE.LANCZOS,
] as const;
const MAX_SIDE = 700;

interface Case {
  src: Uint8Array | Uint8ClampedArray;
  srcW: number;
  srcH: number;
  outW: number;
  outH: number;
  filter: number;
  win: Window;
}

/** Noise, or hard 0/255 blocks (overshoot of the negative lobes exercises the clip). */
function image(
  rand: () => number,
  w: number,
  h: number,
  clamped: boolean,
  offset: number,
): Uint8Array | Uint8ClampedArray {
  // Offset into a larger buffer: a view that does not start at byte 0.
  const buf = new ArrayBuffer(offset + w * h * 4 + 7);
  const data = clamped
    ? new Uint8ClampedArray(buf, offset, w * h * 4)
    : new Uint8Array(buf, offset, w * h * 4);
  const blocky = rand() < 0.5;
  const cell = 1 + Math.floor(rand() * 5);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      for (let c = 0; c < 4; c++) {
        data[i + c] = blocky
          ? ((Math.floor(x / cell) + Math.floor(y / cell) + c) % 2) * 255
          : Math.floor(rand() * 256);
      }
    }
  }
  return data;
}

const side = (rand: () => number, max = MAX_SIDE): number => 1 + Math.floor(rand() * max);

function outSide(rand: () => number, s: number): number {
  const r = rand();
  if (r < 0.2) return s; // this pass is skipped
  if (r < 0.6) return side(rand, s); // downscale (or equal)
  return side(rand); // anything, mostly upscales of small sides
}

function randomWindow(rand: () => number, outW: number, outH: number): Window {
  if (rand() < 0.3) return { x: 0, y: 0, width: outW, height: outH };
  const width = side(rand, outW);
  const height = side(rand, outH);
  return {
    x: Math.floor(rand() * (outW - width + 1)),
    y: Math.floor(rand() * (outH - height + 1)),
    width,
    height,
  };
}

function run(c: Case, resize: typeof pilResizeRgb): Uint8Array {
  // Non-zero so that a byte left unwritten would show.
  const dst = new Uint8Array(c.win.width * c.win.height * 3).fill(0xa5);
  resize(c.src, c.srcW, c.srcH, c.outW, c.outH, c.filter, c.win, dst);
  return dst;
}

/** Index of the first differing byte, or -1 (a whole-array toEqual would print megabytes). */
function firstDiff(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

function expectSameAsJs(c: Case): void {
  const want = run(c, pilResizeRgbJs);
  const got = run(c, pilResizeRgb);
  const label = `${c.srcW}x${c.srcH} -> ${c.outW}x${c.outH} filter ${c.filter} win ${JSON.stringify(c.win)}`;
  expect(lastResampleBackend(), label).toBe('wasm');
  expect(firstDiff(got, want), label).toBe(-1);
}

afterEach(() => {
  vi.unstubAllGlobals();
  setResampleBackend('auto');
});

describe('wasm resample module', () => {
  it('the generated module matches resample.wat (else run npm run build:wasm)', async () => {
    const bytes = await compileResampleWat();
    expect(Buffer.from(RESAMPLE_WASM_BASE64, 'base64').equals(Buffer.from(bytes))).toBe(true);
    expect(readFileSync(GENERATED_PATH, 'utf8')).toBe(generatedSource(bytes));
  });

  it('is what Node uses for the convolution filters', () => {
    expect(resampleBackend()).toBe('wasm');
  });
});

describe('wasm resample is byte-identical to the JS port', () => {
  it('random sizes, windows, filters and source types', () => {
    const rand = mulberry32(20240611);
    for (let i = 0; i < 120; i++) {
      const srcW = side(rand);
      const srcH = side(rand);
      let outW = outSide(rand, srcW);
      const outH = outSide(rand, srcH);
      if (outW === srcW && outH === srcH) outW = side(rand); // nothing to convolve otherwise
      if (outW === srcW && outH === srcH) continue;
      const src = image(rand, srcW, srcH, i % 2 === 1, i % 3 === 0 ? 0 : 1 + Math.floor(rand() * 15));
      const filter = CONVOLUTION[i % CONVOLUTION.length];
      expectSameAsJs({ src, srcW, srcH, outW, outH, filter, win: randomWindow(rand, outW, outH) });
    }
  });

  it('the CLIP case: 512x512 -> 224 bicubic, and a 1-pixel side', () => {
    const rand = mulberry32(7);
    const src = image(rand, 512, 512, true, 0);
    const win = { x: 0, y: 0, width: 224, height: 224 };
    for (const filter of CONVOLUTION)
      expectSameAsJs({ src, srcW: 512, srcH: 512, outW: 224, outH: 224, filter, win });
    const line = image(rand, 300, 1, false, 0);
    for (const filter of CONVOLUTION) {
      expectSameAsJs({
        src: line,
        srcW: 300,
        srcH: 1,
        outW: 7,
        outH: 5,
        filter,
        win: { x: 0, y: 0, width: 7, height: 5 },
      });
    }
  });

  it('a source larger than one copied band, full and cropped columns', () => {
    const rand = mulberry32(11);
    const srcW = 1500;
    const srcH = 900; // 5.4 MB of RGBA: two bands
    const src = image(rand, srcW, srcH, false, 0);
    const full = { x: 0, y: 0, width: 224, height: 134 };
    expectSameAsJs({ src, srcW, srcH, outW: 224, outH: 134, filter: PIL_RESAMPLE.BICUBIC, win: full });
    const crop = { x: 40, y: 3, width: 100, height: 120 };
    expectSameAsJs({ src, srcW, srcH, outW: 224, outH: 134, filter: PIL_RESAMPLE.LANCZOS, win: crop });
    // Width kept: the rows are only repacked, then the vertical pass.
    expectSameAsJs({
      src,
      srcW,
      srcH,
      outW: srcW,
      outH: 301,
      filter: PIL_RESAMPLE.HAMMING,
      win: { x: 700, y: 0, width: 800, height: 301 },
    });
  });
});

describe('pilResizeRgb falls back to the JS port', () => {
  const rand = mulberry32(3);
  const src = image(rand, 64, 48, false, 0);
  const c: Case = {
    src,
    srcW: 64,
    srcH: 48,
    outW: 30,
    outH: 20,
    filter: PIL_RESAMPLE.BICUBIC,
    win: { x: 2, y: 1, width: 25, height: 17 },
  };
  const want = run(c, pilResizeRgbJs);

  wasmFallbackTests({
    setBackend: setResampleBackend,
    backend: resampleBackend,
    last: lastResampleBackend,
    sameAsJs: () => firstDiff(run(c, pilResizeRgb), want) === -1,
  });

  it('for NEAREST, which has no convolution', () => {
    const n = { ...c, filter: PIL_RESAMPLE.NEAREST };
    expect(firstDiff(run(n, pilResizeRgb), run(n, pilResizeRgbJs))).toBe(-1);
    expect(lastResampleBackend()).toBe('js');
  });
});
