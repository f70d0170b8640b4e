// Loading a pack's ONNX sessions for scoring: the vision encoder, the text
// encoder with its tokenizer, the heads (their graphs checked against the
// manifest) and the zero-shot anchors. A failure part way releases whatever
// was created, so a bad pack never leaks sessions.
import { decodeUtf8 } from '../util/utf8.ts';
import { AgqgError } from '../errors.ts';
import type { Head, Manifest, VariantDtype } from '../pack/manifest.ts';
import { pickVariant, readPackFile, type OpenedPack } from '../pack/pack.ts';
import { ClipTokenizer, tokenizerOptionsFromConfig } from '../text/tokenizer.ts';
import { ImageEmbedder } from './image-embedder.ts';
import type { RuntimeAdapter, SessionRunner } from './runtime.ts';
import { TextEmbedder } from './text-embedder.ts';

/** Preferred weight formats when none is asked for: exact first, then the smaller ones. */
export const VARIANT_PREFERENCE: readonly VariantDtype[] = [
  'fp32',
  'fp16',
  'q8',
  'int8',
  'uint8',
  'q4',
  'q4f16',
  'bnb4',
];

export interface LoadProgress {
  stage: 'tokenizer' | 'vision' | 'text' | 'heads' | 'anchors' | 'ready';
  loaded?: number;
  total?: number;
}

export interface ScorerLoadOptions {
  variant?: VariantDtype;
  onProgress?: (p: LoadProgress) => void;
}

export interface LoadedHead {
  kind: 'quality' | 'alignment';
  spec: Head;
  session: SessionRunner | null;
  /** Zero-shot quality anchors: [positive, negative] embeddings per antonym pair. */
  anchors: [Float32Array, Float32Array][];
}

export interface LoadedHeads {
  quality: LoadedHead | null;
  alignment: LoadedHead | null;
}

/** Everything a PackScorer runs, as loaded from one pack. */
export interface PackSessions {
  vision: ImageEmbedder;
  /** Null when the pack has no text encoder. */
  text: TextEmbedder | null;
  heads: LoadedHeads;
}

/** Loads the sessions `pack` describes on `runtime`; on failure releases those already created. */
export async function loadPackSessions(
  pack: OpenedPack,
  runtime: RuntimeAdapter,
  opts: ScorerLoadOptions = {},
): Promise<PackSessions> {
  const m = pack.manifest;
  const progress = opts.onProgress ?? (() => {});
  for (const input of m.vision.inputs) {
    if (input.dtype !== 'float32') {
      throw new AgqgError(
        'pack_invalid',
        `pack "${m.id}": vision input "${input.name}" is ${input.dtype}; only float32 image inputs are supported`,
      );
    }
  }
  const sessions: SessionRunner[] = [];
  const open = async (file: string): Promise<SessionRunner> => {
    const session = await runtime.createSession(await readPackFile(pack, file), file);
    sessions.push(session);
    return session;
  };
  try {
    const visionVariant = pickVariant(m.vision.variants, opts.variant, VARIANT_PREFERENCE);
    progress({ stage: 'vision', loaded: 0, total: 1 });
    const vision = new ImageEmbedder(m.vision, await open(visionVariant.file));
    progress({ stage: 'vision', loaded: 1, total: 1 });

    let text: TextEmbedder | null = null;
    if (m.text) {
      progress({ stage: 'tokenizer' });
      const tokenizer = await loadTokenizer(pack);
      // A variant asked for but missing in the text encoder falls back: the flag names the vision weights first.
      const textVariant =
        m.text.variants.find((v) => v.dtype === opts.variant) ??
        pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE);
      progress({ stage: 'text', loaded: 0, total: 1 });
      text = new TextEmbedder(m.text, await open(textVariant.file), tokenizer);
      progress({ stage: 'text', loaded: 1, total: 1 });
    }

    progress({ stage: 'heads' });
    const heads: LoadedHeads = {
      quality: await loadHead(m, 'quality', open),
      alignment: await loadHead(m, 'alignment', open),
    };

    for (const head of [heads.quality, heads.alignment]) {
      if (head?.spec.type !== 'zero-shot-quality') continue;
      progress({ stage: 'anchors' });
      if (!text) throw new AgqgError('no_text_encoder', `pack "${m.id}" has no text encoder`);
      const emb = (await text.embed(head.spec.pairs.flat())).map((e) => e.features);
      head.anchors = head.spec.pairs.map((_, i) => [emb[2 * i], emb[2 * i + 1]]);
    }
    progress({ stage: 'ready' });
    return { vision, text, heads };
  } catch (err) {
    await Promise.allSettled(sessions.map((s) => s.release()));
    throw err;
  }
}

/** Releases every session of `s` (errors ignored: there is nothing left to run). */
export async function releasePackSessions(s: PackSessions): Promise<void> {
  const all = [s.vision.session, s.text?.session, s.heads.quality?.session, s.heads.alignment?.session];
  await Promise.allSettled(all.filter((x): x is SessionRunner => !!x).map((x) => x.release()));
}

/** One head of the manifest; an ONNX head's graph must have the inputs and output the manifest maps. */
async function loadHead(
  m: Manifest,
  kind: 'quality' | 'alignment',
  open: (file: string) => Promise<SessionRunner>,
): Promise<LoadedHead | null> {
  const spec = m.heads[kind];
  if (!spec) return null;
  let session: SessionRunner | null = null;
  if (spec.type === 'onnx') {
    session = await open(spec.file);
    for (const name of Object.keys(spec.inputs)) {
      if (!session.inputNames.includes(name)) {
        throw new AgqgError(
          'pack_invalid',
          `pack "${m.id}": heads.${kind} maps input "${name}", but ${spec.file} has inputs ${session.inputNames.join(', ')}`,
        );
      }
    }
    if (!session.outputNames.includes(spec.outputs.ability)) {
      throw new AgqgError(
        'pack_invalid',
        `pack "${m.id}": heads.${kind} reads output "${spec.outputs.ability}", but ${spec.file} has outputs ${session.outputNames.join(', ')}`,
      );
    }
  }
  return { kind, spec, session, anchors: [] };
}

const TOKENIZER_CONFIG = 'tokenizer_config.json';

/** The pack's text tokenizer (verified files), without loading any ONNX graph. */
export async function loadTokenizer(pack: OpenedPack): Promise<ClipTokenizer> {
  const ref = pack.manifest.text?.tokenizer;
  if (!ref) throw new AgqgError('no_text_encoder', `pack "${pack.manifest.id}" has no text encoder`);
  const text = async (path: string): Promise<string> => decodeUtf8(await readPackFile(pack, path));
  try {
    // Hugging Face keeps the special tokens (the pad token above all) in tokenizer_config.json.
    const options = pack.manifest.files.some((f) => f.path === TOKENIZER_CONFIG)
      ? tokenizerOptionsFromConfig(await text(TOKENIZER_CONFIG))
      : undefined;
    if ('tokenizerJson' in ref)
      return ClipTokenizer.fromTokenizerJson(await text(ref.tokenizerJson), options);
    return ClipTokenizer.fromVocabMerges(await text(ref.vocab), await text(ref.merges), options);
  } catch (err) {
    if (err instanceof AgqgError) throw err;
    throw new AgqgError(
      'pack_invalid',
      `pack "${pack.manifest.id}": the tokenizer could not be read: ${(err as Error).message}`,
    );
  }
}
