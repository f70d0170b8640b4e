// The page's frame pacer (src/ui/pace.ts): bulk UI work is spread over animation
// frames, a bounded share each, in order, with nothing lost or run twice.
import { describe, expect, it } from 'vitest';
import { createPacer } from '../../src/ui/pace.ts';

/** A hand-cranked frame clock: `tick()` runs the callbacks requested since the last tick. */
function frames() {
  let waiting: (() => void)[] = [];
  return {
    frame: (cb: () => void) => void waiting.push(cb),
    requested: () => waiting.length,
    tick() {
      const now = waiting;
      waiting = [];
      for (const cb of now) cb();
    },
  };
}

describe('createPacer', () => {
  it('runs a hundred queued tasks ten a frame, in order, each once', () => {
    const clock = frames();
    const pacer = createPacer({ perFrame: 10, frame: clock.frame });
    const ran: number[] = [];
    for (let i = 0; i < 100; i++) pacer.schedule(() => ran.push(i));
    expect(ran).toEqual([]);
    expect(pacer.pending()).toBe(100);
    const perFrame: number[] = [];
    while (pacer.pending() > 0) {
      const before = ran.length;
      clock.tick();
      perFrame.push(ran.length - before);
    }
    expect(perFrame).toEqual(Array(10).fill(10));
    expect(ran).toEqual(Array.from({ length: 100 }, (_, i) => i));
    // Nothing left: no frame is asked for.
    expect(clock.requested()).toBe(0);
  });

  it('counts weights against the share, and always runs the first task of a frame', () => {
    const clock = frames();
    const pacer = createPacer({ perFrame: 10, frame: clock.frame });
    const ran: string[] = [];
    pacer.schedule(() => ran.push('a'), 6);
    pacer.schedule(() => ran.push('b'), 6);
    pacer.schedule(() => ran.push('huge'), 25);
    pacer.schedule(() => ran.push('c'), 1);
    clock.tick();
    expect(ran).toEqual(['a']);
    clock.tick();
    expect(ran).toEqual(['a', 'b']);
    // Heavier than a whole frame: it still runs, alone, rather than never.
    clock.tick();
    expect(ran).toEqual(['a', 'b', 'huge']);
    clock.tick();
    expect(ran).toEqual(['a', 'b', 'huge', 'c']);
  });

  it('drops a cancelled task and keeps the order of the rest', () => {
    const clock = frames();
    const pacer = createPacer({ perFrame: 2, frame: clock.frame });
    const ran: number[] = [];
    const cancels = [0, 1, 2, 3, 4].map((i) => pacer.schedule(() => ran.push(i)));
    cancels[1]();
    cancels[1]();
    expect(pacer.pending()).toBe(4);
    clock.tick();
    expect(ran).toEqual([0, 2]);
    // Cancelling after it ran changes nothing.
    cancels[0]();
    expect(pacer.pending()).toBe(2);
    clock.tick();
    expect(ran).toEqual([0, 2, 3, 4]);
    expect(pacer.pending()).toBe(0);
  });

  it('take() draws work now while the share lasts; a share after a frame starts afresh', () => {
    const clock = frames();
    const pacer = createPacer({ perFrame: 10, frame: clock.frame });
    // A render draws 10 rows itself: the coming frame's share is spent.
    expect(pacer.take(4)).toBe(true);
    expect(pacer.take(6)).toBe(true);
    expect(pacer.take(1)).toBe(false);
    const ran: number[] = [];
    for (let i = 0; i < 15; i++) pacer.schedule(() => ran.push(i));
    // While tasks wait, take() does not jump the queue.
    expect(pacer.take(1)).toBe(false);
    // Once a frame has laid those rows out, the queue gets a full share; then the rest.
    clock.tick();
    expect(ran.length).toBe(10);
    clock.tick();
    expect(ran.length).toBe(15);
    // The last share (5) is laid out in the coming frame with what is taken until then.
    expect(pacer.take(6)).toBe(false);
    expect(pacer.take(5)).toBe(true);
    expect(pacer.take(1)).toBe(false);
    clock.tick();
    expect(pacer.take(10)).toBe(true);
  });

  it('take() inside a running share is refused (that work is already counted)', () => {
    const clock = frames();
    const pacer = createPacer({ perFrame: 10, frame: clock.frame });
    const inside: boolean[] = [];
    pacer.schedule(() => inside.push(pacer.take(1)));
    clock.tick();
    expect(inside).toEqual([false]);
    // The share's one unit is laid out in the coming frame with what is taken until then...
    expect(pacer.take(10)).toBe(false);
    expect(pacer.take(9)).toBe(true);
    // ...and once that frame is drawn the share is whole again.
    clock.tick();
    expect(pacer.take(10)).toBe(true);
  });

  it("stops a frame's share at the time budget and carries the rest to the next frame", () => {
    const clock = frames();
    let t = 0;
    const pacer = createPacer({ budgetMs: 4, frame: clock.frame, now: () => t });
    const ran: number[] = [];
    // Each task takes 1.5 ms of the clock: 3 fit in 4 ms (the third starts at 3 ms).
    for (let i = 0; i < 7; i++)
      pacer.schedule(() => {
        ran.push(i);
        t += 1.5;
      });
    clock.tick();
    expect(ran).toEqual([0, 1, 2]);
    clock.tick();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5]);
    clock.tick();
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(pacer.pending()).toBe(0);
  });

  it("runs a frame's share inside `wrap` once, and a throwing task does not strand the others", () => {
    const clock = frames();
    let wraps = 0;
    const errors: unknown[] = [];
    const pacer = createPacer({
      perFrame: 3,
      frame: clock.frame,
      wrap: (run) => {
        wraps++;
        run();
      },
      onError: (e) => errors.push(e),
    });
    const ran: number[] = [];
    pacer.schedule(() => ran.push(0));
    pacer.schedule(() => {
      throw new Error('boom');
    });
    pacer.schedule(() => ran.push(2));
    pacer.schedule(() => ran.push(3));
    clock.tick();
    expect(wraps).toBe(1);
    expect(ran).toEqual([0, 2]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['boom']);
    expect(pacer.pending()).toBe(1);
    clock.tick();
    expect(ran).toEqual([0, 2, 3]);
  });
});
