// Entry of a decode worker thread. Compiled (lib/cli, next to decode-worker.js) it loads the JS
// body; in a checkout (src/cli) it registers tsx first, since workers do not share the main
// thread's module hooks.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('./decode-worker.js', import.meta.url);
if (existsSync(fileURLToPath(compiled))) {
  await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('./decode-worker.ts');
}
