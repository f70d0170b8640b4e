// A trained alignment head in the browser: `agqg train --target mos_align`
// writes an ONNX head into a copy of tiny-clip (on a small AGIQA-3K subset, to
// stay fast), the pack is served, and the page grades with it: alignment
// grades that are not "uncalibrated", equal to what `agqg score` (Node) gives.
// A second copy without the text encoder, trained for quality, shows how a pack
// without a text encoder explains the missing alignment.
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseCsvTable } from '../src/model/util/csv.ts';
import { ResultsFileSchema } from '../src/model/grading/result.ts';
import { describeShared, ROOT, sharedPath } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { agqg, scoreWithCli } from './cli.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';
import { servePack } from './served-packs.ts';

/** Every k-th labelled image: ~120 images over many prompts and generators keep training to seconds. */
const SUBSET_STEP = 20;
const ALIGN_ID = 'tiny-clip-trained-align';
const VISION_ID = 'tiny-clip-vision-quality';

/** Trains from a (read-only) pack into a new pack folder `save`, as a user would from ../shared. */
async function train(pack: string, data: string, target: string, save: string): Promise<void> {
  const args = ['train', '--pack', pack, '--data', data, '--target', target, '--quick', '--save', save];
  args.push('--cache', resolve(ROOT, '.cache/e2e/train-features'));
  try {
    await agqg(args);
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`agqg train failed: ${e.stderr ?? e.message}`);
  }
}

describeShared('trained heads in the browser', [TEST_PACK.fixture, AGIQA], () => {
  let browser: Browser;
  let ui: GraderPage;
  let tmp: string;
  const cleanups: (() => void)[] = [];
  const images = agiqaImages(3);

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'agqg-e2e-train-'));
    // A labelled subset: labels.csv rows and links to their images.
    const data = join(tmp, 'data');
    mkdirSync(join(data, 'images'), { recursive: true });
    const csvText = readFileSync(sharedPath(AGIQA, 'labels.csv'), 'utf8');
    const lines = csvText.split(/\r?\n/).filter((l) => l !== '');
    const { rows } = parseCsvTable(csvText, 'labels.csv');
    const keep = rows.map((r, i) => ({ r, line: lines[i + 1] })).filter((_, i) => i % SUBSET_STEP === 0);
    writeFileSync(join(data, 'labels.csv'), [lines[0], ...keep.map((k) => k.line)].join('\n'));
    for (const { r } of keep) symlinkSync(sharedPath(AGIQA, 'images', r.name), join(data, 'images', r.name));

    const align = join(tmp, ALIGN_ID);
    const visionOnly = join(tmp, 'vision-only');
    cpSync(sharedPath(TEST_PACK.fixture), visionOnly, { recursive: true });
    rmSync(join(visionOnly, 'onnx', 'text_model.onnx'));
    const vision = join(tmp, VISION_ID);
    await Promise.all([
      train(sharedPath(TEST_PACK.fixture), data, 'mos_align', align),
      train(visionOnly, data, 'mos_quality', vision),
    ]);
    cleanups.push(
      servePack(align, { id: ALIGN_ID, name: 'Tiny CLIP + trained alignment head', description: 'e2e' }),
    );
    cleanups.push(
      servePack(vision, {
        id: VISION_ID,
        name: 'Tiny CLIP vision only + trained quality head',
        description: 'e2e',
      }),
    );

    ({ browser, ui } = await openGrader({ query: 'backend=wasm' }));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    for (const undo of cleanups) undo();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('grades alignment with the trained head: calibrated, and as the CLI grades it', async () => {
    await ui.selectPack(ALIGN_ID);
    await ui.addFiles(images.map((im) => im.path));
    for (const im of images) await ui.promptInput(im.name).fill(im.prompt);
    await ui.gradeAll();
    await ui.waitForCards(images.length);
    await ui.waitForIdle();

    const { json } = await ui.exportJson();
    const page = ResultsFileSchema.parse(json);
    expect(page.pack.id).toBe(ALIGN_ID);
    const node = await scoreWithCli(join(tmp, ALIGN_ID), images, tmp);
    for (const im of images) {
      const card = ui.card(im.name);
      const a = await ui.alignmentOf(im.name);
      expect(a, im.name).not.toBeNull();
      // The alignment line and chart carry no badge; the (zero-shot) quality line and chart do.
      expect(await card.getByTestId('uncalibrated').count()).toBe(2);
      const r = page.results.find((x) => x.file === im.name)!;
      const n = node.results.find((x) => x.file === im.path || x.file.endsWith(im.name))!;
      expect(r.alignment!.uncalibrated).toBe(false);
      expect(r.quality!.uncalibrated).toBe(true);
      expect(r.alignment!.ability).toBeCloseTo(n.alignment!.ability, 4);
      expect(r.alignment!.thresholds).toEqual(n.alignment!.thresholds);
    }
    await ui.page.screenshot({ path: '.cache/e2e/trained-head.png' });
  });

  it('a pack without a text encoder grades quality and says plainly why there is no alignment', async () => {
    expect(await ui.selectPack(VISION_ID)).toMatch(/no text encoder: no alignment/);
    const [im] = images;
    await ui.addFiles([{ name: `vision-${im.name}`, mimeType: 'image/jpeg', buffer: readFileSync(im.path) }]);
    await ui.promptInput(`vision-${im.name}`).fill(im.prompt);
    await ui.gradeAll();
    await ui.waitForCards(images.length + 1);
    await ui.waitForIdle();
    const name = `vision-${im.name}`;
    expect(await ui.errorOf(name)).toBeNull();
    expect(await ui.qualityOf(name)).not.toBeNull();
    expect(await ui.alignmentOf(name)).toBeNull();
    expect(await ui.alignmentNote(name)).toMatch(
      /no text encoder, so it cannot compare the image with a prompt/,
    );
    expect(await ui.card(name).getByTestId('uncalibrated').count()).toBe(0);
  });
});
