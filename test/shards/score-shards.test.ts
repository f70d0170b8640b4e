// agqg score --shards / --out on the tiny-clip pack over shards made from
// ../shared images: same numbers as scoring the files, bad samples, Parquet
// read back by an independent reader (arrow-rs through parquet-wasm), resume,
// summary, and an unwritable or full --out.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';
import { beforeAll, expect, it } from 'vitest';
import { ResultsFileSchema } from '../../src/model/grading/result.ts';
import { describeShared, ROOT } from '../shared.ts';
import { TINY } from '../tiny-pack.ts';
import { agiqaItems, AGIQA_NEEDS, itemMembers, readJsonl, run, writeFiles, writeShards } from './fixture.ts';
import { writeShard } from './make-shard.ts';

describeShared('agqg score --shards', AGIQA_NEEDS, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-shards-'));
  const items = agiqaItems(12);
  let shards: string[] = [];
  beforeAll(async () => {
    shards = await writeShards(join(tmp, 'shards'), items, 6);
  });

  it('gives each sample the numbers `agqg score --json` gives its file, with key, shard and url', async () => {
    const out = join(tmp, 'out-jsonl');
    const r = await run(
      'score',
      '--pack',
      TINY(),
      '--shards',
      join(tmp, 'shards/{00000..00001}.tar'),
      '--out',
      out,
    );
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['00000.jsonl', '00001.jsonl']);
    const records = [...readJsonl(join(out, '00000.jsonl')), ...readJsonl(join(out, '00001.jsonl'))];
    expect(records.map((x) => x.key)).toEqual(items.map((it) => it.key));
    const { files, prompts } = writeFiles(join(tmp, 'files'), items);
    const direct = await run('score', '--pack', TINY(), ...files, '--prompts', prompts, '--json');
    expect(direct.code, direct.err).toBe(0);
    const doc = ResultsFileSchema.parse(JSON.parse(direct.out));
    records.forEach((rec, i) => {
      expect(rec.shard).toBe(i < 6 ? '00000.tar' : '00001.tar');
      expect(rec.url).toBe(`https://example.com/${rec.key}.jpg`);
      expect(rec.prompt).toBe(items[i].prompt);
      expect(rec.error).toBeNull();
      // Identical numbers: same decoder, same preprocessing, same batches.
      expect(rec.quality).toEqual(doc.results[i].quality);
      expect(rec.alignment).toEqual(doc.results[i].alignment);
      expect(rec.alignment).not.toBeNull();
    });
  });

  it('gives a bad sample an error record and goes on; a damaged tar ends with one record saying where', async () => {
    const [a, b] = agiqaItems(2, 20);
    const jpeg = readFileSync(a.image);
    const path = join(tmp, 'bad/bad.tar');
    mkdirSync(join(tmp, 'bad'), { recursive: true });
    await writeShard(path, [
      ...itemMembers(a),
      { name: 'trunc.jpg', data: jpeg.subarray(0, jpeg.byteLength >> 2) },
      { name: 'text.jpg', data: 'not an image at all' },
      { name: 'noimage.txt', data: 'a caption alone' },
      { name: 'badjson.jpg', data: jpeg },
      { name: 'badjson.json', data: '{"url": ' },
      ...itemMembers(b),
      { name: 'last.jpg', data: Buffer.alloc(40_000, 7) },
    ]);
    // Cut inside the last member: the tar is damaged after b's sample.
    const { truncateSync, statSync } = await import('node:fs');
    truncateSync(path, statSync(path).size - 30_000);
    const out = join(tmp, 'out-bad');
    const r = await run('score', '--pack', TINY(), '--shards', path, '--out', out);
    expect(r.code).toBe(1);
    const recs = readJsonl(join(out, 'bad.jsonl'));
    const byKey = new Map(recs.map((x) => [x.key, x]));
    expect(recs.map((x) => x.key)).toEqual([a.key, 'trunc', 'text', 'noimage', 'badjson', b.key, null]);
    expect(byKey.get(a.key)?.quality).not.toBeNull();
    expect(byKey.get(b.key)?.quality).not.toBeNull();
    expect(byKey.get('trunc')?.error?.code).toBe('decode_failed');
    expect(byKey.get('text')?.error?.code).toBe('unsupported_format');
    expect(byKey.get('noimage')?.error).toMatchObject({
      code: 'unsupported_format',
      message: expect.stringContaining('no image member'),
    });
    expect(byKey.get('badjson')?.error?.message).toContain('badjson.json is not valid JSON');
    expect(byKey.get(null)?.error?.message).toMatch(
      /bad\.tar: the shard cannot be read past sample 6 \(Unexpected end of data\)/,
    );
    expect(r.err).toContain('5 failed');
  });

  it('writes Parquet that an independent reader reads back with the same values', async () => {
    const out = join(tmp, 'out-parquet');
    const r = await run(
      'score',
      '--pack',
      TINY(),
      '--shards',
      join(tmp, 'shards/*.tar'),
      '--out',
      out,
      '--format',
      'parquet',
    );
    expect(r.code, r.err).toBe(0);
    const jsonl = [
      ...readJsonl(join(tmp, 'out-jsonl/00000.jsonl')),
      ...readJsonl(join(tmp, 'out-jsonl/00001.jsonl')),
    ];
    const rows = ['00000', '00001'].flatMap((s) => {
      const table = tableFromIPC(
        readParquet(new Uint8Array(readFileSync(join(out, `${s}.parquet`)))).intoIPCStream(),
      );
      return table.toArray().map((row) => row.toJSON() as Record<string, unknown>);
    });
    expect(rows).toHaveLength(jsonl.length);
    rows.forEach((row, i) => {
      const j = jsonl[i];
      expect(row.key).toBe(j.key);
      expect(row.shard).toBe(j.shard);
      expect(row.url).toBe(j.url);
      expect(row.prompt).toBe(j.prompt);
      expect(row.quality_score).toBe(j.quality?.score);
      expect(row.quality_grade).toBe(j.quality?.grade);
      expect(row.quality_grade_index).toBe(j.quality?.gradeIndex);
      expect(row.quality_ability).toBe(j.quality?.ability);
      expect([1, 2, 3, 4, 5].map((k) => row[`quality_p${k}`])).toEqual(j.quality?.probabilities);
      expect(row.quality_uncalibrated).toBe(true);
      expect(row.alignment_score).toBe(j.alignment?.score);
      expect(row.error_code).toBeNull();
    });
    const s = await run('summary', out, '--json');
    expect(JSON.parse(s.out)).toMatchObject({ outputs: 2, records: 12, scored: 12, failed: 0 });
  });

  it('skips finished shards on a rerun and says how many; --overwrite redoes them', async () => {
    const out = join(tmp, 'out-jsonl');
    const before = readFileSync(join(out, '00000.jsonl'), 'utf8');
    const again = await run('score', '--pack', TINY(), '--shards', join(tmp, 'shards/*.tar'), '--out', out);
    expect(again.code).toBe(0);
    expect(again.err).toContain('skipped 2 of 2 shards whose output is already in');
    expect(again.err).not.toContain('note:'); // the pack is not even loaded
    const redo = await run(
      'score',
      '--pack',
      TINY(),
      '--shards',
      join(tmp, 'shards/*.tar'),
      '--out',
      out,
      '--overwrite',
    );
    expect(redo.code).toBe(0);
    expect(redo.err).toContain('2 shard(s) written');
    expect(readJsonl(join(out, '00000.jsonl')).map((x) => x.quality)).toEqual(
      before
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).quality),
    );
  });

  it('summarises a finished folder and lists the keys at or above --min-quality', async () => {
    const out = join(tmp, 'out-jsonl');
    const recs = [...readJsonl(join(out, '00000.jsonl')), ...readJsonl(join(out, '00001.jsonl'))];
    const scores = recs.map((x) => x.quality?.score ?? Number.NaN).sort((p, q) => p - q);
    const cut = scores[6];
    const expected = recs.filter((x) => (x.quality?.score ?? -Infinity) >= cut).map((x) => x.key);
    const s = await run('summary', out, '--min-quality', String(cut));
    expect(s.out.trim().split('\n')).toEqual(expected);
    const viaScore = await run(
      'score',
      '--pack',
      TINY(),
      '--shards',
      join(tmp, 'shards/*.tar'),
      '--out',
      out,
      '--min-quality',
      String(cut),
    );
    expect(viaScore.out.trim().split('\n')).toEqual(expected);
    const text = await run('summary', out);
    expect(text.out).toContain(`${out}: 2 output file(s), 12 records: 12 scored, 0 failed`);
    const grades = new Map<string, number>();
    for (const x of recs) grades.set(x.quality?.grade ?? '', (grades.get(x.quality?.grade ?? '') ?? 0) + 1);
    for (const [g, n] of grades) expect(text.out).toMatch(new RegExp(`\\n  ${g}\\s+${n}\\s`));
    const bad = await run('summary', join(tmp, 'out-bad'), '--json');
    expect(JSON.parse(bad.out)).toMatchObject({ records: 7, failed: 5 });
  });

  it('streams file inputs into DIR/results.jsonl and skips the files already there', async () => {
    const { files, prompts } = writeFiles(join(tmp, 'files'), items);
    const out = join(tmp, 'out-files');
    const first = await run(
      'score',
      '--pack',
      TINY(),
      ...files.slice(0, 5),
      '--prompts',
      prompts,
      '--out',
      out,
    );
    expect(first.code, first.err).toBe(0);
    const second = await run('score', '--pack', TINY(), ...files, '--prompts', prompts, '--out', out);
    expect(second.err).toContain('skipped 5 of 12 files already in');
    const recs = readJsonl(join(out, 'results.jsonl'));
    expect(recs.map((x) => x.file)).toEqual(files);
    expect(recs.map((x) => x.key)).toEqual(files);
  });

  it('refuses bad flag combinations with usage errors', async () => {
    const cases: [string[], string][] = [
      [['--shards', 'x.tar'], '--shards needs --out DIR'],
      [['--shards', 'x.tar', '--out', tmp, 'a.jpg'], 'give either IMAGE... or --shards, not both'],
      [['--shards', 'x.tar', '--out', tmp, '--format', 'csv'], '--format is jsonl or parquet'],
      [['a.jpg', '--out', tmp, '--format', 'parquet'], '--format parquet writes one file per shard'],
      [['a.jpg', '--min-quality', '3'], '--min-quality goes with --out DIR'],
      [['--shards', 'x.tar', '--out', tmp, '--json'], '--json and --csv are for stdout'],
      [['--shards', 'x.tar', '--out', tmp, '--shard-count', '3'], "needs this worker's index"],
    ];
    for (const [args, message] of cases) {
      const r = await run('score', '--pack', TINY(), ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(message);
    }
  });

  it('stops with exit 2 on an unwritable --out, before loading the pack', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'x');
    const r = await run('score', '--pack', TINY(), '--shards', shards[0], '--out', join(file, 'sub'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot create the output folder .*a-file\/sub \(ENOTDIR/);
    expect(r.err).not.toContain('note:');
  });

  it('stops with exit 2 when --out fills up mid-shard, leaving nothing under a final name', async () => {
    const out = join(tmp, 'out-full');
    mkdirSync(out);
    // A file size limit of 4 KiB on the process (SIGXFSZ ignored, so writes fail with EFBIG):
    // the first shard's output (6 records of ~1.2 KB) cannot be written whole.
    const cmd = `trap '' XFSZ; ulimit -f 4; exec "${process.execPath}" bin/agqg.js score --pack "${TINY()}" --shards "${join(tmp, 'shards/*.tar')}" --out "${out}" --quiet`;
    const r = await promisify(execFile)('bash', ['-c', cmd], { cwd: ROOT }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/cannot write .*00000\.jsonl.* \(EFBIG.*no output was left half-written/);
    expect(readdirSync(out)).toEqual([]);
    expect(existsSync(join(out, '00000.jsonl'))).toBe(false);
  });
});
