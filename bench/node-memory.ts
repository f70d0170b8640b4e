// Memory of a long `agqg score` batch: `node bin/agqg.js score --json` as a
// child process on `count` AGIQA-3K images, its resident set (VmRSS) and peak
// (VmHWM) read from /proc every `sampleMs`, and the progress lines on stderr
// telling how many images were scored at each sample. Flat = the RSS at the
// end is within 10% of the RSS once the first 50 images are scored.
// Alone: tsx bench/node-memory.ts [--pack default|b32|DIR] [--count 1000] [--batch N] [--threads N]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureClipB32Pack } from './clip-b32-pack.ts';
import { agiqaImages } from './images.ts';
import { AGIQA, CLIP_B32, haveShared, ROOT } from './shared.ts';
import { formatTable, valueRow, type Row } from './stats.ts';

export interface MemoryOptions {
  packDir: string;
  label: string;
  count: number;
  batch?: number;
  decodeThreads?: number;
  /** Images scored before the "after the first images" reading (default 50). */
  warmImages?: number;
  sampleMs?: number;
  log?: (line: string) => void;
}

export interface MemoryResult {
  rows: Row[];
  peakMiB: number;
  afterWarmMiB: number;
  endMiB: number;
  /** (end - after warm) / after warm. */
  growth: number;
  flat: boolean;
  imagesPerSecond: number;
}

const FLAT_GROWTH = 0.1;
const KIB_PER_MIB = 1024;

function statusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

export async function benchScoreMemory(opts: MemoryOptions): Promise<MemoryResult> {
  const warm = opts.warmImages ?? 50;
  const sampleMs = opts.sampleMs ?? 500;
  const images = agiqaImages(opts.count);
  const args = [join(ROOT, 'bin/agqg.js'), 'score', '--pack', opts.packDir, '--json'];
  if (opts.batch !== undefined) args.push('--batch', String(opts.batch));
  if (opts.decodeThreads !== undefined) args.push('--decode-threads', String(opts.decodeThreads));
  // One folder of links rather than 1,000 paths: onnxruntime-node 1.30 overflows the main
  // thread's stack while creating a session when the command line is long (~30 KB with an
  // 8 MB stack limit), so `agqg score` on a long list of files crashes before scoring.
  const dir = mkdtempSync(join(tmpdir(), 'agqg-bench-memory-'));
  for (const im of images) symlinkSync(im.path, join(dir, im.name));
  args.push(dir);
  try {
    return await measure(opts, args, images.length, warm, sampleMs);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(
  opts: MemoryOptions,
  args: string[],
  count: number,
  warm: number,
  sampleMs: number,
): Promise<MemoryResult> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = child.pid as number;
  let scored = 0;
  let stdoutBytes = 0;
  const out: Buffer[] = [];
  let errText = '';
  child.stdout.on('data', (b: Buffer) => {
    stdoutBytes += b.byteLength;
    out.push(b);
  });
  child.stderr.on('data', (b: Buffer) => {
    errText += b.toString('utf8');
    for (const m of errText.matchAll(/scored (\d+)\/\d+/g)) scored = Math.max(scored, Number(m[1]));
    errText = errText.slice(-200);
  });
  const samples: { t: number; rss: number; hwm: number; scored: number }[] = [];
  const t0 = performance.now();
  let firstScoredAt: number | null = null;
  const timer = setInterval(() => {
    const rss = statusKiB(pid, 'VmRSS');
    const hwm = statusKiB(pid, 'VmHWM');
    if (rss === null || hwm === null) return;
    if (scored > 0 && firstScoredAt === null) firstScoredAt = performance.now();
    samples.push({ t: performance.now() - t0, rss, hwm, scored });
  }, sampleMs);
  const [code, signal] = await new Promise<[number | null, string | null]>((res) =>
    child.on('exit', (c, s) => res([c, s])),
  );
  clearInterval(timer);
  const wallS = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`agqg score exited with ${code ?? signal}: ${errText}`);
  const doc = JSON.parse(Buffer.concat(out).toString('utf8')) as { results: unknown[] };
  if (doc.results.length !== count)
    throw new Error(`agqg score gave ${doc.results.length} results for ${count} images`);

  const afterWarm = samples.find((s) => s.scored >= warm);
  // The first sample once every image is scored (for throughput): by then the JSON may be
  // written and the sessions released, so memory at the end is the last sample before it.
  const scoring = samples.filter((s) => s.scored > 0);
  const last = scoring.reduce((a, s) => Math.max(a, s.scored), 0);
  const end = scoring.find((s) => s.scored === last);
  const running = afterWarm ? scoring.filter((s) => s.t >= afterWarm.t && s.scored < last) : [];
  const endRss = running.at(-1) ?? end;
  const highest = running.reduce((a, s) => (s.rss > a.rss ? s : a), afterWarm ?? scoring[0]);
  const peak = samples.reduce((a, s) => Math.max(a, s.hwm), 0);
  if (!afterWarm || !end || !endRss)
    throw new Error(`too few samples (${samples.length}) to judge memory; is --count too small?`);
  const growth = (endRss.rss - afterWarm.rss) / afterWarm.rss;
  const flat = growth < FLAT_GROWTH;
  const scoringS = firstScoredAt === null ? wallS : (end.t - (firstScoredAt - t0)) / 1000;
  const ips = (end.scored - (scoring[0]?.scored ?? 0)) / Math.max(scoringS, 1e-9);
  const section = `node: memory of agqg score on ${count} images (${opts.label}, child process)`;
  const mib = (kib: number) => kib / KIB_PER_MIB;
  const rows: Row[] = [
    valueRow(section, 'peak (VmHWM)', mib(peak), 'MiB'),
    valueRow(
      section,
      `RSS after the first ${warm} images`,
      mib(afterWarm.rss),
      'MiB',
      `at ${afterWarm.scored} scored`,
    ),
    valueRow(
      section,
      'RSS at the end of scoring',
      mib(endRss.rss),
      'MiB',
      `at ${endRss.scored} scored (last sample before the last image)`,
    ),
    valueRow(
      section,
      `highest RSS after the first ${warm} images`,
      mib(highest.rss),
      'MiB',
      `at ${highest.scored} scored`,
    ),
    valueRow(
      section,
      'growth end vs after first images',
      100 * growth,
      '%',
      flat ? 'flat (< 10%)' : 'NOT flat',
    ),
    valueRow(
      section,
      'wall clock (incl. pack load and JSON)',
      wallS,
      's',
      `${samples.length} samples every ${sampleMs} ms`,
    ),
    valueRow(section, 'throughput while scoring (from progress)', ips, 'images/s'),
    valueRow(section, 'JSON written to stdout', stdoutBytes / 1024, 'KiB'),
  ];
  // One reading per progress step: images scored -> MiB.
  const steps = samples.filter((s, i) => i === 0 || s.scored !== samples[i - 1].scored);
  opts.log?.(
    `RSS by images scored: ${steps.map((s) => `${s.scored}: ${Math.round(mib(s.rss))}`).join(', ')}`,
  );
  return {
    rows,
    peakMiB: mib(peak),
    afterWarmMiB: mib(afterWarm.rss),
    endMiB: mib(endRss.rss),
    growth,
    flat,
    imagesPerSecond: ips,
  };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pack: { type: 'string', default: 'default' },
      count: { type: 'string', default: '1000' },
      batch: { type: 'string' },
      threads: { type: 'string' },
    },
  });
  if (!haveShared('agqg score memory', [AGIQA])) return;
  let packDir = values.pack;
  let label = values.pack;
  if (values.pack === 'b32') {
    if (!haveShared('CLIP ViT-B/32', [CLIP_B32])) return;
    packDir = await ensureClipB32Pack((l) => console.log(l));
    label = 'CLIP ViT-B/32';
  } else if (values.pack === 'default') {
    packDir = join(ROOT, 'public/models/default');
    label = 'default pack';
  }
  const before = loadavg()[0];
  const r = await benchScoreMemory({
    packDir,
    label,
    count: Number(values.count),
    batch: values.batch === undefined ? undefined : Number(values.batch),
    decodeThreads: values.threads === undefined ? undefined : Number(values.threads),
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
