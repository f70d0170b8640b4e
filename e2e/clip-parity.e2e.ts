// The page's embeddings against the Python reference (tiny-clip-refs): every
// fixture image (PNG and JPEG, decoded by the browser) and every prompt, on
// WASM; then one image and one prompt on WebGPU (SwiftShader, software).
// Measured numbers go to the log and to .cache/e2e/clip-parity.json.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { decodeImage as decodeNode } from '../src/cli/decode.ts';
import { cosine } from '../src/model/grading/similarity.ts';
import { describeShared, ROOT, sharedPath } from '../test/shared.ts';
import { launch, type Browser } from './browser.ts';
import { TEST_PACK } from './env.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

const REFS = 'fixtures/tiny-clip-refs';
/** The brief's bars: exact decoders (PNG) and the tokenizer leave only float noise; JPEG decoders may differ by a level. */
const MIN_COSINE_EXACT = 0.9999;
const MIN_COSINE_JPEG = 0.999;

interface RefImage {
  file: string;
  size: [number, number];
  pixel_values: string;
  image_embeds: number[];
}
interface RefPrompt {
  text: string;
  ids_untruncated_len: number;
  text_embeds: number[];
}

const isJpeg = (file: string): boolean => /\.jpe?g$/i.test(file);

function readF32(path: string): Float32Array {
  const buf = readFileSync(path);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

interface ImageMeasure {
  file: string;
  cosine: number;
  /** Decoded RGB channel values that differ from the Node decoder (libjpeg-turbo as PIL uses it), of all. */
  rgbDiffering: number;
  rgbTotal: number;
  rgbMaxDiff: number;
  /** Model-input values that differ from the reference pixel_values by more than float noise, of all. */
  pixelValuesDiffering: number;
  pixelValuesTotal: number;
  pixelValuesMaxAbsDiff: number;
}

/** Float noise of the reference's float32 preprocessing (one 8-bit level is ~0.015 after normalising). */
const PIXEL_VALUE_NOISE = 1e-5;

function measureImage(
  file: string,
  page: { embedding: number[] | null; pixelValues: Float32Array | null; rgba: Uint8Array | null },
  ref: RefImage,
): ImageMeasure {
  const bytes = readFileSync(sharedPath(REFS, ref.file));
  const node = decodeNode(new Uint8Array(bytes), ref.file);
  const rgba = page.rgba as Uint8Array;
  expect(rgba.length, `${file}: decoded size`).toBe(node.data.length);
  let rgbDiffering = 0;
  let rgbMaxDiff = 0;
  for (let i = 0; i < rgba.length; i++) {
    if (i % 4 === 3) continue;
    const d = Math.abs(rgba[i] - node.data[i]);
    if (d > 0) rgbDiffering++;
    if (d > rgbMaxDiff) rgbMaxDiff = d;
  }
  const refPixels = readF32(sharedPath(REFS, ref.pixel_values));
  const pv = page.pixelValues as Float32Array;
  expect(pv.length, `${file}: pixel_values size`).toBe(refPixels.length);
  let pvDiffering = 0;
  let pvMax = 0;
  for (let i = 0; i < pv.length; i++) {
    const d = Math.abs(pv[i] - refPixels[i]);
    if (d > PIXEL_VALUE_NOISE) pvDiffering++;
    if (d > pvMax) pvMax = d;
  }
  return {
    file,
    cosine: cosine(Float32Array.from(page.embedding as number[]), Float32Array.from(ref.image_embeds)),
    rgbDiffering,
    rgbTotal: (rgba.length / 4) * 3,
    rgbMaxDiff,
    pixelValuesDiffering: pvDiffering,
    pixelValuesTotal: pv.length,
    pixelValuesMaxAbsDiff: pvMax,
  };
}

const report: Record<string, unknown> = {};

function saveReport(): void {
  const dir = resolve(ROOT, '.cache/e2e');
  mkdirSync(dir, { recursive: true });
  writeFileSync(resolve(dir, 'clip-parity.json'), JSON.stringify(report, null, 2));
}

describeShared('CLIP parity of the page with the Python reference', [TEST_PACK.fixture, REFS], () => {
  const refs = JSON.parse(readFileSync(sharedPath(REFS, 'refs.json'), 'utf8')) as {
    images: RefImage[];
    prompts: RefPrompt[];
  };

  afterAll(() => saveReport());

  describe('WASM', () => {
    let browser: Browser;
    let ui: GraderPage;

    beforeAll(async () => {
      ({ browser, ui } = await openGrader({ query: 'backend=wasm&debug=1' }));
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('every fixture image: PNG cosine >= 0.9999, JPEG >= 0.999 (decoded by the browser)', async () => {
      const measures: ImageMeasure[] = [];
      for (const ref of refs.images) {
        const out = await ui.embed([readFileSync(sharedPath(REFS, ref.file))], [], {
          pixels: true,
          rgba: true,
        });
        expect(out.backend.kind).toBe('wasm');
        const im = out.images[0];
        expect(im.error, ref.file).toBeNull();
        expect([im.width, im.height], ref.file).toEqual(ref.size);
        measures.push(measureImage(ref.file, im, ref));
      }
      report.wasmImages = measures;
      console.table(
        measures.map((m) => ({
          file: m.file,
          cosine: m.cosine.toFixed(7),
          'rgb differing': `${m.rgbDiffering}/${m.rgbTotal} (max ${m.rgbMaxDiff})`,
          'pixel_values differing': `${m.pixelValuesDiffering}/${m.pixelValuesTotal} (max ${m.pixelValuesMaxAbsDiff.toExponential(2)})`,
        })),
      );
      for (const m of measures) {
        expect(m.cosine, m.file).toBeGreaterThanOrEqual(isJpeg(m.file) ? MIN_COSINE_JPEG : MIN_COSINE_EXACT);
      }
      // Both decoders are exact for PNG: the page's model input must match the reference's.
      for (const m of measures.filter((x) => !isJpeg(x.file))) expect(m.rgbDiffering, m.file).toBe(0);
    });

    it('every reference prompt: cosine >= 0.9999, same token counts and truncation', async () => {
      const out = await ui.embed(
        [],
        refs.prompts.map((p) => p.text),
      );
      const rows = refs.prompts.map((p, i) => {
        const t = out.texts[i];
        expect(t.text).toBe(p.text);
        return {
          text: p.text.length > 40 ? `${p.text.slice(0, 37)}...` : p.text,
          cosine: cosine(Float32Array.from(t.embedding), Float32Array.from(p.text_embeds)),
          tokens: t.tokens,
          truncated: t.truncated,
          refTokens: p.ids_untruncated_len,
        };
      });
      report.wasmTexts = rows;
      console.table(rows.map((r) => ({ ...r, cosine: r.cosine.toFixed(7) })));
      const context = 77;
      for (const r of rows) {
        expect(r.cosine, r.text).toBeGreaterThanOrEqual(MIN_COSINE_EXACT);
        expect(r.tokens, r.text).toBe(Math.min(r.refTokens, context));
        expect(r.truncated, r.text).toBe(r.refTokens > context);
      }
    });
  });

  describe('WebGPU (SwiftShader)', () => {
    let browser: Browser;
    let ui: GraderPage;
    let adapter: string | null = null;

    beforeAll(async () => {
      browser = await launch({ webgpu: true });
      ui = new GraderPage(await browser.context.newPage(), inject('baseUrl'));
      await ui.open('backend=webgpu&debug=1');
      adapter = (await ui.page.evaluate(`(async () => {
        const a = navigator.gpu ? await navigator.gpu.requestAdapter() : null;
        return a ? [a.info.vendor, a.info.architecture].filter(Boolean).join(' ') || 'adapter' : null;
      })()`)) as string | null;
      report.webgpuAdapter = adapter;
      await ui.waitForPack();
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('one PNG and one prompt match the reference on WebGPU, or the page reports its fallback', async () => {
      const ref = refs.images.find((r) => r.file.endsWith('pub_astronaut.png')) as RefImage;
      const prompt = refs.prompts[0];
      const out = await ui.embed([readFileSync(sharedPath(REFS, ref.file))], [prompt.text]);
      const backendTitle = (await ui.backend.getAttribute('title')) ?? '';
      if (adapter === null) {
        // No software adapter on this machine: the page must run WASM and say why.
        console.warn(
          `WebGPU: no adapter under ${JSON.stringify(launch.name)} flags; checking the fallback instead`,
        );
        expect(out.backend.kind).toBe('wasm');
        expect(await ui.backendText()).toMatch(/WASM/);
        expect(backendTitle).toMatch(/no WebGPU adapter/);
        report.webgpu = { fallback: true, reason: out.backend.reason };
        return;
      }
      expect(out.backend.kind, out.backend.reason).toBe('webgpu');
      expect(await ui.backendText()).toMatch(/WebGPU/);
      const imageCos = cosine(
        Float32Array.from(out.images[0].embedding as number[]),
        Float32Array.from(ref.image_embeds),
      );
      const textCos = cosine(
        Float32Array.from(out.texts[0].embedding),
        Float32Array.from(prompt.text_embeds),
      );
      report.webgpu = {
        adapter,
        backend: out.backend,
        image: ref.file,
        imageCosine: imageCos,
        prompt: prompt.text,
        textCosine: textCos,
      };
      console.log(
        `WebGPU (${adapter}): ${ref.file} cosine ${imageCos.toFixed(7)}; "${prompt.text}" cosine ${textCos.toFixed(7)}`,
      );
      expect(imageCos).toBeGreaterThanOrEqual(MIN_COSINE_EXACT);
      expect(textCos).toBeGreaterThanOrEqual(MIN_COSINE_EXACT);
    });
  });
});
