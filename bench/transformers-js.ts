// transformers.js (@huggingface/transformers) on the same CLIP ViT-B/32 ONNX
// files as the page, in headless Chromium, on onnxruntime-web's WASM backend,
// in Web Workers of a cross-origin isolated page (bench/tjs-page, bundled
// with esbuild, served with COOP/COEP by a small node:http server; ORT's
// runtime files from node_modules, nothing from a CDN).
//
// What is timed is what a user writes: Blob -> RawImage.fromBlob -> processor
// -> CLIPVisionModelWithProjection -> image_embeds, one image at a time and
// as one array of 32 images; and tokenizer -> CLIPTextModelWithProjection for
// prompts. Every ORT thread setting gets its own worker (ORT reads numThreads
// once per realm), all in one browser, and the settings run interleaved
// round by round so machine load hits them alike.
//
// Alone: npx tsx bench/transformers-js.ts --n 32 [--rounds 3] [--threads 1,2] [--json FILE]
import { execFile } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { availableParallelism, loadavg } from 'node:os';
import { dirname, extname, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { cosine } from '../src/model/grading/similarity.ts';
import { launch, type Browser } from '../e2e/browser.ts';
import { ORT_BUILD_FILES } from '../src/worker/ort-files.ts';
import { agiqaImages, type BenchImage } from './images.ts';
import { ROOT } from './shared.ts';
import { summarize, timedRow, valueRow, type Row } from './stats.ts';
import type {
  InitReply,
  PartTimes,
  ReplyOf,
  Request,
  RunReply,
  TextTimes,
  TjsBenchApi,
} from './tjs-protocol.ts';

const PAGE_SRC = resolve(ROOT, 'bench/tjs-page');
const PAGE_OUT = resolve(ROOT, '.cache/bench/tjs-page');
const ORT_DIST = resolve(ROOT, 'node_modules/onnxruntime-web/dist');
/** The asyncify runtime, the one 'onnxruntime-web/webgpu' (transformers.js's import) loads; the page's WASM backend runs the plain build. */
const ORT_FILES = ORT_BUILD_FILES.webgpu;
const MODEL_ID = 'bench/clip-vit-b32';
/** The issue's batch size for "a batch of 32 images". */
const BATCH = 32;
const DEFAULT_ROUNDS = 2;
const WARM_BATCH = 2;
/** Prompts timed per setting (the text tower costs about as much as the vision one). */
const TEXT_PROMPTS = 16;
/** Per-request allowance before a worker is called stuck (a batch of 32 on 1 thread takes ~10 s). */
const CALL_TIMEOUT_MS = 600_000;

export interface TransformersJsResult {
  threads: number | 'default';
  effectiveThreads: number;
  batch: number;
  imagesPerSecond: number;
  medianMs: number;
  p90Ms: number;
  /** Medians per image of the parts (batch: part time of the batch / batch size). */
  decodeMs: number;
  preprocessMs: number;
  modelMs: number;
}

export interface TransformersJsTextResult {
  threads: number | 'default';
  effectiveThreads: number;
  medianMs: number;
  p90Ms: number;
}

export interface TransformersJsBench {
  rows: Row[];
  results: TransformersJsResult[];
  /** Median ms per prompt (tokenizer + text model, batch 1) with threads = all cores, the page's setting. */
  textMsPerPrompt: number;
  text: TransformersJsTextResult[];
  ortVersion: string;
  tjsVersion: string;
  /** Cosine of transformers.js's image_embeds / text_embeds with `agqg embed`'s for one image / prompt. */
  imageCosine: number;
  /** Cosine of `agqg embed`'s embeddings of two different images: how close "unrelated" is with these random weights. */
  imageCosineBaseline: number;
  textCosine: number;
  loadAverage1m: { before: number; after: number };
}

export interface TransformersJsOptions {
  packDir: string;
  images: readonly BenchImage[];
  log: (s: string) => void;
  /** Explicit ORT thread counts; transformers.js's default (unset) always runs too. Default: 1 and all cores. */
  threads?: number[];
  /** Interleaved rounds over all images per setting (default 3). */
  rounds?: number;
}

interface Config {
  key: string;
  threads: number | null;
  init?: InitReply;
  one: PartTimes[];
  oneWallMs: number;
  batch: PartTimes[];
  batchImages: number;
  batchWallMs: number;
  text: TextTimes[];
}

// ---------------------------------------------------------------- page build and server

async function bundlePage(): Promise<void> {
  mkdirSync(PAGE_OUT, { recursive: true });
  await build({
    entryPoints: { main: resolve(PAGE_SRC, 'main.ts'), worker: resolve(PAGE_SRC, 'worker.ts') },
    outdir: PAGE_OUT,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'error',
  });
}

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.txt': 'text/plain',
  '.onnx': 'application/octet-stream',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.png': 'image/png',
};

/** A file under `root`, or null when the path leaves it or does not exist. */
function inside(root: string, rel: string): string | null {
  const p = resolve(root, decodeURIComponent(rel));
  if (p !== root && !p.startsWith(root + sep)) return null;
  return existsSync(p) && statSync(p).isFile() ? p : null;
}

/** COOP/COEP on every response: the page is cross-origin isolated, so ORT may use threads. */
async function serve(
  packDir: string,
  images: readonly BenchImage[],
  log: (s: string) => void,
): Promise<{ server: Server; origin: string }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    let file: string | null = null;
    if (path === '/' || path === '/index.html') file = resolve(PAGE_SRC, 'index.html');
    else if (path === '/main.js' || path === '/worker.js') file = inside(PAGE_OUT, path.slice(1));
    else if (path.startsWith('/ort/')) file = inside(ORT_DIST, path.slice('/ort/'.length));
    else if (path.startsWith(`/models/${MODEL_ID}/`))
      file = inside(resolve(packDir), path.slice(`/models/${MODEL_ID}/`.length));
    else if (path.startsWith('/images/')) file = images[Number(path.slice('/images/'.length))]?.path ?? null;
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    if (path === '/favicon.ico') {
      res.writeHead(204, headers);
      res.end();
      return;
    }
    if (!file || !existsSync(file)) {
      log(`404 ${path}`);
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      ...headers,
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': String(statSync(file).size),
    });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('the bench server has no port');
  return { server, origin: `http://127.0.0.1:${addr.port}` };
}

// ---------------------------------------------------------------- driving the workers

async function call<K extends Request['kind']>(
  page: Page,
  key: string,
  request: Extract<Request, { kind: K }>,
): Promise<ReplyOf[K]> {
  const reply = await page.evaluate(
    ({ key, request }) => (globalThis as unknown as { tjsBench: TjsBenchApi }).tjsBench.call(key, request),
    { key, request: request as Request },
  );
  return reply as ReplyOf[K];
}

function checkRun(label: string, r: RunReply, expectDims: number): void {
  if (r.nonFinite > 0) throw new Error(`${label}: ${r.nonFinite} image_embeds values are NaN or infinite`);
  if (r.dims !== expectDims)
    throw new Error(`${label}: image_embeds has ${r.dims} dims, expected ${expectDims}`);
}

const chunks = (xs: number[], size: number): number[][] =>
  Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size));

const rotate = <T>(xs: readonly T[], by: number): T[] => xs.map((_, i) => xs[(i + by) % xs.length]);

const label = (c: Config): number | 'default' => c.threads ?? 'default';

function threadName(c: Config): string {
  const eff = c.init?.effectiveThreads ?? Number.NaN;
  return c.threads === null
    ? `default (ORT picked ${eff})`
    : `threads=${c.threads}${eff !== c.threads ? ` (ORT runs ${eff})` : ''}`;
}

/** The text graph's fixed token count, from the pack's config (CLIPConfig.text_config). */
function maxLengthOf(packDir: string): number {
  const cfg = JSON.parse(readFileSync(resolve(packDir, 'config.json'), 'utf8')) as {
    text_config?: { max_position_embeddings?: unknown };
  };
  const n = cfg.text_config?.max_position_embeddings;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
    throw new Error(`${packDir}/config.json has no text_config.max_position_embeddings`);
  return n;
}

/** Projection width, from the same config (what image_embeds must have). */
function projectionDimOf(packDir: string): number {
  const cfg = JSON.parse(readFileSync(resolve(packDir, 'config.json'), 'utf8')) as {
    projection_dim?: unknown;
  };
  if (typeof cfg.projection_dim !== 'number') throw new Error(`${packDir}/config.json has no projection_dim`);
  return cfg.projection_dim;
}

/** Our pipeline's embeddings of images and one prompt (`agqg embed`, onnxruntime-node, PIL-exact preprocessing). */
async function agqgEmbed(
  packDir: string,
  images: readonly string[],
  text: string,
): Promise<{ images: number[][]; text: number[] }> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      resolve(ROOT, 'bin/agqg.js'),
      'embed',
      '--pack',
      packDir,
      ...images.flatMap((im) => ['--image', im]),
      '--text',
      text,
      '--json',
    ],
    { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 },
  );
  const doc = JSON.parse(stdout) as {
    images: { embedding: number[] | null; error: unknown }[];
    texts: { embedding: number[] }[];
  };
  const embeddings = doc.images.map((e, i) => {
    if (!e.embedding) throw new Error(`agqg embed failed on ${images[i]}: ${JSON.stringify(e.error)}`);
    return e.embedding;
  });
  const txt = doc.texts[0]?.embedding;
  if (embeddings.length !== images.length || !txt)
    throw new Error(`agqg embed gave no embedding: ${stdout.slice(0, 300)}`);
  return { images: embeddings, text: txt };
}

// ---------------------------------------------------------------- the benchmark

export async function benchTransformersJs(opts: TransformersJsOptions): Promise<TransformersJsBench> {
  const { packDir, images, log } = opts;
  if (images.length === 0) throw new Error('benchTransformersJs: no images');
  const rounds = opts.rounds ?? DEFAULT_ROUNDS;
  const cores = availableParallelism();
  const explicit = [...new Set(opts.threads ?? [1, cores])];
  const configs: Config[] = [
    ...explicit.map((t) => ({ key: `t${t}`, threads: t })),
    { key: 'default', threads: null },
  ].map((c) => ({ ...c, one: [], oneWallMs: 0, batch: [], batchImages: 0, batchWallMs: 0, text: [] }));
  // Fewer images than a batch: the batch is all of them (and says so in its rows).
  const batchSize = Math.min(BATCH, images.length);
  const maxLength = maxLengthOf(packDir);
  const dims = projectionDimOf(packDir);
  const loadBefore = loadavg()[0];

  const tBundle = performance.now();
  await bundlePage();
  log(`bundled bench/tjs-page with esbuild in ${((performance.now() - tBundle) / 1000).toFixed(1)} s`);
  const { server, origin } = await serve(packDir, images, log);
  let browser: Browser | null = null;
  const pageErrors: string[] = [];
  let embedded: { image: number[]; text: number[] } | null = null;
  try {
    browser = await launch();
    const page = await browser.context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') log(`[page ${m.type()}] ${m.text().slice(0, 300)}`);
    });
    page.setDefaultTimeout(CALL_TIMEOUT_MS);
    await page.goto(`${origin}/`);
    await page.waitForFunction(() => 'tjsBench' in globalThis);
    const isolated =
      (await page.evaluate(
        () => (globalThis as unknown as { crossOriginIsolated: boolean }).crossOriginIsolated,
      )) === true;
    if (!isolated)
      throw new Error('the bench page is not cross-origin isolated: ORT would run one thread only');

    const urls = images.map((_, i) => `${origin}/images/${i}`);
    for (const c of configs) {
      await page.evaluate(
        (key) => (globalThis as unknown as { tjsBench: TjsBenchApi }).tjsBench.spawn(key),
        c.key,
      );
      c.init = await call(page, c.key, {
        kind: 'init',
        threads: c.threads,
        // A path, not a URL: transformers.js 4.3.1's file-exists probe (get_file_metadata, used by
        // AutoTokenizer) skips local files whose localModelPath is an http(s) URL.
        modelRoot: '/models/',
        modelId: MODEL_ID,
        ortDir: `${origin}/ort/`,
        ortFiles: ORT_FILES,
        maxLength,
      });
      await call(page, c.key, { kind: 'images', urls });
      const i = c.init;
      log(
        `${threadName(c)}: transformers.js ${i.tjsVersion}, onnxruntime-web ${i.ortVersion}, hardwareConcurrency ${i.hardwareConcurrency}; ` +
          `loaded processor ${i.processorMs.toFixed(0)} ms, vision ${(i.visionLoadMs / 1000).toFixed(1)} s, tokenizer ${i.tokenizerMs.toFixed(0)} ms, text ${(i.textLoadMs / 1000).toFixed(1)} s`,
      );
    }

    const all = images.map((_, i) => i);
    const batches = chunks(all, batchSize);
    // First runs allocate ORT's buffers and grow the WASM memory: one untimed run per setting
    // one by one and one small batch (a full batch of 32 would cost as much as a timed one).
    for (const c of configs) {
      checkRun(`${c.key} warm-up`, await call(page, c.key, { kind: 'one-by-one', indices: [0] }), dims);
      checkRun(
        `${c.key} warm-up`,
        await call(page, c.key, { kind: 'batch', indices: all.slice(0, WARM_BATCH) }),
        dims,
      );
      await call(page, c.key, { kind: 'text', prompts: [images[0].prompt] });
    }
    log(
      `warm; ${rounds} rounds of ${images.length} images one by one and in batches of ${batchSize}, settings interleaved ...`,
    );
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const took: string[] = [];
      for (const c of rotate(configs, r)) {
        const one = await call(page, c.key, { kind: 'one-by-one', indices: all });
        const firstBatch = c.batchWallMs;
        checkRun(`${c.key} one-by-one`, one, dims);
        c.one.push(...one.times);
        c.oneWallMs += one.wallMs;
        for (const b of batches) {
          const res = await call(page, c.key, { kind: 'batch', indices: b });
          checkRun(`${c.key} batch`, res, dims);
          // Per image: the batch's times shared equally by its images.
          c.batch.push(
            ...res.times.map((t) => ({
              decodeMs: t.decodeMs / b.length,
              preprocessMs: t.preprocessMs / b.length,
              modelMs: t.modelMs / b.length,
              totalMs: t.totalMs / b.length,
            })),
          );
          c.batchImages += b.length;
          c.batchWallMs += res.wallMs;
        }
        took.push(
          `${c.key} ${(one.wallMs / all.length).toFixed(0)} / ${((c.batchWallMs - firstBatch) / all.length).toFixed(0)} ms`,
        );
      }
      log(
        `round ${r + 1}/${rounds} in ${((performance.now() - t0) / 1000).toFixed(1)} s, per image batch 1 / ${batchSize}: ${took.join(', ')} (load ${loadavg()[0].toFixed(2)})`,
      );
    }
    // Prompts: once per setting, interleaved in halves (ABC CBA).
    log(`prompts: ${Math.min(TEXT_PROMPTS, images.length)} per setting ...`);
    const prompts = images.slice(0, TEXT_PROMPTS).map((im) => im.prompt);
    const halves = [
      prompts.slice(0, Math.ceil(prompts.length / 2)),
      prompts.slice(Math.ceil(prompts.length / 2)),
    ].filter((h) => h.length > 0);
    for (const [h, half] of halves.entries()) {
      for (const c of h % 2 === 0 ? configs : [...configs].reverse()) {
        const t = await call(page, c.key, { kind: 'text', prompts: half });
        if (t.nonFinite > 0)
          throw new Error(`${c.key} text: ${t.nonFinite} text_embeds values are NaN or infinite`);
        c.text.push(...t.times);
      }
    }
    const tjsImage = await call(page, configs[0].key, { kind: 'embed-image', index: 0 });
    const tjsText = await call(page, configs[0].key, { kind: 'embed-text', text: images[0].prompt });
    embedded = { image: tjsImage.embedding, text: tjsText.embedding };
    if (pageErrors.length > 0) throw new Error(`page errors: ${pageErrors.join('; ')}`);
  } finally {
    await browser?.close();
    await new Promise<void>((ok) => server.close(() => ok()));
  }
  const loadAfter = loadavg()[0];

  log('agqg embed on the same image and prompt (onnxruntime-node) for the cosine check ...');
  const ours = await agqgEmbed(
    packDir,
    images.slice(0, 2).map((im) => im.path),
    images[0].prompt,
  );
  const imageCosine = cosine(embedded.image, ours.images[0]);
  const textCosine = cosine(embedded.text, ours.text);
  // Random weights map all images near one direction: the cosine of two different images is the scale to read the one above against.
  const imageCosineBaseline = ours.images.length > 1 ? cosine(ours.images[0], ours.images[1]) : Number.NaN;

  const first = configs[0].init;
  if (!first) throw new Error('no worker initialised');
  const section = `chromium wasm: transformers.js ${first.tjsVersion} on CLIP ViT-B/32 (worker, onnxruntime-web ${first.ortVersion})`;
  const rows: Row[] = [];
  const results: TransformersJsResult[] = [];
  const text: TransformersJsTextResult[] = [];
  const median = (xs: readonly PartTimes[], k: keyof PartTimes): number =>
    summarize(xs.map((x) => x[k])).median;
  for (const c of configs) {
    const init = c.init;
    if (!init) continue;
    const name = threadName(c);
    rows.push(
      valueRow(
        section,
        `${name}: model load (vision / text)`,
        init.visionLoadMs,
        'ms',
        `text ${init.textLoadMs.toFixed(0)} ms`,
      ),
    );
    for (const [batch, times, n, wall] of [
      [1, c.one, c.one.length, c.oneWallMs],
      [batchSize, c.batch, c.batchImages, c.batchWallMs],
    ] as const) {
      const total = summarize(times.map((t) => t.totalMs));
      const ips = (n / wall) * 1000;
      results.push({
        threads: label(c),
        effectiveThreads: init.effectiveThreads,
        batch,
        imagesPerSecond: ips,
        medianMs: total.median,
        p90Ms: total.p90,
        decodeMs: median(times, 'decodeMs'),
        preprocessMs: median(times, 'preprocessMs'),
        modelMs: median(times, 'modelMs'),
      });
      const tag = `${name}, batch ${batch}`;
      rows.push(
        timedRow(
          section,
          `${tag}: per image total (bytes -> image_embeds)`,
          times.map((t) => t.totalMs),
        ),
      );
      rows.push(
        timedRow(
          section,
          `${tag}: decode (RawImage.fromBlob)`,
          times.map((t) => t.decodeMs),
        ),
      );
      rows.push(
        timedRow(
          section,
          `${tag}: preprocess (processor)`,
          times.map((t) => t.preprocessMs),
        ),
      );
      rows.push(
        timedRow(
          section,
          `${tag}: model call`,
          times.map((t) => t.modelMs),
        ),
      );
      rows.push(
        valueRow(
          section,
          `${tag}: throughput`,
          ips,
          'images/s',
          `${n} images in ${(wall / 1000).toFixed(1)} s`,
        ),
      );
    }
    const tt = summarize(c.text.map((t) => t.totalMs));
    text.push({
      threads: label(c),
      effectiveThreads: init.effectiveThreads,
      medianMs: tt.median,
      p90Ms: tt.p90,
    });
    rows.push(
      timedRow(
        section,
        `${name}: prompt (tokenizer + text model, batch 1)`,
        c.text.map((t) => t.totalMs),
      ),
    );
    rows.push(
      timedRow(
        section,
        `${name}: prompt tokenizer only`,
        c.text.map((t) => t.tokenizeMs),
      ),
    );
  }
  rows.push(
    valueRow(
      section,
      'cosine image_embeds vs agqg embed (same image)',
      imageCosine,
      '',
      'transformers.js canvas resize vs our PIL-exact bicubic',
    ),
  );
  rows.push(
    valueRow(
      section,
      'cosine agqg embed image 1 vs image 2 (scale)',
      imageCosineBaseline,
      '',
      'two different images, random weights',
    ),
  );
  rows.push(valueRow(section, 'cosine text_embeds vs agqg embed (1 prompt)', textCosine, ''));
  rows.push(
    valueRow(
      section,
      'load average (1 min) before / after',
      loadBefore,
      '',
      `after ${loadAfter.toFixed(2)}, ${cores} cores`,
    ),
  );
  const allCores = configs.find((c) => c.threads === cores) ?? configs[configs.length - 1];
  return {
    rows,
    results,
    textMsPerPrompt: summarize(allCores.text.map((t) => t.totalMs)).median,
    text,
    ortVersion: first.ortVersion,
    tjsVersion: first.tjsVersion,
    imageCosine,
    imageCosineBaseline,
    textCosine,
    loadAverage1m: { before: loadBefore, after: loadAfter },
  };
}

// ---------------------------------------------------------------- alone: npx tsx bench/transformers-js.ts

async function main(): Promise<void> {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      rounds: { type: 'string' },
      threads: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(
      `usage: npx tsx bench/transformers-js.ts [--n ${BATCH}] [--rounds ${DEFAULT_ROUNDS}] [--threads 1,${availableParallelism()}] [--json FILE]`,
    );
    return;
  }
  const n = Number(values.n ?? BATCH);
  const rounds = Number(values.rounds ?? DEFAULT_ROUNDS);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, got ${values.n}`);
  if (!Number.isInteger(rounds) || rounds < 1)
    throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
  const threads = values.threads?.split(',').map((s) => {
    const t = Number(s.trim());
    if (!Number.isInteger(t) || t < 1) throw new Error(`--threads takes positive integers, got "${s}"`);
    return t;
  });
  const { haveShared, AGIQA, CLIP_B32 } = await import('./shared.ts');
  if (!haveShared('transformers.js benchmark', [AGIQA, CLIP_B32])) return;
  const { ensureClipB32Pack } = await import('./clip-b32-pack.ts');
  const { formatTable } = await import('./stats.ts');
  const log = (s: string) => console.log(`  ${s}`);
  const packDir = await ensureClipB32Pack(log);
  const t0 = performance.now();
  const r = await benchTransformersJs({ packDir, images: agiqaImages(n), log, threads, rounds });
  console.log('');
  console.log(formatTable(r.rows));
  console.log('');
  console.log('threads     eff  batch  images/s  median ms  p90 ms  decode  preproc  model  (ms per image)');
  for (const x of r.results) {
    console.log(
      `${String(x.threads).padEnd(10)} ${String(x.effectiveThreads).padStart(4)} ${String(x.batch).padStart(6)} ${x.imagesPerSecond.toFixed(2).padStart(9)} ` +
        `${x.medianMs.toFixed(1).padStart(10)} ${x.p90Ms.toFixed(1).padStart(7)} ${x.decodeMs.toFixed(1).padStart(7)} ${x.preprocessMs.toFixed(1).padStart(8)} ${x.modelMs.toFixed(1).padStart(6)}`,
    );
  }
  console.log(
    `text: ${r.textMsPerPrompt.toFixed(1)} ms per prompt (all cores); cosine image ${r.imageCosine.toFixed(5)} (two different images: ${r.imageCosineBaseline.toFixed(4)}), text ${r.textCosine.toFixed(5)}`,
  );
  console.log(
    `load average ${r.loadAverage1m.before.toFixed(2)} -> ${r.loadAverage1m.after.toFixed(2)}; ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  );
  if (values.json) {
    const { writeFileSync } = await import('node:fs');
    mkdirSync(dirname(resolve(values.json)), { recursive: true });
    writeFileSync(
      resolve(values.json),
      `${JSON.stringify({ createdAt: new Date().toISOString(), n, rounds, ...r }, null, 2)}\n`,
    );
    console.log(`wrote ${resolve(values.json)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(
      `transformers.js bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    process.exit(1);
  });
}
