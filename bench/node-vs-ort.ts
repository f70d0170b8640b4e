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
import { nativeJpeg, nativeJpegStatus, type JpegDecoderChoice } from '../src/cli/jpeg-native.ts';
import type { ReadStages } from '../src/cli/image-reader.ts';
import { openPackFolder } from '../src/cli/load-pack.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { FIRST_RUN_IMAGES, scoreFiles, type ScoreJob } from '../src/cli/score-pipeline.ts';
import { pickVariant } from '../src/model/pack/pack.ts';
import { preprocess } from '../src/model/image/preprocess.ts';
import type { ImageResult } from '../src/model/grading/result.ts';
import { PackScorer, VARIANT_PREFERENCE } from '../src/model/scoring/scorer.ts';
import { ensureClipB32Pack } from './clip-b32-pack.ts';
import { agiqaImages, type BenchImage } from './images.ts';
import { TimedRuntime } from './node-timed-runtime.ts';
import { AGIQA, CLIP_B32, haveShared, ROOT } from './shared.ts';
import { formatTable, summarize, timedRow, valueRow, type Row } from './stats.ts';

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

interface StageSums {
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

const median = (xs: readonly number[]): number => summarize(xs).median;

/** Raw session options as a user of onnxruntime-node would write them. */
function rawOptions(): ort.InferenceSession.SessionOptions {
  return { intraOpNumThreads: availableParallelism(), graphOptimizationLevel: 'all' };
}

export async function benchCliVsRawOrt(opts: CliVsOrtOptions): Promise<CliVsOrtResult> {
  const log = opts.log ?? (() => {});
  const batches = opts.batches ?? [1, 32];
  const rounds = opts.rounds ?? 3;
  const extraRounds = Math.min(rounds, opts.extraRounds ?? rounds);
  const threads = opts.decodeThreads ?? DEFAULT_DECODE_THREADS;
  const images = opts.images;
  const n = images.length;
  const section = `node: agqg score vs raw onnxruntime-node (${opts.label}, ${n} images)`;
  const rows: Row[] = [];

  // ---- the pack, loaded once for agqg (load time reported, never in the passes)
  const t0 = performance.now();
  const pack = await openPackFolder(opts.packDir);
  const timed = new TimedRuntime(new NodeRuntime());
  const scorer = await PackScorer.load(pack, timed);
  const loadMs = performance.now() - t0;
  const m = pack.manifest;
  const visionFile = pickVariant(m.vision.variants, undefined, VARIANT_PREFERENCE).file;
  const textFile = m.text ? pickVariant(m.text.variants, undefined, VARIANT_PREFERENCE).file : null;

  // ---- the raw session and its ready-made tensors (decode + preprocess outside any timing)
  const raw = await ort.InferenceSession.create(join(opts.packDir, visionFile), rawOptions());
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

  const readers = new Map<string, ReturnType<typeof imageReader>>();
  const readerFor = (t: number, jpeg: JpegDecoderChoice = 'auto') => {
    let r = readers.get(`${t}:${jpeg}`);
    if (!r) {
      r = imageReader(t, jpeg);
      r.forPack(scorer);
      readers.set(`${t}:${jpeg}`, r);
    }
    return r;
  };

  let promptRound = 0;
  const jobsFor = (pass: Pass): ScoreJob[] => {
    promptRound++;
    if (pass === 'cli-shared-prompt')
      return images.map((im) => ({ file: im.path, prompt: `a photo, pass ${promptRound}` }));
    // A suffix per pass: the text cache would otherwise make every pass after the first free.
    if (pass === 'cli-distinct-prompts')
      return images.map((im) => ({ file: im.path, prompt: `${im.prompt}, pass ${promptRound}` }));
    return images.map((im) => ({ file: im.path, prompt: null }));
  };

  const rawRunMs = new Map<number, number[]>();
  const runRaw = async (b: number): Promise<number> => {
    const times = rawRunMs.get(b) ?? [];
    rawRunMs.set(b, times);
    const start = performance.now();
    for (const feeds of rawFeeds.get(b) ?? []) {
      const a = performance.now();
      await raw.run(feeds);
      times.push((performance.now() - a) / Number(Object.values(feeds)[0].dims[0]));
    }
    return (n / (performance.now() - start)) * 1000;
  };

  const stages = new Map<number, StageSums>();
  const cliTotals = new Map<string, number[]>();
  const runCli = async (b: number, pass: Pass): Promise<number> => {
    const reader = readerFor(
      pass === 'cli-main-thread' ? 0 : pass === 'cli-one-worker' ? 1 : threads,
      pass === 'cli-wasm-jpeg' ? 'wasm' : 'auto',
    );
    const jobs = jobsFor(pass);
    const results: ImageResult[] = [];
    const read: (ReadStages | null)[] = [];
    timed.reset();
    const start = performance.now();
    const firstRun = pass === 'cli-full-first-run' ? b : undefined;
    await scoreFiles(scorer, jobs, { batch: b, reader, firstRun }, (r, _i, s) => {
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
    cliTotals.set(key, [
      ...(cliTotals.get(key) ?? []),
      ...results.map((r) => r.timings.totalMs ?? Number.NaN),
    ]);
    if (pass === 'cli') {
      const s = stages.get(b) ?? {
        n: 0,
        read: 0,
        decode: 0,
        prepared: 0,
        preprocess: 0,
        encoder: 0,
        text: 0,
        heads: 0,
      };
      const encoder = timed.total((l) => l === visionFile);
      const text = timed.total((l) => l === textFile);
      s.n += n;
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
    return (n / wall) * 1000;
  };

  const extraPasses: Pass[] = [];
  if (opts.levers) {
    extraPasses.push(
      'cli-main-thread',
      ...(threads !== 1 ? (['cli-one-worker'] as const) : []),
      'cli-full-first-run',
    );
    if (nativeJpeg()) extraPasses.push('cli-wasm-jpeg');
  }
  if (opts.prompts && scorer.hasText) extraPasses.push('cli-shared-prompt', 'cli-distinct-prompts');
  // A whole-batch first run is the same as the default when the batch is no bigger than it.
  const passesFor = (b: number, r: number): Pass[] =>
    ['cli' as Pass].concat(
      r < extraRounds ? extraPasses.filter((p) => p !== 'cli-full-first-run' || b > FIRST_RUN_IMAGES) : [],
    );
  const ips = new Map<string, number[]>();
  const record = (key: string, v: number) => ips.set(key, [...(ips.get(key) ?? []), v]);
  const pairRatios = new Map<string, number[]>();

  try {
    log(`warm-up (${batches.join(', ')} per run)`);
    for (const b of batches) {
      // One run of each size is enough for the sessions' first-run allocations and the workers' start.
      const first = (rawFeeds.get(b) ?? [])[0];
      if (first) await raw.run(first);
      await scoreFiles(
        scorer,
        jobsFor('cli').slice(0, b),
        { batch: b, reader: readerFor(threads) },
        () => {},
      );
      if (extraPasses.includes('cli-main-thread'))
        await scoreFiles(scorer, jobsFor('cli').slice(0, b), { batch: b, reader: readerFor(0) }, () => {});
    }
    rawRunMs.clear();
    cliTotals.clear();
    stages.clear();
    for (let r = 0; r < rounds; r++) {
      for (const b of batches) {
        // ABBA: raw first on even rounds, last on odd ones, so drift in the machine's load evens out.
        const passes = passesFor(b, r);
        const order: ('raw' | Pass)[] =
          r % 2 === 0 ? ['raw', ...passes] : [...passes].reverse().concat('raw');
        const round = new Map<string, number>();
        for (const p of order) {
          const v = p === 'raw' ? await runRaw(b) : await runCli(b, p);
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
        log(
          `round ${r + 1}/${rounds}, batch ${b}: raw ${median(ips.get(`raw:${b}`) ?? []).toFixed(2)} img/s, agqg ${median(ips.get(`cli:${b}`) ?? []).toFixed(2)} img/s · load ${loadavg()[0].toFixed(2)}`,
        );
      }
    }

    // ---- raw text tower per prompt
    let textRows: Row[] = [];
    if (opts.prompts && scorer.hasText && textFile && scorer.tokenizer && m.text) {
      const text = await ort.InferenceSession.create(join(opts.packDir, textFile), rawOptions());
      const spec = m.text;
      const tok = scorer.tokenizer;
      const prompts = images.map((im) => im.prompt);
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
      textRows = [timedRow(section, 'raw text tower, 1 prompt per run (per prompt)', await perPrompt(1, 8))];
      if (batches.some((b) => b > 1)) {
        const big = Math.max(...batches);
        textRows.push(
          timedRow(section, `raw text tower, ${big} prompts per run (per prompt)`, await perPrompt(big, 2)),
        );
      }
      await text.release();
    }

    // ---- figures
    const byBatch: BatchFigures[] = batches.map((b) => {
      const rawIps = median(ips.get(`raw:${b}`) ?? []);
      const cliIps = median(ips.get(`cli:${b}`) ?? []);
      const mt = ips.get(`cli-main-thread:${b}`);
      const full = ips.get(`cli-full-first-run:${b}`);
      const pairs = pairRatios.get(`cli:${b}`) ?? [];
      const mtPairs = pairRatios.get(`cli-main-thread:${b}`);
      const fullPairs = pairRatios.get(`cli-full-first-run:${b}`);
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
    for (const f of byBatch) {
      const b = f.batch;
      rows.push(valueRow(section, `batch ${b}: raw ORT`, f.rawImagesPerSecond, 'images/s'));
      rows.push(timedRow(section, `batch ${b}: raw ORT ms/image (per run)`, rawRunMs.get(b) ?? []));
      rows.push(
        valueRow(
          section,
          `batch ${b}: agqg score`,
          f.cliImagesPerSecond,
          'images/s',
          `${threads} decode worker(s)`,
        ),
      );
      rows.push(
        timedRow(section, `batch ${b}: agqg score totalMs per image`, cliTotals.get(`cli:${b}`) ?? []),
      );
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
      const wasmJpeg = ips.get(`cli-wasm-jpeg:${b}`);
      if (wasmJpeg) {
        const own = pairRatios.get(`cli:${b}`)?.slice(0, extraRounds) ?? [];
        rows.push(
          valueRow(
            section,
            `batch ${b}: agqg, JPEG decoded in WebAssembly`,
            median(wasmJpeg),
            'images/s',
            `ratio ${median(pairRatios.get(`cli-wasm-jpeg:${b}`) ?? []).toFixed(3)}; native (default) in the same rounds ${median(own).toFixed(3)}`,
          ),
        );
      }
      const one = ips.get(`cli-one-worker:${b}`);
      if (one) {
        rows.push(
          valueRow(
            section,
            `batch ${b}: agqg, 1 decode worker`,
            median(one),
            'images/s',
            `ratio ${median(pairRatios.get(`cli-one-worker:${b}`) ?? []).toFixed(3)}`,
          ),
        );
      }
      if (f.cliFullFirstRunImagesPerSecond !== null) {
        const own = pairRatios.get(`cli:${b}`)?.slice(0, extraRounds) ?? [];
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
        const v = ips.get(`${p}:${b}`);
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
      const s = stages.get(b);
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
              `batch ${b} stage: ${name}`,
              v / s.n,
              'ms/image',
              `${((100 * v) / sum).toFixed(1)}% of stage time`,
            ),
          );
        }
      }
    }
    rows.push(...textRows);
    const largest = byBatch.reduce((a, f) => (f.batch > a.batch ? f : a), byBatch[0]);
    return { rows, byBatch, ratio: largest.ratio };
  } finally {
    for (const r of readers.values()) await r.close();
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
