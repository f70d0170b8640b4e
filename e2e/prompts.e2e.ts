// Alignment on the cards with awkward prompts: 300 characters (truncated to
// CLIP's 77 tokens, and said so), empty (the card asks for the prompt and
// grades it from the kept image embedding), emoji and CJK. Zero-shot heads
// (tiny-clip has no trained heads) carry the "uncalibrated" badge everywhere.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ResultsFileSchema, type ImageResult } from '../src/model/grading/result.ts';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages, payload } from './files.ts';
import type { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

/** 300 characters of a typical tag-style prompt: well over CLIP's 77 tokens. */
const LONG = 'a lighthouse on a cliff at sunset, ultra-detailed, 8k, hdr, trending on artstation, '
  .repeat(4)
  .slice(0, 300);

describeShared('prompts and alignment on the cards', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  const pageErrors: string[] = [];
  const [src] = agiqaImages(1);
  const bytes = readFileSync(src.path);
  // One image under five names, so every grade below is of the same pixels.
  const cases = [
    { name: 'long.jpg', prompt: LONG },
    { name: 'empty.jpg', prompt: '' },
    { name: 'emoji.jpg', prompt: 'a 🐶 wearing 😎 sunglasses 🌈' },
    { name: 'cjk.jpg', prompt: '東京の夜景、雨上がりのネオン' },
    { name: 'spaces.jpg', prompt: '   ' },
  ];

  async function exported(): Promise<Map<string, ImageResult>> {
    const { json } = await ui.exportJson();
    return new Map(ResultsFileSchema.parse(json).results.map((r) => [r.file, r]));
  }

  beforeAll(async () => {
    ({ browser, ui } = await openGrader({ query: 'backend=wasm', pageErrors }));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('grades 300-character, empty, emoji and CJK prompts without a crash', async () => {
    expect(LONG.length).toBe(300);
    await ui.addFiles(cases.map((c) => payload(c.name, bytes, 'image/jpeg')));
    for (const c of cases) await ui.promptInput(c.name).fill(c.prompt);
    await ui.gradeAll();
    await ui.waitForCards(cases.length);
    await ui.waitForIdle();
    for (const c of cases) expect(await ui.errorOf(c.name), c.name).toBeNull();

    for (const name of ['long.jpg', 'emoji.jpg', 'cjk.jpg']) {
      const a = await ui.alignmentOf(name);
      expect(a, name).not.toBeNull();
      expect(Number.isFinite(a!.score)).toBe(true);
    }
    expect(await ui.alignmentNote('long.jpg')).toMatch(
      /longer than the text encoder's 77 tokens: truncated to the first 77/,
    );
    expect(await ui.alignmentNote('emoji.jpg')).toBeNull();
    for (const name of ['empty.jpg', 'spaces.jpg']) {
      expect(await ui.alignmentOf(name), name).toBeNull();
      expect(await ui.missingPrompt(name).textContent()).toContain(
        'Add the prompt that made this image to grade alignment.',
      );
      // Quality does not need the prompt.
      expect(await ui.qualityOf(name)).not.toBeNull();
    }

    const results = await exported();
    expect(results.get('long.jpg')!.prompt).toBe(LONG);
    expect(results.get('empty.jpg')!.alignment).toBeNull();
    // Different prompts, same pixels: the text side really ran.
    expect(results.get('emoji.jpg')!.alignment!.score).not.toBe(results.get('cjk.jpg')!.alignment!.score);
    await ui.screenshot('.cache/e2e/prompts-full.png');
    expect(pageErrors).toEqual([]);
  });

  it('marks zero-shot grades "uncalibrated" on the card, the chart and the comparison, with an explanation', async () => {
    const card = ui.card('emoji.jpg');
    // Quality and alignment lines, and both charts.
    expect(await card.getByTestId('uncalibrated').count()).toBe(4);
    const badge = card.getByTestId('uncalibrated').first();
    await badge.focus();
    const tip = card.getByRole('tooltip').first();
    expect(await tip.isVisible()).toBe(true);
    expect(await tip.textContent()).toMatch(/not fitted to human scores/);
    expect(
      await card
        .getByRole('img', { name: /^Alignment: ability θ.*Uncalibrated \(zero-shot\) head\.$/ })
        .count(),
    ).toBe(1);
    await ui.page.screenshot({ path: '.cache/e2e/prompts-card.png' });

    await ui.toggleCompare('emoji.jpg');
    await ui.toggleCompare('cjk.jpg');
    expect(await ui.comparison.getByTestId('uncalibrated').count()).toBe(8);
    await ui.page.getByRole('button', { name: 'Close comparison' }).click();
    const results = await exported();
    expect(results.get('emoji.jpg')!.alignment!.uncalibrated).toBe(true);
    expect(results.get('emoji.jpg')!.quality!.uncalibrated).toBe(true);
  });

  it('grades the prompt typed on a card from the kept embedding, as grading the image with it would', async () => {
    const emojiPrompt = cases[2].prompt;
    await ui.gradePromptOnCard('empty.jpg', emojiPrompt);
    const before = await exported();
    const regraded = before.get('empty.jpg')!;
    const reference = before.get('emoji.jpg')!;
    expect(regraded.prompt).toBe(emojiPrompt);
    expect(regraded.alignment).not.toBeNull();
    // Same pixels and prompt: the same grade as the image graded from its file with that prompt.
    expect(regraded.alignment!.ability).toBeCloseTo(reference.alignment!.ability, 6);
    expect(regraded.quality!.ability).toBeCloseTo(reference.quality!.ability, 6);
    // Neither decoded nor encoded again: the re-grade timed only the text encoder and heads.
    expect(regraded.timings.decodeMs).toBeUndefined();
    expect(regraded.timings.preprocessMs).toBeUndefined();
    expect(await ui.missingPrompt('empty.jpg').count()).toBe(0);

    // After a reload the page has no image files any more; the kept embedding still grades a new prompt.
    await ui.reload();
    await ui.waitForPack();
    await ui.waitForCards(cases.length);
    await ui.gradePromptOnCard('spaces.jpg', cases[3].prompt);
    const after = await exported();
    expect(after.get('spaces.jpg')!.alignment!.ability).toBeCloseTo(
      after.get('cjk.jpg')!.alignment!.ability,
      6,
    );
    // Editing an existing prompt on a card re-grades just that image.
    await ui.editPromptOnCard('long.jpg', 'statue of a man');
    const edited = await exported();
    expect(edited.get('long.jpg')!.prompt).toBe('statue of a man');
    expect(await ui.alignmentNote('long.jpg')).toBeNull();
    expect(edited.get('cjk.jpg')).toEqual(after.get('cjk.jpg'));
    expect(pageErrors).toEqual([]);
  });
});
