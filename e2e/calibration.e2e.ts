// Calibration in the page (issue 26) as a person does it: grade a batch with the
// default pack, rate it by keyboard, fit, read the result, keep it as a pack,
// pick it and grade again; a ratings CSV with bad rows; a reload keeps the pack.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeWhen } from '../test/shared.ts';
import { existsSync } from 'node:fs';
import { launch, type Browser } from './browser.ts';
import { AGIQA, DEFAULT_PACK } from './env.ts';
import { agiqaImages, payload } from './files.ts';
import { CalibrationView } from './pages/calibration-view.ts';
import { GraderPage } from './pages/grader-page.ts';
import { sharedPath } from '../test/shared.ts';

const DEFAULT = DEFAULT_PACK.manifest;

describeWhen(
  'calibrating to my ratings in the page',
  {
    missing: !existsSync(sharedPath(AGIQA))
      ? '../shared is missing datasets/agiqa-3k'
      : !existsSync(DEFAULT)
        ? `the default pack is not in the e2e build (${DEFAULT})`
        : null,
    check: 'has AGIQA-3K and the default pack',
    ciHint: 'CI must provide ../shared and build the default pack (npm install).',
    tag: 'AGIQA-3K or default pack missing',
  },
  () => {
    let browser: Browser;
    let ui: GraderPage;
    let cal: CalibrationView;
    const images = agiqaImages(12);
    const errors: string[] = [];

    beforeAll(async () => {
      browser = await launch();
      const page = await browser.context.newPage();
      page.on('pageerror', (e) => errors.push(e.message));
      ui = new GraderPage(page, inject('baseUrl'));
      cal = new CalibrationView(page);
      await ui.open();
      await ui.waitForPack();
      await ui.selectPack('default');
      await ui.addFiles(images.map((im) => im.path));
      await ui.gradeAll();
      await ui.waitForCards(images.length);
      await ui.waitForIdle();
    });

    afterAll(async () => {
      await browser?.close();
    });

    it('rates by keyboard, fits, and shows what was learned', async () => {
      await cal.open();
      expect(await cal.counter()).toMatch(/^0 of 12 images rated · recalibrate needs 10 \(10 more\)/);
      // A harsh rater: mostly low grades, by digits and by label initials (b = bad, p = poor).
      await cal.rateByKeyboard(['1', 'b', '2', 'p', '1', '3', '2', '1', '2', '4', '1', '2']);
      expect(await cal.counter()).toMatch(
        /^12 of 12 images rated · recalibrate needs 10 ✓ · retrain needs 50 \(38 more\)/,
      );
      const text = await cal.fit();
      expect(text).toMatch(/Recalibrated .* on 12 ratings \(scale 1–5\)/);
      expect(text).toMatch(/SRCC/);
      expect(text).toMatch(/95% /);
      await expect
        .poll(() => cal.result.getByRole('img', { name: /Thresholds on the ability axis/ }).count())
        .toBe(1);
      const dist = cal.result.getByRole('table', { name: 'Grades of the batch, pack head and new head' });
      expect(await dist.getByRole('row').count()).toBe(1 + 5);
      // With twelve ratings the interval is wide: the page says so in plain words.
      expect(text).toMatch(/uncertain|worse|at least as well/);
    });

    it('keeps the fit as a pack, picks it and grades again on the new head', async () => {
      const msg = await cal.save('Harsh studio');
      expect(msg).toMatch(/Saved "Harsh studio" in this browser/);
      const option = ui.packSelect.locator('option', { hasText: 'Harsh studio' });
      await expect.poll(() => option.count()).toBe(1);
      expect(await ui.selectPack('my-harsh-studio')).toMatch(/^Loaded Harsh studio/);
      await ui.addFiles([images[0].path]);
      await ui.gradeAll();
      await ui.waitForIdle();
      expect(await ui.errorOf(images[0].name)).toBeNull();
    });

    it('lists the CSV rows it skipped and states the scale it inferred', async () => {
      const rows = [
        'name,rating',
        ...images.slice(0, 10).map((im, i) => `${im.name},${10 + i * 7}`),
        'not-in-the-page.jpg,50',
        `${images[10].name},great`,
      ];
      await cal.loadCsv(payload('ratings.csv', Buffer.from(rows.join('\n')), 'text/csv'));
      const report = await cal.csvReport().innerText();
      expect(report).toMatch(/1 row name no image in the page/);
      expect(report).toMatch(/line 12: not-in-the-page\.jpg/);
      expect(report).toMatch(/1 rating is not a number/);
      expect(report).toMatch(/line 13: .* “great”/);
      expect(await cal.scaleText()).toMatch(/Scale 0–100 \(inferred/);
    });

    it('keeps the saved pack over a reload, and deletes it only after a yes', async () => {
      await ui.reload();
      await ui.waitForPack();
      await expect.poll(() => ui.packSelect.locator('option', { hasText: 'Harsh studio' }).count()).toBe(1);
      await cal.open();
      await cal.deleteSaved('Harsh studio');
      await expect.poll(() => ui.packSelect.locator('option', { hasText: 'Harsh studio' }).count()).toBe(0);
      expect(errors).toEqual([]);
    });
  },
);
