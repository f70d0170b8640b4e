// Graded results (with their thumbnails as Blobs) kept in IndexedDB until the
// user clears them, so a reload - online or offline - shows them again.
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import type { ImageResult } from '../model/grading/result.ts';

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
