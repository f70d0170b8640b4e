// Page object for the grader: tests talk about packs, images, cards and
// exports; selectors (roles and labels, as a screen reader would find them) live here.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Download, Locator, Page } from 'playwright-core';

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const WAIT = 120_000;

export class GraderPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(query = ''): Promise<void> {
    await this.page.goto(new URL(query ? `/?${query}` : '/', this.baseUrl).href);
  }

  async reload(): Promise<void> {
    await this.page.reload();
  }

  get backend(): Locator {
    return this.page.getByRole('status', { name: 'Backend' });
  }

  get offlineStatus(): Locator {
    return this.page.getByRole('status', { name: 'Offline status' });
  }

  get packSelect(): Locator {
    return this.page.getByLabel('Model pack');
  }

  /** Picks a pack folder through the folder input (webkitdirectory) behind "Load a pack from a local folder…". */
  async loadLocalPack(dir: string): Promise<void> {
    await this.page.getByLabel('Load a pack from a local folder').setInputFiles(dir);
    // The picker shows "(local folder)" once the new pack replaced the served one.
    await this.waitForJs(
      `/local folder/.test(document.querySelector('.pack-picker select')?.selectedOptions[0]?.textContent ?? '') ||
       /could not be loaded/.test(document.querySelector('.pack-state')?.textContent ?? '')`,
    );
  }

  /** Waits until a pack is loaded ("Loaded <name>") or fails with the page's error. */
  async waitForPack(): Promise<string> {
    const state = this.page.locator('.pack-state');
    await this.waitForJs(`(() => {
        const t = document.querySelector('.pack-state')?.textContent ?? '';
        return t.startsWith('Loaded') || t.includes('could not be loaded');
      })()`);
    const text = (await state.textContent()) ?? '';
    if (!text.startsWith('Loaded')) throw new Error(`pack did not load: ${text}`);
    return text;
  }

  async backendText(): Promise<string> {
    await this.waitForJs(`!(document.querySelector('[data-testid="backend"]')?.textContent ?? '').includes('starting')`);
    return (await this.backend.textContent()) ?? '';
  }

  /** In-page code as a string expression: this project is type-checked without DOM types outside the page. */
  async waitForJs(expression: string, timeout = WAIT): Promise<void> {
    await this.page.waitForFunction(expression, undefined, { timeout });
  }

  /** Adds files (paths on disk or in-memory payloads) through the visually hidden input behind "Choose images…". */
  async addFiles(files: Array<string | FilePayload>): Promise<void> {
    const payloads = await Promise.all(
      files.map(async (f) =>
        typeof f === 'string' ? { name: basename(f), mimeType: mimeOf(f), buffer: await readFile(f) } : f,
      ),
    );
    await this.page.getByLabel('Choose images', { exact: true }).setInputFiles(payloads);
  }

  /** Drops files on the drop zone with a real DataTransfer built in the page. */
  async dropFiles(files: FilePayload[]): Promise<void> {
    const payload = files.map((f) => ({ name: f.name, type: f.mimeType, b64: f.buffer.toString('base64') }));
    const dt = await this.page.evaluateHandle(`(() => {
      const transfer = new DataTransfer();
      for (const it of ${JSON.stringify(payload)}) {
        const bin = Uint8Array.from(atob(it.b64), (c) => c.charCodeAt(0));
        transfer.items.add(new File([bin], it.name, { type: it.type }));
      }
      return transfer;
    })()`);
    const zone = this.page.getByRole('region', { name: 'Drop images or folders here' });
    await zone.dispatchEvent('dragover', { dataTransfer: dt });
    await zone.dispatchEvent('drop', { dataTransfer: dt });
  }

  get gradeButton(): Locator {
    return this.page.getByRole('button', { name: /^Grade \d+ images?$/ });
  }

  get cancelButton(): Locator {
    return this.page.getByRole('button', { name: 'Cancel', exact: true });
  }

  async queuedCount(): Promise<number> {
    return this.page.locator('.queue-table tbody tr').count();
  }

  async setBatchPrompt(prompt: string): Promise<void> {
    await this.page.getByLabel('Prompt for the whole batch').fill(prompt);
    await this.page.getByRole('button', { name: 'Apply to queue' }).click();
  }

  promptInput(name: string): Locator {
    return this.page.getByLabel(`Prompt for ${name}`, { exact: true });
  }

  async gradeAll(): Promise<void> {
    await this.gradeButton.click();
  }

  card(name: string): Locator {
    return this.page.getByRole('article', { name: `Result for ${name}`, exact: true });
  }

  get cards(): Locator {
    return this.page.locator('article.card');
  }

  async cardCount(): Promise<number> {
    return this.cards.count();
  }

  async waitForCards(n: number, timeout = WAIT): Promise<void> {
    await this.waitForJs(`document.querySelectorAll('article.card').length >= ${Number(n)}`, timeout);
  }

  /** Waits until no batch is running (no Cancel button). */
  async waitForIdle(timeout = WAIT): Promise<void> {
    await this.waitForJs(
      `![...document.querySelectorAll('button')].some((b) => b.textContent === 'Cancel' || b.textContent === 'Cancelling…')`,
      timeout,
    );
  }

  async errorOf(name: string): Promise<{ code: string | null; text: string } | null> {
    const err = this.card(name).locator('[data-error-code]').first();
    if ((await err.count()) === 0) return null;
    return { code: await err.getAttribute('data-error-code'), text: (await err.textContent()) ?? '' };
  }

  async qualityOf(name: string): Promise<{ grade: string; score: number } | null> {
    const card = this.card(name);
    const grade = card.getByTestId('quality-grade').first();
    if ((await grade.count()) === 0) return null;
    const score = (await card.getByTestId('quality-score').first().textContent()) ?? '';
    return { grade: ((await grade.textContent()) ?? '').trim(), score: Number.parseFloat(score) };
  }

  /** Card file names in the order the grid shows them. */
  async cardNames(): Promise<string[]> {
    return this.cards.locator('h3').allTextContents();
  }

  async sortBy(label: string): Promise<void> {
    await this.page.getByLabel('Sort results').selectOption({ label });
  }

  async showOnly(label: 'All' | 'Graded' | 'Errors'): Promise<void> {
    await this.page.getByLabel('Filter by status').selectOption({ label });
  }

  async toggleCompare(name: string): Promise<void> {
    await this.page.getByLabel(`Compare ${name}`, { exact: true }).click();
  }

  get comparison(): Locator {
    return this.page.getByRole('region', { name: 'Comparison' });
  }

  private async download(button: string): Promise<Download> {
    const [dl] = await Promise.all([this.page.waitForEvent('download'), this.page.getByRole('button', { name: button }).click()]);
    return dl;
  }

  async exportJson(): Promise<{ name: string; json: unknown }> {
    const dl = await this.download('Export JSON');
    const path = await dl.path();
    return { name: dl.suggestedFilename(), json: JSON.parse(await readFile(path, 'utf8')) as unknown };
  }

  async exportCsv(): Promise<{ name: string; text: string }> {
    const dl = await this.download('Export CSV');
    return { name: dl.suggestedFilename(), text: await readFile(await dl.path(), 'utf8') };
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path, fullPage: true });
  }
}

function mimeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const known: Record<string, string> = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', webp: 'image/webp', csv: 'text/csv' };
  return known[ext] ?? 'application/octet-stream';
}
