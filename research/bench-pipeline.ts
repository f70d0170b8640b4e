// Per-image pipeline latency of a built pack in Node (decode, preprocess, backbone, head) with onnxruntime-node.
//   npx tsx research/bench-pipeline.ts [--pack public/models/default] [--n 40] [--data ../shared/datasets/agiqa-3k]
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { decodeImageFile } from '../src/cli/decode.ts';
import { openPackDir } from '../src/cli/node-pack-source.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const pack = await openPackDir(resolve(arg('--pack', 'public/models/default')));
const scorer = await PackScorer.load(pack, new NodeRuntime());
const dir = join(resolve(arg('--data', '../shared/datasets/agiqa-3k')), 'images');
const files = readdirSync(dir)
  .sort()
  .filter((_, i) => i % 50 === 0)
  .slice(0, Number(arg('--n', '40')));
const rows: { decode: number; pre: number; inf: number; total: number }[] = [];
for (const f of files) {
  const t0 = performance.now();
  const img = await decodeImageFile(join(dir, f));
  const decode = performance.now() - t0;
  const r = await scorer.scoreImage(img, { file: f, prompt: null, decodeMs: decode });
  if (r.error) throw new Error(`${f}: ${r.error.message}`);
  rows.push({
    decode,
    pre: r.timings.preprocessMs ?? NaN,
    inf: r.timings.inferenceMs ?? NaN,
    total: performance.now() - t0,
  });
}
const med = (k: keyof (typeof rows)[0]) => {
  const v = rows.map((r) => r[k]).sort((a, b) => a - b);
  return v[v.length >> 1].toFixed(1);
};
console.log(
  `${files.length} images: median decode ${med('decode')} ms, preprocess ${med('pre')} ms, inference ${med('inf')} ms, total ${med('total')} ms`,
);
await scorer.release();
