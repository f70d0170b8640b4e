// The shard list a run works through, the same on every worker: brace
// expansion as WebDataset's braceexpand does it ({000000..009999} keeps its
// zero padding, {a,b} lists, nested), then globs (sorted, numbers in names
// compared as numbers), and `@FILE` for a file with one shard a line.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import braces from 'braces';
import { glob, isDynamicPattern } from 'tinyglobby';
import { UsageError } from '../args.ts';

const collator = new Intl.Collator('en', { numeric: true });
/** A brace range longer than this is a typo rather than a data set (ten million shards). */
const MAX_EXPANDED = 10_000_000;

async function expandOne(spec: string, from: string): Promise<string[]> {
  let paths: string[];
  try {
    paths = braces(spec, { expand: true, rangeLimit: MAX_EXPANDED });
  } catch (e) {
    throw new UsageError(`${from}: cannot expand "${spec}": ${(e as Error).message}`, 'score');
  }
  const out: string[] = [];
  for (const p of paths) {
    if (!isDynamicPattern(p)) {
      out.push(p);
      continue;
    }
    const hits = await glob(p, { onlyFiles: true, expandDirectories: false, absolute: false });
    if (hits.length === 0) throw new UsageError(`${from}: "${p}" matches no file`, 'score');
    out.push(...hits.sort(collator.compare));
  }
  return out;
}

/**
 * Every shard named by `specs`, in order, each once (a shard named twice keeps its first place:
 * positions decide which worker takes a shard, so they must not depend on duplicates).
 */
export async function expandShardSpecs(specs: readonly string[]): Promise<string[]> {
  const all: string[] = [];
  for (const spec of specs) {
    if (spec.startsWith('@')) {
      const listFile = spec.slice(1);
      const text = await readFile(listFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
        throw new UsageError(`--shards ${spec}: cannot read ${listFile} (${e.code ?? e.message})`, 'score');
      });
      for (const line of text.split(/\r?\n/)) {
        const t = line.trim();
        if (t && !t.startsWith('#')) all.push(...(await expandOne(t, listFile)));
      }
    } else {
      all.push(...(await expandOne(spec, '--shards')));
    }
  }
  const seen = new Set<string>();
  return all.filter((p) => !seen.has(p) && (seen.add(p), true));
}

/** `shard-000001.tar` -> `shard-000001` (also .tar.gz and .tgz). */
export function shardStem(shard: string): string {
  return basename(shard).replace(/(\.tar(\.gz)?|\.tgz)$/i, '');
}

export type OutputFormat = 'jsonl' | 'parquet';

export const outputPath = (outDir: string, shard: string, format: OutputFormat): string =>
  join(outDir, `${shardStem(shard)}.${format}`);

/** Two shards whose outputs would have one name (a/00000.tar and b/00000.tar) are refused up front. */
export function checkOutputNames(shards: readonly string[]): void {
  const byStem = new Map<string, string>();
  for (const s of shards) {
    const stem = shardStem(s);
    const other = byStem.get(stem);
    if (other !== undefined)
      throw new UsageError(
        `shards ${other} and ${s} would both write ${stem}.*; give each shard its own file name`,
        'score',
      );
    byStem.set(stem, s);
  }
}
