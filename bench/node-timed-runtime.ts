// A RuntimeAdapter that times every session run by graph, so the benchmark can
// split PackScorer's inference time into encoder, text tower and head.
import type { RuntimeAdapter, SessionRunner } from '../src/model/scoring/runtime.ts';

export class TimedRuntime implements RuntimeAdapter {
  /** Milliseconds spent in run() per graph label, since the last reset(). */
  readonly ms = new Map<string, number>();
  constructor(private readonly inner: RuntimeAdapter) {}
  get backend(): string {
    return this.inner.backend;
  }
  reset(): void {
    this.ms.clear();
  }
  /** Time in graphs whose label satisfies `pick`. */
  total(pick: (label: string) => boolean): number {
    let t = 0;
    for (const [label, ms] of this.ms) if (pick(label)) t += ms;
    return t;
  }
  async createSession(model: Uint8Array, label: string): Promise<SessionRunner> {
    const s = await this.inner.createSession(model, label);
    const ms = this.ms;
    return {
      get inputNames() {
        return s.inputNames;
      },
      get outputNames() {
        return s.outputNames;
      },
      async run(feeds, outputs) {
        const t0 = performance.now();
        try {
          return await s.run(feeds, outputs);
        } finally {
          ms.set(label, (ms.get(label) ?? 0) + performance.now() - t0);
        }
      },
      release: () => s.release(),
    };
  }
}
