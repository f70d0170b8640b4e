// The page's one share of drawing per frame, and the hooks that draw through it.
// A batch makes many things change at once: a folder of images given (fifty
// queue rows), "Grade" (every row's prompt box turns to text), a message with
// eight results (eight cards, two charts each). Drawn in one go, each of these
// was a 30-50 ms task of script, style and layout on this 2-core machine; the
// hooks below draw them a frame's share at a time instead, in order. The share
// and the weights are in paging.ts (the e2e tests check them).
import { useEffect, useState } from 'react';
import { flushSync } from 'react-dom';
import { nextTask } from '../model/util/next-task.ts';
import { createPacer } from './pace.ts';
import { UNITS_PER_FRAME } from './paging.ts';

/**
 * The frame's share runs in a task of its own just after the frame (posted from
 * requestAnimationFrame), not inside it: its render and commit are one short task, and the style and
 * layout they need are the next frame's, another short task, instead of one long task holding both.
 */
export function afterFrame(cb: () => void): void {
  requestAnimationFrame(() => void nextTask().then(cb));
}

/** Splits one long task in two (shared with the worker, which starts its runs from a fresh task). */
export { nextTask };

/** Renders of a frame's share commit before its task ends (flushSync), so the next frame lays them out. */
export const uiPacer = createPacer({ perFrame: UNITS_PER_FRAME, wrap: flushSync, frame: afterFrame });

/**
 * `live` as drawn: a new value is drawn at once while this frame's share lasts, else the value drawn
 * before stays until a later frame has room. (The first value is drawn at once: mounting is paced by
 * whoever decides how many to mount, useDrawnCount.)
 */
export function usePaced<T>(live: T, weight = 1): T {
  const [shown, setShown] = useState(live);
  let current = shown;
  if (live !== shown && uiPacer.take(weight)) {
    // Adopted during render (React re-runs this component at once), not one commit later.
    setShown(() => live);
    current = live;
  }
  useEffect(() => {
    if (current === live) return;
    return uiPacer.schedule(() => setShown(() => live), weight);
  }, [live, current, weight]);
  return current;
}

/**
 * How many of `wanted` things (rows, cards) to draw now: what was drawn stays drawn (down to
 * `wanted`), and more are added a frame's share at a time, `weight` units each; all at once when
 * not `paced`. `claimNow: false` for a component rendered in the background (useDeferredValue):
 * React may commit such a render after the next frame, so a share claimed in it would land in the
 * same frame as that frame's own share; it then waits for a frame's share like any other.
 */
export function useDrawnCount(wanted: number, weight = 1, paced = true, claimNow = true): number {
  const step = Math.max(1, Math.floor(UNITS_PER_FRAME / weight));
  const [drawn, setDrawn] = useState(0);
  let count = Math.min(drawn, wanted);
  if (!paced) count = wanted;
  else if (claimNow && count < wanted && uiPacer.take(step * weight)) count = Math.min(wanted, count + step);
  if (count !== drawn) setDrawn(count);
  useEffect(() => {
    if (count >= wanted) return;
    return uiPacer.schedule(() => setDrawn((d) => d + step), step * weight);
  }, [count, wanted, step, weight]);
  return count;
}
