// The developer and benchmark API of the worker: raw encoder outputs, encoder timings, a simulated
// device loss and what the runtime is doing. The page reaches it only with ?debug=1 (src/ui/debug.ts).
import { calibrationBenchApi } from './calibration-api.ts';
import { AgqgError, toErrorInfo } from '../model/errors.ts';
import { MAX_PROMPT_CHARS } from '../model/limits.ts';
import { readPackFile } from '../model/pack/pack.ts';
import { preprocess } from '../model/image/preprocess.ts';
import { decodeImage } from './decode.ts';
import { benchEncoder, type EncoderBenchRequest, type EncoderBenchResult } from './encoder-bench.ts';
import { destroyOrtWebGpuDevice } from './gpu-fault.ts';
import type { BackendInfo, OrtWebRuntime } from './ort-web.ts';
import {
  outcome,
  type Embeddings,
  type EmbedRequest,
  type ImageEmbeddingOut,
  type Outcome,
  type VariantInUse,
} from './protocol.ts';
import { runContextState, type RunContextState } from './run-context.ts';
import { loadedScorer, queue, state } from './state.ts';

export const devApi = {
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

  /**
   * Debug fault (?debug=1): destroys the WebGPU device the loaded pack runs on, between two
   * session runs, as a real device loss would. True when there was one (WebGPU sessions exist).
   */
  async loseGpuDevice(): Promise<Outcome<boolean>> {
    return outcome(() =>
      queue.enqueue(async () => state.runtime?.info.kind === 'webgpu' && (await destroyOrtWebGpuDevice())),
    );
  },

  ...calibrationBenchApi({
    loaded: () =>
      state.pack && state.runtime
        ? { pack: state.pack, packKey: state.packKey, runtime: state.runtime }
        : null,
    enqueue: (f) => queue.enqueue(f),
  }),

  async backendInfo(): Promise<BackendInfo | null> {
    return state.runtime?.info ?? null;
  },

  /** Which kind of task WASM runs start from, and how often slow runs moved them (run-context.ts). */
  async runContext(): Promise<RunContextState> {
    return runContextState();
  },
};
