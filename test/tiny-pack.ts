// Test helpers: packs held in memory, built from the tiny-clip fixture plus
// whatever manifest and head graph a test needs.
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import type { ManifestInput } from '../src/model/pack/manifest.ts';
import type { PackSource } from '../src/model/pack/pack.ts';
import { sharedPath } from './shared.ts';

export class MemoryPackSource implements PackSource {
  readonly files = new Map<string, Uint8Array>();
  constructor(readonly location = 'memory:pack') {}
  put(path: string, data: Uint8Array | string): this {
    this.files.set(path, typeof data === 'string' ? new TextEncoder().encode(data) : data);
    return this;
  }
  async readBytes(path: string): Promise<Uint8Array | null> {
    return this.files.get(path) ?? null;
  }
  async size(path: string): Promise<number | null> {
    return this.files.get(path)?.byteLength ?? null;
  }
}

export const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

export const TINY = (...p: string[]): string => sharedPath('fixtures', 'tiny-clip', ...p);
export const REFS = (...p: string[]): string => sharedPath('fixtures', 'tiny-clip-refs', ...p);

export interface Refs {
  images: { file: string; mode: string; pixel_values: string; image_embeds: number[] }[];
  prompts: { text: string; input_ids: number[]; attention_mask: number[]; text_embeds: number[] }[];
}
export const loadRefs = (): Refs => JSON.parse(readFileSync(REFS('refs.json'), 'utf8')) as Refs;

/** A manifest over the tiny-clip encoders; `text: false` leaves the text encoder out. */
export function tinyManifest(source: MemoryPackSource, opts: { text?: boolean } = {}): ManifestInput {
  const add = (path: string, role: 'vision' | 'text' | 'tokenizer' | 'config') => {
    const bytes = readFileSync(TINY(path));
    source.put(path, new Uint8Array(bytes));
    return { path, size: bytes.byteLength, sha256: sha256(bytes), role };
  };
  const files = [add('onnx/vision_model.onnx', 'vision'), add('preprocessor_config.json', 'config')];
  const preprocess = JSON.parse(readFileSync(TINY('preprocessor_config.json'), 'utf8')) as Record<
    string,
    unknown
  >;
  const withText = opts.text !== false;
  if (withText) files.push(add('onnx/text_model.onnx', 'text'), add('tokenizer.json', 'tokenizer'));
  return {
    schema: 'agqg-pack',
    version: 1,
    id: 'tiny-test',
    name: 'tiny test pack',
    files,
    vision: {
      variants: [{ dtype: 'fp32', file: 'onnx/vision_model.onnx' }],
      inputs: [{ name: 'pixel_values', dtype: 'float32', shape: ['batch', 3, 224, 224], preprocess }],
      output: { name: 'image_embeds', dtype: 'float32', shape: ['batch', 32] },
    },
    text: withText
      ? {
          variants: [{ dtype: 'fp32', file: 'onnx/text_model.onnx' }],
          inputIds: 'input_ids',
          attentionMask: 'attention_mask',
          output: { name: 'text_embeds', dtype: 'float32', shape: ['batch', 32] },
          tokenizer: { tokenizerJson: 'tokenizer.json' },
          contextLength: 77,
        }
      : null,
    grades: { labels: ['bad', 'poor', 'fair', 'good', 'excellent'], mos: { min: 0, max: 5 } },
    heads: { quality: null, alignment: null },
  };
}

export function putManifest(source: MemoryPackSource, manifest: unknown): MemoryPackSource {
  return source.put('manifest.json', JSON.stringify(manifest));
}

/** Cosine similarity written out independently of src/model, as the reference the tests compare with. */
export function refCosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return d / Math.sqrt(na * nb);
}
