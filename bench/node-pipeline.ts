// The Node pipeline as `agqg score` runs it (scoreFiles: decode workers read
// and decode ahead, `batch` images per encoder run, heads), with the time of
// each stage per image: read / decode / resize (decode worker) / preprocess /
// encoder / text tower / heads. Wall-clock throughput excludes the pack load.
import { availableParallelism } from 'node:os';
import { DEFAULT_BATCH, DEFAULT_DECODE_THREADS, imageReader } from '../src/cli/cmd/score';
import type { ReadStages } from '../src/cli/image-reader';
import { openPackFolder } from '../src/cli/load-pack';
import { NodeRuntime } from '../src/cli/ort-node';
import { scoreFiles } from '../src/cli/score-pipeline';
import { nowMs } from '../src/model/clock';
import { pickVariant } from '../src/model/pack';
import type { ImageResult } from '../src/model/result';
import { PackScorer, VARIANT_PREFERENCE } from '../src/model/scorer';
import type { BenchImage } from './images';
import { TimedRuntime } from './node-timed-runtime';
import { summarize, timedRow, valueRow, type Row } from './stats';

export interface NodePipelineResult {
  rows: Row[];
  medianTotalMs: number;
  threads: number;
  imagesPerSecond: number;
}

export async function benchNodePipeline(
  packDir: string,
  images: readonly BenchImage[],
  label: string,
  opts: { batch?: number; decodeThreads?: number; withPrompts?: boolean } = {},
): Promise<NodePipelineResult> {
  const batch = opts.batch ?? DEFAULT_BATCH;
  const decodeThreads = opts.decodeThreads ?? DEFAULT_DECODE_THREADS;
  const section = `node: ${label} pipeline (agqg score, batch ${batch}, ${decodeThreads} decode worker(s))`;
  const threads = availableParallelism();
  const reader = imageReader(decodeThreads);
  const t0 = nowMs();
  const pack = await openPackFolder(packDir);
  const timed = new TimedRuntime(new NodeRuntime(threads));
  const scorer = await PackScorer.load(pack, timed);
  const loadMs = nowMs() - t0;
  reader.forPack(scorer);
  const m = pack.manifest;
  const visionFile = pickVariant(m.vision.variants, undefined, VARIANT_PREFERENCE).file;
  const textFile = m.text ? pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE).file : null;
  const jobs = images.map((im) => ({ file: im.path, prompt: opts.withPrompts === false ? null : im.prompt }));
  const results: ImageResult[] = [];
  const stages: ReadStages[] = [];
  let wallMs = 0;
  try {
    // One untimed pass warms the sessions, the workers and the text cache's misses alike for every pass after.
    await scoreFiles(scorer, jobs.slice(0, Math.min(jobs.length, batch)), { batch, reader }, () => {});
    timed.reset();
    const t1 = nowMs();
    await scoreFiles(scorer, jobs, { batch, reader }, (r, _i, s) => {
      if (r.error) throw new Error(`${r.file}: ${r.error.message}`);
      if (!r.quality) throw new Error(`${r.file}: no quality grade (${r.qualityNote ?? 'no note'})`);
      results.push(r);
      if (s) stages.push(s);
    });
    wallMs = nowMs() - t1;
  } finally {
    await reader.close();
    await scorer.release();
  }
  const n = results.length;
  const encoder = timed.total((l) => l === visionFile) / n;
  const text = timed.total((l) => l === textFile) / n;
  const inference = results.reduce((a, r) => a + (r.timings.inferenceMs ?? 0), 0) / n;
  const totals = results.map((r) => r.timings.totalMs ?? Number.NaN);
  const rows: Row[] = [
    valueRow(section, 'pack load (open + sessions)', loadMs, 'ms'),
    valueRow(section, 'intra-op threads', threads, 'threads'),
    valueRow(section, 'throughput (wall clock, after load)', (n / wallMs) * 1000, 'images/s'),
    timedRow(section, 'read file (decode worker)', stages.map((s) => s.readMs)),
    timedRow(section, 'decode (decode worker)', stages.map((s) => s.decodeMs)),
    timedRow(section, 'resize to encoder size (decode worker)', stages.map((s) => s.resizeMs)),
    timedRow(section, 'preprocess (main thread)', results.map((r) => r.timings.preprocessMs ?? Number.NaN)),
    valueRow(section, 'encoder (run / images)', encoder, 'ms/image'),
    ...(text > 0 ? [valueRow(section, 'text tower (runs / images)', text, 'ms/image', 'distinct prompts, batched per encoder run')] : []),
    valueRow(section, 'heads + grading', Math.max(0, inference - encoder - text), 'ms/image'),
    timedRow(section, 'total per image (decode + share of its batch)', totals),
  ];
  return { rows, medianTotalMs: summarize(totals).median, threads, imagesPerSecond: (n / wallMs) * 1000 };
}
