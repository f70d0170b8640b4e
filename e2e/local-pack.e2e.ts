// A pack picked from a local folder (never uploaded) loads and grades.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeShared, sharedPath } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

describeShared('pack from a local folder', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const [image] = agiqaImages(1);

  beforeAll(async () => {
    ({ browser, ui } = await openGrader());
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('loads the folder through the folder picker and grades with it', async () => {
    const requests: string[] = [];
    ui.page.on('request', (r) => {
      if (r.url().includes('/models/')) requests.push(r.url());
    });
    await ui.loadLocalPack(sharedPath(TEST_PACK.fixture));
    const state = await ui.waitForPack();
    expect(state).toMatch(/^Loaded tiny-clip/);
    expect(await ui.packSelect.inputValue()).toBe('');
    expect(await ui.packSelect.locator('option:checked').textContent()).toMatch(/local folder/);
    // The pack came from the picked files, not from the site.
    expect(requests).toEqual([]);
    await ui.addFiles([image.path]);
    await ui.gradeAll();
    await ui.waitForCards(1);
    await ui.waitForIdle();
    expect(await ui.qualityOf(image.name)).not.toBeNull();
  });

  it('refuses a folder that is not a pack, says why, and keeps the loaded pack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agqg-not-a-pack-'));
    mkdirSync(join(dir, 'holiday-photos'));
    writeFileSync(join(dir, 'holiday-photos', 'README.txt'), 'just notes');
    try {
      await ui.loadLocalPack(join(dir, 'holiday-photos'));
      const alert = ui.page.locator('.pack-state').getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toMatch(/is not a pack.*pack_invalid/s);
      expect(await alert.textContent()).toContain('still using tiny-clip');
      // Grading still works with the pack that was loaded before.
      const [, second] = agiqaImages(2);
      await ui.addFiles([second.path]);
      await ui.gradeAll();
      await ui.waitForCards(2);
      expect(await ui.qualityOf(second.name)).not.toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
