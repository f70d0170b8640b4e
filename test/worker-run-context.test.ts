// run-context.ts: each run starts from a fresh task of the current kind; a session whose runs
// take 1.6x its best time per item twice in a row moves every run to the next kind of task.
// The runs here are scripted: a fake session whose runs "take" the times given, read from a
// clock that only moves when they run, and hops that record which task kind they were asked for.
import { describe, expect, it } from 'vitest';
import type { SessionRunner, TensorIn, TensorOut } from '../src/model/scoring/runtime.ts';
import {
  hopTo,
  RunContextGuard,
  RunContexts,
  SlowRunDetector,
  type RunContextKind,
} from '../src/worker/run-context.ts';

describe('SlowRunDetector', () => {
  const opts = { warmupRuns: 2, ratio: 1.6, streak: 2, minRunMs: 50 };

  it('never switches while runs stay near their best', () => {
    const d = new SlowRunDetector(opts);
    const perImage = [400, 380, 180, 176, 190, 230, 175, 181, 260, 178];
    expect(perImage.map((ms) => d.observe(ms * 2, 2))).toEqual(perImage.map(() => false));
  });

  it('switches on the second slow run in a row (hand-counted: best 175 ms, slow from 280 ms)', () => {
    const d = new SlowRunDetector(opts);
    // Runs 1-2 are warm-up; run 3 sets the best (180), run 4 lowers it (175). 1.6 x 175 = 280:
    // 279 is not slow (and breaks no streak), 285 and 420 are.
    const perImage = [400, 380, 180, 175, 279, 176, 285, 420];
    expect(perImage.map((ms) => d.observe(ms, 1))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('starts counting again after a switch, and after a run back at speed', () => {
    const d = new SlowRunDetector(opts);
    const perImage = [200, 200, 180, 400, 410, 400, 180, 400, 400];
    expect(perImage.map((ms) => d.observe(ms, 1))).toEqual([
      false,
      false,
      false,
      false,
      true,
      false,
      false,
      false,
      true,
    ]);
  });

  it('judges time per item, so a bigger run is not a slower one', () => {
    const d = new SlowRunDetector(opts);
    const runs: [number, number][] = [
      [900, 2],
      [900, 2],
      [350, 2],
      [1400, 8],
      [1450, 8],
      [2900, 8],
      [2950, 8],
    ];
    // 1400/8 = 175 and 1450/8 = 181 are at speed; 2900/8 = 362 is 2.07x the best (175).
    expect(runs.map(([ms, n]) => d.observe(ms, n))).toEqual([false, false, false, false, false, false, true]);
  });

  it('does not judge warm-up runs or runs too short to time', () => {
    const d = new SlowRunDetector(opts);
    // Runs 4-6 (1-3 ms, a head's) are far from the best (100 ms) but too short to judge.
    expect([
      d.observe(300, 1),
      d.observe(900, 1),
      d.observe(100, 1),
      d.observe(1, 1),
      d.observe(2, 1),
      d.observe(3, 1),
    ]).toEqual([false, false, false, false, false, false]);
  });
});

/** A session whose k-th run takes times[k] ms of the shared clock; it records the inputs it saw. */
function scriptedSession(times: number[], clock: { t: number }): SessionRunner & { seen: number[] } {
  let k = 0;
  const seen: number[] = [];
  return {
    inputNames: ['pixel_values'],
    outputNames: ['image_embeds'],
    seen,
    async run(feeds: Record<string, TensorIn>): Promise<Record<string, TensorOut>> {
      seen.push(feeds.pixel_values.dims[0]);
      clock.t += times[Math.min(k++, times.length - 1)];
      return { image_embeds: { data: new Float32Array([k]), dims: [1, 1] } };
    },
    release: () => Promise.resolve(),
  };
}

const feeds = (n: number): Record<string, TensorIn> => ({
  pixel_values: { dtype: 'float32', data: new Float32Array(n * 3), dims: [n, 3] },
});

describe('RunContextGuard', () => {
  it('starts every run from the current kind of task, and moves on once runs turn slow', async () => {
    const clock = { t: 0 };
    const hops: RunContextKind[] = [];
    const contexts = new RunContexts(async (kind) => void hops.push(kind));
    // Two images per run: warm-up, warm-up, at speed (175 ms an image), then slow (2.3x) twice.
    const inner = scriptedSession([800, 700, 350, 350, 805, 805, 350, 350], clock);
    const guard = new RunContextGuard(inner, 'vision_model.onnx', contexts, {}, () => clock.t);
    const outs = [];
    for (let i = 0; i < 8; i++) outs.push(await guard.run(feeds(2)));
    expect(hops).toEqual([
      'message',
      'message',
      'message',
      'message',
      'message',
      'message',
      'timeout',
      'timeout',
    ]);
    // Run 6: 805 ms for 2 images against the best, 175 ms an image (run 3).
    expect(contexts.state).toEqual({
      context: 'timeout',
      switches: 1,
      recent: [{ session: 'vision_model.onnx', perItemMs: 402.5, bestMs: 175, to: 'timeout' }],
    });
    // The runs themselves are untouched: every output comes back, in order.
    expect(outs.map((o) => o.image_embeds.data[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(inner.seen).toEqual([2, 2, 2, 2, 2, 2, 2, 2]);
  });

  it('shares the context between sessions: one session turning slow moves the other one too', async () => {
    const clock = { t: 0 };
    const hops: RunContextKind[] = [];
    const contexts = new RunContexts(async (kind) => void hops.push(kind));
    const vision = new RunContextGuard(
      scriptedSession([300, 300, 200, 500, 500], clock),
      'vision_model.onnx',
      contexts,
      {},
      () => clock.t,
    );
    const text = new RunContextGuard(
      scriptedSession([60], clock),
      'text_model.onnx',
      contexts,
      {},
      () => clock.t,
    );
    for (let i = 0; i < 5; i++) await vision.run(feeds(1));
    await text.run(feeds(1));
    expect(hops).toEqual(['message', 'message', 'message', 'message', 'message', 'timeout']);
  });

  it('cycles back to the first kind after the last, and keeps the last five switches', () => {
    const contexts = new RunContexts(() => Promise.resolve());
    for (let i = 1; i <= 7; i++) contexts.next({ session: `s${i}`, perItemMs: 2 * i, bestMs: i });
    const st = contexts.state;
    expect(st.context).toBe('timeout');
    expect(st.switches).toBe(7);
    expect(st.recent.map((r) => `${r.session}->${r.to}`)).toEqual([
      's3->timeout',
      's4->message',
      's5->timeout',
      's6->message',
      's7->timeout',
    ]);
  });

  it('passes a failed run through (and does not judge it)', async () => {
    const hops: RunContextKind[] = [];
    const failing: SessionRunner = {
      inputNames: [],
      outputNames: [],
      run: () => Promise.reject(new Error('backend_failed: inference failed')),
      release: () => Promise.resolve(),
    };
    const guard = new RunContextGuard(
      failing,
      'vision_model.onnx',
      new RunContexts(async (k) => void hops.push(k)),
    );
    await expect(guard.run(feeds(1))).rejects.toThrow('inference failed');
    expect(hops).toEqual(['message']);
  });
});

describe('hopTo', () => {
  it('resolves from a later task for both kinds, after the microtasks queued before it', async () => {
    for (const kind of ['message', 'timeout'] as const) {
      const order: string[] = [];
      const hop = hopTo(kind).then(() => order.push('hop'));
      void Promise.resolve().then(() => order.push('microtask'));
      await hop;
      expect(order).toEqual(['microtask', 'hop']);
    }
  });
});
