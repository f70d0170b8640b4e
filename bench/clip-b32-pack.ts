// A full-size CLIP ViT-B/32 pack in the Hugging Face layout, in the bench
// cache (never committed): the weightless graphs of
// ../shared/fixtures/clip-vit-b32-graphs with seeded random weights written
// inline, the fixture's config.json, and tiny-clip's preprocessing and
// tokenizer files (the real CLIP BPE vocabulary and CLIPImageProcessor
// settings, the same as openai/clip-vit-base-patch32's). Our scorer,
// onnxruntime-node and transformers.js all load this one folder.
import {
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { inlineRandomWeights } from './onnx-external.ts';
import { CLIP_B32, ROOT, sharedPath, TINY_CLIP } from './shared.ts';

export const B32_PACK_DIR = resolve(ROOT, '.cache/bench/clip-vit-b32');
/** Random weights small enough that 12 layers neither overflow nor vanish. */
export const B32_WEIGHT_STD = 0.02;
const STAMP = 'bench-stamp.json';
const COPIED = [
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  'vocab.json',
  'merges.txt',
] as const;
const GRAPHS = [
  { file: 'vision_model.onnx', seed: 1 },
  { file: 'text_model.onnx', seed: 2 },
] as const;

function stampOf(): string {
  const parts = GRAPHS.map((g) => `${g.file}:${statSync(sharedPath(CLIP_B32, g.file)).size}:${g.seed}`);
  return JSON.stringify({ version: 1, std: B32_WEIGHT_STD, graphs: parts });
}

async function writeParts(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const tmp = `${path}.partial`;
  const ws = createWriteStream(tmp);
  for (const p of parts) if (!ws.write(p)) await new Promise<void>((r) => ws.once('drain', () => r()));
  await new Promise<void>((res, rej) => ws.end((err?: Error | null) => (err ? rej(err) : res())));
  renameSync(tmp, path);
}

/** Builds the pack once (about 600 MB); later calls reuse it while the fixture is unchanged. */
export async function ensureClipB32Pack(log: (line: string) => void = () => {}): Promise<string> {
  const stamp = stampOf();
  const stampPath = join(B32_PACK_DIR, STAMP);
  if (existsSync(stampPath) && readFileSync(stampPath, 'utf8') === stamp) return B32_PACK_DIR;
  const t0 = performance.now();
  rmSync(B32_PACK_DIR, { recursive: true, force: true });
  mkdirSync(join(B32_PACK_DIR, 'onnx'), { recursive: true });
  copyFileSync(sharedPath(CLIP_B32, 'config.json'), join(B32_PACK_DIR, 'config.json'));
  for (const f of COPIED) copyFileSync(sharedPath(TINY_CLIP, f), join(B32_PACK_DIR, f));
  for (const g of GRAPHS) {
    await writeParts(
      join(B32_PACK_DIR, 'onnx', g.file),
      inlineRandomWeights(sharedPath(CLIP_B32, g.file), B32_WEIGHT_STD, g.seed),
    );
  }
  writeFileSync(stampPath, stamp);
  log(
    `wrote the CLIP ViT-B/32 pack with random weights to ${B32_PACK_DIR} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  return B32_PACK_DIR;
}
