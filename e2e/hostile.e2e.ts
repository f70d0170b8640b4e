// The hostile-input corpus (test/hostile-corpus.ts, built at test time) through
// the page, as a user would drop it: every file gets its exact error code and a
// message that is true for the page, the rest is graded, names stay text (no
// markup runs), and tiny or single-colour images carry their note on the card.
// FIFOs, links and packs are the CLI's part (test/hostile.test.ts).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildHostileFiles, type HostileFile } from '../test/hostile-corpus.ts';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { DEFAULT_PACK, TEST_PACK } from './env.ts';
import { payload } from './files.ts';
import type { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

const MIME: Record<string, string> = {
  jpg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
};

describeShared('hostile files through the page', [TEST_PACK.fixture], () => {
  let browser: Browser;
  let ui: GraderPage;
  let files: HostileFile[] = [];
  const pageErrors: string[] = [];
  const dialogs: string[] = [];

  beforeAll(async () => {
    files = await buildHostileFiles();
    ({ browser, ui } = await openGrader({ query: 'backend=wasm', pageErrors }));
    ui.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await ui.selectPack(DEFAULT_PACK.id);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('gives each file its exact code and a true message, grades the rest, and runs no markup', async () => {
    const half = Math.ceil(files.length / 2);
    const asPayload = (f: HostileFile) =>
      payload(f.name, f.bytes, MIME[f.name.split('.').pop() ?? ''] ?? 'application/octet-stream');
    await ui.addFiles(files.slice(0, half).map(asPayload));
    await ui.dropFiles(files.slice(half).map(asPayload));
    // The queue table shows a page of rows; the button counts them all.
    expect(await ui.gradeButton.textContent()).toBe(`Grade ${files.length} images`);
    await ui.gradeAll();
    await ui.waitForCards(files.length);
    await ui.waitForIdle();
    let errors = 0;
    let graded = 0;
    for (const f of files) {
      const err = await ui.errorOf(f.name);
      if (f.expect === 'graded') {
        expect(err, `${f.what}: ${err?.text}`).toBeNull();
        expect(await ui.qualityOf(f.name), f.what).not.toBeNull();
        const note = await ui.qualityNote(f.name);
        if (f.says) expect(note, f.what).toMatch(f.says);
        else expect(note, f.what).toBeNull();
        graded++;
      } else {
        expect(err?.code, `${f.what}: ${err?.text}`).toBe(f.expect);
        // The message names the file and says what is wrong.
        expect(err?.text, f.what).toContain(f.name);
        if (f.says) expect(err?.text, f.what).toMatch(f.says);
        errors++;
      }
    }
    expect(dialogs).toEqual([]);
    expect(await ui.page.locator('img[src="x"]').count()).toBe(0);
    expect(pageErrors).toEqual([]);
    console.log(
      `hostile suite (page): ${files.length} inputs tried, ${errors} clear errors, ${graded} graded, 0 crashed`,
    );
  });
});
