// The passes of bench/node-vs-ort.ts: a raw onnxruntime-node pass over
// ready-made tensors, and agqg passes as `agqg score` runs them (decode
// workers, batching, prompts), each recording its throughput, its time per
// image and, for the default pass, its time by stage.
import type * as ort from 'onnxruntime-node';
import { imageReader } from '../src/cli/cmd/score.ts';
import type { JpegDecoderChoice } from '../src/cli/jpeg-native.ts';
import type { ReadStages } from '../src/cli/image-reader.ts';
import { scoreFiles, type ScoreJob } from '../src/cli/score-pipeline.ts';
import type { ImageResult } from '../src/model/grading/result.ts';
import type { PackScorer } from '../src/model/scoring/scorer.ts';
import type { BenchImage } from './images.ts';
import type { TimedRuntime } from './node-timed-runtime.ts';
import type { Measures, StageSums } from './node-vs-ort-report.ts';

export type Pass =
  | 'raw'
  | 'cli'
  | 'cli-main-thread'
  | 'cli-one-worker'
  | 'cli-full-first-run'
  | 'cli-wasm-jpeg'
  | 'cli-shared-prompt'
  | 'cli-distinct-prompts';

/** The two paths on one pack, and the passes that run them and record what they measure. */
export class Passes {
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
