// Renders the app's icons for the web app manifest from public/favicon.svg with Debian's
// Chromium (playwright-core): icon-192.png and icon-512.png as drawn, and icon-maskable-512.png
// with the drawing inside the maskable safe zone (the central 80% circle) on a full-bleed colour.
// Run after changing the favicon: node scripts/make-icons.mjs (the PNGs are committed).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC = join(ROOT, 'public');
const svg = readFileSync(join(PUBLIC, 'favicon.svg'), 'utf8');
const background = /fill="(#[0-9a-f]{6})"/i.exec(svg)?.[1] ?? '#4f46e5';
/** Share of a maskable icon's side the drawing may take (safe zone: a circle of 80% diameter). */
const MASKABLE_CONTENT = 0.7;

const icons = [
  { file: 'icon-192.png', size: 192, maskable: false },
  { file: 'icon-512.png', size: 512, maskable: false },
  { file: 'icon-maskable-512.png', size: 512, maskable: true },
];

const browser = await chromium.launch({
  executablePath: process.env.AGQG_CHROMIUM ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu'],
});
try {
  const page = await browser.newPage({ deviceScaleFactor: 1 });
  for (const { file, size, maskable } of icons) {
    const inner = maskable ? Math.round(size * MASKABLE_CONTENT) : size;
    const img = `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" width="${inner}" height="${inner}">`;
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<body style="margin:0;width:${size}px;height:${size}px;display:grid;place-items:center;background:${maskable ? background : 'transparent'}">${img}</body>`,
    );
    await page.waitForFunction(() => [...document.images].every((i) => i.complete));
    writeFileSync(join(PUBLIC, file), await page.screenshot({ omitBackground: !maskable }));
    console.log(`wrote public/${file} (${size}x${size}${maskable ? ', maskable' : ''})`);
  }
} finally {
  await browser.close();
}
