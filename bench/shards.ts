// `agqg score --shards` throughput (issue 23, point 8), all from one run:
//  - agqg's shard path (tar stream, decode workers, preprocess, encoder, heads,
//    JSONL written and renamed) in-process with the pack loaded once, against a
//    raw onnxruntime-node session fed the same images as ready tensors, rounds
//    interleaved, the ratio a median of per-round ratios;
//  - how to size workers: 2 processes x 1 encoder thread against 1 process x 2
//    threads, each a real `agqg score --shards` run over the same shards, pack
//    load included (what a user's wall clock sees).
// Alone: tsx bench/shards.ts [--n 96] [--rounds 5] [--pack DIR]
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DEFAULT_BATCH, DEFAULT_DECODE_THREADS, imageReader } from '../src/cli/cmd/score.ts';
import { decodeImageFile } from '../src/cli/decode.ts';
import { bufferIO } from '../src/cli/io.ts';
import { openPackFolder } from '../src/cli/load-pack.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { runShards } from '../src/cli/shards/run-shards.ts';
import { expandShardSpecs } from '../src/cli/shards/shard-list.ts';
import { preprocess } from '../src/model/image/preprocess.ts';
import { pickVariant } from '../src/model/pack/pack.ts';
import { PackScorer, VARIANT_PREFERENCE } from '../src/model/scoring/scorer.ts';
import { writeShard } from '../test/shards/make-shard.ts';
import { agiqaImages, type BenchImage } from './images.ts';
import { AGIQA, haveShared, ROOT } from './shared.ts';
import { summarize, valueRow, type Row } from './stats.ts';

export interface ShardBenchOptions {
  packDir: string;
  label: string;
  images: readonly BenchImage[];
  /** Images per shard (the last may hold fewer). */
  perShard?: number;
  /** Interleaved rounds of raw and agqg; default 5. */
  rounds?: number;
  /** Also the 2 processes x 1 thread against 1 process x 2 threads runs; default true. */
  sizing?: boolean;
  log?: (line: string) => void;
}

export interface ShardBenchResult {
  rows: Row[];
  rawImagesPerSecond: number;
  shardsImagesPerSecond: number;
  /** Median over rounds of agqg --shards / raw throughput. */
  ratio: number;
  ratioPerRound: number[];
  /** images/s of 2 processes x 1 thread and of 1 process x 2 threads (null when not run). */
  twoProcs: number | null;
  oneProc: number | null;
}

const median = (xs: readonly number[]): number => summarize(xs).median;
const AGQG = resolve(ROOT, 'bin/agqg.js');

async function makeShards(dir: string, images: readonly BenchImage[], per: number): Promise<string> {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let s = 0; s * per < images.length; s++) {
    const members = images.slice(s * per, (s + 1) * per).flatMap((im, i) => {
      const key = String(s * per + i).padStart(9, '0');
      return [
        { name: `${key}.jpg`, data: readFileSync(im.path) },
        { name: `${key}.txt`, data: im.prompt },
      ];
    });
    await writeShard(join(dir, `${String(s).padStart(5, '0')}.tar`), members);
  }
  return join(dir, '*.tar');
}

/** One real `agqg score --shards` process per slot, all at once; wall time of the slowest. */
async function runProcesses(
  spec: string,
  out: string,
  procs: number,
  threads: number,
  pack: string,
): Promise<number> {
  rmSync(out, { recursive: true, force: true });
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: procs }, (_, i) =>
      promisify(execFile)(
        process.execPath,
        [
          AGQG,
          'score',
          '--pack',
          pack,
          '--shards',
          spec,
          '--out',
          out,
          '--quiet',
          '--threads',
          String(threads),
          '--decode-threads',
          String(Math.max(1, Math.round(DEFAULT_DECODE_THREADS / procs))),
          '--shard-count',
          String(procs),
          '--shard-index',
          String(i),
        ],
        { cwd: ROOT },
      ),
    ),
  );
  return performance.now() - t0;
}

export async function benchShards(opts: ShardBenchOptions): Promise<ShardBenchResult> {
  const log = opts.log ?? (() => {});
  const images = opts.images;
  const n = images.length;
  const rounds = opts.rounds ?? 5;
  const section = `shards: agqg score --shards vs raw onnxruntime-node (${opts.label}, ${n} images)`;
  const work = resolve(ROOT, '.cache/bench/shards');
  const spec = await makeShards(join(work, 'in'), images, opts.perShard ?? 32);
  const shards = await expandShardSpecs([spec]);

  const pack = await openPackFolder(opts.packDir);
  const scorer = await PackScorer.load(pack, new NodeRuntime());
  const m = pack.manifest;
  const visionFile = pickVariant(m.vision.variants, undefined, VARIANT_PREFERENCE).file;
  const raw = await ort.InferenceSession.create(join(opts.packDir, visionFile), {
    intraOpNumThreads: availableParallelism(),
    graphOptimizationLevel: 'all',
  });
  // Ready tensors for the raw session, in batches of the size agqg runs (decoding outside any timing).
  const batch = DEFAULT_BATCH;
  const perImage: Float32Array[][] = [];
  for (const im of images) {
    const img = await decodeImageFile(im.path);
    perImage.push(m.vision.inputs.map((input) => preprocess(img, input.preprocess).data));
  }
  const feeds: Record<string, ort.Tensor>[] = [];
  for (let i0 = 0; i0 < n; i0 += batch) {
    const k = Math.min(batch, n - i0);
    const f: Record<string, ort.Tensor> = {};
    m.vision.inputs.forEach((input, j) => {
      const row = perImage[0][j].length;
      const data = new Float32Array(k * row);
      for (let i = 0; i < k; i++) data.set(perImage[i0 + i][j], i * row);
      f[input.name] = new ort.Tensor(
        'float32',
        data,
        input.shape.map((d, a) => (a === 0 ? k : Number(d))),
      );
    });
    feeds.push(f);
  }
  const runRaw = async (): Promise<number> => {
    const t0 = performance.now();
    for (const f of feeds) await raw.run(f);
    return (n / (performance.now() - t0)) * 1000;
  };
  const reader = imageReader(DEFAULT_DECODE_THREADS);
  reader.forPack(scorer);
  const out = join(work, 'out');
  const runAgqg = async (): Promise<number> => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    const t0 = performance.now();
    const r = await runShards({
      shards,
      outDir: out,
      format: 'jsonl',
      overwrite: false,
      scorer,
      reader,
      batch,
      io: bufferIO(),
      quiet: true,
      minQuality: null,
    });
    const ms = performance.now() - t0;
    if (r.samples !== n || r.failedSamples > 0)
      throw new Error(`agqg --shards scored ${r.samples} of ${n}, ${r.failedSamples} failed`);
    return (n / ms) * 1000;
  };

  const rawIps: number[] = [];
  const agqgIps: number[] = [];
  const ratios: number[] = [];
  let twoProcs: number | null = null;
  let oneProc: number | null = null;
  try {
    log('warm-up');
    await runRaw();
    await runAgqg();
    for (let r = 0; r < rounds; r++) {
      // ABBA, so drift in the machine's load evens out of the ratio.
      const a = r % 2 === 0 ? await runRaw() : await runAgqg();
      const b = r % 2 === 0 ? await runAgqg() : await runRaw();
      const [rw, ag] = r % 2 === 0 ? [a, b] : [b, a];
      rawIps.push(rw);
      agqgIps.push(ag);
      ratios.push(ag / rw);
      log(
        `round ${r + 1}/${rounds}: raw ${rw.toFixed(1)} img/s, agqg --shards ${ag.toFixed(1)} img/s · load ${loadavg()[0].toFixed(2)}`,
      );
    }
  } finally {
    await reader.close();
    await scorer.release();
    await raw.release();
  }
  const rows: Row[] = [
    valueRow(
      section,
      'raw ORT (ready tensors)',
      median(rawIps),
      'images/s',
      `batch ${batch}, ${availableParallelism()} intra-op threads`,
    ),
    valueRow(
      section,
      'agqg score --shards',
      median(agqgIps),
      'images/s',
      `${shards.length} shards, ${DEFAULT_DECODE_THREADS} decode worker(s), JSONL written`,
    ),
    valueRow(
      section,
      'agqg --shards / raw ORT',
      median(ratios),
      'x',
      `per round: ${ratios.map((x) => x.toFixed(3)).join(', ')}`,
    ),
  ];
  if (opts.sizing !== false) {
    const cores = availableParallelism();
    log(
      `sizing: 2 processes x 1 thread vs 1 process x ${cores} threads (real processes, pack load included)`,
    );
    const two: number[] = [];
    const one: number[] = [];
    for (let r = 0; r < 2; r++) {
      const order = r % 2 === 0 ? ['one', 'two'] : ['two', 'one'];
      for (const o of order) {
        const ms =
          o === 'one'
            ? await runProcesses(spec, out, 1, cores, opts.packDir)
            : await runProcesses(spec, out, 2, 1, opts.packDir);
        (o === 'one' ? one : two).push((n / ms) * 1000);
      }
      log(`sizing round ${r + 1}/2: 1x${cores} ${one[r].toFixed(1)} img/s, 2x1 ${two[r].toFixed(1)} img/s`);
    }
    oneProc = median(one);
    twoProcs = median(two);
    rows.push(
      valueRow(section, `1 process x ${cores} threads (wall, load included)`, oneProc, 'images/s'),
      valueRow(section, '2 processes x 1 thread (wall, load included)', twoProcs, 'images/s'),
      valueRow(section, '2 processes x 1 thread / 1 process x all threads', twoProcs / oneProc, 'x'),
    );
  }
  return {
    rows,
    rawImagesPerSecond: median(rawIps),
    shardsImagesPerSecond: median(agqgIps),
    ratio: median(ratios),
    ratioPerRound: ratios,
    twoProcs,
    oneProc,
  };
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, 'bench/shards.ts')) {
  const { values } = parseArgs({
    options: { n: { type: 'string' }, rounds: { type: 'string' }, pack: { type: 'string' } },
  });
  if (!haveShared('shard benchmark', [AGIQA])) process.exit(1);
  const { formatTable } = await import('./stats.ts');
  const r = await benchShards({
    packDir: values.pack ?? resolve(ROOT, 'public/models/default'),
    label: values.pack ?? 'default',
    images: agiqaImages(Number(values.n ?? 96)),
    rounds: Number(values.rounds ?? 5),
    log: (l) => console.log(`  ${l}`),
  });
  console.log(formatTable(r.rows));
}
