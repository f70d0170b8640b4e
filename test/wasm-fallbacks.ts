// The fallback checks every wasm kernel with a JS port must pass (resample,
// align-corners): forced JS, no WebAssembly, no SIMD, a module or instance that
// throws, and recovery on a later probe. Call inside a describe; the caller's
// afterEach must unstub globals and set the backend back to auto.
import { expect, it, vi } from 'vitest';

type Backend = 'wasm' | 'js';

export interface WasmKernelUnderTest {
  setBackend(mode: 'js' | 'auto'): void;
  backend(): Backend;
  /** Backend of the last call. */
  last(): Backend | null;
  /** Runs the case through the dispatching entry point; true when its output equals the JS port's. */
  sameAsJs(): boolean;
}

export function wasmFallbackTests(k: WasmKernelUnderTest): void {
  function expectServedBy(backend: Backend): void {
    expect(k.sameAsJs()).toBe(true);
    expect(k.last()).toBe(backend);
  }

  it('when forced to js, and back to wasm on auto', () => {
    k.setBackend('js');
    expect(k.backend()).toBe('js');
    expectServedBy('js');
    k.setBackend('auto');
    expectServedBy('wasm');
  });

  it('without WebAssembly', () => {
    vi.stubGlobal('WebAssembly', undefined);
    k.setBackend('auto');
    expect(k.backend()).toBe('js');
    expectServedBy('js');
  });

  // Taken before any stub; the namespace's own members do not spread.
  // (Node's types declare no WebAssembly value.)
  const api = (globalThis as unknown as { WebAssembly: Record<string, unknown> }).WebAssembly;
  const real = { validate: api.validate, Module: api.Module, Instance: api.Instance };
  /** The real WebAssembly API with some members replaced. */
  const fakeWasm = (over: Record<string, unknown>): Record<string, unknown> => ({ ...real, ...over });
  class Broken {
    constructor() {
      throw new Error('no wasm here');
    }
  }

  it('without SIMD (the module does not validate)', () => {
    const validate = vi.fn(() => false);
    vi.stubGlobal('WebAssembly', fakeWasm({ validate }));
    k.setBackend('auto');
    expectServedBy('js');
    expect(validate).toHaveBeenCalledTimes(1);
  });

  it('when compiling or instantiating throws, and recovers on a later probe', () => {
    vi.stubGlobal('WebAssembly', fakeWasm({ Module: Broken }));
    k.setBackend('auto');
    expectServedBy('js');
    vi.stubGlobal('WebAssembly', fakeWasm({ Instance: Broken }));
    k.setBackend('auto');
    expectServedBy('js');
    vi.stubGlobal('WebAssembly', fakeWasm({}));
    k.setBackend('auto');
    expectServedBy('wasm');
  });
}
