// Progress for long batches on stderr: one redrawn line on a terminal, a line
// every few images in logs, nothing for a handful of images.
import type { CliIO } from './io.ts';

/** Batches shorter than this finish before progress would help. */
const MIN_ITEMS_FOR_PROGRESS = 10;
/** Lines a non-interactive log gets over a whole batch. */
const LOG_LINES_PER_BATCH = 20;

export interface Progress {
  tick(failed: boolean): void;
  done(): void;
}

export function progress(io: CliIO, total: number, verb: string, enabled = true): Progress {
  const active = enabled && total >= MIN_ITEMS_FOR_PROGRESS;
  const every = Math.max(1, Math.ceil(total / LOG_LINES_PER_BATCH));
  const t0 = performance.now();
  let n = 0;
  let failed = 0;
  const line = (): string => {
    const s = (performance.now() - t0) / 1000;
    const rate = s > 0 ? (n / s).toFixed(1) : '-';
    return `${verb} ${n}/${total} (${failed} failed, ${rate} images/s)`;
  };
  return {
    tick(f: boolean) {
      n++;
      if (f) failed++;
      if (!active) return;
      if (io.errIsTTY) io.err(`\r${line()}`);
      else if (n % every === 0 || n === total) io.err(`${line()}\n`);
    },
    done() {
      if (active && io.errIsTTY) io.err(`\r${line()}\n`);
    },
  };
}
