// agqg train: fits an AGQG head on a labelled folder with a pack's encoder
// features, chooses it by prompt-grouped cross-validation, reports, and saves
// it into the pack (ONNX + JSON parameters + manifest entry).
import { chmod, cp, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EXIT_OK, parseCommandArgs, parsePositiveInt, requireOption, UsageError } from '../args.ts';
import { processIO, type CliIO } from '../io.ts';
import { openPackFolder } from '../load-pack.ts';
import { NodeRuntime } from '../ort-node.ts';
import { AgqgError } from '../../model/errors.ts';
import { PAIR_PARTS, type HeadInput, type PairPart } from '../../model/grading/head.ts';
import { PackScorer } from '../../model/scoring/scorer.ts';
import { trainAndSelect } from '../../model/training/cv.ts';
import { DEFAULT_MLP_OPTIONS, type InputCandidate, type MlpOptions } from '../../model/training/cv-types.ts';
import { loadDataset, TARGETS, type Target } from './dataset.ts';
import { designMatrix } from '../../model/training/design.ts';
import { loadFeatures } from './features.ts';
import { ortGram, ortMatMul, releaseOrtGram, releaseOrtMatMul } from './ort-gram.ts';
import { formatReport, reportJson } from './report.ts';
import { saveHead } from './save.ts';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const DEFAULT_CACHE = join(REPO_ROOT, '.cache', 'features');

/** Ridge penalties (relative to the mean squared feature-row norm): decades, refined by half decades. */
const LAMBDA_GRID = [1e-3, 1e-2, 1e-1, 1, 10, 100, 1000];
const LAMBDA_GRID_QUICK = [1e-2, 1, 100];
const LAMBDA_REFINE = 10;

/** Alignment inputs tried: the pair's agreement alone, then with each side's own embedding. */
const ALIGNMENT_PARTS: PairPart[][] = [
  ['cosine', 'product'],
  ['cosine', 'product', 'image'],
  ['cosine', 'product', 'image', 'text'],
];

export const help = `agqg train --pack DIR --data DIR [--target mos_quality|mos_align] [--folds 5] [--seed 1] [--out DIR] [--quick] [--dry-run]

Fits an AGQG head (ridge ability + graded response model) on a labelled folder
(labels.csv with name, prompt and the target column; images in images/ or the
folder itself), using the pack's encoder features. Features are cached under
--cache, keyed by pack, encoder bytes, preprocessing and labels, so a rerun
skips the encoder. Hyperparameters are chosen by K-fold cross-validation with
folds by prompt (images of one prompt never split); the report gives SRCC,
PLCC (raw and 4-parameter logistic), KRCC, RMSE and SRCC within each generator.
The head is then fitted on every image and written into the pack:
heads/<kind>.onnx, heads/<kind>.json, heads/<kind>.report.json and
manifest.json (heads.quality or heads.alignment, metrics, provenance). A Hugging
Face CLIP folder without a manifest gets one.

Options:
  --pack DIR      pack folder (written to unless --dry-run)
  --data DIR      labelled folder
  --target T      mos_quality (default; image features) or mos_align (needs a
                  text encoder; features from image and prompt embeddings)
  --folds N       cross-validation folds (default 5)
  --seed N        seed of the fold split (default 1)
  --out DIR       also write the report JSON there (train-<target>.json)
  --cache DIR     feature cache (default ${DEFAULT_CACHE})
  --ability A     ensemble (default: ridge, an MLP on kernel-PCA scores and
                  their average, the best by CV) or ridge (ridge only)
  --mlp-units N   hidden ReLU units of the MLP (default ${DEFAULT_MLP_OPTIONS.hidden})
  --mlp-components N  kernel-PCA components fed to the MLP (default ${DEFAULT_MLP_OPTIONS.components})
  --mlp-epochs N  training epochs (default ${DEFAULT_MLP_OPTIONS.epochs})
  --mlp-rank W    weight of the within-generator pairwise ranking loss (default ${DEFAULT_MLP_OPTIONS.rank})
  --quick         a short grid, one alignment input, ridge only: for smoke tests
  --save DIR      write the trained pack to DIR (a copy of --pack plus the new
                  head) instead of into --pack; needed when --pack is read-only
  --dry-run       report only; leave the pack unchanged
  -h, --help      this help
`;

/** Mode bits, not access(2): as root, access() says yes even to a folder without write bits. */
async function hasWriteBits(dir: string): Promise<boolean> {
  const s = await stat(dir).catch(() => null);
  return s !== null && (s.mode & 0o222) !== 0;
}

/** A writable copy of the pack (files get owner write bits even when the source had none). */
async function copyPack(from: string, to: string): Promise<void> {
  if (resolve(to).startsWith(`${resolve(from)}/`)) {
    throw new UsageError(`--save ${to} is inside the pack folder ${from}`, 'train');
  }
  await cp(from, to, { recursive: true, force: true });
  const fix = async (path: string): Promise<void> => {
    const s = await stat(path);
    await chmod(path, s.mode | 0o200);
    if (s.isDirectory()) for (const e of await readdir(path)) await fix(join(path, e));
  };
  await fix(to);
}

function parseSeed(value: string | undefined): number {
  if (value === undefined) return 1;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new UsageError(`--seed must be a whole number from 0 to 4294967295 (got "${value}")`, 'train');
  }
  return n;
}

function parseTarget(value: string | undefined): Target {
  if (value === undefined) return 'mos_quality';
  if (!(TARGETS as readonly string[]).includes(value)) {
    throw new UsageError(`--target must be ${TARGETS.join(' or ')} (got "${value}")`, 'train');
  }
  return value as Target;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs('train', argv, {
    pack: { type: 'string' },
    data: { type: 'string' },
    target: { type: 'string' },
    folds: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    cache: { type: 'string' },
    quick: { type: 'boolean', default: false },
    ability: { type: 'string' },
    'mlp-units': { type: 'string' },
    'mlp-components': { type: 'string' },
    'mlp-epochs': { type: 'string' },
    'mlp-rank': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    save: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`, 'train');
  const packDir = resolve(requireOption('train', values.pack, '--pack'));
  const dataDir = requireOption('train', values.data, '--data');
  const target = parseTarget(values.target);
  const folds = parsePositiveInt('train', values.folds, '--folds') ?? 5;
  if (folds < 2) throw new UsageError('--folds must be at least 2', 'train');
  const seed = parseSeed(values.seed);
  const quick = values.quick === true;
  const ability = values.ability ?? (quick ? 'ridge' : 'ensemble');
  const saveDir = values.save === undefined ? packDir : resolve(values.save);
  // Checked before the long run: reference packs (e.g. ../shared) must not be written into.
  if (!values['dry-run'] && saveDir === packDir && !(await hasWriteBits(packDir))) {
    throw new UsageError(
      `${packDir} is read-only: pass --save DIR to write the trained pack to a copy`,
      'train',
    );
  }
  if (ability !== 'ridge' && ability !== 'ensemble')
    throw new UsageError(`--ability must be ridge or ensemble (got "${ability}")`, 'train');
  let rank = DEFAULT_MLP_OPTIONS.rank;
  if (values['mlp-rank'] !== undefined) {
    rank = Number(values['mlp-rank']);
    if (!(rank >= 0) || !Number.isFinite(rank))
      throw new UsageError(`--mlp-rank must be a number >= 0 (got "${values['mlp-rank']}")`, 'train');
  }
  const mlp: MlpOptions | undefined =
    ability === 'ridge'
      ? undefined
      : {
          ...DEFAULT_MLP_OPTIONS,
          hidden: parsePositiveInt('train', values['mlp-units'], '--mlp-units') ?? DEFAULT_MLP_OPTIONS.hidden,
          components:
            parsePositiveInt('train', values['mlp-components'], '--mlp-components') ??
            DEFAULT_MLP_OPTIONS.components,
          epochs:
            parsePositiveInt('train', values['mlp-epochs'], '--mlp-epochs') ?? DEFAULT_MLP_OPTIONS.epochs,
          rank,
          seed,
        };
  const t0 = performance.now();

  const pack = await openPackFolder(packDir);
  const m = pack.manifest;
  const withText = target === 'mos_align';
  if (withText && !m.text) {
    throw new AgqgError(
      'no_text_encoder',
      `pack "${m.id}" has no text encoder; --target mos_align needs prompt embeddings`,
    );
  }
  const dataset = await loadDataset(dataDir, target);
  const prompts = new Set(dataset.prompts).size;
  if (prompts < folds) {
    throw new UsageError(
      `${dataset.labelsPath} has ${prompts} prompts; ${folds} prompt-grouped folds need at least ${folds}`,
      'train',
    );
  }
  io.err(
    `agqg train: pack ${m.id}, ${dataset.names.length} images of ${prompts} prompts, target ${target}, ${folds} folds, seed ${seed}\n`,
  );

  let scorer: PackScorer | null = null;
  try {
    const table = await loadFeatures({
      pack,
      scorer: async () => (scorer = await PackScorer.load(pack, new NodeRuntime())),
      dataset,
      withText,
      cacheRoot: resolve(values.cache ?? DEFAULT_CACHE),
      io,
    });
    const tFeatures = performance.now();
    const inputs: HeadInput[] = withText
      ? (quick ? ALIGNMENT_PARTS.slice(0, 1) : ALIGNMENT_PARTS).map((parts) => ({
          type: 'image-text' as const,
          parts: PAIR_PARTS.filter((p) => parts.includes(p)),
          embedDim: table.imageDim,
        }))
      : [{ type: 'image' }];
    const candidates: InputCandidate[] = inputs.map((input) => ({ input, x: designMatrix(table, input) }));
    const result = await trainAndSelect(
      candidates,
      {
        mos: dataset.mos,
        prompts: dataset.prompts,
        generators: dataset.generators,
        settings: dataset.settings,
      },
      {
        K: m.grades.labels.length,
        scale: m.grades.mos,
        folds,
        seed,
        lambdas: quick ? LAMBDA_GRID_QUICK : LAMBDA_GRID,
        refine: quick ? undefined : LAMBDA_REFINE,
        log: (line) => io.err(`${line}\n`),
        gram: ortGram,
        matMul: ortMatMul,
        mlp,
      },
    );
    io.out(formatReport(result));
    const kind = withText ? 'alignment' : 'quality';
    const seconds = (performance.now() - t0) / 1000;
    const doc = {
      pack: m.id,
      data: dataset.dir,
      target,
      images: dataset.names.length,
      prompts,
      folds,
      seed,
      quick,
      ability,
      mlp: mlp ?? null,
      features: {
        key: table.key,
        dim: table.imageDim,
        fromCache: table.fromCache,
        seconds: (tFeatures - t0) / 1000,
      },
      seconds,
      ...reportJson(result),
    };
    if (values.out) {
      await mkdir(resolve(values.out), { recursive: true });
      const path = join(resolve(values.out), `train-${target}.json`);
      await writeFile(path, `${JSON.stringify(doc, null, 2)}\n`);
      io.err(`report: ${path}\n`);
    }
    if (values['dry-run']) {
      io.err('dry run: the pack is unchanged\n');
      return EXIT_OK;
    }
    const cv = result.selected.cv;
    let savedPack = pack;
    if (saveDir !== packDir) {
      await copyPack(packDir, saveDir);
      // A trained copy is another pack: it takes its folder's name, as an inferred pack would.
      const id =
        basename(saveDir)
          .replace(/[^a-z0-9._-]/gi, '-')
          .replace(/^[^a-z0-9]+/i, '') || 'trained';
      const name = pack.manifest.name === pack.manifest.id ? id : pack.manifest.name;
      savedPack = { ...pack, manifest: { ...pack.manifest, id, name } };
    }
    const saved = await saveHead(savedPack, saveDir, kind, result.head, {
      metrics: {
        dataset: basename(dataset.dir),
        target,
        protocol: `${folds}-fold prompt-grouped cross-validation, seed ${seed}`,
        n: cv.n,
        srcc: cv.srcc,
        plcc: cv.plcc,
        plccLogistic: cv.plccLogistic,
        krcc: cv.krcc,
        rmse: cv.rmse,
        meanGeneratorSrcc: cv.meanGroupSrcc,
        meanSettingSrcc: result.selected.withinSetting.mean,
      },
      training: doc,
    });
    io.err(
      `saved ${saved.files.join(', ')} and ${basename(saved.manifestPath)} in ${saveDir} (${seconds.toFixed(0)} s)\n`,
    );
    return EXIT_OK;
  } finally {
    if (scorer) await (scorer as PackScorer).release();
    await releaseOrtGram();
    await releaseOrtMatMul();
  }
}

/** Entry for callers outside the CLI registry. */
export function trainCommand(argv: string[]): Promise<number> {
  return run(argv, processIO);
}
