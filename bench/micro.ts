// Micro benchmarks: the CLIP tokenizer (load, encode throughput over every
// AGIQA-3K prompt) and the full-size CLIP ViT-B/32 vision and text graphs
// (weightless fixture + random external data in a temp dir) in onnxruntime-node.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ClipTokenizer, tokenizerOptionsFromConfig } from '../src/model/tokenizer';
import { agiqaRows } from './images';
import { externalInitializers, writeRandomExternalData } from './onnx-external';
import { AGIQA, CLIP_B32, haveShared, sharedPath, TINY_CLIP } from './shared';
import { summarize, timedRow, timeRuns, valueRow, type Row } from './stats';

const LOADS = 5;
const ENCODE_PASSES = 3;
/** Random weights small enough that 12 layers neither overflow nor vanish. */
const WEIGHT_STD = 0.02;
const B32_WARMUP = 2;
const B32_RUNS = 10;

function loadClipTokenizer(): ClipTokenizer {
  const dir = sharedPath(TINY_CLIP);
  const options = tokenizerOptionsFromConfig(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  return ClipTokenizer.fromTokenizerJson(readFileSync(join(dir, 'tokenizer.json'), 'utf8'), options);
}

export async function benchTokenizer(): Promise<Row[]> {
  const section = 'micro: CLIP tokenizer (49,408-token BPE)';
  if (!haveShared(section, [TINY_CLIP, AGIQA])) return [];
  const dir = sharedPath(TINY_CLIP);
  const json = readFileSync(join(dir, 'tokenizer.json'), 'utf8');
  const vocab = readFileSync(join(dir, 'vocab.json'), 'utf8');
  const merges = readFileSync(join(dir, 'merges.txt'), 'utf8');
  const options = tokenizerOptionsFromConfig(readFileSync(join(dir, 'tokenizer_config.json'), 'utf8'));
  const fromJson = await timeRuns(LOADS, 1, () => ClipTokenizer.fromTokenizerJson(json, options));
  const fromFiles = await timeRuns(LOADS, 1, () => ClipTokenizer.fromVocabMerges(vocab, merges, options));
  const prompts = agiqaRows().map((r) => r.prompt);
  // A fresh tokenizer: its first pass fills whatever caches it has, later passes show the warm rate.
  const tok = ClipTokenizer.fromTokenizerJson(json, options);
  const passes: number[] = [];
  let tokens = 0;
  for (let p = 0; p < ENCODE_PASSES; p++) {
    const t0 = performance.now();
    tokens = 0;
    for (const text of prompts) tokens += tok.encode(text).length;
    passes.push(performance.now() - t0);
  }
  const warm = summarize(passes.slice(1)).median;
  return [
    timedRow(section, 'load from tokenizer.json', fromJson),
    timedRow(section, 'load from vocab.json + merges.txt', fromFiles),
    valueRow(section, `encode, first pass (${prompts.length} prompts)`, (prompts.length / passes[0]) * 1000, 'prompts/s'),
    valueRow(section, 'encode, warm passes', (prompts.length / warm) * 1000, 'prompts/s', `${((warm / prompts.length) * 1000).toFixed(1)} µs/prompt, ${Math.round(tokens / prompts.length)} tokens/prompt`),
  ];
}

async function createB32Session(tmp: string, file: string, seed: number): Promise<{ session: ort.InferenceSession; createMs: number; bytes: number }> {
  const src = sharedPath(CLIP_B32, file);
  const inits = externalInitializers(src);
  const locations = [...new Set(inits.map((t) => t.location))];
  copyFileSync(src, join(tmp, file));
  let bytes = 0;
  for (const loc of locations) bytes += writeRandomExternalData(join(tmp, loc), loc, inits, WEIGHT_STD, seed);
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(join(tmp, file), {
    intraOpNumThreads: availableParallelism(),
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionProviders: ['cpu'],
  });
  return { session, createMs: performance.now() - t0, bytes };
}

function finiteOutput(out: ort.InferenceSession.ReturnType): boolean {
  return Object.values(out).every((t) => Array.from(t.data as Float32Array).every(Number.isFinite));
}

export async function benchClipB32(): Promise<{ rows: Row[]; visionMs: number; textMs: number }> {
  const section = `micro: CLIP ViT-B/32 (random weights), onnxruntime-node, batch 1, ${availableParallelism()} threads`;
  const none = { rows: [], visionMs: Number.NaN, textMs: Number.NaN };
  if (!haveShared(section, [CLIP_B32, TINY_CLIP, AGIQA])) return none;
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-bench-b32-'));
  const rows: Row[] = [];
  try {
    const vision = await createB32Session(tmp, 'vision_model.onnx', 1);
    const pixels = new Float32Array(3 * 224 * 224);
    for (let i = 0; i < pixels.length; i++) pixels[i] = Math.sin(i * 0.37); // any values in CLIP's normalised range
    const vfeeds = { pixel_values: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) };
    const vout = await vision.session.run(vfeeds);
    if (!finiteOutput(vout)) throw new Error('vision_model.onnx with random weights gave non-finite outputs');
    const vtimes = await timeRuns(B32_RUNS, B32_WARMUP, () => vision.session.run(vfeeds));
    await vision.session.release();
    rm(tmp, 'vision_model.onnx.data');

    const text = await createB32Session(tmp, 'text_model.onnx', 2);
    const tok = loadClipTokenizer();
    const prompt = agiqaRows()[0].prompt;
    const enc = tok.encodeBatch([prompt], tok.contextLength);
    const tfeeds: Record<string, ort.Tensor> = {};
    if (text.session.inputNames.includes('input_ids')) tfeeds.input_ids = new ort.Tensor('int64', enc.inputIds, [...enc.dims]);
    if (text.session.inputNames.includes('attention_mask')) tfeeds.attention_mask = new ort.Tensor('int64', enc.attentionMask, [...enc.dims]);
    const tout = await text.session.run(tfeeds);
    if (!finiteOutput(tout)) throw new Error('text_model.onnx with random weights gave non-finite outputs');
    const ttimes = await timeRuns(B32_RUNS, B32_WARMUP, () => text.session.run(tfeeds));
    await text.session.release();

    rows.push(
      valueRow(section, 'vision session create', vision.createMs, 'ms', `${(vision.bytes / 2 ** 20).toFixed(0)} MiB external data`),
      timedRow(section, 'vision run [1,3,224,224]', vtimes),
      valueRow(section, 'text session create', text.createMs, 'ms', `${(text.bytes / 2 ** 20).toFixed(0)} MiB external data`),
      timedRow(section, 'text run [1,77]', ttimes),
    );
    return { rows, visionMs: summarize(vtimes).median, textMs: summarize(ttimes).median };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function rm(dir: string, file: string): void {
  rmSync(join(dir, file), { force: true });
}
