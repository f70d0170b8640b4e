// Reading finished outputs back (for `agqg summary` and for --min-quality over
// shards a rerun skipped): JSON Lines with the reader of file-results.ts,
// Parquet with hyparquet, only the columns a summary needs.
import { readdirSync } from 'node:fs';
import { extname, join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { OutputError } from './outputs.ts';
import { scanJsonl } from './file-results.ts';
import { summaryOf, type RecordSummary } from './records.ts';

const SUMMARY_COLUMNS = [
  'key',
  'shard',
  'file',
  'quality_score',
  'quality_grade',
  'error_code',
  'error_message',
];

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

async function readParquet(path: string): Promise<RecordSummary[]> {
  let rows: Record<string, unknown>[];
  let labels: string[] | null = null;
  try {
    const file = await asyncBufferFromFile(path);
    const metadata = await parquetMetadataAsync(file);
    // The pack's grade labels (worst first), so a summary lists grades in order.
    const grades = metadata.key_value_metadata?.find((kv) => kv.key === 'agqg.grades')?.value;
    labels = grades ? (JSON.parse(grades) as string[]) : null;
    rows = await parquetReadObjects({ file, metadata, columns: SUMMARY_COLUMNS });
  } catch (e) {
    throw new OutputError(`${path} is not a readable Parquet file (${(e as Error).message})`, { cause: e });
  }
  return rows.map((r) => ({
    key: str(r.key),
    shard: str(r.shard),
    file: str(r.file) ?? '',
    qualityScore: typeof r.quality_score === 'number' ? r.quality_score : null,
    qualityGrade: str(r.quality_grade),
    qualityLabels: labels,
    errorCode: str(r.error_code),
    errorMessage: str(r.error_message),
  }));
}

/** The records of one finished output file (.jsonl or .parquet). */
export async function readOutputSummaries(path: string): Promise<RecordSummary[]> {
  if (extname(path) === '.parquet') return readParquet(path);
  const out: RecordSummary[] = [];
  await scanJsonl(path, (r) => out.push(summaryOf(r)));
  return out;
}

/** Finished outputs in `dir` (temporary files, which start with a dot, are not). */
export function outputFiles(dir: string): { finished: string[]; unfinished: number } {
  const names = readdirSync(dir);
  const collator = new Intl.Collator('en', { numeric: true });
  return {
    finished: names
      .filter((n) => !n.startsWith('.') && ['.jsonl', '.parquet'].includes(extname(n)))
      .sort(collator.compare)
      .map((n) => join(dir, n)),
    unfinished: names.filter((n) => n.startsWith('.') && n.endsWith('.tmp')).length,
  };
}
