// A WebGPU device lost in the middle of a batch (simulated: window.__agqg.loseGpuDevice()
// destroys onnxruntime-web's GPUDevice, as a driver reset would) moves the page to WASM, says
// why, and loses no image: every image is graded, and the ones graded after the switch score
// as a WASM-only run of the same images. Needs the software WebGPU adapter (SwiftShader) that
// launch({ webgpu: true }) gives Debian's Chromium; without it the test fails, never skips.
import { afterEach, expect, it } from 'vitest';
import { describeShared, sharedPath } from '../test/shared.ts';
import type { Browser } from './browser.ts';
import { AGIQA, TEST_PACK } from './env.ts';
import { agiqaImages, csvOf } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';
import { openGrader } from './pages/open-grader.ts';
import { waitForResults } from './pages/results-grid.ts';
import { servePack } from './served-packs.ts';

interface ExportedResult {
  file: string;
  backend: string | null;
  quality: { score: number } | null;
  alignment: { score: number } | null;
  error: { code: string; message: string } | null;
}

const IMAGES = 12;
/** Two images per request (six requests): the device goes with most of the batch still to grade. */
const BATCH = 2;
/** Same weights, same inputs, same backend: only the order of float sums may differ. */
const SCORE_TOLERANCE = 1e-4;
const WEBGPU = 'onnxruntime-web/webgpu';
const WASM = 'onnxruntime-web/wasm';
const SECOND_PACK = 'tiny-clip-again';

describeShared('WebGPU device lost mid-batch', [TEST_PACK.fixture, AGIQA], () => {
  const images = agiqaImages(IMAGES);
  let browser: Browser | null = null;

  afterEach(async () => {
    await browser?.close();
    browser = null;
  });

  async function openPage(query: string, webgpu: boolean): Promise<GraderPage> {
    const opened = await openGrader({ query, webgpu });
    browser = opened.browser;
    return opened.ui;
  }

  /** Fails (does not skip) when the page does not run WebGPU: the fallback would not be exercised. */
  async function expectWebGpu(ui: GraderPage): Promise<void> {
    const title = (await ui.backend.getAttribute('title')) ?? '';
    expect(
      await ui.backendText(),
      `WebGPU must run here (SwiftShader adapter from launch({ webgpu: true })): ${title}`,
    ).toMatch(/WebGPU/);
  }

  async function gradeAndExport(ui: GraderPage, during?: () => Promise<void>): Promise<ExportedResult[]> {
    await ui.addFiles(images.map((im) => im.path));
    await ui.addFiles([csvOf(images)]);
    await ui.gradeAll();
    await during?.();
    await waitForResults(ui.page, IMAGES);
    await ui.waitForIdle();
    const { json } = await ui.exportJson();
    return (json as { results: ExportedResult[] }).results;
  }

  const loseGpuDevice = async (ui: GraderPage) =>
    (await ui.page.evaluate('window.__agqg.loseGpuDevice()')) as { ok: boolean; value?: boolean };

  it('grades every image: WebGPU until the device is lost, then WASM with the same scores as a WASM-only run', async () => {
    const t0 = Date.now();
    const ui = await openPage(`backend=webgpu&debug=1&batch=${BATCH}`, true);
    await expectWebGpu(ui);
    expect(await ui.page.locator('.status-bar .pill-warn').count()).toBe(0);
    const loadedMs = Date.now() - t0;

    const mixed = await gradeAndExport(ui, async () => {
      await waitForResults(ui.page, 1);
      expect(await loseGpuDevice(ui)).toEqual({ ok: true, value: true });
    });
    const backendText = await ui.backendText();
    const title = (await ui.backend.getAttribute('title')) ?? '';
    const note = (await ui.page.locator('.status-bar .pill-warn').allTextContents()).join(' ');
    const mixedMs = Date.now() - t0;
    await browser?.close();

    const t1 = Date.now();
    const wasmUi = await openPage(`backend=wasm&debug=1&batch=${BATCH}`, false);
    const wasmOnly = await gradeAndExport(wasmUi);
    const wasmMs = Date.now() - t1;

    console.table(
      mixed.map((r) => {
        const w = wasmOnly.find((x) => x.file === r.file);
        return {
          file: r.file,
          backend: r.backend,
          quality: r.quality?.score,
          'Δ quality vs WASM-only':
            w?.quality && r.quality ? Math.abs(w.quality.score - r.quality.score) : null,
          'Δ alignment vs WASM-only':
            w?.alignment && r.alignment ? Math.abs(w.alignment.score - r.alignment.score) : null,
          error: r.error?.code ?? null,
        };
      }),
    );
    console.log(`status bar after the loss: "${backendText}"; title: ${title}; note: ${note}`);
    console.log(
      `run times: WebGPU page ${mixedMs} ms (of which opening it and loading the pack ${loadedMs} ms), WASM-only page ${wasmMs} ms`,
    );

    // Nothing lost: every image once, graded, no error.
    expect(mixed.map((r) => r.file).sort()).toEqual(images.map((im) => im.name).sort());
    for (const r of mixed) {
      expect(r.error, `${r.file}: ${r.error?.message}`).toBeNull();
      expect(r.quality, r.file).not.toBeNull();
      expect(r.alignment, r.file).not.toBeNull();
    }
    // The loss came mid-batch: the first images ran on WebGPU, the rest on WASM, in that order.
    const backends = mixed.map((r) => r.backend);
    const switchAt = backends.indexOf(WASM);
    expect(backends[0]).toBe(WEBGPU);
    expect(switchAt, backends.join(', ')).toBeGreaterThan(0);
    expect(
      backends.slice(0, switchAt).every((b) => b === WEBGPU),
      backends.join(', '),
    ).toBe(true);
    expect(
      backends.slice(switchAt).every((b) => b === WASM),
      backends.join(', '),
    ).toBe(true);

    // The page says it moved to WASM, and why.
    expect(backendText).toMatch(/WASM/);
    expect(title).toMatch(/WebGPU failed \(.*WebGPU device was lost.*\); switched to WASM/);
    expect(note).toMatch(/WebGPU failed \(.*WebGPU device was lost.*\); switched to WASM/);

    // After the switch the scores are WASM's own.
    for (const r of mixed.slice(switchAt)) {
      const w = wasmOnly.find((x) => x.file === r.file) as ExportedResult;
      expect(w.error, w.file).toBeNull();
      expect(
        Math.abs((r.quality?.score ?? Number.NaN) - (w.quality?.score ?? Number.NaN)),
        r.file,
      ).toBeLessThan(SCORE_TOLERANCE);
      expect(
        Math.abs((r.alignment?.score ?? Number.NaN) - (w.alignment?.score ?? Number.NaN)),
        r.file,
      ).toBeLessThan(SCORE_TOLERANCE);
    }
  });

  it('a pack loaded after the device was lost (while idle) loads on WASM and says why', async () => {
    // A second copy of the fixture under another id, so picking it makes the worker load a pack again.
    const unserve = servePack(sharedPath(TEST_PACK.fixture), {
      id: SECOND_PACK,
      name: 'Tiny CLIP (again)',
      description: 'e2e',
    });
    try {
      const ui = await openPage('backend=webgpu&debug=1', true);
      await expectWebGpu(ui);
      expect(await loseGpuDevice(ui)).toEqual({ ok: true, value: true });
      await ui.selectPack(SECOND_PACK);
      const title = (await ui.backend.getAttribute('title')) ?? '';
      console.log(`pack loaded after the loss: backend "${await ui.backendText()}"; title: ${title}`);
      // Without the check, ORT made the sessions on its lost device: the badge said WebGPU until a batch failed.
      expect(await ui.backendText()).toMatch(/WASM/);
      expect(title).toMatch(/WebGPU failed \(.*WebGPU device was lost.*\); switched to WASM/);
      // And the pack grades.
      await ui.addFiles([images[0].path]);
      await ui.gradeAll();
      await waitForResults(ui.page, 1);
      expect(await ui.errorOf(images[0].name)).toBeNull();
      expect(await ui.qualityOf(images[0].name)).not.toBeNull();
    } finally {
      unserve();
    }
  });
});
