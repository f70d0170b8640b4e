#!/usr/bin/env node
// The CLI. The installed package runs the compiled JavaScript in lib/ (scripts/build-lib.mjs); a
// checkout, which has src/ and tsx, runs the TypeScript itself so edits need no rebuild.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// onnxruntime-node 1.30 overflows the main thread's stack while creating a
// session when one command-line argument is very long (a 40 KB --prompt
// crashes it with SIGSEGV; a long environment variable does not). Such
// arguments are handed to a fresh process through the environment instead.
const LONG_ARG = 8 * 1024;
const ARGV_ENV = 'AGQG_ARGV_JSON';
const fromEnv = process.env[ARGV_ENV];
if (fromEnv === undefined && process.argv.slice(2).some((a) => a.length > LONG_ARG)) {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, [ARGV_ENV]: JSON.stringify(process.argv.slice(2)) },
  });
  process.exit(child.status ?? 1);
}
const argv = fromEnv === undefined ? process.argv.slice(2) : JSON.parse(fromEnv);
delete process.env[ARGV_ENV];

const source = new URL('../src/cli/main.ts', import.meta.url);
const tsx = existsSync(fileURLToPath(source)) ? await import('tsx/esm/api').catch(() => null) : null;
let entry = new URL('../lib/cli/main.js', import.meta.url);
if (tsx) {
  tsx.register();
  entry = source;
}
const { main } = await import(entry.href);
process.exitCode = await main(argv);
