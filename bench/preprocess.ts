// Median time to preprocess one 512x512 RGBA image for CLIP (PIL bicubic to 224,
// crop, normalise) and for the default pack (its manifest's config: align-corners
// bilinear to 320, /255), in Node; the PIL resize alone and the CLIP preprocessing
// with the wasm SIMD resize and with the JS port, and the default pack's resize +
// rescale + normalise as it was (test/align-corners-reference.ts), in JS and in
// wasm, in the same run.
// Part of `tsx bench/run.ts`; alone: npx tsx bench/preprocess.ts
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  alignCornersBackend,
  alignCornersBilinear,
  setAlignCornersBackend,
} from '../src/model/image/align-corners.ts';
import type { AlignCornersJob } from '../src/model/image/align-corners-plan.ts';
import {
  outputSize,
  parsePreprocessConfig,
  PIL_RESAMPLE,
  preprocess,
  type PreprocessConfig,
  type PreprocessConfigInput,
  type RgbaImage,
} from '../src/model/image/preprocess.ts';
import { pilResizeRgb, resampleBackend, setResampleBackend } from '../src/model/image/resample.ts';
import { referenceJob } from '../test/align-corners-reference.ts';
import { summarize, timedRow, valueRow, type Row } from './stats.ts';

const SIZE = 512;
const RUNS = 100;
const CLIP_EDGE = 224;
const WARMUP = 30;
const LEVELS = 256;

function noiseImage(): RgbaImage {
  const data = new Uint8Array(SIZE * SIZE * 4);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24; // deterministic noise
  return { width: SIZE, height: SIZE, data };
}

function measure(f: () => void): { wall: number[]; cpu: number[] } {
  for (let i = 0; i < WARMUP; i++) f();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    f();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall, cpu };
}

const CLIP = parsePreprocessConfig({});
const DEFAULT_MANIFEST = new URL('../public/models/default/manifest.json', import.meta.url);

/** The default pack's image preprocessing (align-corners bilinear), read from its manifest. */
function defaultPackConfig(): PreprocessConfig {
  const manifest = JSON.parse(readFileSync(DEFAULT_MANIFEST, 'utf8')) as {
    vision: { inputs: { preprocess: PreprocessConfigInput }[] };
  };
  return parsePreprocessConfig(manifest.vision.inputs[0].preprocess);
}

/** The default pack's resize + rescale + normalise of `img` as one kernel job (no crop in its config). */
function defaultPackJob(img: RgbaImage, cfg: PreprocessConfig): AlignCornersJob {
  const { height, width } = outputSize(img, cfg);
  const f32 = (v: readonly number[]): [number, number, number] => [
    Math.fround(v[0]),
    Math.fround(v[1]),
    Math.fround(v[2]),
  ];
  return {
    src: img.data,
    srcW: img.width,
    srcH: img.height,
    outW: width,
    outH: height,
    win: { x: 0, y: 0, width, height },
    levels: Float32Array.from({ length: LEVELS }, (_, v) => (cfg.do_rescale ? v * cfg.rescale_factor : v)),
    norm: cfg.do_normalize ? { mean: f32(cfg.image_mean), std: f32(cfg.image_std) } : null,
    dst: {
      data: new Float32Array(3 * height * width),
      offset: 0,
      rowStride: width,
      planeStride: height * width,
    },
  };
}

export function benchPreprocess(): Row[] {
  const section = `micro: preprocessing ${SIZE}x${SIZE} RGBA`;
  const img = noiseImage();
  const win = { x: 0, y: 0, width: CLIP_EDGE, height: CLIP_EDGE };
  const rgb = new Uint8Array(CLIP_EDGE * CLIP_EDGE * 3);
  const resize = (): void =>
    pilResizeRgb(img.data, SIZE, SIZE, CLIP_EDGE, CLIP_EDGE, PIL_RESAMPLE.BICUBIC, win, rgb);
  const rows: Row[] = [];
  const resizeMedian: Record<string, number> = {};
  const clipMedian: Record<string, number> = {};
  // 'auto' is wasm where the runtime has WebAssembly SIMD (every supported Node).
  for (const mode of ['auto', 'js'] as const) {
    setResampleBackend(mode);
    const backend = resampleBackend();
    const r = measure(resize);
    resizeMedian[mode] = summarize(r.wall).median;
    rows.push(timedRow(section, `pil bicubic resize ${SIZE}->${CLIP_EDGE} alone (${backend}) wall`, r.wall));
    const m = measure(() => preprocess(img, CLIP));
    clipMedian[mode] = summarize(m.wall).median;
    rows.push(
      timedRow(section, `clip (pil bicubic ${SIZE}->${CLIP_EDGE}, crop, normalise; ${backend}) wall`, m.wall),
    );
    rows.push(valueRow(section, `clip (${backend}) CPU`, summarize(m.cpu).median, 'ms', 'median'));
  }
  setResampleBackend('auto');
  rows.push(
    valueRow(section, 'pil resize js / wasm', resizeMedian.js / resizeMedian.auto, 'x', 'medians, same run'),
  );
  rows.push(
    valueRow(section, 'clip preprocess js / wasm', clipMedian.js / clipMedian.auto, 'x', 'medians, same run'),
  );

  const pack = defaultPackConfig();
  const job = defaultPackJob(img, pack);
  const edge = `${SIZE}->${job.outW}x${job.outH}`;
  const before = measure(() => referenceJob(job));
  rows.push(
    timedRow(
      section,
      `default pack align-corners ${edge} (before: rgb + per-element normaliser) wall`,
      before.wall,
    ),
  );
  rows.push(
    valueRow(
      section,
      'default pack align-corners (before) CPU',
      summarize(before.cpu).median,
      'ms',
      'median',
    ),
  );
  const alignMedian: Record<string, number> = {};
  for (const mode of ['auto', 'js'] as const) {
    setAlignCornersBackend(mode);
    const backend = alignCornersBackend();
    const m = measure(() => alignCornersBilinear(job));
    alignMedian[mode] = summarize(m.wall).median;
    rows.push(timedRow(section, `default pack align-corners ${edge} (${backend}) wall`, m.wall));
    rows.push(
      valueRow(
        section,
        `default pack align-corners (${backend}) CPU`,
        summarize(m.cpu).median,
        'ms',
        'median',
      ),
    );
  }
  setAlignCornersBackend('auto');
  const beforeMedian = summarize(before.wall).median;
  rows.push(
    valueRow(
      section,
      'align-corners before / wasm',
      beforeMedian / alignMedian.auto,
      'x',
      'medians, same run',
    ),
  );
  rows.push(
    valueRow(section, 'align-corners before / js', beforeMedian / alignMedian.js, 'x', 'medians, same run'),
  );
  const t = measure(() => preprocess(img, pack));
  rows.push(
    timedRow(section, `default pack preprocess ${edge} (whole call, ${alignCornersBackend()}) wall`, t.wall),
  );
  rows.push(valueRow(section, 'default pack preprocess CPU', summarize(t.cpu).median, 'ms', 'median'));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of benchPreprocess()) {
    if ('summary' in r)
      console.log(
        `${r.name}: median ${r.summary.median.toFixed(2)} ms, p90 ${r.summary.p90.toFixed(2)} ms (${r.summary.n} runs)`,
      );
    else console.log(`${r.name}: median ${r.value.toFixed(2)} ${r.unit}`);
  }
}
