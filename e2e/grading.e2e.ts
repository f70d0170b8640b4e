// The main path: a served pack loads, ten AGIQA-3K images with prompts from a
// CSV are graded, and the exports are valid result files.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { parseCsvTable } from '../src/model/util/csv.ts';
import { ResultsFileSchema } from '../src/model/grading/result.ts';
import { describeShared } from '../test/shared.ts';
import { launch, type Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages, csvOf, payload } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';

describeShared('grading in the browser', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const images = agiqaImages(10);
  const dialogs: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await launch();
    const page = await browser.context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    ui = new GraderPage(page, inject('baseUrl'));
    await ui.open();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads the served pack and reports the backend actually running', async () => {
    const text = await ui.waitForPack();
    expect(text).toMatch(/^Loaded/);
    expect(await ui.packSelect.inputValue()).toBe(TEST_PACK.id);
    // Headless Chromium with --disable-gpu has no WebGPU adapter: the worker must say WASM, not guess.
    expect(await ui.backendText()).toMatch(/WASM/);
  });

  it('grades ten images with prompts from a CSV, showing a card per image', async () => {
    await ui.addFiles([...images.map((im) => im.path)]);
    await ui.addFiles([csvOf(images)]);
    // The page applies a CSV's prompts in a later task and draws rows a few a frame: wait for them.
    for (const im of images)
      await expect.poll(() => ui.promptInput(im.name).inputValue(), { timeout: 10_000 }).toBe(im.prompt);
    await ui.gradeAll();
    await ui.waitForCards(images.length);
    await ui.waitForIdle();
    for (const im of images) {
      expect(await ui.errorOf(im.name)).toBeNull();
      const q = await ui.qualityOf(im.name);
      expect(q, im.name).not.toBeNull();
      expect(Number.isFinite(q!.score)).toBe(true);
    }
    expect(pageErrors).toEqual([]);
  });

  it('exports JSON in the result schema with proper GRM distributions', async () => {
    const { name, json } = await ui.exportJson();
    expect(name).toMatch(/\.json$/);
    const file = ResultsFileSchema.parse(json);
    expect(file.pack.id).toBe(TEST_PACK.id);
    expect(file.results.map((r) => r.file).sort()).toEqual(images.map((im) => im.name).sort());
    for (const r of file.results) {
      const im = images.find((x) => x.name === r.file)!;
      expect(r.prompt).toBe(im.prompt);
      expect(r.error).toBeNull();
      for (const g of [r.quality, r.alignment]) {
        if (!g) continue;
        const sum = g.probabilities.reduce((s, p) => s + p, 0);
        expect(Math.abs(sum - 1)).toBeLessThanOrEqual(1e-6);
        for (let k = 1; k < g.thresholds.length; k++)
          expect(g.thresholds[k]).toBeGreaterThan(g.thresholds[k - 1]);
        expect(g.labels[g.gradeIndex]).toBe(g.grade);
      }
      expect(r.quality).not.toBeNull();
      expect(r.backend).toMatch(/wasm/);
    }
  });

  it('sorts by score and compares two images side by side', async () => {
    const scores = new Map<string, number>();
    for (const im of images) scores.set(im.name, (await ui.qualityOf(im.name))!.score);
    await ui.sortBy('Quality: best first');
    const shown = await ui.cardNames();
    const shownScores = shown.map((n) => scores.get(n)!);
    // Cards show scores to 2 decimals; the order comes from the full-precision scores.
    for (let i = 1; i < shownScores.length; i++)
      expect(shownScores[i]).toBeLessThanOrEqual(shownScores[i - 1]);
    await ui.sortBy('Order added');
    expect(await ui.cardNames()).toEqual(images.map((im) => im.name));

    await ui.toggleCompare(images[0].name);
    await ui.toggleCompare(images[1].name);
    const cols = ui.comparison.locator('.compare-col');
    expect(await cols.count()).toBe(2);
    expect(await cols.locator('.card-name').allTextContents()).toEqual([images[0].name, images[1].name]);
    // Each compared image brings its GRM chart, with the numbers as a table.
    expect(await ui.comparison.getByRole('img', { name: /^Quality: ability θ/ }).count()).toBe(2);
    await ui.page.getByRole('button', { name: 'Close comparison' }).click();
    expect(await ui.comparison.count()).toBe(0);
  });

  it('draws the GRM chart with the numbers it claims', async () => {
    const card = ui.card(images[0].name);
    const { json } = await ui.exportJson();
    const r = ResultsFileSchema.parse(json).results.find((x) => x.file === images[0].name)!;
    const q = r.quality!;
    const chart = card.getByRole('img', { name: /^Quality: ability θ/ });
    const label = (await chart.getAttribute('aria-label')) ?? '';
    expect(label).toContain(`θ = ${q.ability.toFixed(2)}`);
    expect(label).toContain(`most likely grade "${q.grade}"`);
    // One threshold line per b_k, one bar per grade.
    expect(await chart.locator('.grm-threshold').count()).toBe(q.thresholds.length);
    expect(await chart.locator('.grm-bar').count()).toBe(q.labels.length);
    const rows = card.locator('.grm-data').first().locator('tbody tr');
    expect(await rows.count()).toBe(q.labels.length);
    for (let k = 0; k < q.labels.length; k++) {
      const cells = await rows.nth(k).locator('th, td').allTextContents();
      expect(cells[0]).toBe(q.labels[k]);
      expect(Number(cells[2])).toBeCloseTo(q.probabilities[k], 4);
    }
  });

  it('exports CSV with one row per image', async () => {
    const { text } = await ui.exportCsv();
    const table = parseCsvTable(text, 'export.csv');
    expect(table.header.slice(0, 3)).toEqual(['file', 'pack', 'prompt']);
    expect(table.rows.map((r) => r.file).sort()).toEqual(images.map((im) => im.name).sort());
  });

  it('keeps results across a reload', async () => {
    const before = await ui.qualityOf(images[0].name);
    await ui.reload();
    await ui.waitForCards(images.length);
    expect(await ui.cardCount()).toBe(images.length);
    expect(await ui.qualityOf(images[0].name)).toEqual(before);
    await ui.page.screenshot({ path: '.cache/e2e/grading.png', fullPage: false });
    await ui.page.setViewportSize({ width: 390, height: 844 });
    await ui.page.screenshot({ path: '.cache/e2e/grading-phone.png', fullPage: false });
    await ui.page.setViewportSize({ width: 1360, height: 900 });
  });

  it('shows a file named like markup as text and runs none of it', async () => {
    const evil = '<img src=x onerror=alert(1)>.png';
    await ui.waitForPack();
    await ui.addFiles([payload(evil, readFileSync(images[0].path), 'image/png')]);
    await ui.gradeAll();
    await ui.waitForCards(images.length + 1);
    const card = ui.card(evil);
    expect(await card.getByRole('heading').textContent()).toBe(evil);
    expect(await ui.page.locator('img[src="x"]').count()).toBe(0);
    // Give an injected onerror handler time to fire if it had been parsed as markup.
    await ui.page.waitForTimeout(500);
    expect(dialogs).toEqual([]);
  });
});
