// Scores decoded images with a pack: encoders and heads as the manifest
// describes them, over any RuntimeAdapter (onnxruntime-node in the CLI,
// onnxruntime-web in the worker). Input problems never throw out of
// scoreImage(): the result carries them, so one bad file never stops a batch.
import { nowMs } from '../util/clock.ts';
import { AgqgError, toErrorInfo, type ErrorInfo } from '../errors.ts';
import type { Manifest } from '../pack/manifest.ts';
import type { OpenedPack } from '../pack/pack.ts';
import type { EncoderImage } from '../image/prepared.ts';
import { qualityNoteWith } from '../image/caveat.ts';
import { gradeResultFromAbility, type GradeResult, type ImageResult } from '../grading/result.ts';
import type { TextEmbedding } from '../text/text-cache.ts';
import type { ClipTokenizer } from '../text/tokenizer.ts';
import { headAbility } from './head-ability.ts';
import type { ImageEmbedding } from './image-embedder.ts';
import {
  loadPackSessions,
  releasePackSessions,
  type LoadedHead,
  type PackSessions,
  type ScorerLoadOptions,
} from './pack-sessions.ts';
import { NOTE_NO_ALIGNMENT_HEAD, promptVerdict, truncatedNote, withNote } from './prompt-verdict.ts';
import type { RuntimeAdapter } from './runtime.ts';

// What the shells load and score with, named where they import PackScorer.
export type { ImageEmbedding } from './image-embedder.ts';
export {
  loadTokenizer,
  VARIANT_PREFERENCE,
  type LoadProgress,
  type ScorerLoadOptions,
} from './pack-sessions.ts';

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

export class PackScorer {
  private constructor(
    readonly pack: OpenedPack,
    readonly backend: string,
    private readonly sessions: PackSessions,
  ) {}

  static async load(
    pack: OpenedPack,
    runtime: RuntimeAdapter,
    opts: ScorerLoadOptions = {},
  ): Promise<PackScorer> {
    return new PackScorer(pack, runtime.backend, await loadPackSessions(pack, runtime, opts));
  }

  get manifest(): Manifest {
    return this.pack.manifest;
  }
  get tokenizer(): ClipTokenizer | null {
    return this.sessions.text?.tokenizer ?? null;
  }
  get hasText(): boolean {
    return this.sessions.text !== null;
  }
  get hasQualityHead(): boolean {
    return this.sessions.heads.quality !== null;
  }
  get hasAlignmentHead(): boolean {
    return this.sessions.heads.alignment !== null;
  }
  /** Text embeddings computed vs. served from the cache since load. */
  get textCacheStats(): { size: number; hits: number; misses: number } {
    return this.sessions.text?.cacheStats ?? { size: 0, hits: 0, misses: 0 };
  }
  /** True when the vision graph's batch axis is free, so several images can share one encoder run. */
  get canBatchImages(): boolean {
    return this.sessions.vision.canBatch;
  }

  async release(): Promise<void> {
    await releasePackSessions(this.sessions);
  }

  /** Preprocesses `img` for every vision input and returns the encoder's output row. */
  embedImage(img: EncoderImage): Promise<ImageEmbedding> {
    return this.sessions.vision.embed(img);
  }

  /**
   * Embeds several decoded images with one encoder run when the batch axis is free (else one run
   * each). Each embedding's inferenceMs is its share of the run (run time / images).
   */
  embedImages(imgs: readonly EncoderImage[]): Promise<ImageEmbedding[]> {
    return this.sessions.vision.embedMany(imgs);
  }

  /** Text embeddings in the order of `texts`; each distinct text is encoded once per loaded pack. */
  async embedTexts(texts: readonly string[]): Promise<Float32Array[]> {
    return (await this.embedTextsDetailed(texts)).map((e) => e.features);
  }

  /** As embedTexts, with token counts and truncation flags. */
  async embedTextsDetailed(texts: readonly string[]): Promise<TextEmbedding[]> {
    const text = this.sessions.text;
    if (!text) throw new AgqgError('no_text_encoder', `pack "${this.manifest.id}" has no text encoder`);
    return text.embed(texts);
  }

  /** Quality and alignment grades from image features (and the prompt, for alignment). */
  async gradeFeatures(imageFeatures: Float32Array, prompt: string | null): Promise<GradedFeatures> {
    let inferenceMs = 0;
    const m = this.manifest;
    const { text, heads } = this.sessions;
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
    const verdict = promptVerdict(prompt, text !== null);
    if (verdict.action !== 'embed') {
      res.alignmentNote = verdict.note;
      if (verdict.action === 'refuse') res.alignmentError = verdict.error;
    } else if (text) {
      const t0 = nowMs();
      [promptEmb] = await text.embed([verdict.prompt]);
      res.textMs = nowMs() - t0;
      inferenceMs += res.textMs;
      if (promptEmb.truncated) res.alignmentNote = truncatedNote(text.contextLength);
    }

    const grade = async (head: LoadedHead): Promise<GradeResult | null> => {
      const theta = await headAbility(head, imageFeatures, promptEmb?.features ?? null);
      if (theta === null) return null;
      return gradeResultFromAbility(
        theta,
        head.spec.grm,
        m.grades.labels,
        head.spec.mos ?? m.grades.mos,
        head.spec.uncalibrated,
      );
    };

    const t0 = nowMs();
    if (heads.quality) {
      res.quality = await grade(heads.quality);
      if (!res.quality)
        res.qualityNote = `the quality head needs the prompt (${res.alignmentNote ?? 'none usable'})`;
    } else {
      res.qualityNote = `pack "${m.id}" has no quality head`;
    }
    if (heads.alignment) {
      if (promptEmb) res.alignment = await grade(heads.alignment);
    } else if (text && promptEmb) {
      res.alignmentNote = withNote(res.alignmentNote, NOTE_NO_ALIGNMENT_HEAD);
    }
    res.inferenceMs = inferenceMs + (nowMs() - t0);
    return res;
  }

  /**
   * Scores several decoded images with one encoder run (see embedImages) and their distinct
   * prompts with one text run. When the batched run fails, each image is scored on its own, so
   * a failure names the images it hit and the others are still graded.
   */
  async scoreImages(items: readonly ScoreItem[]): Promise<ImageResult[]> {
    if (items.length <= 1 || !this.canBatchImages || (!this.hasQualityHead && !this.hasAlignmentHead)) {
      return this.scoreOneByOne(items);
    }
    const t0 = nowMs();
    let embs: ImageEmbedding[];
    try {
      embs = await this.embedImages(items.map((it) => it.img));
    } catch {
      return this.scoreOneByOne(items);
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

  private async scoreOneByOne(items: readonly ScoreItem[]): Promise<ImageResult[]> {
    const out: ImageResult[] = [];
    for (const it of items) out.push(await this.scoreImage(it.img, it));
    return out;
  }

  /** Encodes the usable distinct prompts in one text run, so grading them hits the cache. */
  private async warmPrompts(prompts: readonly (string | null)[]): Promise<void> {
    const text = this.sessions.text;
    if (!text) return;
    const usable = [...new Set(prompts)].flatMap((p) => {
      const verdict = promptVerdict(p, true);
      return verdict.action === 'embed' ? [verdict.prompt] : [];
    });
    // A failure here is not final: each image's own grading retries its prompt and reports it.
    if (usable.length > 0) await text.embed(usable).catch(() => undefined);
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
        qualityNote: qualityNoteWith(g, opts.img.caveat),
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
