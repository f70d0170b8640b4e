// Reading one image file for scoring: bytes, decode, and (once the pack is
// known) preprocessing into the encoder's input tensors, each timed, on
// whichever thread calls it (the decode workers or the main thread).
import { nowMs } from '../model/util/clock.ts';
import type { PreprocessConfig } from '../model/image/preprocess.ts';
import { prepareImage, type EncoderImage } from '../model/image/prepared.ts';
import { decodeImageAsync, readImageBytes } from './decode.ts';
import type { JpegDecoderChoice } from './jpeg-native.ts';

/** Time in each step of reading one file, in milliseconds. */
export interface ReadStages {
  readMs: number;
  decodeMs: number;
  /** Preprocessing done with decoding (0 when the image is passed on as pixels). */
  preprocessMs: number;
}

export interface DecodedFile {
  img: EncoderImage;
  stages: ReadStages;
}

/** Where images are read and decoded; results come back per call, errors as AgqgError rejections. */
export interface ImageReader {
  /** `bytes`: the image itself when it is not read from `path` (a shard's member, named by `path`). */
  read(path: string, bytes?: Uint8Array): Promise<DecodedFile>;
  close(): Promise<void>;
}

/** Decoded pixels' buffer, reused for the next image prepared on this thread (no page faults, no GC). */
let scratch: Uint8Array | null = null;
/** Larger buffers (a 4000x4000 image once) are not held on to. */
const SCRATCH_MAX_BYTES = 64 * 1024 * 1024;

function keepAsScratch(data: Uint8Array | Uint8ClampedArray): void {
  if (scratch && data.buffer === scratch.buffer) return;
  const whole =
    data.byteOffset === 0 &&
    data.buffer instanceof ArrayBuffer &&
    data.buffer.byteLength <= SCRATCH_MAX_BYTES;
  if (whole && data.buffer.byteLength > (scratch?.byteLength ?? 0)) scratch = new Uint8Array(data.buffer);
}

/**
 * Reads and decodes `path` (or `given`, its bytes already read), then, given the pack's vision
 * input configs, prepares the encoder's tensors from it, so the thread running the encoder only
 * copies them.
 */
export async function readAndPrepare(
  path: string,
  prepare: readonly PreprocessConfig[] | null,
  jpeg: JpegDecoderChoice = 'auto',
  given?: Uint8Array,
): Promise<DecodedFile> {
  const t0 = nowMs();
  const bytes = given ?? (await readImageBytes(path));
  const t1 = nowMs();
  // Pixels that are only prepared here never leave this thread: they go to one reused buffer.
  // Errors name the file as it was given (the command line's path, or the folder's path joined to its name).
  const pixels = await decodeImageAsync(bytes, path, prepare ? { jpeg, into: scratch } : { jpeg });
  const t2 = nowMs();
  const img = prepare ? prepareImage(pixels, prepare) : pixels;
  if (prepare) keepAsScratch(pixels.data);
  return { img, stages: { readMs: t1 - t0, decodeMs: t2 - t1, preprocessMs: nowMs() - t2 } };
}

/** Decodes on the calling thread: no overlap with inference, which blocks that thread. */
export function mainThreadReader(jpeg: JpegDecoderChoice = 'auto'): ImageReader {
  return { read: (path, bytes) => readAndPrepare(path, null, jpeg, bytes), close: async () => {} };
}
