// agqg build-pack: the default offline pack (see src/cli/pack/build-default-pack.ts).
import type { CliIO } from '../io.ts';
import { main, USAGE } from '../pack/build-default-pack.ts';

export const help = USAGE;

export function run(argv: string[], io: CliIO): Promise<number> {
  return main(
    argv,
    (line) => io.err(`${line}\n`),
    (line) => io.err(`${line}\n`),
  );
}
