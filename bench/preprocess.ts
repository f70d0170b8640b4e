// Median time to preprocess one 512x512 RGBA image for CLIP (PIL bicubic to 224,
// crop, normalise) and for a TF.js backbone (align-corners bilinear), in Node.
// Part of `tsx bench/run.ts`; alone: npx tsx bench/preprocess.ts
import { pathToFileURL } from 'node:url';
import { parsePreprocessConfig, preprocess, type RgbaImage } from '../src/model/preprocess';
import { summarize, timedRow, valueRow, type Row } from './stats';

const SIZE = 512;
const RUNS = 200;
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

const CASES = {
  'clip (pil bicubic 512->224, crop, normalise)': parsePreprocessConfig({}),
  'tfjs (align-corners bilinear 512->224, /255)': parsePreprocessConfig({
    size: { height: 224, width: 224 },
    do_center_crop: false,
    do_normalize: false,
    agqg_resize: { mode: 'align_corners_bilinear' },
  }),
};

export function benchPreprocess(): Row[] {
  const section = `micro: preprocessing ${SIZE}x${SIZE} RGBA`;
  const img = noiseImage();
  const rows: Row[] = [];
  for (const [name, cfg] of Object.entries(CASES)) {
    const m = measure(() => preprocess(img, cfg));
    rows.push(timedRow(section, `${name} wall`, m.wall));
    rows.push(valueRow(section, `${name} CPU`, summarize(m.cpu).median, 'ms', 'median'));
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of benchPreprocess()) {
    if ('summary' in r) console.log(`${r.name}: median ${r.summary.median.toFixed(2)} ms, p90 ${r.summary.p90.toFixed(2)} ms (${r.summary.n} runs)`);
    else console.log(`${r.name}: median ${r.value.toFixed(2)} ${r.unit}`);
  }
}
