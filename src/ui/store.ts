// The page's one store. Components select the narrowest slice they need
// (one item by id, one flag), so a result arriving re-renders one card.
import { create } from 'zustand';
import type { ErrorInfo } from '../model/errors.ts';
import type { ImageResult } from '../model/grading/result.ts';
import type { PackListing, PackSummary } from '../worker/api.ts';
import type { BackendInfo } from '../worker/ort-web.ts';
import type { PickedFile } from './files.ts';
import { baseName } from './prompts.ts';
import { initialCalibration, type CalibrationSlice } from './calibration/slice.ts';

export type ItemStatus = 'staged' | 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface Item {
  id: string;
  /** Order of arrival, kept across reloads. */
  seq: number;
  name: string;
  prompt: string;
  status: ItemStatus;
  stage: 'decode' | 'score' | null;
  result: ImageResult | null;
  /** Shown through a data: URL read only while a card or the comparison draws it (thumbs.ts). */
  thumbnail: Blob | null;
  width: number | null;
  height: number | null;
  /** The original file, while this page session has it (not persisted). */
  file: File | null;
  /** The image embedding and the pack/weights that made it: a new prompt is graded from it, not from the image. */
  features: Float32Array | null;
  packKey: string | null;
  /** A new prompt is being graded from the kept embedding. */
  regrading: boolean;
  /** Set when the image never reached the worker or was dropped (cancelled). */
  problem: ErrorInfo | null;
}

export type SortKey = 'added' | 'quality-desc' | 'quality-asc' | 'alignment-desc' | 'alignment-asc' | 'name';
export type StatusFilter = 'all' | 'graded' | 'errors';
export type OfflineState = 'unsupported' | 'waiting' | 'caching' | 'ready' | 'failed';

export interface Notice {
  kind: 'info' | 'error';
  text: string;
}

export interface StoreState {
  packs: PackListing[];
  pack: PackSummary | null;
  /** The served pack being loaded or loaded ('' for a local folder). */
  packChoice: string;
  packStatus: 'idle' | 'loading' | 'ready' | 'error';
  packProgress: string | null;
  packError: ErrorInfo | null;
  backend: BackendInfo | null;
  backendNote: string | null;
  offline: OfflineState;
  offlineDetail: string | null;

  order: string[];
  items: Record<string, Item>;
  nextSeq: number;
  batchPrompt: string;
  running: boolean;
  cancelling: boolean;
  /** Images in the current (or last) run and how many of them have finished. */
  runTotal: number;
  runDone: number;

  sort: SortKey;
  gradeFilter: string;
  statusFilter: StatusFilter;
  /** Part of a file name the results must contain (case-insensitive); '' for all. */
  nameFilter: string;
  compare: string[];
  notice: Notice | null;
  /** The calibration view (src/ui/calibration). */
  calibration: CalibrationSlice;
}

export const MAX_COMPARE = 4;

let idCounter = 0;
export const newId = (): string =>
  `${Date.now().toString(36)}-${(idCounter++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

const initial: StoreState = {
  packs: [],
  pack: null,
  packChoice: '',
  packStatus: 'idle',
  packProgress: null,
  packError: null,
  backend: null,
  backendNote: null,
  offline: 'waiting',
  offlineDetail: null,
  order: [],
  items: {},
  nextSeq: 0,
  batchPrompt: '',
  running: false,
  cancelling: false,
  runTotal: 0,
  runDone: 0,
  sort: 'added',
  gradeFilter: 'all',
  statusFilter: 'all',
  nameFilter: '',
  compare: [],
  notice: null,
  calibration: initialCalibration,
};

export const useStore = create<StoreState>()(() => initial);

const set = useStore.setState;
const get = useStore.getState;

export function patchItem(id: string, patch: Partial<Item>): void {
  patchItems([[id, patch]]);
}

/**
 * Several items changed in one store update: a message bringing a batch of results re-runs the
 * selectors and re-renders once, not once per image.
 */
export function patchItems(patches: ReadonlyArray<readonly [string, Partial<Item>]>): void {
  set((s) => {
    let items: Record<string, Item> | null = null;
    for (const [id, patch] of patches) {
      const cur = (items ?? s.items)[id];
      if (!cur) continue;
      // An embedding is kept only to grade a new prompt from it, which needs a text encoder. Without
      // one (the default pack's features are ~28k floats, 111 kB an image) it would only fill memory
      // and IndexedDB; a prompt edited there is graded from the file again.
      const p = patch.features && s.pack && !s.pack.hasText ? { ...patch, features: null } : patch;
      items ??= { ...s.items };
      items[id] = { ...cur, ...p };
    }
    return items ? { items } : s;
  });
}

/** New staged items for picked images; prompts come from the batch prompt unless a CSV assigns them later. */
export function stageFiles(files: readonly PickedFile[]): string[] {
  const s = get();
  const items = { ...s.items };
  const ids: string[] = [];
  let seq = s.nextSeq;
  for (const f of files) {
    const id = newId();
    ids.push(id);
    items[id] = {
      id,
      seq: seq++,
      name: baseName(f.path),
      prompt: s.batchPrompt,
      status: 'staged',
      stage: null,
      result: null,
      thumbnail: null,
      width: null,
      height: null,
      file: f.file,
      features: null,
      packKey: null,
      regrading: false,
      problem: null,
    };
  }
  set({ items, order: [...s.order, ...ids], nextSeq: seq });
  return ids;
}

export function addRestored(list: Omit<Item, 'seq'>[], seqs: number[]): void {
  const s = get();
  const items = { ...s.items };
  const order = [...s.order];
  list.forEach((it, i) => {
    if (items[it.id]) return;
    items[it.id] = { ...it, seq: seqs[i] };
    order.push(it.id);
  });
  const maxSeq = Math.max(s.nextSeq - 1, ...seqs);
  set({ items, order, nextSeq: maxSeq + 1 });
}

export function setPrompt(id: string, prompt: string): void {
  patchItem(id, { prompt });
}

export function setBatchPrompt(prompt: string): void {
  set({ batchPrompt: prompt });
}

/** Gives every staged image the batch prompt. */
export function applyBatchPrompt(): number {
  const s = get();
  const items = { ...s.items };
  let n = 0;
  for (const id of s.order) {
    if (items[id].status !== 'staged') continue;
    items[id] = { ...items[id], prompt: s.batchPrompt };
    n++;
  }
  set({ items });
  return n;
}

/** Assigns prompts by file name to staged images; returns how many matched. */
export function applyPromptMap(prompts: ReadonlyMap<string, string>): number {
  const s = get();
  const items = { ...s.items };
  let n = 0;
  for (const id of s.order) {
    const it = items[id];
    if (it.status !== 'staged') continue;
    const p = prompts.get(it.name);
    if (p === undefined) continue;
    items[id] = { ...it, prompt: p };
    n++;
  }
  set({ items });
  return n;
}

export function removeItems(ids: readonly string[]): void {
  const drop = new Set(ids);
  const s = get();
  const items = { ...s.items };
  for (const id of ids) delete items[id];
  set({
    items,
    order: s.order.filter((id) => !drop.has(id)),
    compare: s.compare.filter((id) => !drop.has(id)),
  });
}

export function toggleCompare(id: string): void {
  set((s) => {
    if (s.compare.includes(id)) return { compare: s.compare.filter((x) => x !== id) };
    if (s.compare.length >= MAX_COMPARE) {
      return {
        notice: { kind: 'info', text: `Compare shows at most ${MAX_COMPARE} images; unselect one first.` },
      };
    }
    return { compare: [...s.compare, id] };
  });
}

export const setSort = (sort: SortKey): void => set({ sort });
export const setGradeFilter = (gradeFilter: string): void => set({ gradeFilter });
export const setStatusFilter = (statusFilter: StatusFilter): void => set({ statusFilter });
export const setNameFilter = (nameFilter: string): void => set({ nameFilter });
export const clearCompare = (): void => set({ compare: [] });
export const setNotice = (notice: Notice | null): void => set({ notice });

// ---------------------------------------------------------------------------
// Derived views (pure; components memoise on the slices they pass in)

export const isFinished = (it: Item): boolean => it.status === 'done' || it.status === 'failed';
export const hasError = (it: Item): boolean =>
  it.status === 'failed' || it.result?.error != null || it.problem != null;

function scoreOf(it: Item, head: 'quality' | 'alignment'): number | null {
  return it.result?.[head]?.score ?? null;
}

/** Ids of finished (or cancelled) items after filter and sort. */
export function visibleIds(
  order: readonly string[],
  items: Readonly<Record<string, Item>>,
  sort: SortKey,
  gradeFilter: string,
  statusFilter: StatusFilter,
  nameFilter = '',
): string[] {
  const needle = nameFilter.trim().toLowerCase();
  const list = order
    .map((id) => items[id])
    .filter((it) => it && it.status !== 'staged')
    .filter((it) => {
      if (statusFilter === 'graded' && (hasError(it) || it.status !== 'done')) return false;
      if (statusFilter === 'errors' && !hasError(it)) return false;
      if (gradeFilter !== 'all' && it.result?.quality?.grade !== gradeFilter) return false;
      if (needle && !it.name.toLowerCase().includes(needle)) return false;
      return true;
    });
  const byScore = (head: 'quality' | 'alignment', dir: 1 | -1) => (a: Item, b: Item) => {
    const x = scoreOf(a, head);
    const y = scoreOf(b, head);
    // Unscored images go last whichever way the scores run.
    if (x === null && y === null) return a.seq - b.seq;
    if (x === null) return 1;
    if (y === null) return -1;
    return dir * (x - y) || a.seq - b.seq;
  };
  const cmp: Record<SortKey, (a: Item, b: Item) => number> = {
    added: (a, b) => a.seq - b.seq,
    name: (a, b) => a.name.localeCompare(b.name) || a.seq - b.seq,
    'quality-desc': byScore('quality', -1),
    'quality-asc': byScore('quality', 1),
    'alignment-desc': byScore('alignment', -1),
    'alignment-asc': byScore('alignment', 1),
  };
  return list.sort(cmp[sort]).map((it) => it.id);
}

// ---------------------------------------------------------------------------
// Selectors for components. A result arriving changes `items`, so every
// subscriber's selector runs on every result: they return plain values or
// arrays compared item by item (useShallow), and a component re-renders only
// when what it shows changed.

/** Recomputes `f` only when one of the inputs `keys` picks from the state changed (by identity). */
function memoOn<T>(
  keys: (s: StoreState) => readonly unknown[],
  f: (s: StoreState) => T,
): (s: StoreState) => T {
  let last: readonly unknown[] | null = null;
  let value: T;
  return (s) => {
    const k = keys(s);
    const prev = last;
    if (!prev || k.length !== prev.length || k.some((x, i) => x !== prev[i])) {
      last = k;
      value = f(s);
    }
    return value;
  };
}

/** Ids the results grid shows (finished images, filtered and sorted); recomputed when the items or the view change. */
export const selectResultIds = memoOn(
  (s) => [s.order, s.items, s.sort, s.gradeFilter, s.statusFilter, s.nameFilter],
  (s) =>
    visibleIds(s.order, s.items, s.sort, s.gradeFilter, s.statusFilter, s.nameFilter).filter((id) =>
      isFinished(s.items[id]),
    ),
);

/** The grid's sort and filters as one value: what the user picked, as opposed to results arriving. */
export const selectView = (s: StoreState): string =>
  [s.sort, s.gradeFilter, s.statusFilter, s.nameFilter].join('\u0000');

const IN_QUEUE: ReadonlySet<ItemStatus> = new Set(['staged', 'queued', 'running', 'cancelled']);

export interface Summary {
  /** Ids in the queue table (not yet finished), in order added. */
  queue: string[];
  staged: number;
  cancelled: number;
  /** Images with a finished result (graded or failed). */
  finished: number;
  /** Images with a result to export. */
  withResult: number;
}

/**
 * Every count the page shows, from one pass over the images per change of the list: each store
 * update runs every subscriber's selector, and separate passes per counter made each result's
 * update cost O(images) several times over.
 */
export const selectSummary = memoOn(
  (s) => [s.order, s.items],
  (s): Summary => {
    const out: Summary = { queue: [], staged: 0, cancelled: 0, finished: 0, withResult: 0 };
    for (const id of s.order) {
      const it = s.items[id];
      if (!it) continue;
      if (IN_QUEUE.has(it.status)) out.queue.push(id);
      if (it.status === 'staged') out.staged++;
      else if (it.status === 'cancelled') out.cancelled++;
      if (isFinished(it)) out.finished++;
      if (it.result) out.withResult++;
    }
    return out;
  },
);

/** How many images have a finished result (graded or failed). */
export const selectFinishedCount = (s: StoreState): number => selectSummary(s).finished;

/** How many images have a result to export. */
export const selectResultCount = (s: StoreState): number => selectSummary(s).withResult;

/** Quality grade labels seen in the results (with the pack's own first). */
export const selectGradeLabels = memoOn(
  (s) => [s.order, s.items, s.pack],
  (s): string[] => {
    const seen = new Set<string>(s.pack?.labels ?? []);
    for (const id of s.order) for (const l of s.items[id]?.result?.quality?.labels ?? []) seen.add(l);
    return [...seen];
  },
);
