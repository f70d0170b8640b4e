// What the wasm kernels (resample, align-corners) share: the WebAssembly API as
// they use it, and compiling a module from its generated base64 bytes, or null
// where WebAssembly or its SIMD is missing, so each caller falls back to its JS port.

// The core's ES lib declares no WebAssembly (it comes with DOM or Node types), so
// the part used here is typed locally and read from globalThis.
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(deltaPages: number): number;
}
export interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports?: object) => { readonly exports: Record<string, unknown> };
}

export const WASM_PAGE_BYTES = 65536;

/** The WebAssembly global, read at each call (tests take it away to check the fallbacks). */
export function wasmApi(): WasmApi | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (!api || typeof api.validate !== 'function' || typeof api.Module !== 'function') return null;
  return api;
}

export function decodeBase64(s: string): Uint8Array {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const value = new Uint8Array(128);
  for (let i = 0; i < alphabet.length; i++) value[alphabet.charCodeAt(i)] = i;
  const clean = s.replace(/=+$/, '');
  const out = new Uint8Array(Math.floor((clean.length * 6) / 8));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (let i = 0; i < clean.length; i++) {
    acc = (acc << 6) | value[clean.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

/** The compiled module, or null where WebAssembly is missing, throws, or has no SIMD. */
export function compileSimdModule(base64: string): object | null {
  try {
    const api = wasmApi();
    if (!api) return null;
    const bytes = decodeBase64(base64);
    // validate() is false where SIMD is not supported.
    if (!api.validate(bytes)) return null;
    return new api.Module(bytes);
  } catch {
    return null;
  }
}

/** A call that needed more memory than this drops its instance afterwards: wasm memory never shrinks. */
export const KEEP_MEMORY_BYTES = 64 << 20;

type KernelFn = (...args: number[]) => void;
/** An instance's memory and the exported functions asked for. */
export type SimdExports<E extends Record<string, KernelFn>> = { memory: WasmMemory } & E;

export type KernelBackend = 'wasm' | 'js';

/**
 * One wasm kernel: its module, compiled on first use (or null where WebAssembly SIMD is
 * missing), an instance that a caller drops after a failure or a call that grew its memory,
 * and the choice between it and the JS port.
 */
export class SimdKernel<E extends Record<string, KernelFn>> {
  private module: object | null | undefined;
  private instance: SimdExports<E> | null = null;
  /** False when forced to the JS port. */
  private wasmAllowed = true;
  private lastBackend: KernelBackend | null = null;

  constructor(
    private readonly name: string,
    private readonly base64: string,
    private readonly functions: readonly (keyof E & string)[],
  ) {}

  /** The instance, or null where the module cannot run here (then never tried again until reset). */
  get(): SimdExports<E> | null {
    if (this.instance) return this.instance;
    if (this.module === undefined) this.module = compileSimdModule(this.base64);
    if (!this.module) return null;
    try {
      const { exports } = new (wasmApi() as WasmApi).Instance(this.module, {});
      const memory = exports.memory as WasmMemory | undefined;
      if (!memory || typeof memory.grow !== 'function') throw new Error(`${this.name} memory`);
      const fns: Record<string, KernelFn> = {};
      for (const f of this.functions) {
        if (typeof exports[f] !== 'function') throw new Error(`${this.name} exports no ${f}`);
        fns[f] = exports[f] as KernelFn;
      }
      this.instance = { memory, ...fns } as SimdExports<E>;
    } catch {
      this.module = null;
      this.instance = null;
    }
    return this.instance;
  }

  /** Drops the instance; the next get() makes a fresh one from the compiled module. */
  drop(): void {
    this.instance = null;
  }

  /** Forgets the module and the instance, so the next get() probes WebAssembly again (tests). */
  reset(): void {
    this.module = undefined;
    this.instance = null;
  }

  /**
   * Tests and benchmarks only: 'js' forces the JS port; 'auto' (the default) uses wasm
   * where it works and probes WebAssembly again on the next call.
   */
  setMode(mode: 'js' | 'auto'): void {
    this.wasmAllowed = mode === 'auto';
    if (this.wasmAllowed) this.reset();
  }

  /** Which backend calls use now ('js' when forced or when wasm is unavailable). */
  backend(): KernelBackend {
    return this.wasmAllowed && this.get() !== null ? 'wasm' : 'js';
  }

  /**
   * One call: `wasm` when allowed (it returns false when it cannot take the call), else `js`;
   * records which served it.
   */
  run(wasm: () => boolean, js: () => void): void {
    if (this.wasmAllowed && wasm()) {
      this.lastBackend = 'wasm';
      return;
    }
    this.lastBackend = 'js';
    js();
  }

  /** Which backend served the last call (null before the first). */
  lastServed(): KernelBackend | null {
    return this.lastBackend;
  }
}
