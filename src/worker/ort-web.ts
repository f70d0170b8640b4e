// RuntimeAdapter over onnxruntime-web. Two builds: WASM runs the plain build
// ('onnxruntime-web/wasm'), WebGPU the asyncify one ('onnxruntime-web/webgpu'),
// whose own WASM provider is the fallback when WebGPU fails. The runtime files
// are copied into the site by vite.config.ts (ort/, listed in ort-files.ts),
// never fetched from a CDN, so grading works offline.
import * as ortWasm from 'onnxruntime-web/wasm';
import * as ortWebGpu from 'onnxruntime-web/webgpu';
import { AgqgError } from '../model/errors.ts';
import type { RuntimeAdapter, SessionRunner } from '../model/scoring/runtime.ts';
import { siteBase } from './pack-sources.ts';
import { OrtSession } from '../model/scoring/ort-session.ts';
import { DeviceLossGuard, watchOrtWebGpuDevice } from './gpu-loss.ts';
import { RunContextGuard } from './run-context.ts';
import { ORT_BUILD_FILES, ORT_DIR, type OrtBuild } from './ort-files.ts';

/** Both builds expose onnxruntime-common's API (one types.d.ts). */
type Ort = typeof ortWebGpu;
const ORT_BUILDS: Record<OrtBuild, Ort> = { wasm: ortWasm, webgpu: ortWebGpu };

export type BackendChoice = 'auto' | 'wasm' | 'webgpu';
export type BackendKind = 'wasm' | 'webgpu';

export interface BackendInfo {
  kind: BackendKind;
  /** RuntimeAdapter.backend, e.g. "onnxruntime-web/wasm". */
  name: string;
  /** WASM threads (1 unless the page is cross-origin isolated). */
  threads: number;
  crossOriginIsolated: boolean;
  /** Why this backend and not the other, for the page to show. */
  reason: string;
  /** The GPU adapter's description when WebGPU runs. */
  adapter?: string;
}

/** Session options the benchmark compares (?ort=...); absent fields keep the defaults below. */
export interface SessionTuning {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  enableMemPattern?: boolean;
  enableCpuMemArena?: boolean;
  executionMode?: 'sequential' | 'parallel';
  /** Whether idle pool threads spin before sleeping (ORT's session.intra_op.allow_spinning); off unless set. */
  allowSpinning?: boolean;
  /** Pins symbolic dimensions (e.g. {batch: 8}); every run must then use exactly that size. */
  freeDimensionOverrides?: Record<string, number>;
}

export interface RuntimeOptions {
  /** WASM threads asked for (?threads=N); clamped to 1..cores, and 1 without cross-origin isolation. */
  threads?: number;
  tuning?: SessionTuning;
}

/** Threads the WASM runtime was started with: fixed at its first use, for the worker's lifetime. */
let startedThreads: number | null = null;
const configured = new Set<OrtBuild>();

function coresAvailable(): number {
  return Math.max(1, self.navigator.hardwareConcurrency || 1);
}

function threadsFor(asked: number | undefined): number {
  if (startedThreads !== null) return startedThreads;
  const isolated = self.crossOriginIsolated === true;
  // SharedArrayBuffer (and so threads) exists only when the page is cross-origin isolated.
  startedThreads = !isolated
    ? 1
    : asked === undefined
      ? coresAvailable()
      : Math.min(Math.max(1, Math.floor(asked)), coresAvailable());
  return startedThreads;
}

/** The build's module, its env set before its first session (env is read when its runtime starts). */
function ortBuild(build: OrtBuild, threads: number): Ort {
  const ort = ORT_BUILDS[build];
  if (configured.has(build)) return ort;
  const dir = new URL(`${ORT_DIR}/`, siteBase());
  const files = ORT_BUILD_FILES[build];
  ort.env.wasm.wasmPaths = { mjs: new URL(files.mjs, dir).href, wasm: new URL(files.wasm, dir).href };
  ort.env.wasm.numThreads = threads;
  // We already run in a worker; ORT's own proxy worker would copy every tensor once more.
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  configured.add(build);
  return ort;
}

export function sameTuning(a: SessionTuning, b: SessionTuning): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

interface GpuLike {
  requestAdapter(): Promise<{
    info?: { vendor?: string; architecture?: string; description?: string };
  } | null>;
}

/** A WebGPU adapter's description, or null when WebGPU is absent or has no adapter. */
export async function probeWebGpu(): Promise<string | null> {
  const gpu = (self.navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return null;
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) return null;
    const info = adapter.info;
    return (
      [info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'WebGPU adapter'
    );
  } catch {
    return null;
  }
}

export class OrtWebRuntime implements RuntimeAdapter {
  readonly backend: string;
  constructor(
    readonly info: BackendInfo,
    readonly tuning: SessionTuning = {},
    /** The onnxruntime-web build the sessions run on. */
    readonly build: OrtBuild = info.kind,
  ) {
    this.backend = info.name;
  }
  async createSession(model: Uint8Array, label: string): Promise<SessionRunner> {
    const ort = ortBuild(this.build, this.info.threads);
    const providers: ortWebGpu.InferenceSession.ExecutionProviderConfig[] =
      this.info.kind === 'webgpu' ? ['webgpu', 'wasm'] : ['wasm'];
    const watch = this.info.kind === 'webgpu' ? await watchOrtWebGpuDevice() : null;
    // ORT keeps its device once made: a session made after a loss would load, then fail its runs.
    if (watch?.lost) {
      throw new AgqgError(
        'backend_failed',
        `${label}: onnxruntime-web (webgpu) could not load the graph: the WebGPU device was lost (${watch.lost})`,
      );
    }
    try {
      const t = this.tuning;
      const session = await ort.InferenceSession.create(model, {
        executionProviders: providers,
        graphOptimizationLevel: t.graphOptimizationLevel ?? 'all',
        ...(t.enableMemPattern === undefined ? {} : { enableMemPattern: t.enableMemPattern }),
        ...(t.enableCpuMemArena === undefined ? {} : { enableCpuMemArena: t.enableCpuMemArena }),
        ...(t.executionMode === undefined ? {} : { executionMode: t.executionMode }),
        ...(t.freeDimensionOverrides === undefined
          ? {}
          : { freeDimensionOverrides: t.freeDimensionOverrides }),
        // Idle pool threads would otherwise spin between runs, starving image decoding in this
        // worker and the page itself (ORT config key session.intra_op.allow_spinning).
        extra: { session: { intra_op: { allow_spinning: t.allowSpinning ? '1' : '0' } } },
      });
      const runner = new OrtSession(session, ort.Tensor, label, `on ${this.backend}`);
      // On WASM the calling thread runs its share of every kernel on its own stack (run-context.ts).
      if (this.info.kind !== 'webgpu') return new RunContextGuard(runner, label);
      // The first WebGPU session makes the device. A run on a lost device fails once, then the next never settles (gpu-loss.ts).
      const device = watch ?? (await watchOrtWebGpuDevice());
      return device ? new DeviceLossGuard(runner, label, device) : runner;
    } catch (err) {
      throw new AgqgError(
        'backend_failed',
        `${label}: onnxruntime-web (${this.info.kind}) could not load the graph: ${(err as Error).message}`,
        { cause: err },
      );
    }
  }
}

/** Picks the backend: WebGPU when an adapter exists (unless forced), else WASM. */
export async function createOrtRuntime(
  choice: BackendChoice,
  opts: RuntimeOptions = {},
): Promise<OrtWebRuntime> {
  const threads = threadsFor(opts.threads);
  const isolated = self.crossOriginIsolated === true;
  const tuning = opts.tuning ?? {};
  const wasm = (reason: string): OrtWebRuntime =>
    new OrtWebRuntime(
      { kind: 'wasm', name: 'onnxruntime-web/wasm', threads, crossOriginIsolated: isolated, reason },
      tuning,
    );
  if (choice === 'wasm') return wasm('forced by ?backend=wasm');
  const adapter = await probeWebGpu();
  if (adapter) {
    return new OrtWebRuntime(
      {
        kind: 'webgpu',
        name: 'onnxruntime-web/webgpu',
        threads,
        crossOriginIsolated: isolated,
        reason: choice === 'webgpu' ? 'forced by ?backend=webgpu' : 'a WebGPU adapter is available',
        adapter,
      },
      tuning,
    );
  }
  return wasm(
    choice === 'webgpu'
      ? '?backend=webgpu was asked for, but this browser has no WebGPU adapter'
      : 'no WebGPU adapter in this browser',
  );
}

/** The WASM runtime to fall back on when WebGPU fails: the WebGPU build's own WASM provider, already loaded. */
export function wasmFallback(after: OrtWebRuntime, why: string): OrtWebRuntime {
  return new OrtWebRuntime(
    {
      kind: 'wasm',
      name: 'onnxruntime-web/wasm',
      threads: after.info.threads,
      crossOriginIsolated: after.info.crossOriginIsolated,
      reason: `WebGPU failed (${why}); switched to WASM`,
    },
    after.tuning,
    after.build,
  );
}
