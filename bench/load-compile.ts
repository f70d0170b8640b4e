// V8's compile of onnxruntime's WebAssembly while the page loads a pack. Traces
// from navigation until the pack shows "Loaded", then AFTER_MS more, and prints
// the wasm compile time (top tier and lazy, summed over threads) before and
// after "Loaded". After it, the compile competes with a batch started at once
// (see src/worker/settle.ts and docs/performance.md). Runnable alone:
//   npx tsx bench/load-compile.ts [--dist DIR] [--query backend=wasm[;backend=wasm&ort=graph:disabled...]] [--after-ms 8000]
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser.ts';
import { GraderPage } from '../e2e/pages/grader-page.ts';
import { prepareUiSite } from './browser-responsiveness.ts';
import { previewSite } from './preview.ts';
import { ROOT } from './shared.ts';

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
}

const CATEGORIES = 'v8.wasm,disabled-by-default-v8.compile,blink.user_timing';

interface CompileTimes {
  loadS: number;
  topTierBeforeMs: number;
  topTierAfterMs: number;
  lazyMs: number;
}

async function measure(dist: string, query: string, afterMs: number): Promise<CompileTimes> {
  const { server, url } = await previewSite(dist);
  const profile = join(ROOT, '.cache/bench', `load-compile-${process.pid}-${Date.now().toString(36)}`);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    const events: TraceEvent[] = [];
    cdp.on('Tracing.dataCollected', (e: { value: object[] }) => events.push(...(e.value as TraceEvent[])));
    const complete = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.start', { categories: CATEGORIES, transferMode: 'ReportEvents' });
    const ui = new GraderPage(page, url);
    const t0 = Date.now();
    await ui.open(query);
    await ui.waitForPack();
    const loadS = (Date.now() - t0) / 1000;
    // The trace's clock is not the page's: mark "Loaded" in it with an event of our own.
    await page.evaluate(() => performance.mark('agqg-loaded'));
    await page.waitForTimeout(afterMs);
    await cdp.send('Tracing.end');
    await complete;
    const mark = events.find((e) => e.name === 'agqg-loaded')?.ts;
    if (mark === undefined) throw new Error('the "Loaded" mark is not in the trace');
    let topTierBeforeMs = 0;
    let topTierAfterMs = 0;
    let lazyMs = 0;
    for (const e of events) {
      if (e.ph !== 'X' || e.dur === undefined) continue;
      if (e.name === 'wasm.TopTierCompilation') {
        if (e.ts < mark) topTierBeforeMs += e.dur / 1000;
        else topTierAfterMs += e.dur / 1000;
      } else if (e.name === 'wasm.CompileLazy') lazyMs += e.dur / 1000;
    }
    return { loadS, topTierBeforeMs, topTierAfterMs, lazyMs };
  } finally {
    await context.close();
    await server.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dist: { type: 'string' },
      query: { type: 'string', default: 'backend=wasm' },
      'after-ms': { type: 'string', default: '8000' },
    },
  });
  const log = (l: string) => console.log(l);
  const dist = values.dist ? resolve(values.dist) : undefined;
  const site = await prepareUiSite({ dist, log });
  for (const query of values.query.split(';')) {
    const r = await measure(site, query, Number(values['after-ms']));
    log(
      `?${query}: Loaded after ${r.loadS.toFixed(1)} s; V8 wasm top-tier compile ${r.topTierBeforeMs.toFixed(0)} ms before "Loaded", ` +
        `${r.topTierAfterMs.toFixed(0)} ms after (thread time); lazy compile ${r.lazyMs.toFixed(0)} ms`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
