// Cancelling mid-batch stops the work, keeps what finished, and leaves the rest re-queueable.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

describeShared('cancel', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const images = agiqaImages(120);

  beforeAll(async () => {
    ({ browser, ui } = await openGrader());
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('stops mid-batch and keeps finished results', async () => {
    await ui.addFiles(images.map((im) => im.path));
    await ui.gradeAll();
    await ui.waitForCards(3);
    await ui.cancelButton.click();
    await ui.waitForIdle(30_000);
    const finished = await ui.cardCount();
    expect(finished).toBeGreaterThanOrEqual(3);
    expect(finished).toBeLessThan(images.length);
    // The queue table draws its first 50 rows; the re-queue button counts them all.
    const drawn = await ui.page.locator('.queue-table tbody tr[data-status="cancelled"]').count();
    expect(drawn).toBe(Math.min(50, images.length - finished));
    await expect
      .poll(() => ui.page.getByRole('button', { name: /^Re-queue \d+ cancelled$/ }).textContent())
      .toBe(`Re-queue ${images.length - finished} cancelled`);
    // Nothing keeps running in the background.
    await ui.page.waitForTimeout(1500);
    expect(await ui.cardCount()).toBe(finished);
    for (let i = 0; i < 3; i++) expect(await ui.qualityOf(images[i].name)).not.toBeNull();
  });

  it('keeps the finished results after a reload', async () => {
    const finished = await ui.cardCount();
    await ui.reload();
    await ui.waitForCards(finished);
    expect(await ui.cardCount()).toBe(finished);
  });
});
