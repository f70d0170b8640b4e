// The set-up the e2e files share: a fresh browser on the grader page, opened with a query,
// the page's uncaught errors collected (when asked), and the pack loaded.
import { inject } from 'vitest';
import { launch, type Browser } from '../browser.ts';
import { GraderPage } from './grader-page.ts';

export interface OpenGraderOptions {
  /** The page's URL query, e.g. 'backend=wasm&debug=1'. */
  query?: string;
  /** Software WebGPU (launch({ webgpu: true })) instead of no GPU. */
  webgpu?: boolean;
  /** Where the page's uncaught errors go. */
  pageErrors?: string[];
}

/** Opens the page and waits for its pack; when that fails, the browser is closed before the error is thrown. */
export async function openGrader(
  opts: OpenGraderOptions = {},
): Promise<{ browser: Browser; ui: GraderPage }> {
  const browser = await launch({ webgpu: opts.webgpu });
  try {
    const page = await browser.context.newPage();
    const pageErrors = opts.pageErrors;
    if (pageErrors) page.on('pageerror', (e) => pageErrors.push(e.message));
    const ui = new GraderPage(page, inject('baseUrl'));
    await ui.open(opts.query);
    await ui.waitForPack();
    return { browser, ui };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
