// Graded results (with their thumbnails as Blobs) kept in IndexedDB until the
// user clears them, so a reload - online or offline - shows them again: the
// database, and the page's items saved to it, restored from it and removed from it.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ImageResult } from '../model/grading/result.ts';
import { addRestored, removeItems, setNotice, useStore, type Item } from './store.ts';

export interface StoredResult {
  id: string;
  /** Insertion order across sessions. */
  seq: number;
  name: string;
  prompt: string;
  result: ImageResult;
  thumbnail: Blob | null;
  width: number | null;
  height: number | null;
  /** Image embedding and its pack key (absent in results saved before they were kept). */
  features?: Float32Array | null;
  packKey?: string | null;
  gradedAt: number;
}

interface Schema extends DBSchema {
  results: { key: string; value: StoredResult; indexes: { seq: number } };
}

const DB_NAME = 'agqg-grader';
const DB_VERSION = 1;

let dbPromise: Promise<IDBPDatabase<Schema>> | null = null;

function db(): Promise<IDBPDatabase<Schema>> {
  dbPromise ??= openDB<Schema>(DB_NAME, DB_VERSION, {
    upgrade(d) {
      const store = d.createObjectStore('results', { keyPath: 'id' });
      store.createIndex('seq', 'seq');
    },
  });
  return dbPromise;
}

export async function loadResults(): Promise<StoredResult[]> {
  return (await db()).getAllFromIndex('results', 'seq');
}

/** One transaction for a batch's results (a transaction per image costs a main-thread round trip each). */
export async function saveResults(list: readonly StoredResult[]): Promise<void> {
  if (list.length === 0) return;
  const tx = (await db()).transaction('results', 'readwrite');
  await Promise.all([...list.map((r) => tx.store.put(r)), tx.done]);
}

export async function deleteResults(ids: readonly string[]): Promise<void> {
  const tx = (await db()).transaction('results', 'readwrite');
  await Promise.all([...ids.map((id) => tx.store.delete(id)), tx.done]);
}

export async function clearResults(): Promise<void> {
  await (await db()).clear('results');
}

/** Puts the saved results back on the page (a reload, online or offline, shows them again). */
export async function restoreItems(): Promise<void> {
  try {
    const stored = await loadResults();
    addRestored(
      stored.map((r) => ({
        id: r.id,
        name: r.name,
        prompt: r.prompt,
        status: r.result.error ? 'failed' : 'done',
        stage: null,
        result: r.result,
        thumbnail: r.thumbnail,
        width: r.width,
        height: r.height,
        file: null,
        features: r.features ?? null,
        packKey: r.packKey ?? null,
        regrading: false,
        problem: null,
      })),
      stored.map((r) => r.seq),
    );
  } catch (err) {
    setNotice({ kind: 'error', text: `Saved results could not be read: ${(err as Error).message}` });
  }
}

/** Saves the items' results in one IndexedDB transaction. */
export async function saveItems(list: readonly (Item | undefined)[]): Promise<void> {
  const rows: StoredResult[] = [];
  for (const it of list) {
    if (!it?.result) continue;
    rows.push({
      id: it.id,
      seq: it.seq,
      name: it.name,
      prompt: it.prompt,
      result: it.result,
      thumbnail: it.thumbnail,
      width: it.width,
      height: it.height,
      features: it.features,
      packKey: it.packKey,
      gradedAt: Date.now(),
    });
  }
  try {
    await saveResults(rows);
  } catch (err) {
    const names = rows.map((r) => r.name);
    const what =
      names.length === 1
        ? names[0]
        : `${names.length} results (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', …' : ''})`;
    setNotice({ kind: 'error', text: `Could not save ${what}: ${(err as Error).message}` });
  }
}

/** Removes the items from the page and their results from the database. */
export async function deleteItems(ids: readonly string[]): Promise<void> {
  removeItems(ids);
  await deleteResults(ids);
}

/** Removes every finished result, from the page and from the database. */
export async function clearAll(): Promise<void> {
  const s = useStore.getState();
  const done = s.order.filter((id) => s.items[id].status === 'done' || s.items[id].status === 'failed');
  removeItems(done);
  await clearResults();
}
