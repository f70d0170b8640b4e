// A 100-image batch is drawn a frame's share at a time (src/ui/paced.ts), and
// nothing is lost on the way: every image is queued, counted, graded and
// exported. Frames are observed in the page: a requestAnimationFrame loop
// records what the DOM gained (queue rows, cards) or lost (prompt boxes turned
// to text) since the frame before.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ResultsFileSchema } from '../src/model/grading/result.ts';
import { CARD_WEIGHT, QUEUE_ROWS, RESULTS_PAGE, UNITS_PER_FRAME } from '../src/ui/paging.ts';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import type { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';
import { resultTotal, waitForResults } from './pages/results-grid.ts';

interface FrameRecord {
  rows: number;
  cards: number;
  promptBoxesGone: number;
  running: boolean;
}

const RECORD_FRAMES = `(() => {
  const frames = [];
  let rows = 0, cards = 0, promptBoxesGone = 0;
  const count = (n, sel) => (n.matches(sel) ? 1 : 0) + n.querySelectorAll(sel).length;
  new MutationObserver((list) => {
    for (const m of list) {
      for (const n of m.addedNodes) {
        if (n.nodeType !== 1) continue;
        rows += count(n, '.queue-table tbody tr');
        cards += count(n, 'article.card');
      }
      for (const n of m.removedNodes) if (n.nodeType === 1 && n.matches('input.q-prompt')) promptBoxesGone++;
    }
  }).observe(document.body, { childList: true, subtree: true });
  const tick = () => {
    const running = [...document.querySelectorAll('button')].some((b) => b.textContent === 'Cancel' || b.textContent === 'Cancelling…');
    frames.push({ rows, cards, promptBoxesGone, running });
    rows = cards = promptBoxesGone = 0;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  window.__frames = frames;
})()`;

// Two frames first: rows counted since the last tick are pushed only at the next one.
const TAKE_FRAMES = `new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))).then(() => window.__frames.splice(0))`;

describeShared('a 100-image batch drawn a frame at a time', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const images = agiqaImages(100);
  const pageErrors: string[] = [];

  beforeAll(async () => {
    ({ browser, ui } = await openGrader({ pageErrors }));
    await ui.page.evaluate(RECORD_FRAMES);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it(`queues all ${images.length} images and draws the first ${QUEUE_ROWS} rows, at most ${UNITS_PER_FRAME} a frame`, async () => {
    await ui.page.evaluate(TAKE_FRAMES);
    await ui.addFiles(images.map((im) => im.path));
    await expect.poll(() => ui.queuedCount(), { timeout: 30_000 }).toBe(QUEUE_ROWS);
    const frames = (await ui.page.evaluate(TAKE_FRAMES)) as FrameRecord[];
    const added = frames.map((f) => f.rows).filter((n) => n > 0);
    expect(added.reduce((a, n) => a + n, 0)).toBe(QUEUE_ROWS);
    expect(Math.max(...added)).toBeLessThanOrEqual(UNITS_PER_FRAME);
    expect(added.length).toBeGreaterThanOrEqual(Math.ceil(QUEUE_ROWS / UNITS_PER_FRAME));

    // Counted and listed in the order given, the undrawn ones included.
    expect(await ui.page.getByRole('heading', { name: /^Queue/ }).textContent()).toBe(
      `Queue (${images.length})`,
    );
    expect(await ui.gradeButton.textContent()).toBe(`Grade ${images.length} images`);
    expect(await ui.page.locator('.queue-table tbody tr th').allTextContents()).toEqual(
      images.slice(0, QUEUE_ROWS).map((im) => im.name),
    );
    expect(await ui.page.getByText(`…and ${images.length - QUEUE_ROWS} more`).count()).toBe(1);
  });

  it('turns the rows to "in the batch" a frame\'s share at a time, grades every image and draws every card', async () => {
    await ui.page.evaluate(TAKE_FRAMES);
    await ui.gradeAll();
    // Every drawn row's prompt box becomes text (or the row is done and leaves the queue).
    await expect
      .poll(() => ui.page.locator('.queue-table input.q-prompt').count(), { timeout: 30_000 })
      .toBe(0);
    await waitForResults(ui.page, images.length, 300_000);
    await ui.waitForIdle();
    const frames = (await ui.page.evaluate(TAKE_FRAMES)) as FrameRecord[];

    // (A row that finishes before its turn leaves the table with its box: hence at most, not exactly, QUEUE_ROWS.)
    const boxes = frames.map((f) => f.promptBoxesGone).filter((n) => n > 0);
    expect(boxes.reduce((a, n) => a + n, 0)).toBeLessThanOrEqual(QUEUE_ROWS);
    expect(boxes.length).toBeGreaterThan(1);
    expect(Math.max(...boxes)).toBeLessThanOrEqual(UNITS_PER_FRAME);

    // While the batch runs, cards come a frame's share at a time; the frame that sees it end draws the rest.
    const cardsPerFrame = Math.max(1, Math.floor(UNITS_PER_FRAME / CARD_WEIGHT));
    const whileRunning = frames.filter((f, i) => f.running && frames[i - 1]?.running).map((f) => f.cards);
    expect(Math.max(...whileRunning)).toBeLessThanOrEqual(cardsPerFrame);
    expect(frames.reduce((a, f) => a + f.cards, 0)).toBe(RESULTS_PAGE);

    expect(await resultTotal(ui.page)).toBe(images.length);
    expect(await ui.cardCount()).toBe(RESULTS_PAGE);
    expect(await ui.page.locator('.results .count').textContent()).toBe(
      `Showing ${RESULTS_PAGE} of ${images.length} results`,
    );
    expect(await ui.queuedCount()).toBe(0);
    const exported = ResultsFileSchema.parse((await ui.exportJson()).json).results;
    expect(exported.map((r) => r.file).sort()).toEqual(images.map((im) => im.name).sort());
    expect(exported.every((r) => r.error === null && r.quality !== null)).toBe(true);
  });

  it('gives every drawn card its thumbnail, as a data: URL read without blocking the main thread', async () => {
    await expect
      .poll(() => ui.page.locator('article.card .thumb img[src^="data:image/jpeg;base64,"]').count(), {
        timeout: 30_000,
      })
      .toBe(RESULTS_PAGE);
    expect(pageErrors).toEqual([]);
  });
});
