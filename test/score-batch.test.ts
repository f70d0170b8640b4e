// agqg score's pipeline: batches, decode workers and pre-resizing change no
// score, a bad file in the middle of a batch gets its own error, results keep
// the input order, and reading ahead stays within its window.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodePool } from '../src/cli/decode-pool';
import { decodeImageFile } from '../src/cli/decode';
import { mainThreadReader, type DecodedFile, type ImageReader } from '../src/cli/image-reader';
import { bufferIO } from '../src/cli/io';
import { openPackFolder } from '../src/cli/load-pack';
import { main } from '../src/cli/main';
import { NodeRuntime } from '../src/cli/ort-node';
import { preResize, preResizeConfig } from '../src/cli/pre-resize';
import { scoreFiles } from '../src/cli/score-pipeline';
import { parsePreprocessConfig, preprocess, type RgbaImage } from '../src/model/preprocess';
import { ResultsFileSchema, type ImageResult } from '../src/model/result';
import { PackScorer } from '../src/model/scorer';
import { describeShared, sharedPath } from './shared';
import { REFS, TINY } from './tiny-pack';

const CONFIG = 'fixtures/tiny-clip/preprocessor_config.json';
const REF_FILES = 'fixtures/tiny-clip-refs/refs.json';

async function score(...argv: string[]): Promise<{ code: number; results: ImageResult[]; err: string }> {
  const io = bufferIO();
  const code = await main(['score', ...argv], io);
  const out = io.stdout();
  return { code, results: out ? ResultsFileSchema.parse(JSON.parse(out)).results : [], err: io.stderr() };
}

/** Seeded RGBA noise with smooth gradients, so resampling has something to round. */
function noiseImage(width: number, height: number, seed: number): RgbaImage {
  const data = new Uint8Array(width * height * 4);
  let s = seed >>> 0;
  for (let i = 0; i < width * height; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const x = i % width;
    const y = Math.floor(i / width);
    data[i * 4] = (x * 7 + (s & 63)) & 255;
    data[i * 4 + 1] = (y * 5 + ((s >>> 8) & 63)) & 255;
    data[i * 4 + 2] = (s >>> 16) & 255;
    data[i * 4 + 3] = (s >>> 24) & 255;
  }
  return { width, height, data };
}

const sameFloats = (a: Float32Array, b: Float32Array): boolean =>
  a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;

describeShared('pre-resizing for the encoder gives the same tensor', [CONFIG, REF_FILES], () => {
  const cfg = parsePreprocessConfig(JSON.parse(readFileSync(sharedPath(CONFIG), 'utf8')));
  const refs = JSON.parse(readFileSync(sharedPath(REF_FILES), 'utf8')) as { images: { file: string }[] };

  for (const ref of refs.images) {
    it(`${ref.file}: preprocess(preResize(img)) is bit for bit preprocess(img)`, async () => {
      const img = await decodeImageFile(REFS(ref.file));
      const small = preResize(img, cfg);
      const want = preprocess(img, cfg);
      const got = preprocess(small, cfg);
      expect(got.dims).toEqual(want.dims);
      expect(sameFloats(got.data, want.data)).toBe(true);
      // Shrunk to the crop size unless the image is there already.
      if (img.width !== 224 || img.height !== 224) expect([small.width, small.height]).toEqual([224, 224]);
    });
  }

  it.each([
    [640, 480],
    [100, 50],
    [223, 500],
    [225, 224],
  ])('synthetic %ix%i (alpha varies): the same tensor', (w, h) => {
    const img = noiseImage(w, h, w * 31 + h);
    expect(sameFloats(preprocess(preResize(img, cfg), cfg).data, preprocess(img, cfg).data)).toBe(true);
  });

  it('leaves an image of the input size, and one that would be padded, as it is', () => {
    const exact = noiseImage(224, 224, 1);
    expect(preResize(exact, cfg)).toBe(exact);
    // No resize, crop 224 of a 100x100 image: torchvision pads, which no 8-bit image of the crop size can carry.
    const padCfg = parsePreprocessConfig({ ...cfg, do_resize: false });
    const small = noiseImage(100, 100, 2);
    expect(preResize(small, padCfg)).toBe(small);
  });

  it('is only offered for one shared 8-bit PIL config', () => {
    expect(preResizeConfig([{ preprocess: cfg }])).toEqual(cfg);
    const align = parsePreprocessConfig({ ...cfg, agqg_resize: { mode: 'align_corners_bilinear' } });
    expect(preResizeConfig([{ preprocess: align }])).toBeNull();
    const other = parsePreprocessConfig({ ...cfg, crop_size: { height: 192, width: 192 } });
    expect(preResizeConfig([{ preprocess: cfg }, { preprocess: other }])).toBeNull();
    expect(preResizeConfig([])).toBeNull();
  });
});

describeShared('agqg score --batch and --decode-threads', ['fixtures/tiny-clip', REF_FILES, 'datasets/agiqa-3k/labels.csv'], () => {
  const tmp = mkdtempSync(join(tmpdir(), 'agqg-score-batch-'));
  const refImages = ['pub_tiny.png', 'pub_alpha.png', 'pub_extreme.png', 'pub_large.jpg', 'pub_midjourney_normal_010.jpg', 'pub_chelsea.png'];
  const agiqa = ['AttnGAN_normal_000.jpg', 'midjourney_normal_000.jpg', 'sd1.5_normal_000.jpg'];
  let files: string[] = [];
  let bad = '';
  beforeAll(() => {
    files = [...refImages.map((f) => REFS('images', f)), ...agiqa.map((f) => sharedPath('datasets/agiqa-3k/images', f))];
    for (const f of files) copyFileSync(f, join(tmp, f.split('/').pop() as string));
    files = files.map((f) => join(tmp, f.split('/').pop() as string));
    const jpeg = readFileSync(REFS('images/pub_AttnGAN_normal_171.jpg'));
    bad = join(tmp, 'truncated.jpg');
    writeFileSync(bad, jpeg.subarray(0, Math.floor(jpeg.byteLength / 3)));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  const scores = (r: ImageResult) => [r.quality?.score, r.alignment?.score, ...(r.quality?.probabilities ?? []), ...(r.alignment?.probabilities ?? [])];

  it('batched scores (workers, main thread) equal one image per run, in input order', async () => {
    const one = await score('--pack', TINY(), '--json', '--prompt', 'a photo of a cat', '--batch', '1', '--decode-threads', '0', ...files);
    expect(one.code, one.err).toBe(0);
    expect(one.results.map((r) => r.file)).toEqual(files);
    for (const [batch, threads] of [
      ['4', '1'],
      ['4', '0'],
      ['16', '2'],
      ['1', '1'],
    ]) {
      const got = await score('--pack', TINY(), '--json', '--prompt', 'a photo of a cat', '--batch', batch, '--decode-threads', threads, ...files);
      expect(got.code, got.err).toBe(0);
      expect(got.results.map((r) => r.file)).toEqual(files);
      got.results.forEach((r, i) => {
        const want = scores(one.results[i]);
        const have = scores(r);
        expect(have.length).toBe(want.length);
        have.forEach((v, k) => expect(v, `${r.file} #${k} (batch ${batch}, ${threads} threads)`).toBeCloseTo(want[k] as number, 5));
      });
    }
  });

  it('a corrupt file in the middle of a batch gets its own error; the others are graded as alone', async () => {
    const mixed = [...files.slice(0, 3), bad, join(tmp, 'missing.jpg'), ...files.slice(3, 5)];
    const one = await score('--pack', TINY(), '--json', '--batch', '1', ...mixed);
    const batched = await score('--pack', TINY(), '--json', '--batch', String(mixed.length), ...mixed);
    for (const r of [one, batched]) {
      expect(r.code).toBe(1);
      expect(r.results.map((x) => x.file)).toEqual(mixed);
      expect(r.results[3].error).toMatchObject({ code: 'decode_failed', message: expect.stringContaining('truncated.jpg') });
      expect(r.results[4].error).toMatchObject({ code: 'decode_failed', message: expect.stringContaining('no such file') });
      expect(r.err).toContain('2 of 7 images failed');
    }
    batched.results.forEach((r, i) => {
      if (i === 3 || i === 4) return;
      expect(r.error).toBeNull();
      expect(r.quality?.score).toBeCloseTo(one.results[i].quality?.score as number, 5);
    });
  });

  it('refuses a batch of 0 and negative decode threads', async () => {
    const a = await score('--pack', TINY(), '--batch', '0', files[0]);
    expect(a.code).toBe(2);
    expect(a.err).toContain('--batch must be a whole number >= 1 (got "0")');
    const b = await score('--pack', TINY(), '--decode-threads', 'two', files[0]);
    expect(b.code).toBe(2);
    expect(b.err).toContain('--decode-threads must be a whole number >= 0 (got "two")');
  });

  it('decode workers give the main thread pixels and its specific errors', async () => {
    const empty = join(tmp, 'empty.png');
    writeFileSync(empty, '');
    const notes = join(tmp, 'notes.jpg');
    writeFileSync(notes, 'not an image\n');
    const pool = new DecodePool(2);
    const local = mainThreadReader();
    try {
      for (const f of files) {
        const [a, b] = await Promise.all([pool.read(f), local.read(f)]);
        expect([a.img.width, a.img.height]).toEqual([b.img.width, b.img.height]);
        expect(Buffer.compare(Buffer.from(a.img.data), Buffer.from(b.img.data))).toBe(0);
      }
      const codes = await Promise.all(
        [empty, notes, bad, join(tmp, 'missing.png'), tmp].map((f) => pool.read(f).then(() => 'ok', (e: { code: string }) => e.code)),
      );
      expect(codes).toEqual(['empty_file', 'unsupported_format', 'decode_failed', 'decode_failed', 'decode_failed']);
    } finally {
      await pool.close();
    }
  });

  it('reads ahead at most one batch past the one being scored', async () => {
    const scorer = await PackScorer.load(await openPackFolder(TINY()), new NodeRuntime(1));
    const inner = mainThreadReader();
    let open = 0;
    let most = 0;
    // A read is open from the call until its batch has been scored and handed back.
    const reader: ImageReader = {
      read: (path: string): Promise<DecodedFile> => {
        open++;
        most = Math.max(most, open);
        return inner.read(path);
      },
      close: async () => {},
    };
    const order: number[] = [];
    const jobs = Array.from({ length: 23 }, (_, i) => ({ file: files[i % files.length], prompt: null }));
    try {
      await scoreFiles(scorer, jobs, { batch: 5, reader }, (_r, i) => {
        order.push(i);
        open--;
      });
    } finally {
      await scorer.release();
    }
    expect(order).toEqual(jobs.map((_, i) => i));
    expect(most).toBe(10);
  });
});

describe('DecodePool', () => {
  it('refuses fewer than one thread', () => {
    expect(() => new DecodePool(0)).toThrow('at least 1 thread');
  });
});
