// The decoded-image currency shared by browser decoders (ImageData), Node
// decoders (src/cli/decode.ts) and preprocessing.
import { AgqgError } from '../errors.ts';
import { MAX_IMAGE_PIXELS } from '../limits.ts';

/** 4 bytes per pixel, RGBA, not premultiplied, rows top to bottom. Greyscale sources deliver R=G=B. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array | Uint8ClampedArray;
  /** Set by the decoders when the image is too small or plain to judge (see caveat.ts). */
  caveat?: string | null;
}

/** Throws a specific AgqgError unless `img` is a well-formed RgbaImage within the pixel limit. */
export function assertRgbaImage(img: RgbaImage): void {
  const { width, height } = img;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new AgqgError('decode_failed', `image has no pixels (${width}x${height})`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new AgqgError(
      'image_too_large',
      `image is ${width}x${height} = ${width * height} pixels, over the limit of ${MAX_IMAGE_PIXELS}`,
    );
  }
  if (img.data.length < width * height * 4) {
    // A caller bug, not a bad file: the buffer does not hold width*height RGBA pixels.
    throw new AgqgError(
      'internal',
      `RGBA buffer holds ${img.data.length} bytes, ${width}x${height} needs ${width * height * 4}`,
    );
  }
}
