// One serial executor for everything that touches ONNX sessions: onnxruntime-web
// is not re-entrant per session, and on 2 cores two concurrent runs only thrash.
// cancel() rejects every task that has not started yet with a `cancelled` error
// and flags the running one so it can stop at its next checkpoint.
import { AgqgError } from '../model/errors.ts';

export interface TaskContext {
  /** True once cancel() was called after this task started. */
  readonly cancelled: boolean;
  /** Throws a `cancelled` AgqgError if the task was cancelled. */
  checkpoint(): void;
}

interface Pending {
  run: (ctx: TaskContext) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  generation: number;
}

export class SerialQueue {
  private readonly pending: Pending[] = [];
  private running = false;
  /** Bumped by cancel(); tasks enqueued before it belong to an older generation. */
  private generation = 0;

  get size(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  /**
   * The current generation, for work prepared outside the queue (decoding): enqueue it with this
   * ticket and a cancel() in between rejects it, as if it had been queued at the ticket's time.
   */
  ticket(): number {
    return this.generation;
  }

  /** False once cancel() was called after `ticket` was taken. */
  isCurrent(ticket: number): boolean {
    return ticket === this.generation;
  }

  enqueue<T>(run: (ctx: TaskContext) => Promise<T>, ticket = this.generation): Promise<T> {
    if (ticket !== this.generation)
      return Promise.reject(new AgqgError('cancelled', 'cancelled before it started'));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({
        run,
        resolve: resolve as (v: unknown) => void,
        reject,
        generation: ticket,
      });
      void this.pump();
    });
  }

  /** Rejects everything queued; the running task sees `cancelled` at its next checkpoint. */
  cancel(): number {
    this.generation++;
    const dropped = this.pending.splice(0);
    for (const p of dropped) p.reject(new AgqgError('cancelled', 'cancelled before it started'));
    return dropped.length;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.pending.shift(); next; next = this.pending.shift()) {
        const gen = next.generation;
        const queue = this;
        const ctx: TaskContext = {
          get cancelled() {
            return queue.generation !== gen;
          },
          checkpoint() {
            if (queue.generation !== gen) throw new AgqgError('cancelled', 'cancelled');
          },
        };
        try {
          next.resolve(await next.run(ctx));
        } catch (err) {
          next.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}
