// A labelled image folder for training: labels.csv (name, prompt, the target
// column) next to the images (in images/ or the folder itself). Bad labels are
// usage errors: nothing can be trained from them.
// Generators group the within-generator metrics two ways: the generator (file
// name up to the first "_", as agqg eval reports it: AGIQA-3K has 6) and the
// generator setting (file name without its trailing _<index>.<ext>:
// "midjourney_lowstep", "sd1.5_highcorr", ...; AGIQA-3K has 10).
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseCsvTable } from '../../model/util/csv.ts';
import { UsageError } from '../args.ts';
import { generatorOf, settingOf } from '../../model/util/generator.ts';

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
  settings: string[];
  /** The target column, one value per image. */
  mos: Float64Array;
  target: Target;
}

async function isDir(path: string): Promise<boolean> {
  const s = await stat(path).catch(() => null);
  return s?.isDirectory() ?? false;
}

export async function loadDataset(dir: string, target: Target): Promise<Dataset> {
  const abs = resolve(dir);
  if (!(await isDir(abs))) throw new UsageError(`dataset folder ${abs} does not exist`, 'train');
  const labelsPath = join(abs, LABELS_FILE);
  const labelsText = await readFile(labelsPath, 'utf8').catch(() => null);
  if (labelsText === null) throw new UsageError(`${abs} has no ${LABELS_FILE}`, 'train');
  const table = parseCsvTable(labelsText, labelsPath);
  for (const col of ['name', 'prompt', target]) {
    if (!table.header.includes(col)) {
      throw new UsageError(
        `${labelsPath} has no "${col}" column (it has ${table.header.join(', ')})`,
        'train',
      );
    }
  }
  if (table.rows.length === 0) throw new UsageError(`${labelsPath} lists no images`, 'train');
  const imageDir = (await isDir(join(abs, 'images'))) ? join(abs, 'images') : abs;
  const seen = new Set<string>();
  const mos = new Float64Array(table.rows.length);
  table.rows.forEach((r, i) => {
    const name = r.name;
    if (!name || name.includes('/') || name.includes('\\') || name === '..') {
      throw new UsageError(`${labelsPath} row ${i + 1}: bad image name "${name}"`, 'train');
    }
    if (seen.has(name)) throw new UsageError(`${labelsPath}: image "${name}" is listed twice`, 'train');
    seen.add(name);
    const v = Number(r[target]);
    if (r[target].trim() === '' || !Number.isFinite(v)) {
      throw new UsageError(
        `${labelsPath} row ${i + 1} (${name}): ${target} "${r[target]}" is not a number`,
        'train',
      );
    }
    mos[i] = v;
    if (r.prompt.trim() === '')
      throw new UsageError(`${labelsPath} row ${i + 1} (${name}) has no prompt`, 'train');
  });
  return {
    dir: abs,
    imageDir,
    labelsPath,
    labelsText,
    names: table.rows.map((r) => r.name),
    prompts: table.rows.map((r) => r.prompt),
    generators: table.rows.map((r) => generatorOf(r.name)),
    settings: table.rows.map((r) => settingOf(r.name)),
    mos,
    target,
  };
}
