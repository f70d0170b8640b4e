// The decoding stage of the worker's grading pipeline (header check, browser
// decode, thumbnail), kept apart from inference (encoders and heads, in the
// session queue) so the next images decode while the current ones are in the encoder.
import { nowMs } from '../model/util/clock.ts';
import type { RgbaImage } from '../model/image/image.ts';
import type { DecodeRequest } from './chunks.ts';
import { decodeImage, thumbnail } from './decode.ts';

export { CHUNK_PIXELS, planChunks, type DecodeRequest } from './chunks.ts';

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

/**
 * Time the worker's thread spent in inference, so decoding done ahead can leave out the time its
 * continuations waited behind an encoder run (the run blocks this thread) from its own time.
 */
export class BusyClock {
  private total = 0;
  private since: number | null = null;
  start(): void {
    this.since ??= nowMs();
  }
  stop(): void {
    if (this.since !== null) this.total += nowMs() - this.since;
    this.since = null;
  }
  /** Busy time so far, the running stretch included. */
  read(): number {
    return this.total + (this.since === null ? 0 : nowMs() - this.since);
  }
}

/** Decodes one file and makes its card thumbnail; a bad file comes back with `error`, never thrown. */
export async function decodeForGrading<R extends DecodeRequest>(
  req: R,
  busy?: BusyClock,
): Promise<DecodedItem<R>> {
  const own = (from: number, busyFrom: number): number =>
    Math.max(0, nowMs() - from - ((busy?.read() ?? 0) - busyFrom));
  const t0 = nowMs();
  const b0 = busy?.read() ?? 0;
  let decoded: Awaited<ReturnType<typeof decodeImage>>;
  try {
    decoded = await decodeImage(req.bytes, req.name);
  } catch (err) {
    return { req, image: null, thumbnail: null, decodeMs: own(t0, b0), thumbnailMs: 0, error: err };
  }
  const decodeMs = own(t0, b0);
  const t1 = nowMs();
  const b1 = busy?.read() ?? 0;
  let thumb: Blob | null = null;
  try {
    thumb = await thumbnail(decoded.bitmap, THUMB_EDGE);
  } catch {
    // The card then shows no picture; the grade does not depend on it.
  } finally {
    // Only the thumbnail needs the bitmap; the RGBA copy is what the encoder reads.
    decoded.bitmap.close();
  }
  return { req, image: decoded.image, thumbnail: thumb, decodeMs, thumbnailMs: own(t1, b1), error: null };
}
