// The wire protocol between the page and the worker: what the worker's API takes, returns and
// reports as progress. The page imports these types (through api.ts); nothing here runs ORT.
import { toErrorInfo, type ErrorInfo } from '../model/errors.ts';
import type { VariantDtype } from '../model/pack/manifest.ts';
import type { ImageResult } from '../model/grading/result.ts';
import type { LoadProgress } from '../model/scoring/scorer.ts';
import type { EncoderBenchRequest, EncoderBenchResult } from './encoder-bench.ts';
import type { StageTimings } from './grade.ts';
import type { BackendInfo, SessionTuning } from './ort-web.ts';
import type { LocalFile } from './pack-sources.ts';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

export interface PackListing {
  id: string;
  name: string;
  description: string;
  /** Set for a pack kept in this browser (a calibration saved from the page). */
  saved?: boolean;
}

export type PackRequest = { kind: 'url'; id: string } | { kind: 'files'; files: LocalFile[]; label?: string };

export interface LoadOptions {
  /** Weight variant of the encoders (fp32, fp16, q8, ...); absent: the backend's default (see variants.ts). */
  variant?: VariantDtype;
  /**
   * WASM threads (?threads=N); absent: one per core. Only the first load of a worker can set it
   * (the WASM runtime starts once); PackSummary.backend.threads says what runs.
   */
  threads?: number;
  /** Session options (?ort=...), for measuring them; absent: the defaults in ort-web.ts. */
  tuning?: SessionTuning;
}

/** The weights a loaded pack runs with. */
export interface VariantInUse {
  /** Vision variant (the one the user picks; the text encoder follows when it has the same). */
  dtype: VariantDtype;
  /** Every vision variant the pack has, in the manifest's order. */
  available: VariantDtype[];
  visionFile: string;
  textDtype: VariantDtype | null;
  textFile: string | null;
  reason: string;
}

export type WorkerProgress =
  | {
      kind: 'pack';
      stage: LoadProgress['stage'] | 'manifest' | 'read' | 'settle';
      path?: string;
      loaded?: number;
      total?: number;
    }
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
  variant: VariantInUse;
  /**
   * Identifies the pack and weights that produced an image embedding: an embedding kept by the
   * page can be graded again (new prompt) only while the same key is loaded.
   */
  packKey: string;
  source: 'url' | 'files';
  /** Absolute URLs of every file the pack was loaded from (served packs only), for the offline cache. */
  urls: string[];
  backend: BackendInfo;
  loadMs: number;
  /** Of loadMs, the time spent waiting for the browser to finish compiling the runtime (settle.ts). */
  settleMs: number;
  /** False when that wait stopped at its cap with the CPU still busy. */
  settled: boolean;
  /** Images per encoder run the pack asks for on the backend in use; null: the page's default. */
  imagesPerRun: number | null;
}

export interface GradeRequest {
  id: string;
  name: string;
  bytes: ArrayBuffer;
  prompt: string | null;
}

export type { StageTimings, SessionTuning, EncoderBenchRequest, EncoderBenchResult };

export interface Graded {
  id: string;
  result: ImageResult;
  /** Where this image's time went in the worker (encoder and text runs shared out over the batch). */
  stages: StageTimings;
  thumbnail: Blob | null;
  width: number | null;
  height: number | null;
  /** The image embedding (null when the image failed), so a new prompt is graded without the image again. */
  features: Float32Array | null;
  packKey: string;
}

export interface PromptRegradeRequest {
  name: string;
  prompt: string | null;
  /** Image embedding and the packKey it came from (Graded.features, Graded.packKey). */
  features: Float32Array;
  packKey: string;
}

export interface EmbedRequest {
  images?: ArrayBuffer[];
  texts?: string[];
  /** Also return each image's preprocessed model input (NCHW float32 of the first vision input). */
  pixels?: boolean;
  /** Also return each image's decoded RGBA bytes (as the browser's decoder gave them). */
  rgba?: boolean;
}

export interface ImageEmbeddingOut {
  width: number | null;
  height: number | null;
  embedding: Float32Array | null;
  pixelValues: Float32Array | null;
  rgba: Uint8Array | Uint8ClampedArray | null;
  error: ErrorInfo | null;
}

export interface TextEmbeddingOut {
  text: string;
  embedding: Float32Array;
  /** Tokens fed to the encoder after truncation, with the start and end markers. */
  tokens: number;
  truncated: boolean;
}

export interface Embeddings {
  images: ImageEmbeddingOut[];
  texts: TextEmbeddingOut[];
  backend: BackendInfo;
  variant: VariantInUse;
}

/** Runs a call of the API: what it throws comes back as the error of the outcome. */
export async function outcome<T>(f: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await f() };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err) };
  }
}
