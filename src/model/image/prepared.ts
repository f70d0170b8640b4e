// An image already turned into the vision encoder's input tensors where it was
// decoded (the CLI's decode workers), so the thread that runs the encoder only
// copies them into the batch. Preparing runs the same preprocess() as the
// scorer would, so a prepared image gives the same floats by construction.
import { nowMs } from '../util/clock.ts';
import { AgqgError } from '../errors.ts';
import type { RgbaImage } from './image.ts';
import { outputSize, preprocess, type PreprocessConfig } from './preprocess.ts';

/** RGB planes of an encoder's image input. */
const CHANNELS = 3;

export interface PreparedImage {
  /** Size of the decoded image, before preprocessing. */
  width: number;
  height: number;
  /** One [3, H, W] float32 tensor per vision input, in the manifest's order. */
  inputs: Float32Array[];
  /** Time spent preparing them, in milliseconds. */
  preprocessMs: number;
  /** The decoded image's caveat (see caveat.ts), carried along. */
  caveat?: string | null;
}

/** What the scorer embeds: decoded pixels, or tensors prepared from them elsewhere. */
export type EncoderImage = RgbaImage | PreparedImage;

export const isPrepared = (img: EncoderImage): img is PreparedImage => 'inputs' in img;

/** Preprocesses `img` for each config (the pack's vision inputs, in order). */
export function prepareImage(img: RgbaImage, configs: readonly PreprocessConfig[]): PreparedImage {
  const t0 = nowMs();
  const inputs = configs.map((cfg) => preprocess(img, cfg).data);
  return { width: img.width, height: img.height, inputs, preprocessMs: nowMs() - t0, caveat: img.caveat };
}

/** Input `k`'s tensor, checked against the size preprocessing with `cfg` gives this image. */
export function preparedInput(img: PreparedImage, k: number, cfg: PreprocessConfig): Float32Array {
  const t = img.inputs[k];
  const { width, height } = outputSize(img, cfg);
  const want = CHANNELS * width * height;
  if (!t || t.length !== want) {
    throw new AgqgError(
      'internal',
      `prepared input ${k} holds ${t?.length ?? 0} floats; the encoder needs ${want} (3x${height}x${width})`,
    );
  }
  return t;
}
