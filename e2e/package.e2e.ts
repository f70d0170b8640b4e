// The package as its users get it: `import { openScorer } from 'agqg-grader'` from the project
// root (the package naming itself) grades the default pack like `agqg score --json` does; and
// `npm pack`'s tarball, installed into an empty folder, imports (Node entry and core subpath) and
// runs `npx agqg` with no tsx and none of the pack-building dependencies.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { encode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResultsFileSchema, type ResultsFile } from '../src/model/grading/result.ts';
import { ROOT } from '../test/shared.ts';
import { DEFAULT_PACK } from './env.ts';

const run = promisify(execFile);
/** Same pack, same runtime (onnxruntime-node), same batch: the library and the CLI agree exactly. */
const SAME_SCORE_DIGITS = 9;

/** A PNG with a gradient and a square: two of them differ, so their grades can differ too. */
function patternPng(width: number, height: number, seed: number): Uint8Array {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      const inSquare = Math.abs(x - width / 2) < width / 5 && Math.abs(y - height / 2) < height / 5;
      data[i] = inSquare ? 255 - seed * 40 : (x * 255) / width;
      data[i + 1] = (y * 255) / height;
      data[i + 2] = inSquare ? seed * 60 : 128;
    }
  return encode({ width, height, data, channels: 3, depth: 8 });
}

/** Runs an ES module script with node from `cwd` (a file, so decode worker threads start normally). */
async function node(cwd: string, name: string, source: string): Promise<string> {
  const file = join(cwd, name);
  writeFileSync(file, source);
  const { stdout } = await run(process.execPath, [file], { cwd, maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

const comparable = (doc: ResultsFile) =>
  doc.results.map((r) => ({ file: r.file, quality: r.quality, error: r.error?.code ?? null }));

describe('agqg-grader as a library', () => {
  let tmp: string;
  let images: string[];

  beforeAll(() => {
    if (!existsSync(DEFAULT_PACK.manifest))
      throw new Error(`${DEFAULT_PACK.manifest} is missing: npm install builds the default pack`);
    if (!existsSync(join(ROOT, 'lib/lib/node/index.js')))
      throw new Error('lib/ is missing: npm install (prepare) or npm run build:lib compiles it');
    tmp = mkdtempSync(join(tmpdir(), 'agqg-lib-'));
    images = [1, 2, 3].map((seed) => {
      const p = join(tmp, `pattern-${seed}.png`);
      writeFileSync(p, patternPng(96 + seed * 16, 80, seed));
      return p;
    });
    writeFileSync(join(tmp, 'not-an-image.png'), 'plain text');
  });

  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('openScorer from the project root grades like agqg score --json', async () => {
    const files = [...images, join(tmp, 'not-an-image.png')];
    // The script lives under the project (.cache/), so 'agqg-grader' resolves to this package's exports.
    const scratch = join(ROOT, '.cache/package-e2e');
    mkdirSync(scratch, { recursive: true });
    const out = await node(
      scratch,
      'self-import.mjs',
      `import { readFileSync } from 'node:fs';
import { openScorer } from 'agqg-grader';
const files = ${JSON.stringify(files)};
const scorer = await openScorer({ pack: ${JSON.stringify(DEFAULT_PACK.dir)} });
const seen = [];
const byPath = await scorer.score(files, { onProgress: (p) => seen.push([p.done, p.total]) });
const byBytes = await scorer.score(files.map((f) => ({ name: f, bytes: readFileSync(f) })));
const controller = new AbortController();
controller.abort(new Error('stopped by the test'));
const aborted = await scorer.score(files, { signal: controller.signal }).then(() => 'resolved', (e) => e.message);
await scorer.close();
console.log(JSON.stringify({ byPath, byBytes, seen, aborted, pack: scorer.pack }));
`,
    );
    const got = JSON.parse(out) as {
      byPath: unknown;
      byBytes: unknown;
      seen: [number, number][];
      aborted: string;
      pack: { id: string; labels: string[] };
    };
    const byPath = ResultsFileSchema.parse(got.byPath);
    const byBytes = ResultsFileSchema.parse(got.byBytes);
    const cli = await run(
      process.execPath,
      [join(ROOT, 'bin/agqg.js'), 'score', '--pack', DEFAULT_PACK.dir, ...files, '--json', '--quiet'],
      { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
    ).catch((e: { code?: number; stdout?: string }) => {
      // Exit code 1: some inputs failed (the text file); the JSON is still printed.
      if (e.code !== 1 || !e.stdout) throw e;
      return { stdout: e.stdout };
    });
    const fromCli = ResultsFileSchema.parse(JSON.parse(cli.stdout));

    expect(byPath.pack).toEqual(fromCli.pack);
    expect(got.pack.id).toBe('default');
    expect(byPath.results.map((r) => r.file)).toEqual(files);
    for (const [i, r] of byPath.results.entries()) {
      const c = fromCli.results[i];
      expect(r.error?.code ?? null).toBe(c.error?.code ?? null);
      if (c.quality === null) continue;
      expect(r.quality?.grade).toBe(c.quality.grade);
      expect(r.quality?.score).toBeCloseTo(c.quality.score, SAME_SCORE_DIGITS);
      expect(r.quality?.probabilities.length).toBe(got.pack.labels.length);
    }
    expect(byPath.results.slice(0, 3).every((r) => r.quality !== null)).toBe(true);
    expect(byPath.results[3].error?.code).toBe('unsupported_format');
    // Bytes with a name are the same image as the file of that name.
    expect(comparable(byBytes)).toEqual(comparable(byPath));
    expect(got.seen).toEqual(files.map((_, i) => [i + 1, files.length]));
    expect(got.aborted).toBe('stopped by the test');
  });

  it("npm pack's tarball installs into an empty folder and works there without tsx", async () => {
    const dest = join(tmp, 'tarball');
    const app = join(tmp, 'app');
    mkdirSync(dest);
    mkdirSync(app);
    // prepare runs first (lib/ compiled again); its output shares stdout, so the .tgz is found on disk.
    await run('npm', ['pack', '--pack-destination', dest], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 });
    const tgz = readdirSync(dest).filter((f) => f.endsWith('.tgz'));
    expect(tgz).toHaveLength(1);
    // What docs/api.md tells library users: deny onnxruntime-node's CUDA download (CPU build inside).
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({
        name: 'consumer',
        version: '1.0.0',
        private: true,
        type: 'module',
        allowScripts: { 'onnxruntime-node': false },
      }),
    );
    await run('npm', ['install', join(dest, tgz[0]), '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: app,
      maxBuffer: 64 * 1024 * 1024,
    });
    const installed = readdirSync(join(app, 'node_modules'));
    expect(installed).toContain('agqg-grader');
    for (const devOnly of ['tsx', '@tensorflow', 'nsfwjs', 'react', 'vite', 'typescript'])
      expect(installed, `${devOnly} should not reach a library user`).not.toContain(devOnly);
    expect(existsSync(join(app, 'node_modules/agqg-grader/src'))).toBe(false);

    const out = await node(
      app,
      'use.mjs',
      `import { openScorer } from 'agqg-grader';
import { gradeProbs, meetsUnimodalBound, srcc, parseManifest } from 'agqg-grader/core';
import { readFileSync } from 'node:fs';
const manifest = parseManifest(JSON.parse(readFileSync(${JSON.stringify(DEFAULT_PACK.manifest)}, 'utf8')));
const scorer = await openScorer({ pack: ${JSON.stringify(DEFAULT_PACK.dir)} });
const doc = await scorer.score([${JSON.stringify(images[0])}]);
await scorer.close();
console.log(JSON.stringify({
  id: manifest.id,
  probs: gradeProbs(0, { a: 2, b1: -1, d: 1 }, 3),
  unimodal: meetsUnimodalBound({ a: 1, d: Math.log(3) }, 5),
  srcc: srcc([1, 2, 3, 4], [10, 20, 40, 30]),
  result: doc.results[0],
}));
`,
    );
    const got = JSON.parse(out) as {
      id: string;
      probs: number[];
      unimodal: boolean;
      srcc: number;
      result: ResultsFile['results'][number];
    };
    expect(got.id).toBe('default');
    // K=3, thetas at b = -1, 0: P(Y>=2) = σ(2), P(Y>=3) = σ(0) = 0.5.
    const s2 = 1 / (1 + Math.exp(-2));
    expect(got.probs[0]).toBeCloseTo(1 - s2, 12);
    expect(got.probs[1]).toBeCloseTo(s2 - 0.5, 12);
    expect(got.probs[2]).toBeCloseTo(0.5, 12);
    expect(got.unimodal).toBe(true);
    // Ranks 1,2,4,3 against 1,2,3,4: 1 - 6*2/(4*15).
    expect(got.srcc).toBeCloseTo(0.8, 12);
    expect(got.result.error).toBeNull();
    expect(got.result.quality?.labels).toHaveLength(5);

    const help = await run('npx', ['agqg', '--help'], { cwd: app });
    expect(help.stdout).toMatch(/^agqg: grade AI-generated images/);
    const score = await run(
      'npx',
      ['agqg', 'score', '--pack', DEFAULT_PACK.dir, images[0], '--json', '--quiet'],
      { cwd: app, maxBuffer: 64 * 1024 * 1024 },
    );
    const cliDoc = ResultsFileSchema.parse(JSON.parse(score.stdout));
    expect(cliDoc.results[0].quality?.score).toBeCloseTo(got.result.quality?.score ?? NaN, SAME_SCORE_DIGITS);
  });
});
