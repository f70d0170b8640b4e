// Locates ../shared (read-only reference data) and gates suites that need it:
// under CI=true a missing ../shared is a failure; elsewhere the suite is skipped
// with a message that says so, never silently.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED = process.env.AGQG_SHARED ?? resolve(ROOT, '..', 'shared');

export const sharedPath = (...parts: string[]): string => resolve(SHARED, ...parts);

/** describe() that needs files under ../shared. */
export function describeShared(name: string, needs: string[], fn: () => void): void {
  const missing = needs.filter((p) => !existsSync(sharedPath(p)));
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const msg = `${name}: ../shared is missing ${missing.join(', ')} (looked in ${SHARED})`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('has its shared data', () => {
        throw new Error(`${msg}. CI must provide ../shared.`);
      });
    });
  } else {
    console.warn(`SKIPPED: ${msg}`);
    describe.skip(`${name} [SKIPPED: ../shared missing]`, fn);
  }
}
