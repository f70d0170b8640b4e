// One headless Chromium per test file, with a fresh profile (so service worker,
// IndexedDB and caches start empty) that survives reloads within the file.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = process.env.AGQG_CHROMIUM ?? '/usr/bin/chromium';

/** Flags every headless run here takes: no GPU, no background traffic (the machine is offline). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Software WebGPU for headless Chromium without a GPU: Dawn on SwiftShader's Vulkan.
 * --use-webgpu-adapter=swiftshader alone already gives an adapter in Chromium 156 on Debian;
 * the others keep ANGLE and Vulkan on SwiftShader too, so nothing looks for a real GPU.
 */
export const WEBGPU_ARGS = [
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--use-angle=swiftshader',
  '--use-webgpu-adapter=swiftshader',
];

export interface LaunchOptions {
  /** Software WebGPU (WEBGPU_ARGS) instead of --disable-gpu. */
  webgpu?: boolean;
}

export interface Browser {
  context: BrowserContext;
  profile: string;
  close(): Promise<void>;
}

export async function launch(opts: LaunchOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: apt-get install chromium (Debian), or set AGQG_CHROMIUM to a Chromium binary`,
    );
  }
  const profile = mkdtempSync(join(tmpdir(), 'agqg-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      ...(opts.webgpu
        ? [...CHROMIUM_ARGS.filter((a) => a !== '--disable-gpu'), ...WEBGPU_ARGS]
        : CHROMIUM_ARGS),
      // For experiments only (e.g. AGQG_CHROMIUM_FLAGS=--js-flags=--no-wasm-deopt): benchmarks must measure the defaults.
      ...(process.env.AGQG_CHROMIUM_FLAGS?.split(' ').filter(Boolean) ?? []),
    ],
    acceptDownloads: true,
    viewport: { width: 1360, height: 900 },
  });
  return {
    context,
    profile,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
