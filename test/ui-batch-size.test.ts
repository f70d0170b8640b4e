// Images per encoder run on the page (src/ui/runner.ts batchSize): ?batch=N wins, then what the
// loaded pack's manifest asks for on the backend in use (the worker puts it in the pack summary),
// then the page's default; a bad ?batch= is reported and ignored.
import { beforeEach, describe, expect, it } from 'vitest';
import { batchSize } from '../src/ui/runner';
import { useStore } from '../src/ui/store';
import type { PackSummary } from '../src/worker/api';

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
    expect(useStore.getState().notice).toMatchObject({ kind: 'error', text: expect.stringContaining('?batch=0 is not a positive whole number') });
  });
});
