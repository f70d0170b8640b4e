// One output record per sample (or file): where it came from (key, shard, url)
// and the result `agqg score --json` gives for it, unchanged. The Parquet
// schema flattens the same record into columns (docs/scale.md lists them).
import type { GradeResult, ImageResult } from '../../model/grading/result.ts';

export interface ScoreRecord extends ImageResult {
  /** The sample's WebDataset key; for file inputs the file as given; null for a shard-level error. */
  key: string | null;
  /** The shard's file name; null for file inputs. */
  shard: string | null;
  /** The sample's source URL from its .json (img2dataset writes one), else null. */
  url: string | null;
}

export type ColumnType = 'STRING' | 'DOUBLE' | 'INT32' | 'BOOLEAN';
export interface Column {
  name: string;
  type: ColumnType;
  value: (r: ScoreRecord) => string | number | boolean | null;
}

function headColumns(prefix: 'quality' | 'alignment', grades: number): Column[] {
  const head = (r: ScoreRecord): GradeResult | null => r[prefix];
  const cols: Column[] = [
    { name: `${prefix}_score`, type: 'DOUBLE', value: (r) => head(r)?.score ?? null },
    { name: `${prefix}_expected_grade`, type: 'DOUBLE', value: (r) => head(r)?.expectedGrade ?? null },
    { name: `${prefix}_grade`, type: 'STRING', value: (r) => head(r)?.grade ?? null },
    { name: `${prefix}_grade_index`, type: 'INT32', value: (r) => head(r)?.gradeIndex ?? null },
    { name: `${prefix}_ability`, type: 'DOUBLE', value: (r) => head(r)?.ability ?? null },
    { name: `${prefix}_discrimination`, type: 'DOUBLE', value: (r) => head(r)?.discrimination ?? null },
  ];
  for (let k = 0; k < grades; k++)
    cols.push({
      name: `${prefix}_p${k + 1}`,
      type: 'DOUBLE',
      value: (r) => head(r)?.probabilities[k] ?? null,
    });
  cols.push({ name: `${prefix}_uncalibrated`, type: 'BOOLEAN', value: (r) => head(r)?.uncalibrated ?? null });
  return cols;
}

/** The flat Parquet schema for a pack with `grades` grades (the CSV's columns plus the record's own). */
export function recordColumns(grades: number): Column[] {
  return [
    { name: 'key', type: 'STRING', value: (r) => r.key },
    { name: 'shard', type: 'STRING', value: (r) => r.shard },
    { name: 'url', type: 'STRING', value: (r) => r.url },
    { name: 'file', type: 'STRING', value: (r) => r.file },
    { name: 'pack', type: 'STRING', value: (r) => r.packId },
    { name: 'prompt', type: 'STRING', value: (r) => r.prompt },
    ...headColumns('quality', grades),
    { name: 'quality_note', type: 'STRING', value: (r) => r.qualityNote },
    ...headColumns('alignment', grades),
    { name: 'alignment_note', type: 'STRING', value: (r) => r.alignmentNote },
    { name: 'alignment_error_code', type: 'STRING', value: (r) => r.alignmentError?.code ?? null },
    { name: 'alignment_error_message', type: 'STRING', value: (r) => r.alignmentError?.message ?? null },
    { name: 'error_code', type: 'STRING', value: (r) => r.error?.code ?? null },
    { name: 'error_message', type: 'STRING', value: (r) => r.error?.message ?? null },
    { name: 'backend', type: 'STRING', value: (r) => r.backend },
    { name: 'total_ms', type: 'DOUBLE', value: (r) => r.timings.totalMs ?? null },
  ];
}

/** What `agqg summary` and --min-quality read back from either format. */
export interface RecordSummary {
  key: string | null;
  shard: string | null;
  file: string;
  qualityScore: number | null;
  qualityGrade: string | null;
  qualityLabels: readonly string[] | null;
  errorCode: string | null;
  errorMessage: string | null;
}

export const summaryOf = (r: ScoreRecord): RecordSummary => ({
  key: r.key,
  shard: r.shard,
  file: r.file,
  qualityScore: r.quality?.score ?? null,
  qualityGrade: r.quality?.grade ?? null,
  qualityLabels: r.quality?.labels ?? null,
  errorCode: r.error?.code ?? null,
  errorMessage: r.error?.message ?? null,
});
