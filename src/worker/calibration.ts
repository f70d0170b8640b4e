// The calibration fits in the worker (issue 26): the page sends ratings with the
// base head's abilities; features for a retrain come from the worker's cache of
// what the encoder gave when the images were graded. The fit yields to the event
// loop between folds and penalties, so a cancel() is seen and progress flows.
// The last fit is kept here to be saved as a pack (its head stays in the worker).
import { AgqgError } from '../model/errors.ts';
import type { MosScale } from '../model/grading/grm.ts';
import { headAbility } from '../model/grading/head.ts';
import { readPackFile, type OpenedPack } from '../model/pack/pack.ts';
import {
  recalibrate,
  retrain,
  type CalibrationFit,
  type CalibrationMode,
} from '../model/training/calibrate.ts';
import { buildCalibratedPack } from '../model/training/calibrated-pack.ts';
import { matrix } from '../model/training/linalg.ts';
import { runtimeGram, type GramRuntime } from '../model/training/runtime-gram.ts';
import { nowMs } from '../model/util/clock.ts';
import { nextTask } from '../model/util/next-task.ts';
import type { FeatureCache } from './feature-cache.ts';
import { putSavedPack, type SavedPackInfo } from './saved-packs.ts';

export interface RatedImage {
  id: string;
  name: string;
  /** '' when the image has no prompt. */
  prompt: string;
  rating: number;
  /** The loaded pack's quality ability of the image (from its result). */
  ability: number;
}

export interface FitRequest {
  mode: CalibrationMode;
  /** The scale the ratings are on (the new head's MOS scale). */
  scale: MosScale;
  rated: RatedImage[];
  /** Every graded image of the page (id and its base ability), for the grade distribution under the new head. */
  batch: { id: string; ability: number }[];
  seed?: number;
}

export interface FitProgress {
  line: string;
  elapsedMs: number;
}

/** What the page shows; the head itself stays in the worker until it is saved. */
export interface FitOutcome {
  fit: Omit<CalibrationFit, 'head'>;
  packId: string;
  packName: string;
  labels: string[];
  /** The base head's GRM and scale, for drawing the old thresholds beside the new ones. */
  baseGrm: CalibrationFit['grm'];
  baseScale: MosScale;
  /** New ability of each batch image (retrain: null where the worker has no features for it). */
  batchAbility: { id: string; ability: number | null }[];
  /**
   * Retrain: the new ability is on another axis than the base one; old thresholds are drawn on it
   * through the straight line new ≈ slope·old + intercept fitted over the rated images.
   */
  axis: { slope: number; intercept: number };
  fitMs: number;
}

export interface LoadedPack {
  pack: OpenedPack;
  packKey: string;
  runtime: GramRuntime;
}

function lineFit(x: readonly number[], y: readonly number[]): { slope: number; intercept: number } {
  const n = x.length;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
  }
  const slope = sxx > 0 ? sxy / sxx : 1;
  return { slope, intercept: my - slope * mx };
}

export class Calibrator {
  private abort: AbortController | null = null;
  private last: { fit: CalibrationFit; packKey: string; pack: OpenedPack } | null = null;

  constructor(private readonly features: FeatureCache) {}

  /** Stops the running fit at its next checkpoint; true when one was running. */
  cancel(): boolean {
    if (!this.abort) return false;
    this.abort.abort();
    return true;
  }

  async fit(loaded: LoadedPack, req: FitRequest, onProgress?: (p: FitProgress) => void): Promise<FitOutcome> {
    const m = loaded.pack.manifest;
    const head = m.heads.quality;
    if (!head || head.type !== 'onnx' || head.uncalibrated) {
      throw new AgqgError(
        'invalid_argument',
        `pack "${m.name}" has no trained quality head to calibrate: load a pack with one (the default pack has)`,
      );
    }
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    const t0 = nowMs();
    const log = (line: string) => onProgress?.({ line, elapsedMs: nowMs() - t0 });
    const checkpoint = async () => {
      await nextTask();
      if (abort.signal.aborted) throw new AgqgError('cancelled', 'the fit was cancelled');
    };
    const K = m.grades.labels.length;
    const data = {
      ratings: Float64Array.from(req.rated, (r) => r.rating),
      scale: req.scale,
      prompts: req.rated.map((r) => r.prompt),
      names: req.rated.map((r) => r.name),
      theta: Float64Array.from(req.rated, (r) => r.ability),
      base: { grm: head.grm, scale: head.mos ?? m.grades.mos },
      K,
    };
    const gram = runtimeGram(loaded.runtime);
    try {
      let fit: CalibrationFit;
      let batchAbility: FitOutcome['batchAbility'];
      let axis = { slope: 1, intercept: 0 };
      if (req.mode === 'recalibrate') {
        log(`recalibrate: ${req.rated.length} ratings`);
        fit = await recalibrate(data, { seed: req.seed, log, checkpoint });
        batchAbility = req.batch.map((b) => ({ id: b.id, ability: b.ability }));
      } else {
        const missing = req.rated.filter((r) => !this.features.get(loaded.packKey, r.id));
        if (missing.length > 0) {
          throw new AgqgError(
            'invalid_argument',
            `${missing.length} of the ${req.rated.length} rated images have no features in this session (graded before a reload, or with other weights): grade them again to retrain, or recalibrate. First: ${missing
              .slice(0, 3)
              .map((r) => r.name)
              .join(', ')}`,
          );
        }
        const dim = (this.features.get(loaded.packKey, req.rated[0].id) as Float32Array).length;
        const x = new Float64Array(req.rated.length * dim);
        req.rated.forEach((r, i) => x.set(this.features.get(loaded.packKey, r.id) as Float32Array, i * dim));
        log(`retrain: ${req.rated.length} ratings, ${dim} features each`);
        fit = await retrain(data, matrix(req.rated.length, dim, x), {
          seed: req.seed,
          log,
          checkpoint,
          gram: gram.gram,
        });
        const h = fit.head;
        if (!h) throw new AgqgError('internal', 'retrain gave no head');
        batchAbility = req.batch.map((b) => {
          const f = this.features.get(loaded.packKey, b.id);
          return { id: b.id, ability: f ? headAbility(h, f) : null };
        });
        const byId = new Map(batchAbility.map((b) => [b.id, b.ability]));
        const pairs = req.rated.map((r) => [
          r.ability,
          byId.get(r.id) ?? headAbility(h, this.features.get(loaded.packKey, r.id) as Float32Array),
        ]);
        axis = lineFit(
          pairs.map((p) => p[0] as number),
          pairs.map((p) => p[1] as number),
        );
      }
      this.last = { fit, packKey: loaded.packKey, pack: loaded.pack };
      const { head: _head, ...shown } = fit;
      return {
        fit: shown,
        packId: m.id,
        packName: m.name,
        labels: [...m.grades.labels],
        baseGrm: head.grm,
        baseScale: data.base.scale,
        batchAbility,
        axis,
        fitMs: nowMs() - t0,
      };
    } finally {
      await gram.release();
      if (this.abort === abort) this.abort = null;
    }
  }

  /** Keeps the last fit as a pack in IndexedDB; refuses a name that is taken unless `replace`. */
  async save(
    name: string,
    packKey: string,
    taken: (id: string) => Promise<boolean>,
    replace = false,
  ): Promise<SavedPackInfo> {
    const last = this.last;
    if (!last) throw new AgqgError('invalid_argument', 'there is no fit to save: press Fit first');
    if (last.packKey !== packKey) {
      throw new AgqgError(
        'invalid_argument',
        'the fit was made with another pack than the one loaded now: fit again',
      );
    }
    const m = last.pack.manifest;
    const baseHeadBytes =
      last.fit.mode === 'recalibrate' && m.heads.quality?.type === 'onnx'
        ? await readPackFile(last.pack, m.heads.quality.file)
        : null;
    const built = await buildCalibratedPack({
      base: m,
      fit: last.fit,
      name,
      date: new Date().toISOString(),
      baseHeadBytes,
    });
    if (!replace && (await taken(built.manifest.id))) {
      throw new AgqgError(
        'invalid_argument',
        `a pack named "${name.trim()}" is already kept in this browser: choose another name`,
      );
    }
    return putSavedPack({
      id: built.manifest.id,
      name: built.manifest.name,
      files: Object.fromEntries(built.files),
      savedAt: new Date().toISOString(),
    });
  }
}
