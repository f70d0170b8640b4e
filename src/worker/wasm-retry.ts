// WebGPU can fail where WASM does not (an op it lacks, a lost device): the worker then moves to
// WASM and runs again what failed. The two retry rules, kept apart from ORT so Node tests them.
import { toErrorInfo, type ErrorInfo } from '../model/errors.ts';

/** What a retry needs from the worker. */
export interface WasmFallback {
  /** True while the sessions run on WebGPU: only then is a failure retried. */
  onWebGpu(): boolean;
  /** Moves to WASM; `why` is the message of the failure that made it. */
  toWasm(why: string): Promise<void>;
}

/** Runs `attempt`; when it throws on WebGPU, moves to WASM and runs it once more (that throw is final). */
export async function attemptWithWasmFallback<T>(
  attempt: () => Promise<T>,
  fallback: WasmFallback,
): Promise<T> {
  try {
    return await attempt();
  } catch (err) {
    if (!fallback.onWebGpu()) throw err;
    await fallback.toWasm(toErrorInfo(err).message);
    return attempt();
  }
}

/** A scored item: its error, when it is backend_failed, is one a move to WASM may mend. */
export interface ScoredItem {
  result: { error: ErrorInfo | null };
}

/**
 * Scores `items` (failures come back per item, never thrown); when some come back backend_failed
 * on WebGPU, moves to WASM once and scores only those again, in their places. Other failures stand.
 */
export async function scoreWithWasmFallback<I, R extends ScoredItem>(
  items: readonly I[],
  score: (items: I[]) => Promise<R[]>,
  fallback: WasmFallback,
): Promise<R[]> {
  const out = await score([...items]);
  const hit = out.flatMap((r, i) => (r.result.error?.code === 'backend_failed' ? [i] : []));
  if (hit.length === 0 || !fallback.onWebGpu()) return out;
  await fallback.toWasm(out[hit[0]].result.error?.message ?? 'inference failed');
  const again = await score(hit.map((i) => items[i]));
  hit.forEach((i, k) => (out[i] = again[k]));
  return out;
}
