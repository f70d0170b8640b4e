// agqg summary: what a finished `agqg score --out DIR` folder holds (counts per
// grade, a score histogram, failures), or with --min-quality the keys that pass.
import { statSync } from 'node:fs';
import { parseCommandArgs, UsageError, EXIT_OK, EXIT_USAGE } from '../args.ts';
import type { CliIO } from '../io.ts';
import { OutputError } from '../shards/outputs.ts';
import { outputFiles, readOutputSummaries } from '../shards/read-outputs.ts';
import type { RecordSummary } from '../shards/records.ts';
import { passes } from '../shards/run-shards.ts';
import { formatSummary, summarize } from '../shards/summary.ts';

export const help = `agqg summary DIR [--json] [--min-quality X]

Reads the outputs of \`agqg score --out DIR\` (every *.jsonl and *.parquet in DIR;
unfinished temporary outputs are counted, not read) and prints the count per
quality grade, a histogram of quality scores and the failures.

Options:
  --json            the summary as JSON (every failure listed)
  --min-quality X   instead, print the key of every record whose quality score is at least X
  -h, --help        this help
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('summary', argv, {
    json: { type: 'boolean', default: false },
    'min-quality': { type: 'string' },
  });
  if (positionals.length !== 1)
    throw new UsageError('give one output folder (the --out DIR of agqg score)', 'summary');
  const dir = positionals[0];
  let min: number | null = null;
  if (values['min-quality'] !== undefined) {
    min = Number(values['min-quality']);
    if (values['min-quality'].trim() === '' || !Number.isFinite(min))
      throw new UsageError(`--min-quality takes a number (got "${values['min-quality']}")`, 'summary');
  }
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory())
    throw new UsageError(`${dir} is not a folder`, 'summary');
  const { finished, unfinished } = outputFiles(dir);
  const records: RecordSummary[] = [];
  try {
    for (const f of finished) {
      const rs = await readOutputSummaries(f);
      if (min === null) records.push(...rs);
      else for (const r of rs) if (passes(r, min)) io.out(`${r.key ?? r.file}\n`);
    }
  } catch (e) {
    if (!(e instanceof OutputError)) throw e;
    io.err(`agqg summary: ${e.message}\n`);
    return EXIT_USAGE;
  }
  if (min !== null) return EXIT_OK;
  const s = summarize(records, finished.length, unfinished);
  io.out(values.json ? `${JSON.stringify(s, null, 2)}\n` : formatSummary(s, dir));
  return EXIT_OK;
}
