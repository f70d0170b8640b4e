import { resolve } from 'node:path';
import { ROOT } from '../test/shared.ts';

/** The e2e build lives outside dist/ so it never races a developer's `vite build`. */
export const E2E_DIST = resolve(ROOT, '.cache/e2e/dist');

/** Until the default pack ships, the page is tested with the tiny random-weight CLIP fixture. */
export const TEST_PACK = {
  id: 'tiny-clip',
  fixture: 'fixtures/tiny-clip',
  name: 'Tiny CLIP (test fixture)',
  description: 'Random weights: grades are meaningless, the plumbing is real.',
};

export const AGIQA = 'datasets/agiqa-3k';

/**
 * The shipped default pack (`agqg build-pack`, run by `npm install`'s postinstall). When built,
 * global-setup serves it from the e2e build's models/default and lists it after the test pack.
 */
const DEFAULT_PACK_DIR = resolve(process.env.AGQG_E2E_DEFAULT_PACK ?? resolve(ROOT, 'public/models/default'));
export const DEFAULT_PACK = {
  id: 'default',
  /** AGQG_E2E_DEFAULT_PACK tries a candidate pack folder in its place. */
  dir: DEFAULT_PACK_DIR,
  manifest: resolve(DEFAULT_PACK_DIR, 'manifest.json'),
};

/** Cuts (or restores) the preview server's network; returns how many requests were dropped. */
export async function serverNetwork(
  baseUrl: string,
  state?: 'down' | 'up',
): Promise<{ down: boolean; blocked: number }> {
  const url = new URL('/__e2e__/network', baseUrl);
  if (state) url.searchParams.set('state', state);
  const res = await fetch(url);
  return (await res.json()) as { down: boolean; blocked: number };
}
