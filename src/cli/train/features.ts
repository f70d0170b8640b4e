// Encoder features for every image of a dataset, cached on disk so model
// selection can be rerun in minutes. The cache key covers everything the
// numbers depend on: pack id, the bytes of the vision (and text) graph, the
// preprocessing and tensor specs in the manifest, and the labels file.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgqgError } from '../../model/errors.ts';
import type { Manifest } from '../../model/pack/manifest.ts';
import { pickVariant, type OpenedPack } from '../../model/pack/pack.ts';
import { VARIANT_PREFERENCE, type PackScorer } from '../../model/scoring/scorer.ts';
import { readImage } from '../images.ts';
import type { CliIO } from '../io.ts';
import type { Dataset } from './dataset.ts';
import type { FeatureRows } from '../../model/training/design.ts';

export const FEATURE_CACHE_VERSION = 1;

export interface TextFeatures {
  dim: number;
  /** Distinct prompts, in first-appearance order. */
  prompts: string[];
  /** prompts.length x dim, row-major. */
  embeds: Float32Array;
  /** Row of `embeds` for each image. */
  promptOf: Int32Array;
}

/** The cached table: FeatureRows (what the fit reads) plus where it came from. */
export interface FeatureTable extends FeatureRows {
  key: string;
  /** Image names, in dataset order. */
  names: string[];
  text: TextFeatures | null;
  fromCache: boolean;
}

interface CacheIndex {
  version: number;
  key: string;
  names: string[];
  imageDim: number;
  text: { dim: number; prompts: string[]; promptOf: number[] } | null;
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

async function fileHash(pack: OpenedPack, path: string): Promise<string> {
  const listed = pack.manifest.files.find((f) => f.path === path)?.sha256;
  if (listed) return listed;
  const bytes = await pack.source.readBytes(path);
  if (!bytes) throw new AgqgError('pack_file_missing', `${pack.source.location}/${path} is missing`);
  return sha256(bytes);
}

/** The cache key: a hash over everything that changes the features. */
export async function featureCacheKey(
  pack: OpenedPack,
  dataset: Dataset,
  withText: boolean,
): Promise<string> {
  const m: Manifest = pack.manifest;
  const visionFile = pickVariant(m.vision.variants, undefined, VARIANT_PREFERENCE).file;
  let text: unknown = null;
  if (withText) {
    if (!m.text)
      throw new AgqgError(
        'no_text_encoder',
        `pack "${m.id}" has no text encoder; alignment training needs one`,
      );
    const textFile = pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE).file;
    text = { file: await fileHash(pack, textFile), spec: m.text };
  }
  const material = {
    version: FEATURE_CACHE_VERSION,
    pack: m.id,
    vision: { file: await fileHash(pack, visionFile), inputs: m.vision.inputs, output: m.vision.output },
    text,
    labels: sha256(dataset.labelsText),
  };
  return `${m.id}-${sha256(JSON.stringify(material)).slice(0, 24)}`;
}

async function readCache(dir: string, key: string, names: readonly string[]): Promise<FeatureTable | null> {
  const indexText = await readFile(join(dir, 'index.json'), 'utf8').catch(() => null);
  if (indexText === null) return null;
  let index: CacheIndex;
  try {
    index = JSON.parse(indexText) as CacheIndex;
  } catch {
    return null;
  }
  if (
    index.version !== FEATURE_CACHE_VERSION ||
    index.key !== key ||
    index.names.join('\n') !== names.join('\n')
  )
    return null;
  const imageBytes = await readFile(join(dir, 'image.f32')).catch(() => null);
  if (!imageBytes || imageBytes.byteLength !== names.length * index.imageDim * 4) return null;
  const image = new Float32Array(
    imageBytes.buffer.slice(imageBytes.byteOffset, imageBytes.byteOffset + imageBytes.byteLength),
  );
  let text: TextFeatures | null = null;
  if (index.text) {
    const t = index.text;
    const textBytes = await readFile(join(dir, 'text.f32')).catch(() => null);
    if (!textBytes || textBytes.byteLength !== t.prompts.length * t.dim * 4) return null;
    text = {
      dim: t.dim,
      prompts: t.prompts,
      embeds: new Float32Array(
        textBytes.buffer.slice(textBytes.byteOffset, textBytes.byteOffset + textBytes.byteLength),
      ),
      promptOf: Int32Array.from(t.promptOf),
    };
  }
  return { key, names: [...names], imageDim: index.imageDim, image, text, fromCache: true };
}

/** Written to a temporary folder, then renamed: an interrupted run never leaves a half cache. */
async function writeCache(root: string, table: FeatureTable): Promise<void> {
  const dir = join(root, table.key);
  const tmp = `${dir}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  const index: CacheIndex = {
    version: FEATURE_CACHE_VERSION,
    key: table.key,
    names: table.names,
    imageDim: table.imageDim,
    text: table.text
      ? { dim: table.text.dim, prompts: table.text.prompts, promptOf: Array.from(table.text.promptOf) }
      : null,
  };
  await writeFile(
    join(tmp, 'image.f32'),
    new Uint8Array(table.image.buffer, table.image.byteOffset, table.image.byteLength),
  );
  if (table.text) {
    const e = table.text.embeds;
    await writeFile(join(tmp, 'text.f32'), new Uint8Array(e.buffer, e.byteOffset, e.byteLength));
  }
  await writeFile(join(tmp, 'index.json'), JSON.stringify(index));
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
}

function progressLine(io: CliIO, done: number, total: number, startMs: number): void {
  const elapsed = (performance.now() - startMs) / 1000;
  const rate = done / Math.max(elapsed, 1e-9);
  const eta = rate > 0 ? (total - done) / rate : 0;
  const text = `features: ${done}/${total} images, ${rate.toFixed(1)}/s, ${elapsed.toFixed(0)} s elapsed, ~${eta.toFixed(0)} s left`;
  io.err(io.errIsTTY ? `\r${text}` : `${text}\n`);
}

export interface ExtractOptions {
  pack: OpenedPack;
  /** Loaded lazily: a cache hit never starts onnxruntime. */
  scorer: () => Promise<PackScorer>;
  dataset: Dataset;
  withText: boolean;
  cacheRoot: string;
  io: CliIO;
}

/** Features from the cache when its key matches, else extracted (decoding the next image while the encoder runs). */
export async function loadFeatures(opts: ExtractOptions): Promise<FeatureTable> {
  const { dataset, io } = opts;
  const key = await featureCacheKey(opts.pack, dataset, opts.withText);
  const cached = await readCache(join(opts.cacheRoot, key), key, dataset.names);
  if (cached) {
    io.err(`features: ${dataset.names.length} images from cache ${join(opts.cacheRoot, key)}\n`);
    return cached;
  }
  const scorer = await opts.scorer();
  const n = dataset.names.length;
  const files = dataset.names.map((name) => join(dataset.imageDir, name));
  const start = performance.now();
  const every = Math.max(1, Math.round(n / 50));
  let image: Float32Array | null = null;
  let imageDim = 0;
  let next = readImage(files[0]);
  for (let i = 0; i < n; i++) {
    const { img } = await next.catch((err: unknown) => {
      throw new AgqgError('decode_failed', `training image ${files[i]}: ${(err as Error).message}`, {
        cause: err,
      });
    });
    const running = scorer.embedImage(img);
    // Decoding runs on this thread while onnxruntime's own threads run the encoder.
    if (i + 1 < n) next = readImage(files[i + 1]);
    next.catch(() => {}); // handled when awaited; avoids an unhandled rejection if embedding throws first
    const { features } = await running;
    if (!image) {
      imageDim = features.length;
      image = new Float32Array(n * imageDim);
    } else if (features.length !== imageDim) {
      throw new AgqgError(
        'backend_failed',
        `${files[i]}: encoder gave ${features.length} features, earlier images ${imageDim}`,
      );
    }
    image.set(features, i * imageDim);
    if ((i + 1) % every === 0 || i + 1 === n) progressLine(io, i + 1, n, start);
  }
  if (io.errIsTTY) io.err('\n');
  let text: TextFeatures | null = null;
  if (opts.withText) {
    const prompts = [...new Set(dataset.prompts)];
    io.err(`features: embedding ${prompts.length} prompts\n`);
    const emb = await scorer.embedTexts(prompts);
    const dim = emb[0].length;
    const embeds = new Float32Array(prompts.length * dim);
    emb.forEach((e, i) => embeds.set(e, i * dim));
    const rowOf = new Map(prompts.map((p, i) => [p, i]));
    text = {
      dim,
      prompts,
      embeds,
      promptOf: Int32Array.from(dataset.prompts, (p) => rowOf.get(p) as number),
    };
  }
  const table: FeatureTable = {
    key,
    names: [...dataset.names],
    imageDim,
    image: image as Float32Array,
    text,
    fromCache: false,
  };
  await writeCache(opts.cacheRoot, table);
  return table;
}
