// Where ../shared is, and the benchmark's gate for parts that need it: like
// the tests (test/shared.ts), a missing file is an error under CI=true and a
// clear SKIPPED line elsewhere. (test/shared.ts imports vitest, which cannot
// be loaded outside the test runner, hence this small twin.)
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.AGQG_SHARED ?? resolve(ROOT, '..', 'shared');
export const sharedPath = (...parts: string[]): string => resolve(SHARED, ...parts);

export const AGIQA = 'datasets/agiqa-3k';
export const TINY_CLIP = 'fixtures/tiny-clip';
export const CLIP_B32 = 'fixtures/clip-vit-b32-graphs';

/** True when every path exists; else prints SKIPPED (or throws under CI=true) and returns false. */
export function haveShared(part: string, needs: readonly string[]): boolean {
  const missing = needs.filter((p) => !existsSync(sharedPath(p)));
  if (missing.length === 0) return true;
  const msg = `${part}: ../shared is missing ${missing.join(', ')} (looked in ${SHARED})`;
  if (process.env.CI === 'true') throw new Error(`${msg}. CI must provide ../shared.`);
  console.log(`SKIPPED: ${msg}`);
  return false;
}
