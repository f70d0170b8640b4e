// The set-up most e2e files share: a fresh browser on the grader page, the page's
// uncaught errors collected, and the pack loaded.
import { inject } from 'vitest';
import { launch, type Browser } from '../browser.ts';
import { GraderPage } from './grader-page.ts';

/** Opens the page with `query` (e.g. 'backend=wasm') and waits for the pack; page errors go to `pageErrors`. */
export async function openGrader(
  pageErrors: string[],
  query = '',
): Promise<{ browser: Browser; ui: GraderPage }> {
  const browser = await launch();
  const page = await browser.context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  const ui = new GraderPage(page, inject('baseUrl'));
  await ui.open(query);
  await ui.waitForPack();
  return { browser, ui };
}
