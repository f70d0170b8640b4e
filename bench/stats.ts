// Summaries and the printed table of the benchmark: medians and p90 over
// per-item times, ratios between numbers measured in the same run.

export interface Summary {
  n: number;
  median: number;
  p90: number;
  min: number;
  max: number;
}

/** Nearest-rank quantile of sorted values (q in [0, 1]). */
function quantile(sorted: readonly number[], q: number): number {
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i];
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0)
    return { n: 0, median: Number.NaN, p90: Number.NaN, min: Number.NaN, max: Number.NaN };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { n: s.length, median, p90: quantile(s, 0.9), min: s[0], max: s[s.length - 1] };
}

/** Runs `f` `warmup` times untimed, then `runs` times timed (wall ms). */
export async function timeRuns(runs: number, warmup: number, f: () => unknown): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await f();
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    out.push(performance.now() - t0);
  }
  return out;
}

/** One printed row: a timed quantity (summary) or a single number with its unit. */
export type Row =
  | { section: string; name: string; unit: 'ms'; summary: Summary }
  | { section: string; name: string; unit: string; value: number; note?: string };

export function timedRow(section: string, name: string, values: readonly number[]): Row {
  return { section, name, unit: 'ms', summary: summarize(values) };
}

export function valueRow(section: string, name: string, value: number, unit: string, note?: string): Row {
  return { section, name, unit, value, ...(note ? { note } : {}) };
}

const fmt = (x: number): string =>
  Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(2)) : '-';

/** A plain-text table, one block per section. */
export function formatTable(rows: readonly Row[]): string {
  const lines: string[] = [];
  const head = ['', 'median', 'p90', 'n', 'unit / note'];
  const body: string[][] = [];
  let section = '';
  for (const r of rows) {
    if (r.section !== section) {
      section = r.section;
      body.push([`[${section}]`, '', '', '', '']);
    }
    if ('summary' in r) {
      body.push([`  ${r.name}`, fmt(r.summary.median), fmt(r.summary.p90), String(r.summary.n), 'ms']);
    } else {
      body.push([`  ${r.name}`, fmt(r.value), '', '', r.note ? `${r.unit}  (${r.note})` : r.unit]);
    }
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 || i === 4 ? c.padEnd(widths[i]) : c.padStart(widths[i])))
      .join('  ')
      .trimEnd();
  lines.push(line(head));
  lines.push(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) lines.push(line(b));
  return lines.join('\n');
}
