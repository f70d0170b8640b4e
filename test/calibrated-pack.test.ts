// A calibration kept as a pack: the stored ZIP format (checked with Info-ZIP's
// unzip), manifest version 2 (encoder by reference), and the default pack's
// encoder with a recalibrated head graded in-process and, exported, by
// `agqg score --pack DIR` unchanged.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { bufferIO } from '../src/cli/io.ts';
import { readImage } from '../src/cli/images.ts';
import { main } from '../src/cli/main.ts';
import { FolderPackSource } from '../src/cli/node-pack-source.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { gradeResultFromAbility, ResultsFileSchema } from '../src/model/grading/result.ts';
import { BasedPackSource, selfContainedFiles } from '../src/model/pack/based-source.ts';
import { MANIFEST_FILE, parseManifest } from '../src/model/pack/manifest.ts';
import { openPack, type PackSource } from '../src/model/pack/pack.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';
import { recalibrate } from '../src/model/training/calibrate.ts';
import { buildCalibratedPack, CALIBRATED_HEAD, savedPackId } from '../src/model/training/calibrated-pack.ts';
import { crc32, unzipStore, zipStore } from '../src/model/util/zip.ts';
import { gaussian, mulberry32 } from '../src/model/util/rng.ts';
import { describeWhen, ROOT } from './shared.ts';

const exec = promisify(execFile);
const tmp: string[] = [];
afterAll(async () => {
  for (const d of tmp) await rm(d, { recursive: true, force: true });
});
const tempDir = async () => {
  const d = await mkdtemp(join(tmpdir(), 'agqg-calibrated-'));
  tmp.push(d);
  return d;
};

class MemorySource implements PackSource {
  constructor(
    readonly files: Map<string, Uint8Array>,
    readonly location = 'memory',
  ) {}
  async readBytes(path: string) {
    return this.files.get(path) ?? null;
  }
  async size(path: string) {
    return this.files.get(path)?.byteLength ?? null;
  }
}

describe('stored ZIP', () => {
  it('has the standard CRC-32, and Info-ZIP unzip reads what it writes', async () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const entries = [
      { path: 'manifest.json', bytes: new TextEncoder().encode('{"a": 1}\n') },
      { path: 'heads/quality.onnx', bytes: Uint8Array.from({ length: 1000 }, (_, i) => i % 251) },
      { path: 'é.txt', bytes: new Uint8Array(0) },
    ];
    const zip = zipStore(entries);
    expect(unzipStore(zip).map((e) => [e.path, Array.from(e.bytes)])).toEqual(
      entries.map((e) => [e.path, Array.from(e.bytes)]),
    );
    const dir = await tempDir();
    await writeFile(join(dir, 'p.zip'), zip);
    const t = await exec('unzip', ['-t', join(dir, 'p.zip')]);
    expect(t.stdout).toMatch(/No errors detected/);
    await exec('unzip', ['-q', join(dir, 'p.zip'), '-d', join(dir, 'out')]);
    expect(new Uint8Array(await readFile(join(dir, 'out', 'heads', 'quality.onnx')))).toEqual(
      entries[1].bytes,
    );
    const bad = Uint8Array.from(zip);
    bad[30 + 'manifest.json'.length + 2] ^= 0xff; // inside the first entry's data
    expect(() => unzipStore(bad, 'p.zip')).toThrow(/p\.zip: manifest\.json is truncated or damaged/);
    expect(() => unzipStore(new Uint8Array(10), 'x.zip')).toThrow(/not a ZIP file/);
  });
});

const PACK = join(ROOT, 'public', 'models', 'default');
const IMAGE = join(ROOT, 'test', 'fixtures', 'decode', 'baseline.jpg');

describeWhen(
  'a recalibrated default pack',
  {
    missing: existsSync(join(PACK, MANIFEST_FILE)) ? null : `the default pack is not built (${PACK})`,
    check: 'has the default pack',
    ciHint: 'npm install builds it.',
    tag: 'default pack missing',
  },
  () => {
    it('references the encoder, grades on the new scale, and exports a folder agqg score reads', async () => {
      const base = await openPack(new FolderPackSource(PACK), 'default');
      const baseScorer = await PackScorer.load(base, new NodeRuntime());
      const { img } = await readImage(IMAGE);
      const baseResult = await baseScorer.scoreImage(img, { file: 'baseline.jpg', prompt: null });
      await baseScorer.release();
      const theta0 = baseResult.quality?.ability as number;

      // A strict 1-10 rater on 30 images around this one.
      const g = gaussian(mulberry32(4));
      const theta = Float64Array.from({ length: 30 }, () => theta0 + 2 * g());
      const ratings = Float64Array.from(theta, (t) =>
        Math.min(10, Math.max(1, 3 + 1.5 * (t - theta0) + 0.5 * g())),
      );
      const fit = await recalibrate({
        ratings,
        scale: { min: 1, max: 10 },
        prompts: Array.from(ratings, () => ''),
        names: Array.from(ratings, (_, i) => `r${i}.png`),
        theta,
        base: { grm: base.manifest.heads.quality!.grm, scale: base.manifest.grades.mos },
        K: 5,
      });
      const built = await buildCalibratedPack({
        base: base.manifest,
        fit,
        name: 'Studio A (strict)',
        date: '2026-12-04T21:00:00.000Z',
        baseHeadBytes: new Uint8Array(await readFile(join(PACK, 'heads', 'quality.onnx'))),
      });
      const m = built.manifest;
      expect(m.id).toBe(savedPackId('Studio A (strict)'));
      expect(m.id).toBe('my-studio-a-strict');
      expect(m.version).toBe(2);
      expect(m.base).toEqual({
        id: 'default',
        name: base.manifest.name,
        packVersion: base.manifest.packVersion,
      });
      expect(m.files.find((f) => f.path === 'backbone.onnx')?.from).toBe('base');
      expect(m.files.find((f) => f.path === CALIBRATED_HEAD)?.from).toBeUndefined();
      expect([...built.files.keys()].sort()).toEqual([
        CALIBRATED_HEAD,
        'heads/quality.report.json',
        MANIFEST_FILE,
      ]);
      const training = (
        m.provenance.training as Record<string, { mode: string; ratings: number; date: string }>
      ).quality;
      expect(training).toMatchObject({ mode: 'recalibrate', ratings: 30, date: '2026-12-04T21:00:00.000Z' });
      expect((m.metrics.quality as { n: number }).n).toBe(30);

      // In the page's way: own files from storage, the encoder from the base pack.
      const own = new MemorySource(built.files, 'saved pack');
      const opened = await openPack(own);
      const based = {
        manifest: opened.manifest,
        source: new BasedPackSource(own, new FolderPackSource(PACK), opened.manifest),
      };
      const scorer = await PackScorer.load(based, new NodeRuntime());
      const r = await scorer.scoreImage(img, { file: 'baseline.jpg', prompt: null });
      await scorer.release();
      const want = gradeResultFromAbility(theta0, fit.grm, base.manifest.grades.labels, fit.scale, false);
      expect(r.quality?.ability).toBeCloseTo(theta0, 5);
      expect(r.quality?.score).toBeCloseTo(want.score, 5);
      expect(r.quality?.grade).toBe(want.grade);
      expect(r.quality?.score).toBeGreaterThanOrEqual(1);

      // Without the base pack the saved pack says which pack it needs.
      expect(() => new BasedPackSource(own, null, opened.manifest)).toThrow(
        /uses the encoder of pack "default"/,
      );

      // Exported: one folder with every file, read by the CLI as any pack.
      const files = await selfContainedFiles(based);
      const dir = await tempDir();
      await writeFile(join(dir, 'pack.zip'), zipStore(files));
      await exec('unzip', ['-q', join(dir, 'pack.zip'), '-d', join(dir, 'pack')]);
      const exported = parseManifest(JSON.parse(await readFile(join(dir, 'pack', MANIFEST_FILE), 'utf8')));
      expect(exported.files.every((f) => f.from === undefined)).toBe(true);
      const io = bufferIO();
      const code = await main(['score', '--pack', join(dir, 'pack'), IMAGE, '--json'], io);
      expect(io.stderr()).not.toMatch(/error/i);
      expect(code).toBe(0);
      const doc = ResultsFileSchema.parse(JSON.parse(io.stdout()));
      expect(doc.results[0].quality?.score).toBeCloseTo(want.score, 5);
      expect(doc.results[0].quality?.grade).toBe(want.grade);
    }, 120_000);
  },
);

describe('manifest version 2', () => {
  const manifest = (over: Record<string, unknown>, file: Record<string, unknown> = {}) => ({
    schema: 'agqg-pack',
    version: 2,
    id: 'my-pack',
    name: 'Mine',
    files: [{ path: 'vision.onnx', size: 10, sha256: 'a'.repeat(64), role: 'vision', from: 'base', ...file }],
    vision: {
      variants: [{ dtype: 'fp32', file: 'vision.onnx' }],
      inputs: [{ name: 'pixel_values', shape: ['batch', 3, 224, 224], preprocess: {} }],
      output: { name: 'features', shape: ['batch', 8] },
    },
    grades: { labels: ['bad', 'poor', 'fair', 'good', 'excellent'], mos: { min: 0, max: 5 } },
    base: { id: 'default', name: 'Default', packVersion: '1' },
    ...over,
  });

  it('reads the encoder by reference only with version 2, a base, and hashed files', () => {
    expect(parseManifest(manifest({})).files[0].from).toBe('base');
    expect(() => parseManifest(manifest({ version: 1 }))).toThrow(/version 1 manifest cannot use base/);
    expect(() => parseManifest(manifest({ base: undefined }))).toThrow(
      /base: files come from the base pack but base is not set/,
    );
    expect(() => parseManifest(manifest({}, { sha256: undefined }))).toThrow(
      /vision\.onnx comes from the base pack and needs its size and sha256/,
    );
    expect(() => parseManifest(manifest({ version: 3 }))).toThrow(/version/);
  });
});
