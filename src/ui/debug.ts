// With ?debug=1 the page puts its developer globals on window, all of them installed here:
// __agqg (the raw encoder outputs of the loaded pack, which the e2e parity test drives, and the
// worker's backend and run context), __agqgBench (encoder timings for the bench) and __agqgRun
// (the last grading run's timings). Off by default, so nothing on a normal page depends on them.
import * as Comlink from 'comlink';
import type { ImageResult } from '../model/grading/result.ts';
import type { EmbedRequest, EncoderBenchRequest, StageTimings } from '../worker/api.ts';
import { useStore } from './store.ts';
import { debugEnabled } from './url-params.ts';
import { scorer } from './worker-client.ts';

/** One image of a grading run, as the developer stats keep it. */
export interface RunImageStats {
  name: string;
  /** Handed to the worker -> result back on the page. */
  latencyMs: number;
  stages: StageTimings;
  timings: ImageResult['timings'];
  error: string | null;
}

/** The last grading run's timings (window.__agqgRun with ?debug=1; the benchmark reads them). */
export interface RunStats {
  batchSize: number;
  images: number;
  /** First request sent -> last result stored. */
  wallMs: number;
  perImage: RunImageStats[];
  done: boolean;
}

interface DebugWindow {
  __agqg?: ReturnType<typeof debugApi>;
  __agqgBench?: ReturnType<typeof benchApi>;
  __agqgRun?: RunStats;
}

function debugApi() {
  return {
    /** Image and text embeddings from the loaded pack; image bytes are transferred (the caller's buffers are emptied). */
    embed: (req: EmbedRequest) => scorer().embed(Comlink.transfer(req, req.images ?? [])),
    backendInfo: () => scorer().backendInfo(),
    /** Which kind of task the worker's WASM runs start from, and how often slow runs moved them. */
    runContext: () => scorer().runContext(),
    /** Destroys the worker's WebGPU device (a simulated device loss); value false when none runs. */
    loseGpuDevice: () => scorer().loseGpuDevice(),
    /** The loaded pack's summary (variant in use, heads, backend). */
    pack: () => useStore.getState().pack,
  };
}

function benchApi() {
  return {
    /** Times the loaded vision encoder in the worker. */
    encoder: (req: EncoderBenchRequest) => scorer().benchEncoder(req),
    /** Times a calibration fit on synthetic rated images in the worker (bench/calibration-fit.ts). */
    calibrationFit: (req: { n: number; mode: 'recalibrate' | 'retrain' }) =>
      scorer().benchCalibrationFit(req),
  };
}

/** Installs window.__agqg and window.__agqgBench when the page was opened with ?debug=1. */
export function installDebugGlobals(search = location.search): void {
  if (!debugEnabled(search)) return;
  const w = window as unknown as DebugWindow;
  w.__agqg = debugApi();
  w.__agqgBench = benchApi();
}

/** Puts a grading run's stats (updated in place as it goes) on window.__agqgRun with ?debug=1. */
export function publishRun(stats: RunStats): void {
  if (debugEnabled()) (window as unknown as DebugWindow).__agqgRun = stats;
}
