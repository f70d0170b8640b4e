// The worker's API, exposed with Comlink (scorer.worker.ts). The page gets its
// type from here (`ScorerApi = typeof api`), so the two cannot drift apart.
// Every session creation and run goes through one SerialQueue.
import { z } from 'zod';
import { AgqgError, toErrorInfo } from '../model/errors.ts';
import { MAX_PROMPT_CHARS } from '../model/limits.ts';
import type { VariantDtype } from '../model/pack/manifest.ts';
import { openPack, pickVariant, readPackFile, type OpenedPack, type PackSource } from '../model/pack/pack.ts';
import { preprocess } from '../model/image/preprocess.ts';
import type { ImageResult } from '../model/grading/result.ts';
import { failedResult, PackScorer, VARIANT_PREFERENCE, type LoadProgress } from '../model/scoring/scorer.ts';
import { BusyClock, decodeForGrading, planChunks, type DecodedItem } from './batch.ts';
import { decodeImage } from './decode.ts';
import { benchEncoder, type EncoderBenchRequest, type EncoderBenchResult } from './encoder-bench.ts';
import { destroyOrtWebGpuDevice } from './gpu-fault.ts';
import { gradeKeptFeatures, scoreBatchWithFeatures, type ScoredInBatch, type StageTimings } from './grade.ts';
import {
  createOrtRuntime,
  sameTuning,
  wasmFallback,
  type BackendChoice,
  type BackendInfo,
  type OrtWebRuntime,
} from './ort-web.ts';
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
import { HttpPackSource, LocalFolderPackSource, modelsUrl } from './pack-sources.ts';
import { SerialQueue, type TaskContext } from './queue.ts';
import { runContextState, type RunContextState } from './run-context.ts';
import { waitForQuietCpu, type SettleReport } from './settle.ts';
import { defaultVariant, variantReason } from './variants.ts';

// The page imports the wire types from here, beside ScorerApi.
export type * from './protocol.ts';

const IndexSchema = z.array(
  z.object({ id: z.string().min(1), name: z.string().min(1), description: z.string().default('') }),
);

/** Records which files a pack was actually read from, and reports each read. */
class TrackingSource implements PackSource {
  readonly read = new Set<string>();
  constructor(
    readonly inner: PackSource,
    private readonly onRead: (path: string, bytes: number) => void,
  ) {}
  get location(): string {
    return this.inner.location;
  }
  async readBytes(path: string): Promise<Uint8Array | null> {
    const bytes = await this.inner.readBytes(path);
    if (bytes) {
      this.read.add(path);
      this.onRead(path, bytes.byteLength);
    }
    return bytes;
  }
  size(path: string): Promise<number | null> {
    return this.inner.size(path);
  }
}

interface State {
  choice: BackendChoice;
  runtime: OrtWebRuntime | null;
  pack: OpenedPack | null;
  scorer: PackScorer | null;
  variant: VariantInUse | null;
  packKey: string;
}

const queue = new SerialQueue();
/** Decoding runs outside the session queue (the next images decode during inference), one chunk at a time. */
const decodeLane = new SerialQueue();
/** Inference time on this thread, left out of the decode times of images decoded meanwhile. */
const inferenceBusy = new BusyClock();
const state: State = { choice: 'auto', runtime: null, pack: null, scorer: null, variant: null, packKey: '' };

/** The variant to load and the files it means, checked before any session is made. */
function resolveVariant(
  pack: OpenedPack,
  asked: VariantDtype | undefined,
  backend: OrtWebRuntime,
): VariantInUse {
  const m = pack.manifest;
  const dtype = asked ?? defaultVariant(m.vision.variants, backend.info.kind);
  // Throws pack_invalid naming the variants there are when `asked` is not one of them.
  const vision = pickVariant(m.vision.variants, dtype, VARIANT_PREFERENCE);
  // The scorer's rule: the text encoder takes the same variant when it has it, else its preferred one.
  const text = m.text
    ? (m.text.variants.find((v) => v.dtype === dtype) ??
      pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE))
    : null;
  return {
    dtype,
    available: m.vision.variants.map((v) => v.dtype),
    visionFile: vision.file,
    textDtype: text?.dtype ?? null,
    textFile: text?.file ?? null,
    reason: variantReason(dtype, asked, backend.info.kind),
  };
}

function summary(
  scorer: PackScorer,
  source: 'url' | 'files',
  urls: string[],
  loadMs: number,
  settle: SettleReport,
): PackSummary {
  const m = scorer.manifest;
  return {
    id: m.id,
    name: m.name,
    description: m.description,
    packVersion: m.packVersion,
    labels: [...m.grades.labels],
    mos: { ...m.grades.mos },
    hasText: scorer.hasText,
    hasQualityHead: scorer.hasQualityHead,
    hasAlignmentHead: scorer.hasAlignmentHead,
    qualityUncalibrated: m.heads.quality?.uncalibrated ?? false,
    alignmentUncalibrated: m.heads.alignment?.uncalibrated ?? false,
    variant: state.variant as VariantInUse,
    packKey: state.packKey,
    source,
    urls,
    backend: (state.runtime as OrtWebRuntime).info,
    loadMs,
    settleMs: settle.waitedMs,
    settled: settle.settled,
    imagesPerRun: m.vision.imagesPerRun?.[(state.runtime as OrtWebRuntime).info.kind] ?? null,
  };
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
  const scorer = state.scorer;
  if (!scorer) throw new AgqgError('internal', 'no pack is loaded: load one before grading');
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
    return outcome(async () => {
      let res: Response;
      try {
        res = await fetch(modelsUrl('index.json'));
      } catch (err) {
        throw new AgqgError(
          'pack_file_missing',
          `could not fetch models/index.json: ${(err as Error).message}`,
        );
      }
      if (res.status === 404 || (res.headers.get('content-type') ?? '').includes('text/html')) return [];
      if (!res.ok)
        throw new AgqgError('pack_file_missing', `models/index.json: the server answered ${res.status}`);
      const parsed = IndexSchema.safeParse(await res.json());
      if (!parsed.success) {
        throw new AgqgError(
          'pack_invalid',
          `models/index.json is not a list of {id, name, description}: ${parsed.error.message}`,
        );
      }
      return parsed.data;
    });
  },

  /** Opens and loads a pack; replaces the loaded one. `backend` is the ?backend= choice. */
  async loadPack(
    req: PackRequest,
    backend: BackendChoice,
    onProgress?: ProgressFn,
    opts: LoadOptions = {},
  ): Promise<Outcome<PackSummary>> {
    return outcome(() =>
      queue.enqueue(async () => {
        const t0 = performance.now();
        if (
          !state.runtime ||
          state.choice !== backend ||
          !sameTuning(state.runtime.tuning, opts.tuning ?? {})
        ) {
          state.runtime = await createOrtRuntime(backend, { threads: opts.threads, tuning: opts.tuning });
          state.choice = backend;
        }
        const inner: PackSource =
          req.kind === 'url' ? new HttpPackSource(req.id) : new LocalFolderPackSource(req.files, req.label);
        const source = new TrackingSource(inner, (path, bytes) =>
          onProgress?.({ kind: 'pack', stage: 'read', path, loaded: bytes }),
        );
        const fallbackId =
          inner instanceof LocalFolderPackSource ? inner.folderName : req.kind === 'url' ? req.id : 'local';
        onProgress?.({ kind: 'pack', stage: 'manifest' });
        const pack = await openPack(source, fallbackId);
        const forward = (p: LoadProgress) => onProgress?.({ kind: 'pack', ...p });
        let variant = resolveVariant(pack, opts.variant, state.runtime);
        let scorer: PackScorer;
        try {
          scorer = await PackScorer.load(pack, state.runtime, {
            variant: variant.dtype,
            onProgress: forward,
          });
        } catch (err) {
          if (state.runtime.info.kind !== 'webgpu') throw err;
          // WebGPU can fail at session creation (an unsupported op, a lost device): WASM runs everything.
          state.runtime = wasmFallback(state.runtime, toErrorInfo(err).message);
          onProgress?.({ kind: 'backend', info: state.runtime.info, note: state.runtime.info.reason });
          variant = resolveVariant(pack, opts.variant, state.runtime);
          scorer = await PackScorer.load(pack, state.runtime, {
            variant: variant.dtype,
            onProgress: forward,
          });
        }
        await state.scorer?.release();
        state.pack = pack;
        state.scorer = scorer;
        state.variant = variant;
        state.packKey = `${inner.location}|${pack.manifest.id}@${pack.manifest.packVersion}|${variant.visionFile}`;
        const urls =
          inner instanceof HttpPackSource
            ? [modelsUrl('index.json').href, ...[...source.read].map((p) => inner.url(p))]
            : [];
        // "Loaded" means ready to grade with the page responsive: V8 is still compiling the runtime's
        // hot code for a few seconds after the sessions exist (settle.ts).
        onProgress?.({ kind: 'pack', stage: 'settle' });
        const settle = await waitForQuietCpu();
        return summary(scorer, req.kind, urls, performance.now() - t0, settle);
      }),
    );
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
        const scorer = state.scorer;
        if (!scorer) throw new AgqgError('internal', 'no pack is loaded: load one before grading');
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
        const scorer = state.scorer;
        if (!scorer) throw new AgqgError('internal', 'no pack is loaded: load one before embedding');
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
