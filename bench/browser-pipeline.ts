// The page's own pipeline in headless Chromium on WASM: the site built with
// vite, served by `vite preview` (COOP/COEP on, so onnxruntime-web runs one
// thread per core), images given to the file input, grades and per-image
// timings (decode/preprocess/inference/total, measured in the worker) read
// back from the page's JSON export.
import {
  cpSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { basename, join, resolve, sep } from 'node:path';
import { build, type PreviewServer } from 'vite';
import { launch, type Browser } from '../e2e/browser.ts';
import type { Page } from 'playwright-core';
import { GraderPage, type FilePayload } from '../e2e/pages/grader-page.ts';
import { RESULTS_PAGE } from '../src/ui/paging.ts';
import type { StageTimings } from '../src/worker/grade.ts';
import type { BenchImage } from './images.ts';
import { previewSite } from './preview.ts';
import { ROOT } from './shared.ts';
import { summarize, valueRow, type Row } from './stats.ts';

/** The benchmark's own build, so it never races the e2e build or a developer's dist/. */
export const BENCH_DIST = resolve(ROOT, '.cache/bench/dist');
/** Per image, on top of a fixed allowance, before the run is called stuck. */
const WAIT_PER_IMAGE_MS = 10_000;
const WAIT_BASE_MS = 120_000;
/**
 * The page's waits poll on a 20 ms timer, not every frame (Playwright's default): frame polling
 * makes the page draw 60 frames a second of its own. At one image per run it cost the page 2.67-2.77
 * img/s against 2.87-2.98 polled on a timer (main thread 58-65 against 51-52 ms of CPU per image,
 * compositor 12-14 against 6-8; same browser, sessions alternating). transformers.js's page is
 * awaited without polling.
 */
const POLL_MS = 20;

export interface ServedPack {
  dir: string;
  id: string;
  listing: { name: string; description: string };
}

interface SiteOptions {
  /** Copy this existing build (e.g. the e2e one) instead of building the site. */
  fromDist?: string;
  /** Reuse .cache/bench/dist as it is when it has a site. */
  noBuild?: boolean;
  log: (line: string) => void;
}

/** The production build the e2e tests make (React prod mode, service worker), into `outDir`. */
export async function buildSite(outDir: string, log: (line: string) => void): Promise<void> {
  log('building the site (vite build) ...');
  const t0 = performance.now();
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      mode: 'production',
      configFile: resolve(ROOT, 'vite.config.ts'),
      root: ROOT,
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

async function prepareSite(opts: SiteOptions, packs: readonly ServedPack[]): Promise<void> {
  if (opts.fromDist) {
    if (!existsSync(join(opts.fromDist, 'index.html')))
      throw new Error(`--dist ${opts.fromDist} has no index.html: build the site first`);
    rmSync(BENCH_DIST, { recursive: true, force: true });
    const skip = resolve(opts.fromDist, 'models');
    cpSync(opts.fromDist, BENCH_DIST, {
      recursive: true,
      filter: (src) => resolve(src) !== skip && !resolve(src).startsWith(skip + sep),
    });
  } else if (!(opts.noBuild && existsSync(join(BENCH_DIST, 'index.html')))) {
    await buildSite(BENCH_DIST, opts.log);
  }
  // Only the benchmarked packs are served; the first is the one the page loads on open.
  const models = join(BENCH_DIST, 'models');
  rmSync(models, { recursive: true, force: true });
  mkdirSync(models, { recursive: true });
  for (const p of packs) {
    // Hard links: the CLIP ViT-B/32 pack is 600 MB and is never written to.
    try {
      linkTree(p.dir, join(models, p.id));
    } catch {
      cpSync(p.dir, join(models, p.id), { recursive: true });
    }
  }
  writeFileSync(
    join(models, 'index.json'),
    JSON.stringify(
      packs.map((p) => ({ id: p.id, ...p.listing })),
      null,
      2,
    ),
  );
}

function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) linkTree(join(from, e.name), join(to, e.name));
    else linkSync(join(from, e.name), join(to, e.name));
  }
}

function mimeOf(path: string): string {
  return /\.png$/i.test(path) ? 'image/png' : 'image/jpeg';
}

/** Name and description for the served listing: the manifest's, else the folder's name. */
export function listingOf(packDir: string): { name: string; description: string } {
  const manifest = join(packDir, 'manifest.json');
  if (existsSync(manifest)) {
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; description?: unknown };
    return {
      name: typeof m.name === 'string' ? m.name : basename(packDir),
      description: typeof m.description === 'string' ? m.description : '',
    };
  }
  return { name: basename(packDir), description: 'benchmark' };
}

// ---------------------------------------------------------------------------
// The page's grading pipeline, measured per configuration: WASM threads, images
// per encoder run (?batch=), decoding ahead (?inflight=), session options (?ort=).
// Per-image stage timings come from the worker (window.__agqgRun, ?debug=1).

/** window.__agqg.runContext(): which kind of task the worker's WASM runs started from (src/worker/run-context.ts). */
export interface RunContextSeen {
  context: string;
  switches: number;
  recent: { session: string; perItemMs: number; bestMs: number; to: string }[];
}

/** One page session: a fresh browser profile, the page opened with these URL parameters, one pack loaded. */
export interface PageSession {
  packId: string;
  /** ?threads=N; null: the page's default (one per core). */
  threads: number | null;
  /** ?ort=... session options. */
  ort?: string;
}

export type PromptMode = 'none' | 'distinct' | 'same';

/** One grading run inside a session. */
export interface PageRun {
  label: string;
  /** ?batch=N for this run (changed in place, no reload); null: the page's own choice (the pack's, else its default). */
  batch: number | null;
  /** ?inflight=N; absent: the page's default. */
  inflight?: number;
  prompts: PromptMode;
  /** 'drop': every file set at once, then graded; 'sequential': one file added and graded at a time. */
  mode: 'drop' | 'sequential';
  images: readonly BenchImage[];
}

export interface StageTotals {
  decode: number;
  thumbnail: number;
  preprocess: number;
  encoder: number;
  text: number;
  head: number;
}

export interface PageRunResult {
  session: PageSession;
  run: Omit<PageRun, 'images'> & { images: number };
  threads: number | null;
  wallMs: number;
  imagesPerSecond: number;
  /** Per image: handed to the worker -> result on the page (sequential: file set -> card). */
  latency: ReturnType<typeof summarize>;
  /** Images per encoder run the page used. */
  imagesPerRun: number;
  /** Worker time per image by stage, summed over the run (ms). */
  stages: StageTotals;
  loadAvg1m: number;
}

interface RunImageStats {
  name: string;
  latencyMs: number;
  /** As the worker measured them (src/worker/grade.ts, free of worker globals). */
  stages: StageTimings;
  error: string | null;
}
interface RunStats {
  batchSize: number;
  images: number;
  wallMs: number;
  perImage: RunImageStats[];
  done: boolean;
}

const LAST_PACK_KEY = 'agqg.lastPack';
/** The CLIP ViT-B/32 pack is 600 MB: fetching it and making its sessions took 2 min on a loaded 2-core machine. */
const PACK_LOAD_WAIT_MS = 600_000;

/** Serves the bench site with `packs` and hands out page sessions. */
export class PageBench {
  /**
   * One profile for every session: the page caches pack files for offline use, so later sessions
   * skip fetching the 600 MB CLIP pack again; each session still gets a new page and so a new worker.
   */
  private browser: Browser | null = null;

  private constructor(
    private readonly server: PreviewServer,
    readonly url: string,
    private readonly log: (line: string) => void,
  ) {}

  static async start(opts: SiteOptions, packs: readonly ServedPack[]): Promise<PageBench> {
    await prepareSite(opts, packs);
    const { server, url } = await previewSite(BENCH_DIST);
    return new PageBench(server, url, opts.log);
  }

  async close(): Promise<void> {
    await this.browser?.close();
    await this.server.close();
  }

  /** Opens the page for `session` in a fresh profile, runs `runs` in order, closes it. */
  async session(
    session: PageSession,
    runs: readonly PageRun[],
  ): Promise<{
    results: PageRunResult[];
    loadMs: number;
    threads: number | null;
    runContext: RunContextSeen | null;
  }> {
    this.browser ??= await launch();
    const pageErrors: string[] = [];
    const page = await this.browser.context.newPage();
    try {
      page.on('pageerror', (e) => pageErrors.push(e.message));
      // The page loads the last used pack on open: make it this one, so no other pack loads first.
      await page.addInitScript(
        `localStorage.setItem(${JSON.stringify(LAST_PACK_KEY)}, ${JSON.stringify(session.packId)})`,
      );
      const ui = new GraderPage(page, this.url, { pollMs: POLL_MS });
      const t0 = performance.now();
      await ui.open(this.query(session, runs[0]?.batch ?? null, runs[0]?.inflight));
      await ui.waitForPack(PACK_LOAD_WAIT_MS);
      const loadMs = performance.now() - t0;
      const badge = await ui.backendText();
      const m = /(\d+)\s+threads?/.exec(badge);
      const threads = m ? Number(m[1]) : null;
      this.log(
        `${session.packId} threads=${threads} ort=${session.ort ?? '-'}: ${badge.trim()}, loaded in ${(loadMs / 1000).toFixed(1)} s`,
      );
      const results: PageRunResult[] = [];
      for (const run of runs) {
        await page.evaluate(
          `history.replaceState(null, '', ${JSON.stringify(`/?${this.query(session, run.batch, run.inflight)}`)})`,
        );
        const r = run.mode === 'drop' ? await this.dropRun(ui, run) : await this.sequentialRun(ui, run);
        const res: PageRunResult = {
          session,
          run: { ...run, images: run.images.length },
          threads,
          ...r,
          loadAvg1m: loadavg()[0],
        };
        this.log(
          `  ${run.label}: ${res.imagesPerSecond.toFixed(2)} img/s (${res.imagesPerRun} per run), latency median ${res.latency.median.toFixed(0)} ms p90 ${res.latency.p90.toFixed(0)} ms, ` +
            `encoder ${(res.stages.encoder / run.images.length).toFixed(0)} ms/img (load ${res.loadAvg1m.toFixed(2)})`,
        );
        results.push(res);
      }
      if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);
      const runContext = (await page.evaluate(
        'window.__agqg ? window.__agqg.runContext() : null',
      )) as RunContextSeen | null;
      if (runContext) {
        const why = runContext.recent
          .map(
            (r) => `${r.session} ${r.perItemMs.toFixed(0)} vs best ${r.bestMs.toFixed(0)} ms/item -> ${r.to}`,
          )
          .join('; ');
        this.log(
          `  runs started from a ${runContext.context} task at the end (${runContext.switches} switch(es) after slow runs${why ? `: ${why}` : ''})`,
        );
      }
      return { results, loadMs, threads, runContext };
    } finally {
      await page.close();
    }
  }

  /**
   * Opens one page per session (all kept open, each with its own worker), then calls `each` on
   * them in turn: comparisons across thread counts interleave run by run.
   */
  async pages(sessions: readonly PageSession[]): Promise<{
    pages: { session: PageSession; page: Page; threads: number | null }[];
    close(): Promise<void>;
  }> {
    this.browser ??= await launch();
    const pages: { session: PageSession; page: Page; threads: number | null }[] = [];
    for (const session of sessions) {
      const page = await this.browser.context.newPage();
      await page.addInitScript(
        `localStorage.setItem(${JSON.stringify(LAST_PACK_KEY)}, ${JSON.stringify(session.packId)})`,
      );
      const ui = new GraderPage(page, this.url, { pollMs: POLL_MS });
      await ui.open(this.query(session, 1));
      await ui.waitForPack(PACK_LOAD_WAIT_MS);
      const m = /(\d+)\s+threads?/.exec(await ui.backendText());
      pages.push({ session, page, threads: m ? Number(m[1]) : null });
    }
    return { pages, close: async () => void (await Promise.all(pages.map((p) => p.page.close()))) };
  }

  private query(session: PageSession, batch: number | null, inflight?: number): string {
    const q = new URLSearchParams({ backend: 'wasm', debug: '1' });
    if (batch !== null) q.set('batch', String(batch));
    if (session.threads !== null) q.set('threads', String(session.threads));
    if (inflight !== undefined) q.set('inflight', String(inflight));
    if (session.ort) q.set('ort', session.ort);
    return q.toString();
  }

  private async addImages(ui: GraderPage, images: readonly BenchImage[], prompts: PromptMode): Promise<void> {
    const payloads: FilePayload[] = await Promise.all(
      images.map(async (im) => ({
        name: basename(im.path),
        mimeType: mimeOf(im.path),
        buffer: await readFile(im.path),
      })),
    );
    await ui.addFiles(payloads);
    if (prompts === 'distinct') {
      const csv = [
        'name,prompt',
        ...images.map((im) => `${csvCell(basename(im.path))},${csvCell(im.prompt)}`),
      ].join('\n');
      await ui.addFiles([{ name: 'prompts.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) }]);
    } else if (prompts === 'same') {
      await ui.setBatchPrompt(images[0]?.prompt ?? 'a photo');
    }
  }

  private async gradeAndWait(ui: GraderPage, n: number): Promise<RunStats> {
    await ui.page.evaluate('window.__agqgRun = null');
    await ui.gradeAll();
    await ui.waitForJs(
      `(() => { const r = window.__agqgRun; return !!r && r.done && r.perImage.length === ${n}; })()`,
      WAIT_BASE_MS + WAIT_PER_IMAGE_MS * n,
    );
    await ui.waitForIdle();
    const stats = (await ui.page.evaluate('window.__agqgRun')) as RunStats;
    const bad = stats.perImage.filter((p) => p.error !== null);
    if (bad.length > 0)
      throw new Error(
        `the page failed ${bad.length} images: ${bad.map((b) => `${b.name}: ${b.error}`).join('; ')}`,
      );
    return stats;
  }

  private async dropRun(
    ui: GraderPage,
    run: PageRun,
  ): Promise<Omit<PageRunResult, 'session' | 'run' | 'threads' | 'loadAvg1m'>> {
    const t0 = performance.now();
    await this.addImages(ui, run.images, run.prompts);
    // Done = every result stored and the page idle again (the grid pages its cards, so they are not counted).
    const stats = await this.gradeAndWait(ui, run.images.length);
    const wallMs = performance.now() - t0;
    return {
      wallMs,
      imagesPerSecond: (run.images.length / wallMs) * 1000,
      imagesPerRun: stats.batchSize,
      latency: summarize(stats.perImage.map((p) => p.latencyMs)),
      stages: totals(stats.perImage),
    };
  }

  private async sequentialRun(
    ui: GraderPage,
    run: PageRun,
  ): Promise<Omit<PageRunResult, 'session' | 'run' | 'threads' | 'loadAvg1m'>> {
    const lat: number[] = [];
    const per: RunImageStats[] = [];
    const t0 = performance.now();
    for (const im of run.images) {
      const t1 = performance.now();
      await this.addImages(ui, [im], run.prompts);
      const stats = await this.gradeAndWait(ui, 1);
      lat.push(performance.now() - t1);
      per.push(...stats.perImage);
    }
    const wallMs = performance.now() - t0;
    // One image is graded at a time, whatever the page would put in a run.
    return {
      wallMs,
      imagesPerSecond: (run.images.length / wallMs) * 1000,
      imagesPerRun: 1,
      latency: summarize(lat),
      stages: totals(per),
    };
  }
}

function csvCell(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function totals(per: readonly RunImageStats[]): StageTotals {
  const t: StageTotals = { decode: 0, thumbnail: 0, preprocess: 0, encoder: 0, text: 0, head: 0 };
  for (const p of per) {
    t.decode += p.stages.decodeMs ?? 0;
    t.thumbnail += p.stages.thumbnailMs ?? 0;
    t.preprocess += p.stages.preprocessMs ?? 0;
    t.encoder += p.stages.encoderMs ?? 0;
    t.text += p.stages.textMs ?? 0;
    t.head += p.stages.headMs ?? 0;
  }
  return t;
}

function shareNote(t: StageTotals): string {
  const sum = Object.values(t).reduce((a, b) => a + b, 0) || 1;
  return (Object.entries(t) as [keyof StageTotals, number][])
    .map(([k, v]) => `${k} ${((100 * v) / sum).toFixed(0)}%`)
    .join(', ');
}

/** Rows for one run: throughput, latency, per-image stage times and shares. */
export function pageRunRows(r: PageRunResult): Row[] {
  const section = `page (chromium wasm): ${r.session.packId}, ${r.threads ?? '?'} thread(s)${r.session.ort ? `, ort ${r.session.ort}` : ''}`;
  const name = r.run.label;
  const n = r.run.images || 1;
  const rows: Row[] = [
    valueRow(
      section,
      `${name}: throughput`,
      r.imagesPerSecond,
      'images/s',
      `${r.run.images} images, ${r.imagesPerRun} per encoder run, wall ${(r.wallMs / 1000).toFixed(1)} s, load ${r.loadAvg1m.toFixed(2)}`,
    ),
    valueRow(section, `${name}: latency median`, r.latency.median, 'ms'),
    valueRow(section, `${name}: latency p90`, r.latency.p90, 'ms'),
  ];
  for (const k of ['decode', 'thumbnail', 'preprocess', 'encoder', 'text', 'head'] as const) {
    rows.push(valueRow(section, `${name}: ${k} per image`, r.stages[k] / n, 'ms'));
  }
  const overlapped = r.run.mode === 'drop' && r.run.inflight !== 1;
  rows.push(
    valueRow(
      section,
      `${name}: stage shares`,
      Number.NaN,
      '',
      `${shareNote(r.stages)}${overlapped ? '; decode includes the wait behind the encoder (decoded ahead)' : ''}`,
    ),
  );
  return rows;
}

export interface PageMatrixOptions extends SiteOptions {
  /** Packs to measure (the default pack and the CLIP ViT-B/32 one). */
  packs: readonly ServedPack[];
  /** Images of the "batch of 32" runs (the first `sequential` also go one at a time). */
  images: readonly BenchImage[];
  sequential?: number;
  /** Thread counts to compare; default [1, all cores]. */
  threads?: readonly (number | null)[];
  /** Images per encoder run in the drop runs; default the page's own (null). */
  batch?: number | null;
}

export interface PageMatrixEntry {
  packId: string;
  threads: number | null;
  batch1: PageRunResult;
  batch32: PageRunResult;
  /** The same batch of 32 once more, right after it. */
  batch32Again: PageRunResult;
  /** Images per second over both rounds of the batch of 32 (images / wall, pooled). */
  batch32Pooled: number;
  /** batch32 with one call in flight: no decoding ahead, so each stage's time is its own (decode included). */
  stageShares: PageRunResult;
  /** batch32 with each image's own prompt, minus without: the text tower's cost. */
  prompts: PageRunResult | null;
  /** The batch of 32 once more, after the prompts run (packs with a text tower). */
  afterPrompts: PageRunResult | null;
  loadMs: number;
  runContext: RunContextSeen | null;
}

/** The issue's figures for the page: each pack x {1 thread, all cores} x {one at a time, 32 at once}. */
export async function benchPageMatrix(
  opts: PageMatrixOptions,
): Promise<{ rows: Row[]; entries: PageMatrixEntry[] }> {
  const bench = await PageBench.start(opts, opts.packs);
  const entries: PageMatrixEntry[] = [];
  const rows: Row[] = [];
  try {
    for (const pack of opts.packs) {
      for (const threads of opts.threads ?? [1, null]) {
        const seq = opts.images.slice(0, opts.sequential ?? 8);
        const batch = opts.batch ?? null;
        const runs: PageRun[] = [
          {
            label: `batch of 1 (${seq.length} images one at a time)`,
            batch: 1,
            prompts: 'none',
            mode: 'sequential',
            images: seq,
          },
          {
            label: `batch of ${opts.images.length} (dropped at once)`,
            batch,
            prompts: 'none',
            mode: 'drop',
            images: opts.images,
          },
          // Two rounds back to back, pooled, as transformers.js's rounds are (bench/transformers-js.ts).
          {
            label: `batch of ${opts.images.length} (dropped at once), round 2`,
            batch,
            prompts: 'none',
            mode: 'drop',
            images: opts.images,
          },
          // Decoding ahead overlaps the next chunk's decode with the encoder, so its decode times include the wait
          // behind the encoder; one call at a time gives each stage's own time (the stage shares).
          {
            label: `batch of ${opts.images.length}, no decoding ahead (stage shares)`,
            batch,
            inflight: 1,
            prompts: 'none',
            mode: 'drop',
            images: opts.images,
          },
        ];
        const text = packHasText(pack.dir);
        if (text) {
          runs.push(
            {
              label: `batch of ${opts.images.length}, each with its own prompt`,
              batch,
              prompts: 'distinct',
              mode: 'drop',
              images: opts.images,
            },
            // The images again after the text tower's first runs: V8 can deoptimise onnxruntime's hot wasm functions
            // when other kernels first run, and they run on baseline code until re-optimised (docs/performance.md).
            {
              label: `batch of ${opts.images.length} (dropped at once), after the prompts`,
              batch,
              prompts: 'none',
              mode: 'drop',
              images: opts.images,
            },
          );
        }
        const s = await bench.session({ packId: pack.id, threads }, runs);
        const [batch1, batch32, again, serial] = s.results;
        const prompts = text ? s.results[4] : null;
        const afterPrompts = text ? s.results[5] : null;
        const batch32Pooled =
          (batch32.run.images + again.run.images) / ((batch32.wallMs + again.wallMs) / 1000);
        entries.push({
          packId: pack.id,
          threads: s.threads,
          batch1,
          batch32,
          batch32Again: again,
          batch32Pooled,
          stageShares: serial,
          prompts,
          afterPrompts,
          loadMs: s.loadMs,
          runContext: s.runContext,
        });
        const section = `page (chromium wasm): ${pack.id}, ${s.threads ?? '?'} thread(s)`;
        rows.push(valueRow(section, 'page open -> pack loaded', s.loadMs, 'ms'));
        for (const r of s.results) rows.push(...pageRunRows(r));
        rows.push(
          valueRow(
            section,
            `batch of ${opts.images.length}, both rounds: throughput`,
            batch32Pooled,
            'images/s',
            `rounds ${batch32.imagesPerSecond.toFixed(2)}, ${again.imagesPerSecond.toFixed(2)}`,
          ),
        );
      }
    }
  } finally {
    await bench.close();
  }
  return { rows, entries };
}

/** Images per encoder run in the lever comparisons that hold it fixed (the page's default, src/ui/url-params.ts DEFAULT_BATCH). */
const DEFAULT_PAGE_BATCH = 8;

/** Whether a pack folder has a text encoder (manifest "text", or a Hugging Face export's text_model.onnx). */
export function packHasText(dir: string): boolean {
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest))
    return (JSON.parse(readFileSync(manifest, 'utf8')) as { text?: unknown }).text != null;
  return existsSync(join(dir, 'onnx', 'text_model.onnx'));
}

export interface LeverResult {
  lever: string;
  /** Configuration label -> images/s of each repetition, in the interleaved order they ran. */
  throughput: Record<string, number[]>;
  encoderMsPerImage: Record<string, number[]>;
  rows: Row[];
}

function leverRows(
  section: string,
  lever: string,
  tp: Record<string, number[]>,
  enc: Record<string, number[]>,
): Row[] {
  const base = Object.keys(tp)[0];
  const baseMedian = summarize(tp[base]).median;
  return Object.entries(tp).map(([k, v]) => {
    const med = summarize(v).median;
    const e = summarize(enc[k] ?? []).median;
    return valueRow(
      section,
      `${lever}: ${k}`,
      med,
      'images/s',
      `x${(med / baseMedian).toFixed(2)} vs ${base}; encoder ${e.toFixed(0)} ms/img; runs ${v.map((x) => x.toFixed(2)).join(' ')}`,
    );
  });
}

/**
 * Speed levers, each compared within one session (or interleaved sessions) so load from other
 * processes hits every option alike: images per encoder run, decoding ahead, session options.
 */
export async function benchPageLevers(
  opts: SiteOptions & {
    pack: ServedPack;
    images: readonly BenchImage[];
    threads: number | null;
    reps?: number;
    batches?: number[];
    ortVariants?: string[];
  },
): Promise<LeverResult[]> {
  const bench = await PageBench.start(opts, [opts.pack]);
  const reps = opts.reps ?? 2;
  const out: LeverResult[] = [];
  const section = `levers: ${opts.pack.id}, threads ${opts.threads ?? 'all'}`;
  try {
    // (a) batch size and (b) decoding ahead, in one session, interleaved.
    const batches = opts.batches ?? [1, 4, 8, 16, 32];
    const runs: PageRun[] = [];
    for (let r = 0; r < reps; r++) {
      const order = r % 2 === 0 ? batches : [...batches].reverse();
      for (const b of order)
        runs.push({ label: `batch ${b}`, batch: b, prompts: 'none', mode: 'drop', images: opts.images });
      for (const f of r % 2 === 0 ? [1, 2] : [2, 1])
        runs.push({
          label: `inflight ${f}`,
          batch: DEFAULT_PAGE_BATCH,
          inflight: f,
          prompts: 'none',
          mode: 'drop',
          images: opts.images,
        });
    }
    const s = await bench.session({ packId: opts.pack.id, threads: opts.threads }, runs);
    const tp: Record<string, number[]> = {};
    const enc: Record<string, number[]> = {};
    for (const r of s.results) {
      (tp[r.run.label] ??= []).push(r.imagesPerSecond);
      (enc[r.run.label] ??= []).push(r.stages.encoder / r.run.images);
    }
    const pick = (pred: (k: string) => boolean) =>
      Object.fromEntries(Object.entries(tp).filter(([k]) => pred(k)));
    const pickE = (pred: (k: string) => boolean) =>
      Object.fromEntries(Object.entries(enc).filter(([k]) => pred(k)));
    const isBatch = (k: string) => k.startsWith('batch ');
    const isFlight = (k: string) => k.startsWith('inflight ');
    out.push({
      lever: 'images per encoder run',
      throughput: pick(isBatch),
      encoderMsPerImage: pickE(isBatch),
      rows: leverRows(section, 'images per encoder run', pick(isBatch), pickE(isBatch)),
    });
    out.push({
      lever: 'batches in flight (decode ahead)',
      throughput: pick(isFlight),
      encoderMsPerImage: pickE(isFlight),
      rows: leverRows(section, 'batches in flight', pick(isFlight), pickE(isFlight)),
    });

    // (c) session options: one session each, interleaved ABAB.
    const variants = opts.ortVariants ?? [];
    if (variants.length > 0) {
      const all = ['', ...variants];
      const vtp: Record<string, number[]> = {};
      const venc: Record<string, number[]> = {};
      for (let r = 0; r < reps; r++) {
        for (const v of r % 2 === 0 ? all : [...all].reverse()) {
          const run: PageRun = {
            label: `ort ${v || 'defaults'}`,
            batch: DEFAULT_PAGE_BATCH,
            prompts: 'none',
            mode: 'drop',
            images: opts.images,
          };
          const res = await bench.session(
            { packId: opts.pack.id, threads: opts.threads, ort: v || undefined },
            [run, run],
          );
          // The first run warms the sessions up; the second is the measured one.
          const m = res.results[1];
          (vtp[run.label] ??= []).push(m.imagesPerSecond);
          (venc[run.label] ??= []).push(m.stages.encoder / m.run.images);
        }
      }
      out.push({
        lever: 'session options',
        throughput: vtp,
        encoderMsPerImage: venc,
        rows: leverRows(section, 'session options', vtp, venc),
      });
    }
  } finally {
    await bench.close();
  }
  return out;
}

/** src/worker/ort-web.ts SessionTuning (not imported: that file is type-checked with worker globals). */
interface SessionTuning {
  graphOptimizationLevel?: 'disabled' | 'basic' | 'extended' | 'all';
  enableMemPattern?: boolean;
  enableCpuMemArena?: boolean;
  executionMode?: 'sequential' | 'parallel';
  allowSpinning?: boolean;
  freeDimensionOverrides?: Record<string, number>;
}

interface EncoderBenchOut {
  ok: boolean;
  value?: {
    msPerImage: Record<string, number[]>;
    threads: number;
    sequenceMs?: number[];
    runContext?: RunContextSeen;
  };
  error?: { code: string; message: string };
}

async function encoderBench(
  page: Page,
  req: { batches: number[]; tunings: SessionTuning[]; reps: number },
): Promise<Record<string, number[]>> {
  const out = (await page.evaluate(`window.__agqgBench.encoder(${JSON.stringify(req)})`)) as EncoderBenchOut;
  if (!out.ok || !out.value) throw new Error(`encoder bench: ${out.error?.code} ${out.error?.message}`);
  return out.value.msPerImage;
}

export interface EncoderLeverResult {
  packId: string;
  /** `threads=T batch=B` -> ms per image of each run (interleaved across pages and batch sizes). */
  batchAndThreads: Record<string, number[]>;
  /** Option label -> [baseline ms/img runs, option ms/img runs], batch `optionBatch`, 1 thread. */
  sessionOptions: Record<string, { base: number[]; option: number[] }>;
  rows: Row[];
}

/** Session options compared against the defaults (graphOptimizationLevel all, the rest ORT's own). */
export const SESSION_OPTION_VARIANTS: Record<string, SessionTuning> = {
  'graph basic': { graphOptimizationLevel: 'basic' },
  'graph extended': { graphOptimizationLevel: 'extended' },
  'mem pattern off': { enableMemPattern: false },
  'cpu arena off': { enableCpuMemArena: false },
  'execution parallel': { executionMode: 'parallel' },
  /** Pinned to the batch size the options are compared at. */
  'batch axis pinned': { freeDimensionOverrides: { $batch: 0 } },
};

/**
 * The vision encoder inside the page's worker, levers isolated: batch size x threads (one page
 * per thread count, runs alternating between them) and session options (each against the
 * defaults, in the same worker, run by run).
 */
export async function benchEncoderLevers(
  opts: SiteOptions & {
    pack: ServedPack;
    batches?: number[];
    threads?: (number | null)[];
    rounds?: number;
    optionBatch?: number;
    options?: string[];
  },
): Promise<EncoderLeverResult> {
  const bench = await PageBench.start(opts, [opts.pack]);
  const batches = opts.batches ?? [1, 4, 8, 16, 32];
  const rounds = opts.rounds ?? 3;
  const optionBatch = opts.optionBatch ?? DEFAULT_PAGE_BATCH;
  const section = `encoder in the page's worker: ${opts.pack.id}`;
  const rows: Row[] = [];
  const batchAndThreads: Record<string, number[]> = {};
  const sessionOptions: Record<string, { base: number[]; option: number[] }> = {};
  try {
    const { pages, close } = await bench.pages(
      (opts.threads ?? [1, null]).map((threads) => ({ packId: opts.pack.id, threads })),
    );
    try {
      for (let r = 0; r < rounds; r++) {
        for (const p of r % 2 === 0 ? pages : [...pages].reverse()) {
          const ms = await encoderBench(p.page, { batches, tunings: [{}], reps: 1 });
          for (const b of batches)
            (batchAndThreads[`threads=${p.threads} batch=${b}`] ??= []).push(...(ms[`0|${b}`] ?? []));
        }
        opts.log(`round ${r + 1}/${rounds} (load ${loadavg()[0].toFixed(2)})`);
      }
      const first = pages[0];
      for (const name of opts.options ?? Object.keys(SESSION_OPTION_VARIANTS)) {
        const v = SESSION_OPTION_VARIANTS[name];
        const t = v.freeDimensionOverrides ? { ...v, freeDimensionOverrides: { $batch: optionBatch } } : v;
        const ms = await encoderBench(first.page, {
          batches: [optionBatch],
          tunings: [{}, t],
          reps: Math.max(2, rounds),
        });
        sessionOptions[name] = { base: ms[`0|${optionBatch}`] ?? [], option: ms[`1|${optionBatch}`] ?? [] };
        opts.log(
          `${name}: ${summarize(sessionOptions[name].option).median.toFixed(0)} vs ${summarize(sessionOptions[name].base).median.toFixed(0)} ms/img (load ${loadavg()[0].toFixed(2)})`,
        );
      }
      for (const p of pages) {
        const base = summarize(batchAndThreads[`threads=${p.threads} batch=1`] ?? []).median;
        for (const b of batches) {
          const v = batchAndThreads[`threads=${p.threads} batch=${b}`] ?? [];
          const med = summarize(v).median;
          rows.push(
            valueRow(
              section,
              `${p.threads} thread(s), batch ${b}: encoder per image`,
              med,
              'ms',
              `x${(base / med).toFixed(2)} images/s vs batch 1; runs ${v.map((x) => x.toFixed(0)).join(' ')}`,
            ),
          );
        }
      }
      for (const [name, v] of Object.entries(sessionOptions)) {
        const b = summarize(v.base).median;
        const o = summarize(v.option).median;
        rows.push(
          valueRow(
            section,
            `${first.threads} thread(s), batch ${optionBatch}: ${name}`,
            o,
            'ms',
            `defaults ${b.toFixed(0)} ms/img: x${(b / o).toFixed(2)} images/s`,
          ),
        );
      }
    } finally {
      await close();
    }
  } finally {
    await bench.close();
  }
  return { packId: opts.pack.id, batchAndThreads, sessionOptions, rows };
}

/**
 * Encoder runs of the given batch sizes one after another on one new session in a fresh page,
 * no warm-up: how run times change as V8 tiers up (and deoptimises) onnxruntime's wasm.
 * `sequence` like "8*14,1*24": 14 runs of 8 images, then 24 of 1.
 */
export async function benchEncoderSequence(
  opts: SiteOptions & {
    pack: ServedPack;
    threads: number | null;
    sequence: string;
    rounds: number;
    ort?: string;
  },
): Promise<Row[]> {
  const sizes = opts.sequence.split(',').flatMap((part) => {
    const [b, n] = part.split('*').map(Number);
    if (!Number.isInteger(b) || b < 1 || !Number.isInteger(n ?? 1) || (n ?? 1) < 1)
      throw new Error(`--sequence: bad part "${part}" (want B*N)`);
    return Array.from({ length: n ?? 1 }, () => b);
  });
  const bench = await PageBench.start(opts, [opts.pack]);
  const rows: Row[] = [];
  try {
    for (let r = 0; r < opts.rounds; r++) {
      const { pages, close } = await bench.pages([
        { packId: opts.pack.id, threads: opts.threads, ...(opts.ort ? { ort: opts.ort } : {}) },
      ]);
      try {
        const out = (await pages[0].page.evaluate(
          `window.__agqgBench.encoder(${JSON.stringify({ batches: [], tunings: [{}], reps: 0, sequence: sizes })})`,
        )) as EncoderBenchOut;
        if (!out.ok || !out.value?.sequenceMs)
          throw new Error(`encoder bench: ${out.error?.code} ${out.error?.message}`);
        const ms = out.value.sequenceMs;
        const rc = out.value.runContext;
        const line = `${ms.map((x, i) => `${sizes[i]}:${x.toFixed(0)}`).join(' ')}; runs start from a ${rc?.context ?? '?'} task (${rc?.switches ?? '?'} switch(es))`;
        opts.log(`round ${r + 1}: ${line}`);
        // The first run is cold (the session's first allocations and plans), so the ratio leaves it out.
        const warm = ms.length > 1 ? ms.slice(1) : ms;
        rows.push(
          valueRow(
            `encoder run by run: ${opts.pack.id}, ${pages[0].threads ?? '?'} thread(s)`,
            `round ${r + 1}: slowest / fastest run after the first, ms per image`,
            Math.max(...warm) / Math.min(...warm),
            'x',
            line,
          ),
        );
      } finally {
        await close();
      }
    }
  } finally {
    await bench.close();
  }
  return rows;
}

async function cli(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { ensureClipB32Pack } = await import('./clip-b32-pack.ts');
  const { agiqaImages } = await import('./images.ts');
  const { formatTable } = await import('./stats.ts');
  const { values } = parseArgs({
    options: {
      what: { type: 'string', default: 'matrix' },
      pack: { type: 'string', default: 'both' },
      n: { type: 'string', default: '32' },
      seq: { type: 'string', default: '8' },
      threads: { type: 'string' },
      batches: { type: 'string' },
      ort: { type: 'string' },
      'option-batch': { type: 'string' },
      sequence: { type: 'string', default: '8*14,1*24' },
      reps: { type: 'string', default: '2' },
      'no-build': { type: 'boolean' },
      /** Serve a copy of this existing build (e.g. one made with `vite build --outDir`, to compare builds). */
      dist: { type: 'string' },
      json: { type: 'string' },
    },
  });
  const log = (l: string) => console.log(`  ${l}`);
  const packs: ServedPack[] = [];
  const defaultDir = resolve(ROOT, 'public/models/default');
  if (values.pack !== 'b32' && existsSync(join(defaultDir, 'manifest.json')))
    packs.push({ dir: defaultDir, id: 'default', listing: listingOf(defaultDir) });
  if (values.pack !== 'default') {
    const dir = await ensureClipB32Pack(log);
    packs.push({
      dir,
      id: 'clip-vit-b32',
      listing: { name: 'CLIP ViT-B/32 (random weights)', description: 'benchmark' },
    });
  }
  const images = agiqaImages(Number(values.n));
  const site = {
    noBuild: values['no-build'] === true,
    fromDist: values.dist ? resolve(values.dist) : undefined,
    log,
  };
  const threads = values.threads?.split(',').map((t) => (t === 'all' ? null : Number(t)));
  const t0 = performance.now();
  const load0 = loadavg()[0];
  let rows: Row[] = [];
  let json: unknown;
  if (values.what === 'encoder') {
    const all: EncoderLeverResult[] = [];
    for (const pack of packs) {
      const r = await benchEncoderLevers({
        ...site,
        pack,
        threads,
        rounds: Number(values.reps),
        batches: values.batches?.split(',').map(Number),
        options: values.ort?.split(';').filter(Boolean),
        optionBatch: values['option-batch'] ? Number(values['option-batch']) : undefined,
      });
      site.noBuild = true;
      all.push(r);
      rows.push(...r.rows);
    }
    json = all.map(({ rows: _r, ...rest }) => rest);
  } else if (values.what === 'sequence') {
    for (const pack of packs) {
      for (const t of threads ?? [null])
        rows.push(
          ...(await benchEncoderSequence({
            ...site,
            pack,
            threads: t,
            sequence: values.sequence as string,
            rounds: Number(values.reps),
            ort: values.ort,
          })),
        );
      site.noBuild = true;
    }
  } else if (values.what === 'matrix') {
    const r = await benchPageMatrix({ ...site, packs, images, sequential: Number(values.seq), threads });
    rows = r.rows;
    json = r.entries;
  } else {
    const all: LeverResult[] = [];
    for (const pack of packs) {
      for (const t of threads ?? [1]) {
        const r = await benchPageLevers({
          ...site,
          pack,
          images,
          threads: t,
          reps: Number(values.reps),
          batches: values.batches?.split(',').map(Number),
          ortVariants: values.ort?.split(';').filter(Boolean),
        });
        all.push(...r);
        rows.push(...r.flatMap((x) => x.rows));
        site.noBuild = true;
      }
    }
    json = all.map(({ rows: _r, ...rest }) => rest);
  }
  console.log(
    `load average 1m before/after: ${load0.toFixed(2)} / ${loadavg()[0].toFixed(2)} · ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  console.log(formatTable(rows));
  if (values.json) writeFileSync(values.json, JSON.stringify(json, null, 2));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  cli().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
