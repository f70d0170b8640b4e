// The calibration view's slice of the page's one store (StoreState.calibration)
// and its actions: ratings by key, pointer or CSV, the fit in the worker with
// progress and cancel, and keeping the result as a pack.
import * as Comlink from 'comlink';
import type { CalibrationMode } from '../../model/training/calibrate.ts';
import { MIN_RATINGS } from '../../model/training/calibrate.ts';
import type { FitOutcome, FitProgress } from '../../worker/calibration.ts';
import type { SavedPackInfo } from '../../worker/saved-packs.ts';
import { useStore, type Item } from '../store.ts';
import type { CalibrationSlice } from './slice.ts';
export type { CalibrationSlice, Rating } from './slice.ts';
import { scorer } from '../worker-client.ts';
import {
  defaultMode,
  gradeOnScale,
  gradeScale,
  parseRatingsCsv,
  type RatingScale,
  type RatingsCsv,
} from './ratings.ts';

const get = () => useStore.getState();
const patch = (p: Partial<CalibrationSlice>) =>
  useStore.setState((s) => ({ calibration: { ...s.calibration, ...p } }));

/** Graded images the view can rate: a quality result with an ability. */
export function rateable(items: Readonly<Record<string, Item>>, order: readonly string[]): Item[] {
  return order.map((id) => items[id]).filter((it) => it?.status === 'done' && it.result?.quality != null);
}

export function openCalibration(open = true): void {
  patch({ open });
  if (open) void refreshSaved();
}

export function rate(id: string, grade: number): void {
  const c = get().calibration;
  patch({ ratings: { ...c.ratings, [id]: { kind: 'grade', grade } } });
}

export function clearRating(id: string): void {
  const { [id]: _gone, ...rest } = get().calibration.ratings;
  patch({ ratings: rest });
}

export function setMode(mode: CalibrationMode | null): void {
  patch({ mode });
}

export function setScale(min: number, max: number): void {
  if (!(Number.isFinite(min) && Number.isFinite(max) && max > min)) {
    patch({ csvError: `The scale needs a lowest value below its highest (got ${min} and ${max}).` });
    return;
  }
  patch({ scale: { min, max, source: 'stated', why: 'as you stated it' }, csvError: null });
}

export async function loadRatingsCsv(file: File): Promise<void> {
  const s = get();
  const ids = new Map(rateable(s.items, s.order).map((it) => [it.name, it.id]));
  try {
    const parsed = parseRatingsCsv(await file.text(), file.name, ids);
    const ratings = { ...s.calibration.ratings };
    for (const m of parsed.matched) ratings[m.id] = { kind: 'value', value: m.value };
    const { matched, ...shown } = parsed;
    // A scale the person stated stays; otherwise the CSV's inferred one.
    const scale = s.calibration.scale?.source === 'stated' ? s.calibration.scale : parsed.scale;
    patch({
      ratings,
      csv: { ...shown, fileName: `${file.name} (${matched.length} matched)` },
      scale,
      csvError: null,
    });
  } catch (err) {
    patch({ csvError: `${file.name}: ${(err as Error).message}` });
  }
}

/** The scale the fit uses: the CSV's (stated or inferred), else the grades 1..K. */
export function effectiveScale(c: CalibrationSlice, K: number): RatingScale {
  return c.scale ?? gradeScale(K);
}

export function ratedCount(): number {
  const s = get();
  const ok = new Set(rateable(s.items, s.order).map((it) => it.id));
  return Object.keys(s.calibration.ratings).filter((id) => ok.has(id)).length;
}

export function chosenMode(c: CalibrationSlice, n: number): CalibrationMode | null {
  if (c.mode && n >= MIN_RATINGS[c.mode]) return c.mode;
  return defaultMode(n, true);
}

export async function fit(): Promise<void> {
  const s = get();
  const pack = s.pack;
  if (!pack) return;
  const K = pack.labels.length;
  const c = s.calibration;
  const scale = effectiveScale(c, K);
  const items = rateable(s.items, s.order);
  const rated = items
    .filter((it) => c.ratings[it.id])
    .map((it) => {
      const r = c.ratings[it.id];
      return {
        id: it.id,
        name: it.name,
        prompt: it.prompt,
        rating: r.kind === 'grade' ? gradeOnScale(r.grade, K, scale) : r.value,
        ability: it.result?.quality?.ability as number,
      };
    });
  const mode = chosenMode(c, rated.length);
  if (!mode) {
    patch({
      status: 'error',
      error: `There are ${rated.length} ratings; recalibrating needs at least ${MIN_RATINGS.recalibrate}.`,
    });
    return;
  }
  patch({ status: 'fitting', progress: 'Starting', error: null, saveMessage: null });
  const onProgress = (p: FitProgress) =>
    patch({ progress: `${p.line} (${(p.elapsedMs / 1000).toFixed(1)} s)` });
  const out = await scorer().fitCalibration(
    {
      mode,
      scale: { min: scale.min, max: scale.max },
      rated,
      batch: items.map((it) => ({ id: it.id, ability: it.result?.quality?.ability as number })),
    },
    Comlink.proxy(onProgress),
  );
  if (!out.ok) {
    patch({
      status: out.error.code === 'cancelled' ? 'idle' : 'error',
      error: out.error.code === 'cancelled' ? 'The fit was cancelled.' : out.error.message,
      progress: null,
    });
    return;
  }
  patch({ status: 'done', outcome: out.value, progress: null });
}

export async function cancelFit(): Promise<void> {
  await scorer().cancelCalibration();
}

export async function refreshSaved(): Promise<void> {
  const out = await scorer().listSavedPacks();
  if (out.ok) patch({ saved: out.value });
}

export async function savePack(name: string, onSaved: (info: SavedPackInfo) => void): Promise<void> {
  const out = await scorer().saveCalibration(name);
  if (!out.ok) {
    patch({ saveMessage: { kind: 'error', text: out.error.message } });
    return;
  }
  await refreshSaved();
  patch({
    saveMessage: { kind: 'info', text: `Saved "${out.value.name}" in this browser: pick it in Model pack.` },
  });
  onSaved(out.value);
}

export function askDelete(id: string | null): void {
  patch({ confirmDelete: id });
}

export async function deleteSaved(id: string, onDeleted: () => void): Promise<void> {
  const out = await scorer().deleteSavedPack(id);
  patch({ confirmDelete: null });
  if (!out.ok) {
    patch({ saveMessage: { kind: 'error', text: out.error.message } });
    return;
  }
  await refreshSaved();
  onDeleted();
}

export async function exportSaved(id: string): Promise<void> {
  const out = await scorer().exportPack(id);
  if (!out.ok) {
    patch({ saveMessage: { kind: 'error', text: out.error.message } });
    return;
  }
  const url = URL.createObjectURL(new Blob([out.value.zip as BlobPart], { type: 'application/zip' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = `${id}.zip`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
