// The worker's two WebGPU -> WASM retry rules: a throwing attempt (session creation) runs once more
// after the move; per-item backend failures (inference) are scored again, only those, in place.
import { describe, expect, it } from 'vitest';
import { AgqgError, type ErrorCode } from '../src/model/errors.ts';
import {
  attemptWithWasmFallback,
  scoreWithWasmFallback,
  type WasmFallback,
} from '../src/worker/wasm-retry.ts';

/** A backend that starts on WebGPU (or not) and records each move to WASM. */
function backend(webgpu: boolean): WasmFallback & { moves: string[] } {
  let onGpu = webgpu;
  const moves: string[] = [];
  return {
    moves,
    onWebGpu: () => onGpu,
    toWasm: async (why) => {
      moves.push(why);
      onGpu = false;
    },
  };
}

interface Item {
  name: string;
  result: { error: { code: ErrorCode; message: string } | null };
}

const ok = (name: string): Item => ({ name, result: { error: null } });
const failed = (name: string, code: ErrorCode, message: string): Item => ({
  name,
  result: { error: { code, message } },
});

describe('attemptWithWasmFallback', () => {
  it('returns the first attempt when it succeeds, without moving', async () => {
    const b = backend(true);
    expect(await attemptWithWasmFallback(async () => 'gpu', b)).toBe('gpu');
    expect(b.moves).toEqual([]);
  });

  it('moves to WASM with the error message and runs the attempt once more', async () => {
    const b = backend(true);
    const runs: boolean[] = [];
    const value = await attemptWithWasmFallback(async () => {
      runs.push(b.onWebGpu());
      if (b.onWebGpu()) throw new AgqgError('backend_failed', 'no kernel for Erf');
      return 'wasm';
    }, b);
    expect(value).toBe('wasm');
    expect(runs).toEqual([true, false]);
    expect(b.moves).toEqual(['no kernel for Erf']);
  });

  it('rethrows a failure on WASM without a move or a second run', async () => {
    const b = backend(false);
    let runs = 0;
    const attempt = async (): Promise<string> => {
      runs++;
      throw new AgqgError('pack_invalid', 'bad graph');
    };
    await expect(attemptWithWasmFallback(attempt, b)).rejects.toThrow('bad graph');
    expect(runs).toBe(1);
    expect(b.moves).toEqual([]);
  });

  it('lets the second failure through: there is nowhere else to go', async () => {
    const b = backend(true);
    let runs = 0;
    const attempt = async (): Promise<string> => {
      runs++;
      throw new Error(`run ${runs} failed`);
    };
    await expect(attemptWithWasmFallback(attempt, b)).rejects.toThrow('run 2 failed');
    expect(b.moves).toEqual(['run 1 failed']);
  });
});

describe('scoreWithWasmFallback', () => {
  it('scores again on WASM only the backend failures, in their places', async () => {
    const b = backend(true);
    const calls: { names: string[]; webgpu: boolean }[] = [];
    const score = async (names: string[]): Promise<Item[]> => {
      calls.push({ names, webgpu: b.onWebGpu() });
      return names.map((n) =>
        b.onWebGpu() && (n === 'b' || n === 'd')
          ? failed(n, 'backend_failed', `device lost at ${n}`)
          : n === 'c'
            ? failed(n, 'decode_failed', 'not an image')
            : ok(n),
      );
    };
    const out = await scoreWithWasmFallback(['a', 'b', 'c', 'd'], score, b);
    expect(calls).toEqual([
      { names: ['a', 'b', 'c', 'd'], webgpu: true },
      { names: ['b', 'd'], webgpu: false },
    ]);
    // The move names the first failure; the image's own error (c) stands.
    expect(b.moves).toEqual(['device lost at b']);
    expect(out).toEqual([ok('a'), ok('b'), failed('c', 'decode_failed', 'not an image'), ok('d')]);
  });

  it('keeps a backend failure on WASM as it is, without a move or a second run', async () => {
    const b = backend(false);
    let runs = 0;
    const out = await scoreWithWasmFallback(
      ['a'],
      async (names) => {
        runs++;
        return names.map((n) => failed(n, 'backend_failed', 'out of memory'));
      },
      b,
    );
    expect(runs).toBe(1);
    expect(b.moves).toEqual([]);
    expect(out).toEqual([failed('a', 'backend_failed', 'out of memory')]);
  });

  it('does not move for failures that are not the backend', async () => {
    const b = backend(true);
    const out = await scoreWithWasmFallback(
      ['a', 'b'],
      async (names) => names.map((n) => failed(n, 'prompt_too_long', 'too long')),
      b,
    );
    expect(b.moves).toEqual([]);
    expect(out.map((r) => r.result.error?.code)).toEqual(['prompt_too_long', 'prompt_too_long']);
  });

  it('reports what still fails after the move', async () => {
    const b = backend(true);
    const out = await scoreWithWasmFallback(
      ['a', 'b'],
      async (names) =>
        names.map((n) =>
          n === 'b' ? failed(n, 'backend_failed', b.onWebGpu() ? 'gpu failed' : 'wasm failed') : ok(n),
        ),
      b,
    );
    expect(b.moves).toEqual(['gpu failed']);
    expect(out).toEqual([ok('a'), failed('b', 'backend_failed', 'wasm failed')]);
  });
});
