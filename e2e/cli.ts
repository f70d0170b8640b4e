// The `agqg` CLI run from the repository as a user runs it, for what the e2e tests
// compare the page with (agqg score) or build for it (agqg train).
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ResultsFileSchema, type ResultsFile } from '../src/model/grading/result.ts';
import { ROOT } from '../test/shared.ts';
import { csvOf, type LabelledImage } from './files.ts';

const run = promisify(execFile);

/** Runs bin/agqg.js with `args`; resolves to its stdout, rejects with execFile's error (stderr on it). */
export async function agqg(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['bin/agqg.js', ...args], {
    cwd: ROOT,
    maxBuffer: 16 << 20,
  });
  return stdout;
}

/** `agqg score --json` of `images` with their prompts (written as prompts.csv into `dir`) on `pack`. */
export async function scoreWithCli(pack: string, images: LabelledImage[], dir: string): Promise<ResultsFile> {
  const prompts = join(dir, 'prompts.csv');
  writeFileSync(prompts, csvOf(images).buffer);
  const stdout = await agqg([
    'score',
    '--pack',
    pack,
    ...images.map((im) => im.path),
    '--prompts',
    prompts,
    '--json',
    '--quiet',
  ]);
  return ResultsFileSchema.parse(JSON.parse(stdout));
}
