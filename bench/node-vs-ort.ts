// `agqg score` against a raw onnxruntime-node session on the same pack, same
// images, same run, interleaved: the raw session is fed ready-made pixel
// tensors (the runtime's ceiling); `agqg score` is timed in-process as the
// command runs it after loading the pack: scoreFiles() (read, decode on the
// decode workers, preprocess, encoder, heads) with the pack loaded once and
// the load left out. Also: the text tower per prompt (raw, and agqg with one
// shared prompt and with a distinct prompt per image), what batching and
// decode workers each give, and where the time goes.
// Alone: tsx bench/node-vs-ort.ts [--pack b32|default|DIR] [--n 64] [--rounds 3] [--extra-rounds N] [--batches 1,32] [--levers] [--prompts]
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DEFAULT_DECODE_THREADS, imageReader } from '../src/cli/cmd/score.ts';
import { decodeImageFile } from '../src/cli/decode.ts';
import { nativeJpeg, type JpegDecoderChoice } from '../src/cli/jpeg-native.ts';
import type { ReadStages } from '../src/cli/image-reader.ts';
import { openPackFolder } from '../src/cli/load-pack.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { FIRST_RUN_IMAGES, scoreFiles, type ScoreJob } from '../src/cli/score-pipeline.ts';
import { pickVariant } from '../src/model/pack/pack.ts';
import { preprocess } from '../src/model/image/preprocess.ts';
import type { ImageResult } from '../src/model/grading/result.ts';
import { PackScorer, VARIANT_PREFERENCE } from '../src/model/scoring/scorer.ts';
import type { Manifest } from '../src/model/pack/manifest.ts';
import type { ClipTokenizer } from '../src/model/text/tokenizer.ts';
import { ensureClipB32Pack } from './clip-b32-pack.ts';
import { agiqaImages, type BenchImage } from './images.ts';
import { TimedRuntime } from './node-timed-runtime.ts';
import { AGIQA, CLIP_B32, haveShared, ROOT } from './shared.ts';
import {
  batchFigures,
  median,
  reportRows,
  type BatchFigures,
  type Measures,
  type StageSums,
} from './node-vs-ort-report.ts';
import { formatTable, timedRow, type Row } from './stats.ts';

export interface CliVsOrtOptions {
  packDir: string;
  label: string;
  images: readonly BenchImage[];
  /** Images per run, each measured for both paths (default 1 and 32). */
  batches?: readonly number[];
  /** Interleaved rounds of raw and agqg (raw, agqg, agqg, raw, ...); default 3. */
  rounds?: number;
  /** Rounds that also run the lever and prompt passes (the first ones); default: all. */
  extraRounds?: number;
  /** Decode workers for the agqg path (default: the command's default). */
  decodeThreads?: number;
  /**
   * Also agqg with decoding on the main thread (0 workers): what prefetching gives; and with a
   * first encoder run of a whole batch: what the short first run gives.
   */
  levers?: boolean;
  /** Also the text tower: raw per prompt, agqg with one shared and with distinct prompts. */
  prompts?: boolean;
  log?: (line: string) => void;
}

export type { BatchFigures } from './node-vs-ort-report.ts';

export interface CliVsOrtResult {
  rows: Row[];
  byBatch: BatchFigures[];
  /** cli_vs_raw_ort at the largest batch measured. */
  ratio: number;
}

type Pass =
  | 'raw'
  | 'cli'
  | 'cli-main-thread'
  | 'cli-one-worker'
  | 'cli-full-first-run'
  | 'cli-wasm-jpeg'
  | 'cli-shared-prompt'
  | 'cli-distinct-prompts';

/** Raw session options as a user of onnxruntime-node would write them. */
function rawOptions(): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: availableParallelism(), graphOptimizationLevel: 'all' };
}

/** The raw session's ready-made feeds per batch size (decode + preprocess outside any timing). */
async function rawFeedsByBatch(
  m: Manifest,
  images: readonly BenchImage[],
  batches: readonly number[],
): Promise<Map<number, Record<string, ort.Tensor>[]>> {
  const n = images.length;
  const perImage: Float32Array[][] = [];
  for (const im of images) {
    const img = await decodeImageFile(im.path);
    perImage.push(m.vision.inputs.map((input) => preprocess(img, input.preprocess).data));
  }
  const rawFeeds = new Map<number, Record<string, ort.Tensor>[]>();
  for (const b of batches) {
    const chunks: Record<string, ort.Tensor>[] = [];
    for (let i0 = 0; i0 < n; i0 += b) {
      const k = Math.min(b, n - i0);
      const feeds: Record<string, ort.Tensor> = {};
      m.vision.inputs.forEach((input, j) => {
        const row = perImage[0][j].length;
        const data = new Float32Array(k * row);
        for (let i = 0; i < k; i++) data.set(perImage[i0 + i][j], i * row);
        const dims = input.shape.map((d, a) => (a === 0 ? k : Number(d)));
        feeds[input.name] = new ort.Tensor('float32', data, dims);
      });
      chunks.push(feeds);
    }
    rawFeeds.set(b, chunks);
  }
  return rawFeeds;
}

/** The two paths on one pack, and the passes that run them and record what they measure. */
class Passes {
  readonly measures: Measures = {
    ips: new Map(),
    pairRatios: new Map(),
    rawRunMs: new Map(),
    cliTotals: new Map(),
    stages: new Map(),
  };
  private readonly readers = new Map<string, ReturnType<typeof imageReader>>();
  private promptRound = 0;

  constructor(
    private readonly images: readonly BenchImage[],
    private readonly scorer: PackScorer,
    private readonly timed: TimedRuntime,
    private readonly raw: ort.InferenceSession,
    private readonly rawFeeds: Map<number, Record<string, ort.Tensor>[]>,
    private readonly threads: number,
    private readonly visionFile: string,
    private readonly textFile: string | null,
  ) {}

  readerFor(t: number, jpeg: JpegDecoderChoice = 'auto'): ReturnType<typeof imageReader> {
    let r = this.readers.get(`${t}:${jpeg}`);
    if (!r) {
      r = imageReader(t, jpeg);
      r.forPack(this.scorer);
      this.readers.set(`${t}:${jpeg}`, r);
    }
    return r;
  }

  jobsFor(pass: Pass): ScoreJob[] {
    const round = ++this.promptRound;
    if (pass === 'cli-shared-prompt')
      return this.images.map((im) => ({ file: im.path, prompt: `a photo, pass ${round}` }));
    // A suffix per pass: the text cache would otherwise make every pass after the first free.
    if (pass === 'cli-distinct-prompts')
      return this.images.map((im) => ({ file: im.path, prompt: `${im.prompt}, pass ${round}` }));
    return this.images.map((im) => ({ file: im.path, prompt: null }));
  }

  /** Forgets the warm-up's timings. */
  clear(): void {
    this.measures.rawRunMs.clear();
    this.measures.cliTotals.clear();
    this.measures.stages.clear();
  }

  /** One raw pass over all images in runs of `b`; images per second. */
  async runRaw(b: number): Promise<number> {
    const { rawRunMs } = this.measures;
    const times = rawRunMs.get(b) ?? [];
    rawRunMs.set(b, times);
    const start = performance.now();
    for (const feeds of this.rawFeeds.get(b) ?? []) {
      const a = performance.now();
      await this.raw.run(feeds);
      times.push((performance.now() - a) / Number(Object.values(feeds)[0].dims[0]));
    }
    return (this.images.length / (performance.now() - start)) * 1000;
  }

  /** One agqg pass as `agqg score` runs it; images per second. */
  async runCli(b: number, pass: Pass): Promise<number> {
    const n = this.images.length;
    const reader = this.readerFor(
      pass === 'cli-main-thread' ? 0 : pass === 'cli-one-worker' ? 1 : this.threads,
      pass === 'cli-wasm-jpeg' ? 'wasm' : 'auto',
    );
    const jobs = this.jobsFor(pass);
    const results: ImageResult[] = [];
    const read: (ReadStages | null)[] = [];
    this.timed.reset();
    const start = performance.now();
    const firstRun = pass === 'cli-full-first-run' ? b : undefined;
    await scoreFiles(this.scorer, jobs, { batch: b, reader, firstRun }, (r, _i, s) => {
      results.push(r);
      read.push(s);
    });
    const wall = performance.now() - start;
    const failed = results.filter((r) => r.error);
    if (failed.length > 0)
      throw new Error(
        `agqg score failed on ${failed.length} images: ${failed[0].file}: ${failed[0].error?.message}`,
      );
    const key = `${pass}:${b}`;
    const { cliTotals } = this.measures;
    cliTotals.set(key, [
      ...(cliTotals.get(key) ?? []),
      ...results.map((r) => r.timings.totalMs ?? Number.NaN),
    ]);
    if (pass === 'cli') this.addStages(b, results, read);
    return (n / wall) * 1000;
  }

  /** Adds the default pass's time by stage. */
  private addStages(b: number, results: readonly ImageResult[], read: readonly (ReadStages | null)[]): void {
    const { stages } = this.measures;
    const s: StageSums = stages.get(b) ?? {
      n: 0,
      read: 0,
      decode: 0,
      prepared: 0,
      preprocess: 0,
      encoder: 0,
      text: 0,
      heads: 0,
    };
    const encoder = this.timed.total((l) => l === this.visionFile);
    const text = this.timed.total((l) => l === this.textFile);
    s.n += this.images.length;
    for (const x of read) {
      s.read += x?.readMs ?? 0;
      s.decode += x?.decodeMs ?? 0;
      s.prepared += x?.preprocessMs ?? 0;
    }
    let inference = 0;
    for (const r of results) {
      s.preprocess += r.timings.preprocessMs ?? 0;
      inference += r.timings.inferenceMs ?? 0;
    }
    s.encoder += encoder;
    s.text += text;
    // What PackScorer counts as inference beyond the encoder and text runs: heads and grading.
    s.heads += Math.max(0, inference - encoder - text);
    stages.set(b, s);
  }

  /** One run of each size: the sessions' first-run allocations and the workers' start. */
  async warmUp(batches: readonly number[], extraPasses: readonly Pass[]): Promise<void> {
    for (const b of batches) {
      const first = (this.rawFeeds.get(b) ?? [])[0];
      if (first) await this.raw.run(first);
      await this.scoreUntimed(b, this.threads);
      if (extraPasses.includes('cli-main-thread')) await this.scoreUntimed(b, 0);
    }
    this.clear();
  }

  private async scoreUntimed(b: number, threads: number): Promise<void> {
    await scoreFiles(
      this.scorer,
      this.jobsFor('cli').slice(0, b),
      { batch: b, reader: this.readerFor(threads) },
      () => {},
    );
  }

  /** One round at batch `b`, ABBA: raw first on even rounds, last on odd ones. */
  async round(b: number, r: number, passes: readonly Pass[]): Promise<void> {
    const { ips, pairRatios } = this.measures;
    const record = (key: string, v: number) => ips.set(key, [...(ips.get(key) ?? []), v]);
    // Drift in the machine's load then evens out.
    const order: ('raw' | Pass)[] = r % 2 === 0 ? ['raw', ...passes] : [...passes].reverse().concat('raw');
    const round = new Map<string, number>();
    for (const p of order) {
      const v = p === 'raw' ? await this.runRaw(b) : await this.runCli(b, p);
      record(`${p}:${b}`, v);
      round.set(p, v);
    }
    // Each pass against the raw pass of its own round: drift in the machine's load between
    // rounds then cancels out of the ratio.
    for (const [p, v] of round)
      if (p !== 'raw')
        pairRatios.set(`${p}:${b}`, [
          ...(pairRatios.get(`${p}:${b}`) ?? []),
          v / (round.get('raw') ?? Number.NaN),
        ]);
  }

  async close(): Promise<void> {
    for (const r of this.readers.values()) await r.close();
  }
}

/** The raw text tower per prompt, at one prompt per run and at the largest batch. */
async function rawTextTowerRows(
  section: string,
  packDir: string,
  textFile: string,
  spec: NonNullable<Manifest['text']>,
  tok: ClipTokenizer,
  prompts: readonly string[],
  batches: readonly number[],
): Promise<Row[]> {
  const text = await ort.InferenceSession.create(join(packDir, textFile), rawOptions());
  const perPrompt = async (b: number, runs: number): Promise<number[]> => {
    const out: number[] = [];
    for (let k = 0; k <= runs; k++) {
      const chunk = Array.from({ length: b }, (_, i) => prompts[(k * b + i) % prompts.length]);
      const enc = tok.encodeBatch(chunk, spec.contextLength);
      const feeds: Record<string, ort.Tensor> = {
        [spec.inputIds]: new ort.Tensor('int64', enc.inputIds, [...enc.dims]),
      };
      if (spec.attentionMask && text.inputNames.includes(spec.attentionMask)) {
        feeds[spec.attentionMask] = new ort.Tensor('int64', enc.attentionMask, [...enc.dims]);
      }
      const a = performance.now();
      await text.run(feeds);
      if (k > 0) out.push((performance.now() - a) / b);
    }
    return out;
  };
  const rows = [timedRow(section, 'raw text tower, 1 prompt per run (per prompt)', await perPrompt(1, 8))];
  if (batches.some((b) => b > 1)) {
    const big = Math.max(...batches);
    rows.push(
      timedRow(section, `raw text tower, ${big} prompts per run (per prompt)`, await perPrompt(big, 2)),
    );
  }
  await text.release();
  return rows;
}

/** The passes beyond the default one that the options ask for. */
function extraPassesFor(opts: CliVsOrtOptions, threads: number, hasText: boolean): Pass[] {
  const extra: Pass[] = [];
  if (opts.levers) {
    extra.push(
      'cli-main-thread',
      ...(threads !== 1 ? (['cli-one-worker'] as const) : []),
      'cli-full-first-run',
    );
    if (nativeJpeg()) extra.push('cli-wasm-jpeg');
  }
  if (opts.prompts && hasText) extra.push('cli-shared-prompt', 'cli-distinct-prompts');
  return extra;
}

export async function benchCliVsRawOrt(opts: CliVsOrtOptions): Promise<CliVsOrtResult> {
  const log = opts.log ?? (() => {});
  const batches = opts.batches ?? [1, 32];
  const rounds = opts.rounds ?? 3;
  const extraRounds = Math.min(rounds, opts.extraRounds ?? rounds);
  const threads = opts.decodeThreads ?? DEFAULT_DECODE_THREADS;
  const images = opts.images;
  const section = `node: agqg score vs raw onnxruntime-node (${opts.label}, ${images.length} images)`;

  // The pack, loaded once for agqg (load time reported, never in the passes).
  const t0 = performance.now();
  const pack = await openPackFolder(opts.packDir);
  const timed = new TimedRuntime(new NodeRuntime());
  const scorer = await PackScorer.load(pack, timed);
  const loadMs = performance.now() - t0;
  const m = pack.manifest;
  const visionFile = pickVariant(m.vision.variants, undefined, VARIANT_PREFERENCE).file;
  const textFile = m.text ? pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE).file : null;
  const raw = await ort.InferenceSession.create(join(opts.packDir, visionFile), rawOptions());
  const rawFeeds = await rawFeedsByBatch(m, images, batches);
  const passes = new Passes(images, scorer, timed, raw, rawFeeds, threads, visionFile, textFile);

  const extraPasses = extraPassesFor(opts, threads, scorer.hasText);
  // A whole-batch first run is the same as the default when the batch is no bigger than it.
  const passesFor = (b: number, r: number): Pass[] =>
    ['cli' as Pass].concat(
      r < extraRounds ? extraPasses.filter((p) => p !== 'cli-full-first-run' || b > FIRST_RUN_IMAGES) : [],
    );
  const { ips } = passes.measures;
  try {
    log(`warm-up (${batches.join(', ')} per run)`);
    await passes.warmUp(batches, extraPasses);
    for (let r = 0; r < rounds; r++) {
      for (const b of batches) {
        await passes.round(b, r, passesFor(b, r));
        log(
          `round ${r + 1}/${rounds}, batch ${b}: raw ${median(ips.get(`raw:${b}`) ?? []).toFixed(2)} img/s, agqg ${median(ips.get(`cli:${b}`) ?? []).toFixed(2)} img/s · load ${loadavg()[0].toFixed(2)}`,
        );
      }
    }
    const textRows =
      opts.prompts && scorer.hasText && textFile && scorer.tokenizer && m.text
        ? await rawTextTowerRows(
            section,
            opts.packDir,
            textFile,
            m.text,
            scorer.tokenizer,
            images.map((im) => im.prompt),
            batches,
          )
        : [];
    const byBatch = batchFigures(batches, passes.measures);
    const rows = [
      ...reportRows({ section, loadMs, threads, extraRounds }, byBatch, passes.measures),
      ...textRows,
    ];
    const largest = byBatch.reduce((a, f) => (f.batch > a.batch ? f : a), byBatch[0]);
    return { rows, byBatch, ratio: largest.ratio };
  } finally {
    await passes.close();
    await raw.release();
    await scorer.release();
  }
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pack: { type: 'string', default: 'b32' },
      n: { type: 'string', default: '64' },
      rounds: { type: 'string', default: '3' },
      'extra-rounds': { type: 'string' },
      batches: { type: 'string', default: '1,32' },
      threads: { type: 'string' },
      levers: { type: 'boolean', default: false },
      prompts: { type: 'boolean', default: false },
    },
  });
  if (!haveShared('agqg score vs raw ORT', [AGIQA])) return;
  let packDir: string;
  let label: string;
  if (values.pack === 'b32') {
    if (!haveShared('CLIP ViT-B/32', [CLIP_B32])) return;
    packDir = await ensureClipB32Pack((l) => console.log(l));
    label = 'CLIP ViT-B/32';
  } else if (values.pack === 'default') {
    packDir = join(ROOT, 'public/models/default');
    label = 'default pack';
  } else {
    packDir = values.pack;
    label = values.pack;
  }
  const before = loadavg()[0];
  const r = await benchCliVsRawOrt({
    packDir,
    label,
    images: agiqaImages(Number(values.n)),
    rounds: Number(values.rounds),
    extraRounds: values['extra-rounds'] === undefined ? undefined : Number(values['extra-rounds']),
    batches: values.batches.split(',').map(Number),
    decodeThreads: values.threads === undefined ? undefined : Number(values.threads),
    levers: values.levers,
    prompts: values.prompts,
    log: (l) => console.log(`  ${l}`),
  });
  console.log(`load average (1 min) before/after: ${before.toFixed(2)} / ${loadavg()[0].toFixed(2)}`);
  console.log(formatTable(r.rows));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\0')) {
  cli().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
