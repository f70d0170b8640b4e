// The hostile-input regression suite for `agqg score` (docs/cli.md quotes its
// summary line). The corpus is built here, at test time: crafted files
// (test/hostile-corpus.ts), FIFOs, dangling symlinks, symlink loops, nested
// folders, and broken or tampered copies of the default pack (built at install,
// nothing from ../shared). Each input must get its exact code, a message that
// names it as given, and the rest of the batch must be graded.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bufferIO } from '../src/cli/io.ts';
import { main } from '../src/cli/main.ts';
import { ERROR_CODE_INFO, ERROR_CODES, type ErrorCode } from '../src/model/errors.ts';
import { ResultsFileSchema, type ImageResult } from '../src/model/grading/result.ts';
import { buildHostileFiles, type HostileFile } from './hostile-corpus.ts';
import { ROOT } from './shared.ts';

const DEFAULT_PACK = join(ROOT, 'public', 'models', 'default');
const IS_ROOT = process.getuid?.() === 0;

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const io = bufferIO();
  const code = await main(argv, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** One input of the suite and what it got. */
interface Tried {
  input: string;
  expect: ErrorCode | 'graded';
  got: ErrorCode | 'graded' | 'crashed';
  clear: boolean;
}
const tried: Tried[] = [];

afterAll(() => {
  const errors = tried.filter((t) => t.expect !== 'graded' && t.got === t.expect && t.clear).length;
  const graded = tried.filter((t) => t.got === 'graded').length;
  const crashed = tried.filter((t) => t.got === 'crashed' || t.got === 'internal').length;
  console.log(
    `hostile suite (CLI): ${tried.length} inputs tried, ${errors} clear errors, ${graded} graded, ${crashed} crashed` +
      (IS_ROOT ? ' (permission-denied case not tried: running as root, which reads any file)' : ''),
  );
});

describe('hostile files, links and folders through agqg score', () => {
  let dir: string;
  let files: HostileFile[];
  /** Extra inputs made on the file system, each with the code it must get and what its message says. */
  const fsCases: { path: string; expect: ErrorCode; says: RegExp; what: string }[] = [];
  let results: Map<string, ImageResult>;
  let runOut: { code: number; out: string; err: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agqg-hostile-'));
    files = await buildHostileFiles();
    const top = join(dir, 'in');
    mkdirSync(join(top, 'nested', 'deeper'), { recursive: true });
    // Every crafted file at the top, and the good ones again two folders down (recursion must find them).
    for (const f of files) writeFileSync(join(top, f.name), f.bytes);
    for (const f of files.filter((x) => x.expect === 'graded' && !x.says).slice(0, 3))
      writeFileSync(join(top, 'nested', 'deeper', f.name), f.bytes);
    // A symbolic link loop between folders: read once, no endless walk.
    symlinkSync('..', join(top, 'nested', 'deeper', 'back-up'));
    const add = (name: string, expect: ErrorCode, says: RegExp, what: string): string => {
      const path = join(top, name);
      fsCases.push({ path, expect, says, what });
      return path;
    };
    symlinkSync(
      'nowhere.jpg',
      add(
        'dangling.jpg',
        'not_found',
        /is a symbolic link to nowhere\.jpg, which does not exist$/,
        'dangling symlink',
      ),
    );
    symlinkSync(
      'self-loop.png',
      add('self-loop.png', 'unreadable', /cannot be read: it is a symbolic link loop/, 'symlink loop'),
    );
    execFileSync('mkfifo', [
      add('pipe.png', 'not_a_file', /is a named pipe \(FIFO\), not a regular file$/, 'FIFO'),
    ]);
    if (!IS_ROOT) {
      const locked = add(
        'locked.jpg',
        'unreadable',
        /cannot be read: permission denied$/,
        'no read permission',
      );
      writeFileSync(locked, files[0].bytes);
      chmodSync(locked, 0);
    }
    const missing = join(dir, 'gone.png');
    fsCases.push({
      path: missing,
      expect: 'not_found',
      says: /gone\.png does not exist$/,
      what: 'missing argument',
    });
    runOut = await run('score', '--pack', DEFAULT_PACK, top, missing, '--json', '--quiet');
    const doc = ResultsFileSchema.parse(JSON.parse(runOut.out));
    results = new Map(doc.results.map((r) => [r.file, r]));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gives every crafted file its exact code and a message naming it as given; grades the rest', () => {
    const top = join(dir, 'in');
    for (const f of files) {
      const path = join(top, f.name);
      const r = results.get(path);
      const got = !r ? 'crashed' : r.error ? r.error.code : 'graded';
      const text = r?.error?.message ?? r?.qualityNote ?? '';
      const clear =
        got === 'graded'
          ? !f.says || (f.says.test(text) && !r?.error)
          : text.startsWith(path) && (!f.says || f.says.test(text));
      tried.push({ input: f.what, expect: f.expect, got, clear });
      expect(got, `${f.what} (${f.name})`).toBe(f.expect);
      expect(clear, `${f.what}: "${text}"`).toBe(true);
      if (got === 'graded') {
        expect(
          r?.quality?.probabilities.reduce((s, p) => s + p, 0),
          f.name,
        ).toBeCloseTo(1, 9);
        if (!f.says) expect(r?.qualityNote, `${f.name} needs no note`).toBeNull();
      }
    }
  });

  it('gives FIFOs, dangling links, link loops and missing paths their own codes, never decode_failed', () => {
    for (const c of fsCases) {
      const r = results.get(c.path);
      const got = !r ? 'crashed' : r.error ? r.error.code : 'graded';
      const message = r?.error?.message ?? '';
      const clear =
        message.startsWith(c.path) && c.says.test(message) && !/\bE[A-Z]{3,}\b|errno/.test(message);
      tried.push({ input: c.what, expect: c.expect, got, clear });
      expect(got, c.what).toBe(c.expect);
      expect(clear, `${c.what}: "${message}"`).toBe(true);
    }
  });

  it('finds images in subfolders, reads a folder reached by a link loop once, and exits 1', () => {
    const nested = [...results.keys()].filter((k) => k.includes(`${join('nested', 'deeper')}/`));
    expect(nested).toHaveLength(3);
    expect(nested.some((k) => k.includes('back-up'))).toBe(false);
    expect(runOut.err).toContain('back-up leads to a folder already read');
    expect(runOut.code).toBe(1);
    const failed = [...results.values()].filter((r) => r.error).length;
    expect(runOut.err).toContain(`${failed} of ${results.size} images failed:`);
  });

  it('says how many images --no-recursive leaves out, and a run whose images all graded exits 0', async () => {
    const top = join(dir, 'good');
    mkdirSync(join(top, 'sub', 'subsub'), { recursive: true });
    const good = files.filter((f) => f.expect === 'graded' && !f.says);
    writeFileSync(join(top, 'a.jpg'), good[0].bytes);
    writeFileSync(join(top, 'sub', 'b.png'), good[1].bytes);
    writeFileSync(join(top, 'sub', 'subsub', 'c.png'), good[1].bytes);
    const flat = await run('score', '--pack', DEFAULT_PACK, top, '--no-recursive', '--json', '--quiet');
    expect(flat.code).toBe(0);
    expect(flat.err).toContain('warning: not included (--no-recursive): 2 images in 1 subfolder');
    expect(JSON.parse(flat.out).results).toHaveLength(1);
    const all = await run('score', '--pack', DEFAULT_PACK, top, '--json', '--quiet');
    expect(all.code).toBe(0);
    expect(all.err).not.toContain('warning');
    expect(JSON.parse(all.out).results).toHaveLength(3);
    tried.push({ input: 'nested folders', expect: 'graded', got: 'graded', clear: true });
  });
});

describe('broken and tampered packs through agqg score', () => {
  let dir: string;
  let image: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'agqg-hostile-packs-'));
    image = join(dir, 'ok.png');
    const good = (await buildHostileFiles()).find((f) => f.name === 'plain.png') as HostileFile;
    writeFileSync(image, good.bytes);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const manifest = (): Record<string, unknown> =>
    JSON.parse(readFileSync(join(DEFAULT_PACK, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  /** A copy of the default pack, changed by `spoil`. */
  const pack = (name: string, spoil: (p: string) => void): string => {
    const p = join(dir, name);
    cpSync(DEFAULT_PACK, p, { recursive: true });
    spoil(p);
    return p;
  };
  const writeManifest = (p: string, text: string) => writeFileSync(join(p, 'manifest.json'), text);

  const cases: { what: string; make: () => string; code: ErrorCode; says: RegExp }[] = [
    {
      what: 'manifest.json holding null',
      make: () => pack('null', (p) => writeManifest(p, 'null')),
      code: 'pack_invalid',
      says: /\$ \(the whole file\) is null, not an object/,
    },
    {
      what: 'manifest.json holding an array',
      make: () => pack('array', (p) => writeManifest(p, '[]')),
      code: 'pack_invalid',
      says: /\$ \(the whole file\) is an array, not an object/,
    },
    {
      what: 'manifest.json that is not JSON',
      make: () => pack('notjson', (p) => writeManifest(p, '{"schema": "agqg-pack",')),
      code: 'pack_invalid',
      says: /manifest\.json is not valid JSON/,
    },
    {
      what: 'a field of the wrong type',
      make: () =>
        pack('wrongtype', (p) => writeManifest(p, JSON.stringify({ ...manifest(), vision: 'big' }))),
      code: 'pack_invalid',
      says: /\$\.vision: expected object, found a string \("big"\)/,
    },
    {
      what: 'a nested field of the wrong type',
      make: () =>
        pack('nested', (p) => {
          const m = manifest();
          writeManifest(p, JSON.stringify({ ...m, grades: { ...(m.grades as object), labels: 5 } }));
        }),
      code: 'pack_invalid',
      says: /\$\.grades\.labels: expected array, found a number \(5\)/,
    },
    {
      what: 'a required field missing',
      make: () =>
        pack('missingfield', (p) => {
          const { vision: _drop, ...m } = manifest();
          writeManifest(p, JSON.stringify(m));
        }),
      code: 'pack_invalid',
      says: /\$\.vision: missing \(expected object\)/,
    },
    {
      what: 'a listed file deleted',
      make: () => pack('deleted', (p) => rmSync(join(p, 'backbone.onnx'))),
      code: 'pack_file_missing',
      says: /backbone\.onnx/,
    },
    {
      what: 'a listed file with one byte changed',
      make: () =>
        pack('flipped', (p) => {
          const f = join(p, 'backbone.onnx');
          const b = readFileSync(f);
          b[b.length >> 1] ^= 0xff;
          writeFileSync(f, b);
        }),
      code: 'pack_file_tampered',
      says: /backbone\.onnx/,
    },
    {
      what: 'a listed file cut short',
      make: () => pack('cut', (p) => truncateSync(join(p, 'heads', 'quality.onnx'), 100)),
      code: 'pack_file_tampered',
      says: /quality\.onnx/,
    },
    {
      what: 'a file path escaping the pack',
      make: () =>
        pack('escape', (p) => {
          const m = manifest();
          const files = m.files as { path: string }[];
          files[0] = { ...files[0], path: '../../etc/passwd' };
          writeManifest(p, JSON.stringify(m));
        }),
      code: 'pack_invalid',
      says: /\$\.files\[0\]\.path/,
    },
    {
      what: 'an empty folder',
      make: () => {
        const p = join(dir, 'empty');
        mkdirSync(p);
        return p;
      },
      code: 'pack_invalid',
      says: /is not a pack: it has no manifest\.json/,
    },
    {
      what: 'a pack path that does not exist',
      make: () => join(dir, 'no-such-pack'),
      code: 'pack_invalid',
      says: /does not exist/,
    },
    {
      what: 'a file given as the pack',
      make: () => image,
      code: 'pack_invalid',
      says: /is a file; --pack takes/,
    },
  ];

  for (const c of cases) {
    it(`refuses ${c.what} with ${c.code} (exit 2), saying what is wrong`, async () => {
      const r = await run('score', '--pack', c.make(), image, '--json', '--quiet');
      const got = (/\[([a-z_]+)\]/.exec(r.err)?.[1] ?? 'crashed') as ErrorCode | 'crashed';
      const clear = r.code === 2 && c.says.test(r.err) && r.out === '';
      tried.push({ input: `pack: ${c.what}`, expect: c.code, got, clear });
      expect(got, r.err).toBe(c.code);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(c.says);
      expect(r.out).toBe('');
    });
  }
});

describe('the error codes are one documented list', () => {
  it('docs/cli.md has a row for every code in src/model/errors.ts, and no other', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...ERROR_CODES].sort());
    for (const c of ERROR_CODES) expect(ERROR_CODE_INFO[c].meaning.length).toBeGreaterThan(10);
  });
});
