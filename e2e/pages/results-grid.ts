// The results grid beyond its first page of cards: totals, "Show more" and
// "Find". Kept beside GraderPage (which reads the drawn cards) as functions
// of a Page, so the two page objects can change independently.
import type { Locator, Page } from 'playwright-core';
import { waitForJs } from './wait-js.ts';

const WAIT = 120_000;
const TOTAL_EXPR = `Number(/of (\\d+) results?/.exec(document.querySelector('.results .count')?.textContent ?? '')?.[1] ?? 0)`;

/** Finished results (graded or failed), with a card on the page or not. */
export async function resultTotal(page: Page): Promise<number> {
  return (await page.evaluate(TOTAL_EXPR)) as number;
}

/** Waits until `n` images have a result, whether or not their cards are drawn. */
export async function waitForResults(page: Page, n: number, timeout = WAIT): Promise<void> {
  await waitForJs(page, `${TOTAL_EXPR} >= ${Number(n)}`, timeout, 250);
}

/** "Show N more" under the grid (absent when every matching card is drawn). */
export function showMoreButton(page: Page): Locator {
  return page.getByRole('button', { name: /^Show \d+ more$/ });
}

/** How many results match the filters, when that differs from the total ("(N match)"). */
export function matchCount(page: Page): Locator {
  return page.getByTestId('match-count');
}

/** Shows only results whose file name contains `text` ('' shows all). */
export async function findByName(page: Page, text: string): Promise<void> {
  await page.getByLabel('Find results by file name').fill(text);
}
