// Every URL knob of the page, read in one place: ?backend=, ?threads=, ?inflight=, ?batch=, ?ort=
// and ?debug=. Each takes the query string (default: the page's), so tests can hand it one.
import type { BackendChoice, SessionTuning } from '../worker/ort-web.ts';
import { setNotice, useStore } from './store.ts';

/**
 * Batches handed to the worker at once: while one is in the encoder, the next one's files are read
 * and decoded, so the encoder never waits for them.
 */
const IN_FLIGHT = 2;
/**
 * Images per worker call, sharing one encoder run, unless the pack's manifest names its own
 * (vision.imagesPerRun, per backend) or ?batch=N overrides both. The default pack's encoder takes
 * 114 ms per image 8 at a time against 125 one at a time (WASM, 2 threads, in the worker); 8 keeps
 * the first cards of a batch coming after one run instead of the whole batch.
 */
const DEFAULT_BATCH = 8;

export function backendChoice(search = location.search): BackendChoice {
  const v = new URLSearchParams(search).get('backend');
  return v === 'wasm' || v === 'webgpu' ? v : 'auto';
}

/** ?debug=1: the developer and bench globals on window (src/ui/debug.ts); off by default. */
export function debugEnabled(search = location.search): boolean {
  return new URLSearchParams(search).get('debug') === '1';
}

/** A positive integer URL parameter, or undefined when absent; a bad value is said, then ignored. */
function intParam(name: string, search: string): number | undefined {
  const v = new URLSearchParams(search).get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    setNotice({ kind: 'error', text: `?${name}=${v} is not a positive whole number; it is ignored.` });
    return undefined;
  }
  return n;
}

/** ?threads=N: WASM threads for the worker (the badge shows what runs); absent: one per core. */
export function threadsParam(search = location.search): number | undefined {
  return intParam('threads', search);
}

/** ?inflight=N: batches handed to the worker at once (1 turns off decoding ahead, for measuring it). */
export function inFlight(search = location.search): number {
  return intParam('inflight', search) ?? IN_FLIGHT;
}

/** Images per encoder run: ?batch=N, else what the loaded pack asks for on its backend, else the default. */
export function batchSize(
  search = location.search,
  packChoice: number | null = useStore.getState().pack?.imagesPerRun ?? null,
): number {
  return intParam('batch', search) ?? packChoice ?? DEFAULT_BATCH;
}

/**
 * ?ort=graph:basic,mempattern:0,arena:0,mode:parallel,spin:1,fix.batch:8 — onnxruntime session options,
 * for measuring them (bench/browser-pipeline.ts). Unknown keys or values are said, then ignored.
 */
export function ortTuning(search = location.search): SessionTuning | undefined {
  const v = new URLSearchParams(search).get('ort');
  if (v === null || v.trim() === '') return undefined;
  const t: SessionTuning = {};
  const bad: string[] = [];
  for (const part of v.split(',')) {
    const [key, value = ''] = part.split(':');
    const flag = value === '1' ? true : value === '0' ? false : null;
    if (
      key === 'graph' &&
      (value === 'disabled' || value === 'basic' || value === 'extended' || value === 'all')
    )
      t.graphOptimizationLevel = value;
    else if (key === 'mempattern' && flag !== null) t.enableMemPattern = flag;
    else if (key === 'arena' && flag !== null) t.enableCpuMemArena = flag;
    else if (key === 'spin' && flag !== null) t.allowSpinning = flag;
    else if (key === 'mode' && (value === 'sequential' || value === 'parallel')) t.executionMode = value;
    else if (
      key.startsWith('fix.') &&
      key.length > 4 &&
      Number.isInteger(Number(value)) &&
      Number(value) > 0
    ) {
      t.freeDimensionOverrides = { ...t.freeDimensionOverrides, [key.slice(4)]: Number(value) };
    } else bad.push(part);
  }
  if (bad.length > 0) setNotice({ kind: 'error', text: `?ort= does not know ${bad.join(', ')}; ignored.` });
  return t;
}
