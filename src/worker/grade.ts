// Grading in the worker with the image embedding kept: the page holds on to it
// so a new prompt is graded from the embedding (text encoder and heads only),
// not from the image again. Same result shape and rules as PackScorer.scoreImage.
import { nowMs } from '../model/clock';
import { AgqgError } from '../model/errors';
import type { RgbaImage } from '../model/image';
import type { ImageResult } from '../model/result';
import { failedResult, type GradedFeatures, type PackScorer } from '../model/scorer';

export interface ScoredWithFeatures {
  result: ImageResult;
  /** Null when the image could not be embedded. */
  features: Float32Array | null;
}

function checkHeads(scorer: PackScorer): void {
  if (!scorer.hasQualityHead && !scorer.hasAlignmentHead) {
    throw new AgqgError('no_head', `pack ${scorer.manifest.id} has no quality head (and no alignment head): nothing to grade with`);
  }
}

function graded(
  scorer: PackScorer,
  file: string,
  prompt: string | null,
  g: GradedFeatures,
  timings: ImageResult['timings'],
): ImageResult {
  return {
    file,
    packId: scorer.manifest.id,
    prompt,
    quality: g.quality,
    alignment: g.alignment,
    qualityNote: g.quality ? null : g.qualityNote,
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
      totalMs: decodeMs + (nowMs() - t0),
    };
    return { result: graded(scorer, opts.file, opts.prompt, g, timings), features: emb.features };
  } catch (err) {
    const timings = { decodeMs: opts.decodeMs, totalMs: decodeMs + (nowMs() - t0) };
    return { result: failedResult(opts.file, scorer.manifest.id, opts.prompt, err, scorer.backend, timings), features: null };
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
      throw new AgqgError('invalid_argument', `the kept image embedding has ${features.length} values; this pack's encoder gives ${width}`);
    }
    const g = await scorer.gradeFeatures(features, opts.prompt);
    return graded(scorer, opts.file, opts.prompt, g, { inferenceMs: g.inferenceMs, totalMs: nowMs() - t0 });
  } catch (err) {
    return failedResult(opts.file, scorer.manifest.id, opts.prompt, err, scorer.backend, { totalMs: nowMs() - t0 });
  }
}
