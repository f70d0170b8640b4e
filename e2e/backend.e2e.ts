// The page reports the backend that actually runs, and ?backend= forces one.
import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { describeShared } from '../test/shared.ts';
import { launch, type Browser } from './browser.ts';
import { TEST_PACK } from './env.ts';
import { GraderPage } from './pages/grader-page.ts';
import { ORT_BUILD_FILES } from '../src/worker/ort-files.ts';

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

  it("WASM loads onnxruntime-web's plain build, not the asyncify one only WebGPU needs", async () => {
    const page = await browser.context.newPage();
    const fetched: string[] = [];
    page.on('request', (r) => {
      const path = new URL(r.url()).pathname;
      if (path.includes('/ort/')) fetched.push(path.slice(path.lastIndexOf('/') + 1));
    });
    const fresh = new GraderPage(page, inject('baseUrl'));
    await fresh.open('backend=wasm');
    await fresh.waitForPack();
    expect(await fresh.backendText()).toMatch(/WASM/);
    const plain = ORT_BUILD_FILES.wasm;
    expect(fetched).toContain(plain.wasm);
    expect(fetched).toContain(plain.mjs);
    expect(fetched.filter((f) => f.includes('asyncify'))).toEqual([]);
    await page.close();
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
