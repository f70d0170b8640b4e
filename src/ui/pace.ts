// Work that would make one long main-thread task when it all lands at once (a
// hundred queue rows drawn or changing state on "Grade", a page of thumbnails)
// is done a bounded share per animation frame instead, so each frame's script,
// style and layout stay short. A hidden tab runs no frames; nobody sees it then.
// No DOM here: the caller gives the frame clock (src/ui/paced.ts; tests their own).

export interface PacerOptions {
  /** Units of work per frame (a task's weight counts against it); the first task of a frame always runs. */
  perFrame?: number;
  /** Milliseconds of task time per frame, measured around each task; the first task of a frame always runs. */
  budgetMs?: number;
  /** Runs a frame's share, e.g. inside React's flushSync so its renders commit before this frame's layout. */
  wrap?: (run: () => void) => void;
  /** Calls back once per frame (the page's runs just after a frame; tests pass their own clock). */
  frame: (cb: () => void) => void;
  now?: () => number;
  /** Where a failing task's error goes (default: thrown from a microtask, as an uncaught error). */
  onError?: (err: unknown) => void;
}

export interface Pacer {
  /** Queues `task` (FIFO) for a later frame; returns a function that drops it if it has not run yet. */
  schedule(task: () => void, weight?: number): () => void;
  /**
   * Claims `weight` units of the coming frame's share for work done right now (e.g. a row drawn in
   * the render under way); false when the share is spent or tasks are already waiting.
   */
  take(weight?: number): boolean;
  /** Tasks waiting for a frame. */
  pending(): number;
}

interface Entry {
  task: () => void;
  weight: number;
  done: boolean;
}

export function createPacer(opts: PacerOptions): Pacer {
  const perFrame = opts.perFrame ?? Number.POSITIVE_INFINITY;
  const budgetMs = opts.budgetMs ?? Number.POSITIVE_INFINITY;
  const wrap = opts.wrap ?? ((run: () => void) => run());
  const frame = opts.frame;
  const now = opts.now ?? (() => performance.now());
  const onError =
    opts.onError ??
    ((err: unknown) =>
      queueMicrotask(() => {
        throw err;
      }));
  let queue: Entry[] = [];
  let waiting = 0;
  /** Units drawn since the last share ran, to be laid out in the coming frame. */
  let used = 0;
  let frameRequested = false;
  /** A frame's share is running: what it draws is already counted. */
  let inFrame = false;

  const run = (e: Entry) => {
    e.done = true;
    waiting--;
    try {
      e.task();
    } catch (err) {
      // One failing task must not strand the rest of the frame's share; the error still surfaces.
      onError(err);
    }
  };

  const onFrame = () => {
    frameRequested = false;
    const t0 = now();
    const share: Entry[] = [];
    let units = 0;
    let i = 0;
    for (; i < queue.length; i++) {
      const e = queue[i];
      if (e.done) continue;
      // The first task of a frame always runs, so work always moves on.
      if (share.length > 0 && units + e.weight > perFrame) break;
      share.push(e);
      units += e.weight;
    }
    queue = queue.slice(i);
    let ran = 0;
    inFrame = true;
    try {
      wrap(() => {
        for (const [k, e] of share.entries()) {
          // Over the time budget: the rest of this share goes back to the front, for the next frame.
          if (k > 0 && now() - t0 >= budgetMs) {
            queue = [...share.slice(k).filter((x) => !x.done), ...queue];
            break;
          }
          if (e.done) continue;
          ran += e.weight;
          run(e);
        }
      });
    } finally {
      inFrame = false;
      // A frame was drawn since the last share: what was taken before it is laid out. This share
      // is laid out in the next frame, with whatever is taken until then.
      used = ran;
    }
    if (waiting > 0) requestFrame();
  };

  const requestFrame = () => {
    if (frameRequested) return;
    frameRequested = true;
    frame(onFrame);
  };

  return {
    schedule(task, weight = 1) {
      const e: Entry = { task, weight, done: false };
      queue.push(e);
      waiting++;
      requestFrame();
      return () => {
        if (e.done) return;
        e.done = true;
        waiting--;
      };
    },
    take(weight = 1) {
      if (inFrame || waiting > 0 || (used > 0 && used + weight > perFrame)) return false;
      used += weight;
      // After the next frame the share starts afresh.
      requestFrame();
      return true;
    },
    pending: () => waiting,
  };
}
