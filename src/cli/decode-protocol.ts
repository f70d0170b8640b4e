// Messages between the decode pool and its worker threads.
import type { ErrorInfo } from '../model/errors';
import type { PreprocessConfig } from '../model/preprocess';
import type { ReadStages } from './image-reader';

export interface DecodeRequest {
  id: number;
  path: string;
  /** The pack's vision input configs: the worker prepares the encoder's tensors. Null: pixels. */
  prepare: PreprocessConfig[] | null;
}

/** Either `inputs` (prepared tensors, one per vision input) or `data` (RGBA pixels). */
export type DecodeReply =
  | { id: number; ok: true; width: number; height: number; inputs: Float32Array[]; stages: ReadStages }
  | { id: number; ok: true; width: number; height: number; data: Uint8Array; stages: ReadStages }
  | { id: number; ok: false; error: ErrorInfo };
