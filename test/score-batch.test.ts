// agqg score's pipeline: batches, decode workers and preparing tensors on them change no
// score, a bad file in the middle of a batch gets its own error, results keep
// the input order, and reading ahead stays within its window.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodePool } from '../src/cli/decode-pool.ts';
import { decodeImageFile } from '../src/cli/decode.ts';
import { mainThreadReader, type DecodedFile, type ImageReader } from '../src/cli/image-reader.ts';
import { bufferIO } from '../src/cli/io.ts';
import { openPackFolder } from '../src/cli/load-pack.ts';
import { main } from '../src/cli/main.ts';
import { NodeRuntime } from '../src/cli/ort-node.ts';
import { FIRST_RUN_IMAGES, scoreFiles } from '../src/cli/score-pipeline.ts';
import { parsePreprocessConfig, preprocess, type RgbaImage } from '../src/model/image/preprocess.ts';
import { ResultsFileSchema, type ImageResult } from '../src/model/grading/result.ts';
import { isPrepared, prepareImage } from '../src/model/image/prepared.ts';
import { PackScorer } from '../src/model/scoring/scorer.ts';
import { describeShared, sharedPath } from './shared.ts';
import { REFS, TINY } from './tiny-pack.ts';

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
  a.length === b.length &&
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;

describeShared(
  'tensors prepared with decoding give the same embedding',
  ['fixtures/tiny-clip', CONFIG, REF_FILES],
  () => {
    const cfg = parsePreprocessConfig(JSON.parse(readFileSync(sharedPath(CONFIG), 'utf8')));
    const refs = JSON.parse(readFileSync(sharedPath(REF_FILES), 'utf8')) as { images: { file: string }[] };

    it('prepareImage is preprocess() per vision input, and the scorer embeds it as the pixels', async () => {
      const scorer = await PackScorer.load(await openPackFolder(TINY()), new NodeRuntime(1));
      try {
        const configs = scorer.manifest.vision.inputs.map((i) => i.preprocess);
        const imgs = await Promise.all(refs.images.map((r) => decodeImageFile(REFS(r.file))));
        const prepared = imgs.map((img) => prepareImage(img, configs));
        prepared.forEach((p, i) => {
          expect([p.width, p.height]).toEqual([imgs[i].width, imgs[i].height]);
          expect(sameFloats(p.inputs[0], preprocess(imgs[i], cfg).data)).toBe(true);
        });
        const fromPixels = await scorer.embedImages(imgs);
        const fromPrepared = await scorer.embedImages(prepared);
        const mixed = await scorer.embedImages(imgs.map((img, i) => (i % 2 === 0 ? img : prepared[i])));
        for (const got of [fromPrepared, mixed])
          got.forEach((e, i) => expect(sameFloats(e.features, fromPixels[i].features)).toBe(true));
        const alone = await scorer.embedImage(prepared[0]);
        expect(sameFloats(alone.features, (await scorer.embedImage(imgs[0])).features)).toBe(true);
        // A tensor of the wrong size is a caller bug, named as such.
        const wrong = { ...prepared[0], inputs: [prepared[0].inputs[0].subarray(1)] };
        await expect(scorer.embedImage(wrong)).rejects.toThrow(
          /prepared input 0 holds 150527 floats; the encoder needs 150528/,
        );
      } finally {
        await scorer.release();
      }
    });

    it.each([
      [640, 480],
      [100, 50],
      [223, 500],
    ])('synthetic %ix%i: a decode worker hands back the tensor preprocess() gives', async (w, h) => {
      const img = noiseImage(w, h, w * 31 + h);
      const file = join(mkdtempSync(join(tmpdir(), 'agqg-prepare-')), 'noise.png');
      writeFileSync(file, encodePng({ width: w, height: h, channels: 4, depth: 8, data: img.data }));
      const pool = new DecodePool(1, [cfg]);
      try {
        const got = await pool.read(file);
        if (!isPrepared(got.img)) throw new Error('the worker sent pixels, not tensors');
        expect(sameFloats(got.img.inputs[0], preprocess(await decodeImageFile(file), cfg).data)).toBe(true);
        expect(got.stages.preprocessMs).toBeGreaterThan(0);
      } finally {
        await pool.close();
        rmSync(dirname(file), { recursive: true, force: true });
      }
    });
  },
);

describeShared(
  'agqg score --batch and --decode-threads',
  ['fixtures/tiny-clip', REF_FILES, 'datasets/agiqa-3k/labels.csv'],
  () => {
    const tmp = mkdtempSync(join(tmpdir(), 'agqg-score-batch-'));
    const refImages = [
      'pub_tiny.png',
      'pub_alpha.png',
      'pub_extreme.png',
      'pub_large.jpg',
      'pub_midjourney_normal_010.jpg',
      'pub_chelsea.png',
    ];
    const agiqa = ['AttnGAN_normal_000.jpg', 'midjourney_normal_000.jpg', 'sd1.5_normal_000.jpg'];
    let files: string[] = [];
    let bad = '';
    beforeAll(() => {
      files = [
        ...refImages.map((f) => REFS('images', f)),
        ...agiqa.map((f) => sharedPath('datasets/agiqa-3k/images', f)),
      ];
      for (const f of files) copyFileSync(f, join(tmp, f.split('/').pop() as string));
      files = files.map((f) => join(tmp, f.split('/').pop() as string));
      const jpeg = readFileSync(REFS('images/pub_AttnGAN_normal_171.jpg'));
      bad = join(tmp, 'truncated.jpg');
      writeFileSync(bad, jpeg.subarray(0, Math.floor(jpeg.byteLength / 3)));
    });
    afterAll(() => rmSync(tmp, { recursive: true, force: true }));

    const scores = (r: ImageResult) => [
      r.quality?.score,
      r.alignment?.score,
      ...(r.quality?.probabilities ?? []),
      ...(r.alignment?.probabilities ?? []),
    ];

    it('batched scores (workers, main thread) equal one image per run, in input order', async () => {
      const one = await score(
        '--pack',
        TINY(),
        '--json',
        '--prompt',
        'a photo of a cat',
        '--batch',
        '1',
        '--decode-threads',
        '0',
        ...files,
      );
      expect(one.code, one.err).toBe(0);
      expect(one.results.map((r) => r.file)).toEqual(files);
      for (const [batch, threads] of [
        ['4', '1'],
        ['4', '0'],
        ['16', '2'],
        ['1', '1'],
      ]) {
        const got = await score(
          '--pack',
          TINY(),
          '--json',
          '--prompt',
          'a photo of a cat',
          '--batch',
          batch,
          '--decode-threads',
          threads,
          ...files,
        );
        expect(got.code, got.err).toBe(0);
        expect(got.results.map((r) => r.file)).toEqual(files);
        got.results.forEach((r, i) => {
          const want = scores(one.results[i]);
          const have = scores(r);
          expect(have.length).toBe(want.length);
          have.forEach((v, k) =>
            expect(v, `${r.file} #${k} (batch ${batch}, ${threads} threads)`).toBeCloseTo(
              want[k] as number,
              5,
            ),
          );
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
        expect(r.results[3].error).toMatchObject({
          code: 'decode_failed',
          message: expect.stringContaining('truncated.jpg'),
        });
        expect(r.results[4].error).toMatchObject({
          code: 'not_found',
          message: expect.stringMatching(/missing\.jpg does not exist$/),
        });
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
          if (isPrepared(a.img) || isPrepared(b.img))
            throw new Error('a reader with no pack configs sent tensors');
          expect([a.img.width, a.img.height]).toEqual([b.img.width, b.img.height]);
          expect(Buffer.compare(Buffer.from(a.img.data), Buffer.from(b.img.data))).toBe(0);
        }
        const codes = await Promise.all(
          [empty, notes, bad, join(tmp, 'missing.png'), tmp].map((f) =>
            pool.read(f).then(
              () => 'ok',
              (e: { code: string }) => e.code,
            ),
          ),
        );
        expect(codes).toEqual([
          'empty_file',
          'unsupported_format',
          'decode_failed',
          'not_found',
          'not_a_file',
        ]);
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

    it('the first encoder run is short (the encoder starts after a few decodes), then full batches', async () => {
      const scorer = await PackScorer.load(await openPackFolder(TINY()), new NodeRuntime(1));
      const runs: number[] = [];
      const scoreImages = scorer.scoreImages.bind(scorer);
      scorer.scoreImages = (items) => {
        runs.push(items.length);
        return scoreImages(items);
      };
      const jobs = Array.from({ length: 23 }, (_, i) => ({ file: files[i % files.length], prompt: null }));
      const sizes = async (opts: { batch: number; firstRun?: number }): Promise<number[]> => {
        runs.length = 0;
        const got: number[] = [];
        await scoreFiles(scorer, jobs, { ...opts, reader: mainThreadReader() }, (r, i) => {
          expect(r.error).toBeNull();
          got.push(i);
        });
        expect(got).toEqual(jobs.map((_, i) => i));
        return [...runs];
      };
      try {
        const byDefault = await sizes({ batch: 8 });
        expect(byDefault[0]).toBe(Math.min(8, FIRST_RUN_IMAGES));
        expect(byDefault.slice(1, -1).every((k) => k === 8)).toBe(true);
        expect(byDefault.reduce((a, k) => a + k, 0)).toBe(23);
        expect(await sizes({ batch: 8, firstRun: 4 })).toEqual([4, 8, 8, 3]);
        expect(await sizes({ batch: 5, firstRun: 1 })).toEqual([1, 5, 5, 5, 5, 2]);
        // Never more than a batch, never less than one image.
        expect(await sizes({ batch: 2 })).toEqual([2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1]);
        expect(await sizes({ batch: 6, firstRun: 0 })).toEqual([1, 6, 6, 6, 4]);
      } finally {
        await scorer.release();
      }
    });
  },
);

describe('DecodePool', () => {
  it('refuses fewer than one thread', () => {
    expect(() => new DecodePool(0)).toThrow('at least 1 thread');
  });
});
