// Page object for the grader: tests talk about packs, images, cards and
// exports; selectors (roles and labels, as a screen reader would find them) live here.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Download, Locator, Page } from 'playwright-core';
import { waitForJs } from './wait-js.ts';

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

const WAIT = 120_000;
/** How often waits look at the page unless GraderPageOptions.pollMs says otherwise. */
const POLL_MS = 50;

export interface PageImageEmbedding {
  width: number | null;
  height: number | null;
  embedding: number[] | null;
  /** Preprocessed model input (NCHW float32), when asked for. */
  pixelValues: Float32Array | null;
  /** Decoded RGBA bytes, when asked for. */
  rgba: Uint8Array | null;
  error: { code: string; message: string } | null;
}

export interface PageEmbeddings {
  images: PageImageEmbedding[];
  texts: { text: string; embedding: number[]; tokens: number; truncated: boolean }[];
  backend: { kind: string; name: string; reason: string; adapter?: string };
  variant: { dtype: string; visionFile: string; textFile: string | null };
}

interface RawEmbeddings extends Omit<PageEmbeddings, 'images'> {
  images: (Omit<PageImageEmbedding, 'pixelValues' | 'rgba'> & {
    pixelValues: string | null;
    rgba: string | null;
  })[];
}

export interface GraderPageOptions {
  /**
   * Waits look at the page every this many ms (default POLL_MS). The benchmarks, which time the
   * page, poll less often so the checks take little CPU from the encoder on a 2-core machine.
   */
  pollMs?: number;
}

export class GraderPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
    private readonly opts: GraderPageOptions = {},
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

  /** Picks a served pack and waits until it is loaded (throws with the page's message if it fails). */
  async selectPack(id: string): Promise<string> {
    await this.packSelect.selectOption(id);
    await this.waitForJs(`(() => {
      const t = document.querySelector('.pack-state')?.textContent ?? '';
      return !t.includes('Loading pack') && (t.includes('could not be loaded') || t.startsWith('Loaded'));
    })()`);
    const text = (await this.page.locator('.pack-state').textContent()) ?? '';
    if (!text.startsWith('Loaded') || text.includes('could not be loaded'))
      throw new Error(`pack ${id} did not load: ${text}`);
    return text;
  }

  /** The weight-variant picker of the loaded pack. */
  get variantSelect(): Locator {
    return this.page.getByLabel('Weights', { exact: true });
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
  async waitForPack(timeout = WAIT): Promise<string> {
    const state = this.page.locator('.pack-state');
    await this.waitForJs(
      `(() => {
        const t = document.querySelector('.pack-state')?.textContent ?? '';
        return t.startsWith('Loaded') || t.includes('could not be loaded');
      })()`,
      timeout,
    );
    const text = (await state.textContent()) ?? '';
    if (!text.startsWith('Loaded')) throw new Error(`pack did not load: ${text}`);
    return text;
  }

  /** The loaded pack's load time ("· 4.2 s") and, from its tooltip, the part spent waiting for the browser's compile. */
  async loadTimes(): Promise<{ loadS: number; settleS: number }> {
    const el = this.page.getByTestId('load-time');
    const text = (await el.textContent()) ?? '';
    const title = (await el.getAttribute('title')) ?? '';
    const num = (re: RegExp, s: string) => Number(re.exec(s)?.[1] ?? Number.NaN);
    return { loadS: num(/([\d.]+) s/, text), settleS: num(/Of which ([\d.]+) s/, title) };
  }

  async backendText(): Promise<string> {
    await this.waitForJs(
      `!(document.querySelector('[data-testid="backend"]')?.textContent ?? '').includes('starting')`,
    );
    return (await this.backend.textContent()) ?? '';
  }

  /** In-page code as a string expression: this project is type-checked without DOM types outside the page. */
  async waitForJs(expression: string, timeout = WAIT): Promise<void> {
    await waitForJs(this.page, expression, timeout, this.opts.pollMs ?? POLL_MS);
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

  async alignmentOf(name: string): Promise<{ grade: string; score: number } | null> {
    const card = this.card(name);
    const grade = card.getByTestId('alignment-grade').first();
    if ((await grade.count()) === 0) return null;
    const score = (await card.getByTestId('alignment-score').first().textContent()) ?? '';
    return { grade: ((await grade.textContent()) ?? '').trim(), score: Number.parseFloat(score) };
  }

  /** The card's note about alignment (why it is not graded, or a truncated prompt), or null. */
  async alignmentNote(name: string): Promise<string | null> {
    const note = this.card(name).getByTestId('alignment-note');
    return (await note.count()) === 0 ? null : ((await note.first().textContent()) ?? '');
  }

  /** The card's note about quality (why it is missing, or why the grade says little), or null. */
  async qualityNote(name: string): Promise<string | null> {
    const note = this.card(name).getByTestId('quality-note');
    return (await note.count()) === 0 ? null : ((await note.first().textContent()) ?? '');
  }

  /** The card's request for the prompt (shown when a pack with a text encoder got no prompt). */
  missingPrompt(name: string): Locator {
    return this.card(name).getByTestId('alignment-missing-prompt');
  }

  private async waitForCardIdle(name: string): Promise<void> {
    await this.waitForJs(
      `(() => { const c = [...document.querySelectorAll('article.card')].find((a) => a.getAttribute('aria-label') === ${JSON.stringify(`Result for ${name}`)});
        return c && c.getAttribute('aria-busy') !== 'true' && c.getAttribute('data-status') === 'done'; })()`,
    );
  }

  /** Types the prompt into a card that asks for one and grades it. */
  async gradePromptOnCard(name: string, prompt: string): Promise<void> {
    const box = this.missingPrompt(name);
    await box.getByLabel(`Prompt for ${name}`, { exact: true }).fill(prompt);
    await box.getByRole('button', { name: 'Grade alignment' }).click();
    await this.waitForJs(
      `![...document.querySelectorAll('article.card')].some((a) => a.getAttribute('aria-label') === ${JSON.stringify(`Result for ${name}`)} && a.querySelector('[data-testid="alignment-missing-prompt"]'))`,
    );
    await this.waitForCardIdle(name);
  }

  /** "Edit prompt" on a graded card, then "Re-grade". */
  async editPromptOnCard(name: string, prompt: string): Promise<void> {
    const card = this.card(name);
    await card.getByRole('button', { name: 'Edit prompt' }).click();
    await card.getByLabel(`Prompt for ${name}`, { exact: true }).fill(prompt);
    await card.getByRole('button', { name: 'Re-grade' }).click();
    await this.waitForJs(
      `[...document.querySelectorAll('article.card')].some((a) => a.getAttribute('aria-label') === ${JSON.stringify(`Result for ${name}`)} && a.querySelector('.card-foot .prompt')?.textContent?.includes(${JSON.stringify(prompt)}))`,
    );
    await this.waitForCardIdle(name);
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
    const [dl] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.getByRole('button', { name: button }).click(),
    ]);
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

  /**
   * Embeddings from the page's worker through window.__agqg (the page must be opened with debug=1).
   * Bytes cross as base64 both ways; Float32 data keeps every bit.
   */
  async embed(
    images: Buffer[],
    texts: string[],
    opts: { pixels?: boolean; rgba?: boolean } = {},
  ): Promise<PageEmbeddings> {
    const args = JSON.stringify({ images: images.map((b) => b.toString('base64')), texts, ...opts });
    const raw = (await this.page.evaluate(
      `(async () => {
      const args = ${args};
      if (!window.__agqg) throw new Error('window.__agqg is missing: open the page with ?debug=1');
      const fromB64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0)).buffer;
      const toB64 = (view) => {
        if (!view) return null;
        const u8 = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
        let s = '';
        for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
        return btoa(s);
      };
      const out = await window.__agqg.embed({ images: args.images.map(fromB64), texts: args.texts, pixels: !!args.pixels, rgba: !!args.rgba });
      if (!out.ok) throw new Error('embed failed: ' + out.error.code + ': ' + out.error.message);
      const v = out.value;
      return {
        images: v.images.map((im) => ({
          width: im.width, height: im.height, error: im.error,
          embedding: im.embedding ? Array.from(im.embedding) : null,
          pixelValues: toB64(im.pixelValues), rgba: toB64(im.rgba),
        })),
        texts: v.texts.map((t) => ({ text: t.text, embedding: Array.from(t.embedding), tokens: t.tokens, truncated: t.truncated })),
        backend: v.backend,
        variant: v.variant,
      };
    })()`,
      undefined,
    )) as RawEmbeddings;
    const f32 = (b64: string | null): Float32Array | null => {
      if (b64 === null) return null;
      const buf = Buffer.from(b64, 'base64');
      return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    };
    return {
      ...raw,
      images: raw.images.map((im) => ({
        ...im,
        pixelValues: f32(im.pixelValues),
        rgba: im.rgba === null ? null : new Uint8Array(Buffer.from(im.rgba, 'base64')),
      })),
    };
  }

  async screenshot(path: string): Promise<void> {
    await this.page.screenshot({ path, fullPage: true });
  }
}

function mimeOf(path: string): string {
  const ext = path.slice(path.lastIndexOf('.') + 1).toLowerCase();
  const known: Record<string, string> = {
    jpg: 'image/jpeg',
    jpeg: 'image/jpeg',
    png: 'image/png',
    webp: 'image/webp',
    csv: 'text/csv',
  };
  return known[ext] ?? 'application/octet-stream';
}
