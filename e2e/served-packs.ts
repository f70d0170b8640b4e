// Packs a test adds to the served build for its own run (the preview server
// serves E2E_DIST as it is on disk), listed in models/index.json, and removed again.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { E2E_DIST } from './env.ts';

interface Listing {
  id: string;
  name: string;
  description: string;
}

const INDEX = resolve(E2E_DIST, 'models', 'index.json');

/** Copies `dir` to models/<id>/ and lists it; the returned function undoes both. */
export function servePack(dir: string, listing: Listing): () => void {
  const target = resolve(E2E_DIST, 'models', listing.id);
  rmSync(target, { recursive: true, force: true });
  cpSync(dir, target, { recursive: true });
  const before = readFileSync(INDEX, 'utf8');
  const list = (JSON.parse(before) as Listing[]).filter((p) => p.id !== listing.id);
  writeFileSync(INDEX, JSON.stringify([...list, listing], null, 2));
  return () => {
    rmSync(target, { recursive: true, force: true });
    const now = (JSON.parse(readFileSync(INDEX, 'utf8')) as Listing[]).filter((p) => p.id !== listing.id);
    writeFileSync(INDEX, JSON.stringify(now, null, 2));
  };
}
