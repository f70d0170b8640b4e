// Grading in the worker with the image embedding kept: the page holds on to it
// so a new prompt is graded from the embedding (text encoder and heads only),
// not from the image again. Same result shape and rules as PackScorer.scoreImage.
import { nowMs } from '../model/util/clock.ts';
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { MAX_PROMPT_CHARS } from '../model/limits.ts';
import type { ImageResult } from '../model/grading/result.ts';
import { qualityNoteWith } from '../model/image/caveat.ts';
import {
  failedResult,
  type GradedFeatures,
  type ImageEmbedding,
  type PackScorer,
} from '../model/scoring/scorer.ts';

export interface ScoredWithFeatures {
  result: ImageResult;
  /** Null when the image could not be embedded. */
  features: Float32Array | null;
}

function checkHeads(scorer: PackScorer): void {
  if (!scorer.hasQualityHead && !scorer.hasAlignmentHead) {
    throw new AgqgError(
      'no_head',
      `pack ${scorer.manifest.id} has no quality head (and no alignment head): nothing to grade with`,
    );
  }
}

function graded(
  scorer: PackScorer,
  file: string,
  prompt: string | null,
  g: GradedFeatures,
  timings: ImageResult['timings'],
  caveat: string | null = null,
): ImageResult {
  return {
    file,
    packId: scorer.manifest.id,
    prompt,
    quality: g.quality,
    alignment: g.alignment,
    qualityNote: qualityNoteWith(g, caveat),
    alignmentNote: g.alignmentNote,
    alignmentError: g.alignmentError,
    timings,
    backend: scorer.backend,
    error: null,
  };
}

/** Embeds and grades one decoded image; failures come back in `result.error`, never thrown. */
export async function scoreWithFeatures(
  scorer: PackScorer,
  img: RgbaImage,
  opts: { file: string; prompt: string | null; decodeMs?: number },
): Promise<ScoredWithFeatures> {
  const t0 = nowMs();
  const decodeMs = opts.decodeMs ?? 0;
  try {
    checkHeads(scorer);
    const emb = await scorer.embedImage(img);
    const g = await scorer.gradeFeatures(emb.features, opts.prompt);
    const timings = {
      ...(opts.decodeMs === undefined ? {} : { decodeMs: opts.decodeMs }),
      preprocessMs: emb.preprocessMs,
      inferenceMs: emb.inferenceMs + g.inferenceMs,
      encoderMs: emb.inferenceMs,
      textMs: g.textMs,
      headMs: g.inferenceMs - g.textMs,
      totalMs: decodeMs + (nowMs() - t0),
    };
    return {
      result: graded(scorer, opts.file, opts.prompt, g, timings, img.caveat ?? null),
      features: keptFeatures(scorer, emb.features),
    };
  } catch (err) {
    const timings = { decodeMs: opts.decodeMs, totalMs: decodeMs + (nowMs() - t0) };
    return {
      result: failedResult(opts.file, scorer.manifest.id, opts.prompt, err, scorer.backend, timings),
      features: null,
    };
  }
}

/** Grades a kept image embedding against a (new) prompt; failures come back in `error`. */
export async function gradeKeptFeatures(
  scorer: PackScorer,
  features: Float32Array,
  opts: { file: string; prompt: string | null },
): Promise<ImageResult> {
  const t0 = nowMs();
  try {
    checkHeads(scorer);
    const width = scorer.manifest.vision.output.shape.at(-1);
    if (typeof width === 'number' && features.length !== width) {
      throw new AgqgError(
        'invalid_argument',
        `the kept image embedding has ${features.length} values; this pack's encoder gives ${width}`,
      );
    }
    const g = await scorer.gradeFeatures(features, opts.prompt);
    return graded(scorer, opts.file, opts.prompt, g, { inferenceMs: g.inferenceMs, totalMs: nowMs() - t0 });
  } catch (err) {
    return failedResult(opts.file, scorer.manifest.id, opts.prompt, err, scorer.backend, {
      totalMs: nowMs() - t0,
    });
  }
}

/** Where one image's time went in the worker, for the page's developer stats and the benchmark. */
export interface StageTimings {
  /** Header check and browser decode to RGBA. */
  decodeMs: number | null;
  /** The card's JPEG thumbnail. */
  thumbnailMs: number | null;
  preprocessMs: number | null;
  /** This image's share of its encoder run. */
  encoderMs: number | null;
  /** This image's share of the text encoder run for the batch's new prompts (0 when cached or no prompt). */
  textMs: number | null;
  /** Grading from the embeddings: heads (and a cached prompt lookup). */
  headMs: number | null;
  /** Images that shared the encoder run. */
  batch: number;
}

export interface BatchItem {
  img: RgbaImage;
  file: string;
  prompt: string | null;
  decodeMs: number;
  thumbnailMs: number;
}

export interface ScoredInBatch extends ScoredWithFeatures {
  stages: StageTimings;
}

/** Code points, as people count characters (the scorer's prompt limit counts them). */
function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A prompt the text encoder will be asked for (the scorer's rules: not empty, not over the limit). */
function encodable(prompt: string | null): prompt is string {
  return (
    prompt !== null &&
    prompt.trim() !== '' &&
    !(prompt.length > MAX_PROMPT_CHARS && codePoints(prompt) > MAX_PROMPT_CHARS)
  );
}

function emptyStages(it: BatchItem, batch: number): StageTimings {
  return {
    decodeMs: it.decodeMs,
    thumbnailMs: it.thumbnailMs,
    preprocessMs: null,
    encoderMs: null,
    textMs: null,
    headMs: null,
    batch,
  };
}

/**
 * Embeds and grades decoded images with one encoder run (when the batch axis is free) and one
 * text run for their new prompts. Failures come back per image, never thrown: when the batched
 * encoder run fails, each image runs on its own, so the error names the image it belongs to.
 */
export async function scoreBatchWithFeatures(
  scorer: PackScorer,
  items: readonly BatchItem[],
): Promise<ScoredInBatch[]> {
  const failed = (it: BatchItem, err: unknown, stages: StageTimings): ScoredInBatch => ({
    result: failedResult(it.file, scorer.manifest.id, it.prompt, err, scorer.backend, {
      decodeMs: it.decodeMs,
      totalMs: it.decodeMs + it.thumbnailMs + (stages.preprocessMs ?? 0) + (stages.encoderMs ?? 0),
    }),
    features: null,
    stages,
  });
  if (items.length === 0) return [];
  try {
    checkHeads(scorer);
  } catch (err) {
    return items.map((it) => failed(it, err, emptyStages(it, 1)));
  }
  let embs: ImageEmbedding[];
  try {
    embs = await scorer.embedImages(items.map((it) => it.img));
  } catch (err) {
    if (items.length === 1) return [failed(items[0], err, emptyStages(items[0], 1))];
    const out: ScoredInBatch[] = [];
    for (const it of items) out.push(...(await scoreBatchWithFeatures(scorer, [it])));
    return out;
  }
  const batch = scorer.canBatchImages ? items.length : 1;

  // New prompts in one text run; grading then finds them in the scorer's text cache.
  const prompted = items.filter((it) => encodable(it.prompt));
  let textShare = 0;
  if (scorer.hasText && prompted.length > 0) {
    const t0 = nowMs();
    // A failure here is not final: each image's own grading retries its prompt and reports it.
    await scorer
      .embedTextsDetailed([...new Set(prompted.map((it) => it.prompt as string))])
      .catch(() => undefined);
    textShare = (nowMs() - t0) / prompted.length;
  }

  const out: ScoredInBatch[] = [];
  for (const [i, it] of items.entries()) {
    const emb = embs[i];
    const stages: StageTimings = {
      decodeMs: it.decodeMs,
      thumbnailMs: it.thumbnailMs,
      preprocessMs: emb.preprocessMs,
      encoderMs: emb.inferenceMs,
      textMs: encodable(it.prompt) && scorer.hasText ? textShare : 0,
      headMs: null,
      batch,
    };
    const t1 = nowMs();
    try {
      const g = await scorer.gradeFeatures(emb.features, it.prompt);
      stages.headMs = nowMs() - t1;
      const inferenceMs = emb.inferenceMs + (stages.textMs ?? 0) + stages.headMs;
      const timings = {
        decodeMs: it.decodeMs,
        preprocessMs: emb.preprocessMs,
        inferenceMs,
        encoderMs: emb.inferenceMs,
        textMs: stages.textMs ?? 0,
        headMs: stages.headMs,
        totalMs: it.decodeMs + it.thumbnailMs + emb.preprocessMs + inferenceMs,
      };
      out.push({
        result: graded(scorer, it.file, it.prompt, g, timings, it.img.caveat ?? null),
        features: keptFeatures(scorer, emb.features),
        stages,
      });
    } catch (err) {
      out.push(failed(it, err, stages));
    }
  }
  return out;
}

/**
 * The image embedding kept for re-grading with another prompt: only a pack with a text encoder
 * can use it (the default pack's would be 111 kB per image, copied to the page for nothing).
 */
function keptFeatures(scorer: PackScorer, features: Float32Array): Float32Array | null {
  return scorer.hasText ? features : null;
}
