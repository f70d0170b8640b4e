// The page while it grades: main-thread long tasks (PerformanceObserver
// 'longtask', installed before the page loads) from the moment the files are
// given to the last result, and memory sampled through a long batch (the
// renderer processes' PSS from /proc, the page's JS heap and DOM nodes over
// CDP, and performance.measureUserAgentSpecificMemory() for page vs worker).
// Runnable alone:
//   npx tsx bench/browser-responsiveness.ts [--only longtasks,memory] [--n-long 100] [--n-mem 1000]
//       [--dist DIR[,DIR2]] (serve these builds, interleaved, instead of building the site)
//       [--rounds N] [--profile] [--no-trace]
// The trace is kept in .cache/bench/ui-trace.json; TRACE_CATS=... replaces its categories (e.g. add
// disabled-by-default-devtools.timeline.invalidationTracking to see what each frame restyles).
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core';
import type { PreviewServer } from 'vite';
import { CHROMIUM, CHROMIUM_ARGS } from '../e2e/browser.ts';
import { GraderPage } from '../e2e/pages/grader-page.ts';
import { buildSite, listingOf } from './browser-pipeline.ts';
import { agiqaImages, type BenchImage } from './images.ts';
import { previewSite } from './preview.ts';
import { AGIQA, haveShared, ROOT } from './shared.ts';
import { formatTable, valueRow, type Row } from './stats.ts';

/** This benchmark's own build, so it never races the pipeline benchmark's or the e2e build. */
export const UI_BENCH_DIST = resolve(ROOT, '.cache/bench/ui-dist');
const DEFAULT_PACK_DIR = resolve(ROOT, 'public/models/default');
/** The browser's own long-task threshold (the Long Tasks API reports tasks over 50 ms). */
const LONG_TASK_MS = 50;
const WAIT_PER_IMAGE_MS = 10_000;
const WAIT_BASE_MS = 120_000;
const SAMPLE_EVERY_MS = 3_000;
/** Images after which memory should have reached its plateau (one of the issue's "first images"). */
const WARM_IMAGES = 50;
const MB = 1024 * 1024;

const MEMORY_CHROMIUM_ARGS = [
  ...CHROMIUM_ARGS,
  // measureUserAgentSpecificMemory() answers at once instead of after the next (up to 20 s away) GC.
  '--enable-blink-features=ForceEagerMeasureMemory',
];

export interface SiteOptions {
  /** A built site (vite build output) to serve; absent: build the current source into UI_BENCH_DIST. */
  dist?: string;
  packDir?: string;
  packId?: string;
  log: (line: string) => void;
}

/** Builds the site (unless `dist` is given) and serves only the benchmarked pack from it. */
export async function prepareUiSite(opts: SiteOptions): Promise<string> {
  const packDir = opts.packDir ?? DEFAULT_PACK_DIR;
  const packId = opts.packId ?? basename(packDir);
  const dist = opts.dist ?? UI_BENCH_DIST;
  if (!opts.dist) {
    await buildSite(dist, opts.log);
  } else if (!existsSync(join(dist, 'index.html'))) {
    throw new Error(`${dist} has no index.html: build the site first`);
  }
  const models = join(dist, 'models');
  rmSync(models, { recursive: true, force: true });
  mkdirSync(models, { recursive: true });
  cpSync(packDir, join(models, packId), { recursive: true });
  writeFileSync(join(models, 'index.json'), JSON.stringify([{ id: packId, ...listingOf(packDir) }], null, 2));
  return dist;
}

interface Session {
  ui: GraderPage;
  page: Page;
  cdp: CDPSession;
  profile: string;
  pageErrors: string[];
  close(): Promise<void>;
}

async function openSession(dist: string, initScript?: string): Promise<Session> {
  let server: PreviewServer | null = null;
  let context: BrowserContext | null = null;
  const profile = join(ROOT, '.cache/bench', `ui-profile-${process.pid}-${Date.now().toString(36)}`);
  const close = async () => {
    await context?.close();
    await server?.close();
    rmSync(profile, { recursive: true, force: true });
  };
  try {
    const site = await previewSite(dist);
    server = site.server;
    const url = site.url;
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}`);
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: MEMORY_CHROMIUM_ARGS,
      viewport: { width: 1360, height: 900 },
    });
    const page = context.pages()[0] ?? (await context.newPage());
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    if (initScript) await page.addInitScript(initScript);
    const cdp = await context.newCDPSession(page);
    const ui = new GraderPage(page, url);
    await ui.open('backend=wasm');
    await ui.waitForPack();
    return { ui, page, cdp, profile, pageErrors, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The page's finished results: the grid's "Showing X of Y results" (Y counts every finished image). */
const RESULTS_EXPR = `(() => {
  const m = /of (\\d+) results?/.exec(document.querySelector('.results .count')?.textContent ?? '');
  return m ? Number(m[1]) : 0;
})()`;

async function giveFiles(s: Session, images: readonly BenchImage[]): Promise<void> {
  // Paths, not buffers: Chromium reads them itself, so 1,000 files do not cross the protocol as bytes.
  await s.page.getByLabel('Choose images', { exact: true }).setInputFiles(images.map((im) => im.path));
}

/**
 * Clicks "Grade N images" found by its text, not by role: a role query computes the accessible name
 * and style of every element on the page, which forces style and layout of the queue rows the page
 * has not drawn yet (content-visibility) in one long task that is the harness's own, not the page's.
 */
async function clickGrade(s: Session): Promise<void> {
  await s.page.locator('.queue-actions button', { hasText: /^Grade \d+ images?$/ }).click();
}

/** Polled on a timer, not every animation frame (the default), so the waiting adds no frames of its own. */
const POLL_MS = 250;

async function finishBatch(s: Session, n: number): Promise<void> {
  const timeout = WAIT_BASE_MS + WAIT_PER_IMAGE_MS * n;
  const idle = `![...document.querySelectorAll('button')].some((b) => b.textContent === 'Cancel' || b.textContent === 'Cancelling…')`;
  await s.page.waitForFunction(`${RESULTS_EXPR} >= ${n} && ${idle}`, undefined, {
    timeout,
    polling: POLL_MS,
  });
}

// ---------------------------------------------------------------------------
// Long tasks

const LONGTASK_OBSERVER = `(() => {
  const tasks = [];
  Object.defineProperty(window, '__longTasks', { value: tasks });
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        tasks.push({
          start: e.startTime,
          duration: e.duration,
          name: e.name,
          attribution: (e.attribution || []).map((a) => [a.name, a.containerType, a.containerName, a.containerSrc].filter(Boolean).join(' ')).join('; '),
        });
      }
    }).observe({ type: 'longtask', buffered: true });
  } catch (err) {
    Object.defineProperty(window, '__longTaskError', { value: String(err) });
  }
  // When the pointer went down on Grade (the input's own time, before the task that dispatches it).
  addEventListener('pointerdown', (e) => {
    const b = e.target instanceof Element ? e.target.closest('button') : null;
    if (b && /^Grade \\d+ images?$/.test(b.textContent ?? '')) window.__gradeDown = e.timeStamp;
  }, { capture: true });
})()`;

export interface LongTask {
  start: number;
  duration: number;
  name: string;
  attribution: string;
}

export interface LongTaskResult {
  images: number;
  /** The pack's load time as the page shows it, and the part of it spent waiting for V8's compile to finish. */
  loadS: number;
  settleS: number;
  count: number;
  maxMs: number;
  totalMs: number;
  wallMs: number;
  worst: LongTask[];
  /** The same from the click on Grade to the last result (the batch running, files already added). */
  batchCount: number;
  batchMaxMs: number;
  /** From Chrome's trace, rendering included, after the click on Grade. */
  batchTraceCount: number;
  batchTraceMaxMs: number;
  /** From Chrome's trace: the task that dispatched the click on Grade (pointer events included). */
  clickTaskMs: number;
  clickTaskCpuMs: number;
  /**
   * From Chrome's trace: main-thread tasks over 50 ms of the thread's own CPU time. On a machine
   * busy with other work the wall-clock durations above also count waiting for a core.
   */
  cpuCount: number;
  cpuMaxMs: number;
  /**
   * From Chrome's trace: every main-thread task over 50 ms of wall time, rendering included. The
   * Long Tasks API leaves out a frame's style, layout and paint unless script ran in that frame.
   */
  traceCount: number;
  traceMaxMs: number;
  /** Main-thread script/layout time over the batch, from CDP Performance.getMetrics. */
  scriptMs: number;
  layoutMs: number;
  recalcStyleMs: number;
  rows: Row[];
}

async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics: list } = (await cdp.send('Performance.getMetrics')) as {
    metrics: { name: string; value: number }[];
  };
  return Object.fromEntries(list.map((m) => [m.name, m.value]));
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: Record<string, unknown> };
}

/** Chrome's trace (timeline categories) while `f` runs; events reported over the CDP session. */
async function traced(cdp: CDPSession, f: () => Promise<void>): Promise<TraceEvent[]> {
  const events: TraceEvent[] = [];
  const onData = (e: { value: object[] }) => events.push(...(e.value as TraceEvent[]));
  cdp.on('Tracing.dataCollected', onData);
  await cdp.send('Tracing.start', {
    categories: process.env.TRACE_CATS ?? 'toplevel,devtools.timeline,v8.execute',
    transferMode: 'ReportEvents',
  });
  try {
    await f();
  } finally {
    const complete = new Promise<void>((r) => cdp.once('Tracing.tracingComplete', () => r()));
    await cdp.send('Tracing.end');
    await complete;
    cdp.off('Tracing.dataCollected', onData);
  }
  return events;
}

const isTask = (e: TraceEvent) => e.name === 'ThreadControllerImpl::RunTask' || e.name === 'RunTask';

/** The renderer main thread's complete events, and its click event (the click on Grade), if any. */
function mainThread(
  events: readonly TraceEvent[],
): { onMain: TraceEvent[]; click: TraceEvent | undefined } | null {
  const main = events.find((e) => e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  if (!main) return null;
  const onMain = events.filter(
    (e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && typeof e.dur === 'number',
  );
  return { onMain, click: onMain.find((e) => e.name === 'EventDispatch' && e.args?.data?.type === 'click') };
}

/**
 * The renderer main thread's tasks over 50 ms (wall), each with its thread CPU time (what it costs
 * on an idle machine; on a busy one the wall time also counts waiting for a core) and the time of
 * what ran inside it, by event name (nested events counted in each).
 */
function longTasksFromTrace(events: readonly TraceEvent[]): TraceTask[] {
  const main = mainThread(events);
  if (!main) return [];
  // The batch starts with the click on Grade; what comes before it is the files being added.
  const { onMain, click } = main;
  const tasks = onMain.filter((e) => isTask(e) && (e.dur ?? 0) > LONG_TASK_MS * 1000);
  const detail = (e: TraceEvent) => {
    const d = e.args?.data;
    const what = d ? d.functionName || d.type || d.url || '' : '';
    const src = (e.args as { src_func?: string } | undefined)?.src_func;
    return what ? `${e.name}(${String(what).slice(0, 40)})` : src ? `${e.name}(${src})` : e.name;
  };
  return tasks.map((t) => {
    const end = t.ts + (t.dur ?? 0);
    const by = new Map<string, number>();
    for (const e of onMain) {
      if (e === t || e.ts < t.ts || e.ts + (e.dur ?? 0) > end || isTask(e)) continue;
      by.set(detail(e), (by.get(detail(e)) ?? 0) + (e.dur ?? 0) / 1000);
    }
    const inside = [...by]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 8)
      .map(([k, v]) => `${k} ${v.toFixed(0)}`)
      .join(', ');
    return {
      ms: (t.dur ?? 0) / 1000,
      cpuMs: ((t as { tdur?: number }).tdur ?? Number.NaN) / 1000,
      inBatch: click !== undefined && end > click.ts,
      inside: `${detail(t)}: ${inside}`,
    };
  });
}

/** The main-thread task that dispatched the click on Grade: wall and CPU (NaN when not in the trace). */
function clickTaskFromTrace(events: readonly TraceEvent[]): { ms: number; cpuMs: number } {
  const main = mainThread(events);
  const click = main?.click;
  const task = click
    ? main.onMain.find(
        (e) => isTask(e) && e.ts <= click.ts && e.ts + (e.dur ?? 0) >= click.ts + (click.dur ?? 0),
      )
    : undefined;
  if (!task) return { ms: Number.NaN, cpuMs: Number.NaN };
  return { ms: (task.dur ?? 0) / 1000, cpuMs: ((task as { tdur?: number }).tdur ?? Number.NaN) / 1000 };
}

interface TraceTask {
  ms: number;
  cpuMs: number;
  /** Ends after the click on Grade: part of the batch running, not of adding the files. */
  inBatch: boolean;
  inside: string;
}

interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Functions of a CPU profile by self time, and by total time (self plus callees). */
function topSelfTime(p: CpuProfile, n: number): string[] {
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0) / 1000));
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const parent = new Map<number, number>();
  for (const x of p.nodes) for (const c of x.children ?? []) parent.set(c, x.id);
  const key = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber + 1}`;
  };
  const selfBy = new Map<string, number>();
  const totalBy = new Map<string, number>();
  for (const [id, ms] of self) {
    selfBy.set(key(id), (selfBy.get(key(id)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = key(cur);
      if (seen.has(k)) continue;
      seen.add(k);
      totalBy.set(k, (totalBy.get(k) ?? 0) + ms);
    }
  }
  const fmt = (m: Map<string, number>, tag: string) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${tag} ${v.toFixed(0)} ms ${k}`);
  return [...fmt(selfBy, 'self'), ...fmt(totalBy, 'total')];
}

export async function benchLongTasks(
  opts: SiteOptions & {
    images: readonly BenchImage[];
    label?: string;
    dist: string;
    trace?: boolean;
    profile?: boolean;
  },
): Promise<LongTaskResult> {
  const section = `chromium wasm: main thread during a ${opts.images.length}-image batch${opts.label ? ` (${opts.label})` : ''}`;
  const s = await openSession(opts.dist, LONGTASK_OBSERVER);
  try {
    await s.cdp.send('Performance.enable');
    const err = await s.page.evaluate('window.__longTaskError ?? null');
    if (err) throw new Error(`no long task observer: ${String(err)}`);
    const before = await metrics(s.cdp);
    const load = await s.ui.loadTimes();
    const t0 = (await s.page.evaluate('performance.now()')) as number;
    const w0 = performance.now();
    let tGrade = Number.NaN;
    const run = async () => {
      await giveFiles(s, opts.images);
      await clickGrade(s);
      // The batch starts with the pointer going down on Grade, not when the harness starts looking
      // for the button (Playwright waits frames for it to be stable: those frames are adding files).
      tGrade = Number(await s.page.evaluate('window.__gradeDown ?? NaN'));
      if (!Number.isFinite(tGrade)) throw new Error('the click on Grade was not seen by the page');
      await finishBatch(s, opts.images.length);
    };
    if (opts.profile) {
      await s.cdp.send('Profiler.enable');
      await s.cdp.send('Profiler.setSamplingInterval', { interval: 500 });
      await s.cdp.send('Profiler.start');
    }
    let traceTasks: TraceTask[] = [];
    let clickTask = { ms: Number.NaN, cpuMs: Number.NaN };
    if (opts.trace !== false) {
      const events = await traced(s.cdp, run);
      const json = JSON.stringify(events);
      writeFileSync(resolve(ROOT, '.cache/bench/ui-trace.json'), json);
      traceTasks = longTasksFromTrace(events);
      clickTask = clickTaskFromTrace(events);
      // A run with a long task keeps its trace (the next run overwrites ui-trace.json).
      if (traceTasks.some((t) => t.inBatch))
        writeFileSync(resolve(ROOT, `.cache/bench/ui-trace-long-${Date.now()}.json`), json);
    } else await run();
    const wallMs = performance.now() - w0;
    if (opts.profile) {
      const { profile } = (await s.cdp.send('Profiler.stop')) as { profile: CpuProfile };
      writeFileSync(resolve(ROOT, '.cache/bench/ui-profile.cpuprofile'), JSON.stringify(profile));
      for (const line of topSelfTime(profile, 25)) opts.log(`  profile: ${line}`);
    }
    if (opts.trace !== false) {
      for (const t of [...traceTasks].sort((a, b) => b.cpuMs - a.cpuMs).slice(0, 10)) {
        opts.log(
          `  trace: ${t.ms.toFixed(0)} ms (cpu ${t.cpuMs.toFixed(0)})${t.inBatch ? '' : ' [adding files]'}: ${t.inside}`,
        );
      }
    }
    const t1 = (await s.page.evaluate('performance.now()')) as number;
    const after = await metrics(s.cdp);
    const all = (await s.page.evaluate('window.__longTasks')) as LongTask[];
    const tasks = all.filter((t) => t.start + t.duration >= t0 && t.start <= t1);
    if (s.pageErrors.length > 0) throw new Error(`page errors: ${s.pageErrors.join('; ')}`);
    const count = tasks.length;
    const maxMs = count ? Math.max(...tasks.map((t) => t.duration)) : 0;
    const totalMs = tasks.reduce((a, t) => a + t.duration, 0);
    const worst = [...tasks].sort((a, b) => b.duration - a.duration).slice(0, 5);
    const d = (k: string) => ((after[k] ?? 0) - (before[k] ?? 0)) * 1000;
    const scriptMs = d('ScriptDuration');
    const layoutMs = d('LayoutDuration');
    const recalcStyleMs = d('RecalcStyleDuration');
    const cpuLong = traceTasks.filter((t) => t.cpuMs > LONG_TASK_MS);
    const cpuCount = opts.trace === false ? Number.NaN : cpuLong.length;
    const cpuMaxMs =
      opts.trace === false
        ? Number.NaN
        : Math.max(0, ...traceTasks.map((t) => t.cpuMs).filter(Number.isFinite));
    const traceCount = opts.trace === false ? Number.NaN : traceTasks.length;
    const traceMaxMs = opts.trace === false ? Number.NaN : Math.max(0, ...traceTasks.map((t) => t.ms));
    // The batch running: from the click on Grade to the last result.
    const batchTasks = tasks.filter((t) => t.start + t.duration >= tGrade);
    const batchCount = batchTasks.length;
    const batchMaxMs = Math.max(0, ...batchTasks.map((t) => t.duration));
    const inBatchTrace = traceTasks.filter((t) => t.inBatch);
    const batchTraceCount = opts.trace === false ? Number.NaN : inBatchTrace.length;
    const batchTraceMaxMs = opts.trace === false ? Number.NaN : Math.max(0, ...inBatchTrace.map((t) => t.ms));
    const rows: Row[] = [
      valueRow(
        section,
        `long tasks (> ${LONG_TASK_MS} ms), files given -> last result`,
        count,
        'tasks',
        count === 0 ? 'meets target' : 'OVER target (0)',
      ),
      valueRow(section, 'longest task', maxMs, 'ms'),
      valueRow(section, 'long tasks, total', totalMs, 'ms'),
      valueRow(
        section,
        `long tasks (> ${LONG_TASK_MS} ms), Grade clicked -> last result`,
        batchCount,
        'tasks',
        batchCount === 0 ? 'meets target' : 'OVER target (0)',
      ),
      valueRow(
        section,
        'longest long task, Grade clicked -> last result',
        batchMaxMs,
        'ms',
        batchCount === 0 ? `none over ${LONG_TASK_MS} ms` : '',
      ),
      valueRow(
        section,
        `main-thread tasks over ${LONG_TASK_MS} ms wall after Grade (trace, rendering included)`,
        batchTraceCount,
        'tasks',
        batchTraceCount > 0 ? `longest ${batchTraceMaxMs.toFixed(0)} ms` : '',
      ),
      valueRow(
        section,
        "the click on Grade's task, wall (trace)",
        clickTask.ms,
        'ms',
        `${clickTask.cpuMs.toFixed(1)} ms of main-thread CPU`,
      ),
      valueRow(
        section,
        `main-thread tasks over ${LONG_TASK_MS} ms wall (trace, rendering included)`,
        traceCount,
        'tasks',
      ),
      valueRow(section, 'longest main-thread task, wall (trace)', traceMaxMs, 'ms'),
      valueRow(
        section,
        `tasks over ${LONG_TASK_MS} ms of main-thread CPU (trace)`,
        cpuCount,
        'tasks',
        'wall time minus waiting for a core',
      ),
      valueRow(section, 'longest task, main-thread CPU (trace)', cpuMaxMs, 'ms'),
      valueRow(section, 'main-thread script (CDP)', scriptMs, 'ms'),
      valueRow(section, 'main-thread layout + style (CDP)', layoutMs + recalcStyleMs, 'ms'),
      valueRow(section, 'wall clock, files given -> last result', wallMs, 'ms'),
      valueRow(
        section,
        'pack load, as the page shows it',
        load.loadS,
        's',
        `of which ${load.settleS.toFixed(1)} s waiting for the browser's compile (settle.ts)`,
      ),
    ];
    return {
      images: opts.images.length,
      loadS: load.loadS,
      settleS: load.settleS,
      count,
      maxMs,
      totalMs,
      wallMs,
      worst,
      batchCount,
      batchMaxMs,
      batchTraceCount,
      batchTraceMaxMs,
      clickTaskMs: clickTask.ms,
      clickTaskCpuMs: clickTask.cpuMs,
      cpuCount,
      cpuMaxMs,
      traceCount,
      traceMaxMs,
      scriptMs,
      layoutMs,
      recalcStyleMs,
      rows,
    };
  } finally {
    await s.close();
  }
}

// ---------------------------------------------------------------------------
// Memory

interface ProcInfo {
  pid: number;
  ppid: number;
  cmdline: string;
}

function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // Field 4 (ppid) follows the parenthesised command name, which may itself hold spaces.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      out.push({
        pid: Number(d),
        ppid,
        cmdline: readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' '),
      });
    } catch {
      // the process ended while we looked
    }
  }
  return out;
}

/** Proportional set size (kB -> bytes) of every renderer process of the Chromium using `profile`. */
function rendererPss(profile: string): number {
  const all = processes();
  const roots = all.filter((p) => p.cmdline.includes(profile) && !p.cmdline.includes('--type='));
  const tree = new Set(roots.map((p) => p.pid));
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!tree.has(p.pid) && tree.has(p.ppid)) {
        tree.add(p.pid);
        grew = true;
      }
    }
  }
  let kb = 0;
  for (const p of all) {
    if (!tree.has(p.pid) || !p.cmdline.includes('--type=renderer')) continue;
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${p.pid}/smaps_rollup`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // gone
    }
  }
  return kb * 1024;
}

export interface MemorySample {
  /** Seconds since the files were given. */
  t: number;
  done: number;
  rendererPss: number;
  pageHeap: number;
  /** measureUserAgentSpecificMemory(): page and dedicated workers (bytes), NaN when unavailable. */
  uaPage: number;
  uaWorkers: number;
  domNodes: number;
}

export interface MemoryResult {
  images: number;
  samples: MemorySample[];
  peakRendererPss: number;
  afterWarm: MemorySample;
  end: MemorySample;
  peakPageHeap: number;
  peakDomNodes: number;
  wallMs: number;
  rows: Row[];
}

const UA_MEMORY = `(async () => {
  if (!self.crossOriginIsolated || !performance.measureUserAgentSpecificMemory) return null;
  const m = await performance.measureUserAgentSpecificMemory();
  let page = 0, workers = 0;
  for (const b of m.breakdown) {
    const scopes = b.attribution.map((a) => a.scope);
    if (scopes.includes('DedicatedWorkerGlobalScope')) workers += b.bytes;
    else if (scopes.includes('Window')) page += b.bytes;
  }
  return { page, workers };
})()`;

const DONE_EXPR = `(() => { const m = /(\\d+) of \\d+ graded/.exec(document.querySelector('.progress-wrap')?.textContent ?? ''); return m ? Number(m[1]) : ${RESULTS_EXPR}; })()`;

/**
 * One reading. Cheap ones (every few seconds) take what the processes hold, garbage included, as
 * the peak must; `full` ones (start, after the first images, end) collect the page's garbage first
 * and split the JS memory between the page and its workers.
 */
async function sample(s: Session, t0: number, full: boolean): Promise<MemorySample> {
  if (full) await s.cdp.send('HeapProfiler.collectGarbage');
  const m = await metrics(s.cdp);
  const ua = full
    ? ((await s.page.evaluate(UA_MEMORY).catch(() => null)) as { page: number; workers: number } | null)
    : null;
  const done = (await s.page.evaluate(DONE_EXPR)) as number;
  return {
    t: (performance.now() - t0) / 1000,
    done,
    rendererPss: rendererPss(s.profile),
    pageHeap: m.JSHeapUsedSize ?? Number.NaN,
    uaPage: ua?.page ?? Number.NaN,
    uaWorkers: ua?.workers ?? Number.NaN,
    domNodes: m.Nodes ?? Number.NaN,
  };
}

export async function benchMemory(
  opts: SiteOptions & { images: readonly BenchImage[]; label?: string; dist: string },
): Promise<MemoryResult> {
  const n = opts.images.length;
  const section = `chromium wasm: memory over a ${n}-image batch${opts.label ? ` (${opts.label})` : ''}`;
  const s = await openSession(opts.dist);
  try {
    await s.cdp.send('Performance.enable');
    const t0 = performance.now();
    const start = await sample(s, t0, true);
    const samples: MemorySample[] = [start];
    const warmAt = Math.min(WARM_IMAGES, n);
    let warm: MemorySample | null = null;
    await giveFiles(s, opts.images);
    await clickGrade(s);
    const finished = finishBatch(s, n);
    let done = false;
    void finished.then(
      () => (done = true),
      () => (done = true),
    );
    let lastLog = 0;
    while (!done) {
      await Promise.race([
        finished.catch(() => undefined),
        new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS)),
      ]);
      if (done) break;
      let x = await sample(s, t0, false);
      if (!warm && x.done >= warmAt) {
        samples.push(x);
        x = warm = await sample(s, t0, true);
      }
      samples.push(x);
      if (x.t - lastLog > 30) {
        lastLog = x.t;
        opts.log(
          `  ${x.t.toFixed(0)} s: ${x.done}/${n} done, renderers ${(x.rendererPss / MB).toFixed(0)} MB, page heap ${(x.pageHeap / MB).toFixed(1)} MB, nodes ${x.domNodes}`,
        );
      }
    }
    await finished;
    const wallMs = performance.now() - t0;
    samples.push(await sample(s, t0, false));
    const end = await sample(s, t0, true);
    samples.push(end);
    if (s.pageErrors.length > 0) throw new Error(`page errors: ${s.pageErrors.join('; ')}`);
    const afterWarm = warm ?? end;
    const peak = (f: (x: MemorySample) => number) => Math.max(...samples.map(f).filter(Number.isFinite));
    const peakRendererPss = peak((x) => x.rendererPss);
    const peakPageHeap = peak((x) => x.pageHeap);
    const peakDomNodes = peak((x) => x.domNodes);
    const mb = (b: number) => b / MB;
    const growth = (end.rendererPss - afterWarm.rendererPss) / MB;
    const rows: Row[] = [
      valueRow(
        section,
        'renderer processes PSS, peak',
        mb(peakRendererPss),
        'MB',
        'page + worker + wasm, /proc smaps_rollup',
      ),
      valueRow(section, `renderer PSS after ${afterWarm.done} images`, mb(afterWarm.rendererPss), 'MB'),
      valueRow(section, 'renderer PSS at the end', mb(end.rendererPss), 'MB'),
      valueRow(
        section,
        `renderer PSS growth, ${afterWarm.done} images -> end`,
        growth,
        'MB',
        `${((growth * 1024) / Math.max(1, n - afterWarm.done)).toFixed(1)} kB/image`,
      ),
      valueRow(
        section,
        'page JS heap, peak',
        mb(peakPageHeap),
        'MB',
        `start ${mb(start.pageHeap).toFixed(1)} MB (after GC)`,
      ),
      valueRow(
        section,
        `page JS heap after GC, ${afterWarm.done} images / end`,
        mb(afterWarm.pageHeap),
        'MB',
        `end ${mb(end.pageHeap).toFixed(1)} MB`,
      ),
      valueRow(
        section,
        `worker JS memory, ${afterWarm.done} images / end`,
        mb(afterWarm.uaWorkers),
        'MB',
        `end ${mb(end.uaWorkers).toFixed(1)} MB (measureUserAgentSpecificMemory; page ${mb(end.uaPage).toFixed(1)} MB)`,
      ),
      valueRow(section, 'DOM nodes, peak / end', peakDomNodes, 'nodes', `end ${end.domNodes}`),
      valueRow(
        section,
        'wall clock, files given -> last result',
        wallMs,
        'ms',
        `${((n / wallMs) * 1000).toFixed(2)} images/s`,
      ),
    ];
    return { images: n, samples, peakRendererPss, afterWarm, end, peakPageHeap, peakDomNodes, wallMs, rows };
  } finally {
    await s.close();
  }
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: 'longtasks,memory' },
      'n-long': { type: 'string', default: '100' },
      'n-mem': { type: 'string', default: '1000' },
      dist: { type: 'string' },
      rounds: { type: 'string', default: '1' },
      json: { type: 'string' },
      'no-trace': { type: 'boolean', default: false },
      profile: { type: 'boolean', default: false },
    },
  });
  if (!haveShared('browser responsiveness', [AGIQA])) return;
  const log = (l: string) => console.log(l);
  const only = new Set(values.only.split(','));
  // Several builds (e.g. before,after) are measured interleaved: A B A B.
  const dists = values.dist ? values.dist.split(',').map((d) => resolve(d)) : [await prepareUiSite({ log })];
  if (values.dist) for (const d of dists) await prepareUiSite({ dist: d, log });
  const rows: Row[] = [];
  const out: Record<string, unknown[]> = {};
  const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const dist of dists) {
      const label = basename(dist);
      if (only.has('longtasks')) {
        log(`long tasks, ${label}, load ${load()}`);
        const r = await benchLongTasks({
          dist,
          images: agiqaImages(Number(values['n-long'])),
          label,
          log,
          trace: !values['no-trace'],
          profile: values.profile,
        });
        rows.push(...r.rows);
        (out[`longtasks:${label}`] ??= []).push({ ...r, rows: undefined });
        for (const t of r.worst)
          log(`  ${t.duration.toFixed(0)} ms at ${t.start.toFixed(0)} (${t.name}; ${t.attribution})`);
      }
      if (only.has('memory')) {
        log(`memory, ${label}, load ${load()}`);
        const r = await benchMemory({ dist, images: agiqaImages(Number(values['n-mem'])), label, log });
        rows.push(...r.rows);
        (out[`memory:${label}`] ??= []).push({ ...r, rows: undefined });
      }
    }
  }
  log(`load average after: ${load()}`);
  console.log(formatTable(rows));
  if (values.json) writeFileSync(values.json, JSON.stringify({ rows, runs: out }, null, 2));
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(ROOT, 'bench/browser-responsiveness.ts')) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
