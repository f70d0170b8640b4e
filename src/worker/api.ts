// The worker's API, exposed with Comlink (scorer.worker.ts). The page gets its
// type from here (`ScorerApi = typeof api`), so the two cannot drift apart.
// Every session creation and run goes through one SerialQueue.
import { z } from 'zod';
import { AgqgError, toErrorInfo, type ErrorInfo } from '../model/errors';
import { openPack, type OpenedPack, type PackSource } from '../model/pack';
import type { ImageResult } from '../model/result';
import { failedResult, PackScorer, type LoadProgress } from '../model/scorer';
import { decodeImage, thumbnail } from './decode';
import { createOrtRuntime, wasmFallback, type BackendChoice, type BackendInfo, type OrtWebRuntime } from './ort-web';
import { HttpPackSource, LocalFolderPackSource, modelsUrl, type LocalFile } from './pack-sources';
import { SerialQueue } from './queue';

/** Longest edge of the card thumbnails, in pixels (cards show them at up to half this, on 2x screens). */
const THUMB_EDGE = 320;

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export interface PackListing {
  id: string;
  name: string;
  description: string;
}

export type PackRequest = { kind: 'url'; id: string } | { kind: 'files'; files: LocalFile[]; label?: string };

export type WorkerProgress =
  | { kind: 'pack'; stage: LoadProgress['stage'] | 'manifest' | 'read'; path?: string; loaded?: number; total?: number }
  | { kind: 'image'; id: string; stage: 'decode' | 'score' }
  | { kind: 'backend'; info: BackendInfo; note: string };

export type ProgressFn = (p: WorkerProgress) => void;

export interface PackSummary {
  id: string;
  name: string;
  description: string;
  packVersion: string;
  labels: string[];
  mos: { min: number; max: number };
  hasText: boolean;
  hasQualityHead: boolean;
  hasAlignmentHead: boolean;
  qualityUncalibrated: boolean;
  alignmentUncalibrated: boolean;
  source: 'url' | 'files';
  /** Absolute URLs of every file the pack was loaded from (served packs only), for the offline cache. */
  urls: string[];
  backend: BackendInfo;
  loadMs: number;
}

export interface GradeRequest {
  id: string;
  name: string;
  bytes: ArrayBuffer;
  prompt: string | null;
}

export interface Graded {
  id: string;
  result: ImageResult;
  thumbnail: Blob | null;
  width: number | null;
  height: number | null;
}

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
}

const queue = new SerialQueue();
const state: State = { choice: 'auto', runtime: null, pack: null, scorer: null };

async function outcome<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) };
  }
}

function summary(scorer: PackScorer, source: 'url' | 'files', urls: string[], loadMs: number): PackSummary {
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
    source,
    urls,
    backend: (state.runtime as OrtWebRuntime).info,
    loadMs,
  };
}

/** Recreates the sessions of the loaded pack on WASM after WebGPU failed. */
async function fallBackToWasm(why: string, onProgress?: ProgressFn): Promise<void> {
  const prev = state.runtime as OrtWebRuntime;
  const runtime = wasmFallback(prev.info, why);
  await state.scorer?.release();
  state.scorer = null;
  state.runtime = runtime;
  state.scorer = await PackScorer.load(state.pack as OpenedPack, runtime);
  onProgress?.({ kind: 'backend', info: runtime.info, note: runtime.info.reason });
}

async function gradeOne(req: GradeRequest, onProgress: ProgressFn | undefined, checkpoint: () => void): Promise<Graded> {
  const scorer = state.scorer;
  if (!scorer) throw new AgqgError('internal', 'no pack is loaded: load one before grading');
  const started = performance.now();
  onProgress?.({ kind: 'image', id: req.id, stage: 'decode' });
  let decoded: Awaited<ReturnType<typeof decodeImage>>;
  try {
    decoded = await decodeImage(req.bytes, req.name);
  } catch (err) {
    const result = failedResult(req.name, scorer.manifest.id, req.prompt, err, scorer.backend, {
      totalMs: performance.now() - started,
    });
    return { id: req.id, result, thumbnail: null, width: null, height: null };
  }
  const { image, bitmap } = decoded;
  try {
    const decodeMs = performance.now() - started;
    const thumb = await thumbnail(bitmap, THUMB_EDGE);
    checkpoint();
    onProgress?.({ kind: 'image', id: req.id, stage: 'score' });
    let result = await scorer.scoreImage(image, { file: req.name, prompt: req.prompt, decodeMs });
    if (result.error?.code === 'backend_failed' && state.runtime?.info.kind === 'webgpu') {
      await fallBackToWasm(result.error.message, onProgress);
      result = await (state.scorer as PackScorer).scoreImage(image, { file: req.name, prompt: req.prompt, decodeMs });
    }
    return { id: req.id, result, thumbnail: thumb, width: image.width, height: image.height };
  } finally {
    bitmap.close();
  }
}

export const api = {
  /** Packs served with the site, from models/index.json (empty when there is none). */
  async listPacks(): Promise<Outcome<PackListing[]>> {
    return outcome(async () => {
      let res: Response;
      try {
        res = await fetch(modelsUrl('index.json'));
      } catch (err) {
        throw new AgqgError('pack_file_missing', `could not fetch models/index.json: ${(err as Error).message}`);
      }
      if (res.status === 404 || (res.headers.get('content-type') ?? '').includes('text/html')) return [];
      if (!res.ok) throw new AgqgError('pack_file_missing', `models/index.json: the server answered ${res.status}`);
      const parsed = IndexSchema.safeParse(await res.json());
      if (!parsed.success) {
        throw new AgqgError('pack_invalid', `models/index.json is not a list of {id, name, description}: ${parsed.error.message}`);
      }
      return parsed.data;
    });
  },

  /** Opens and loads a pack; replaces the loaded one. `backend` is the ?backend= choice. */
  async loadPack(req: PackRequest, backend: BackendChoice, onProgress?: ProgressFn): Promise<Outcome<PackSummary>> {
    return outcome(() =>
      queue.enqueue(async () => {
        const t0 = performance.now();
        if (!state.runtime || state.choice !== backend) {
          state.runtime = await createOrtRuntime(backend);
          state.choice = backend;
        }
        const inner: PackSource =
          req.kind === 'url' ? new HttpPackSource(req.id) : new LocalFolderPackSource(req.files, req.label);
        const source = new TrackingSource(inner, (path, bytes) =>
          onProgress?.({ kind: 'pack', stage: 'read', path, loaded: bytes }),
        );
        const fallbackId = inner instanceof LocalFolderPackSource ? inner.folderName : req.kind === 'url' ? req.id : 'local';
        onProgress?.({ kind: 'pack', stage: 'manifest' });
        const pack = await openPack(source, fallbackId);
        const forward = (p: LoadProgress) => onProgress?.({ kind: 'pack', ...p });
        let scorer: PackScorer;
        try {
          scorer = await PackScorer.load(pack, state.runtime, { onProgress: forward });
        } catch (err) {
          if (state.runtime.info.kind !== 'webgpu') throw err;
          // WebGPU can fail at session creation (an unsupported op, a lost device): WASM runs everything.
          state.runtime = wasmFallback(state.runtime.info, toErrorInfo(err).message);
          onProgress?.({ kind: 'backend', info: state.runtime.info, note: state.runtime.info.reason });
          scorer = await PackScorer.load(pack, state.runtime, { onProgress: forward });
        }
        await state.scorer?.release();
        state.pack = pack;
        state.scorer = scorer;
        const urls =
          inner instanceof HttpPackSource ? [modelsUrl('index.json').href, ...[...source.read].map((p) => inner.url(p))] : [];
        return summary(scorer, req.kind, urls, performance.now() - t0);
      }),
    );
  },

  /** Grades one image. Bad files come back as results with `error`; only cancellation and a missing pack fail. */
  async gradeImage(req: GradeRequest, onProgress?: ProgressFn): Promise<Outcome<Graded>> {
    return outcome(() => queue.enqueue((ctx) => gradeOne(req, onProgress, () => ctx.checkpoint())));
  },

  /** Drops every queued request (they resolve as `cancelled`); the running one stops at its next checkpoint. */
  async cancel(): Promise<number> {
    return queue.cancel();
  },

  async backendInfo(): Promise<BackendInfo | null> {
    return state.runtime?.info ?? null;
  },
};

export type ScorerApi = typeof api;
