// Median time to preprocess one 512x512 RGBA image for CLIP (PIL bicubic to 224,
// crop, normalise) and for a TF.js backbone (align-corners bilinear), in Node;
// the PIL resize alone and the CLIP preprocessing with the wasm SIMD resize and
// with the JS port, in the same run.
// Part of `tsx bench/run.ts`; alone: npx tsx bench/preprocess.ts
import { pathToFileURL } from 'node:url';
import { parsePreprocessConfig, PIL_RESAMPLE, preprocess, type RgbaImage } from '../src/model/preprocess';
import { pilResizeRgb, resampleBackend, setResampleBackend } from '../src/model/resample';
import { summarize, timedRow, valueRow, type Row } from './stats';

const SIZE = 512;
const RUNS = 100;
const CLIP_EDGE = 224;
const WARMUP = 30;

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
const TFJS = parsePreprocessConfig({
  size: { height: 224, width: 224 },
  do_center_crop: false,
  do_normalize: false,
  agqg_resize: { mode: 'align_corners_bilinear' },
});

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
    rows.push(timedRow(section, `clip (pil bicubic ${SIZE}->${CLIP_EDGE}, crop, normalise; ${backend}) wall`, m.wall));
    rows.push(valueRow(section, `clip (${backend}) CPU`, summarize(m.cpu).median, 'ms', 'median'));
  }
  setResampleBackend('auto');
  rows.push(valueRow(section, 'pil resize js / wasm', resizeMedian.js / resizeMedian.auto, 'x', 'medians, same run'));
  rows.push(valueRow(section, 'clip preprocess js / wasm', clipMedian.js / clipMedian.auto, 'x', 'medians, same run'));
  const t = measure(() => preprocess(img, TFJS));
  rows.push(timedRow(section, 'tfjs (align-corners bilinear 512->224, /255) wall', t.wall));
  rows.push(valueRow(section, 'tfjs CPU', summarize(t.cpu).median, 'ms', 'median'));
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of benchPreprocess()) {
    if ('summary' in r) console.log(`${r.name}: median ${r.summary.median.toFixed(2)} ms, p90 ${r.summary.p90.toFixed(2)} ms (${r.summary.n} runs)`);
    else console.log(`${r.name}: median ${r.value.toFixed(2)} ${r.unit}`);
  }
}
