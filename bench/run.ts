// `npm run bench` (tsx bench/run.ts): prints medians/p90 and same-run ratios for
//   node     the default pack's whole per-image pipeline via PackScorer + NodeRuntime
//   browser  the page's pipeline in headless Chromium on WASM (vite preview, COOP/COEP)
//   micro    tokenizer, CLIP preprocessing, full-size CLIP ViT-B/32 graphs
// Options: --n 40  --pack DIR  --only node,browser,micro  --json FILE
//          --dist DIR (copy that site build instead of building)  --no-build (reuse .cache/bench/dist)
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBrowserPipeline, listingOf, type BrowserPipelineResult } from './browser-pipeline';
import { agiqaImages } from './images';
import { benchClipB32, benchTokenizer } from './micro';
import { benchNodePipeline, type NodePipelineResult } from './node-pipeline';
import { benchPreprocess } from './preprocess';
import { AGIQA, haveShared, ROOT, sharedPath, TINY_CLIP } from './shared';
import { formatTable, valueRow, type Row } from './stats';

const DEFAULT_PACK = resolve(ROOT, 'public/models/default');
const DEFAULT_N = 40;
/** The page's budget per image on WASM. */
const TARGET_MS = 250;
const PARTS = ['node', 'browser', 'micro'] as const;
type Part = (typeof PARTS)[number];

const USAGE = `usage: tsx bench/run.ts [--n ${DEFAULT_N}] [--pack DIR] [--only ${PARTS.join(',')}] [--json FILE] [--dist DIR | --no-build]`;

function parse(): { n: number; pack: string | null; only: Set<Part>; json: string | null; dist: string | null; noBuild: boolean } {
  const { values } = parseArgs({
    options: {
      n: { type: 'string' },
      pack: { type: 'string' },
      only: { type: 'string' },
      json: { type: 'string' },
      dist: { type: 'string' },
      'no-build': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const n = values.n === undefined ? DEFAULT_N : Number(values.n);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--n must be a positive integer, got ${values.n}`);
  const only = new Set<Part>();
  for (const p of (values.only ?? PARTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (!(PARTS as readonly string[]).includes(p)) throw new Error(`--only takes ${PARTS.join(', ')}; got "${p}"`);
    only.add(p as Part);
  }
  return { n, pack: values.pack ?? null, only, json: values.json ?? null, dist: values.dist ?? null, noBuild: values['no-build'] === true };
}

/** The pack to benchmark: --pack, else the default pack, else (not built yet) tiny-clip, said loudly. */
function choosePack(asked: string | null): { dir: string; id: string; note: string | null } | null {
  if (asked) return { dir: resolve(asked), id: basename(resolve(asked)), note: null };
  if (existsSync(resolve(DEFAULT_PACK, 'manifest.json'))) return { dir: DEFAULT_PACK, id: 'default', note: null };
  const note = `the default pack is not built (${DEFAULT_PACK}/manifest.json missing; \`node bin/agqg.js build-pack\`): benchmarking the tiny-clip fixture instead`;
  console.log(`NOTE: ${note}`);
  if (!haveShared('pipeline on tiny-clip', [TINY_CLIP])) return null;
  return { dir: sharedPath(TINY_CLIP), id: 'tiny-clip', note };
}

async function main(): Promise<void> {
  const args = parse();
  const log = (line: string) => console.log(`  ${line}`);
  const rows: Row[] = [];
  const t0 = performance.now();
  const loadBefore = loadavg()[0];
  let node: NodePipelineResult | null = null;
  let browser: BrowserPipelineResult | null = null;
  let b32: { visionMs: number; textMs: number } | null = null;
  const pack = args.only.has('node') || args.only.has('browser') ? choosePack(args.pack) : null;
  const images = pack && haveShared('pipeline benchmarks', [AGIQA]) ? agiqaImages(args.n) : [];

  if (pack && images.length > 0 && args.only.has('node')) {
    console.log(`node: ${pack.id} on ${images.length} AGIQA-3K images ...`);
    node = await benchNodePipeline(pack.dir, images, pack.id);
    rows.push(...node.rows);
  }
  if (pack && images.length > 0 && args.only.has('browser')) {
    console.log(`chromium: ${pack.id} on ${images.length} AGIQA-3K images ...`);
    browser = await benchBrowserPipeline({
      packDir: pack.dir,
      packId: pack.id,
      listing: listingOf(pack.dir),
      images,
      fromDist: args.dist ?? undefined,
      noBuild: args.noBuild,
      log,
    });
    rows.push(...browser.rows);
  }
  if (node && browser) {
    const s = 'same run: browser vs node';
    rows.push(valueRow(s, 'chromium wasm / node median total', browser.medianTotalMs / node.medianTotalMs, 'x'));
    rows.push(
      valueRow(s, `chromium wasm median vs target ${TARGET_MS} ms`, browser.medianTotalMs, 'ms', browser.medianTotalMs <= TARGET_MS ? 'meets target' : 'OVER target'),
    );
  }
  if (args.only.has('micro')) {
    console.log('micro: tokenizer, preprocessing, CLIP ViT-B/32 ...');
    rows.push(...(await benchTokenizer()));
    rows.push(...benchPreprocess());
    const r = await benchClipB32();
    rows.push(...r.rows);
    if (r.rows.length > 0) b32 = { visionMs: r.visionMs, textMs: r.textMs };
  }

  const elapsed = (performance.now() - t0) / 1000;
  console.log('');
  const loadAfter = loadavg()[0];
  console.log(`AGQG benchmark · ${cpus()[0]?.model ?? 'cpu'} · ${availableParallelism()} cores · node ${process.version} · ${elapsed.toFixed(0)} s`);
  // Other processes on the machine inflate every number: say so rather than print them as clean.
  const busy = Math.max(loadBefore, loadAfter) > availableParallelism();
  console.log(`load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}${busy ? ' · WARNING: the machine was busy; numbers are inflated' : ''}`);
  if (pack) console.log(`pack: ${pack.id} (${pack.dir})${pack.note ? ` · ${pack.note}` : ''}`);
  console.log(formatTable(rows));

  if (args.json) {
    const out = {
      createdAt: new Date().toISOString(),
      machine: {
        cpu: cpus()[0]?.model ?? null,
        cores: availableParallelism(),
        node: process.version,
        platform: process.platform,
        loadAverage1m: { before: loadBefore, after: loadAfter },
      },
      options: { n: args.n, parts: [...args.only] },
      pack: pack ? { id: pack.id, dir: pack.dir, note: pack.note } : null,
      summary: {
        nodeMedianMsPerImage: node?.medianTotalMs ?? null,
        nodeThreads: node?.threads ?? null,
        chromiumWasmMedianMsPerImage: browser?.medianTotalMs ?? null,
        chromiumWasmThreads: browser?.threads ?? null,
        chromiumImagesPerSecond: browser?.imagesPerSecond ?? null,
        chromiumPackLoadMs: browser?.packLoadMs ?? null,
        chromiumOverNode: node && browser ? browser.medianTotalMs / node.medianTotalMs : null,
        targetMs: TARGET_MS,
        clipB32VisionMs: b32?.visionMs ?? null,
        clipB32TextMs: b32?.textMs ?? null,
      },
      rows,
      elapsedSeconds: elapsed,
    };
    mkdirSync(dirname(resolve(args.json)), { recursive: true });
    writeFileSync(resolve(args.json), `${JSON.stringify(out, null, 2)}\n`);
    console.log(`wrote ${resolve(args.json)}`);
  }
}

main().catch((err: unknown) => {
  console.error(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});
