// Builds the site once, adds the test pack (and the default pack, when built) to the
// build (never to the repo or public/), and serves it with `vite preview` on a free localhost port.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { TestProject } from 'vitest/node';
import { build, preview, type Plugin, type PreviewServer } from 'vite';
import { DEFAULT_PACK, E2E_DIST, TEST_PACK } from './env.ts';
import { ROOT, sharedPath } from '../test/shared.ts';

let server: PreviewServer | null = null;

/**
 * GET /__e2e__/network?state=down makes the server drop every other request
 * (counting them) until ?state=up: the offline test cuts the network at the
 * source instead of trusting the browser's offline emulation to cover the service worker.
 */
function networkSwitch(): Plugin {
  let down = false;
  let blocked = 0;
  return {
    name: 'agqg-e2e-network-switch',
    configurePreviewServer(srv) {
      srv.middlewares.use((req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://x');
        if (url.pathname === '/__e2e__/network') {
          const state = url.searchParams.get('state');
          if (state === 'down' || state === 'up') {
            down = state === 'down';
            if (down) blocked = 0;
          }
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ down, blocked }));
          return;
        }
        if (down) {
          blocked++;
          req.socket.destroy();
          return;
        }
        next();
      });
    },
  };
}

export async function setup(project: TestProject): Promise<void> {
  const configFile = resolve(ROOT, 'vite.config.ts');
  if (!process.env.AGQG_E2E_SKIP_BUILD || !existsSync(resolve(E2E_DIST, 'index.html'))) {
    rmSync(E2E_DIST, { recursive: true, force: true });
    // Vitest sets NODE_ENV=test, which would make a development build (React dev mode, no service worker).
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        mode: 'production',
        configFile,
        root: ROOT,
        logLevel: 'warn',
        build: { outDir: E2E_DIST, emptyOutDir: true, sourcemap: false },
      });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
  }
  const fixture = sharedPath(TEST_PACK.fixture);
  const models = resolve(E2E_DIST, 'models');
  // Only the test pack is listed, so what the page loads first does not depend on other packs in the build.
  const packs: { id: string; name: string; description: string }[] = [];
  if (existsSync(fixture)) {
    mkdirSync(models, { recursive: true });
    cpSync(fixture, resolve(models, TEST_PACK.id), { recursive: true });
    packs.push({ id: TEST_PACK.id, name: TEST_PACK.name, description: TEST_PACK.description });
  }
  // The default pack comes after the test pack, which other tests expect the page to load first.
  // Copied again (not trusted from vite's copy of public/) so a reused build serves the current pack.
  if (existsSync(DEFAULT_PACK.manifest)) {
    const target = resolve(models, DEFAULT_PACK.id);
    rmSync(target, { recursive: true, force: true });
    cpSync(DEFAULT_PACK.dir, target, { recursive: true });
    const m = JSON.parse(readFileSync(DEFAULT_PACK.manifest, 'utf8')) as {
      name?: unknown;
      description?: unknown;
    };
    packs.push({
      id: DEFAULT_PACK.id,
      name: typeof m.name === 'string' ? m.name : DEFAULT_PACK.id,
      description: typeof m.description === 'string' ? m.description : '',
    });
  }
  mkdirSync(models, { recursive: true });
  writeFileSync(resolve(models, 'index.json'), JSON.stringify(packs, null, 2));

  server = await preview({
    configFile,
    root: ROOT,
    logLevel: 'warn',
    plugins: [networkSwitch()],
    build: { outDir: E2E_DIST },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report its URL');
  project.provide('baseUrl', url);
}

export async function teardown(): Promise<void> {
  await server?.close();
}

declare module 'vitest' {
  export interface ProvidedContext {
    baseUrl: string;
  }
}
