// The decoding stage of the worker's grading pipeline (header check, browser
// decode, thumbnail), kept apart from inference (encoders and heads, in the
// session queue) so the next images decode while the current ones are in the encoder.
import { nowMs } from '../model/clock';
import type { RgbaImage } from '../model/image';
import type { DecodeRequest } from './chunks';
import { decodeImage, thumbnail } from './decode';

export { CHUNK_PIXELS, planChunks, type DecodeRequest } from './chunks';

/** Longest edge of the card thumbnails, in pixels (cards show them at up to half this, on 2x screens). */
export const THUMB_EDGE = 320;

export interface DecodedItem<R extends DecodeRequest = DecodeRequest> {
  req: R;
  /** Null when the file could not be decoded (see `error`). */
  image: RgbaImage | null;
  thumbnail: Blob | null;
  decodeMs: number;
  thumbnailMs: number;
  error: unknown;
}

/** Decodes one file and makes its card thumbnail; a bad file comes back with `error`, never thrown. */
export async function decodeForGrading<R extends DecodeRequest>(req: R): Promise<DecodedItem<R>> {
  const t0 = nowMs();
  let decoded: Awaited<ReturnType<typeof decodeImage>>;
  try {
    decoded = await decodeImage(req.bytes, req.name);
  } catch (err) {
    return { req, image: null, thumbnail: null, decodeMs: nowMs() - t0, thumbnailMs: 0, error: err };
  }
  const t1 = nowMs();
  let thumb: Blob | null = null;
  try {
    thumb = await thumbnail(decoded.bitmap, THUMB_EDGE);
  } catch {
    // The card then shows no picture; the grade does not depend on it.
  } finally {
    // Only the thumbnail needs the bitmap; the RGBA copy is what the encoder reads.
    decoded.bitmap.close();
  }
  return { req, image: decoded.image, thumbnail: thumb, decodeMs: t1 - t0, thumbnailMs: nowMs() - t1, error: null };
}
