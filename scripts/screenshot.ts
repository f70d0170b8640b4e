// The README's screenshot: builds the site, serves it with vite preview, grades a batch of
// AGIQA-3K images (../shared) in Debian's Chromium with the default pack, and saves what the page
// shows. Run again after a UI change: npm run screenshot [-- --out docs/screenshot.png --count 6]
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { build, preview } from 'vite';
import { launch } from '../e2e/browser.ts';
import { agiqaImages } from '../e2e/files.ts';
import { GraderPage } from '../e2e/pages/grader-page.ts';
import { ROOT } from '../test/shared.ts';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'docs/screenshot.png' },
    count: { type: 'string', default: '6' },
    width: { type: 'string', default: '1280' },
    height: { type: 'string', default: '860' },
  },
});
const count = Number(values.count);
const out = resolve(ROOT, values.out);
const dist = resolve(ROOT, '.cache/screenshot/dist');
const configFile = resolve(ROOT, 'vite.config.ts');

rmSync(dist, { recursive: true, force: true });
await build({ mode: 'production', configFile, root: ROOT, logLevel: 'warn', build: { outDir: dist } });
const server = await preview({
  configFile,
  root: ROOT,
  logLevel: 'warn',
  build: { outDir: dist },
  preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
});
const url = server.resolvedUrls?.local[0];
if (!url) throw new Error('vite preview did not report its URL');
const browser = await launch();
try {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: Number(values.width), height: Number(values.height) });
  const ui = new GraderPage(page, url);
  await ui.open();
  await ui.waitForPack();
  const images = agiqaImages(count);
  await ui.addFiles(images.map((i) => i.path));
  await ui.gradeAll();
  await ui.waitForCards(images.length);
  await ui.waitForIdle();
  await page.screenshot({ path: out });
  console.log(`wrote ${out} (${images.length} images graded with ${await ui.packSelect.inputValue()})`);
} finally {
  await browser.close();
  await server.close();
}
