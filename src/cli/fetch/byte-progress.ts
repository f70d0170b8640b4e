// Download progress on stderr: one redrawn line per file on a terminal; in logs
// a line at each tenth of the file, so a 350 MB download prints ~10 lines.
import type { CliIO } from '../io.ts';

/** Terminal redraws at most this often (ms). */
const REDRAW_MS = 200;
/** Log lines per file when stderr is not a terminal. */
const LOG_STEPS = 10;
/** Smaller files get only their final line in logs. */
const LOG_MIN_BYTES = 16 * 1024 * 1024;

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

export interface FileProgress {
  /** Bytes of the file present so far (including what an earlier run left). */
  update(done: number): void;
  /** The download restarted from this byte (a retry or a server that ignored Range). */
  restart(from: number): void;
  finish(note: string): void;
}

export function fileProgress(
  io: CliIO,
  path: string,
  total: number | undefined,
  resumedFrom: number,
): FileProgress {
  let t0 = performance.now();
  let base = resumedFrom;
  let lastDraw = 0;
  let lastStep = -1;
  let done = resumedFrom;
  const line = (): string => {
    const s = (performance.now() - t0) / 1000;
    const rate = s > 0 ? (done - base) / s : 0;
    const pct = total ? ` ${((100 * done) / total).toFixed(1).padStart(5)}%` : '';
    const of = total !== undefined ? ` / ${formatBytes(total)}` : '';
    const eta = total && rate > 0 ? `, ${Math.ceil((total - done) / rate)} s left` : '';
    return `${path}: ${formatBytes(done)}${of}${pct} at ${formatBytes(Math.round(rate))}/s${eta}`;
  };
  if (resumedFrom > 0) io.err(`${path}: resuming at ${formatBytes(resumedFrom)}\n`);
  return {
    update(n) {
      done = n;
      const now = performance.now();
      if (io.errIsTTY) {
        if (now - lastDraw >= REDRAW_MS) {
          lastDraw = now;
          io.err(`\r\x1b[K${line()}`);
        }
      } else if (total && total >= LOG_MIN_BYTES) {
        const step = Math.floor((LOG_STEPS * done) / total);
        if (step > lastStep && step > 0 && step < LOG_STEPS) {
          lastStep = step;
          io.err(`${line()}\n`);
        }
      }
    },
    restart(from) {
      t0 = performance.now();
      base = from;
      done = from;
      lastStep = -1;
    },
    finish(note) {
      const s = (performance.now() - t0) / 1000;
      const rate = s > 0 ? ` at ${formatBytes(Math.round((done - base) / s))}/s` : '';
      io.err(`${io.errIsTTY ? '\r\x1b[K' : ''}${path}: ${formatBytes(done)}${rate}, ${note}\n`);
    },
  };
}
