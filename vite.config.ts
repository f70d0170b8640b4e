// The page is a static site: React UI, one module worker owning onnxruntime-web,
// onnxruntime-web's runtime files copied in (never a CDN), and a service worker
// that precaches all of it so grading works offline.
import { createReadStream, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
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

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
}

/**
 * Fills public/sw.js's placeholders in the build: the list of files to precache
 * (everything built plus public/, minus model packs, which are cached when
 * loaded) and a version that changes with the file list, so a new build installs.
 */
function serviceWorkerManifest(): Plugin {
  let files: string[] = [];
  let outDir = 'dist';
  let publicDir = 'public';
  return {
    name: 'agqg-sw-manifest',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
      publicDir = config.publicDir;
    },
    generateBundle(_options, bundle) {
      files = Object.keys(bundle);
    },
    writeBundle() {
      const swPath = join(outDir, 'sw.js');
      if (!existsSync(swPath)) return;
      const fromPublic = listFiles(publicDir).map((p) => relative(publicDir, p).split('\\').join('/'));
      const precache = [...new Set([...files, ...fromPublic])]
        .filter((f) => !f.startsWith('models/') && f !== 'sw.js' && !f.endsWith('.map'))
        .sort();
      let hash = 0;
      for (const f of precache)
        for (let i = 0; i < f.length; i++) hash = (Math.imul(hash, 31) + f.charCodeAt(i)) | 0;
      const version = `${(hash >>> 0).toString(36)}-${Date.now().toString(36)}`;
      const src = readFileSync(swPath, 'utf8')
        .replace("'__AGQG_VERSION__'", JSON.stringify(version))
        .replace('[/*__AGQG_PRECACHE__*/]', JSON.stringify(['./', ...precache]));
      writeFileSync(swPath, src);
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
      // The builds that load their .mjs/.wasm from env.wasm.wasmPaths instead of embedding them.
      { find: /^onnxruntime-web\/webgpu$/, replacement: join(ORT_DIST, 'ort.webgpu.min.mjs') },
      { find: /^onnxruntime-web\/wasm$/, replacement: join(ORT_DIST, 'ort.wasm.min.mjs') },
    ],
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
