// Several images per encoder run (?batch=N) grade exactly as one at a time, a bad
// file in a batch gets its own error while the rest share the run, a CLIP export
// runs two images per run on WASM unless ?batch= says otherwise, and ?threads=N
// sets the WASM threads the badge reports. A double click on Grade starts one batch.
import { readFileSync } from 'node:fs';
import { afterEach, expect, it } from 'vitest';
import { describeShared } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages, csvOf, payload } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';

interface RunStats {
  batchSize: number;
  perImage: { name: string; stages: { batch: number; encoderMs: number | null }; error: string | null }[];
  done: boolean;
}

/** Same weights, same inputs: batched GEMMs only reorder float sums. */
const SCORE_TOLERANCE = 1e-4;

describeShared('batched grading', [TEST_PACK.fixture, AGIQA], () => {
  const images = agiqaImages(6);
  const good = images.map((im) => im.path);
  const jpeg = readFileSync(images[0].path);
  const cut = payload('cut.jpg', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'image/jpeg');
  let browser: Browser | null = null;

  afterEach(async () => {
    await browser?.close();
    browser = null;
  });

  /** Grades `files` on a fresh page opened with `query`; returns the export's results and the worker's run stats. */
  async function grade(query: string, files: Parameters<GraderPage['addFiles']>[0]) {
    let ui: GraderPage;
    ({ browser, ui } = await openGrader({ query }));
    await ui.addFiles(files);
    await ui.addFiles([csvOf(images)]);
    await ui.gradeAll();
    await ui.waitForCards(files.length);
    await ui.waitForIdle();
    await ui.waitForJs('window.__agqgRun?.done === true');
    const run = (await ui.page.evaluate('window.__agqgRun')) as RunStats;
    const { json } = await ui.exportJson();
    const results = (
      json as {
        results: {
          file: string;
          quality: { score: number } | null;
          alignment: { score: number } | null;
          error: { code: string } | null;
        }[];
      }
    ).results;
    return { ui, run, results };
  }

  it('grades a batch of 4 with the same scores as one at a time; a corrupt file in it fails alone', async () => {
    const one = await grade('debug=1&batch=1', good);
    expect(one.run.batchSize).toBe(1);
    expect(one.run.perImage.every((p) => p.stages.batch === 1)).toBe(true);
    await browser?.close();

    // The corrupt file sits in the first batch of 4: the three good ones share one encoder run.
    const four = await grade('debug=1&batch=4', [good[0], good[1], cut, good[2], good[3], good[4], good[5]]);
    expect(four.run.batchSize).toBe(4);
    const stage = (name: string) => four.run.perImage.find((p) => p.name === name);
    expect(stage('cut.jpg')?.error).toBe('decode_failed');
    for (const name of [images[0].name, images[1].name, images[2].name])
      expect(stage(name)?.stages.batch, name).toBe(3);
    for (const name of [images[3].name, images[4].name, images[5].name])
      expect(stage(name)?.stages.batch, name).toBe(3);
    expect(four.results.find((r) => r.file === 'cut.jpg')?.error?.code).toBe('decode_failed');
    expect(await four.ui.errorOf('cut.jpg')).not.toBeNull();

    for (const im of images) {
      const a = one.results.find((r) => r.file === im.name);
      const b = four.results.find((r) => r.file === im.name);
      expect(a?.error ?? null, im.name).toBeNull();
      expect(b?.error ?? null, im.name).toBeNull();
      expect(
        Math.abs((a?.quality?.score ?? Number.NaN) - (b?.quality?.score ?? Number.NaN)),
        im.name,
      ).toBeLessThan(SCORE_TOLERANCE);
      if (a?.alignment || b?.alignment) {
        expect(
          Math.abs((a?.alignment?.score ?? Number.NaN) - (b?.alignment?.score ?? Number.NaN)),
          im.name,
        ).toBeLessThan(SCORE_TOLERANCE);
      }
    }
  });

  it('a CLIP export runs two images per encoder run on WASM when the URL names no batch', async () => {
    // The pack's inferred manifest asks for it (vision.imagesPerRun, src/model/pack/hf-clip.ts): three
    // images make a run of two and a run of one.
    const own = await grade('debug=1&backend=wasm', good.slice(0, 3));
    expect(own.run.batchSize).toBe(2);
    expect(own.run.perImage.map((p) => p.stages.batch).sort()).toEqual([1, 2, 2]);
    expect(own.results.every((r) => r.error === null)).toBe(true);
  });

  it('a double click on Grade starts one batch, each image graded once', async () => {
    let ui: GraderPage;
    ({ browser, ui } = await openGrader({ query: 'debug=1&batch=1' }));
    await ui.addFiles(good.slice(0, 3));
    // Counts the runs the page starts (each publishes its stats once).
    await ui.page.evaluate(`(() => {
      let runs = [];
      Object.defineProperty(window, '__agqgRun', { configurable: true, get: () => runs.at(-1), set: (r) => runs.push(r) });
      window.__agqgRuns = () => runs.length;
    })()`);
    // The batch is drawn as started a task after the click: the second click lands before that.
    await ui.gradeButton.dblclick();
    await ui.waitForCards(3);
    await ui.waitForIdle();
    await ui.waitForJs('window.__agqgRun?.done === true');
    expect(await ui.page.evaluate('window.__agqgRuns()')).toBe(1);
    const run = (await ui.page.evaluate('window.__agqgRun')) as RunStats;
    expect(run.perImage.map((p) => p.name).sort()).toEqual(
      images
        .slice(0, 3)
        .map((im) => im.name)
        .sort(),
    );
    expect(await ui.cardCount()).toBe(3);
  });

  it('?threads=1 runs one WASM thread and the badge says so', async () => {
    let ui: GraderPage;
    ({ browser, ui } = await openGrader({ query: 'backend=wasm&threads=1' }));
    expect(await ui.page.evaluate('self.crossOriginIsolated')).toBe(true);
    expect(await ui.backendText()).toMatch(/WASM · 1 thread\b/);
    // More threads than cores are clamped to the cores.
    await ui.open('backend=wasm&threads=64');
    await ui.waitForPack();
    const cores = Number(await ui.page.evaluate('navigator.hardwareConcurrency'));
    expect(await ui.backendText()).toContain(`${cores} thread${cores === 1 ? '' : 's'}`);
  });
});
