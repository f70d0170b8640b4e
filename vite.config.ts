// The page is a static site: React UI, one module worker owning onnxruntime-web,
// onnxruntime-web's runtime files copied in (never a CDN), and a service worker
// that precaches all of it so grading works offline.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig, type Plugin } from 'vite';
import { ORT_DIR, ORT_FILE_NAMES } from './src/worker/ort-files.ts';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
const ORT_DIST = resolve(ROOT, 'node_modules/onnxruntime-web/dist');

// Cross-origin isolation gives the page SharedArrayBuffer, so onnxruntime-web can use threads.
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

/**
 * The static site's Content-Security-Policy (vite preview sends it; deploy/ has the same line for
 * each host, e2e/csp.e2e.ts checks both): scripts, workers and fetches from the site only;
 * 'wasm-unsafe-eval' lets onnxruntime-web compile its WebAssembly; thumbnails are data: URLs.
 * Not sent by the dev server, whose React refresh preamble is an inline script.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "manifest-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const MIME: Record<string, string> = { '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

/** Serves onnxruntime-web's runtime files under ort/ in dev and copies them into the build. */
function ortRuntime(): Plugin {
  let base = '/';
  return {
    name: 'agqg-ort-runtime',
    configResolved(config) {
      base = config.base;
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const url = (req.url ?? '').split('?')[0];
        const prefix = `${base}${ORT_DIR}/`;
        const name = url.startsWith(prefix) ? url.slice(prefix.length) : '';
        if (!ORT_FILE_NAMES.includes(name)) return next();
        const ext = name.slice(name.lastIndexOf('.'));
        // onnxruntime starts its thread workers from the .mjs; an isolated page only runs workers that are isolated too.
        for (const [k, v] of Object.entries(ISOLATION_HEADERS)) res.setHeader(k, v);
        res.setHeader('Content-Type', MIME[ext] ?? 'application/octet-stream');
        res.setHeader('Content-Length', String(statSync(join(ORT_DIST, name)).size));
        createReadStream(join(ORT_DIST, name)).pipe(res);
      });
    },
    generateBundle() {
      for (const name of ORT_FILE_NAMES) {
        this.emitFile({
          type: 'asset',
          fileName: `${ORT_DIR}/${name}`,
          source: readFileSync(join(ORT_DIST, name)),
        });
      }
    },
  };
}

/** The shell's files the service worker precaches: everything built but model packs and source maps. */
export const PRECACHE_GLOBS = {
  globPatterns: ['**/*'],
  globIgnores: ['models/**', 'sw.js', '**/*.map'],
  // Vite names what it emits under assets/ by content hash: the name is the revision.
  dontCacheBustURLsMatching: /^assets\//,
  // onnxruntime-web's WASM binaries are ~12-25 MB each.
  maximumFileSizeToCacheInBytes: 64 * 1024 * 1024,
};

/**
 * Writes the build's sw.js from public/sw.js with Workbox's injectManifest: self.__WB_MANIFEST
 * becomes the list of shell files with the hash of each one's content, so a rebuild changes the
 * entries (and the service worker) only for files whose content changed.
 */
function serviceWorkerManifest(): Plugin {
  let outDir = 'dist';
  let publicDir = 'public';
  return {
    name: 'agqg-sw-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      publicDir = config.publicDir;
    },
    async closeBundle() {
      const swSrc = join(publicDir, 'sw.js');
      if (!existsSync(swSrc)) return;
      const { injectManifest } = await import('workbox-build');
      const { warnings } = await injectManifest({
        swSrc,
        swDest: join(outDir, 'sw.js'),
        globDirectory: outDir,
        ...PRECACHE_GLOBS,
      });
      for (const w of warnings) this.warn(`service worker precache: ${w}`);
    },
  };
}

export default defineConfig({
  // Absolute base: the worker resolves models/ and ort/ against it. Host under a sub-path with `vite build --base=/sub/`.
  // One page; a missing file must be a 404, not index.html (packs probe for optional files).
  appType: 'mpa',
  plugins: [react(), ortRuntime(), serviceWorkerManifest()],
  resolve: {
    alias: [
      // Jitless zod: its eval probe would be a CSP violation (src/lib/browser/zod-jitless.ts).
      { find: /^zod$/, replacement: resolve(ROOT, 'src/lib/browser/zod.ts') },
      // The builds that load their .mjs/.wasm from env.wasm.wasmPaths instead of embedding them.
      { find: /^onnxruntime-web\/webgpu$/, replacement: join(ORT_DIST, 'ort.webgpu.min.mjs') },
      { find: /^onnxruntime-web\/wasm$/, replacement: join(ORT_DIST, 'ort.wasm.min.mjs') },
    ],
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: { ...ISOLATION_HEADERS, 'Content-Security-Policy': CONTENT_SECURITY_POLICY } },
});
