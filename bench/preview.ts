// The built site served by `vite preview` on a free port, for the browser
// benchmarks (vite.config.ts sets COOP/COEP, so the page is cross-origin
// isolated and onnxruntime-web gets its threads).
import { resolve } from 'node:path';
import { preview, type PreviewServer } from 'vite';
import { ROOT } from './shared.ts';

export async function previewSite(outDir: string): Promise<{ server: PreviewServer; url: string }> {
  const server = await preview({
    configFile: resolve(ROOT, 'vite.config.ts'),
    root: ROOT,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false },
  });
  const url = server.resolvedUrls?.local[0];
  if (!url) {
    await server.close();
    throw new Error('vite preview did not report its URL');
  }
  return { server, url };
}
