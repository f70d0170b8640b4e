// public/models/index.json: the packs the page offers ([{id, name, description}],
// read by the worker's listPacks, src/worker/packs.ts). Merged, never clobbered: other
// entries keep their order and fields; an index in the {packs: [...]} form
// stays in that form. Written to a temp file and renamed.
import { readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { AgqgError } from '../../model/errors.ts';

export interface IndexEntry {
  id: string;
  name: string;
  description: string;
}

const Entry = z
  .object({ id: z.string().min(1), name: z.string().min(1), description: z.string().default('') })
  .passthrough();
const Bare = z.array(Entry);
const Wrapped = z.object({ packs: Bare }).passthrough();

/** Adds or replaces `entry` (by id); returns the index as written. */
export async function upsertIndexEntry(indexFile: string, entry: IndexEntry): Promise<unknown> {
  let text: string | null = null;
  try {
    text = await readFile(indexFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let json: unknown = [];
  if (text !== null) {
    try {
      json = JSON.parse(text) as unknown;
    } catch (err) {
      throw new AgqgError(
        'invalid_argument',
        `${indexFile} is not valid JSON (${(err as Error).message}); fix or delete it`,
      );
    }
  }
  const merge = (list: IndexEntry[]): IndexEntry[] => {
    const i = list.findIndex((p) => p.id === entry.id);
    if (i === -1) return [...list, entry];
    const copy = [...list];
    copy[i] = { ...copy[i], ...entry };
    return copy;
  };
  let out: unknown;
  const bare = Bare.safeParse(json);
  const wrapped = bare.success ? null : Wrapped.safeParse(json);
  if (bare.success) out = merge(bare.data);
  else if (wrapped?.success) out = { ...wrapped.data, packs: merge(wrapped.data.packs) };
  else {
    throw new AgqgError(
      'invalid_argument',
      `${indexFile} is not a list of {id, name, description} (nor {packs: [...]}); fix or delete it, it is not overwritten`,
    );
  }
  const tmp = `${indexFile}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(out, null, 2)}\n`);
  await rename(tmp, indexFile);
  return out;
}
