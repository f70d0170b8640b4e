// agqg: command-line entry. Dispatches to the registry in commands.ts and turns
// errors into messages and exit codes (0 ok, 1 some inputs failed, 2 usage or pack error).
import { EXIT_SOME_FAILED, EXIT_USAGE, UsageError } from './args.ts';
import { commands } from './commands.ts';
import { processIO, type CliIO } from './io.ts';
import { AgqgError, INPUT_ERROR_CODES } from '../model/errors.ts';

function topHelp(): string {
  const width = Math.max(...Object.keys(commands).map((n) => n.length));
  const list = Object.entries(commands)
    .map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`)
    .join('\n');
  return `agqg: grade AI-generated images with AGQG model packs

Usage: agqg COMMAND [options]   (agqg COMMAND --help for each command)

Commands:
${list}

Exit codes: 0 ok, 1 some inputs failed, 2 usage or pack error.
`;
}

export async function main(argv: string[], io: CliIO = processIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    const target = name === 'help' ? rest[0] : undefined;
    if (target === undefined) {
      io.out(topHelp());
      return name === undefined ? EXIT_USAGE : 0;
    }
    return main([target, '--help'], io);
  }
  const entry = Object.hasOwn(commands, name) ? commands[name] : undefined;
  if (!entry) {
    io.err(`agqg: unknown command "${name}"\n\n${topHelp()}`);
    return EXIT_USAGE;
  }
  try {
    const cmd = await entry.load();
    // Only options before "--" ask for help: after it, "-h" is a TEXT or a file name.
    const end = rest.indexOf('--');
    const options = end === -1 ? rest : rest.slice(0, end);
    if (options.includes('--help') || options.includes('-h')) {
      io.out(cmd.help);
      return 0;
    }
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`agqg ${name}: ${err.message}\n(run "agqg ${name} --help" for usage)\n`);
      return EXIT_USAGE;
    }
    if (err instanceof AgqgError) {
      io.err(`agqg ${name}: [${err.code}] ${err.message}\n`);
      return INPUT_ERROR_CODES.has(err.code) ? EXIT_SOME_FAILED : EXIT_USAGE;
    }
    io.err(`agqg ${name}: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT_USAGE;
  }
}
