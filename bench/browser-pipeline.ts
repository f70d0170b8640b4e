// The page's own pipeline in headless Chromium on WASM: the site built with
// vite, served by `vite preview` (COOP/COEP on, so onnxruntime-web runs one
// thread per core), images given to the file input, grades and per-image
// timings (decode/preprocess/inference/total, measured in the worker) read
// back from the page's JSON export.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import { launch, type Browser } from '../e2e/browser';
import { GraderPage, type FilePayload } from '../e2e/pages/grader-page';
import { ResultsFileSchema } from '../src/model/result';
import type { BenchImage } from './images';
import { ROOT } from './shared';
import { summarize, timedRow, valueRow, type Row } from './stats';

/** The benchmark's own build, so it never races the e2e build or a developer's dist/. */
export const BENCH_DIST = resolve(ROOT, '.cache/bench/dist');
/** Per image, on top of a fixed allowance, before the run is called stuck. */
const WAIT_PER_IMAGE_MS = 10_000;
const WAIT_BASE_MS = 120_000;

export interface BrowserPipelineOptions {
  packDir: string;
  packId: string;
  listing: { name: string; description: string };
  images: readonly BenchImage[];
  /** Copy this existing build (e.g. the e2e one) instead of building the site. */
  fromDist?: string;
  /** Reuse .cache/bench/dist as it is when it has a site. */
  noBuild?: boolean;
  log: (line: string) => void;
}

export interface BrowserPipelineResult {
  rows: Row[];
  medianTotalMs: number;
  threads: number | null;
  imagesPerSecond: number;
  packLoadMs: number;
}

async function prepareSite(opts: BrowserPipelineOptions): Promise<void> {
  if (opts.fromDist) {
    if (!existsSync(join(opts.fromDist, 'index.html'))) throw new Error(`--dist ${opts.fromDist} has no index.html: build the site first`);
    rmSync(BENCH_DIST, { recursive: true, force: true });
    const skip = resolve(opts.fromDist, 'models');
    cpSync(opts.fromDist, BENCH_DIST, { recursive: true, filter: (src) => resolve(src) !== skip && !resolve(src).startsWith(skip + sep) });
  } else if (!(opts.noBuild && existsSync(join(BENCH_DIST, 'index.html')))) {
    opts.log('building the site (vite build) ...');
    const t0 = performance.now();
    // Vitest-free, but keep the same production build the e2e tests make (React prod mode, service worker).
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        mode: 'production',
        configFile: resolve(ROOT, 'vite.config.ts'),
        root: ROOT,
        logLevel: 'warn',
        build: { outDir: BENCH_DIST, emptyOutDir: true, sourcemap: false },
      });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    opts.log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  // Only the benchmarked pack is served, so it is the one the page loads on open.
  const models = join(BENCH_DIST, 'models');
  rmSync(models, { recursive: true, force: true });
  mkdirSync(models, { recursive: true });
  cpSync(opts.packDir, join(models, opts.packId), { recursive: true });
  writeFileSync(join(models, 'index.json'), JSON.stringify([{ id: opts.packId, ...opts.listing }], null, 2));
}

function mimeOf(path: string): string {
  return /\.png$/i.test(path) ? 'image/png' : 'image/jpeg';
}

export async function benchBrowserPipeline(opts: BrowserPipelineOptions): Promise<BrowserPipelineResult> {
  const section = `chromium wasm: ${opts.packId} pipeline (page, worker)`;
  await prepareSite(opts);
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  try {
    server = await preview({
      configFile: resolve(ROOT, 'vite.config.ts'),
      root: ROOT,
      logLevel: 'warn',
      build: { outDir: BENCH_DIST },
      preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
    });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report its URL');
    browser = await launch();
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    const ui = new GraderPage(page, url);

    const tOpen = performance.now();
    await ui.open('backend=wasm');
    const packText = await ui.waitForPack();
    const packLoadMs = performance.now() - tOpen;
    const backend = await ui.backendText();
    const isolated = (await page.evaluate('self.crossOriginIsolated')) === true;
    const threadsMatch = /(\d+)\s+threads?/.exec(backend);
    const threads = threadsMatch ? Number(threadsMatch[1]) : null;
    // The page states the worker's own load time (fetch, verify, sessions) after the pack's name: "· 6.2 s".
    const shown = /·\s*(\d+(?:\.\d+)?)\s*s\s*$/.exec(packText.trim());
    const workerLoadMs = shown ? Number(shown[1]) * 1000 : Number.NaN;
    opts.log(`page: ${backend.trim()}, crossOriginIsolated=${isolated}, pack loaded in ${(packLoadMs / 1000).toFixed(1)} s (page says ${shown?.[1] ?? '?'} s)`);

    const payloads: FilePayload[] = await Promise.all(
      opts.images.map(async (im) => ({ name: basename(im.path), mimeType: mimeOf(im.path), buffer: await readFile(im.path) })),
    );
    const wait = WAIT_BASE_MS + WAIT_PER_IMAGE_MS * payloads.length;
    const tFiles = performance.now();
    await ui.addFiles(payloads);
    await ui.gradeAll();
    await ui.waitForCards(payloads.length, wait);
    await ui.waitForIdle(wait);
    const wallMs = performance.now() - tFiles;

    const exported = ResultsFileSchema.parse((await ui.exportJson()).json);
    const results = exported.results.filter((r) => payloads.some((p) => p.name === r.file));
    const failed = results.filter((r) => r.error !== null);
    if (results.length !== payloads.length || failed.length > 0) {
      const why = failed.map((r) => `${r.file}: ${r.error?.code} ${r.error?.message}`).join('; ');
      throw new Error(`the page graded ${results.length - failed.length} of ${payloads.length} images${why ? ` (${why})` : ''}`);
    }
    if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);
    const pick = (k: 'decodeMs' | 'preprocessMs' | 'inferenceMs' | 'totalMs') =>
      results.map((r) => r.timings[k]).filter((x): x is number => typeof x === 'number');
    const total = pick('totalMs');
    const imagesPerSecond = (payloads.length / wallMs) * 1000;
    const rows: Row[] = [
      valueRow(section, 'page open -> pack loaded', packLoadMs, 'ms', 'worker start, wasm compile, fetch, sessions'),
      valueRow(section, 'pack load in the worker (as the page shows it)', workerLoadMs, 'ms', '0.1 s resolution'),
      valueRow(section, 'wasm threads', threads ?? Number.NaN, 'threads', `crossOriginIsolated=${isolated}; ${results[0]?.backend ?? ''}`),
      timedRow(section, 'decode (createImageBitmap)', pick('decodeMs')),
      timedRow(section, 'preprocess', pick('preprocessMs')),
      timedRow(section, 'inference (backbone + head)', pick('inferenceMs')),
      timedRow(section, 'total per image (worker)', total),
      valueRow(section, 'first image (cold) total', results.find((r) => r.file === payloads[0].name)?.timings.totalMs ?? Number.NaN, 'ms'),
      valueRow(section, 'wall clock, files set -> last card', wallMs, 'ms'),
      valueRow(section, 'throughput (wall clock)', imagesPerSecond, 'images/s', `${(wallMs / payloads.length).toFixed(1)} ms/image`),
    ];
    return { rows, medianTotalMs: summarize(total).median, threads, imagesPerSecond, packLoadMs };
  } finally {
    await browser?.close();
    await server?.close();
  }
}

/** Name and description for the served listing: the manifest's, else the folder's name. */
export function listingOf(packDir: string): { name: string; description: string } {
  const manifest = join(packDir, 'manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; description?: unknown };
    return { name: typeof m.name === 'string' ? m.name : basename(packDir), description: typeof m.description === 'string' ? m.description : '' };
  }
  return { name: basename(packDir), description: 'benchmark' };
}
