// Images too small or too plain to judge: they are still graded (a grade is
// what was asked for), but the result says why the grade means little, on the
// page's card and in the CLI's note column, JSON and CSV (qualityNote).
import { MIN_USEFUL_IMAGE_EDGE } from '../limits.ts';
import type { RgbaImage } from './image.ts';

/** Why a grade of this image says little, or null for an ordinary image. Reads RGB only (alpha is dropped). */
export function imageCaveat(img: RgbaImage): string | null {
  const { width, height, data } = img;
  if (Math.min(width, height) < MIN_USEFUL_IMAGE_EDGE) {
    return `the image is ${width}x${height} pixels, below the ${MIN_USEFUL_IMAGE_EDGE} pixels a side the encoder needs to see detail: its grade says little`;
  }
  const n = width * height * 4;
  const [r, g, b] = [data[0], data[1], data[2]];
  for (let i = 4; i < n; i += 4) if (data[i] !== r || data[i + 1] !== g || data[i + 2] !== b) return null;
  const hex = [r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `the image is a single colour (#${hex}): there is nothing in it to judge, so its grade says little`;
}

/** The quality note of a graded result: why quality is missing, else the image's caveat. */
export function qualityNoteWith(
  g: { quality: unknown; qualityNote: string | null },
  caveat: string | null | undefined,
): string | null {
  return g.quality ? (caveat ?? null) : g.qualityNote;
}
