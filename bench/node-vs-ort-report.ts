// The figures and table rows of bench/node-vs-ort.ts from what its passes
// measured: throughput per pass and batch, each pass against the raw pass of
// its own round, and where agqg's time goes by stage.
import { FIRST_RUN_IMAGES } from '../src/cli/score-pipeline.ts';
import { nativeJpeg, nativeJpegStatus } from '../src/cli/jpeg-native.ts';
import { availableParallelism } from 'node:os';
import { summarize, timedRow, valueRow, type Row } from './stats.ts';

export interface BatchFigures {
  batch: number;
  rawImagesPerSecond: number;
  cliImagesPerSecond: number;
  /** Median over rounds of cli / raw throughput, each round's passes against each other. */
  ratio: number;
  ratioPerRound: number[];
  /** Same, decoding on the main thread (levers only). */
  cliNoPrefetchImagesPerSecond: number | null;
  cliNoPrefetchRatio: number | null;
  /** Same, the first encoder run a whole batch (levers only, batches over FIRST_RUN_IMAGES). */
  cliFullFirstRunImagesPerSecond: number | null;
  cliFullFirstRunRatio: number | null;
}

/** Time summed over a pass's images by stage (the default agqg pass only). */
export interface StageSums {
  n: number;
  read: number;
  decode: number;
  /** Preprocessing done on the decode workers. */
  prepared: number;
  /** All preprocessing of the results (the workers' share plus copying into the batch). */
  preprocess: number;
  encoder: number;
  text: number;
  heads: number;
}

/** What the passes measured, keyed `${pass}:${batch}` (or by batch). */
export interface Measures {
  /** Images per second of each run of a pass. */
  ips: Map<string, number[]>;
  /** Each run of a pass over the raw run of its round. */
  pairRatios: Map<string, number[]>;
  /** The raw session's ms per image of each run, by batch. */
  rawRunMs: Map<number, number[]>;
  /** agqg's totalMs per image. */
  cliTotals: Map<string, number[]>;
  stages: Map<number, StageSums>;
}

export const median = (xs: readonly number[]): number => summarize(xs).median;

/** The headline figures per batch. */
export function batchFigures(batches: readonly number[], m: Measures): BatchFigures[] {
  return batches.map((b) => {
    const rawIps = median(m.ips.get(`raw:${b}`) ?? []);
    const cliIps = median(m.ips.get(`cli:${b}`) ?? []);
    const mt = m.ips.get(`cli-main-thread:${b}`);
    const full = m.ips.get(`cli-full-first-run:${b}`);
    const pairs = m.pairRatios.get(`cli:${b}`) ?? [];
    const mtPairs = m.pairRatios.get(`cli-main-thread:${b}`);
    const fullPairs = m.pairRatios.get(`cli-full-first-run:${b}`);
    return {
      batch: b,
      rawImagesPerSecond: rawIps,
      cliImagesPerSecond: cliIps,
      ratio: median(pairs),
      ratioPerRound: pairs,
      cliNoPrefetchImagesPerSecond: mt ? median(mt) : null,
      cliNoPrefetchRatio: mtPairs ? median(mtPairs) : null,
      cliFullFirstRunImagesPerSecond: full ? median(full) : null,
      cliFullFirstRunRatio: fullPairs ? median(fullPairs) : null,
    };
  });
}

export interface ReportContext {
  section: string;
  /** The pack load of the agqg path, not in the passes. */
  loadMs: number;
  /** Decode workers of the default agqg pass. */
  threads: number;
  /** Rounds that ran the lever passes. */
  extraRounds: number;
}

/** The table rows: the set-up, then per batch the passes, their ratios, the levers and the stages. */
export function reportRows(ctx: ReportContext, byBatch: readonly BatchFigures[], m: Measures): Row[] {
  const rows = setupRows(ctx);
  for (const f of byBatch)
    rows.push(...batchRows(ctx, f, m), ...leverRows(ctx, f, m), ...stageRows(ctx, f, m));
  return rows;
}

function setupRows({ section, loadMs, threads }: ReportContext): Row[] {
  const rows: Row[] = [];
  rows.push(valueRow(section, 'pack load for agqg (not in the passes)', loadMs, 'ms'));
  rows.push(
    valueRow(
      section,
      'intra-op threads (both paths)',
      availableParallelism(),
      'threads',
      `agqg decode workers: ${threads}`,
    ),
  );
  rows.push(
    valueRow(
      section,
      'native JPEG decoder (libjpeg-turbo)',
      nativeJpeg() ? 1 : 0,
      'in use',
      nativeJpegStatus(),
    ),
  );
  return rows;
}

/** Both paths' throughput at one batch size and agqg against raw. */
function batchRows({ section, threads }: ReportContext, f: BatchFigures, m: Measures): Row[] {
  const b = f.batch;
  const rows: Row[] = [];
  rows.push(valueRow(section, `batch ${b}: raw ORT`, f.rawImagesPerSecond, 'images/s'));
  rows.push(timedRow(section, `batch ${b}: raw ORT ms/image (per run)`, m.rawRunMs.get(b) ?? []));
  rows.push(
    valueRow(
      section,
      `batch ${b}: agqg score`,
      f.cliImagesPerSecond,
      'images/s',
      `${threads} decode worker(s)`,
    ),
  );
  rows.push(timedRow(section, `batch ${b}: agqg score totalMs per image`, m.cliTotals.get(`cli:${b}`) ?? []));
  const perRound = f.ratioPerRound.map((r) => r.toFixed(3)).join(', ');
  rows.push(
    valueRow(
      section,
      `batch ${b}: cli_vs_raw_ort`,
      f.ratio,
      'x',
      `${f.ratio >= 0.9 ? 'meets 0.9' : 'UNDER 0.9'}; rounds ${perRound}`,
    ),
  );
  return rows;
}

/** The lever and prompt passes at one batch size, each against raw (and the default) in the same rounds. */
function leverRows({ section, extraRounds }: ReportContext, f: BatchFigures, m: Measures): Row[] {
  const b = f.batch;
  const rows: Row[] = [];
  if (f.cliNoPrefetchImagesPerSecond !== null) {
    rows.push(
      valueRow(
        section,
        `batch ${b}: agqg, decoding on the main thread`,
        f.cliNoPrefetchImagesPerSecond,
        'images/s',
        `ratio ${f.cliNoPrefetchRatio?.toFixed(3)}`,
      ),
    );
  }
  const wasmJpeg = m.ips.get(`cli-wasm-jpeg:${b}`);
  if (wasmJpeg) {
    const own = m.pairRatios.get(`cli:${b}`)?.slice(0, extraRounds) ?? [];
    rows.push(
      valueRow(
        section,
        `batch ${b}: agqg, JPEG decoded in WebAssembly`,
        median(wasmJpeg),
        'images/s',
        `ratio ${median(m.pairRatios.get(`cli-wasm-jpeg:${b}`) ?? []).toFixed(3)}; native (default) in the same rounds ${median(own).toFixed(3)}`,
      ),
    );
  }
  const one = m.ips.get(`cli-one-worker:${b}`);
  if (one) {
    rows.push(
      valueRow(
        section,
        `batch ${b}: agqg, 1 decode worker`,
        median(one),
        'images/s',
        `ratio ${median(m.pairRatios.get(`cli-one-worker:${b}`) ?? []).toFixed(3)}`,
      ),
    );
  }
  if (f.cliFullFirstRunImagesPerSecond !== null) {
    const own = m.pairRatios.get(`cli:${b}`)?.slice(0, extraRounds) ?? [];
    rows.push(
      valueRow(
        section,
        `batch ${b}: agqg, first encoder run a whole batch`,
        f.cliFullFirstRunImagesPerSecond,
        'images/s',
        `ratio ${f.cliFullFirstRunRatio?.toFixed(3)}; default (first run ${Math.min(b, FIRST_RUN_IMAGES)}) in the same rounds ${median(own).toFixed(3)}`,
      ),
    );
  }
  for (const p of ['cli-shared-prompt', 'cli-distinct-prompts'] as const) {
    const v = m.ips.get(`${p}:${b}`);
    if (!v) continue;
    const perImage = 1000 / median(v) - 1000 / f.cliImagesPerSecond;
    rows.push(
      valueRow(
        section,
        `batch ${b}: agqg, ${p === 'cli-shared-prompt' ? 'one shared prompt' : 'a distinct prompt per image'}`,
        median(v),
        'images/s',
        `text tower +${perImage.toFixed(1)} ms/image`,
      ),
    );
  }
  return rows;
}

/** Where the default pass's time went, per image and as a share. */
function stageRows({ section }: ReportContext, f: BatchFigures, m: Measures): Row[] {
  const rows: Row[] = [];
  const s = m.stages.get(f.batch);
  if (s && s.n > 0) {
    const parts: [string, number][] = [
      ['read', s.read],
      ['decode', s.decode],
      ['preprocess (decode worker)', s.prepared],
      ['preprocess (main thread: into the batch)', Math.max(0, s.preprocess - s.prepared)],
      ['encoder', s.encoder],
      ['text tower', s.text],
      ['heads + grading', s.heads],
    ];
    const sum = parts.reduce((a, [, v]) => a + v, 0);
    for (const [name, v] of parts) {
      if (name === 'text tower' && v === 0) continue;
      rows.push(
        valueRow(
          section,
          `batch ${f.batch} stage: ${name}`,
          v / s.n,
          'ms/image',
          `${((100 * v) / sum).toFixed(1)}% of stage time`,
        ),
      );
    }
  }
  return rows;
}
