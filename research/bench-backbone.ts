// Backbone latency with onnxruntime-web (wasm) in Node, as the browser worker runs it.
//   npx tsx research/bench-backbone.ts --views full:224,crop:224 --threads 1 --weights uint8-lut --runs 15
import * as ort from 'onnxruntime-web';
import { convertNsfwjsMultiView } from '../src/cli/pack/nsfwjs-backbone.ts';

const argv = process.argv.slice(2);
const arg = (n: string, d: string) => (argv.includes(n) ? argv[argv.indexOf(n) + 1] : d);
const views = arg('--views', 'view_full:224')
  .split(',')
  .map((s) => ({ name: s.split(':')[0], size: Number(s.split(':')[1]) }));
const threads = Number(arg('--threads', '1'));
const runs = Number(arg('--runs', '15'));
const weights = arg('--weights', 'uint8-lut') as 'uint8-lut' | 'float32';
const blocks = argv.includes('--blocks') ? arg('--blocks', '').split(',') : undefined;
ort.env.wasm.numThreads = threads;
const built = await convertNsfwjsMultiView({ views, weightStorage: weights, blocks });
const t0 = performance.now();
const session = await ort.InferenceSession.create(built.onnx, {
  executionProviders: ['wasm'],
  graphOptimizationLevel: 'all',
});
const loadMs = performance.now() - t0;
const feeds: Record<string, ort.Tensor> = {};
for (const v of views)
  feeds[v.name] = new ort.Tensor('float32', new Float32Array(3 * v.size * v.size).fill(0.5), [
    1,
    3,
    v.size,
    v.size,
  ]);
const times: number[] = [];
const cpu: number[] = [];
for (let i = 0; i < runs + 2; i++) {
  const t = performance.now();
  const c = process.cpuUsage();
  await session.run(feeds);
  const dc = process.cpuUsage(c);
  if (i >= 2) {
    times.push(performance.now() - t);
    cpu.push((dc.user + dc.system) / 1000);
  }
}
cpu.sort((a, b) => a - b);
times.sort((a, b) => a - b);
console.log(
  `views ${views.map((v) => `${v.name}:${v.size}`).join(',')} weights ${weights} threads ${threads}: ` +
    `${built.onnx.length} bytes, session create ${loadMs.toFixed(0)} ms, run median ${times[times.length >> 1].toFixed(1)} ms (min ${times[0].toFixed(1)}), CPU time median ${cpu[cpu.length >> 1].toFixed(1)} ms`,
);
process.exit(0);
