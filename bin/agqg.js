#!/usr/bin/env node
// The CLI is TypeScript shared with the browser; tsx compiles it on the fly so
// `npx agqg` works straight after `npm install`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
