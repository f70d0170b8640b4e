// A batch larger than one page of cards: the grid draws RESULTS_PAGE cards
// and a "Show more" button, while sort, the filters, "Find", compare and the
// exports still reach every result, not only the cards on the page.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ResultsFileSchema, type ImageResult } from '../src/model/grading/result.ts';
import { RESULTS_PAGE } from '../src/ui/paging.ts';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import type { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';
import { findByName, matchCount, resultTotal, showMoreButton, waitForResults } from './pages/results-grid.ts';

const EXTRA = 5;

describeShared('results beyond one page of cards', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const images = agiqaImages(RESULTS_PAGE + EXTRA);
  const pageErrors: string[] = [];
  let exported: ImageResult[] = [];

  beforeAll(async () => {
    ({ browser, ui } = await openGrader({ pageErrors }));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it(`grades ${RESULTS_PAGE + EXTRA} images, draws ${RESULTS_PAGE} cards and exports all of them`, async () => {
    expect(new Set(images.map((im) => im.name)).size).toBe(images.length);
    await ui.addFiles(images.map((im) => im.path));
    await ui.gradeAll();
    await waitForResults(ui.page, images.length, 300_000);
    await ui.waitForIdle();
    expect(await resultTotal(ui.page)).toBe(images.length);
    expect(await ui.cardCount()).toBe(RESULTS_PAGE);
    expect(await showMoreButton(ui.page).textContent()).toBe(`Show ${EXTRA} more`);
    // Cards come in the order added: the last EXTRA images have no card yet.
    expect(await ui.cardNames()).toEqual(images.slice(0, RESULTS_PAGE).map((im) => im.name));

    exported = ResultsFileSchema.parse((await ui.exportJson()).json).results;
    expect(exported.map((r) => r.file).sort()).toEqual(images.map((im) => im.name).sort());
    expect(exported.every((r) => r.error === null && r.quality !== null)).toBe(true);
    const csv = (await ui.exportCsv()).text.trim().split('\n');
    expect(csv.length).toBe(images.length + 1);
  });

  it('finds a result that has no card on the page by its file name', async () => {
    const hidden = images[images.length - 1].name;
    expect(await ui.card(hidden).count()).toBe(0);
    await findByName(ui.page, hidden.slice(0, -4).toUpperCase());
    await expect.poll(() => ui.cardNames()).toEqual([hidden]);
    expect(await matchCount(ui.page).textContent()).toContain('1 match');
    expect(await showMoreButton(ui.page).count()).toBe(0);
    await findByName(ui.page, '');
    await expect.poll(() => ui.cardCount()).toBe(RESULTS_PAGE);
  });

  it('sorts every result, not only the drawn cards', async () => {
    // Worst first over all results (ties in order added), as the page orders them.
    const added = new Map(images.map((im, i) => [im.name, i]));
    const worst = [...exported]
      .sort((a, b) => a.quality!.score - b.quality!.score || added.get(a.file)! - added.get(b.file)!)
      .map((r) => r.file);
    await ui.sortBy('Quality: worst first');
    await expect.poll(() => ui.cardNames()).toEqual(worst.slice(0, RESULTS_PAGE));
    await showMoreButton(ui.page).click();
    await expect.poll(() => ui.cardNames()).toEqual(worst);
    await ui.sortBy('Order added');
    await expect.poll(() => ui.cardNames()).toEqual(images.map((im) => im.name));
  });

  it('compares a card from the second page with one from the first', async () => {
    const first = images[0].name;
    const late = images[images.length - 1].name;
    await ui.toggleCompare(first);
    await ui.toggleCompare(late);
    const cols = ui.comparison.locator('.compare-col');
    await expect.poll(() => cols.locator('.card-name').allTextContents()).toEqual([first, late]);
    await ui.page.getByRole('button', { name: 'Close comparison' }).click();
    expect(pageErrors).toEqual([]);
  });
});
