// agqg eval: how well a pack's grades agree with human scores on a labelled
// folder (labels.csv + images/, the AGIQA-3K layout): SRCC, KRCC, PLCC, RMSE
// overall and per generator, quality and alignment side by side.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  parseCommandArgs,
  parsePositiveInt,
  parseVariant,
  requireOption,
  UsageError,
  EXIT_OK,
  EXIT_SOME_FAILED,
  EXIT_USAGE,
} from '../args.ts';
import { readImage } from '../images.ts';
import type { CliIO } from '../io.ts';
import { loadScorer, noHeadMessage } from '../load-pack.ts';
import { progress } from '../progress.ts';
import { parseCsvTable } from '../../model/util/csv.ts';
import { toErrorInfo, type ErrorInfo } from '../../model/errors.ts';
import { isUnimodal } from '../../model/grading/grm.ts';
import { summarize, type MetricsSummary } from '../../model/grading/metrics.ts';
import { generatorOf } from '../../model/util/generator.ts';

export const help = `agqg eval --pack DIR --data DIR [--target mos_quality|mos_align|both] [--limit N] [--json] [--variant DTYPE]

Scores every image of a labelled folder and compares the pack's scores with the
human mean opinion scores: SRCC, KRCC, PLCC (raw and after the 4-parameter
logistic fit), RMSE, and SRCC/PLCC per generator.

The folder holds labels.csv and images/. labels.csv needs a "name" column (file
name in images/), "prompt" for alignment, and the target columns: mos_quality
and/or mos_align (the AGIQA-3K layout). The generator of an image is its file
name up to the first "_" (AGIQA-3K: "midjourney_normal_010.jpg" -> midjourney).

Options:
  --pack DIR        pack folder
  --data DIR        labelled folder (labels.csv + images/)
  --target T        mos_quality, mos_align or both (default: both, as far as the pack has heads)
  --limit N         evaluate N images spread evenly over labels.csv (every k-th row), for a quick check
  --json            metrics (and per-image predictions) as JSON
  --variant DTYPE   encoder weights to use
  --quiet           no progress on stderr
  -h, --help        this help

Exit code: 0 all images scored, 1 some images failed (metrics use the others), 2 usage or pack error.
`;

const TARGETS = ['mos_quality', 'mos_align', 'both'] as const;
type Target = (typeof TARGETS)[number];

export interface LabelledImage {
  name: string;
  prompt: string | null;
  generator: string;
  mosQuality: number | null;
  mosAlign: number | null;
}

/** N rows spread evenly over the table (so every generator shows up), in table order. */
export function spreadSample<T>(rows: readonly T[], limit: number | undefined): T[] {
  if (limit === undefined || limit >= rows.length) return [...rows];
  return Array.from({ length: limit }, (_, i) => rows[Math.floor((i * rows.length) / limit)]);
}

function parseMos(value: string | undefined, column: string, row: number, where: string): number | null {
  if (value === undefined) return null;
  const v = Number(value.trim());
  if (value.trim() === '' || !Number.isFinite(v)) {
    throw new UsageError(`${where} row ${row}: ${column} "${value}" is not a number`, 'eval');
  }
  return v;
}

export async function readLabels(dataDir: string): Promise<LabelledImage[]> {
  const path = join(dataDir, 'labels.csv');
  const text = await readFile(path, 'utf8').catch(() => {
    throw new UsageError(`${path} not found: --data needs a folder with labels.csv and images/`, 'eval');
  });
  const table = parseCsvTable(text, path);
  if (!table.header.includes('name')) {
    throw new UsageError(`${path} has no "name" column (its columns: ${table.header.join(', ')})`, 'eval');
  }
  return table.rows.map((r, i) => ({
    name: r.name.trim(),
    prompt: r.prompt ?? null,
    generator: generatorOf(r.name.trim()),
    mosQuality: parseMos(r.mos_quality, 'mos_quality', i + 1, path),
    mosAlign: parseMos(r.mos_align, 'mos_align', i + 1, path),
  }));
}

interface Prediction {
  name: string;
  generator: string;
  quality: number | null;
  alignment: number | null;
  mosQuality: number | null;
  mosAlign: number | null;
  error: ErrorInfo | null;
}

function metricsFor(preds: Prediction[], key: 'quality' | 'alignment'): MetricsSummary | null {
  const mosKey = key === 'quality' ? 'mosQuality' : 'mosAlign';
  const ok = preds.filter((p) => p[key] !== null && p[mosKey] !== null);
  if (ok.length === 0) return null;
  return summarize(
    ok.map((p) => p[key] as number),
    ok.map((p) => p[mosKey] as number),
    ok.map((p) => p.generator),
  );
}

const f3 = (v: number | undefined): string =>
  v === undefined ? '-' : Number.isFinite(v) ? v.toFixed(3) : 'n/a';

export function formatMetrics(q: MetricsSummary | null, a: MetricsSummary | null): string {
  const cols: [string, MetricsSummary][] = [];
  if (q) cols.push(['quality', q]);
  if (a) cols.push(['alignment', a]);
  const rows: [string, (m: MetricsSummary) => string][] = [
    ['n', (m) => String(m.n)],
    ['SRCC', (m) => f3(m.srcc)],
    ['KRCC', (m) => f3(m.krcc)],
    ['PLCC', (m) => f3(m.plcc)],
    ['PLCC (logistic)', (m) => f3(m.plccLogistic)],
    ['RMSE', (m) => f3(m.rmse)],
    ['RMSE (logistic)', (m) => f3(m.rmseLogistic)],
    ['mean generator SRCC', (m) => f3(m.meanGroupSrcc)],
  ];
  const w0 = Math.max(...rows.map(([n]) => n.length));
  const lines = [`${'metric'.padEnd(w0)}  ${cols.map(([n]) => n.padStart(10)).join('  ')}`];
  for (const [name, get] of rows)
    lines.push(`${name.padEnd(w0)}  ${cols.map(([, m]) => get(m).padStart(10)).join('  ')}`);

  const groups = new Map<string, { n: number; cells: string[] }>();
  cols.forEach(([, m], c) => {
    for (const g of m.groups ?? []) {
      const e = groups.get(g.name) ?? { n: g.n, cells: Array<string>(cols.length * 2).fill('-') };
      e.n = Math.max(e.n, g.n);
      e.cells[2 * c] = f3(g.srcc);
      e.cells[2 * c + 1] = f3(g.plcc);
      groups.set(g.name, e);
    }
  });
  if (groups.size > 0) {
    const wg = Math.max('generator'.length, ...[...groups.keys()].map((k) => k.length));
    const heads = cols.flatMap(([n]) => [`${n[0]} SRCC`, `${n[0]} PLCC`]);
    lines.push(
      '',
      `${'generator'.padEnd(wg)}  ${'n'.padStart(5)}  ${heads.map((h) => h.padStart(7)).join('  ')}`,
    );
    for (const [name, e] of groups) {
      lines.push(
        `${name.padEnd(wg)}  ${String(e.n).padStart(5)}  ${e.cells.map((c) => c.padStart(7)).join('  ')}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('eval', argv, {
    pack: { type: 'string' },
    data: { type: 'string' },
    target: { type: 'string', default: 'both' },
    limit: { type: 'string' },
    json: { type: 'boolean', default: false },
    variant: { type: 'string' },
    quiet: { type: 'boolean', default: false },
  });
  const packDir = requireOption('eval', values.pack, '--pack');
  const dataDir = resolve(requireOption('eval', values.data, '--data'));
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, 'eval');
  const target = values.target as Target;
  if (!TARGETS.includes(target))
    throw new UsageError(`--target must be one of ${TARGETS.join(', ')} (got "${values.target}")`, 'eval');
  const limit = parsePositiveInt('eval', values.limit, '--limit');
  const variant = parseVariant('eval', values.variant);
  const imagesDir = join(dataDir, 'images');
  if (!(await stat(imagesDir).catch(() => null))?.isDirectory()) {
    throw new UsageError(
      `${imagesDir} is not a folder: --data needs a folder with labels.csv and images/`,
      'eval',
    );
  }
  const all = await readLabels(dataDir);
  const wantQuality = target !== 'mos_align';
  const wantAlign = target !== 'mos_quality';
  if (wantQuality && target === 'mos_quality' && all.some((r) => r.mosQuality === null)) {
    throw new UsageError(`${dataDir}/labels.csv has no mos_quality column`, 'eval');
  }
  if (wantAlign && target === 'mos_align' && all.some((r) => r.mosAlign === null)) {
    throw new UsageError(`${dataDir}/labels.csv has no mos_align column`, 'eval');
  }
  const rows = spreadSample(all, limit);

  const scorer = await loadScorer(packDir, io, { variant });
  try {
    const noHead = noHeadMessage(scorer);
    const id = scorer.manifest.id;
    const refuse = (msg: string): number => {
      io.err(`agqg eval: ${msg}\n`);
      return EXIT_USAGE;
    };
    if (noHead) return refuse(noHead);
    if (target === 'mos_quality' && !scorer.hasQualityHead)
      return refuse(`pack ${id} has no quality head (its manifest lists none)`);
    if (target === 'mos_align' && !scorer.hasAlignmentHead) {
      return refuse(
        `pack ${id} has no alignment head (${scorer.hasText ? 'its manifest lists none' : 'it has no text encoder; alignment needs a CLIP pack'})`,
      );
    }
    const doQuality = wantQuality && scorer.hasQualityHead;
    const doAlign = wantAlign && scorer.hasAlignmentHead;
    if (target === 'both' && !doAlign)
      io.err(`note: pack ${id} has no alignment head; evaluating quality only\n`);
    if (target === 'both' && !doQuality)
      io.err(`note: pack ${id} has no quality head; evaluating alignment only\n`);

    const preds: Prediction[] = [];
    // Every grade distribution the pack gives is checked for a U shape (the a*d constraint's promise).
    const shape = { graded: 0, unimodal: 0, notUnimodal: [] as string[] };
    const bar = progress(io, rows.length, 'evaluated', !values.quiet);
    const t0 = performance.now();
    for (const row of rows) {
      const file = join(imagesDir, row.name);
      const p: Prediction = {
        name: row.name,
        generator: row.generator,
        quality: null,
        alignment: null,
        mosQuality: doQuality ? row.mosQuality : null,
        mosAlign: doAlign ? row.mosAlign : null,
        error: null,
      };
      try {
        const { img, decodeMs } = await readImage(file);
        const r = await scorer.scoreImage(img, { file, prompt: doAlign ? row.prompt : null, decodeMs });
        if (r.error) p.error = r.error;
        p.quality = doQuality ? (r.quality?.score ?? null) : null;
        p.alignment = doAlign ? (r.alignment?.score ?? null) : null;
        for (const g of [doQuality ? r.quality : null, doAlign ? r.alignment : null]) {
          if (!g) continue;
          shape.graded++;
          if (isUnimodal(g.probabilities)) shape.unimodal++;
          else shape.notUnimodal.push(row.name);
        }
        if (!p.error && doAlign && p.alignment === null && r.alignmentNote) {
          io.err(`${row.name}: no alignment grade: ${r.alignmentNote}\n`);
        }
      } catch (err) {
        p.error = toErrorInfo(err);
      }
      preds.push(p);
      bar.tick(p.error !== null);
    }
    bar.done();
    const seconds = (performance.now() - t0) / 1000;
    const quality = doQuality ? metricsFor(preds, 'quality') : null;
    const alignment = doAlign ? metricsFor(preds, 'alignment') : null;
    const failed = preds.filter((p) => p.error);
    const uncal = {
      quality: doQuality ? scorer.manifest.heads.quality?.uncalibrated === true : null,
      alignment: doAlign ? scorer.manifest.heads.alignment?.uncalibrated === true : null,
    };

    if (values.json) {
      const doc = {
        pack: { id, name: scorer.manifest.name, version: scorer.manifest.packVersion, uncalibrated: uncal },
        data: dataDir,
        rows: all.length,
        evaluated: rows.length,
        limit: limit ?? null,
        failed: failed.map((p) => ({ name: p.name, error: p.error })),
        quality,
        alignment,
        unimodal: { graded: shape.graded, unimodal: shape.unimodal, notUnimodal: shape.notUnimodal },
        secondsPerImage: rows.length ? seconds / rows.length : null,
        backend: scorer.backend,
        predictions: preds,
      };
      io.out(`${JSON.stringify(doc, null, 2)}\n`);
    } else {
      const uncalNote =
        uncal.quality || uncal.alignment
          ? ' (zero-shot heads: uncalibrated, only the rank metrics are meaningful)'
          : '';
      io.out(
        `pack ${id} on ${dataDir}: ${rows.length}${limit !== undefined && limit < all.length ? ` of ${all.length}` : ''} images, ` +
          `${failed.length} failed, ${(seconds / Math.max(1, rows.length)).toFixed(3)} s/image${uncalNote}\n\n`,
      );
      io.out(formatMetrics(quality, alignment));
      io.out(`\nunimodal grade distributions: ${shape.unimodal} of ${shape.graded}\n`);
      if (shape.notUnimodal.length > 0)
        io.out(`not unimodal: ${shape.notUnimodal.slice(0, 20).join(', ')}\n`);
    }
    if (failed.length > 0) {
      io.err(`${failed.length} of ${rows.length} images failed (metrics use the others):\n`);
      for (const p of failed.slice(0, 20)) io.err(`  ${p.name}: [${p.error?.code}] ${p.error?.message}\n`);
      if (failed.length > 20) io.err(`  ... and ${failed.length - 20} more\n`);
      return EXIT_SOME_FAILED;
    }
    return EXIT_OK;
  } finally {
    await scorer.release();
  }
}
