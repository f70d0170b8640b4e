// The worker's product methods for calibration (issue 26): fit, cancel, keep the
// fit as a pack, list/delete/export kept packs. Spread into the worker's API, so
// the page's ScorerApi type has them; they reach the loaded pack through `ctx`.
import * as Comlink from 'comlink';
import { AgqgError, toErrorInfo, type ErrorInfo } from '../model/errors.ts';
import { selfContainedFiles } from '../model/pack/based-source.ts';
import { openPack } from '../model/pack/pack.ts';
import { zipStore } from '../model/util/zip.ts';
import { gaussian, mulberry32 } from '../model/util/rng.ts';
import {
  Calibrator,
  type FitOutcome,
  type FitProgress,
  type FitRequest,
  type LoadedPack,
} from './calibration.ts';
import { FeatureCache } from './feature-cache.ts';
import {
  deleteSavedPack,
  getSavedPack,
  listSavedPacks,
  savedPackSource,
  type SavedPackInfo,
} from './saved-packs.ts';

type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

async function outcome<T>(f: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) };
  }
}

/** Features of every image graded in this worker, by pack key and image id (what a retrain fits on). */
export const featureCache = new FeatureCache();

export interface CalibrationContext {
  /** The loaded pack, its key and runtime; null when none is loaded. */
  loaded(): LoadedPack | null;
  /** Runs `f` in the worker's session queue (a fit never interleaves with grading). */
  enqueue<T>(f: () => Promise<T>): Promise<T>;
}

/** One calibrator per worker: the product and the bench methods share its last fit and cancel. */
const calibrator = new Calibrator(featureCache);

function needLoaded(ctx: CalibrationContext): LoadedPack {
  const l = ctx.loaded();
  if (!l) throw new AgqgError('internal', 'no pack is loaded: load one before calibrating');
  return l;
}

/** The developer method behind WITH_DEV_API (dev-api.ts): the page's fit time, for the bench. */
export function calibrationBenchApi(ctx: CalibrationContext) {
  const need = () => needLoaded(ctx);
  return {
    /**
     * Developer measurement (bench/calibration-fit.ts): fills the feature cache with `n` seeded
     * synthetic images of the loaded pack's feature width and times a fit on them, as the page's
     * Fit would run it. Features are Gaussian: the time does not depend on their values.
     */
    async benchCalibrationFit(req: {
      n: number;
      mode: 'recalibrate' | 'retrain';
    }): Promise<Result<{ ms: number; n: number; dim: number }>> {
      return outcome(() =>
        ctx.enqueue(async () => {
          const l = need();
          const dim = l.pack.manifest.vision.output.shape.at(-1);
          if (typeof dim !== 'number')
            throw new AgqgError('internal', 'the pack does not state its feature width');
          const rand = gaussian(mulberry32(req.n));
          const rated = Array.from({ length: req.n }, (_, i) => {
            // One shared factor in every feature (as image quality moves many features at once), plus noise.
            const signal = rand();
            const f = Float32Array.from({ length: dim }, () => signal + rand());
            const ability = signal + 0.5 * rand();
            const rating = Math.min(5, Math.max(1, 3 + signal + 0.3 * rand()));
            featureCache.put(l.packKey, `bench-${i}`, f);
            return {
              id: `bench-${i}`,
              name: `bench-${i}.jpg`,
              prompt: `p${i % 97}`,
              ability,
              rating,
            };
          });
          const out = await calibrator.fit(l, {
            mode: req.mode,
            scale: { min: 1, max: 5 },
            rated,
            batch: rated.map((r) => ({ id: r.id, ability: r.ability })),
          });
          return { ms: out.fitMs, n: req.n, dim };
        }),
      );
    },
  };
}

export function calibrationApi(ctx: CalibrationContext) {
  const need = () => needLoaded(ctx);
  return {
    /** Fits a head to the ratings (recalibrate or retrain) with progress; cancelCalibration() stops it. */
    async fitCalibration(
      req: FitRequest,
      onProgress?: (p: FitProgress) => void,
    ): Promise<Result<FitOutcome>> {
      return outcome(() => ctx.enqueue(() => calibrator.fit(need(), req, onProgress)));
    },

    /** Stops a running fit at its next checkpoint (between folds and penalties). */
    async cancelCalibration(): Promise<boolean> {
      return calibrator.cancel();
    },

    /** Keeps the last fit as a pack in this browser (IndexedDB), encoder by reference. */
    async saveCalibration(name: string): Promise<Result<SavedPackInfo>> {
      return outcome(() =>
        calibrator.save(name, need().packKey, async (id) => (await getSavedPack(id)) !== null),
      );
    },

    async listSavedPacks(): Promise<Result<SavedPackInfo[]>> {
      return outcome(() => listSavedPacks());
    },

    /** True when the pack was there. */
    async deleteSavedPack(id: string): Promise<Result<boolean>> {
      return outcome(() => deleteSavedPack(id));
    },

    /**
     * A kept pack as one self-contained ZIP folder (the base pack's encoder included, checked
     * against its hashes): `agqg score --pack DIR` reads it unzipped.
     */
    async exportPack(id: string): Promise<Result<{ zip: Uint8Array; files: number }>> {
      const out = await outcome(async () => {
        const rec = await getSavedPack(id);
        if (!rec) throw new AgqgError('pack_file_missing', `no pack "${id}" is kept in this browser`);
        const pack = await openPack(savedPackSource(rec), id);
        const files = await selfContainedFiles(pack);
        return { zip: zipStore(files), files: files.length };
      });
      return Comlink.transfer(out, out.ok ? [out.value.zip.buffer] : []);
    },
  };
}
