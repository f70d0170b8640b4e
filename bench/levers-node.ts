// Levers measured on onnxruntime-node with the full-size CLIP ViT-B/32
// (random weights): graph optimisation level, a fixed batch dimension
// (freeDimensionOverrides), 8-bit weights (agqg quantize) against float32,
// and images per run. Each comparison alternates its settings run by run
// (ABAB...), so load from other processes falls on all of them alike.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { quantizeDynamicInt8 } from '../src/model/onnx/quantize-int8.ts';
import { cosine } from '../src/model/grading/similarity.ts';
import { summarize, timedRow, valueRow, type Row } from './stats.ts';

const ROUNDS = 6;

export interface LeverResult {
  rows: Row[];
  /** Median ms per image for each setting, by lever. */
  levers: Record<string, Record<string, number>>;
  q8Cosine: { vision: number; text: number };
}

type Session = ort.InferenceSession;

function pixels(batch: number): ort.Tensor {
  const x = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < x.length; i++) x[i] = 1.5 * Math.sin(i * 0.37);
  return new ort.Tensor('float32', x, [batch, 3, 224, 224]);
}

/** Median ms per item of each session, runs interleaved round by round. */
async function interleaved(
  settings: Record<string, { session: Session; feeds: Record<string, ort.Tensor>; items: number }>,
): Promise<Record<string, number[]>> {
  const times: Record<string, number[]> = {};
  for (const [name, s] of Object.entries(settings)) {
    await s.session.run(s.feeds); // warm-up
    times[name] = [];
  }
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, s] of Object.entries(settings)) {
      const t0 = performance.now();
      await s.session.run(s.feeds);
      times[name].push((performance.now() - t0) / s.items);
    }
  }
  return times;
}

/** The q8 variant of a cached encoder, written once beside the pack (not inside it: the page would pick it on WASM). */
function q8File(packDir: string, file: string): string {
  const dir = join(packDir, '..', 'clip-vit-b32-q8');
  mkdirSync(dir, { recursive: true });
  const out = join(dir, file.replace(/\.onnx$/, '_quantized.onnx'));
  if (!existsSync(out))
    writeFileSync(out, quantizeDynamicInt8(new Uint8Array(readFileSync(join(packDir, 'onnx', file)))).bytes);
  return out;
}

export async function benchNodeLevers(
  packDir: string,
  log: (s: string) => void = () => {},
): Promise<LeverResult> {
  const threads = availableParallelism();
  const section = `levers: CLIP ViT-B/32 on onnxruntime-node, ${threads} threads, ms per image (interleaved)`;
  const vision = join(packDir, 'onnx', 'vision_model.onnx');
  const create = (path: string, extra: ort.InferenceSession.SessionOptions = {}) =>
    ort.InferenceSession.create(path, {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      ...extra,
    });
  const rows: Row[] = [];
  const levers: LeverResult['levers'] = {};
  const record = (lever: string, times: Record<string, number[]>) => {
    levers[lever] = {};
    for (const [name, t] of Object.entries(times)) {
      rows.push(timedRow(section, `${lever}: ${name}`, t));
      levers[lever][name] = summarize(t).median;
    }
  };
  const release = async (ss: Session[]) => Promise.all(ss.map((s) => s.release()));
  const one = { pixel_values: pixels(1) };

  log('levers: graph optimisation level ...');
  {
    const ss = {
      disabled: await create(vision, { graphOptimizationLevel: 'disabled' }),
      basic: await create(vision, { graphOptimizationLevel: 'basic' }),
      all: await create(vision, { graphOptimizationLevel: 'all' }),
    };
    record(
      'graph optimisation',
      await interleaved(
        Object.fromEntries(Object.entries(ss).map(([k, s]) => [k, { session: s, feeds: one, items: 1 }])),
      ),
    );
    await release(Object.values(ss));
  }

  log('levers: fixed batch dimension, images per run ...');
  {
    const free = await create(vision);
    const fixed = await create(vision, { freeDimensionOverrides: { batch: 1 } });
    record(
      'batch dimension',
      await interleaved({
        'free (batch)': { session: free, feeds: one, items: 1 },
        'fixed to 1': { session: fixed, feeds: one, items: 1 },
      }),
    );
    const sizes: Record<string, { session: Session; feeds: Record<string, ort.Tensor>; items: number }> = {};
    for (const b of [1, 4, 8, 16, 32])
      sizes[`${b} per run`] = { session: free, feeds: { pixel_values: pixels(b) }, items: b };
    record('images per run', await interleaved(sizes));
    await release([free, fixed]);
  }

  log('levers: 8-bit weights (agqg quantize) ...');
  /** fp32 against its 8-bit copy on `feeds`: their timings recorded as `lever`, and the outputs' cosine. */
  const againstQ8 = async (
    lever: string,
    file: string,
    feeds: Record<string, ort.Tensor>,
    output: string,
  ): Promise<number> => {
    const fp = await create(join(packDir, 'onnx', file));
    const q8 = await create(q8File(packDir, file));
    const a = (await fp.run(feeds))[output].data as Float32Array;
    const b = (await q8.run(feeds))[output].data as Float32Array;
    record(
      lever,
      await interleaved({
        fp32: { session: fp, feeds, items: 1 },
        q8: { session: q8, feeds, items: 1 },
      }),
    );
    await release([fp, q8]);
    return cosine(a, b);
  };
  const ids = new BigInt64Array(77);
  [49406, 320, 1125, 539, 320, 2368, 49407].forEach((t, i) => (ids[i] = BigInt(t)));
  for (let i = 7; i < 77; i++) ids[i] = 49407n;
  const mask = new BigInt64Array(77).map((_, i) => (i < 7 ? 1n : 0n));
  const tfeeds = {
    input_ids: new ort.Tensor('int64', ids, [1, 77]),
    attention_mask: new ort.Tensor('int64', mask, [1, 77]),
  };
  const q8Cosine = {
    vision: await againstQ8('vision weights', 'vision_model.onnx', one, 'image_embeds'),
    text: await againstQ8('text weights (per prompt)', 'text_model.onnx', tfeeds, 'text_embeds'),
  };
  rows.push(
    valueRow(
      section,
      'q8 vs fp32 cosine (vision, text)',
      q8Cosine.vision,
      'cosine',
      `text ${q8Cosine.text.toFixed(5)}; random weights`,
    ),
  );
  return { rows, levers, q8Cosine };
}
