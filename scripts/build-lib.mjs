// Compiles the package's JavaScript and .d.ts into lib/ (same folder depth as src/, so paths
// such as build/agqg-jpeg.node resolve alike): the Node side (CLI, `agqg-grader`, `agqg-grader/core`),
// the browser entry (`agqg-grader/browser`) and its worker, each with its own lib. Run by `prepare`
// (npm install in the repo, npm pack); nothing in lib/ needs tsx.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const LIB = join(ROOT, 'lib');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

rmSync(LIB, { recursive: true, force: true });
for (const config of ['tsconfig.build.json', 'tsconfig.build.browser.json', 'tsconfig.build.worker.json']) {
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, config)], { stdio: 'inherit' });
  if (run.status !== 0) {
    console.error(`build-lib: tsc -p ${config} failed`);
    process.exit(1);
  }
}

// The decode workers' entry is plain JS (it picks the compiled body when there is one).
copyFileSync(join(ROOT, 'src/cli/decode-worker.mjs'), join(LIB, 'cli/decode-worker.mjs'));

// tsc rewrites import specifiers only; the worker's URL is a string bundlers resolve.
const browserEntry = join(LIB, 'lib/browser/index.js');
const text = readFileSync(browserEntry, 'utf8');
const fixed = text.replace("'../../worker/scorer.worker.ts'", "'../../worker/scorer.worker.js'");
if (fixed === text) {
  console.error(`build-lib: ${browserEntry} does not name scorer.worker.ts where expected`);
  process.exit(1);
}
writeFileSync(browserEntry, fixed);

// Nothing compiled may still point at a .ts file (the copied worker entry names one only for checkouts).
const left = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (e.name.endsWith('.js') && /['"]\.{1,2}\/[^'"]*\.tsx?['"]/.test(readFileSync(p, 'utf8')))
      left.push(p);
  }
};
walk(LIB);
if (left.length > 0) {
  console.error(`build-lib: still naming .ts files: ${left.join(', ')}`);
  process.exit(1);
}
console.log('build-lib: lib/ written');
