// The package's browser entry (`agqg-grader/browser`): a scorer backed by the grader's Web Worker
// (the one owner of onnxruntime-web sessions). The page uses `connectScorerWorker`; other web apps
// use `openBrowserScorer({ pack })` with a pack URL. Needs a bundler that builds
// `new Worker(new URL(..., import.meta.url))` (Vite does), and onnxruntime-web's runtime files
// served under the site's `ort/` folder (see docs/api.md).
import * as Comlink from 'comlink';
import { AgqgError } from '../../model/errors.ts';
import { ResultsFileSchema, type ImageResult, type ResultsFile } from '../../model/grading/result.ts';
import { MANIFEST_FILE, type VariantDtype } from '../../model/pack/manifest.ts';
import type { Outcome, PackSummary, ScorerApi, WorkerProgress } from '../../worker/api.ts';
import type { BackendChoice } from '../../worker/ort-web.ts';

export type { ScorerApi, PackSummary, WorkerProgress } from '../../worker/api.ts';
export type { BackendChoice } from '../../worker/ort-web.ts';
export type { ImageResult, ResultsFile, GradeResult } from '../../model/grading/result.ts';

/** Images sent to the worker per call unless the pack asks for another number per run. */
const DEFAULT_IMAGES_PER_CALL = 8;

/** Starts a scorer worker and wraps it with Comlink (its full API, typed from the worker). */
export function connectScorerWorker(): { api: Comlink.Remote<ScorerApi>; terminate(): void } {
  const worker = new Worker(new URL('../../worker/scorer.worker.ts', import.meta.url), {
    type: 'module',
    name: 'agqg-scorer',
  });
  const api = Comlink.wrap<ScorerApi>(worker);
  return {
    api,
    terminate() {
      api[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}

export interface OpenBrowserScorerOptions {
  /** URL of the pack's folder (it must have a manifest.json listing its files), same origin. */
  pack: string | URL;
  /** 'auto' (WebGPU when it works, else WASM), 'wasm' or 'webgpu'. */
  backend?: BackendChoice;
  variant?: VariantDtype;
  /** Pack download and load progress. */
  onProgress?: (p: WorkerProgress) => void;
}

/** An image: a File, or bytes with the name it is reported under. */
export type BrowserScoreInput = File | { name: string; bytes: ArrayBuffer | Uint8Array };

export interface BrowserScoreOptions {
  prompt?: string;
  /** Prompts by image name, or a function of it. */
  prompts?: Readonly<Record<string, string>> | ((name: string) => string | null | undefined);
  onProgress?: (p: { done: number; total: number; result: ImageResult }) => void;
  /** Aborting cancels the worker's queued work; `score` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface BrowserScorer {
  readonly summary: PackSummary;
  score(inputs: readonly BrowserScoreInput[], options?: BrowserScoreOptions): Promise<ResultsFile>;
  close(): void;
}

function unwrap<T>(out: Outcome<T>): T {
  if (out.ok) return out.value;
  throw new AgqgError(out.error.code, out.error.message);
}

async function fetchOk(url: URL): Promise<Response> {
  const res = await fetch(url);
  if (!res.ok) throw new AgqgError('pack_file_missing', `${url.href}: HTTP ${res.status}`);
  return res;
}

/** The pack's files as File objects, read from the URLs its manifest lists. */
async function fetchPack(base: URL): Promise<{ path: string; file: File }[]> {
  const manifestRes = await fetchOk(new URL(MANIFEST_FILE, base));
  const manifestText = await manifestRes.text();
  let listed: unknown;
  try {
    listed = (JSON.parse(manifestText) as { files?: unknown }).files;
  } catch {
    throw new AgqgError('pack_invalid', `${base.href}${MANIFEST_FILE} is not JSON`);
  }
  if (!Array.isArray(listed))
    throw new AgqgError('pack_invalid', `${base.href}${MANIFEST_FILE} lists no files`);
  const paths = listed.map((f: { path?: unknown }) => String(f?.path ?? ''));
  const files = await Promise.all(
    paths.map(async (path) => ({
      path,
      file: new File([await (await fetchOk(new URL(path, base))).blob()], path),
    })),
  );
  return [{ path: MANIFEST_FILE, file: new File([manifestText], MANIFEST_FILE) }, ...files];
}

function promptLookup(o: BrowserScoreOptions): (name: string) => string | null {
  if (o.prompt !== undefined && o.prompts !== undefined)
    throw new AgqgError('invalid_argument', 'give one of prompt (for all images) and prompts (per image)');
  const p = o.prompts;
  if (typeof p === 'function') return (name) => p(name) ?? null;
  if (p) return (name) => (Object.hasOwn(p, name) ? p[name] : null);
  return () => o.prompt ?? null;
}

async function inputBytes(input: BrowserScoreInput): Promise<{ name: string; bytes: ArrayBuffer }> {
  if (input instanceof File) return { name: input.name, bytes: await input.arrayBuffer() };
  const b = input.bytes;
  // Transferred to the worker: copy views so the caller's buffer stays usable.
  const bytes = b instanceof Uint8Array ? (b.slice().buffer as ArrayBuffer) : b.slice(0);
  return { name: input.name, bytes };
}

/** Opens a worker, loads the pack at `pack` into it, and grades images with it. */
export async function openBrowserScorer(options: OpenBrowserScorerOptions): Promise<BrowserScorer> {
  const base = new URL(options.pack, globalThis.location?.href);
  if (!base.pathname.endsWith('/')) base.pathname += '/';
  const files = await fetchPack(base);
  const worker = connectScorerWorker();
  const { api } = worker;
  let summary: PackSummary;
  try {
    const progress = options.onProgress ? Comlink.proxy(options.onProgress) : undefined;
    summary = unwrap(
      await api.loadPack(
        { kind: 'files', files, label: base.href },
        options.backend ?? 'auto',
        progress,
        options.variant ? { variant: options.variant } : {},
      ),
    );
  } catch (err) {
    worker.terminate();
    throw err;
  }
  const perCall = summary.imagesPerRun ?? DEFAULT_IMAGES_PER_CALL;
  let nextId = 0;

  return {
    summary,
    async score(inputs, opts = {}) {
      const { signal, onProgress } = opts;
      const promptFor = promptLookup(opts);
      const results: ImageResult[] = [];
      const onAbort = () => void api.cancel();
      signal?.addEventListener('abort', onAbort);
      try {
        for (let i = 0; i < inputs.length; i += perCall) {
          if (signal?.aborted) throw signal.reason;
          const reqs = await Promise.all(
            inputs.slice(i, i + perCall).map(async (input) => {
              const { name, bytes } = await inputBytes(input);
              return { id: String(nextId++), name, bytes, prompt: promptFor(name) };
            }),
          );
          const out = await api.gradeBatch(
            Comlink.transfer(
              reqs,
              reqs.map((r) => r.bytes),
            ),
          );
          if (signal?.aborted) throw signal.reason;
          for (const g of unwrap(out)) {
            results.push(g.result);
            onProgress?.({ done: results.length, total: inputs.length, result: g.result });
          }
        }
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
      return ResultsFileSchema.parse({
        schema: 'agqg-results',
        version: 1,
        createdAt: new Date().toISOString(),
        pack: { id: summary.id, name: summary.name, version: summary.packVersion },
        results,
      });
    },
    close: () => worker.terminate(),
  };
}
