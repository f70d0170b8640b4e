// Page object for the calibration view ("Calibrate to my ratings"): rating cards,
// the Ratings CSV, Fit, the "Calibration result" region, saving and kept packs.
import type { Locator, Page } from 'playwright-core';
import type { FilePayload } from './grader-page.ts';

const WAIT = 120_000;

export class CalibrationView {
  constructor(readonly page: Page) {}

  async open(): Promise<void> {
    await this.page.getByRole('button', { name: 'Calibrate to my ratings' }).click();
    await this.page.getByRole('heading', { name: 'Calibrate to my ratings' }).waitFor();
  }

  card(name: string): Locator {
    return this.page
      .getByRole('list', { name: 'Images to rate' })
      .getByRole('listitem')
      .filter({ hasText: name });
  }

  /** Rates from the first card on by keyboard only: focus it, then one key per image (focus moves on). */
  async rateByKeyboard(keys: string[]): Promise<void> {
    await this.page.getByRole('list', { name: 'Images to rate' }).getByRole('listitem').first().focus();
    for (const k of keys) await this.page.keyboard.press(k);
  }

  counter(): Promise<string> {
    return this.page.getByTestId('rating-counter').innerText();
  }

  async loadCsv(file: FilePayload): Promise<void> {
    await this.page.getByLabel('Ratings CSV').setInputFiles(file);
  }

  csvReport(): Locator {
    return this.page.getByLabel('Ratings CSV report');
  }

  scaleText(): Promise<string> {
    return this.page.getByTestId('rating-scale').innerText();
  }

  async fit(mode?: 'recalibrate' | 'retrain'): Promise<string> {
    if (mode) await this.page.locator(`input[name="calibration-mode"][value="${mode}"]`).check();
    await this.page.getByRole('button', { name: 'Fit', exact: true }).click();
    const region = this.result;
    await region.getByTestId('calibration-summary').waitFor({ timeout: WAIT });
    return region.innerText();
  }

  get result(): Locator {
    return this.page.getByRole('region', { name: 'Calibration result' });
  }

  async save(name: string): Promise<string> {
    await this.page.getByLabel('Pack name').fill(name);
    await this.page.getByRole('button', { name: 'Save as pack' }).click();
    const msg = this.page.locator('.save-pack [role="status"], .save-pack [role="alert"]');
    await msg.waitFor();
    return msg.innerText();
  }

  async deleteSaved(name: string): Promise<void> {
    await this.page.getByRole('button', { name: `Delete ${name}` }).click();
    await this.page
      .getByRole('alertdialog', { name: `Delete ${name}?` })
      .getByRole('button', { name: 'Yes, delete' })
      .click();
  }
}
