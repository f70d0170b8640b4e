// `agqg score --shards ... --out DIR`: this worker's shards, each scored as a
// stream into its own output, written atomically. The shards flow through one
// scoring pipeline (the next shard's samples decode while the last batch of the
// previous one is in the encoder); a shard's output is committed as soon as its
// last record is in. A shard whose output exists is skipped (a rerun resumes).
import { existsSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { AgqgError, toErrorInfo } from '../../model/errors.ts';
import type { ImageResult } from '../../model/grading/result.ts';
import type { PackScorer } from '../../model/scoring/scorer.ts';
import type { ImageReader } from '../image-reader.ts';
import type { CliIO } from '../io.ts';
import { scoreFiles } from '../score-pipeline.ts';
import { JsonlOutput, ParquetOutput, removeStaleTemps, type AtomicOutput } from './outputs.ts';
import { readOutputSummaries } from './read-outputs.ts';
import type { ScoreRecord } from './records.ts';
import { sampleJob, type SampleJob } from './samples-to-jobs.ts';
import { outputPath, type OutputFormat } from './shard-list.ts';
import { readShardSamples } from './tar-samples.ts';

export interface ShardRunOptions {
  /** This worker's shards, in list order. */
  shards: readonly string[];
  outDir: string;
  format: OutputFormat;
  overwrite: boolean;
  scorer: PackScorer;
  reader: ImageReader;
  batch: number;
  io: CliIO;
  quiet: boolean;
  /** Print the keys whose quality score is at least this, on stdout. */
  minQuality: number | null;
}

export interface ShardRunResult {
  done: number;
  skipped: number;
  /** Shards that could not be opened (no output: a rerun tries them again). */
  unreadable: number;
  samples: number;
  failedSamples: number;
}

interface ShardState {
  path: string;
  name: string;
  out: AtomicOutput;
  read: number;
  written: number;
  failed: number;
  readDone: boolean;
  committed: boolean;
  t0: number;
}

interface ShardJob extends SampleJob {
  state: ShardState;
}

export const passes = (r: { qualityScore: number | null }, min: number | null): boolean =>
  min !== null && r.qualityScore !== null && r.qualityScore >= min;

/**
 * This worker's shards less those whose output exists (unless --overwrite); says how many were
 * skipped and, with --min-quality, lists their passing keys as a full run would.
 */
export async function pendingShards(
  opts: Pick<ShardRunOptions, 'shards' | 'outDir' | 'format' | 'overwrite' | 'io' | 'minQuality'>,
): Promise<{ todo: string[]; skipped: number }> {
  const todo: string[] = [];
  let skipped = 0;
  for (const s of opts.shards) {
    const out = outputPath(opts.outDir, s, opts.format);
    if (!opts.overwrite && existsSync(out)) {
      skipped++;
      if (opts.minQuality !== null)
        for (const r of await readOutputSummaries(out))
          if (passes(r, opts.minQuality)) opts.io.out(`${r.key}\n`);
    } else todo.push(s);
  }
  if (skipped > 0)
    opts.io.err(
      `skipped ${skipped} of ${opts.shards.length} shards whose output is already in ${opts.outDir} (--overwrite redoes them)\n`,
    );
  return { todo, skipped };
}

/** Scores `opts.shards` (all to do: see pendingShards) into their outputs. */
export async function runShards(opts: ShardRunOptions): Promise<ShardRunResult> {
  const { io, scorer } = opts;
  const result: ShardRunResult = { done: 0, skipped: 0, unreadable: 0, samples: 0, failedSamples: 0 };
  const todo = opts.shards;
  const stale = removeStaleTemps(opts.outDir);
  if (stale > 0) io.err(`removed ${stale} unfinished temporary output(s) of stopped runs\n`);

  const open = new Set<ShardState>();
  const grades = scorer.manifest.grades.labels.length;
  const meta = {
    'agqg.schema': 'agqg-records',
    'agqg.version': '1',
    'agqg.pack': scorer.manifest.id,
    'agqg.grades': JSON.stringify(scorer.manifest.grades.labels),
  };
  const commit = (st: ShardState): void => {
    st.out.commit();
    st.committed = true;
    open.delete(st);
    result.done++;
    if (!opts.quiet) {
      const s = (performance.now() - st.t0) / 1000;
      io.err(
        `${st.name}: ${st.written} samples, ${st.failed} failed, ${(st.written / Math.max(s, 1e-3)).toFixed(1)} images/s -> ${st.out.path}\n`,
      );
    }
  };

  async function* jobs(): AsyncGenerator<ShardJob> {
    for (const path of todo) {
      const name = basename(path);
      const s = statSync(path, { throwIfNoEntry: false });
      if (!s?.isFile()) {
        io.err(`agqg score: ${path}: ${s ? 'not a file' : 'no such shard'}; its output is not written\n`);
        result.unreadable++;
        continue;
      }
      const st: ShardState = {
        path,
        name,
        out:
          opts.format === 'parquet'
            ? new ParquetOutput(outputPath(opts.outDir, path, 'parquet'), grades, meta)
            : new JsonlOutput(outputPath(opts.outDir, path, 'jsonl')),
        read: 0,
        written: 0,
        failed: 0,
        readDone: false,
        committed: false,
        t0: performance.now(),
      };
      open.add(st);
      try {
        for await (const sample of readShardSamples(path)) {
          st.read++;
          yield { ...sampleJob(sample, name), state: st };
        }
      } catch (e) {
        // A damaged tar: what was read before the damage is kept, and one record says where it stopped.
        st.read++;
        const why = toErrorInfo(e).message;
        const error = new AgqgError(
          'decode_failed',
          `${name}: the shard cannot be read past sample ${st.read - 1} (${why})`,
        );
        yield { key: null, url: null, file: name, prompt: null, error, state: st };
      }
      st.readDone = true;
      if (st.written === st.read) commit(st);
    }
  }

  const record = (r: ImageResult, job: ShardJob): ScoreRecord => ({
    key: job.key,
    shard: job.state.name,
    url: job.url,
    ...r,
  });
  try {
    await scoreFiles(scorer, jobs(), { batch: opts.batch, reader: opts.reader }, (r, _i, _s, job) => {
      const st = job.state;
      const rec = record(r, job);
      st.out.add(rec);
      st.written++;
      result.samples++;
      if (r.error) {
        st.failed++;
        result.failedSamples++;
      }
      if (passes({ qualityScore: r.quality?.score ?? null }, opts.minQuality)) io.out(`${job.key}\n`);
      if (st.readDone && st.written === st.read) commit(st);
    });
  } finally {
    // Stopped early (an error, a full disk): nothing half-written keeps a final name.
    for (const st of open) st.out.abort();
  }
  return result;
}
