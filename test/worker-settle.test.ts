// settle.ts: a probe counts the time its thread was preempted (clock gaps longer
// than gapMs) and the wait ends after enough quiet probes in a row, or at the
// cap. A scripted clock stands in for the scheduler: each clock read advances
// STEP ms, and a probe's scripted gaps are jumps between two reads.
import { describe, expect, it } from 'vitest';
import { preemptedShare, waitForQuietCpu } from '../src/worker/settle.ts';

const STEP = 0.01;

/** A clock whose k-th probe (counted by sleeps) jumps once by each of probes[k]'s gaps, spread over the probe. */
function scriptedClock(probes: readonly (readonly number[])[]) {
  let t = 0;
  let probe = 0;
  let reads = 0;
  const now = () => {
    reads++;
    const gaps = probes[Math.min(probe, probes.length - 1)] ?? [];
    // One jump every 100 reads (1 ms of clock), until the probe's gaps are spent.
    const i = reads / 100 - 1;
    t += Number.isInteger(i) && i >= 0 && i < gaps.length ? gaps[i] : STEP;
    return t;
  };
  const sleep = (ms: number) => {
    t += ms;
    probe++;
    reads = 0;
    return Promise.resolve();
  };
  return { now, sleep };
}

describe('preemptedShare', () => {
  it('counts a 3 ms gap in a 10 ms probe as 30% of it', () => {
    const c = scriptedClock([[3]]);
    // Hand count: 1 ms of 0.01-ms reads, one 3-ms jump, then reads until 10 ms have passed.
    // The jump is the only interval over 0.5 ms: 3 / (10 + at most one step).
    expect(preemptedShare(10, 0.5, c.now)).toBeCloseTo(3 / 10, 2);
  });

  it('ignores gaps up to gapMs (timer ticks, a clock read that was slow)', () => {
    const c = scriptedClock([[0.4, 0.5, 0.3]]);
    expect(preemptedShare(10, 0.5, c.now)).toBe(0);
  });

  it('adds several gaps, the one that runs past the end included', () => {
    // Jumps at 1, 4, 6 and 7.2 ms of clock: the last ends at 11.2 ms, past the 10 ms probe, and ends it.
    const c = scriptedClock([[2, 1, 0.2, 4]]);
    expect(preemptedShare(10, 0.5, c.now)).toBeCloseTo((2 + 1 + 4) / 11.2, 2);
  });
});

describe('waitForQuietCpu', () => {
  const opts = { probeMs: 10, pauseMs: 90, gapMs: 0.5, quietShare: 0.05, quietProbes: 3, maxWaitMs: 5000 };

  it('on an idle machine settles after quietProbes probes', async () => {
    const c = scriptedClock([[]]);
    const r = await waitForQuietCpu({ ...opts, now: c.now, sleep: c.sleep });
    expect(r.settled).toBe(true);
    expect(r.shares).toEqual([0, 0, 0]);
    // Three 10-ms probes and the two pauses between them.
    expect(r.waitedMs).toBeCloseTo(3 * 10 + 2 * 90, 0);
  });

  it('a busy probe starts the count again', async () => {
    // busy, busy, quiet, busy (a 2 ms gap is 20%), then quiet x3.
    const c = scriptedClock([[5], [3], [], [2], [], [], []]);
    const r = await waitForQuietCpu({ ...opts, now: c.now, sleep: c.sleep });
    expect(r.settled).toBe(true);
    expect(r.shares.map((s) => s > opts.quietShare)).toEqual([true, true, false, true, false, false, false]);
    expect(r.waitedMs).toBeCloseTo(7 * 10 + 6 * 90, 0);
  });

  it('a probe with a little preemption (at most quietShare) still counts as quiet', async () => {
    // 20 ms probes: one 0.8 ms gap is 4% of one.
    const c = scriptedClock([[0.8], [0.3], [0.9]]);
    const r = await waitForQuietCpu({ ...opts, probeMs: 20, now: c.now, sleep: c.sleep });
    expect(r.settled).toBe(true);
    expect(r.shares[0]).toBeCloseTo(0.8 / 20, 2);
    expect(r.shares[1]).toBe(0);
    expect(r.shares).toHaveLength(3);
  });

  it('gives up at maxWaitMs on a machine that stays busy', async () => {
    const c = scriptedClock([[4]]);
    const r = await waitForQuietCpu({ ...opts, now: c.now, sleep: c.sleep });
    expect(r.settled).toBe(false);
    expect(r.waitedMs).toBeGreaterThanOrEqual(opts.maxWaitMs);
    // Probes every 100 ms until the cap: 5000 / 100 + 1.
    expect(r.shares).toHaveLength(51);
    expect(Math.min(...r.shares)).toBeGreaterThan(0.3);
  });
});

describe('preemptedShare on this machine', () => {
  it('an idle thread loses little of a 10 ms probe', () => {
    // Real clock: the test's own thread. Loose bound, and 20 probes (the best counts): other test files share the 2 cores.
    const shares = Array.from({ length: 20 }, () => preemptedShare(10, 0.5, () => performance.now()));
    expect(Math.min(...shares)).toBeLessThan(0.5);
  });
});
