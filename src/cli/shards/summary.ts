// What `agqg summary DIR` reports over a finished output folder: counts per
// grade, a histogram of quality scores, and the failures by error code.
import type { RecordSummary } from './records.ts';

/** Bins of the score histogram; scores span the pack's MOS scale, whatever it is. */
export const HISTOGRAM_BINS = 10;
/** Failures listed by name; the rest are counted. */
export const FAILURES_SHOWN = 20;
const BAR_WIDTH = 40;

export interface Summary {
  outputs: number;
  /** Temporary files of runs still going or stopped (not counted in the records). */
  unfinished: number;
  records: number;
  scored: number;
  failed: number;
  grades: { grade: string; count: number }[];
  histogram: { from: number; to: number; count: number }[];
  failuresByCode: { code: string; count: number }[];
  failures: { key: string | null; shard: string | null; file: string; code: string; message: string }[];
}

export function summarize(records: readonly RecordSummary[], outputs: number, unfinished: number): Summary {
  const grades = new Map<string, number>();
  const byCode = new Map<string, number>();
  const failures: Summary['failures'] = [];
  const scores: number[] = [];
  // Grades in the pack's order (worst first) when a record names its labels; else as met.
  const order: string[] = [];
  for (const r of records) {
    for (const l of r.qualityLabels ?? []) if (!order.includes(l)) order.push(l);
    if (r.errorCode) {
      byCode.set(r.errorCode, (byCode.get(r.errorCode) ?? 0) + 1);
      failures.push({
        key: r.key,
        shard: r.shard,
        file: r.file,
        code: r.errorCode,
        message: r.errorMessage ?? '',
      });
      continue;
    }
    if (r.qualityScore !== null) scores.push(r.qualityScore);
    if (r.qualityGrade !== null) {
      if (!order.includes(r.qualityGrade)) order.push(r.qualityGrade);
      grades.set(r.qualityGrade, (grades.get(r.qualityGrade) ?? 0) + 1);
    }
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const s of scores) {
    lo = Math.min(lo, s);
    hi = Math.max(hi, s);
  }
  const histogram: Summary['histogram'] = [];
  if (scores.length > 0) {
    const width = hi > lo ? (hi - lo) / HISTOGRAM_BINS : 1;
    const bins = hi > lo ? HISTOGRAM_BINS : 1;
    for (let i = 0; i < bins; i++)
      histogram.push({ from: lo + i * width, to: lo + (i + 1) * width, count: 0 });
    for (const s of scores) histogram[Math.min(bins - 1, Math.floor((s - lo) / width))].count++;
  }
  return {
    outputs,
    unfinished,
    records: records.length,
    scored: records.length - failures.length,
    failed: failures.length,
    grades: order.map((grade) => ({ grade, count: grades.get(grade) ?? 0 })),
    histogram,
    failuresByCode: [...byCode].map(([code, count]) => ({ code, count })).sort((a, b) => b.count - a.count),
    failures,
  };
}

const bar = (n: number, max: number): string => '#'.repeat(max > 0 ? Math.round((n / max) * BAR_WIDTH) : 0);
const pct = (n: number, of: number): string => (of > 0 ? `${((100 * n) / of).toFixed(1)}%` : '-');

export function formatSummary(s: Summary, dir: string): string {
  const lines = [
    `${dir}: ${s.outputs} output file(s), ${s.records} records: ${s.scored} scored, ${s.failed} failed`,
  ];
  if (s.unfinished > 0)
    lines.push(
      `${s.unfinished} unfinished temporary output(s) (a run is going on, or was stopped: rerun it)`,
    );
  if (s.grades.length > 0) {
    lines.push('', 'quality grade');
    const w = Math.max(...s.grades.map((g) => g.grade.length));
    const max = Math.max(...s.grades.map((g) => g.count));
    for (const g of s.grades)
      lines.push(
        `  ${g.grade.padEnd(w)}  ${String(g.count).padStart(8)}  ${pct(g.count, s.scored).padStart(6)}  ${bar(g.count, max)}`,
      );
  }
  if (s.histogram.length > 0) {
    lines.push('', 'quality score');
    const max = Math.max(...s.histogram.map((h) => h.count));
    for (const h of s.histogram)
      lines.push(
        `  ${h.from.toFixed(2).padStart(7)} - ${h.to.toFixed(2).padStart(7)}  ${String(h.count).padStart(8)}  ${bar(h.count, max)}`,
      );
  }
  if (s.failed > 0) {
    lines.push('', 'failures');
    for (const c of s.failuresByCode) lines.push(`  ${c.code}: ${c.count}`);
    for (const f of s.failures.slice(0, FAILURES_SHOWN)) lines.push(`  ${f.file}: [${f.code}] ${f.message}`);
    if (s.failures.length > FAILURES_SHOWN)
      lines.push(`  ... and ${s.failures.length - FAILURES_SHOWN} more (--json lists all)`);
  }
  return `${lines.join('\n')}\n`;
}
