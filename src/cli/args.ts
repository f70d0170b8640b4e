// Argument parsing shared by the commands: node:util parseArgs in strict mode,
// with its terse errors turned into usage errors that point at --help.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { VARIANT_DTYPES, type VariantDtype } from '../model/pack/manifest.ts';

export const EXIT_OK = 0;
/** Some inputs failed; the others were processed. */
export const EXIT_SOME_FAILED = 1;
/** Bad usage or an unusable pack: nothing was processed. */
export const EXIT_USAGE = 2;

/** Wrong arguments: main() prints the message, a pointer to --help, and exits with EXIT_USAGE. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
// Named so the emitted .d.ts can spell it (node:util does not export its result type).
type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

export function parseCommandArgs<O extends Options>(command: string, argv: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message, command);
  }
}

export function requireOption(command: string, value: string | undefined, flag: string): string {
  if (value === undefined || value === '') throw new UsageError(`${flag} is required`, command);
  return value;
}

export function parseVariant(command: string, value: string | undefined): VariantDtype | undefined {
  if (value === undefined) return undefined;
  if (!(VARIANT_DTYPES as readonly string[]).includes(value)) {
    throw new UsageError(`--variant must be one of ${VARIANT_DTYPES.join(', ')} (got "${value}")`, command);
  }
  return value as VariantDtype;
}

export function parsePositiveInt(
  command: string,
  value: string | undefined,
  flag: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} must be a whole number >= 1 (got "${value}")`, command);
  return n;
}
