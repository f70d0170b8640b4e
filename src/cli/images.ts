// Turning command-line image arguments into a list of files: folders expand
// to the images they hold (by extension, sorted), files are kept as given so
// a bad one still gets its own error entry.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { decodeImageFile } from './decode.ts';

/** Extensions a folder expands to; files named explicitly are tried whatever their name. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.bmp',
  '.avif',
]);

const collator = new Intl.Collator('en', { numeric: true });

export interface ExpandedInputs {
  files: string[];
  /** Arguments that do not exist; each becomes an error entry. */
  missing: string[];
  /** Folders with no image in them (a warning, not an error). */
  emptyDirs: string[];
}

export async function expandImageArgs(args: readonly string[]): Promise<ExpandedInputs> {
  const out: ExpandedInputs = { files: [], missing: [], emptyDirs: [] };
  for (const arg of args) {
    const s = await stat(arg).catch(() => null);
    if (!s) {
      out.missing.push(arg);
      out.files.push(arg);
    } else if (s.isDirectory()) {
      const names = (await readdir(arg, { withFileTypes: true }))
        .filter(
          (d) => (d.isFile() || d.isSymbolicLink()) && IMAGE_EXTENSIONS.has(extname(d.name).toLowerCase()),
        )
        .map((d) => d.name)
        .sort(collator.compare);
      if (names.length === 0) out.emptyDirs.push(arg);
      for (const n of names) out.files.push(join(arg, n));
    } else {
      out.files.push(arg);
    }
  }
  return out;
}

/** Decodes one file; a missing file is a decode_failed naming it, like any other unreadable input. */
export async function readImage(path: string): Promise<{ img: RgbaImage; decodeMs: number }> {
  const t0 = performance.now();
  const s = await stat(path).catch(() => null);
  if (!s) throw new AgqgError('decode_failed', `${path}: no such file`);
  if (s.isDirectory()) throw new AgqgError('decode_failed', `${path} is a folder, not an image`);
  const img = await decodeImageFile(path);
  return { img, decodeMs: performance.now() - t0 };
}
