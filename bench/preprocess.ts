// Median time to preprocess one 512x512 RGBA image for CLIP (PIL bicubic to 224,
// crop, normalise) and for a TF.js backbone (align-corners bilinear), in Node.
// Run: npx tsx bench/preprocess.ts
import { parsePreprocessConfig, preprocess, type RgbaImage } from '../src/model/preprocess';

const SIZE = 512;
const RUNS = 200;
const WARMUP = 30;

const data = new Uint8Array(SIZE * SIZE * 4);
for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24; // deterministic noise
const img: RgbaImage = { width: SIZE, height: SIZE, data };

function median(f: () => void): { wall: number; cpu: number } {
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
  const mid = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1];
  return { wall: mid(wall), cpu: mid(cpu) };
}

const cases = {
  'clip (pil bicubic 512->224, crop, normalise)': parsePreprocessConfig({}),
  'tfjs (align-corners bilinear 512->224, /255)': parsePreprocessConfig({
    size: { height: 224, width: 224 },
    do_center_crop: false,
    do_normalize: false,
    agqg_resize: { mode: 'align_corners_bilinear' },
  }),
};
for (const [name, cfg] of Object.entries(cases)) {
  const m = median(() => preprocess(img, cfg));
  console.log(`${name}: median ${m.wall.toFixed(2)} ms wall, ${m.cpu.toFixed(2)} ms CPU (${RUNS} runs)`);
}
