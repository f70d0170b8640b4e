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
import { DEFAULT_DECODE_THREADS } from '../src/cli/cmd/score.ts';
import { decodeImageFile } from '../src/cli/decode.ts';
import { nativeJpeg } from '../src/cli/jpeg-native.ts';
import { openPackFolder } from '../src/cli/load-pack.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { FIRST_RUN_IMAGES } from '../src/cli/score-pipeline.ts';
import { pickVariant } from '../src/model/pack/pack.ts';
import { preprocess } from '../src/model/image/preprocess.ts';
import { Passes, type Pass } from './node-vs-ort-passes.ts';
import { PackScorer, VARIANT_PREFERENCE } from '../src/model/scoring/scorer.ts';
import type { Manifest } from '../src/model/pack/manifest.ts';
import type { ClipTokenizer } from '../src/model/text/tokenizer.ts';
import { ensureClipB32Pack } from './clip-b32-pack.ts';
import { agiqaImages, type BenchImage } from './images.ts';
import { TimedRuntime } from './node-timed-runtime.ts';
import { AGIQA, CLIP_B32, haveShared, ROOT } from './shared.ts';
import { batchFigures, median, reportRows, type BatchFigures } from './node-vs-ort-report.ts';
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
