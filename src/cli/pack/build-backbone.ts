// Writes the default pack's image backbone (nsfwjs MobileNetV2-mid converted
// to ONNX) and its JSON description:
//   npx tsx src/cli/pack/build-backbone.ts [--out public/models/default] [--blocks a,b,c] [--weights uint8-lut|float32]
// Deterministic: the same nsfwjs version, blocks and storage give the same bytes.
// Weights default to uint8-lut: a quarter of the download for the browser, and
// the same features bit for bit as float32 (see test/nsfwjs-convert.test.ts).
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgqgError, toErrorInfo } from '../../model/errors.ts';
import { type BackboneDescription, convertNsfwjsMid } from './nsfwjs-backbone.ts';
import type { WeightStorage } from './tf-weights.ts';

export const BACKBONE_FILE = 'backbone.onnx';
export const BACKBONE_DESCRIPTION_FILE = 'backbone.json';
export const DEFAULT_OUT_DIR = join('public', 'models', 'default');
export const DEFAULT_WEIGHT_STORAGE: WeightStorage = 'uint8-lut';
const STORAGES: readonly WeightStorage[] = ['uint8-lut', 'float32'];

export interface BuiltBackbone {
  onnxPath: string;
  descriptionPath: string;
  description: BackboneDescription & { file: string; bytes: number; sha256: string };
}

export async function buildBackbone(options: {
  outDir: string;
  blocks?: readonly string[];
  weightStorage?: WeightStorage;
}): Promise<BuiltBackbone> {
  const converted = await convertNsfwjsMid({
    blocks: options.blocks,
    weightStorage: options.weightStorage ?? DEFAULT_WEIGHT_STORAGE,
  });
  await mkdir(options.outDir, { recursive: true });
  const onnxPath = join(options.outDir, BACKBONE_FILE);
  const descriptionPath = join(options.outDir, BACKBONE_DESCRIPTION_FILE);
  const description = {
    ...converted.description,
    file: BACKBONE_FILE,
    bytes: converted.onnx.length,
    sha256: createHash('sha256').update(converted.onnx).digest('hex'),
  };
  await writeFile(onnxPath, converted.onnx);
  await writeFile(descriptionPath, `${JSON.stringify(description, null, 2)}\n`);
  return { onnxPath, descriptionPath, description };
}

function parseArgs(argv: string[]): { outDir: string; blocks?: string[]; weightStorage: WeightStorage } {
  let outDir = DEFAULT_OUT_DIR;
  let blocks: string[] | undefined;
  let weightStorage = DEFAULT_WEIGHT_STORAGE;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (
      (arg === '--out' || arg === '--blocks' || arg === '--weights') &&
      (value === undefined || value.startsWith('--'))
    ) {
      throw new AgqgError('internal', `${arg} needs a value`);
    }
    if (arg === '--out') outDir = argv[++i];
    else if (arg === '--blocks')
      blocks = argv[++i]
        .split(',')
        .map((b) => b.trim())
        .filter(Boolean);
    else if (arg === '--weights') {
      const v = argv[++i];
      const found = STORAGES.find((s) => s === v);
      if (!found)
        throw new AgqgError('internal', `--weights must be one of ${STORAGES.join(', ')}, got '${v}'`);
      weightStorage = found;
    } else
      throw new AgqgError(
        'internal',
        `unknown argument ${arg} (use --out DIR, --blocks a,b,c, --weights ${STORAGES.join('|')})`,
      );
  }
  return { outDir: resolve(outDir), blocks, weightStorage };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const built = await buildBackbone(parseArgs(argv));
    const d = built.description;
    console.log(`wrote ${built.onnxPath} (${d.bytes} bytes, sha256 ${d.sha256})`);
    console.log(
      `wrote ${built.descriptionPath} (featureDim ${d.output.featureDim}, input ${d.input.size}x${d.input.size})`,
    );
    return 0;
  } catch (err) {
    const info = toErrorInfo(err);
    console.error(`build-backbone: ${info.code}: ${info.message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
