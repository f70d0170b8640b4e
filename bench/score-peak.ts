// Peak memory of `agqg score` as a function of --batch and image size, the
// figures behind the formula in docs/cli.md: `node bin/agqg.js score` as a child
// process on generated JPEGs (nothing from ../shared), its peak resident set
// (VmHWM) read from /proc until it exits. Then one run of 1,000 files at the
// default batch, which must stay under 1 GB.
// Alone: tsx bench/score-peak.ts [--pack DIR] [--count 31] [--big 1000] [--batches 1,8,32] [--sizes 256,2048]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { DEFAULT_BATCH } from '../src/cli/cmd/score.ts';
import { ROOT } from './shared.ts';
import { formatTable, valueRow, type Row } from './stats.ts';

const KIB_PER_MIB = 1024;
const SAMPLE_MS = 50;
/** The bound for 1,000 files at the default batch. */
export const BIG_RUN_LIMIT_MIB = 1024;

export interface PeakOptions {
  packDir: string;
  /** Files per matrix run (31: one short of --batch 32, as in the report). */
  count?: number;
  batches?: number[];
  /** Edge of the generated square images, in pixels. */
  sizes?: number[];
  /** Files in the long run at the default batch (0: skip it). */
  big?: number;
  log?: (line: string) => void;
}

export interface PeakResult {
  rows: Row[];
  /** peakMiB[size][batch] */
  peakMiB: Record<number, Record<number, number>>;
  bigPeakMiB: number | null;
}

/** `count` distinct JPEGs of edge x edge pixels (a gradient with a moving disc: no two alike). */
async function makeImages(dir: string, count: number, edge: number): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const raw = Buffer.alloc(edge * edge * 3);
  for (let i = 0; i < count; i++) {
    for (let y = 0; y < edge; y++)
      for (let x = 0; x < edge; x++) {
        const j = (y * edge + x) * 3;
        const d = Math.hypot(x - ((i * 37) % edge), y - edge / 2) < edge / 4;
        raw[j] = d ? 230 : (x * 255) / edge;
        raw[j + 1] = (y * 255) / edge;
        raw[j + 2] = (i * 13) & 0xff;
      }
    await sharp(raw, { raw: { width: edge, height: edge, channels: 3 } })
      .jpeg({ quality: 85 })
      .toFile(join(dir, `img-${String(i).padStart(5, '0')}.jpg`));
  }
}

function hwmKiB(pid: number): number | null {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Peak RSS of one `agqg score` run, in MiB. */
async function peakOf(packDir: string, folder: string, batch: number): Promise<number> {
  const args = [join(ROOT, 'bin/agqg.js'), 'score', '--pack', packDir, folder, '--batch', String(batch)];
  const child = spawn(process.execPath, [...args, '--json', '--quiet'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => (err = (err + b.toString('utf8')).slice(-500)));
  let peak = 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, hwmKiB(child.pid as number) ?? 0);
  }, SAMPLE_MS);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearInterval(timer);
  if (code !== 0) throw new Error(`agqg score exited with ${code}: ${err}`);
  return peak / KIB_PER_MIB;
}

export async function benchScorePeak(opts: PeakOptions): Promise<PeakResult> {
  const count = opts.count ?? 31;
  const batches = opts.batches ?? [1, DEFAULT_BATCH, 32];
  const sizes = opts.sizes ?? [256, 2048];
  const big = opts.big ?? 1000;
  const root = mkdtempSync(join(tmpdir(), 'agqg-bench-peak-'));
  const rows: Row[] = [];
  const peakMiB: PeakResult['peakMiB'] = {};
  let bigPeakMiB: number | null = null;
  try {
    const section = `node: peak RSS of agqg score on ${count} generated JPEGs (child process)`;
    for (const edge of sizes) {
      const folder = join(root, `s${edge}`);
      await makeImages(folder, count, edge);
      peakMiB[edge] = {};
      for (const batch of batches) {
        const mib = await peakOf(opts.packDir, folder, batch);
        peakMiB[edge][batch] = mib;
        opts.log?.(`peak RSS, ${edge}x${edge}, --batch ${batch}: ${mib.toFixed(0)} MiB`);
        rows.push(valueRow(section, `${edge}x${edge}, --batch ${batch}`, mib, 'MiB'));
      }
    }
    if (big > 0) {
      const folder = join(root, 'big');
      const edge = 512;
      await makeImages(folder, big, edge);
      bigPeakMiB = await peakOf(opts.packDir, folder, DEFAULT_BATCH);
      const ok = bigPeakMiB < BIG_RUN_LIMIT_MIB;
      opts.log?.(`peak RSS, ${big} files ${edge}x${edge}, default batch: ${bigPeakMiB.toFixed(0)} MiB`);
      rows.push(
        valueRow(
          `node: peak RSS of agqg score on ${big} generated ${edge}x${edge} JPEGs, --batch ${DEFAULT_BATCH}`,
          'peak (VmHWM)',
          bigPeakMiB,
          'MiB',
          ok ? `under ${BIG_RUN_LIMIT_MIB} MiB` : `OVER ${BIG_RUN_LIMIT_MIB} MiB`,
        ),
      );
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  return { rows, peakMiB, bigPeakMiB };
}

async function cli(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pack: { type: 'string', default: resolve(ROOT, 'public/models/default') },
      count: { type: 'string', default: '31' },
      big: { type: 'string', default: '1000' },
      batches: { type: 'string' },
      sizes: { type: 'string' },
    },
  });
  const list = (s: string | undefined) => s?.split(',').map(Number);
  const r = await benchScorePeak({
    packDir: values.pack,
    count: Number(values.count),
    big: Number(values.big),
    batches: list(values.batches),
    sizes: list(values.sizes),
    log: (l) => console.log(l),
  });
  console.log(formatTable(r.rows));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() ?? '\0')) await cli();
