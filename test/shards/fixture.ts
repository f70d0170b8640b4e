// Shards made at test time from ../shared AGIQA-3K images: sample k is
// `{key}.jpg` + `{key}.txt` (its prompt) + `{key}.json` (a url), keys 000000000...
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferIO } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { parseCsvTable } from '../../src/model/util/csv.ts';
import { csvRow } from '../../src/model/util/csv.ts';
import type { ScoreRecord } from '../../src/cli/shards/records.ts';
import { sharedPath } from '../shared.ts';
import { writeShard, type Member } from './make-shard.ts';

export const AGIQA_NEEDS = ['datasets/agiqa-3k/labels.csv', 'datasets/agiqa-3k/images', 'fixtures/tiny-clip'];

export interface Item {
  key: string;
  image: string;
  prompt: string;
}

export function agiqaItems(n: number, offset = 0): Item[] {
  const table = parseCsvTable(readFileSync(sharedPath('datasets/agiqa-3k/labels.csv'), 'utf8'));
  return table.rows.slice(offset, offset + n).map((r, i) => ({
    key: String(offset + i).padStart(9, '0'),
    image: sharedPath('datasets/agiqa-3k/images', r.name),
    prompt: r.prompt,
  }));
}

export const itemMembers = (it: Item): Member[] => [
  { name: `${it.key}.jpg`, data: readFileSync(it.image) },
  { name: `${it.key}.txt`, data: it.prompt },
  {
    name: `${it.key}.json`,
    data: JSON.stringify({ key: it.key, url: `https://example.com/${it.key}.jpg`, status: 'success' }),
  },
];

/** Shards `dir/{0..}.tar` of `per` items each. */
export async function writeShards(dir: string, items: readonly Item[], per: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i * per < items.length; i++) {
    const path = join(dir, `${String(i).padStart(5, '0')}.tar`);
    await writeShard(path, items.slice(i * per, (i + 1) * per).flatMap(itemMembers));
    paths.push(path);
  }
  return paths;
}

/** The same items as plain files `dir/{key}.jpg` with a prompts CSV, for scoring directly. */
export function writeFiles(dir: string, items: readonly Item[]): { files: string[]; prompts: string } {
  mkdirSync(dir, { recursive: true });
  const files = items.map((it) => {
    const f = join(dir, `${it.key}.jpg`);
    copyFileSync(it.image, f);
    return f;
  });
  const prompts = join(dir, 'prompts.csv');
  writeFileSync(
    prompts,
    `name,prompt\n${items.map((it) => csvRow([`${it.key}.jpg`, it.prompt])).join('\n')}\n`,
  );
  return { files, prompts };
}

export async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIO();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

export const readJsonl = (path: string): ScoreRecord[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as ScoreRecord);
