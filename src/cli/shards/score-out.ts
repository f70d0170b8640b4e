// `agqg score` with --out DIR: shards (--shards) or files, each result written
// as it arrives into outputs a rerun resumes from. The plain `agqg score`
// (results on stdout at the end) stays in cmd/score.ts.
import { EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, UsageError } from '../args.ts';
import type { ImageReader } from '../image-reader.ts';
import { expandImageArgs, reportLeftOut } from '../images.ts';
import type { CliIO } from '../io.ts';
import { progress } from '../progress.ts';
import { scoreFiles } from '../score-pipeline.ts';
import type { PackScorer } from '../../model/scoring/scorer.ts';
import { FileResults, FILE_RESULTS } from './file-results.ts';
import { checkOutDir, OutputError } from './outputs.ts';
import { passes, pendingShards, runShards } from './run-shards.ts';
import { checkOutputNames, expandShardSpecs, type OutputFormat } from './shard-list.ts';
import { resolveWorker, shardsOf } from './workers.ts';

export interface OutFlags {
  shards: string[];
  out: string | undefined;
  format: string | undefined;
  shardIndex: string | undefined;
  shardCount: string | undefined;
  overwrite: boolean;
  minQuality: string | undefined;
  json: boolean;
  csv: boolean;
  prompt: string | undefined;
  prompts: string | undefined;
}

export interface OutPlan {
  out: string;
  format: OutputFormat;
  overwrite: boolean;
  minQuality: number | null;
}

/** The --out plan, or null for a plain run; flags that need --out or --shards without them are usage errors. */
export function outPlan(f: OutFlags, positionals: readonly string[]): OutPlan | null {
  const need = (cond: boolean, message: string): void => {
    if (!cond) throw new UsageError(message, 'score');
  };
  const sharded = f.shards.length > 0;
  need(!(sharded && positionals.length > 0), 'give either IMAGE... or --shards, not both');
  need(!sharded || f.out !== undefined, '--shards needs --out DIR (one output per shard is written there)');
  need(
    sharded || (f.shardIndex === undefined && f.shardCount === undefined),
    '--shard-index and --shard-count split --shards over workers; give --shards',
  );
  if (f.out === undefined) {
    for (const [flag, given] of [
      ['--format', f.format !== undefined],
      ['--overwrite', f.overwrite],
      ['--min-quality', f.minQuality !== undefined],
    ] as const)
      need(!given, `${flag} goes with --out DIR`);
    return null;
  }
  need(
    !f.json && !f.csv,
    '--out writes JSON Lines or Parquet files; --json and --csv are for stdout, leave them out',
  );
  need(
    !sharded || (f.prompt === undefined && f.prompts === undefined),
    'with --shards each sample brings its prompt (its .txt, or prompt/caption in its .json); leave --prompt and --prompts out',
  );
  const format = (f.format ?? 'jsonl') as OutputFormat;
  need(format === 'jsonl' || format === 'parquet', `--format is jsonl or parquet (got "${f.format}")`);
  need(
    sharded || format === 'jsonl',
    '--format parquet writes one file per shard; for files --out streams JSON Lines (convert afterwards)',
  );
  let minQuality: number | null = null;
  if (f.minQuality !== undefined) {
    minQuality = Number(f.minQuality);
    need(
      f.minQuality.trim() !== '' && Number.isFinite(minQuality),
      `--min-quality takes a number (got "${f.minQuality}")`,
    );
  }
  return { out: f.out, format, overwrite: f.overwrite, minQuality };
}

export interface Loaded {
  scorer: PackScorer;
  reader: ImageReader;
}

/** Runs an --out plan; `load` loads the pack and starts the decoders once the inputs are known. */
export async function runOut(
  f: OutFlags,
  plan: OutPlan,
  positionals: readonly string[],
  io: CliIO,
  opts: { batch: number; quiet: boolean; promptFor: (file: string) => string | null },
  load: () => Promise<Loaded & { release(): Promise<void> }>,
): Promise<number> {
  try {
    if (f.shards.length > 0) {
      const all = await expandShardSpecs(f.shards);
      if (all.length === 0) throw new UsageError('--shards names no shard', 'score');
      checkOutputNames(all);
      const slot = resolveWorker({ index: f.shardIndex, count: f.shardCount });
      const mine = shardsOf(all, slot);
      checkOutDir(plan.out);
      if (!opts.quiet)
        io.err(
          `worker ${slot.index} of ${slot.count} (${slot.from}): ${mine.length} of ${all.length} shards\n`,
        );
      const { todo, skipped } = await pendingShards({ ...plan, outDir: plan.out, shards: mine, io });
      if (todo.length === 0) return EXIT_OK;
      const loaded = await load();
      try {
        const r = await runShards({
          ...plan,
          ...loaded,
          outDir: plan.out,
          shards: todo,
          batch: opts.batch,
          io,
          quiet: opts.quiet,
        });
        r.skipped = skipped;
        io.err(
          `${r.done} shard(s) written, ${r.skipped} skipped, ${r.unreadable} unreadable; ${r.samples} samples, ${r.failedSamples} failed\n`,
        );
        return r.unreadable > 0 || r.failedSamples > 0 ? EXIT_SOME_FAILED : EXIT_OK;
      } finally {
        await loaded.release();
      }
    }
    return await runFilesOut(plan, positionals, io, opts, load);
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    io.err(`agqg score: ${e.message}; no output was left half-written under its final name\n`);
    return EXIT_USAGE;
  }
}

async function runFilesOut(
  plan: OutPlan,
  positionals: readonly string[],
  io: CliIO,
  opts: { batch: number; quiet: boolean; promptFor: (file: string) => string | null },
  load: () => Promise<Loaded & { release(): Promise<void> }>,
): Promise<number> {
  if (positionals.length === 0)
    throw new UsageError('give at least one IMAGE (a file or a folder of images), or --shards', 'score');
  const inputs = await expandImageArgs(positionals);
  reportLeftOut(inputs, io);
  if (inputs.files.length === 0) throw new UsageError('no images to score', 'score');
  checkOutDir(plan.out);
  const results = await FileResults.open(plan.out, plan.overwrite);
  try {
    const todo = inputs.files.filter((f) => !results.done.has(f));
    const skipped = inputs.files.length - todo.length;
    if (skipped > 0)
      io.err(
        `skipped ${skipped} of ${inputs.files.length} files already in ${results.path} (--overwrite redoes them)\n`,
      );
    if (plan.minQuality !== null)
      for (const f of inputs.files) {
        const r = results.done.get(f);
        if (r && passes(r, plan.minQuality)) io.out(`${r.key ?? f}\n`);
      }
    if (todo.length === 0) return EXIT_OK;
    const loaded = await load();
    let failed = 0;
    try {
      const bar = progress(io, todo.length, 'scored', !opts.quiet);
      const jobs = todo.map((file) => ({ file, prompt: opts.promptFor(file) }));
      await scoreFiles(loaded.scorer, jobs, { batch: opts.batch, reader: loaded.reader }, (r) => {
        results.add({ key: r.file, shard: null, url: null, ...r });
        if (r.error) failed++;
        bar.tick(r.error !== null);
        if (passes({ qualityScore: r.quality?.score ?? null }, plan.minQuality)) io.out(`${r.file}\n`);
      });
      bar.done();
    } finally {
      await loaded.release();
    }
    io.err(`${todo.length} file(s) scored into ${results.path} (${FILE_RESULTS}), ${failed} failed\n`);
    return failed > 0 ? EXIT_SOME_FAILED : EXIT_OK;
  } finally {
    results.close();
  }
}
