// Developer measurement of the vision encoder inside the worker: runs of several
// batch sizes and session options, interleaved run by run so that load from
// other processes hits every option alike (the page-level benchmark cannot
// separate them on a busy machine). Synthetic inputs: only time is measured.
import { AgqgError } from '../model/errors.ts';
import type { Manifest } from '../model/pack/manifest.ts';
import type { SessionRunner, TensorIn } from '../model/scoring/runtime.ts';
import { OrtWebRuntime, type SessionTuning } from './ort-web.ts';
import { runContextState, type RunContextState } from './run-context.ts';

/** In freeDimensionOverrides, stands for the vision input's batch axis (whatever the graph calls it). */
export const BATCH_DIM = '$batch';

export interface EncoderBenchRequest {
  batches: number[];
  /**
   * Session options to compare; the first is the baseline ({} = the page's defaults). A session
   * with its batch axis pinned (freeDimensionOverrides) only runs that batch size.
   */
  tunings: SessionTuning[];
  reps: number;
  /**
   * Batch sizes run one after another on the first session, with no warm-up run: how run times
   * change as V8 tiers (and deoptimises) onnxruntime's wasm. The other fields are then ignored.
   */
  sequence?: number[];
}

export interface EncoderBenchResult {
  /** `${tuningIndex}|${batch}` -> ms per image of each repetition. */
  msPerImage: Record<string, number[]>;
  threads: number;
  /** With `sequence`: ms per image of each run, in order. */
  sequenceMs?: number[];
  /** Which task the runs start from, and how often slow runs moved them (run-context.ts). */
  runContext: RunContextState;
}

function feedsFor(m: Manifest, batch: number): Record<string, TensorIn> {
  const feeds: Record<string, TensorIn> = {};
  for (const input of m.vision.inputs) {
    const rest = input.shape.slice(1);
    if (!rest.every((d): d is number => typeof d === 'number')) {
      throw new AgqgError(
        'invalid_argument',
        `vision input ${input.name} has a free spatial size; the encoder bench needs fixed ones`,
      );
    }
    const size = batch * rest.reduce((a, b) => a * b, 1);
    const data = new Float32Array(size);
    // Any values in the normalised range; the time does not depend on them.
    for (let i = 0; i < size; i++) data[i] = ((i * 2654435761) % 1000) / 500 - 1;
    feeds[input.name] = { dtype: 'float32', data, dims: [batch, ...rest] };
  }
  return feeds;
}

export async function benchEncoder(
  model: Uint8Array,
  manifest: Manifest,
  runtime: OrtWebRuntime,
  req: EncoderBenchRequest,
): Promise<EncoderBenchResult> {
  const sessions: SessionRunner[] = [];
  try {
    const batchAxis = manifest.vision.inputs[0].shape[0];
    const pinned: (number | null)[] = [];
    for (const t of req.tunings) {
      let tuning = t;
      const fixed = t.freeDimensionOverrides?.[BATCH_DIM];
      if (fixed !== undefined) {
        if (typeof batchAxis !== 'string')
          throw new AgqgError('invalid_argument', 'the vision graph has a fixed batch axis: nothing to pin');
        const { [BATCH_DIM]: _, ...rest } = t.freeDimensionOverrides as Record<string, number>;
        tuning = { ...t, freeDimensionOverrides: { ...rest, [batchAxis]: fixed } };
      }
      pinned.push(fixed ?? null);
      sessions.push(
        await new OrtWebRuntime(runtime.info, tuning, runtime.build).createSession(
          model,
          `${manifest.vision.variants[0].file} (bench)`,
        ),
      );
    }
    const runs = (si: number, b: number) => pinned[si] === null || pinned[si] === b;
    const out: Record<string, number[]> = {};
    if (req.sequence) {
      const seqFeeds = new Map(req.sequence.map((b) => [b, feedsFor(manifest, b)]));
      const sequenceMs: number[] = [];
      for (const b of req.sequence) {
        const t0 = performance.now();
        await sessions[0].run(seqFeeds.get(b) as Record<string, TensorIn>, [manifest.vision.output.name]);
        sequenceMs.push((performance.now() - t0) / b);
      }
      return { msPerImage: out, threads: runtime.info.threads, sequenceMs, runContext: runContextState() };
    }
    const feeds = new Map(req.batches.map((b) => [b, feedsFor(manifest, b)]));
    // One warm-up run per session and batch size: first runs allocate and plan.
    for (const [si, s] of sessions.entries())
      for (const b of req.batches)
        if (runs(si, b)) await s.run(feeds.get(b) as Record<string, TensorIn>, [manifest.vision.output.name]);
    for (let r = 0; r < req.reps; r++) {
      const order = r % 2 === 0 ? req.batches : [...req.batches].reverse();
      for (const [si, s] of sessions.entries()) {
        for (const b of order) {
          if (!runs(si, b)) continue;
          const t0 = performance.now();
          await s.run(feeds.get(b) as Record<string, TensorIn>, [manifest.vision.output.name]);
          (out[`${si}|${b}`] ??= []).push((performance.now() - t0) / b);
        }
      }
    }
    return { msPerImage: out, threads: runtime.info.threads, runContext: runContextState() };
  } finally {
    await Promise.allSettled(sessions.map((s) => s.release()));
  }
}
