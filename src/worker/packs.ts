// Pack loading in the worker: the packs the site serves, and opening one (served or a local
// folder) into sessions on the backend asked for, with the summary the page shows.
import { z } from 'zod';
import { AgqgError } from '../model/errors.ts';
import type { VariantDtype } from '../model/pack/manifest.ts';
import { openPack, pickVariant, type OpenedPack, type PackSource } from '../model/pack/pack.ts';
import { PackScorer, VARIANT_PREFERENCE, type LoadProgress } from '../model/scoring/scorer.ts';
import {
  createOrtRuntime,
  sameTuning,
  wasmFallback,
  type BackendChoice,
  type OrtWebRuntime,
} from './ort-web.ts';
import { HttpPackSource, LocalFolderPackSource, modelsUrl, TrackingSource } from './pack-sources.ts';
import type {
  LoadOptions,
  PackListing,
  PackRequest,
  PackSummary,
  ProgressFn,
  VariantInUse,
} from './protocol.ts';
import { waitForQuietCpu, type SettleReport } from './settle.ts';
import { getSavedPack, savedPackSource } from './saved-packs.ts';
import { state } from './state.ts';
import { defaultVariant, variantReason } from './variants.ts';
import { attemptWithWasmFallback } from './wasm-retry.ts';

const IndexSchema = z.array(
  z.object({ id: z.string().min(1), name: z.string().min(1), description: z.string().default('') }),
);

/** Packs served with the site, from models/index.json (empty when there is none). */
export async function listServedPacks(): Promise<PackListing[]> {
  let res: Response;
  try {
    res = await fetch(modelsUrl('index.json'));
  } catch (err) {
    throw new AgqgError('pack_file_missing', `could not fetch models/index.json: ${(err as Error).message}`);
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
}

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
    mos: { ...(m.heads.quality?.mos ?? m.grades.mos) },
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

/**
 * Opens and loads a pack, replacing the loaded one; `backend` is the ?backend= choice. Runs in the
 * session queue.
 */
export async function loadPackNow(
  req: PackRequest,
  backend: BackendChoice,
  onProgress: ProgressFn | undefined,
  opts: LoadOptions,
): Promise<PackSummary> {
  const t0 = performance.now();
  if (!state.runtime || state.choice !== backend || !sameTuning(state.runtime.tuning, opts.tuning ?? {})) {
    state.runtime = await createOrtRuntime(backend, { threads: opts.threads, tuning: opts.tuning });
    state.choice = backend;
  }
  const kept = req.kind === 'url' ? await getSavedPack(req.id) : null;
  const inner: PackSource = kept
    ? savedPackSource(kept)
    : req.kind === 'url'
      ? new HttpPackSource(req.id)
      : new LocalFolderPackSource(req.files, req.label);
  const source = new TrackingSource(inner, (path, bytes) =>
    onProgress?.({ kind: 'pack', stage: 'read', path, loaded: bytes }),
  );
  const fallbackId =
    inner instanceof LocalFolderPackSource ? inner.folderName : req.kind === 'url' ? req.id : 'local';
  onProgress?.({ kind: 'pack', stage: 'manifest' });
  const pack = await openPack(source, fallbackId);
  const forward = (p: LoadProgress) => onProgress?.({ kind: 'pack', ...p });
  let runtime = state.runtime;
  let variant = resolveVariant(pack, opts.variant, runtime);
  // WebGPU can fail at session creation (an unsupported op, a lost device): WASM runs everything.
  const scorer = await attemptWithWasmFallback(
    () => PackScorer.load(pack, runtime, { variant: variant.dtype, onProgress: forward }),
    {
      onWebGpu: () => runtime.info.kind === 'webgpu',
      toWasm: async (why) => {
        runtime = state.runtime = wasmFallback(runtime, why);
        onProgress?.({ kind: 'backend', info: runtime.info, note: runtime.info.reason });
        variant = resolveVariant(pack, opts.variant, runtime);
      },
    },
  );
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
}
