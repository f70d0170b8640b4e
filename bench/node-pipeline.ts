// The per-image pipeline in Node, as `agqg score` runs it: read + decode
// (libjpeg-turbo), preprocessing for every backbone input, the backbone, the
// head (PackScorer over onnxruntime-node with one intra-op thread per core).
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { decodeImage } from '../src/cli/decode';
import { openPackFolder } from '../src/cli/load-pack';
import { NodeRuntime } from '../src/cli/ort-node';
import { nowMs } from '../src/model/clock';
import { PackScorer } from '../src/model/scorer';
import type { BenchImage } from './images';
import { summarize, timedRow, valueRow, type Row } from './stats';

export interface NodePipelineResult {
  rows: Row[];
  medianTotalMs: number;
  threads: number;
}

export async function benchNodePipeline(packDir: string, images: readonly BenchImage[], label: string): Promise<NodePipelineResult> {
  const section = `node: ${label} pipeline`;
  const threads = availableParallelism();
  const t0 = nowMs();
  const pack = await openPackFolder(packDir);
  const scorer = await PackScorer.load(pack, new NodeRuntime(threads));
  const loadMs = nowMs() - t0;
  const stage = { read: [] as number[], decode: [] as number[], preprocess: [] as number[], backbone: [] as number[], head: [] as number[], total: [] as number[] };
  try {
    for (const im of images) {
      const a = nowMs();
      const buf = await readFile(im.path);
      const b = nowMs();
      const img = decodeImage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), im.name);
      const c = nowMs();
      const emb = await scorer.embedImage(img);
      const g = await scorer.gradeFeatures(emb.features, im.prompt);
      const d = nowMs();
      if (!g.quality) throw new Error(`${im.name}: no quality grade (${g.qualityNote ?? 'no note'})`);
      stage.read.push(b - a);
      stage.decode.push(c - b);
      stage.preprocess.push(emb.preprocessMs);
      stage.backbone.push(emb.inferenceMs);
      stage.head.push(g.inferenceMs);
      stage.total.push(d - a);
    }
  } finally {
    await scorer.release();
  }
  const rows: Row[] = [
    valueRow(section, 'pack load (open + sessions)', loadMs, 'ms'),
    valueRow(section, 'intra-op threads', threads, 'threads'),
    timedRow(section, 'read file', stage.read),
    timedRow(section, 'decode', stage.decode),
    timedRow(section, 'preprocess', stage.preprocess),
    timedRow(section, 'backbone', stage.backbone),
    timedRow(section, `head${scorer.hasText ? ' (+ text encoder)' : ''}`, stage.head),
    timedRow(section, 'total per image', stage.total),
    valueRow(section, 'first image (cold) total', stage.total[0] ?? Number.NaN, 'ms'),
  ];
  return { rows, medianTotalMs: summarize(stage.total).median, threads };
}
