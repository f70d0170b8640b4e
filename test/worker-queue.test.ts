// SerialQueue: one task at a time in arrival order; cancel() rejects what has
// not started and makes the running task's next checkpoint throw.
import { describe, expect, it } from 'vitest';
import { AgqgError } from '../src/model/errors.ts';
import { SerialQueue } from '../src/worker/queue.ts';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('SerialQueue', () => {
  it('never runs two tasks at once and keeps arrival order', async () => {
    const q = new SerialQueue();
    let active = 0;
    let maxActive = 0;
    const order: number[] = [];
    const tasks = [0, 1, 2, 3, 4].map((i) =>
      q.enqueue(async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        await tick();
        order.push(i);
        active--;
        return i * 10;
      }),
    );
    expect(await Promise.all(tasks)).toEqual([0, 10, 20, 30, 40]);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(maxActive).toBe(1);
  });

  it('a failing task does not stop the ones behind it', async () => {
    const q = new SerialQueue();
    const bad = q.enqueue(async () => {
      throw new AgqgError('decode_failed', 'bad file');
    });
    const good = q.enqueue(async () => 'ok');
    await expect(bad).rejects.toMatchObject({ code: 'decode_failed' });
    expect(await good).toBe('ok');
  });

  it('cancel() rejects queued tasks and stops the running one at its checkpoint', async () => {
    const q = new SerialQueue();
    let started = 0;
    let reachedAfterCheckpoint = false;
    const running = q.enqueue(async (ctx) => {
      started++;
      await tick();
      await tick();
      ctx.checkpoint();
      reachedAfterCheckpoint = true;
    });
    const queued = [1, 2, 3].map(() =>
      q.enqueue(async () => {
        started++;
      }),
    );
    await tick();
    expect(q.cancel()).toBe(3);
    for (const p of queued) await expect(p).rejects.toMatchObject({ code: 'cancelled' });
    await expect(running).rejects.toMatchObject({ code: 'cancelled' });
    expect(started).toBe(1);
    expect(reachedAfterCheckpoint).toBe(false);
    // Work enqueued after the cancel runs normally.
    expect(await q.enqueue(async (ctx) => (ctx.cancelled ? 'cancelled' : 'ran'))).toBe('ran');
  });
});
