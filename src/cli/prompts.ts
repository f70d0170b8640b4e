// --prompts CSV: which prompt made which image, matched by file name.
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parseCsvTable } from '../model/util/csv.ts';
import { UsageError } from './args.ts';

export interface PromptTable {
  /** The prompt for an image path (by its file name, then by its name without extension), or null. */
  lookup(file: string): string | null;
  readonly size: number;
}

const stem = (name: string): string => name.slice(0, name.length - extname(name).length);

/** Reads a CSV with `name` and `prompt` columns (other columns are ignored, e.g. a labels.csv). */
export async function readPromptTable(path: string, command: string): Promise<PromptTable> {
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(
      `cannot read --prompts ${path}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`,
      command,
    );
  });
  const table = parseCsvTable(text, path);
  for (const col of ['name', 'prompt']) {
    if (!table.header.includes(col)) {
      throw new UsageError(
        `${path} has no "${col}" column (its columns: ${table.header.join(', ')}); --prompts needs name,prompt`,
        command,
      );
    }
  }
  const byName = new Map<string, string>();
  const byStem = new Map<string, string>();
  for (const row of table.rows) {
    const name = basename(row.name.trim());
    if (byName.has(name) && byName.get(name) !== row.prompt) {
      throw new UsageError(`${path} gives two different prompts for "${name}"`, command);
    }
    byName.set(name, row.prompt);
    byStem.set(stem(name), row.prompt);
  }
  return {
    size: byName.size,
    lookup(file: string): string | null {
      const name = basename(file);
      return byName.get(name) ?? byStem.get(stem(name)) ?? null;
    },
  };
}
