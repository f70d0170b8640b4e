// Grading orchestration: requests are decoded in chunks in the decode lane while the previous
// chunk is in the encoder; a WebGPU failure moves the loaded pack to WASM (wasm-retry.ts).
import { AgqgError } from '../model/errors.ts';
import type { ImageResult } from '../model/grading/result.ts';
import type { OpenedPack } from '../model/pack/pack.ts';
import { failedResult, PackScorer } from '../model/scoring/scorer.ts';
import { featureCache } from './calibration-api.ts';
import { decodeForGrading, planChunks, type DecodedItem } from './batch.ts';
import { gradeKeptFeatures, scoreBatchWithFeatures, type ScoredInBatch, type StageTimings } from './grade.ts';
import { wasmFallback, type OrtWebRuntime } from './ort-web.ts';
import type { Graded, GradeRequest, ProgressFn, PromptRegradeRequest } from './protocol.ts';
import type { TaskContext } from './queue.ts';
import { decodeLane, inferenceBusy, loadedScorer, queue, state } from './state.ts';
import { scoreWithWasmFallback } from './wasm-retry.ts';

/** True while the loaded pack's sessions run on WebGPU. */
function onWebGpu(): boolean {
  return state.runtime?.info.kind === 'webgpu';
}

/** Recreates the sessions of the loaded pack on WASM after WebGPU failed. */
async function fallBackToWasm(why: string, onProgress?: ProgressFn): Promise<void> {
  const prev = state.runtime as OrtWebRuntime;
  const runtime = wasmFallback(prev, why);
  await state.scorer?.release();
  state.scorer = null;
  state.runtime = runtime;
  state.scorer = await PackScorer.load(state.pack as OpenedPack, runtime, { variant: state.variant?.dtype });
  onProgress?.({ kind: 'backend', info: runtime.info, note: runtime.info.reason });
}

function gradedFrom(d: DecodedItem<GradeRequest>, scored: ScoredInBatch): Graded {
  // Kept for the calibration fits: the page drops features of packs without a text encoder.
  if (scored.features) featureCache.put(state.packKey, d.req.id, scored.features);
  return {
    id: d.req.id,
    result: scored.result,
    stages: scored.stages,
    thumbnail: d.thumbnail,
    width: d.image?.width ?? null,
    height: d.image?.height ?? null,
    features: scored.features,
    packKey: state.packKey,
  };
}

/** Grades a decoded chunk in the session queue; a WebGPU failure moves the pack to WASM and retries what it hit. */
async function inferChunk(
  chunk: DecodedItem<GradeRequest>[],
  onProgress: ProgressFn | undefined,
  ctx: TaskContext,
): Promise<Graded[]> {
  ctx.checkpoint();
  const scorer = loadedScorer('grading');
  const out = new Array<Graded>(chunk.length);
  const good: number[] = [];
  for (const [i, d] of chunk.entries()) {
    if (d.image) {
      good.push(i);
      onProgress?.({ kind: 'image', id: d.req.id, stage: 'score' });
      continue;
    }
    const result = failedResult(d.req.name, scorer.manifest.id, d.req.prompt, d.error, scorer.backend, {
      decodeMs: d.decodeMs,
      totalMs: d.decodeMs,
    });
    const stages: StageTimings = {
      decodeMs: d.decodeMs,
      thumbnailMs: null,
      preprocessMs: null,
      encoderMs: null,
      textMs: null,
      headMs: null,
      batch: 0,
    };
    out[i] = gradedFrom(d, { result, features: null, stages });
  }
  const items = (idx: number[]) =>
    idx.map((i) => {
      const d = chunk[i];
      return {
        img: d.image as NonNullable<typeof d.image>,
        file: d.req.name,
        prompt: d.req.prompt,
        decodeMs: d.decodeMs,
        thumbnailMs: d.thumbnailMs,
      };
    });
  // The retry scores with the scorer of the moment: after a move to WASM, the one made there.
  const scored = await scoreWithWasmFallback(
    good,
    (idx) => scoreBatchWithFeatures(loadedScorer('grading'), items(idx)),
    { onWebGpu, toWasm: (why) => fallBackToWasm(why, onProgress) },
  );
  good.forEach((ci, k) => (out[ci] = gradedFrom(chunk[ci], scored[k])));
  return out;
}

/**
 * Grades requests in order: chunks (bounded decoded size) are decoded in the decode lane while
 * the previous chunk is in the encoder. A cancel() rejects every chunk not yet in the encoder.
 */
export async function gradeRequests(
  reqs: readonly GradeRequest[],
  onProgress: ProgressFn | undefined,
): Promise<Graded[]> {
  const ticket = queue.ticket();
  const chunks = planChunks(reqs);
  const decode = (chunk: GradeRequest[]): Promise<DecodedItem<GradeRequest>[]> => {
    const p = decodeLane.enqueue(async () => {
      if (!queue.isCurrent(ticket)) throw new AgqgError('cancelled', 'cancelled before it started');
      for (const r of chunk) onProgress?.({ kind: 'image', id: r.id, stage: 'decode' });
      // One at a time, so each image's decode time is its own (the chunk as a whole still overlaps the encoder).
      const out: DecodedItem<GradeRequest>[] = [];
      for (const r of chunk) out.push(await decodeForGrading(r, inferenceBusy));
      return out;
    });
    // Awaited later; marked handled now so a cancel while the previous chunk runs is not reported as unhandled.
    p.catch(() => undefined);
    return p;
  };
  const out: Graded[] = [];
  let next = chunks.length > 0 ? decode(chunks[0]) : null;
  for (let i = 0; next; i++) {
    const decoded = await next;
    next = i + 1 < chunks.length ? decode(chunks[i + 1]) : null;
    out.push(
      ...(await queue.enqueue(async (ctx) => {
        inferenceBusy.start();
        try {
          return await inferChunk(decoded, onProgress, ctx);
        } finally {
          inferenceBusy.stop();
        }
      }, ticket)),
    );
  }
  return out;
}

/**
 * Grades a kept image embedding with a new prompt (in the session queue): fails (invalid_argument)
 * when another pack or other weights are loaded than the ones that made the embedding.
 */
export async function gradeKeptEmbedding(req: PromptRegradeRequest): Promise<ImageResult> {
  const scorer = loadedScorer('grading');
  if (req.packKey !== state.packKey) {
    throw new AgqgError(
      'invalid_argument',
      `${req.name} was graded with another pack or other weights than the ones loaded now; grade the image again from its file`,
    );
  }
  return gradeKeptFeatures(scorer, req.features, { file: req.name, prompt: req.prompt });
}
