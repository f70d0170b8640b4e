// A CSV of `name,prompt` rows assigns prompts to images by file name.
import { AgqgError } from '../model/errors.ts';
import { parseCsvTable } from '../model/util/csv.ts';

/** Column names accepted for the file name and the prompt (AGIQA-3K's labels.csv uses name,prompt). */
const NAME_COLUMNS = ['name', 'file', 'filename', 'image'];
const PROMPT_COLUMNS = ['prompt', 'text', 'caption'];

export function baseName(path: string): string {
  return path.split(/[\\/]/).pop() ?? path;
}

/** Map from file name (no folders) to prompt. Throws AgqgError for a CSV without the columns. */
export function promptsFromCsv(text: string, where: string): Map<string, string> {
  const { header, rows } = parseCsvTable(text, where);
  const lower = header.map((h) => h.toLowerCase());
  const nameCol = header[lower.findIndex((h) => NAME_COLUMNS.includes(h))];
  const promptCol = header[lower.findIndex((h) => PROMPT_COLUMNS.includes(h))];
  if (!nameCol || !promptCol) {
    throw new AgqgError(
      'unsupported_format',
      `${where} needs a file-name column (${NAME_COLUMNS.join('/')}) and a prompt column (${PROMPT_COLUMNS.join('/')}); it has ${header.join(', ')}`,
    );
  }
  const out = new Map<string, string>();
  for (const row of rows) {
    const name = baseName(row[nameCol].trim());
    if (name) out.set(name, row[promptCol]);
  }
  return out;
}
