// Turning command-line image arguments into a list of files. Folders expand to
// the images they hold (by extension, sorted), and to those of their subfolders
// unless recursion is off; a symbolic link back to a folder already read is read
// once (no loops). Files named explicitly are kept as given, so a bad one still
// gets its own error entry. Whatever is left out is counted, so the caller can
// say so: a run never covers less than was asked without a word.
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { AgqgError } from '../model/errors.ts';
import type { RgbaImage } from '../model/image/image.ts';
import { decodeImageFile, fileError } from './decode.ts';
import type { CliIO } from './io.ts';

/** Extensions of the formats the grader reads (the page's list too). */
export const READABLE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.jpg',
  '.jpeg',
  '.jfif',
  '.png',
  '.webp',
  '.gif',
  '.bmp',
  '.avif',
]);

/**
 * Image formats the grader does not read. A folder's files in them are still listed, so each
 * gets its unsupported_format entry instead of vanishing from the run.
 */
export const OTHER_IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  '.tif',
  '.tiff',
  '.heic',
  '.heif',
  '.jxl',
  '.jp2',
  '.svg',
  '.psd',
  '.ico',
]);

/** Extensions a folder expands to; files named explicitly are tried whatever their name. */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set([
  ...READABLE_EXTENSIONS,
  ...OTHER_IMAGE_EXTENSIONS,
]);

const collator = new Intl.Collator('en', { numeric: true });

export interface ExpandOptions {
  /** Descend into subfolders (default true; `--no-recursive` turns it off). */
  recursive?: boolean;
}

export interface ExpandedInputs {
  files: string[];
  /** Paths that failed before any file was read (a folder that cannot be listed): error entries. */
  errors: Map<string, AgqgError>;
  /** Folders given with no image in them, subfolders included (a warning, not an error). */
  emptyDirs: string[];
  /** Without recursion: subfolders left out, and the images found in them. */
  skippedSubfolders: { folders: number; images: number };
  /** Files with image extensions whose names start with "." (left out, as ripgrep and fd do). */
  hiddenImages: number;
  /** Symbolic links to a folder already read (a loop, or the same folder twice): read once. */
  repeatedFolders: string[];
}

const isImageName = (name: string): boolean => IMAGE_EXTENSIONS.has(extname(name).toLowerCase());

/** Folder identity (device and inode), so a folder reached twice through links is read once. */
const folderId = (s: { dev: number; ino: number }): string => `${s.dev}:${s.ino}`;

export async function expandImageArgs(
  args: readonly string[],
  opts: ExpandOptions = {},
): Promise<ExpandedInputs> {
  const recursive = opts.recursive ?? true;
  const out: ExpandedInputs = {
    files: [],
    errors: new Map(),
    emptyDirs: [],
    skippedSubfolders: { folders: 0, images: 0 },
    hiddenImages: 0,
    repeatedFolders: [],
  };
  const seen = new Set<string>();

  /** Lists `dir`'s images into `sink` (or only counts them); returns how many it found. */
  const walk = async (dir: string, include: boolean): Promise<number> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (include) {
        const err = fileError(dir, e);
        const message = err.message.replace(' cannot be read: ', ' (a folder) cannot be listed: ');
        out.errors.set(dir, new AgqgError(err.code, message, { cause: e }));
        out.files.push(dir);
      }
      return 0;
    }
    entries.sort((a, b) => collator.compare(a.name, b.name));
    let found = 0;
    const subdirs: string[] = [];
    for (const d of entries) {
      const path = join(dir, d.name);
      let isDir = d.isDirectory();
      if (d.isSymbolicLink()) {
        // A link counts as what it leads to; one that leads nowhere is listed when named like an image.
        const target = await stat(path).catch(() => null);
        isDir = target?.isDirectory() ?? false;
      }
      if (isDir) {
        subdirs.push(path);
        continue;
      }
      if (!isImageName(d.name)) continue;
      if (d.name.startsWith('.')) {
        if (include) out.hiddenImages++;
        continue;
      }
      found++;
      if (include) out.files.push(path);
    }
    for (const sub of subdirs) {
      if (sub.split(/[\\/]/).pop()?.startsWith('.')) continue;
      const s = await stat(sub).catch(() => null);
      if (!s) continue;
      const id = folderId(s);
      if (seen.has(id)) {
        if (include) out.repeatedFolders.push(sub);
        continue;
      }
      seen.add(id);
      const n = await walk(sub, include && recursive);
      found += n;
      if (include && !recursive) {
        out.skippedSubfolders.folders++;
        out.skippedSubfolders.images += n;
      }
    }
    return found;
  };

  for (const arg of args) {
    const s = await stat(arg).catch(() => null);
    if (!s?.isDirectory()) {
      // Missing, a link loop, a FIFO...: the reader names what is wrong with it.
      out.files.push(arg);
      continue;
    }
    const id = folderId(s);
    if (seen.has(id)) continue;
    seen.add(id);
    const before = out.files.length;
    const n = await walk(arg, true);
    if (n === 0 && out.files.length === before) out.emptyDirs.push(arg);
  }
  return out;
}

/** Says on stderr what the folders held that this run leaves out, with counts. */
export function reportLeftOut(inputs: ExpandedInputs, io: CliIO): void {
  const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
  for (const d of inputs.emptyDirs)
    io.err(`warning: ${d} holds no images (PNG, JPEG, WebP, GIF, BMP, AVIF), subfolders included\n`);
  const sub = inputs.skippedSubfolders;
  if (sub.folders > 0)
    io.err(
      `warning: not included (--no-recursive): ${plural(sub.images, 'image')} in ${plural(sub.folders, 'subfolder')}\n`,
    );
  if (inputs.hiddenImages > 0)
    io.err(
      `warning: not included: ${plural(inputs.hiddenImages, 'hidden file')} named like images (names starting with "."; name them to grade them)\n`,
    );
  for (const f of inputs.repeatedFolders)
    io.err(`note: ${f} leads to a folder already read (a symbolic link loop or a second link); read once\n`);
}

/** Decodes one file; errors (not_found, not_a_file, unreadable, decode errors...) name it as given. */
export async function readImage(path: string): Promise<{ img: RgbaImage; decodeMs: number }> {
  const t0 = performance.now();
  const img = await decodeImageFile(path);
  return { img, decodeMs: performance.now() - t0 };
}
