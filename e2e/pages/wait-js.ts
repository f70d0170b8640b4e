// Waiting for an in-page expression to become truthy. Polled with page.evaluate (DevTools'
// evaluation, which the site's Content-Security-Policy does not govern) rather than
// page.waitForFunction, whose string predicates the page would have to eval, and the policy refuses.
import type { Page } from 'playwright-core';

export async function waitForJs(
  page: Page,
  expression: string,
  timeout: number,
  pollMs: number,
): Promise<void> {
  const until = Date.now() + timeout;
  for (;;) {
    if (await page.evaluate(expression)) return;
    if (Date.now() >= until) throw new Error(`timed out after ${timeout} ms waiting for: ${expression}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
