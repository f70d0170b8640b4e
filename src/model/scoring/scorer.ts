// Scores decoded images with a pack: encoders and heads as the manifest
// describes them, over any RuntimeAdapter (onnxruntime-node in the CLI,
// onnxruntime-web in the worker). Input problems never throw out of
// scoreImage(): the result carries them, so one bad file never stops a batch.
import { nowMs } from '../util/clock.ts';
import { decodeUtf8 } from '../util/utf8.ts';
import { AgqgError, toErrorInfo, type ErrorInfo } from '../errors.ts';
import { MAX_CACHED_TEXTS, MAX_PROMPT_CHARS } from '../limits.ts';
import type { Head, Manifest, VariantDtype } from '../pack/manifest.ts';
import { pickVariant, readPackFile, type OpenedPack } from '../pack/pack.ts';
import { isPrepared, preparedInput, type EncoderImage } from '../image/prepared.ts';
import { outputSize, preprocess, preprocessInto } from '../image/preprocess.ts';
import { gradeResultFromAbility, type GradeResult, type ImageResult } from '../grading/result.ts';
import type { RuntimeAdapter, SessionRunner, TensorIn } from './runtime.ts';
import { cosine } from '../grading/similarity.ts';
import { TextEmbeddingCache, type TextEmbedding } from '../text/text-cache.ts';
import { ClipTokenizer, tokenizerOptionsFromConfig } from '../text/tokenizer.ts';

/** RGB planes of an encoder's image input. */
const CHANNELS = 3;

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

export interface ImageEmbedding {
  features: Float32Array;
  preprocessMs: number;
  inferenceMs: number;
}

/** One decoded image to score, with its file name, prompt and decode time. */
export interface ScoreItem {
  img: EncoderImage;
  file: string;
  prompt: string | null;
  decodeMs?: number;
}

export interface GradedFeatures {
  quality: GradeResult | null;
  alignment: GradeResult | null;
  /** Why alignment is null or what to know about it (truncated prompt, ...). */
  alignmentNote: string | null;
  /** Why quality is null (the pack has no quality head). */
  qualityNote: string | null;
  /** Set when the prompt itself was refused (prompt_too_long); quality is still graded. */
  alignmentError: ErrorInfo | null;
  /** Time in the text encoder and ONNX heads. */
  inferenceMs: number;
  /** The text encoder's part of inferenceMs (0 when the prompt's embedding was cached). */
  textMs: number;
}

export const NOTE_EMPTY_PROMPT = 'prompt is empty: alignment needs the prompt that made the image';
export const NOTE_NO_PROMPT = 'no prompt given: alignment needs the prompt that made the image';
export const NOTE_NO_TEXT_ENCODER = 'this pack has no text encoder; alignment needs a CLIP pack';
export const NOTE_NO_ALIGNMENT_HEAD = 'this pack has no alignment head';

interface LoadedHead {
  kind: 'quality' | 'alignment';
  spec: Head;
  session: SessionRunner | null;
  /** Zero-shot quality anchors: [positive, negative] embeddings per antonym pair. */
  anchors: [Float32Array, Float32Array][];
}

function featureTensor(features: Float32Array): TensorIn {
  return { dtype: 'float32', data: features, dims: [1, features.length] };
}

/** Characters as people count them (an emoji is one, not two UTF-16 units). */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Softmax of two logits, first component: the probability CLIP-IQA reads as quality. */
function softmaxFirst(x0: number, x1: number): number {
  const m = Math.max(x0, x1);
  const e0 = Math.exp(x0 - m);
  const e1 = Math.exp(x1 - m);
  return e0 / (e0 + e1);
}

export class PackScorer {
  private readonly textCache = new TextEmbeddingCache(MAX_CACHED_TEXTS);
  /** Batch tensors by vision input, kept between runs (takeBatchBuffer); absent while a run holds one. */
  private readonly batchBuffers = new Map<number, Float32Array>();

  private constructor(
    readonly pack: OpenedPack,
    readonly backend: string,
    private readonly vision: SessionRunner,
    private readonly text: SessionRunner | null,
    readonly tokenizer: ClipTokenizer | null,
    private readonly heads: { quality: LoadedHead | null; alignment: LoadedHead | null },
  ) {}

  get manifest(): Manifest {
    return this.pack.manifest;
  }
  get hasText(): boolean {
    return this.text !== null;
  }
  get hasQualityHead(): boolean {
    return this.heads.quality !== null;
  }
  get hasAlignmentHead(): boolean {
    return this.heads.alignment !== null;
  }
  /** Text embeddings computed vs. served from the cache since load. */
  get textCacheStats(): { size: number; hits: number; misses: number } {
    return { size: this.textCache.size, hits: this.textCache.hits, misses: this.textCache.misses };
  }

  static async load(
    pack: OpenedPack,
    runtime: RuntimeAdapter,
    opts: ScorerLoadOptions = {},
  ): Promise<PackScorer> {
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
    try {
      const visionVariant = pickVariant(m.vision.variants, opts.variant, VARIANT_PREFERENCE);
      progress({ stage: 'vision', loaded: 0, total: 1 });
      const vision = await runtime.createSession(
        await readPackFile(pack, visionVariant.file),
        visionVariant.file,
      );
      sessions.push(vision);
      progress({ stage: 'vision', loaded: 1, total: 1 });

      let text: SessionRunner | null = null;
      let tokenizer: ClipTokenizer | null = null;
      if (m.text) {
        progress({ stage: 'tokenizer' });
        tokenizer = await loadTokenizer(pack);
        // A variant asked for but missing in the text encoder falls back: the flag names the vision weights first.
        const textVariant =
          m.text.variants.find((v) => v.dtype === opts.variant) ??
          pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE);
        progress({ stage: 'text', loaded: 0, total: 1 });
        text = await runtime.createSession(await readPackFile(pack, textVariant.file), textVariant.file);
        sessions.push(text);
        progress({ stage: 'text', loaded: 1, total: 1 });
      }

      const loadHead = async (kind: 'quality' | 'alignment'): Promise<LoadedHead | null> => {
        const spec = m.heads[kind];
        if (!spec) return null;
        let session: SessionRunner | null = null;
        if (spec.type === 'onnx') {
          session = await runtime.createSession(await readPackFile(pack, spec.file), spec.file);
          sessions.push(session);
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
      };
      progress({ stage: 'heads' });
      const heads = { quality: await loadHead('quality'), alignment: await loadHead('alignment') };
      const scorer = new PackScorer(pack, runtime.backend, vision, text, tokenizer, heads);

      for (const head of [heads.quality, heads.alignment]) {
        if (head?.spec.type !== 'zero-shot-quality') continue;
        progress({ stage: 'anchors' });
        const texts = head.spec.pairs.flat();
        const emb = await scorer.embedTexts(texts);
        head.anchors = head.spec.pairs.map((_, i) => [emb[2 * i], emb[2 * i + 1]]);
      }
      progress({ stage: 'ready' });
      return scorer;
    } catch (err) {
      await Promise.allSettled(sessions.map((s) => s.release()));
      throw err;
    }
  }

  async release(): Promise<void> {
    const all = [this.vision, this.text, this.heads.quality?.session, this.heads.alignment?.session];
    await Promise.allSettled(all.filter((s): s is SessionRunner => !!s).map((s) => s.release()));
  }

  /** Preprocesses `img` for every vision input and returns the encoder's output row. */
  async embedImage(img: EncoderImage): Promise<ImageEmbedding> {
    const m = this.manifest;
    const t0 = nowMs();
    const feeds: Record<string, TensorIn> = {};
    for (const [k, input] of m.vision.inputs.entries()) {
      if (isPrepared(img)) {
        const { width, height } = outputSize(img, input.preprocess);
        feeds[input.name] = {
          dtype: 'float32',
          data: preparedInput(img, k, input.preprocess),
          dims: [1, CHANNELS, height, width],
        };
      } else {
        const { data, dims } = preprocess(img, input.preprocess);
        feeds[input.name] = { dtype: 'float32', data, dims: [...dims] };
      }
    }
    const t1 = nowMs();
    const out = await this.vision.run(feeds, [m.vision.output.name]);
    const t2 = nowMs();
    const y = out[m.vision.output.name];
    if (!y) throw new AgqgError('backend_failed', `vision encoder gave no output "${m.vision.output.name}"`);
    const preparedMs = isPrepared(img) ? img.preprocessMs : 0;
    return {
      features: y.data.slice(0, lastDim(y.dims, y.data.length)),
      preprocessMs: preparedMs + t1 - t0,
      inferenceMs: t2 - t1,
    };
  }

  /** True when the vision graph's batch axis is free, so several images can share one encoder run. */
  get canBatchImages(): boolean {
    return this.manifest.vision.inputs.every((input) => typeof input.shape[0] === 'string');
  }

  /**
   * Embeds several decoded images with one encoder run when the batch axis is free (else one run
   * each). Each embedding's inferenceMs is its share of the run (run time / images).
   */
  async embedImages(imgs: readonly EncoderImage[]): Promise<ImageEmbedding[]> {
    if (imgs.length <= 1 || !this.canBatchImages) {
      const out: ImageEmbedding[] = [];
      for (const img of imgs) out.push(await this.embedImage(img));
      return out;
    }
    const m = this.manifest;
    const n = imgs.length;
    const sizes = m.vision.inputs.map((input) => imgs.map((img) => outputSize(img, input.preprocess)));
    // Configs that keep the aspect ratio (no crop) give each image its own shape: no shared tensor.
    if (sizes.some((s) => s.some((z) => z.width !== s[0].width || z.height !== s[0].height))) {
      const out: ImageEmbedding[] = [];
      for (const img of imgs) out.push(await this.embedImage(img));
      return out;
    }
    const preprocessMs = imgs.map((img) => (isPrepared(img) ? img.preprocessMs : 0));
    const feeds: Record<string, TensorIn> = {};
    const taken: [number, Float32Array][] = [];
    for (const [k, input] of m.vision.inputs.entries()) {
      const { width, height } = sizes[k][0];
      const row = CHANNELS * width * height;
      const batch = this.takeBatchBuffer(k, n * row);
      taken.push([k, batch]);
      for (let i = 0; i < n; i++) {
        const t0 = nowMs();
        const img = imgs[i];
        if (isPrepared(img)) batch.set(preparedInput(img, k, input.preprocess), i * row);
        else preprocessInto(img, input.preprocess, batch, i * row);
        preprocessMs[i] += nowMs() - t0;
      }
      feeds[input.name] = { dtype: 'float32', data: batch, dims: [n, CHANNELS, height, width] };
    }
    const t1 = nowMs();
    let out: Awaited<ReturnType<SessionRunner['run']>>;
    try {
      out = await this.vision.run(feeds, [m.vision.output.name]);
    } finally {
      for (const [k, batch] of taken) this.batchBuffers.set(k, batch);
    }
    const inferenceMs = (nowMs() - t1) / n;
    const y = out[m.vision.output.name];
    if (!y) throw new AgqgError('backend_failed', `vision encoder gave no output "${m.vision.output.name}"`);
    if (y.dims[0] !== n)
      throw new AgqgError(
        'backend_failed',
        `vision encoder gave ${y.dims[0]} rows for a batch of ${n} images`,
      );
    const width = lastDim(y.dims, y.data.length / n);
    return imgs.map((_, i) => ({
      features: y.data.slice(i * width, (i + 1) * width),
      preprocessMs: preprocessMs[i],
      inferenceMs,
    }));
  }

  /**
   * A batch tensor for vision input `k`: the one kept from the last run when it is free and big
   * enough (a view of its start), else a new one. Every element is written before the run. A
   * fresh 19 MB array per run of 32 CLIP images cost ~1 ms per image in page faults and zeroing,
   * on the thread that runs the encoder.
   */
  private takeBatchBuffer(k: number, floats: number): Float32Array {
    const kept = this.batchBuffers.get(k);
    this.batchBuffers.delete(k);
    if (kept && kept.buffer.byteLength >= floats * Float32Array.BYTES_PER_ELEMENT)
      return new Float32Array(kept.buffer, 0, floats);
    return new Float32Array(floats);
  }

  /** Text embeddings in the order of `texts`; each distinct text is encoded once per loaded pack. */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.embedTextsDetailed(texts)).map((e) => e.features);
  }

  /** As embedTexts, with token counts and truncation flags. */
  async embedTextsDetailed(texts: readonly string[]): Promise<TextEmbedding[]> {
    const { text: session, tokenizer } = this;
    const spec = this.manifest.text;
    if (!session || !tokenizer || !spec) {
      throw new AgqgError('no_text_encoder', `pack "${this.manifest.id}" has no text encoder`);
    }
    const found = new Map<string, TextEmbedding>();
    const todo: string[] = [];
    for (const t of texts) {
      if (found.has(t) || todo.includes(t)) continue;
      const hit = this.textCache.get(t);
      if (hit) found.set(t, hit);
      else todo.push(t);
    }
    if (todo.length > 0) {
      const batch = tokenizer.encodeBatch(todo, spec.contextLength);
      const feeds: Record<string, TensorIn> = {
        [spec.inputIds]: { dtype: 'int64', data: batch.inputIds, dims: [...batch.dims] },
      };
      // Some exports take no attention mask (CLIP pools at the end-of-text token, which the mask does not move).
      if (spec.attentionMask && session.inputNames.includes(spec.attentionMask)) {
        feeds[spec.attentionMask] = { dtype: 'int64', data: batch.attentionMask, dims: [...batch.dims] };
      }
      const out = await session.run(feeds, [spec.output.name]);
      const y = out[spec.output.name];
      if (!y) throw new AgqgError('backend_failed', `text encoder gave no output "${spec.output.name}"`);
      const width = lastDim(y.dims, y.data.length / todo.length);
      todo.forEach((t, i) => {
        const item = batch.items[i];
        const e: TextEmbedding = {
          features: y.data.slice(i * width, (i + 1) * width),
          tokens: item.length,
          truncated: item.truncated,
        };
        this.textCache.set(t, e);
        found.set(t, e);
      });
    }
    return texts.map((t) => found.get(t) as TextEmbedding);
  }

  /** Quality and alignment grades from image features (and the prompt, for alignment). */
  async gradeFeatures(imageFeatures: Float32Array, prompt: string | null): Promise<GradedFeatures> {
    let inferenceMs = 0;
    const m = this.manifest;
    const res: GradedFeatures = {
      quality: null,
      alignment: null,
      alignmentNote: null,
      qualityNote: null,
      alignmentError: null,
      inferenceMs: 0,
      textMs: 0,
    };

    // The prompt's embedding, when there is a usable one, shared by both heads.
    let promptEmb: TextEmbedding | null = null;
    const trimmed = prompt?.trim() ?? '';
    if (!this.hasText) {
      if (prompt !== null) res.alignmentNote = NOTE_NO_TEXT_ENCODER;
    } else if (prompt === null) {
      res.alignmentNote = NOTE_NO_PROMPT;
    } else if (trimmed === '') {
      res.alignmentNote = NOTE_EMPTY_PROMPT;
    } else if (prompt.length > MAX_PROMPT_CHARS && codePoints(prompt) > MAX_PROMPT_CHARS) {
      res.alignmentError = {
        code: 'prompt_too_long',
        message: `prompt has ${codePoints(prompt)} characters, over the limit of ${MAX_PROMPT_CHARS}`,
      };
      res.alignmentNote = `${res.alignmentError.message}; alignment not graded (quality does not use the prompt)`;
    } else {
      const t0 = nowMs();
      [promptEmb] = await this.embedTextsDetailed([prompt]);
      res.textMs = nowMs() - t0;
      inferenceMs += res.textMs;
      if (promptEmb.truncated) {
        const ctx = m.text?.contextLength;
        res.alignmentNote = `prompt is longer than the text encoder's ${ctx} tokens: truncated to the first ${ctx} as CLIP does`;
      }
    }

    const grade = async (head: LoadedHead): Promise<GradeResult | null> => {
      const theta = await this.ability(head, imageFeatures, promptEmb?.features ?? null);
      if (theta === null) return null;
      return gradeResultFromAbility(
        theta,
        head.spec.grm,
        m.grades.labels,
        m.grades.mos,
        head.spec.uncalibrated,
      );
    };

    const t0 = nowMs();
    if (this.heads.quality) {
      res.quality = await grade(this.heads.quality);
      if (!res.quality)
        res.qualityNote = `the quality head needs the prompt (${res.alignmentNote ?? 'none usable'})`;
    } else {
      res.qualityNote = `pack "${m.id}" has no quality head`;
    }
    if (this.heads.alignment) {
      if (promptEmb) res.alignment = await grade(this.heads.alignment);
    } else if (this.hasText && promptEmb) {
      res.alignmentNote = res.alignmentNote
        ? `${res.alignmentNote}; ${NOTE_NO_ALIGNMENT_HEAD}`
        : NOTE_NO_ALIGNMENT_HEAD;
    }
    res.inferenceMs = inferenceMs + (nowMs() - t0);
    return res;
  }

  /** Ability theta from one head; null when the head needs a prompt embedding that is not there. */
  private async ability(
    head: LoadedHead,
    image: Float32Array,
    prompt: Float32Array | null,
  ): Promise<number | null> {
    const spec = head.spec;
    switch (spec.type) {
      case 'zero-shot-quality': {
        let q = 0;
        for (const [pos, neg] of head.anchors) {
          q += softmaxFirst(spec.logitScale * cosine(image, pos), spec.logitScale * cosine(image, neg));
        }
        q /= head.anchors.length;
        return spec.scale * (q - spec.center);
      }
      case 'zero-shot-alignment':
        return prompt ? spec.scale * (cosine(image, prompt) - spec.center) : null;
      case 'onnx': {
        const session = head.session as SessionRunner;
        const feeds: Record<string, TensorIn> = {};
        for (const [name, source] of Object.entries(spec.inputs)) {
          if (source === 'text_features') {
            if (!prompt) return null;
            feeds[name] = featureTensor(prompt);
          } else feeds[name] = featureTensor(image);
        }
        const out = await session.run(feeds, [spec.outputs.ability]);
        const theta = out[spec.outputs.ability]?.data[0];
        if (theta === undefined || !Number.isFinite(theta)) {
          throw new AgqgError('backend_failed', `heads.${head.kind} (${spec.file}) gave no finite ability`);
        }
        return theta;
      }
    }
  }

  /**
   * Scores several decoded images with one encoder run (see embedImages) and their distinct
   * prompts with one text run. When the batched run fails, each image is scored on its own, so
   * a failure names the images it hit and the others are still graded.
   */
  async scoreImages(items: readonly ScoreItem[]): Promise<ImageResult[]> {
    if (items.length <= 1 || !this.canBatchImages || (!this.hasQualityHead && !this.hasAlignmentHead)) {
      const out: ImageResult[] = [];
      for (const it of items) out.push(await this.scoreImage(it.img, it));
      return out;
    }
    const t0 = nowMs();
    let embs: ImageEmbedding[];
    try {
      embs = await this.embedImages(items.map((it) => it.img));
    } catch {
      const out: ImageResult[] = [];
      for (const it of items) out.push(await this.scoreImage(it.img, it));
      return out;
    }
    const batchMs = nowMs() - t0;
    await this.warmPrompts(items.map((it) => it.prompt));
    const out: ImageResult[] = [];
    for (const [i, it] of items.entries()) {
      const t1 = nowMs();
      // The batch's preprocessing and encoder run are shared out evenly; grading is this image's own.
      out.push(await this.resultFromEmbedding(embs[i], it, t1 - batchMs / items.length));
    }
    return out;
  }

  /** Encodes the usable distinct prompts in one text run, so grading them hits the cache. */
  private async warmPrompts(prompts: readonly (string | null)[]): Promise<void> {
    if (!this.hasText) return;
    const usable = [...new Set(prompts)].filter(
      (p): p is string =>
        p !== null && p.trim() !== '' && !(p.length > MAX_PROMPT_CHARS && codePoints(p) > MAX_PROMPT_CHARS),
    );
    // A failure here is not final: each image's own grading retries its prompt and reports it.
    if (usable.length > 0) await this.embedTextsDetailed(usable).catch(() => undefined);
  }

  private async resultFromEmbedding(
    emb: ImageEmbedding,
    opts: ScoreItem,
    startedAt: number,
  ): Promise<ImageResult> {
    const decodeMs = opts.decodeMs;
    try {
      const g = await this.gradeFeatures(emb.features, opts.prompt);
      return {
        file: opts.file,
        packId: this.manifest.id,
        prompt: opts.prompt,
        quality: g.quality,
        alignment: g.alignment,
        qualityNote: g.quality ? null : g.qualityNote,
        alignmentNote: g.alignmentNote,
        alignmentError: g.alignmentError,
        timings: {
          ...(decodeMs === undefined ? {} : { decodeMs }),
          preprocessMs: emb.preprocessMs,
          inferenceMs: emb.inferenceMs + g.inferenceMs,
          encoderMs: emb.inferenceMs,
          textMs: g.textMs,
          headMs: g.inferenceMs - g.textMs,
          totalMs: (decodeMs ?? 0) + (nowMs() - startedAt),
        },
        backend: this.backend,
        error: null,
      };
    } catch (err) {
      return failedResult(opts.file, this.manifest.id, opts.prompt, err, this.backend, {
        decodeMs,
        totalMs: (decodeMs ?? 0) + (nowMs() - startedAt),
      });
    }
  }

  /** Embeds and grades one decoded image; failures come back in `error`, never thrown. */
  async scoreImage(
    img: EncoderImage,
    opts: { file: string; prompt: string | null; decodeMs?: number },
  ): Promise<ImageResult> {
    const t0 = nowMs();
    const decodeMs = opts.decodeMs;
    try {
      if (!this.hasQualityHead && !this.hasAlignmentHead) {
        throw new AgqgError(
          'no_head',
          `pack ${this.manifest.id} has no quality head (and no alignment head): nothing to grade with`,
        );
      }
      const emb = await this.embedImage(img);
      return await this.resultFromEmbedding(emb, { img, ...opts }, t0);
    } catch (err) {
      return failedResult(opts.file, this.manifest.id, opts.prompt, err, this.backend, {
        decodeMs,
        totalMs: (decodeMs ?? 0) + (nowMs() - t0),
      });
    }
  }
}

/** The result for an image that could not be scored (bad file, decode error, backend failure). */
export function failedResult(
  file: string,
  packId: string,
  prompt: string | null,
  err: unknown,
  backend: string | null,
  timings: ImageResult['timings'] = {},
): ImageResult {
  const t = Object.fromEntries(Object.entries(timings).filter(([, v]) => v !== undefined));
  return {
    file,
    packId,
    prompt,
    quality: null,
    alignment: null,
    qualityNote: null,
    alignmentNote: null,
    alignmentError: null,
    timings: t,
    backend,
    error: toErrorInfo(err),
  };
}

/** Width of the last axis, checked against the element count the caller expects per row. */
function lastDim(dims: readonly number[], expected: number): number {
  const w = dims[dims.length - 1];
  if (!Number.isInteger(w) || w <= 0 || (Number.isInteger(expected) && w !== expected)) {
    throw new AgqgError(
      'backend_failed',
      `encoder output has shape [${dims.join(', ')}], expected rows of ${expected}`,
    );
  }
  return w;
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
