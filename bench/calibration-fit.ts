// Fit time of the page's calibration (issue 26): the built site in Chromium,
// WASM with 2 threads, the default pack loaded; the worker times recalibrate
// and retrain on 100 and 1,000 synthetic rated images of the pack's feature
// width (window.__agqgBench.calibrationFit, ?debug=1). Run: npx tsx bench/calibration-fit.ts
// after `npm run build`. The machine is shared: times are noisy, medians of REPEAT runs.
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { previewSite } from './preview.ts';
import { ROOT } from './shared.ts';

const REPEAT = Number(process.env.REPEAT ?? 3);
const CASES = [
  { mode: 'recalibrate', n: 100 },
  { mode: 'recalibrate', n: 1000 },
  { mode: 'retrain', n: 100 },
  { mode: 'retrain', n: 1000 },
] as const;

const { server, url } = await previewSite(resolve(ROOT, 'dist'));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  // Polled with evaluate: the site's CSP forbids the eval that waitForFunction's string predicates need.
  const loaded = async (what: string) => {
    const re = new RegExp(`^Loaded${what}`);
    for (let t = 0; t < 360; t++) {
      const text = String(await page.evaluate(`document.querySelector('.pack-state')?.textContent ?? ''`));
      if (re.test(text)) return;
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`the pack did not load (${what})`);
  };
  await page.goto(`${url}?debug=1&backend=wasm&threads=2`);
  await loaded('');
  await page.locator('select').first().selectOption('default');
  await loaded(' Default');
  for (const c of CASES) {
    const times: number[] = [];
    for (let r = 0; r < REPEAT; r++) {
      const out: unknown = await page.evaluate(`window.__agqgBench.calibrationFit(${JSON.stringify(c)})`);
      const o = out as { ok: boolean; value?: { ms: number; dim: number }; error?: { message: string } };
      if (!o.ok) throw new Error(`${c.mode} ${c.n}: ${o.error?.message}`);
      times.push(o.value!.ms / 1000);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${c.mode.padEnd(11)} n=${String(c.n).padStart(4)}: median ${times[Math.floor(times.length / 2)].toFixed(2)} s (runs ${times.map((t) => t.toFixed(2)).join(', ')})`,
    );
  }
} finally {
  await browser.close();
  await server.close();
}
