// How the worker cuts a batch into chunks that share one encoder run: by
// declared (header) pixels, so the decoded images a chunk holds stay bounded
// whatever their dimensions. No DOM here: Node tests import it.
import { readImageHeader } from '../model/image/image-header.ts';
import { MAX_IMAGE_PIXELS } from '../model/limits.ts';

/**
 * Decoded pixels one chunk may hold: as many as the largest image the grader accepts, so a
 * chunk of small images costs no more memory than one image at the limit.
 */
export const CHUNK_PIXELS = MAX_IMAGE_PIXELS;

export interface DecodeRequest {
  id: string;
  name: string;
  bytes: ArrayBuffer;
  prompt: string | null;
}

/** Declared pixels of a file (0 when its header is unreadable: it fails fast in decoding). */
function declaredPixels(bytes: ArrayBuffer, name: string): number {
  try {
    const h = readImageHeader(new Uint8Array(bytes), name);
    return h.width * h.height;
  } catch {
    return 0;
  }
}

/** Consecutive chunks of at most `maxPixels` declared pixels each (at least one request per chunk). */
export function planChunks<R extends DecodeRequest>(reqs: readonly R[], maxPixels = CHUNK_PIXELS): R[][] {
  const chunks: R[][] = [];
  let current: R[] = [];
  let pixels = 0;
  for (const r of reqs) {
    const p = declaredPixels(r.bytes, r.name);
    if (p > 0 && current.length > 0 && pixels + p > maxPixels) {
      chunks.push(current);
      current = [];
      pixels = 0;
    }
    current.push(r);
    pixels += p;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
