// The page reports the backend that actually runs, and ?backend= forces one.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeShared } from '../test/shared';
import { launch, type Browser } from './browser';
import { TEST_PACK } from './env';
import { GraderPage } from './pages/grader-page';

describeShared('backend selection', [TEST_PACK.fixture], () => {
  let browser: Browser;
  let ui: GraderPage;

  beforeAll(async () => {
    browser = await launch();
    ui = new GraderPage(await browser.context.newPage(), inject('baseUrl'));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('?backend=wasm runs WASM and says it was forced', async () => {
    await ui.open('backend=wasm');
    await ui.waitForPack();
    expect(await ui.backendText()).toMatch(/WASM/);
    expect(await ui.backend.getAttribute('title')).toMatch(/forced by \?backend=wasm/);
  });

  it('uses threads because the server sends COOP/COEP (cross-origin isolated)', async () => {
    const isolated = await ui.page.evaluate('self.crossOriginIsolated');
    const cores = Number(await ui.page.evaluate('navigator.hardwareConcurrency'));
    expect(isolated).toBe(true);
    expect(await ui.backendText()).toContain(`${cores} thread${cores === 1 ? '' : 's'}`);
  });

  it('?backend=webgpu without a GPU adapter falls back to WASM and says why', async () => {
    await ui.open('backend=webgpu');
    await ui.waitForPack();
    expect(await ui.backendText()).toMatch(/WASM/);
    expect(await ui.backend.getAttribute('title')).toMatch(/no WebGPU adapter/);
  });
});
