// A labelled image folder for training: labels.csv (name, prompt, the target
// column) next to the images (in images/ or the folder itself). Generator
// settings ("midjourney_lowstep", "sd1.5_highcorr", ...) are the file name
// without its trailing _<index>.<ext>; they group the within-generator metrics.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseCsvTable } from '../../model/csv';
import { AgqgError } from '../../model/errors';

export const TARGETS = ['mos_quality', 'mos_align'] as const;
export type Target = (typeof TARGETS)[number];

export const LABELS_FILE = 'labels.csv';

export interface Dataset {
  dir: string;
  imageDir: string;
  labelsPath: string;
  labelsText: string;
  names: string[];
  prompts: string[];
  generators: string[];
  /** The target column, one value per image. */
  mos: Float64Array;
  target: Target;
}

export function generatorOf(name: string): string {
  return name.replace(/_\d+\.[^.]+$/, '');
}

async function isDir(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  return s?.isDirectory() ?? false;
}

export async function loadDataset(dir: string, target: Target): Promise<Dataset> {
  const abs = resolve(dir);
  if (!(await isDir(abs))) throw new AgqgError('unsupported_format', `dataset folder ${abs} does not exist`);
  const labelsPath = join(abs, LABELS_FILE);
  const labelsText = await readFile(labelsPath, 'utf8').catch(() => null);
  if (labelsText === null) throw new AgqgError('unsupported_format', `${abs} has no ${LABELS_FILE}`);
  const table = parseCsvTable(labelsText, labelsPath);
  for (const col of ['name', 'prompt', target]) {
    if (!table.header.includes(col)) {
      throw new AgqgError('unsupported_format', `${labelsPath} has no "${col}" column (it has ${table.header.join(', ')})`);
    }
  }
  if (table.rows.length === 0) throw new AgqgError('unsupported_format', `${labelsPath} lists no images`);
  const imageDir = (await isDir(join(abs, 'images'))) ? join(abs, 'images') : abs;
  const seen = new Set<string>();
  const mos = new Float64Array(table.rows.length);
  table.rows.forEach((r, i) => {
    const name = r.name;
    if (!name || name.includes('/') || name.includes('\\') || name === '..') {
      throw new AgqgError('unsupported_format', `${labelsPath} row ${i + 1}: bad image name "${name}"`);
    }
    if (seen.has(name)) throw new AgqgError('unsupported_format', `${labelsPath}: image "${name}" is listed twice`);
    seen.add(name);
    const v = Number(r[target]);
    if (r[target].trim() === '' || !Number.isFinite(v)) {
      throw new AgqgError('unsupported_format', `${labelsPath} row ${i + 1} (${name}): ${target} "${r[target]}" is not a number`);
    }
    mos[i] = v;
    if (r.prompt.trim() === '') throw new AgqgError('prompt_empty', `${labelsPath} row ${i + 1} (${name}) has no prompt`);
  });
  return {
    dir: abs,
    imageDir,
    labelsPath,
    labelsText,
    names: table.rows.map((r) => r.name),
    prompts: table.rows.map((r) => r.prompt),
    generators: table.rows.map((r) => generatorOf(r.name)),
    mos,
    target,
  };
}
