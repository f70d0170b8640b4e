// The page's URL parameters for running the model (src/ui/url-params.ts). Images per encoder run
// (batchSize): ?batch=N wins, then what the loaded pack's manifest asks for on the backend in use
// (the worker puts it in the pack summary), then the page's default; a bad ?batch= is reported and
// ignored. Session options (ortTuning): ?ort=key:value,... for measuring them; unknown parts are
// reported and ignored, the rest still apply.
import { beforeEach, describe, expect, it } from 'vitest';
import { batchSize, ortTuning } from '../../src/ui/url-params.ts';
import { useStore } from '../../src/ui/store.ts';
import type { PackSummary } from '../../src/worker/api.ts';

const initial = useStore.getState();

describe('batchSize', () => {
  beforeEach(() => useStore.setState(initial, true));

  it('takes ?batch= over the pack, the pack over the default', () => {
    expect(batchSize('?batch=3', 1)).toBe(3);
    expect(batchSize('', 1)).toBe(1);
    expect(batchSize('?backend=wasm', 5)).toBe(5);
    const fallback = batchSize('', null);
    expect(fallback).toBeGreaterThan(1);
    expect(batchSize('?batch=2', null)).toBe(2);
  });

  it('reads the loaded pack from the store when not given one', () => {
    expect(batchSize('')).toBe(batchSize('', null));
    useStore.setState({ pack: { imagesPerRun: 1 } as PackSummary });
    expect(batchSize('')).toBe(1);
    expect(batchSize('?batch=4')).toBe(4);
  });

  it('says a bad ?batch= and falls back to the pack', () => {
    expect(batchSize('?batch=0', 1)).toBe(1);
    expect(useStore.getState().notice).toMatchObject({
      kind: 'error',
      text: expect.stringContaining('?batch=0 is not a positive whole number'),
    });
  });
});

describe('ortTuning', () => {
  beforeEach(() => useStore.setState(initial, true));

  it('is undefined without ?ort=, so the worker keeps its defaults', () => {
    expect(ortTuning('')).toBeUndefined();
    expect(ortTuning('?ort=')).toBeUndefined();
  });

  it('reads every key it knows', () => {
    expect(ortTuning('?ort=graph:basic,mempattern:0,arena:1,mode:parallel,spin:1,fix.batch:8')).toEqual({
      graphOptimizationLevel: 'basic',
      enableMemPattern: false,
      enableCpuMemArena: true,
      executionMode: 'parallel',
      allowSpinning: true,
      freeDimensionOverrides: { batch: 8 },
    });
    expect(ortTuning('?ort=spin:0')).toEqual({ allowSpinning: false });
    expect(useStore.getState().notice).toBeNull();
  });

  it('says what it does not know and keeps the rest', () => {
    expect(ortTuning('?ort=spin:yes,graph:fast,arena:0,fix.batch:0')).toEqual({ enableCpuMemArena: false });
    expect(useStore.getState().notice).toMatchObject({
      kind: 'error',
      text: '?ort= does not know spin:yes, graph:fast, fix.batch:0; ignored.',
    });
  });
});
