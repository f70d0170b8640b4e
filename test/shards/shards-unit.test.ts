// The parts of `agqg score --shards` that need no model: WebDataset grouping,
// samples into jobs, shard list expansion, worker slots from scheduler variables,
// atomic outputs and the JSONL reader that resumes file runs.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/cli/args.ts';
import { FileResults, scanJsonl } from '../../src/cli/shards/file-results.ts';
import { JsonlOutput, tempPathFor } from '../../src/cli/shards/outputs.ts';
import type { ScoreRecord } from '../../src/cli/shards/records.ts';
import { sampleJob } from '../../src/cli/shards/samples-to-jobs.ts';
import { checkOutputNames, expandShardSpecs, outputPath } from '../../src/cli/shards/shard-list.ts';
import { readShardSamples, splitMemberName, type ShardSample } from '../../src/cli/shards/tar-samples.ts';
import { resolveWorker, shardsOf } from '../../src/cli/shards/workers.ts';
import { writeShard } from './make-shard.ts';

const tmp = mkdtempSync(join(tmpdir(), 'agqg-shards-unit-'));
const collect = async (path: string): Promise<ShardSample[]> => {
  const out: ShardSample[] = [];
  for await (const s of readShardSamples(path)) out.push(s);
  return out;
};
const rec = (file: string): ScoreRecord =>
  ({
    key: file,
    shard: null,
    url: null,
    file,
    packId: 'p',
    prompt: null,
    quality: null,
    alignment: null,
    qualityNote: null,
    alignmentNote: null,
    alignmentError: null,
    timings: {},
    backend: null,
    error: null,
  }) as ScoreRecord;

describe('WebDataset grouping', () => {
  it('splits member names as webdataset base_plus_ext does', () => {
    expect(splitMemberName('000001.jpg')).toEqual({ key: '000001', ext: 'jpg' });
    expect(splitMemberName('a/b/000001.Seg.PNG')).toEqual({ key: 'a/b/000001', ext: 'seg.png' });
    expect(splitMemberName('dir.d/file.txt')).toEqual({ key: 'dir.d/file', ext: 'txt' });
    expect(splitMemberName('noext')).toBeNull();
    expect(splitMemberName('.hidden.txt')).toBeNull();
  });

  it('groups consecutive members by key, skips folders, links and __meta__, and reports duplicates', async () => {
    const path = join(tmp, 'group.tar');
    await writeShard(path, [
      { name: '__index__', data: 'meta' },
      { name: 'dir', data: '', type: 'directory' },
      { name: 'k1.jpg', data: 'JPG1' },
      { name: 'k1.TXT', data: 'caption one' },
      { name: 'link.jpg', data: 'k1.jpg', type: 'symlink' },
      { name: 'k2.png', data: 'PNG2' },
      { name: 'k2.png', data: 'again' },
      { name: 'k3.json', data: '{}' },
      { name: 'k3.txt', data: '' },
    ]);
    const samples = await collect(path);
    expect(samples.map((s) => s.key)).toEqual(['k1', 'k2', 'k3']);
    expect(new TextDecoder().decode(samples[0].members.get('txt'))).toBe('caption one');
    expect(samples[1].duplicate).toBe('k2.png');
    expect(samples[2].refused.get('txt')?.code).toBe('empty_file');
  });

  it('yields the samples before damage, then throws for a truncated tar', async () => {
    const path = join(tmp, 'cut.tar');
    await writeShard(
      path,
      [
        { name: 'a.jpg', data: 'x'.repeat(600) },
        { name: 'b.jpg', data: 'y'.repeat(600) },
        { name: 'c.jpg', data: 'z'.repeat(5000) },
      ],
      // Cut inside c.jpg's data (a cut exactly between members reads as a shorter tar, as with GNU tar).
      512 * 6 + 700,
    );
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const s of readShardSamples(path)) seen.push(s.key);
      })(),
    ).rejects.toThrow();
    expect(seen).toEqual(['a', 'b']);
  });

  it('turns samples into jobs: image choice, prompt from txt then json prompt/caption, url, errors', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    const sample = (m: Record<string, string>): ShardSample => ({
      key: 'k',
      members: new Map(Object.entries(m).map(([k, v]) => [k, enc(v)])),
      refused: new Map(),
      duplicate: null,
    });
    const a = sampleJob(
      sample({ png: 'P', jpg: 'J', txt: ' a cat \n', json: '{"url":"https://e/x.jpg","caption":"c"}' }),
      's.tar',
    );
    expect(a).toMatchObject({ key: 'k', file: 's.tar/k.jpg', prompt: 'a cat', url: 'https://e/x.jpg' });
    expect(new TextDecoder().decode(a.bytes)).toBe('J');
    expect(sampleJob(sample({ webp: 'W', json: '{"prompt":"p","caption":"c"}' }), 's.tar')).toMatchObject({
      file: 's.tar/k.webp',
      prompt: 'p',
    });
    expect(sampleJob(sample({ png: 'P', json: '{"caption":"c"}' }), 's.tar').prompt).toBe('c');
    expect(sampleJob(sample({ png: 'P' }), 's.tar').prompt).toBeNull();
    const noImage = sampleJob(sample({ txt: 't', mp4: 'v' }), 's.tar');
    expect(noImage.error).toMatchObject({
      code: 'unsupported_format',
      message: expect.stringContaining('it has txt, mp4'),
    });
    expect(sampleJob(sample({ jpg: 'J', json: '{bad' }), 's.tar').error).toMatchObject({
      code: 'decode_failed',
      message: expect.stringContaining('s.tar/k.json is not valid JSON'),
    });
  });
});

describe('shard lists', () => {
  it('expands brace ranges with padding, lists, globs (sorted numerically) and @files, each once', async () => {
    const d = join(tmp, 'list');
    mkdirSync(d, { recursive: true });
    for (const n of ['s-2.tar', 's-10.tar', 's-1.tar']) writeFileSync(join(d, n), '');
    expect(await expandShardSpecs(['x/{000008..000011}.tar'])).toEqual([
      'x/000008.tar',
      'x/000009.tar',
      'x/000010.tar',
      'x/000011.tar',
    ]);
    expect(await expandShardSpecs(['{a,b}/{1..2}.tar'])).toEqual([
      'a/1.tar',
      'a/2.tar',
      'b/1.tar',
      'b/2.tar',
    ]);
    expect((await expandShardSpecs([join(d, 's-*.tar')])).map((p) => p.split('/').pop())).toEqual([
      's-1.tar',
      's-2.tar',
      's-10.tar',
    ]);
    const list = join(d, 'list.txt');
    writeFileSync(list, `# shards\nx/a.tar\n\nx/{1..2}.tar\nx/a.tar\n`);
    expect(await expandShardSpecs([`@${list}`])).toEqual(['x/a.tar', 'x/1.tar', 'x/2.tar']);
    await expect(expandShardSpecs([join(d, 'none-*.tar')])).rejects.toThrow('matches no file');
    await expect(expandShardSpecs(['@/no/such/list'])).rejects.toThrow(UsageError);
  });

  it('names outputs after shards and refuses two shards with one output name', () => {
    expect(outputPath('/o', 'data/shard-000001.tar', 'jsonl')).toBe('/o/shard-000001.jsonl');
    expect(outputPath('/o', 'data/x.tar.gz', 'parquet')).toBe('/o/x.parquet');
    expect(() => checkOutputNames(['a/00000.tar', 'b/00000.tar'])).toThrow('would both write 00000.*');
  });
});

describe('worker slots', () => {
  const all = Array.from({ length: 10 }, (_, i) => i);
  it('gives shard i to worker i mod N, every shard to exactly one worker', () => {
    const got = [0, 1, 2].flatMap((index) => shardsOf(all, { index, count: 3, from: 'test' }));
    expect(got.sort((a, b) => a - b)).toEqual(all);
    expect(shardsOf(all, { index: 1, count: 3, from: 't' })).toEqual([1, 4, 7]);
  });

  it('reads the index from each scheduler and the count from the flag or Slurm', () => {
    expect(resolveWorker({}, {})).toMatchObject({ index: 0, count: 1 });
    expect(resolveWorker({ index: '2', count: '4' }, {})).toMatchObject({ index: 2, count: 4 });
    expect(resolveWorker({ count: '5' }, { JOB_COMPLETION_INDEX: '3' })).toMatchObject({
      index: 3,
      count: 5,
    });
    expect(
      resolveWorker(
        {},
        { SLURM_ARRAY_TASK_ID: '13', SLURM_ARRAY_TASK_MIN: '10', SLURM_ARRAY_TASK_COUNT: '4' },
      ),
    ).toMatchObject({ index: 3, count: 4 });
    expect(
      resolveWorker(
        {},
        {
          SLURM_ARRAY_TASK_ID: '8',
          SLURM_ARRAY_TASK_MIN: '0',
          SLURM_ARRAY_TASK_STEP: '4',
          SLURM_ARRAY_TASK_COUNT: '3',
        },
      ),
    ).toMatchObject({ index: 2, count: 3 });
    expect(resolveWorker({ count: '2' }, { AWS_BATCH_JOB_ARRAY_INDEX: '1' })).toMatchObject({
      index: 1,
      count: 2,
    });
    // The flag wins over the environment.
    expect(resolveWorker({ index: '0', count: '2' }, { JOB_COMPLETION_INDEX: '1' })).toMatchObject({
      index: 0,
    });
  });

  it('refuses a missing or inconsistent index with a usage error that says what to give', () => {
    expect(() => resolveWorker({ count: '4' }, {})).toThrow(/needs this worker's index/);
    expect(() => resolveWorker({ index: '1' }, {})).toThrow(/give --shard-count/);
    expect(() => resolveWorker({}, { JOB_COMPLETION_INDEX: '1' })).toThrow(/give --shard-count/);
    expect(() => resolveWorker({ count: '2' }, { JOB_COMPLETION_INDEX: '2' })).toThrow(
      /not below the worker count 2/,
    );
    expect(() => resolveWorker({ count: '2' }, { JOB_COMPLETION_INDEX: 'x' })).toThrow(/whole number/);
    expect(() =>
      resolveWorker({}, { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '2' }),
    ).toThrow(/not on the array's range/);
    expect(() => resolveWorker({ index: '-1', count: '2' }, {})).toThrow(UsageError);
  });
});

describe('outputs', () => {
  it('keeps a final name only for complete outputs: commit renames, abort leaves nothing', () => {
    const d = join(tmp, 'atomic');
    mkdirSync(d, { recursive: true });
    const ok = new JsonlOutput(join(d, 'a.jsonl'));
    ok.add(rec('x'));
    expect(existsSync(join(d, 'a.jsonl'))).toBe(false);
    expect(existsSync(tempPathFor(join(d, 'a.jsonl')))).toBe(true);
    ok.commit();
    expect(readFileSync(join(d, 'a.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    const bad = new JsonlOutput(join(d, 'b.jsonl'));
    bad.add(rec('y'));
    bad.abort();
    expect(readdirSync(d)).toEqual(['a.jsonl']);
  });

  it('resumes a file run: a torn last line is cut off, whole records are kept', async () => {
    const d = join(tmp, 'resume');
    mkdirSync(d, { recursive: true });
    const line = (f: string) => `${JSON.stringify(rec(f))}\n`;
    writeFileSync(join(d, 'results.jsonl'), `${line('a.jpg')}${line('b.jpg')}{"key":"c.jp`);
    const r = await FileResults.open(d, false);
    expect([...r.done.keys()]).toEqual(['a.jpg', 'b.jpg']);
    r.add(rec('c.jpg'));
    r.close();
    const files: string[] = [];
    await scanJsonl(join(d, 'results.jsonl'), (x) => files.push(x.file));
    expect(files).toEqual(['a.jpg', 'b.jpg', 'c.jpg']);
    writeFileSync(join(d, 'results.jsonl'), `${line('a.jpg')}not json\n${line('b.jpg')}`);
    await expect(FileResults.open(d, false)).rejects.toThrow('line 2 is not a JSON record');
  });
});
