// Reading one image file for scoring: bytes, decode, and (when the pack allows
// it exactly, see pre-resize.ts) the resize to the encoder's input size, each
// timed, on whichever thread calls it (the decode workers or the main thread).
import { basename } from 'node:path';
import type { RgbaImage } from '../model/image';
import type { PreprocessConfig } from '../model/preprocess';
import { decodeImage, readImageBytes } from './decode';
import { preResize } from './pre-resize';

/** Time in each step of reading one file, in milliseconds. */
export interface ReadStages {
  readMs: number;
  decodeMs: number;
  /** The resize to the encoder's size done with decoding (0 when the image is passed on whole). */
  resizeMs: number;
}

export interface DecodedFile {
  img: RgbaImage;
  stages: ReadStages;
}

/** Where images are read and decoded; results come back per call, errors as AgqgError rejections. */
export interface ImageReader {
  read(path: string): Promise<DecodedFile>;
  close(): Promise<void>;
}

export async function readDecodeResize(path: string, resize: PreprocessConfig | null): Promise<DecodedFile> {
  const t0 = performance.now();
  const bytes = await readImageBytes(path);
  const t1 = performance.now();
  const full = decodeImage(bytes, basename(path));
  const t2 = performance.now();
  const img = resize ? preResize(full, resize) : full;
  const t3 = performance.now();
  return { img, stages: { readMs: t1 - t0, decodeMs: t2 - t1, resizeMs: t3 - t2 } };
}

/** Decodes on the calling thread: no overlap with inference, which blocks that thread. */
export function mainThreadReader(resize: PreprocessConfig | null = null): ImageReader {
  return { read: (path) => readDecodeResize(path, resize), close: async () => {} };
}
