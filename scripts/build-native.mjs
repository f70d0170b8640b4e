// Builds the optional native JPEG decoder (native/jpeg-decode.c -> build/agqg-jpeg.node)
// against the system's libjpeg-turbo, at `npm install`. It needs a C compiler, Node's
// headers and libjpeg-turbo's (Debian: libjpeg62-turbo-dev). When any is missing it says
// so and leaves nothing behind: agqg score then decodes JPEG with WebAssembly (same pixels,
// slower). Never fails the install. AGQG_NATIVE=0 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE = join(ROOT, 'native/jpeg-decode.c');
const OUT = join(ROOT, 'build/agqg-jpeg.node');
const FALLBACK = 'agqg score will decode JPEG with WebAssembly instead (same pixels, slower)';

function skip(why) {
  rmSync(OUT, { force: true });
  console.log(`native JPEG decoder not built: ${why}; ${FALLBACK}.`);
  process.exit(0);
}

if (process.env.AGQG_NATIVE === '0') skip('AGQG_NATIVE=0');
if (process.platform !== 'linux' && process.platform !== 'darwin')
  skip(`no build recipe for ${process.platform}`);
const cc = process.env.CC || 'cc';
const headers = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  '/usr/include/node',
  '/usr/local/include/node',
].find((d) => existsSync(join(d, 'node_api.h')));
if (!headers) skip("Node's headers (node_api.h) were not found next to this node binary");

const tmp = join(dirname(OUT), `agqg-jpeg.${process.pid}.tmp.node`);
mkdirSync(dirname(OUT), { recursive: true });
const args = ['-O2', '-Wall', '-shared', '-fPIC', '-DNODE_GYP_MODULE_NAME=agqg_jpeg', `-I${headers}`];
if (process.platform === 'darwin')
  args.push(
    '-undefined',
    'dynamic_lookup',
    '-I/opt/homebrew/include',
    '-L/opt/homebrew/lib',
    '-I/usr/local/include',
    '-L/usr/local/lib',
  );
args.push(SOURCE, '-ljpeg', '-o', tmp);
const built = spawnSync(cc, args, { encoding: 'utf8' });
if (built.error || built.status !== 0) {
  rmSync(tmp, { force: true });
  const detail = (built.error?.message ?? built.stderr ?? '').trim().split('\n').slice(0, 3).join(' | ');
  skip(
    `${cc} failed (${detail || `exit ${built.status}`}); Debian needs build-essential and libjpeg62-turbo-dev`,
  );
}
// Loaded once here, so a library that builds but cannot load is caught at install.
const check = spawnSync(
  process.execPath,
  [
    '-e',
    `const m = require(${JSON.stringify(tmp)}); if (typeof m.decode !== 'function') process.exit(3); console.log(m.jpegLibVersion)`,
  ],
  {
    encoding: 'utf8',
  },
);
if (check.status !== 0) {
  rmSync(tmp, { force: true });
  skip(`the built addon does not load (${(check.stderr || `exit ${check.status}`).trim().split('\n')[0]})`);
}
renameSync(tmp, OUT);
console.log(`native JPEG decoder built: ${OUT} (libjpeg API ${check.stdout.trim()})`);
