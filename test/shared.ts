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

/** What a gated suite needs, and what to say when it is missing. */
export interface SuiteNeed {
  /** Why the suite cannot run here, or null when it can. */
  missing: string | null;
  /** The title of the failing test under CI=true. */
  check: string;
  /** What CI must do about it. */
  ciHint: string;
  /** Short tag in the skipped suite's name. */
  tag: string;
}

/** describe() that runs when `need` is met; under CI=true fails when it is not, elsewhere says SKIPPED. */
export function describeWhen(name: string, need: SuiteNeed, fn: () => void): void {
  if (need.missing === null) {
    describe(name, fn);
    return;
  }
  const msg = `${name}: ${need.missing}`;
  if (process.env.CI === 'true') {
    describe(name, () => {
      it(need.check, () => {
        throw new Error(`${msg}. ${need.ciHint}`);
      });
    });
  } else {
    console.warn(`SKIPPED: ${msg}`);
    // Not `fn`: vitest runs a skipped suite's body to collect its tests, and a body that reads
    // what is missing (a fixture file) would fail the whole file instead of skipping.
    describe.skip(`${name} [SKIPPED: ${need.tag}]`, () => {
      it(need.check, () => {});
    });
  }
}

/** describe() that needs files under ../shared. */
export function describeShared(name: string, needs: string[], fn: () => void): void {
  const missing = needs.filter((p) => !existsSync(sharedPath(p)));
  describeWhen(
    name,
    {
      missing:
        missing.length === 0 ? null : `../shared is missing ${missing.join(', ')} (looked in ${SHARED})`,
      check: 'has its shared data',
      ciHint: 'CI must provide ../shared.',
      tag: '../shared missing',
    },
    fn,
  );
}
