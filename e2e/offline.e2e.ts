// After one online visit, the page reloads and grades with the network gone:
// the service worker serves the app shell, onnxruntime-web and the pack.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeShared } from '../test/shared.ts';
import { launch, type Browser } from './browser.ts';
import { AGIQA, serverNetwork, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';

describeShared('offline', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const [first, second] = agiqaImages(2);

  beforeAll(async () => {
    browser = await launch();
    ui = new GraderPage(await browser.context.newPage(), inject('baseUrl'));
  });

  afterAll(async () => {
    await serverNetwork(inject('baseUrl'), 'up');
    await browser?.close();
  });

  it('caches the shell and the pack on the first visit', async () => {
    await ui.open();
    await ui.waitForPack();
    await ui.waitForJs(
      `/Available offline|not saved/.test(document.querySelector('[aria-label="Offline status"]')?.textContent ?? '')`,
    );
    expect(await ui.offlineStatus.textContent()).toBe('Available offline');
    await ui.addFiles([first.path]);
    await ui.gradeAll();
    await ui.waitForCards(1);
  });

  it('reloads and grades with the network cut at the server and in the browser', async () => {
    await serverNetwork(inject('baseUrl'), 'down');
    await browser.context.setOffline(true);
    try {
      await ui.reload();
      await ui.waitForPack();
      await ui.waitForCards(1); // the result from the online visit, from IndexedDB
      await ui.addFiles([second.path]);
      await ui.gradeAll();
      await ui.waitForCards(2);
      await ui.waitForIdle();
      expect(await ui.errorOf(second.name)).toBeNull();
      expect(await ui.qualityOf(second.name)).not.toBeNull();
    } finally {
      await browser.context.setOffline(false);
      const net = await serverNetwork(inject('baseUrl'), 'up');
      // Whatever reached the server while it was down was dropped; the page did not depend on it.
      console.log(`offline test: ${net.blocked} requests reached the server while it was down`);
    }
  });
});
