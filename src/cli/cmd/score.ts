// agqg score: grades image files with a pack. One bad file gives an error
// entry and the batch goes on; the exit code says whether any failed.
import { availableParallelism } from 'node:os';
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
import { DecodePool } from '../decode-pool.ts';
import { mainThreadReader, type ImageReader } from '../image-reader.ts';
import { expandImageArgs, reportLeftOut, type ExpandedInputs } from '../images.ts';
import type { CliIO } from '../io.ts';
import type { JpegDecoderChoice } from '../jpeg-native.ts';
import { loadScorer, noHeadMessage } from '../load-pack.ts';
import { progress } from '../progress.ts';
import { readPromptTable, type PromptTable } from '../prompts.ts';
import { scoreFiles } from '../score-pipeline.ts';
import { outPlan, runOut, type OutFlags } from '../shards/score-out.ts';
import { AgqgError } from '../../model/errors.ts';
import {
  ResultsFileSchema,
  resultsToCsv,
  type GradeResult,
  type ImageResult,
  type ResultsFile,
} from '../../model/grading/result.ts';
import type { PackScorer } from '../../model/scoring/scorer.ts';

/**
 * Images per encoder run unless --batch says otherwise. Measured (bench/node-vs-ort.ts): on CLIP
 * ViT-B/32 a run of 8 is as fast per image as 16 or 32 and ~15-20% faster than 1; memory grows with
 * the batch (the default pack peaks at ~0.38 GB RSS with 1, ~0.83 GB with 8, ~1.9 GB with 32).
 */
export const DEFAULT_BATCH = 8;
/**
 * Decode worker threads unless --decode-threads says otherwise: two, so that the first batch,
 * which nothing can overlap, decodes on both cores of a small machine while the encoder waits.
 */
/** Peak RSS of the default pack by --batch, measured by bench/score-peak.ts (docs/cli.md has the table). */
const MEMORY_HELP =
  '0.33 GB + 60 MB x --batch on the default pack (its\nencoder holds ~60 MB of activations per image in a run), plus ~25 MB x --batch for\nimages near 2048x2048: 0.8 GB at the default batch, 1.9 GB at 32';
export const DEFAULT_DECODE_THREADS = Math.min(2, availableParallelism());

export const help = `agqg score --pack DIR IMAGE... [--prompt T | --prompts CSV] [--json | --csv] [--variant DTYPE] [--batch N]
agqg score --pack DIR IMAGE... --out DIR [--overwrite] [--min-quality X]
agqg score --pack DIR --shards SPEC... --out DIR [--format jsonl|parquet] [--shard-index I --shard-count N]

Grades each IMAGE (PNG, JPEG, WebP, GIF, BMP, AVIF; folders expand to the images
in them and in their subfolders) for quality and, with a prompt and a pack with
a text encoder, for alignment with the prompt.

Options:
  --pack DIR        pack folder (manifest.json, or a Hugging Face CLIP export: zero-shot, uncalibrated)
  --prompt T        the prompt that made every image
  --prompts CSV     a CSV with columns name,prompt (other columns ignored); rows match images by file name
  --json            results as JSON (schema "agqg-results", version 1)
  --csv             results as CSV (one row per image, RFC 4180)
  --variant DTYPE   encoder weights to use (fp32, fp16, q8, ...; default: the most exact present)
  --batch N         images per encoder run (default ${DEFAULT_BATCH}; 1 = one run per image); same scores
  --decode-threads N  threads reading, decoding and preprocessing the next images while the
                    encoder runs (default ${DEFAULT_DECODE_THREADS}; 0 = on the main thread, between runs)
  --threads N       threads for each encoder run (default: all cores; 1 when several workers share a machine)
  --no-recursive    folders expand to their own images only, not their subfolders' (counted on stderr)
  --quiet           no progress on stderr
  -h, --help        this help

At scale (docs/scale.md):
  --shards SPEC     WebDataset tar shards: 'data/{000000..000099}.tar', globs, or @FILE (one a line);
                    repeatable. Each sample's image is its jpg/jpeg/png/webp member, its prompt its
                    .txt or the prompt/caption of its .json
  --out DIR         write results into DIR as they arrive: one output per shard (written under a
                    temporary name, renamed when complete), or DIR/results.jsonl for IMAGE inputs.
                    A rerun skips what is already there and says how many
  --format F        jsonl (default) or parquet (shards only; flat schema, see docs/scale.md)
  --shard-index I   this worker's index: shard i of the list is worker (i mod N)'s. Default: from
                    JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID or AWS_BATCH_JOB_ARRAY_INDEX
  --shard-count N   number of workers (default with Slurm: SLURM_ARRAY_TASK_COUNT)
  --overwrite       redo outputs that exist
  --min-quality X   print the keys whose quality score is at least X on stdout

A file or sample that cannot be read or decoded gets an entry with its error code
and the others are still graded; what a folder holds that is not graded is counted
on stderr. Exit code: 0 every image asked for was graded, 1 some inputs failed,
2 usage, pack or output error (an unwritable or full --out; docs/cli.md lists the
error codes).

Memory: peak RSS is about ${MEMORY_HELP}.
`;

function fmtGrade(g: GradeResult | null): string {
  if (!g) return '-';
  return `${g.score.toFixed(2)} ${g.grade}${g.uncalibrated ? '*' : ''}`;
}

/** Plain-text table for people; --json and --csv are for programs. */
export function formatResultsTable(results: readonly ImageResult[]): string {
  const rows = results.map((r) => [
    r.file,
    r.error ? 'error' : fmtGrade(r.quality),
    r.error ? '' : fmtGrade(r.alignment),
    r.error
      ? `[${r.error.code}] ${r.error.message}`
      : [r.qualityNote, r.alignmentError ? `[${r.alignmentError.code}] ${r.alignmentNote}` : r.alignmentNote]
          .filter((n): n is string => !!n)
          .join('; '),
  ]);
  const header = ['file', 'quality', 'alignment', 'note'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const pad = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  const lines = [pad(header), ...rows.map(pad)];
  if (results.some((r) => r.quality?.uncalibrated || r.alignment?.uncalibrated)) {
    lines.push(
      '* uncalibrated: a zero-shot head, not fitted to human scores; compare images with each other, not with MOS',
    );
  }
  return `${lines.join('\n')}\n`;
}

export function resultsFile(scorer: PackScorer, results: ImageResult[]): ResultsFile {
  const m = scorer.manifest;
  const doc = {
    schema: 'agqg-results' as const,
    version: 1 as const,
    createdAt: new Date().toISOString(),
    pack: { id: m.id, name: m.name, version: m.packVersion },
    results,
  };
  const parsed = ResultsFileSchema.safeParse(doc);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new AgqgError(
      'internal',
      `results do not match the results schema: ${i.path.join('.')}: ${i.message}`,
    );
  }
  return parsed.data;
}

/** The reader, with the paths that failed while listing (unlistable folders) failing as their entries. */
function listedErrors<R extends ImageReader>(reader: R, inputs: ExpandedInputs): R {
  if (inputs.errors.size === 0) return reader;
  const read = reader.read.bind(reader);
  return Object.assign(reader, {
    read: (path: string) => {
      const err = inputs.errors.get(path);
      return err ? Promise.reject(err) : read(path);
    },
  });
}

function parseDecodeThreads(value: string | undefined): number {
  if (value === undefined) return DEFAULT_DECODE_THREADS;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new UsageError(`--decode-threads must be a whole number >= 0 (got "${value}")`, 'score');
  return n;
}

/**
 * Where `agqg score` decodes: `decodeThreads` workers (started at once, so they boot while the
 * pack loads), or the main thread for 0. Call `forPack` once the pack is loaded: workers then
 * preprocess for its encoder too, so the main thread only copies tensors into the batch.
 */
export function imageReader(
  decodeThreads: number,
  jpeg: JpegDecoderChoice = 'auto',
): ImageReader & { forPack(scorer: PackScorer): void } {
  if (decodeThreads === 0) return Object.assign(mainThreadReader(jpeg), { forPack: () => {} });
  const pool = new DecodePool(decodeThreads, null, jpeg);
  return Object.assign(pool, {
    forPack(scorer: PackScorer) {
      pool.prepare = scorer.manifest.vision.inputs.map((input) => input.preprocess);
    },
  });
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('score', argv, {
    pack: { type: 'string' },
    prompt: { type: 'string' },
    prompts: { type: 'string' },
    json: { type: 'boolean', default: false },
    csv: { type: 'boolean', default: false },
    variant: { type: 'string' },
    batch: { type: 'string' },
    'decode-threads': { type: 'string' },
    threads: { type: 'string' },
    quiet: { type: 'boolean', default: false },
    shards: { type: 'string', multiple: true },
    out: { type: 'string' },
    format: { type: 'string' },
    'shard-index': { type: 'string' },
    'shard-count': { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'min-quality': { type: 'string' },
    'no-recursive': { type: 'boolean', default: false },
  });
  const packDir = requireOption('score', values.pack, '--pack');
  const outFlags: OutFlags = {
    shards: values.shards ?? [],
    out: values.out,
    format: values.format,
    shardIndex: values['shard-index'],
    shardCount: values['shard-count'],
    overwrite: values.overwrite,
    minQuality: values['min-quality'],
    json: values.json,
    csv: values.csv,
    prompt: values.prompt,
    prompts: values.prompts,
  };
  const plan = outPlan(outFlags, positionals);
  if (positionals.length === 0 && !plan)
    throw new UsageError('give at least one IMAGE (a file or a folder of images)', 'score');
  if (values.json && values.csv) throw new UsageError('choose one of --json and --csv', 'score');
  if (values.prompt !== undefined && values.prompts !== undefined) {
    throw new UsageError(
      'choose one of --prompt (one prompt for all) and --prompts (a CSV per file)',
      'score',
    );
  }
  const variant = parseVariant('score', values.variant);
  const batch = parsePositiveInt('score', values.batch, '--batch') ?? DEFAULT_BATCH;
  const decodeThreads = parseDecodeThreads(values['decode-threads']);
  const threads = parsePositiveInt('score', values.threads, '--threads');
  const table: PromptTable | null = values.prompts ? await readPromptTable(values.prompts, 'score') : null;
  const promptFor = (file: string): string | null => (table ? table.lookup(file) : (values.prompt ?? null));
  if (plan) {
    const load = async () => {
      const reader = imageReader(decodeThreads);
      let scorer: PackScorer;
      try {
        scorer = await loadScorer(packDir, io, { variant, threads });
      } catch (err) {
        await reader.close();
        throw err;
      }
      const release = async () => {
        await reader.close();
        await scorer.release();
      };
      const noHead = noHeadMessage(scorer);
      if (noHead) {
        await release();
        throw new AgqgError('no_head', noHead);
      }
      reader.forPack(scorer);
      return { scorer, reader, release };
    };
    return runOut(outFlags, plan, positionals, io, { batch, quiet: values.quiet, promptFor }, load);
  }
  const inputs = await expandImageArgs(positionals, { recursive: !values['no-recursive'] });
  reportLeftOut(inputs, io);
  if (inputs.files.length === 0) throw new UsageError('no images to score', 'score');

  const reader = listedErrors(imageReader(decodeThreads), inputs);
  let scorer: PackScorer;
  try {
    scorer = await loadScorer(packDir, io, { variant, threads });
  } catch (err) {
    await reader.close();
    throw err;
  }
  try {
    const noHead = noHeadMessage(scorer);
    if (noHead) {
      io.err(`agqg score: ${noHead}\n`);
      return EXIT_USAGE;
    }
    if (table) {
      const unmatched = inputs.files.filter((f) => table.lookup(f) === null).length;
      if (unmatched > 0)
        io.err(
          `warning: ${unmatched} of ${inputs.files.length} images have no row in ${values.prompts}; they get no alignment grade\n`,
        );
    }
    const results: ImageResult[] = [];
    const bar = progress(io, inputs.files.length, 'scored', !values.quiet);
    const jobs = inputs.files.map((file) => ({ file, prompt: promptFor(file) }));
    reader.forPack(scorer);
    await scoreFiles(scorer, jobs, { batch, reader }, (result) => {
      results.push(result);
      bar.tick(result.error !== null);
    });
    bar.done();

    if (values.json) io.out(`${JSON.stringify(resultsFile(scorer, results), null, 2)}\n`);
    else if (values.csv) io.out(resultsToCsv(results, { gradeCount: scorer.manifest.grades.labels.length }));
    else io.out(formatResultsTable(results));

    const failed = results.filter((r) => r.error);
    if (failed.length > 0) {
      io.err(`${failed.length} of ${results.length} images failed:\n`);
      for (const r of failed) io.err(`  ${r.file}: [${r.error?.code}] ${r.error?.message}\n`);
      return EXIT_SOME_FAILED;
    }
    return EXIT_OK;
  } finally {
    await reader.close();
    await scorer.release();
  }
}
