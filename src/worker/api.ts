// The worker's API, exposed with Comlink (scorer.worker.ts). The page gets its
// type from here (`ScorerApi = typeof api`), so the two cannot drift apart.
import { AgqgError, toErrorInfo } from '../model/errors.ts';
import { MAX_PROMPT_CHARS } from '../model/limits.ts';
import { readPackFile, type OpenedPack } from '../model/pack/pack.ts';
import { preprocess } from '../model/image/preprocess.ts';
import type { ImageResult } from '../model/grading/result.ts';
import { failedResult, PackScorer } from '../model/scoring/scorer.ts';
import { decodeForGrading, planChunks, type DecodedItem } from './batch.ts';
import { decodeImage } from './decode.ts';
import { benchEncoder, type EncoderBenchRequest, type EncoderBenchResult } from './encoder-bench.ts';
import { destroyOrtWebGpuDevice } from './gpu-fault.ts';
import { gradeKeptFeatures, scoreBatchWithFeatures, type ScoredInBatch, type StageTimings } from './grade.ts';
import { wasmFallback, type BackendChoice, type BackendInfo, type OrtWebRuntime } from './ort-web.ts';
import { listServedPacks, loadPackNow } from './packs.ts';
import {
  outcome,
  type Embeddings,
  type EmbedRequest,
  type Graded,
  type GradeRequest,
  type ImageEmbeddingOut,
  type LoadOptions,
  type Outcome,
  type PackListing,
  type PackRequest,
  type PackSummary,
  type ProgressFn,
  type PromptRegradeRequest,
  type VariantInUse,
} from './protocol.ts';
import type { TaskContext } from './queue.ts';
import { runContextState, type RunContextState } from './run-context.ts';
import { decodeLane, inferenceBusy, loadedScorer, queue, state } from './state.ts';

// The page imports the wire types from here, beside ScorerApi.
export type * from './protocol.ts';

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
  const scored = await scoreBatchWithFeatures(scorer, items(good));
  good.forEach((ci, k) => (out[ci] = gradedFrom(chunk[ci], scored[k])));
  const hit = good.filter((ci) => out[ci].result.error?.code === 'backend_failed');
  if (hit.length > 0 && state.runtime?.info.kind === 'webgpu') {
    await fallBackToWasm(out[hit[0]].result.error?.message ?? 'inference failed', onProgress);
    const again = await scoreBatchWithFeatures(state.scorer as PackScorer, items(hit));
    hit.forEach((ci, k) => (out[ci] = gradedFrom(chunk[ci], again[k])));
  }
  return out;
}

/**
 * Grades requests in order: chunks (bounded decoded size) are decoded in the decode lane while
 * the previous chunk is in the encoder. A cancel() rejects every chunk not yet in the encoder.
 */
async function gradeRequests(
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

export const api = {
  /** Packs served with the site, from models/index.json (empty when there is none). */
  async listPacks(): Promise<Outcome<PackListing[]>> {
    return outcome(listServedPacks);
  },

  /** Opens and loads a pack; replaces the loaded one. `backend` is the ?backend= choice. */
  async loadPack(
    req: PackRequest,
    backend: BackendChoice,
    onProgress?: ProgressFn,
    opts: LoadOptions = {},
  ): Promise<Outcome<PackSummary>> {
    return outcome(() => queue.enqueue(() => loadPackNow(req, backend, onProgress, opts)));
  },

  /** Grades one image. Bad files come back as results with `error`; only cancellation and a missing pack fail. */
  async gradeImage(req: GradeRequest, onProgress?: ProgressFn): Promise<Outcome<Graded>> {
    return outcome(async () => (await gradeRequests([req], onProgress))[0]);
  },

  /**
   * Grades several images with shared encoder runs (one per chunk), in order; the next call's
   * images decode while this one's are in the encoder. Bad files come back as results with
   * `error` and the others are graded; only cancellation and a missing pack fail the call.
   */
  async gradeBatch(reqs: GradeRequest[], onProgress?: ProgressFn): Promise<Outcome<Graded[]>> {
    return outcome(() => gradeRequests(reqs, onProgress));
  },

  /**
   * Grades a kept image embedding with a new prompt: the image is not decoded or encoded again, and
   * the text cache makes a prompt seen before free. Fails (invalid_argument) when another pack or
   * other weights are loaded than the ones that made the embedding.
   */
  async gradePrompt(req: PromptRegradeRequest): Promise<Outcome<ImageResult>> {
    return outcome(() =>
      queue.enqueue(async () => {
        const scorer = loadedScorer('grading');
        if (req.packKey !== state.packKey) {
          throw new AgqgError(
            'invalid_argument',
            `${req.name} was graded with another pack or other weights than the ones loaded now; grade the image again from its file`,
          );
        }
        return gradeKeptFeatures(scorer, req.features, { file: req.name, prompt: req.prompt });
      }),
    );
  },

  /**
   * Raw encoder outputs of the loaded pack, for developers and tests: image embeddings (optionally
   * with the preprocessed model input) and text embeddings. No heads, no prompt rules: an empty
   * text is encoded as CLIP encodes it. The page exposes this as window.__agqg with ?debug=1.
   */
  async embed(req: EmbedRequest): Promise<Outcome<Embeddings>> {
    return outcome(() =>
      queue.enqueue(async (ctx) => {
        const scorer = loadedScorer('embedding');
        const texts = req.texts ?? [];
        for (const t of texts) {
          if ([...t].length > MAX_PROMPT_CHARS) {
            throw new AgqgError(
              'prompt_too_long',
              `a text has ${[...t].length} characters, over the limit of ${MAX_PROMPT_CHARS}`,
            );
          }
        }
        const images: ImageEmbeddingOut[] = [];
        for (const [i, bytes] of (req.images ?? []).entries()) {
          ctx.checkpoint();
          let decoded: Awaited<ReturnType<typeof decodeImage>> | null = null;
          try {
            decoded = await decodeImage(bytes, `image ${i + 1}`);
            const emb = await scorer.embedImage(decoded.image);
            const input = scorer.manifest.vision.inputs[0];
            images.push({
              width: decoded.image.width,
              height: decoded.image.height,
              embedding: emb.features,
              pixelValues: req.pixels ? preprocess(decoded.image, input.preprocess).data : null,
              rgba: req.rgba ? decoded.image.data : null,
              error: null,
            });
          } catch (err) {
            images.push({
              width: decoded?.image.width ?? null,
              height: decoded?.image.height ?? null,
              embedding: null,
              pixelValues: null,
              rgba: null,
              error: toErrorInfo(err),
            });
          } finally {
            decoded?.bitmap.close();
          }
        }
        const detailed = texts.length > 0 ? await scorer.embedTextsDetailed(texts) : [];
        return {
          images,
          texts: detailed.map((e, i) => ({
            text: texts[i],
            embedding: e.features,
            tokens: e.tokens,
            truncated: e.truncated,
          })),
          backend: (state.runtime as OrtWebRuntime).info,
          variant: state.variant as VariantInUse,
        };
      }),
    );
  },

  /**
   * Times the loaded pack's vision encoder on synthetic inputs for several batch sizes and session
   * options, interleaved run by run (developer measurement; bench/browser-pipeline.ts drives it).
   */
  async benchEncoder(req: EncoderBenchRequest): Promise<Outcome<EncoderBenchResult>> {
    return outcome(() =>
      queue.enqueue(async () => {
        const { pack, runtime, variant } = state;
        if (!pack || !runtime || !variant)
          throw new AgqgError('internal', 'no pack is loaded: load one before measuring it');
        return benchEncoder(await readPackFile(pack, variant.visionFile), pack.manifest, runtime, req);
      }),
    );
  },

  /** Drops every queued request (they resolve as `cancelled`); the running one stops at its next checkpoint. */
  async cancel(): Promise<number> {
    decodeLane.cancel();
    return queue.cancel();
  },

  /**
   * Debug fault (?debug=1): destroys the WebGPU device the loaded pack runs on, between two
   * session runs, as a real device loss would. True when there was one (WebGPU sessions exist).
   */
  async loseGpuDevice(): Promise<Outcome<boolean>> {
    return outcome(() =>
      queue.enqueue(async () => state.runtime?.info.kind === 'webgpu' && (await destroyOrtWebGpuDevice())),
    );
  },

  async backendInfo(): Promise<BackendInfo | null> {
    return state.runtime?.info ?? null;
  },

  /** Which kind of task WASM runs start from, and how often slow runs moved them (run-context.ts). */
  async runContext(): Promise<RunContextState> {
    return runContextState();
  },
};

export type ScorerApi = typeof api;
