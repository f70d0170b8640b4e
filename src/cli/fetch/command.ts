// agqg fetch: download an official ONNX export of CLIP from the Hugging Face
// hub (or a mirror) into a pack folder, resumable and verified (see fetch-pack.ts).
import { dirname, join, resolve } from 'node:path';
import { parseCommandArgs, parsePositiveInt, UsageError } from '../args.ts';
import type { CliIO } from '../io.ts';
import { DEFAULT_VARIANTS, isRepoId, KNOWN_MODELS, parseVariantList, specForRepo } from './catalog.ts';
import { DEFAULT_BASE_URL, DEFAULT_RETRIES, fetchPack } from './fetch-pack.ts';
import { formatBytes } from './byte-progress.ts';
import { AgqgError } from '../../model/errors.ts';

const MODELS_DIR = join('public', 'models');
const INDEX_FILE = 'index.json';

export const help = `agqg fetch NAME [options]

Downloads a CLIP ONNX export (transformers.js layout) from the Hugging Face hub
into public/models/NAME as a pack with a manifest.json (sizes and SHA-256 of
every file), and lists it in public/models/index.json for the page.

Known names: ${Object.keys(KNOWN_MODELS).join(', ')}
Any other CLIP export: agqg fetch NAME --repo OWNER/REPO

  --variants LIST    weight formats, comma-separated (default ${DEFAULT_VARIANTS.join(',')}):
                     fp32, fp16, q8, int8, uint8, q4, q4f16, bnb4; formats the
                     repo lacks are skipped, but each encoder needs one of them
  --repo OWNER/REPO  the hub repo (required for names not listed above)
  --revision REV     branch, tag or commit (default: the table's, usually main;
                     a branch is pinned to its current commit for the whole run)
  --base-url URL     hub or mirror (default $HF_ENDPOINT or ${DEFAULT_BASE_URL})
  --out DIR          pack folder (default public/models/NAME)
  --index FILE       models index to list the pack in (default: public/models/index.json
                     when the pack goes into public/models)
  --no-index         do not touch any index
  --retries N        attempts after a cut connection, per file (default ${DEFAULT_RETRIES})
  --force            replace a folder fetch did not make; download again when up to date
  --list             print the known names and exit

Interrupted? Run the same command again: it resumes from .NAME.partial/ next to
the pack folder. Nothing appears under the pack's name until every file is
verified. See docs/models.md.
`;

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('fetch', argv, {
    variants: { type: 'string' },
    repo: { type: 'string' },
    revision: { type: 'string' },
    'base-url': { type: 'string' },
    out: { type: 'string' },
    index: { type: 'string' },
    'no-index': { type: 'boolean' },
    retries: { type: 'string' },
    force: { type: 'boolean' },
    list: { type: 'boolean' },
  });
  if (values.list) {
    for (const [name, spec] of Object.entries(KNOWN_MODELS)) io.out(`${name}\t${spec.repo}\t${spec.name}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw new UsageError('give exactly one NAME (the pack name, e.g. clip-vit-base-patch32)', 'fetch');
  const name = positionals[0];
  if (values.index !== undefined && values['no-index'])
    throw new UsageError('--index and --no-index contradict each other', 'fetch');
  if (values.repo !== undefined && !isRepoId(values.repo)) {
    throw new UsageError(`--repo must be OWNER/REPO (got "${values.repo}")`, 'fetch');
  }
  const known = Object.hasOwn(KNOWN_MODELS, name) ? KNOWN_MODELS[name] : undefined;
  if (!known && values.repo === undefined) {
    throw new UsageError(
      `unknown model "${name}"; known: ${Object.keys(KNOWN_MODELS).join(', ')} (or pass --repo OWNER/REPO)`,
      'fetch',
    );
  }
  const base =
    known && (values.repo === undefined || values.repo === known.repo)
      ? known
      : specForRepo(values.repo ?? '', 'main');
  const spec = { ...base, revision: values.revision ?? base.revision };
  let variants;
  try {
    variants = values.variants === undefined ? [...DEFAULT_VARIANTS] : parseVariantList(values.variants);
  } catch (err) {
    throw new UsageError((err as AgqgError).message, 'fetch');
  }
  const retries =
    values.retries === '0' ? 0 : (parsePositiveInt('fetch', values.retries, '--retries') ?? DEFAULT_RETRIES);
  const outDir = resolve(values.out ?? join(MODELS_DIR, name));
  let indexFile: string | null = null;
  if (values.index !== undefined) indexFile = resolve(values.index);
  else if (!values['no-index'] && dirname(outDir) === resolve(MODELS_DIR))
    indexFile = join(dirname(outDir), INDEX_FILE);

  const result = await fetchPack({
    id: name,
    spec,
    variants,
    baseUrl: values['base-url'] ?? process.env.HF_ENDPOINT ?? DEFAULT_BASE_URL,
    outDir,
    indexFile,
    force: values.force === true,
    io,
    retries,
  });
  const m = result.manifest;
  const total = m.files.reduce((s, f) => s + (f.size ?? 0), 0);
  io.out(
    `${result.packDir}\n` +
      `  pack ${m.id}: ${m.name}, ${m.files.length} files, ${formatBytes(total)}\n` +
      `  vision: ${m.vision.variants.map((v) => v.dtype).join(', ')}; text: ${m.text ? m.text.variants.map((v) => v.dtype).join(', ') : 'none'}\n` +
      (indexFile ? `  listed in ${indexFile}\n` : '') +
      `  use: agqg score --pack ${values.out ?? join(MODELS_DIR, name)} IMAGE... --prompt TEXT\n`,
  );
  return 0;
}
