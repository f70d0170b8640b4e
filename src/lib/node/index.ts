// The package's Node entry: `openScorer({ pack })` grades images from a script with the same
// pipeline as `agqg score` (decode workers, batched encoder runs, input order) and returns the
// `agqg-results` document that `agqg score --json` prints.
import { basename } from 'node:path';
import { imageReader, resultsFile, DEFAULT_BATCH, DEFAULT_DECODE_THREADS } from '../../cli/cmd/score.ts';
import { decodeImage } from '../../cli/decode.ts';
import type { DecodedFile, ImageReader } from '../../cli/image-reader.ts';
import { bufferIO } from '../../cli/io.ts';
import { loadScorer, noHeadMessage } from '../../cli/load-pack.ts';
import { scoreFiles, type ScoreJob } from '../../cli/score-pipeline.ts';
import { AgqgError } from '../../model/errors.ts';
import type { ImageResult, ResultsFile } from '../../model/grading/result.ts';
import type { VariantDtype } from '../../model/pack/manifest.ts';
import type { PackScorer } from '../../model/scoring/scorer.ts';
import { nowMs } from '../../model/util/clock.ts';

export type { ImageResult, ResultsFile, GradeResult } from '../../model/grading/result.ts';
export type { VariantDtype } from '../../model/pack/manifest.ts';
export { AgqgError, type ErrorCode, type ErrorInfo } from '../../model/errors.ts';

export interface OpenScorerOptions {
  /** The pack's folder (manifest.json, or a Hugging Face CLIP ONNX export). */
  pack: string;
  /** Encoder weights (fp32, fp16, q8, ...); default: the most exact the pack has. */
  variant?: VariantDtype;
  /** Images per encoder run (default as `agqg score`: 8). */
  batch?: number;
  /** Worker threads decoding ahead of the encoder (default 2; 0 = on the calling thread). */
  decodeThreads?: number;
}

/** An image: a file path (PNG or JPEG), or its bytes with the name it is reported under. */
export type ScoreInput = string | { name: string; bytes: Uint8Array };

export interface ScoreProgress {
  done: number;
  total: number;
  /** The result just finished (inputs finish in order). */
  result: ImageResult;
}

export interface ScoreOptions {
  /** The prompt that made every image. */
  prompt?: string;
  /** Prompts by image: keyed by file name (as `--prompts` CSV rows are), or a function of the input's name. */
  prompts?: Readonly<Record<string, string>> | ((name: string) => string | null | undefined);
  onProgress?: (p: ScoreProgress) => void;
  /** Aborting stops at the next batch boundary; `score` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface Scorer {
  /** What the pack is (id, name, version, grade labels). */
  readonly pack: ResultsFile['pack'] & { labels: string[]; hasText: boolean };
  /** Grades the inputs in order; a file that cannot be read or decoded gets a result with `error`. */
  score(inputs: readonly ScoreInput[], options?: ScoreOptions): Promise<ResultsFile>;
  /** Stops the decode workers and frees the ONNX sessions. */
  close(): Promise<void>;
}

/**
 * Reads path inputs with the pack's reader and byte inputs on the calling thread; byte inputs are
 * looked up by name in the order they were queued (the pipeline reads in input order), so two
 * inputs with one name stay two images.
 */
function withBytes(
  files: ImageReader,
): ImageReader & { queue(name: string, bytes: Uint8Array): void; clear(): void } {
  const queued = new Map<string, Uint8Array[]>();
  return {
    clear: () => queued.clear(),
    queue(name, bytes) {
      const list = queued.get(name) ?? [];
      list.push(bytes);
      queued.set(name, list);
    },
    async read(name: string): Promise<DecodedFile> {
      const bytes = queued.get(name)?.shift();
      if (bytes === undefined) return files.read(name);
      const t0 = nowMs();
      const img = decodeImage(bytes, basename(name));
      return { img, stages: { readMs: 0, decodeMs: nowMs() - t0, preprocessMs: 0 } };
    },
    close: () => files.close(),
  };
}

function promptLookup(options: ScoreOptions): (name: string) => string | null {
  const { prompt, prompts } = options;
  if (prompt !== undefined && prompts !== undefined)
    throw new AgqgError('invalid_argument', 'give one of prompt (for all images) and prompts (per image)');
  if (typeof prompts === 'function') return (name) => prompts(name) ?? null;
  if (prompts) {
    const table = new Map(Object.entries(prompts));
    return (name) => table.get(name) ?? table.get(basename(name)) ?? null;
  }
  return () => prompt ?? null;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new AgqgError('cancelled', 'scoring was aborted');
}

export async function openScorer(options: OpenScorerOptions): Promise<Scorer> {
  const batch = options.batch ?? DEFAULT_BATCH;
  if (!Number.isInteger(batch) || batch < 1)
    throw new AgqgError('invalid_argument', `batch must be a whole number >= 1 (got ${batch})`);
  const threads = options.decodeThreads ?? DEFAULT_DECODE_THREADS;
  if (!Number.isInteger(threads) || threads < 0)
    throw new AgqgError('invalid_argument', `decodeThreads must be a whole number >= 0 (got ${threads})`);
  const files = imageReader(threads);
  let scorer: PackScorer;
  try {
    scorer = await loadScorer(options.pack, bufferIO(), { variant: options.variant, verbose: false });
  } catch (err) {
    await files.close();
    throw err;
  }
  const noHead = noHeadMessage(scorer);
  if (noHead) {
    await files.close();
    await scorer.release();
    throw new AgqgError('no_head', noHead);
  }
  files.forPack(scorer);
  const reader = withBytes(files);
  const m = scorer.manifest;
  let closed = false;
  let running: Promise<unknown> = Promise.resolve();

  const run = async (inputs: readonly ScoreInput[], opts: ScoreOptions): Promise<ResultsFile> => {
    if (closed) throw new AgqgError('invalid_argument', 'this scorer is closed');
    const { signal, onProgress } = opts;
    if (signal?.aborted) throw abortReason(signal);
    const promptFor = promptLookup(opts);
    const jobs: ScoreJob[] = inputs.map((input) => {
      if (typeof input === 'string') return { file: input, prompt: promptFor(input) };
      if (!input || typeof input.name !== 'string' || !(input.bytes instanceof Uint8Array))
        throw new AgqgError('invalid_argument', 'an input is a file path or { name, bytes: Uint8Array }');
      reader.queue(input.name, input.bytes);
      return { file: input.name, prompt: promptFor(input.name) };
    });
    const results: ImageResult[] = [];
    try {
      await scoreFiles(scorer, jobs, { batch, reader }, (result) => {
        results.push(result);
        onProgress?.({ done: results.length, total: jobs.length, result });
        if (signal?.aborted) throw abortReason(signal);
      });
    } finally {
      // Byte inputs an aborted run did not reach are not left for the next run.
      reader.clear();
    }
    return resultsFile(scorer, results);
  };

  return {
    pack: { id: m.id, name: m.name, version: m.packVersion, labels: [...m.grades.labels], hasText: !!m.text },
    score(inputs, opts = {}) {
      // One run at a time: the encoder and the decode workers are shared.
      const next = running.then(() => run(inputs, opts));
      running = next.catch(() => {});
      return next;
    },
    async close() {
      if (closed) return;
      closed = true;
      await running;
      await files.close();
      await scorer.release();
    },
  };
}
