// Why onnxruntime-web runs can suddenly take 2-2.5x as long, and what the worker does about it.
//
// V8 (Chromium 156) compiles the inner loop of onnxruntime's SGEMM kernel with two 128-bit
// accumulators spilled to the native stack at [rbp-0xd0] and [rbp-0xe0], aligned to 8 bytes
// only. When the kernel's frame lands at a depth where one of those slots straddles a 4 KB
// page, every iteration pays a page-split store and load, and the ORT-calling thread's share
// of each matrix product runs ~2.4x slower (the pool threads, at fixed depths, are fine).
// Which depth that is depends on the task whose microtask checkpoint resumes onnxruntime's
// `run` after its first await, plus frames that change size as V8 tiers code up: so the slow
// state came and went with batch sizes, V8 flags and run counts (docs/performance.md).
//
// The worker cannot align V8's spill slots, but it can choose the task: every run starts
// from a fresh task of one kind (a MessageChannel message), which fixes the depth; when
// runs turn slow and stay slow, it starts them from another kind of task (a timer), whose
// depth differs by far more than the slots' size. No DOM here: tests pass their own hops.
import { nowMs } from '../model/util/clock.ts';
import { nextTask } from '../model/util/next-task.ts';
import type { SessionRunner, TensorIn, TensorOut } from '../model/scoring/runtime.ts';

export type RunContextKind = 'message' | 'timeout';

/** Order in which the contexts are tried; the first is the default. */
export const RUN_CONTEXTS: readonly RunContextKind[] = ['message', 'timeout'];

export interface SlowRunOptions {
  /** Runs of a session not judged: the first runs are slow while V8 tiers the code up. */
  warmupRuns: number;
  /** A run is slow when its time per item is at least this times the session's best. */
  ratio: number;
  /** Slow runs in a row that move the runs to the next context. */
  streak: number;
  /** Runs shorter than this are not judged (timer noise would dominate, e.g. the head's). */
  minRunMs: number;
}

/**
 * The slow state costs 2.2-2.5x per run; a busy machine rarely costs 1.6x on two runs in a
 * row, and if it does, switching contexts costs one task hop per run.
 */
const SLOW_RUN_DEFAULTS: SlowRunOptions = { warmupRuns: 2, ratio: 1.6, streak: 2, minRunMs: 50 };

/** Judges one session's runs: whether they have turned slow against its own best. */
export class SlowRunDetector {
  private readonly o: SlowRunOptions;
  private runs = 0;
  private best = Infinity;
  private slowInARow = 0;
  constructor(opts: Partial<SlowRunOptions> = {}) {
    this.o = { ...SLOW_RUN_DEFAULTS, ...opts };
  }
  /** The session's best time per item so far (Infinity before its first judged run). */
  get bestMs(): number {
    return this.best;
  }
  /** Records a run; true when the runs should move to another context (the streak restarts). */
  observe(runMs: number, items: number): boolean {
    this.runs++;
    if (this.runs <= this.o.warmupRuns || runMs < this.o.minRunMs || items < 1) return false;
    const perItem = runMs / items;
    if (perItem >= this.best * this.o.ratio) {
      this.slowInARow++;
    } else {
      this.slowInARow = 0;
      this.best = Math.min(this.best, perItem);
    }
    if (this.slowInARow < this.o.streak) return false;
    this.slowInARow = 0;
    return true;
  }
}

/** Resolves in a fresh task of the given kind, so that task's microtask checkpoint runs what follows. */
export function hopTo(kind: RunContextKind): Promise<void> {
  if (kind === 'timeout') return new Promise((resolve) => setTimeout(resolve, 0));
  return nextTask();
}

export interface RunContextSwitch {
  /** The session whose runs turned slow (its graph's label). */
  session: string;
  /** Its last run's time per item, and its best before, in ms. */
  perItemMs: number;
  bestMs: number;
  to: RunContextKind;
}

export interface RunContextState {
  context: RunContextKind;
  /** Times the runs moved to another context because they had turned slow. */
  switches: number;
  /** The last few switches, oldest first. */
  recent: RunContextSwitch[];
}

const RECENT_SWITCHES = 5;

/** One per worker thread: the stack depth is the thread's, whichever session runs. */
export class RunContexts {
  private index = 0;
  private switchCount = 0;
  private readonly recent: RunContextSwitch[] = [];
  constructor(
    private readonly hop: (kind: RunContextKind) => Promise<void> = hopTo,
    private readonly contexts: readonly RunContextKind[] = RUN_CONTEXTS,
  ) {}
  get state(): RunContextState {
    return { context: this.contexts[this.index], switches: this.switchCount, recent: [...this.recent] };
  }
  enter(): Promise<void> {
    return this.hop(this.contexts[this.index]);
  }
  next(why: Omit<RunContextSwitch, 'to'>): void {
    this.index = (this.index + 1) % this.contexts.length;
    this.switchCount++;
    this.recent.push({ ...why, to: this.contexts[this.index] });
    if (this.recent.length > RECENT_SWITCHES) this.recent.shift();
  }
}

const workerContexts = new RunContexts();

/** This worker's run context (the benchmark reports it). */
export function runContextState(): RunContextState {
  return workerContexts.state;
}

/** Starts each run from the current context, and moves on when the session's runs turn slow. */
export class RunContextGuard implements SessionRunner {
  private readonly detector: SlowRunDetector;
  constructor(
    private readonly inner: SessionRunner,
    private readonly label: string,
    private readonly contexts: RunContexts = workerContexts,
    opts: Partial<SlowRunOptions> = {},
    private readonly now: () => number = nowMs,
  ) {
    this.detector = new SlowRunDetector(opts);
  }
  get inputNames(): readonly string[] {
    return this.inner.inputNames;
  }
  get outputNames(): readonly string[] {
    return this.inner.outputNames;
  }
  async run(feeds: Record<string, TensorIn>, outputs?: string[]): Promise<Record<string, TensorOut>> {
    await this.contexts.enter();
    const t0 = this.now();
    const out = await this.inner.run(feeds, outputs);
    const ms = this.now() - t0;
    const items = batchOf(feeds);
    const best = this.detector.bestMs;
    if (this.detector.observe(ms, items))
      this.contexts.next({ session: this.label, perItemMs: ms / items, bestMs: best });
    return out;
  }
  release(): Promise<void> {
    return this.inner.release();
  }
}

/** Items in a run: the leading axis of its first input (1 for a scalar). */
function batchOf(feeds: Record<string, TensorIn>): number {
  const first = Object.values(feeds)[0];
  return first && first.dims.length > 0 ? first.dims[0] : 1;
}
