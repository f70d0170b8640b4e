// After a pack loads, V8 keeps compiling onnxruntime's WebAssembly for seconds:
// the functions that got hot while the sessions were made (graph optimisation,
// weight packing) are recompiled by its optimising tier on background threads.
// On a 2-core machine that compile plus the encoder's threads leave the page's
// main thread waiting for a core (tasks of 50-200 ms as a batch starts). So a
// pack load ends (the page shows "Loaded") only once this thread is no longer
// being preempted, which is when the compile has let go of the cores (or a cap).
// Measured with the clock alone: no web API says what V8 compiles, or how much
// CPU a thread got. No DOM here: tests pass their own clock.

export interface SettleOptions {
  /** Length of one probe: this thread busy, reading the clock. */
  probeMs: number;
  /** Pause between probes (the probes' own cost is probeMs / (probeMs + pauseMs) of a core). */
  pauseMs: number;
  /** A gap between two clock reads longer than this is time the thread was not running. */
  gapMs: number;
  /** A probe is quiet when at most this share of it was lost to gaps. */
  quietShare: number;
  /** Consecutive quiet probes that make the CPU settled. */
  quietProbes: number;
  /** Gives up waiting after this long, settled or not. */
  maxWaitMs: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Why these numbers (2-core AMD EPYC, default pack): while V8 compiles, most probes lose 10-80% of
 * their 10 ms to preemption; once it is done, none. The compile outlasted the sessions' creation by
 * up to ~2.6 s there, so 5 s is the cap. A gap over 0.5 ms is already 5% of a probe, so a quiet
 * probe is in practice one that was never preempted.
 */
const SETTLE_DEFAULTS: SettleOptions = {
  probeMs: 10,
  pauseMs: 90,
  gapMs: 0.5,
  quietShare: 0.05,
  quietProbes: 3,
  maxWaitMs: 5000,
};

export interface SettleReport {
  settled: boolean;
  waitedMs: number;
  /** Each probe's share of time lost to preemption, in order. */
  shares: number[];
}

/** Busy for `probeMs`; the share of that time this thread spent preempted (gaps longer than `gapMs`). */
export function preemptedShare(probeMs: number, gapMs: number, now: () => number): number {
  const start = now();
  let last = start;
  let lost = 0;
  let t = start;
  do {
    t = now();
    // A gap that runs past the probe's end counts too: it is preemption all the same.
    if (t - last > gapMs) lost += t - last;
    last = t;
  } while (t - start < probeMs);
  const span = t - start;
  return span > 0 ? lost / span : 0;
}

/** Probes until `quietProbes` in a row are quiet, or `maxWaitMs` passes. */
export async function waitForQuietCpu(opts: Partial<SettleOptions> = {}): Promise<SettleReport> {
  const o = { ...SETTLE_DEFAULTS, ...opts };
  const now = o.now ?? (() => performance.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const t0 = now();
  const shares: number[] = [];
  let quiet = 0;
  for (;;) {
    const share = preemptedShare(o.probeMs, o.gapMs, now);
    shares.push(share);
    quiet = share <= o.quietShare ? quiet + 1 : 0;
    if (quiet >= o.quietProbes) return { settled: true, waitedMs: now() - t0, shares };
    if (now() - t0 >= o.maxWaitMs) return { settled: false, waitedMs: now() - t0, shares };
    await sleep(o.pauseMs);
  }
}
