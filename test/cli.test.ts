// The agqg CLI, run in-process through main() (and once through bin/agqg.js),
// on the tiny-clip fixture and temporary folders made from the shared data.
import { execFile } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIO } from '../src/cli/io.ts';
import { main } from '../src/cli/main.ts';
import { csvRow, parseCsv, parseCsvTable } from '../src/model/util/csv.ts';
import { AgqgError } from '../src/model/errors.ts';
import { ResultsFileSchema } from '../src/model/grading/result.ts';
import { describeShared, ROOT, sharedPath } from './shared.ts';
import { loadRefs, REFS, TINY, type Refs } from './tiny-pack.ts';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIO();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe('CSV parser', () => {
  it('reads quoted fields with commas, doubled quotes and newlines, CRLF and a BOM', () => {
    const text = '\uFEFFname,prompt\r\na.jpg,"a cat, sitting"\r\n"b.jpg","say ""hi""\nand bye"\n';
    expect(parseCsv(text)).toEqual([
      ['name', 'prompt'],
      ['a.jpg', 'a cat, sitting'],
      ['b.jpg', 'say "hi"\nand bye'],
    ]);
  });

  it('keeps empty fields, a quoted empty field and a last row without newline', () => {
    expect(parseCsv('a,,c\n"",x,\nlast,row,here')).toEqual([
      ['a', '', 'c'],
      ['', 'x', ''],
      ['last', 'row', 'here'],
    ]);
  });

  it('round-trips what csvRow writes', () => {
    const values = ['plain', 'comma, inside', 'quote " inside', 'new\nline', ' padded ', ''];
    expect(parseCsv(`${csvRow(values)}\n`)).toEqual([values]);
  });

  it('reports an unclosed quote, text after a closing quote and a stray quote with their line', () => {
    expect(() => parseCsv('a,b\n"open,c\nd', 'x.csv')).toThrow(
      'x.csv: the quoted field opened on line 2 is never closed',
    );
    expect(() => parseCsv('a,"b"c\n', 'x.csv')).toThrow('x.csv line 1: text after a closing quote');
    expect(() => parseCsv('a\nb"c\n', 'x.csv')).toThrow('x.csv line 2: a quote inside an unquoted field');
  });

  it('checks a table: field counts per row and duplicate columns', () => {
    const t = parseCsvTable('name,prompt\nx.jpg,"p, q"\n\n');
    expect(t.rows).toEqual([{ name: 'x.jpg', prompt: 'p, q' }]);
    expect(() => parseCsvTable('a,b\n1,2,3\n', 'l.csv')).toThrow(
      'l.csv: data row 1 has 3 fields, the header has 2',
    );
    expect(() => parseCsvTable('a,a\n1,2\n', 'l.csv')).toThrow('column "a" appears twice');
    expect(() => parseCsvTable('', 'l.csv')).toThrow(AgqgError);
  });
});

describe('agqg usage', () => {
  it('lists commands, and exits 2 on an unknown command or a missing option', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    for (const name of ['score', 'eval', 'embed', 'tokenize', 'preprocess'])
      expect(top.out).toContain(`  ${name}`);
    const unknown = await run('grade');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown command "grade"');
    const noPack = await run('score', 'x.jpg');
    expect(noPack.code).toBe(2);
    expect(noPack.err).toContain('agqg score: --pack is required');
    const badFlag = await run('score', '--pack', 'p', '--bogus', 'x.jpg');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toContain("Unknown option '--bogus'");
    expect(badFlag.err).toContain('agqg score --help');
  });

  it.each(['score', 'eval', 'embed', 'tokenize', 'preprocess'])('prints help for %s', async (name) => {
    const r = await run(name, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`agqg ${name} --pack DIR`);
  });

  it('says when the pack folder does not exist', async () => {
    const r = await run('tokenize', '--pack', join(tmpdir(), 'no-such-agqg-pack'), 'hi');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[pack_invalid\] pack folder .*no-such-agqg-pack does not exist/);
  });
});

describeShared('agqg on tiny-clip', ['fixtures/tiny-clip', 'fixtures/tiny-clip-refs/refs.json'], () => {
  let refs: Refs;
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-cli-'));
  beforeAll(() => {
    refs = loadRefs();
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('tokenize --json gives the reference ids and masks', async () => {
    const r = await run('tokenize', '--pack', TINY(), '--json', ...refs.prompts.map((p) => p.text));
    expect(r.code, r.err).toBe(0);
    const items = JSON.parse(r.out) as { text: string; inputIds: number[]; attentionMask: number[] }[];
    expect(items).toHaveLength(refs.prompts.length);
    refs.prompts.forEach((p, i) => {
      expect(items[i].inputIds, JSON.stringify(p.text)).toEqual(p.input_ids);
      expect(items[i].attentionMask, JSON.stringify(p.text)).toEqual(p.attention_mask);
    });
  });

  it('bin/agqg.js runs the CLI as a program', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(ROOT, 'bin/agqg.js'), 'tokenize', '--pack', TINY(), '--json', 'statue of a man'],
      {
        cwd: ROOT,
      },
    );
    const [item] = JSON.parse(stdout) as { inputIds: number[] }[];
    expect(item.inputIds).toEqual(refs.prompts.find((p) => p.text === 'statue of a man')?.input_ids);
  });

  it('bin/agqg.js survives a very long argument (onnxruntime-node crashed on a 40 KB --prompt)', async () => {
    const prompt = 'a cat '.repeat(7000);
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        join(ROOT, 'bin/agqg.js'),
        'score',
        '--pack',
        TINY(),
        '--json',
        '--prompt',
        prompt,
        REFS('images/pub_chelsea.png'),
      ],
      { cwd: ROOT, maxBuffer: 1 << 24 },
    );
    const [r] = (
      JSON.parse(stdout) as {
        results: { prompt: string; quality: unknown; alignmentError: { code: string } | null }[];
      }
    ).results;
    expect(r.prompt).toBe(prompt);
    expect(r.quality).not.toBeNull();
    expect(r.alignmentError?.code).toBe('prompt_too_long');
  });

  it('preprocess writes the reference float32 tensor for a PNG, bit for bit', async () => {
    for (const name of ['pub_chelsea', 'pub_alpha']) {
      const ref = refs.images.find((x) => x.file.endsWith(`${name}.png`));
      if (!ref) throw new Error(`${name} not in refs`);
      const out = join(tmp, `${name}.f32`);
      const r = await run('preprocess', '--pack', TINY(), REFS(ref.file), '--out', out);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toContain('pixel_values float32 [1,3,224,224]');
      const got = readFileSync(out);
      const want = readFileSync(REFS(ref.pixel_values));
      expect(got.byteLength).toBe(want.byteLength);
      expect(got.equals(want), `${name}: preprocessed bytes differ from the reference`).toBe(true);
    }
  });

  it('preprocess names the inputs when --input is wrong', async () => {
    const r = await run(
      'preprocess',
      '--pack',
      TINY(),
      REFS('images/pub_tiny.png'),
      '--out',
      join(tmp, 'x.f32'),
      '--input',
      'pixels',
    );
    expect(r.code).toBe(2);
    expect(r.err).toContain('has no vision input "pixels" (it has pixel_values)');
  });

  describe('score', () => {
    const dir = join(tmp, 'mixed');
    const good = ['pub_tiny.png', 'pub_midjourney_normal_010.jpg'];
    beforeAll(() => {
      mkdirSync(dir, { recursive: true });
      for (const g of good) copyFileSync(REFS('images', g), join(dir, g));
      writeFileSync(join(dir, 'empty.jpg'), '');
      writeFileSync(join(dir, 'notes.jpg'), 'this is a text file named like an image\n');
      const jpeg = readFileSync(REFS('images/pub_AttnGAN_normal_171.jpg'));
      writeFileSync(join(dir, 'truncated.jpg'), jpeg.subarray(0, Math.floor(jpeg.byteLength / 3)));
    });

    it('gives error entries for bad files, results for the others, and exit code 1', async () => {
      const missing = join(tmp, 'missing.png');
      const r = await run('score', '--pack', TINY(), dir, missing, '--prompt', 'a photo of a cat', '--json');
      expect(r.code).toBe(1);
      const doc = ResultsFileSchema.parse(JSON.parse(r.out));
      expect(doc.pack.id).toBe('tiny-clip');
      const byName = new Map(doc.results.map((x) => [x.file.split('/').pop(), x]));
      expect([...byName.keys()].sort()).toEqual(
        [...good, 'empty.jpg', 'notes.jpg', 'truncated.jpg', 'missing.png'].sort(),
      );
      expect(byName.get('empty.jpg')?.error?.code).toBe('empty_file');
      expect(byName.get('notes.jpg')?.error?.code).toBe('unsupported_format');
      expect(byName.get('truncated.jpg')?.error?.code).toBe('decode_failed');
      expect(byName.get('missing.png')?.error).toMatchObject({
        code: 'not_found',
        message: `${missing} does not exist`,
      });
      for (const g of good) {
        const x = byName.get(g);
        expect(x?.error, g).toBeNull();
        expect(x?.quality?.uncalibrated).toBe(true);
        expect(x?.alignment?.probabilities.reduce((s, p) => s + p, 0)).toBeCloseTo(1, 9);
        expect(x?.prompt).toBe('a photo of a cat');
      }
      expect(r.err).toContain('4 of 6 images failed');
    });

    it('writes CSV that quotes prompts with commas, quotes and newlines, matched by --prompts', async () => {
      const prompts = join(tmp, 'prompts.csv');
      const tricky = 'a "cat", on a mat\nsecond line';
      writeFileSync(
        prompts,
        `name,prompt\n${csvRow([good[0], tricky])}\n${csvRow([good[1], 'plain prompt'])}\n`,
      );
      const r = await run(
        'score',
        '--pack',
        TINY(),
        ...good.map((g) => join(dir, g)),
        '--prompts',
        prompts,
        '--csv',
      );
      expect(r.code, r.err).toBe(0);
      const rows = parseCsv(r.out);
      expect(rows).toHaveLength(3);
      const header = rows[0];
      expect(header.slice(0, 4)).toEqual(['file', 'pack', 'prompt', 'quality_score']);
      const col = (name: string) => header.indexOf(name);
      expect(rows[1][col('prompt')]).toBe(tricky);
      expect(rows[2][col('prompt')]).toBe('plain prompt');
      for (const row of rows.slice(1)) {
        expect(row).toHaveLength(header.length);
        expect(Number(row[col('quality_score')])).toBeGreaterThanOrEqual(0);
        expect(Number(row[col('quality_score')])).toBeLessThanOrEqual(5);
        expect(row[col('error_code')]).toBe('');
      }
    });

    it('says clearly when the pack has no head', async () => {
      const visionOnly = join(tmp, 'vision-only');
      mkdirSync(join(visionOnly, 'onnx'), { recursive: true });
      for (const f of ['config.json', 'preprocessor_config.json', 'onnx/vision_model.onnx'])
        symlinkSync(TINY(f), join(visionOnly, f));
      const r = await run('score', '--pack', visionOnly, join(dir, good[0]));
      expect(r.code).toBe(2);
      expect(r.err).toContain('pack vision-only has no quality head (it has no text encoder');
    });
  });
});

describeShared('agqg eval', ['fixtures/tiny-clip', 'datasets/agiqa-3k/labels.csv'], () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-eval-'));
  const data = join(tmp, 'data');
  const LIMIT = 6;
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  beforeAll(() => {
    // 12 rows spread over the dataset (several generators), linked, not copied.
    const text = readFileSync(sharedPath('datasets/agiqa-3k/labels.csv'), 'utf8');
    const table = parseCsvTable(text);
    const rows = Array.from({ length: 12 }, (_, i) => table.rows[Math.floor((i * table.rows.length) / 12)]);
    mkdirSync(join(data, 'images'), { recursive: true });
    for (const r of rows)
      symlinkSync(sharedPath('datasets/agiqa-3k/images', r.name), join(data, 'images', r.name));
    writeFileSync(
      join(data, 'labels.csv'),
      [csvRow(table.header), ...rows.map((r) => csvRow(table.header.map((h) => r[h])))].join('\n'),
    );
  });

  it('prints quality and alignment metrics side by side with a per-generator table', async () => {
    const r = await run('eval', '--pack', TINY(), '--data', data, '--limit', String(LIMIT));
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain(`${LIMIT} of 12 images, 0 failed`);
    expect(r.out).toMatch(/metric\s+quality\s+alignment/);
    expect(r.out).toMatch(/SRCC\s+-?\d\.\d{3}\s+-?\d\.\d{3}/);
    expect(r.out).toMatch(/generator\s+n\s+q SRCC\s+q PLCC\s+a SRCC\s+a PLCC/);
  });

  it('--json metrics agree with the per-image scores of agqg score and a hand-computed SRCC', async () => {
    const r = await run('eval', '--pack', TINY(), '--data', data, '--limit', String(LIMIT), '--json');
    expect(r.code, r.err).toBe(0);
    type Pred = {
      name: string;
      generator: string;
      quality: number;
      alignment: number;
      mosQuality: number;
      mosAlign: number;
    };
    const doc = JSON.parse(r.out) as {
      evaluated: number;
      quality: { n: number; srcc: number; groups: { name: string }[] };
      alignment: { n: number; srcc: number };
      predictions: Pred[];
    };
    expect(doc.evaluated).toBe(LIMIT);
    expect(doc.quality.n).toBe(LIMIT);
    expect(doc.alignment.n).toBe(LIMIT);
    // Zero-shot heads use defaults above the a*d bound: every quality and alignment distribution is unimodal.
    const shape = (JSON.parse(r.out) as { unimodal: { graded: number; unimodal: number } }).unimodal;
    expect(shape).toEqual({ graded: 2 * LIMIT, unimodal: 2 * LIMIT, notUnimodal: [] });
    const gens = new Set(doc.predictions.map((p) => p.generator));
    expect(gens.size).toBeGreaterThan(1);
    expect(doc.quality.groups.map((g) => g.name).sort()).toEqual([...gens].sort());

    // Same images and prompts through `agqg score`: identical scores.
    const labels = parseCsvTable(readFileSync(join(data, 'labels.csv'), 'utf8')).rows;
    const promptsCsv = join(tmp, 'prompts.csv');
    writeFileSync(
      promptsCsv,
      [csvRow(['name', 'prompt']), ...labels.map((l) => csvRow([l.name, l.prompt]))].join('\n'),
    );
    const s = await run(
      'score',
      '--pack',
      TINY(),
      '--prompts',
      promptsCsv,
      '--json',
      ...doc.predictions.map((p) => join(data, 'images', p.name)),
    );
    expect(s.code, s.err).toBe(0);
    const results = ResultsFileSchema.parse(JSON.parse(s.out)).results;
    doc.predictions.forEach((p, i) => {
      expect(results[i].quality?.score).toBeCloseTo(p.quality, 9);
      expect(results[i].alignment?.score).toBeCloseTo(p.alignment, 9);
      expect(p.mosQuality).toBe(Number(labels.find((l) => l.name === p.name)?.mos_quality));
    });

    // Spearman without ties: 1 - 6 sum d^2 / (n (n^2 - 1)).
    const rank = (v: number[]) => v.map((x) => v.filter((y) => y < x).length + 1);
    const spearman = (a: number[], b: number[]) => {
      const ra = rank(a);
      const rb = rank(b);
      const n = a.length;
      return 1 - (6 * ra.reduce((s2, x, i) => s2 + (x - rb[i]) ** 2, 0)) / (n * (n * n - 1));
    };
    expect(doc.quality.srcc).toBeCloseTo(
      spearman(
        doc.predictions.map((p) => p.quality),
        doc.predictions.map((p) => p.mosQuality),
      ),
      9,
    );
    expect(doc.alignment.srcc).toBeCloseTo(
      spearman(
        doc.predictions.map((p) => p.alignment),
        doc.predictions.map((p) => p.mosAlign),
      ),
      9,
    );
  });

  it('refuses an unknown --target and a folder without labels.csv', async () => {
    const bad = await run('eval', '--pack', TINY(), '--data', data, '--target', 'mos');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--target must be one of mos_quality, mos_align, both');
    const none = await run('eval', '--pack', TINY(), '--data', tmp);
    expect(none.code).toBe(2);
    expect(none.err).toContain('images is not a folder');
  });
});
