// The page's store (src/ui/store.ts): a 100-image intake is queued and counted
// whole, a batch of results lands as one update, and the counters the page
// subscribes to are computed once per change of the list and agree with a
// direct count.
import { beforeEach, describe, expect, it } from 'vitest';
import {
  patchItems,
  selectFinishedCount,
  selectGradeLabels,
  selectResultCount,
  selectResultIds,
  selectSummary,
  stageFiles,
  useStore,
  type Item,
  type StoreState,
} from '../../src/ui/store.ts';
import type { ImageResult } from '../../src/model/grading/result.ts';

const initial = useStore.getState();

function picked(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    path: `folder/img_${String(i).padStart(3, '0')}.jpg`,
    file: new File([new Uint8Array([i])], `img_${i}.jpg`),
  }));
}

/** A result whose only meaningful part here is the quality grade's label. */
function result(file: string, grade: string): ImageResult {
  return {
    file,
    quality: { grade, labels: ['bad', 'poor', 'fair', 'good', 'excellent', grade] },
    error: null,
  } as unknown as ImageResult;
}

const count = (s: StoreState, f: (it: Item) => boolean) => s.order.filter((id) => f(s.items[id])).length;

describe('store', () => {
  beforeEach(() => useStore.setState(initial, true));

  it('stages 100 files in order, each once, all counted as queued', () => {
    const ids = stageFiles(picked(100));
    const s = useStore.getState();
    expect(ids.length).toBe(100);
    expect(new Set(ids).size).toBe(100);
    expect(s.order).toEqual(ids);
    expect(ids.map((id) => s.items[id].name)).toEqual(picked(100).map((p) => p.path.split('/')[1]));
    expect(ids.map((id) => s.items[id].seq)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    const sum = selectSummary(s);
    expect(sum.queue).toEqual(ids);
    expect(sum.staged).toBe(100);
    expect(sum.cancelled + sum.finished + sum.withResult).toBe(0);
  });

  it('applies a batch of results as one store update, and the counters follow', () => {
    const ids = stageFiles(picked(100));
    let updates = 0;
    const off = useStore.subscribe(() => updates++);
    const first8 = ids.slice(0, 8);
    patchItems(
      first8.map(
        (id, i) =>
          [
            id,
            { status: i === 3 ? 'failed' : 'done', result: result(`img_${i}.jpg`, i === 5 ? 'odd' : 'good') },
          ] as const,
      ),
    );
    off();
    expect(updates).toBe(1);
    const s = useStore.getState();
    expect(selectFinishedCount(s)).toBe(8);
    expect(selectFinishedCount(s)).toBe(count(s, (it) => it.status === 'done' || it.status === 'failed'));
    expect(selectResultCount(s)).toBe(count(s, (it) => it.result !== null));
    expect(selectSummary(s).queue).toEqual(ids.slice(8));
    expect(selectSummary(s).staged).toBe(92);
    expect(selectResultIds(s)).toEqual(first8);
    expect(selectGradeLabels(s)).toEqual(['bad', 'poor', 'fair', 'good', 'excellent', 'odd']);
  });

  it('ignores patches for removed ids and makes no update when nothing applies', () => {
    stageFiles(picked(3));
    const before = useStore.getState();
    patchItems([['no-such-id', { status: 'done' }]]);
    expect(useStore.getState()).toBe(before);
  });

  it('computes the summary once per change of the list, not once per subscriber', () => {
    stageFiles(picked(10));
    const s = useStore.getState();
    const a = selectSummary(s);
    // Another state object with the same list (e.g. a notice set) gets the same answer object.
    useStore.setState({ notice: { kind: 'info', text: 'x' } });
    expect(selectSummary(useStore.getState())).toBe(a);
    patchItems([[s.order[0], { status: 'queued' }]]);
    const b = selectSummary(useStore.getState());
    expect(b).not.toBe(a);
    expect(b.staged).toBe(9);
    expect(b.queue.length).toBe(10);
  });
});
