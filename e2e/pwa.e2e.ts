// The page as an installable app: Chromium reads the web app manifest with no errors and reports
// the page installable (DevTools protocol, as the install prompt decides); and the service worker
// precaches by content, so a rebuild in which some files changed keeps the revisions (and so the
// cached copies) of every file that did not, onnxruntime-web's WASM among them.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { build } from 'vite';
import { ROOT } from '../test/shared.ts';
import { launch, type Browser } from './browser.ts';
import { E2E_DIST } from './env.ts';
import { GraderPage } from './pages/grader-page.ts';

interface PrecacheEntry {
  url: string;
  revision: string | null;
}

/** The entries Workbox wrote into a build's sw.js (self.__WB_MANIFEST's replacement). */
function precacheOf(dist: string): Map<string, string | null> {
  const sw = readFileSync(join(dist, 'sw.js'), 'utf8');
  const m = /const PRECACHE = (\[[\s\S]*?\]);/.exec(sw);
  if (!m) throw new Error(`${dist}/sw.js has no precache list (was injectManifest run?)`);
  const entries = JSON.parse(m[1]) as PrecacheEntry[];
  return new Map(entries.map((e) => [e.url, e.revision]));
}

describe('installable app', () => {
  let browser: Browser;
  let ui: GraderPage;

  beforeAll(async () => {
    browser = await launch();
    ui = new GraderPage(await browser.context.newPage(), inject('baseUrl'));
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('has a manifest Chromium accepts and is installable', async () => {
    await ui.open();
    await ui.waitForPack();
    const cdp = await browser.context.newCDPSession(ui.page);
    const manifest = (await cdp.send('Page.getAppManifest')) as {
      url: string;
      errors: { message: string; critical: number }[];
      data?: string;
    };
    expect(manifest.url).toMatch(/\/manifest\.webmanifest$/);
    expect(manifest.errors).toEqual([]);
    const data = JSON.parse(manifest.data ?? '{}') as {
      name: string;
      short_name: string;
      display: string;
      start_url: string;
      theme_color: string;
      icons: { src: string; sizes: string; purpose?: string }[];
    };
    expect(data.name).toBe('AGQG Grader');
    expect(data.short_name).toBeTruthy();
    expect(data.display).toBe('standalone');
    expect(data.theme_color).toMatch(/^#[0-9a-f]{6}$/i);
    const sizes = data.icons.map((i) => i.sizes);
    expect(sizes).toContain('192x192');
    expect(sizes).toContain('512x512');
    expect(data.icons.some((i) => i.purpose?.split(' ').includes('maskable'))).toBe(true);
    // Each icon is served and is a PNG of the size it claims.
    for (const icon of data.icons) {
      const res = await ui.page.request.get(new URL(icon.src, manifest.url).href);
      expect(res.status(), icon.src).toBe(200);
      const png = await res.body();
      const [w, h] = [png.readUInt32BE(16), png.readUInt32BE(20)];
      expect(`${w}x${h}`, icon.src).toBe(icon.sizes);
    }
    const { installabilityErrors } = (await cdp.send('Page.getInstallabilityErrors')) as {
      installabilityErrors: { errorId: string }[];
    };
    expect(installabilityErrors).toEqual([]);
  });
});

describe('service worker precache', () => {
  let work: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'agqg-sw-builds-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('keeps the revision of every file a rebuild did not change', async () => {
    // Second build: the same sources with one public file changed (a stand-in for a deploy that
    // changes some files). Model packs are not copied: they are cached when loaded, not precached.
    const publicB = join(work, 'public-b');
    cpSync(resolve(ROOT, 'public'), publicB, {
      recursive: true,
      filter: (src) => !src.startsWith(resolve(ROOT, 'public/models')),
    });
    const favicon = join(publicB, 'favicon.svg');
    writeFileSync(favicon, readFileSync(favicon, 'utf8').replace('#4f46e5', '#4338ca'));
    const distB = join(work, 'dist-b');
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        mode: 'production',
        configFile: resolve(ROOT, 'vite.config.ts'),
        root: ROOT,
        logLevel: 'warn',
        publicDir: publicB,
        build: { outDir: distB, emptyOutDir: true, sourcemap: false },
      });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    const a = precacheOf(E2E_DIST);
    const b = precacheOf(distB);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    const changed = [...a].filter(([url, rev]) => b.get(url) !== rev).map(([url]) => url);
    expect(changed).toEqual(['favicon.svg']);
    // The runtime's WASM is there with a content revision, equal across the builds.
    const wasm = [...a.keys()].filter((u) => u.startsWith('ort/') && u.endsWith('.wasm'));
    expect(wasm.length).toBeGreaterThan(0);
    for (const u of wasm) expect(a.get(u)).toMatch(/^[0-9a-f]{32}$/);
    // Hashed bundles are their own revision; everything else carries one.
    for (const [url, rev] of a) expect(rev === null, url).toBe(url.startsWith('assets/'));
    expect(a.has('index.html') && a.has('manifest.webmanifest') && a.has('icon-512.png')).toBe(true);
    expect([...a.keys()].some((u) => u.startsWith('models/'))).toBe(false);
    // The service worker itself is byte-identical apart from its list, so unchanged builds do not reinstall.
    const strip = (d: string) =>
      readFileSync(join(d, 'sw.js'), 'utf8').replace(/const PRECACHE = \[[\s\S]*?\];/, '');
    expect(strip(distB)).toBe(strip(E2E_DIST));
    expect(readdirSync(distB)).toContain('sw.js');
  });
});
