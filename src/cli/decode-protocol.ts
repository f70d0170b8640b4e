// Messages between the decode pool and its worker threads.
import type { ErrorInfo } from '../model/errors.ts';
import type { PreprocessConfig } from '../model/image/preprocess.ts';
import type { ReadStages } from './image-reader.ts';
import type { JpegDecoderChoice } from './jpeg-native.ts';

export interface DecodeRequest {
  id: number;
  path: string;
  /** The image's bytes when they are not read from `path` (moved to the worker, not copied). */
  bytes?: Uint8Array;
  /** The pack's vision input configs: the worker prepares the encoder's tensors. Null: pixels. */
  prepare: PreprocessConfig[] | null;
  jpeg: JpegDecoderChoice;
}

interface Reply {
  id: number;
  ok: true;
  width: number;
  height: number;
  /** The image's caveat (tiny, single colour), see src/model/image/caveat.ts. */
  caveat: string | null;
  stages: ReadStages;
}

/** Either `inputs` (prepared tensors, one per vision input) or `data` (RGBA pixels). */
export type DecodeReply =
  | (Reply & { inputs: Float32Array[] })
  | (Reply & { data: Uint8Array })
  | { id: number; ok: false; error: ErrorInfo };
