// One batch with every kind of bad file: each gets its own specific error on
// its card, and every good image in the same batch is still graded.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MAX_IMAGE_PIXELS } from '../src/model/limits.ts';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages, blackPng, payload } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

describeShared('bad inputs in one batch', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const good = agiqaImages(3);
  const jpeg = readFileSync(good[0].path);
  const huge = blackPng(12000, 12000);
  const bad = [
    {
      file: payload('notes.jpg', Buffer.from('these are my notes, not a picture\n'), 'image/jpeg'),
      code: 'unsupported_format',
      says: /text/,
    },
    {
      file: payload('cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'image/jpeg'),
      code: 'decode_failed',
      says: /truncated/,
    },
    { file: payload('empty.png', Buffer.alloc(0), 'image/png'), code: 'empty_file', says: /0 bytes/ },
    { file: payload('huge.png', huge, 'image/png'), code: 'image_too_large', says: /12000x12000/ },
    {
      file: payload(
        'drawing.svg',
        Buffer.from(
          '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
        ),
        'image/svg+xml',
      ),
      code: 'unsupported_format',
      says: /SVG/,
    },
  ];

  beforeAll(async () => {
    ({ browser, ui } = await openGrader());
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('crafted the bomb honestly: a valid PNG, tiny on disk, far over the pixel limit', () => {
    expect(huge.length).toBeLessThan(100_000);
    expect(12000 * 12000).toBeGreaterThan(MAX_IMAGE_PIXELS);
  });

  it('gives each bad file a specific error and grades the rest', async () => {
    // Half through the file input, half dropped on the drop zone, interleaved with the good ones.
    await ui.addFiles([good[0].path, ...bad.slice(0, 3).map((b) => b.file)]);
    await ui.dropFiles([
      payload(good[1].name, readFileSync(good[1].path), 'image/jpeg'),
      ...bad.slice(3).map((b) => b.file),
      payload(good[2].name, readFileSync(good[2].path), 'image/jpeg'),
    ]);
    expect(await ui.queuedCount()).toBe(good.length + bad.length);
    await ui.setBatchPrompt('a test prompt');
    await ui.gradeAll();
    await ui.waitForCards(good.length + bad.length);
    await ui.waitForIdle();
    for (const b of bad) {
      const err = await ui.errorOf(b.file.name);
      expect(err, b.file.name).not.toBeNull();
      expect(err!.code, b.file.name).toBe(b.code);
      expect(err!.text, b.file.name).toMatch(b.says);
    }
    for (const g of good) {
      expect(await ui.errorOf(g.name), g.name).toBeNull();
      expect(await ui.qualityOf(g.name), g.name).not.toBeNull();
    }
    await ui.page.screenshot({ path: '.cache/e2e/bad-inputs.png', fullPage: true });
  });

  it('filters the grid to errors only', async () => {
    await ui.showOnly('Errors');
    expect((await ui.cardNames()).sort()).toEqual(bad.map((b) => b.file.name).sort());
    await ui.showOnly('Graded');
    expect((await ui.cardNames()).sort()).toEqual(good.map((g) => g.name).sort());
    await ui.showOnly('All');
  });

  it('exports the errors in the result file too', async () => {
    const { json } = await ui.exportJson();
    const results = (json as { results: { file: string; error: { code: string } | null }[] }).results;
    for (const b of bad) expect(results.find((r) => r.file === b.file.name)?.error?.code).toBe(b.code);
  });
});
