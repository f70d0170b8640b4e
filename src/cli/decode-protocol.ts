// Messages between the decode pool and its worker threads.
import type { ErrorInfo } from '../model/errors';
import type { PreprocessConfig } from '../model/preprocess';
import type { ReadStages } from './image-reader';

export interface DecodeRequest {
  id: number;
  path: string;
  resize: PreprocessConfig | null;
}

export type DecodeReply =
  | { id: number; ok: true; width: number; height: number; data: Uint8Array; stages: ReadStages }
  | { id: number; ok: false; error: ErrorInfo };
