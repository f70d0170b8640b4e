// Packs kept in this browser (a calibration saved from the page): their own
// files in IndexedDB (database "agqg-packs", apart from the page's results), the
// encoder read from the base pack served with the site (cached for offline use
// with it), every file checked against the manifest's hashes when read.
import { AgqgError } from '../model/errors.ts';
import { BasedPackSource } from '../model/pack/based-source.ts';
import { MANIFEST_FILE, parseManifest, type Manifest } from '../model/pack/manifest.ts';
import type { PackSource } from '../model/pack/pack.ts';
import { HttpPackSource } from './pack-sources.ts';

const DB_NAME = 'agqg-packs';
const DB_VERSION = 1;
const STORE = 'packs';

export interface SavedPackRecord {
  id: string;
  name: string;
  /** The pack's own files (manifest.json, the head, its report). */
  files: Record<string, Uint8Array>;
  savedAt: string;
}

export interface SavedPackInfo {
  id: string;
  name: string;
  description: string;
  baseId: string | null;
  mode: string | null;
  ratings: number | null;
  savedAt: string;
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

let dbPromise: Promise<IDBDatabase> | null = null;

function db(): Promise<IDBDatabase> {
  dbPromise ??= new Promise((resolve, reject) => {
    const open = indexedDB.open(DB_NAME, DB_VERSION);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'id' });
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(new AgqgError('internal', `IndexedDB ${DB_NAME}: ${open.error?.message}`));
  });
  return dbPromise;
}

async function tx<T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const t = (await db()).transaction(STORE, mode);
  const r = await request(f(t.objectStore(STORE)));
  await new Promise<void>((resolve, reject) => {
    t.oncomplete = () => resolve();
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error ?? new AgqgError('internal', 'IndexedDB transaction aborted'));
  });
  return r;
}

function manifestOf(rec: SavedPackRecord): Manifest {
  const bytes = rec.files[MANIFEST_FILE];
  if (!bytes) throw new AgqgError('pack_invalid', `saved pack "${rec.id}" has no ${MANIFEST_FILE}`);
  return parseManifest(JSON.parse(new TextDecoder().decode(bytes)), `saved pack "${rec.name}"`);
}

function info(rec: SavedPackRecord): SavedPackInfo {
  const m = manifestOf(rec);
  const t = (m.provenance.training?.quality ?? {}) as { mode?: string; ratings?: number };
  return {
    id: rec.id,
    name: rec.name,
    description: m.description,
    baseId: m.base?.id ?? null,
    mode: t.mode ?? null,
    ratings: t.ratings ?? null,
    savedAt: rec.savedAt,
  };
}

export async function listSavedPacks(): Promise<SavedPackInfo[]> {
  const all = await tx('readonly', (s) => s.getAll() as IDBRequest<SavedPackRecord[]>);
  return all.sort((a, b) => a.savedAt.localeCompare(b.savedAt)).map(info);
}

export async function getSavedPack(id: string): Promise<SavedPackRecord | null> {
  return ((await tx('readonly', (s) => s.get(id))) as SavedPackRecord | undefined) ?? null;
}

export async function putSavedPack(rec: SavedPackRecord): Promise<SavedPackInfo> {
  manifestOf(rec);
  await tx('readwrite', (s) => s.put(rec));
  return info(rec);
}

export async function deleteSavedPack(id: string): Promise<boolean> {
  const had = (await getSavedPack(id)) !== null;
  await tx('readwrite', (s) => s.delete(id));
  return had;
}

class RecordSource implements PackSource {
  readonly location: string;
  constructor(private readonly rec: SavedPackRecord) {
    this.location = `saved pack "${rec.name}"`;
  }
  async readBytes(path: string): Promise<Uint8Array | null> {
    return this.rec.files[path] ?? null;
  }
  async size(path: string): Promise<number | null> {
    return this.rec.files[path]?.byteLength ?? null;
  }
}

/** The source of a saved pack: its own files from IndexedDB, the base pack's from the site. */
export function savedPackSource(rec: SavedPackRecord): PackSource {
  const m = manifestOf(rec);
  return new BasedPackSource(new RecordSource(rec), m.base ? new HttpPackSource(m.base.id) : null, m);
}
