// The site's Content-Security-Policy: vite preview sends the one vite.config.ts defines, each deploy
// config in deploy/ sends the same, and a batch grades (worker, onnxruntime-web's threads and WASM,
// thumbnails, the service worker) with no violation reported by any of them. Violations are caught
// three ways: the page's securitypolicyviolation events, console messages, and the policy's own
// reports (a report-uri this file's server adds), which also cover workers.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { preview, type Plugin, type PreviewServer } from 'vite';
import { describeShared, ROOT } from '../test/shared.ts';
import { CONTENT_SECURITY_POLICY } from '../vite.config.ts';
import { launch, type Browser } from './browser.ts';
import { AGIQA, E2E_DIST, TEST_PACK } from './env.ts';
import { agiqaImages } from './files.ts';
import { GraderPage } from './pages/grader-page.ts';

const REPORT_PATH = '/__e2e__/csp-report';

/** Adds a report-uri to the policy the server sends and keeps what browsers report to it. */
function cspReports(reports: unknown[]): Plugin {
  return {
    name: 'agqg-e2e-csp-reports',
    configurePreviewServer(srv) {
      srv.middlewares.use((req, res, next) => {
        if (req.url === REPORT_PATH && req.method === 'POST') {
          let body = '';
          req.on('data', (c: Buffer) => (body += c.toString()));
          req.on('end', () => {
            reports.push(JSON.parse(body));
            res.statusCode = 204;
            res.end();
          });
          return;
        }
        const setHeader = res.setHeader.bind(res);
        res.setHeader = (name: string, value: number | string | readonly string[]) =>
          setHeader(
            name,
            name.toLowerCase() === 'content-security-policy'
              ? `${String(value)}; report-uri ${REPORT_PATH}`
              : value,
          );
        next();
      });
    },
  };
}

it('the deploy configs send the policy vite preview sends', () => {
  const headers = readFileSync(resolve(ROOT, 'deploy/_headers'), 'utf8');
  expect(headers).toContain(`Content-Security-Policy: ${CONTENT_SECURITY_POLICY}`);
  const vercel = JSON.parse(readFileSync(resolve(ROOT, 'deploy/vercel.json'), 'utf8')) as {
    headers: { source: string; headers: { key: string; value: string }[] }[];
  };
  const all = vercel.headers.find((h) => h.source === '/(.*)');
  expect(all?.headers).toContainEqual({ key: 'Content-Security-Policy', value: CONTENT_SECURITY_POLICY });
  const nginx = readFileSync(resolve(ROOT, 'deploy/nginx.conf'), 'utf8');
  // nginx drops inherited add_header lines in a location with its own: each place that sends the
  // isolation headers must send the policy too.
  const count = (s: string) => nginx.split(s).length - 1;
  const csp = count(`add_header Content-Security-Policy "${CONTENT_SECURITY_POLICY}" always;`);
  expect(csp).toBeGreaterThan(0);
  expect(csp).toBe(count('add_header Cross-Origin-Opener-Policy'));
});

describeShared('content security policy', [TEST_PACK.fixture, AGIQA], () => {
  const reports: unknown[] = [];
  const seen: string[] = [];
  let server: PreviewServer;
  let browser: Browser;
  let ui: GraderPage;

  beforeAll(async () => {
    server = await preview({
      configFile: resolve(ROOT, 'vite.config.ts'),
      root: ROOT,
      logLevel: 'warn',
      plugins: [cspReports(reports)],
      build: { outDir: E2E_DIST },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report its URL');
    browser = await launch();
    const page = await browser.context.newPage();
    await page.addInitScript({
      content: `document.addEventListener('securitypolicyviolation', (e) =>
        console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI + ' at ' + e.sourceFile + ':' + e.lineNumber));`,
    });
    page.on('console', (m) => {
      if (/Content Security Policy|CSP violation/i.test(m.text())) seen.push(m.text());
    });
    page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
    ui = new GraderPage(page, url);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('is sent with every file, and a batch grades with no violation', async () => {
    const res = await fetch(new URL('/', server.resolvedUrls?.local[0]));
    expect(res.headers.get('content-security-policy')).toBe(
      `${CONTENT_SECURITY_POLICY}; report-uri ${REPORT_PATH}`,
    );
    await ui.open();
    await ui.waitForPack();
    expect(await ui.page.evaluate('crossOriginIsolated')).toBe(true);
    const images = agiqaImages(4);
    await ui.setBatchPrompt(images[0].prompt);
    await ui.addFiles(images.map((i) => i.path));
    await ui.gradeAll();
    await ui.waitForCards(images.length);
    await ui.waitForIdle();
    for (const img of images) {
      expect(await ui.errorOf(img.name)).toBeNull();
      expect(await ui.qualityOf(img.name)).not.toBeNull();
    }
    // The service worker (offline cache) ran under the policy too.
    await ui.waitForJs(
      `/Available offline|not saved/.test(document.querySelector('[aria-label="Offline status"]')?.textContent ?? '')`,
    );
    expect(await ui.offlineStatus.textContent()).toBe('Available offline');
    // Reports are sent asynchronously: give them a moment to arrive.
    await new Promise((r) => setTimeout(r, 1000));
    expect(seen).toEqual([]);
    expect(reports).toEqual([]);
    // The listeners do hear a violation: an image from another origin is refused and reported.
    await ui.page.evaluate(
      `document.body.append(Object.assign(document.createElement('img'), { src: 'http://127.0.0.2:9/refused.png' }))`,
    );
    await expect.poll(() => reports.length, { timeout: 10_000 }).toBe(1);
    expect(seen.some((t) => t.includes('img-src'))).toBe(true);
  });
});
