// Downloads of the results in the shared result schema (the CLI writes the same files).
import {
  resultsToCsv,
  ResultsFileSchema,
  type ImageResult,
  type ResultsFile,
} from '../model/grading/result.ts';
import type { PackSummary } from '../worker/api.ts';
import type { Item } from './store.ts';

export function exportable(order: readonly string[], items: Readonly<Record<string, Item>>): ImageResult[] {
  return order.map((id) => items[id]?.result).filter((r): r is ImageResult => !!r);
}

export function resultsFile(results: ImageResult[], pack: PackSummary | null): ResultsFile {
  const packId = pack?.id ?? results[0]?.packId ?? 'unknown';
  const file: ResultsFile = {
    schema: 'agqg-results',
    version: 1,
    createdAt: new Date().toISOString(),
    pack: { id: packId, name: pack?.name ?? packId, version: pack?.packVersion ?? '0' },
    results,
  };
  // Validate what we hand out: a file that the CLI could not read back is a bug here, not the user's.
  return ResultsFileSchema.parse(file);
}

function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);

export function downloadJson(results: ImageResult[], pack: PackSummary | null): void {
  download(
    `agqg-results-${stamp()}.json`,
    'application/json',
    JSON.stringify(resultsFile(results, pack), null, 2),
  );
}

export function downloadCsv(results: ImageResult[], pack: PackSummary | null): void {
  download(
    `agqg-results-${stamp()}.csv`,
    'text/csv',
    resultsToCsv(results, { gradeCount: pack?.labels.length }),
  );
}
