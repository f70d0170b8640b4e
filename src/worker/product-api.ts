// The product API of the worker: what the page calls to list and load packs, grade images and
// prompts, and cancel. Every session creation and run goes through the one session queue.
import type { ImageResult } from '../model/grading/result.ts';
import { gradeKeptEmbedding, gradeRequests } from './grading.ts';
import type { BackendChoice } from './ort-web.ts';
import { listServedPacks, loadPackNow } from './packs.ts';
import {
  outcome,
  type Graded,
  type GradeRequest,
  type LoadOptions,
  type Outcome,
  type PackListing,
  type PackRequest,
  type PackSummary,
  type ProgressFn,
  type PromptRegradeRequest,
} from './protocol.ts';
import { calibrationApi } from './calibration-api.ts';
import { listSavedPacks } from './saved-packs.ts';
import { decodeLane, queue, state } from './state.ts';

export const productApi = {
  /** Packs served with the site, from models/index.json (empty when there is none). */
  async listPacks(): Promise<Outcome<PackListing[]>> {
    const served = await outcome(listServedPacks);
    if (!served.ok) return served;
    // Packs kept in this browser follow the served ones; an unreadable store hides them, not the site's packs.
    const saved = await listSavedPacks().catch(() => []);
    const kept = saved.map((p) => ({
      id: p.id,
      name: `${p.name} (kept in this browser)`,
      description: p.description,
      saved: true,
    }));
    return { ok: true, value: [...served.value, ...kept] };
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
    return outcome(() => queue.enqueue(() => gradeKeptEmbedding(req)));
  },

  /** Drops every queued request (they resolve as `cancelled`); the running one stops at its next checkpoint. */
  async cancel(): Promise<number> {
    decodeLane.cancel();
    return queue.cancel();
  },

  // Calibration (issue 26): fit, cancel, keep as a pack, list, delete, export (calibration-api.ts).
  ...calibrationApi({
    loaded: () =>
      state.pack && state.runtime
        ? { pack: state.pack, packKey: state.packKey, runtime: state.runtime }
        : null,
    enqueue: (f) => queue.enqueue(f),
  }),
};
