// The weight-variant picker. tiny-clip has fp32 graphs only, so this pack
// carries the same fp32 graphs a second time under the q8 file names
// (transformers.js's *_quantized.onnx): it tests which file the page picks by
// default on each backend, loads and shows, not quantization itself.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ResultsFileSchema } from '../src/model/grading/result.ts';
import { describeShared, sharedPath } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';
import { servePack } from './served-packs.ts';

const PACK_ID = 'tiny-clip-variants';

describeShared('weight variants', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  let tmp: string;
  let unserve: () => void = () => {};

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'agqg-e2e-variants-'));
    const dir = join(tmp, PACK_ID);
    cpSync(sharedPath(TEST_PACK.fixture), dir, { recursive: true });
    for (const m of ['vision_model', 'text_model'])
      cpSync(join(dir, 'onnx', `${m}.onnx`), join(dir, 'onnx', `${m}_quantized.onnx`));
    unserve = servePack(dir, {
      id: PACK_ID,
      name: 'Tiny CLIP with q8 file names',
      description: 'variant picker test',
    });
    ({ browser, ui } = await openGrader({ query: 'backend=wasm&debug=1' }));
    await ui.packSelect.selectOption(PACK_ID);
    await ui.waitForJs(`(document.querySelector('.pack-state')?.textContent ?? '').includes('q8 weights')`);
  });

  afterAll(async () => {
    await browser?.close();
    unserve();
    rmSync(tmp, { recursive: true, force: true });
  });

  interface Variant {
    dtype: string;
    available: string[];
    visionFile: string;
    textFile: string | null;
  }
  const variant = async (): Promise<Variant> =>
    (await ui.page.evaluate('window.__agqg.pack().variant')) as Variant;

  it('defaults to q8 on WASM and shows it', async () => {
    const v = await variant();
    expect(v.available).toEqual(['fp32', 'q8']);
    expect(v).toMatchObject({
      dtype: 'q8',
      visionFile: 'onnx/vision_model_quantized.onnx',
      textFile: 'onnx/text_model_quantized.onnx',
    });
    expect(await ui.variantSelect.inputValue()).toBe('q8');
    expect(await ui.variantSelect.getAttribute('title')).toMatch(/default on WASM/);
    expect(await ui.page.getByTestId('variant-in-use').textContent()).toMatch(/q8 weights/);
  });

  it('switches to fp32 when picked, and grades with it', async () => {
    const [im] = agiqaImages(1);
    await ui.variantSelect.selectOption('fp32');
    await ui.waitForJs(`(document.querySelector('.pack-state')?.textContent ?? '').includes('fp32 weights')`);
    const v = await variant();
    expect(v).toMatchObject({
      dtype: 'fp32',
      visionFile: 'onnx/vision_model.onnx',
      textFile: 'onnx/text_model.onnx',
    });
    expect(await ui.variantSelect.getAttribute('title')).toMatch(/chosen on this page/);
    await ui.addFiles([im.path]);
    await ui.promptInput(im.name).fill(im.prompt);
    await ui.gradeAll();
    await ui.waitForCards(1);
    await ui.waitForIdle();
    expect(await ui.alignmentOf(im.name)).not.toBeNull();
  });

  it('grades an edited prompt from the image file when the weights changed since', async () => {
    const [im] = agiqaImages(1);
    await ui.variantSelect.selectOption('q8');
    await ui.waitForJs(`(document.querySelector('.pack-state')?.textContent ?? '').includes('q8 weights')`);
    // The kept embedding came from the fp32 graph: the page must not mix it with the q8 one; it has the file, so it regrades.
    await ui.editPromptOnCard(im.name, 'statue of a man');
    expect(await ui.alignmentOf(im.name)).not.toBeNull();
    expect(await ui.errorOf(im.name)).toBeNull();
    const { json } = await ui.exportJson();
    const r = ResultsFileSchema.parse(json).results.find((x) => x.file === im.name)!;
    expect(r.prompt).toBe('statue of a man');
    // Decoded again: graded from the file, not from the fp32 embedding.
    expect(r.timings.decodeMs).toBeGreaterThan(0);
  });
});
