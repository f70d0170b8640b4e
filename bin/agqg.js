#!/usr/bin/env node
// The CLI is TypeScript shared with the browser; tsx compiles it on the fly so
// `npx agqg` works straight after `npm install`, with no build step.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';

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

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(argv);
