// Writes the default pack's image backbone (nsfwjs MobileNetV2-mid converted
// to ONNX) and its JSON description:
//   npx tsx src/cli/pack/build-backbone.ts [--out public/models/default] [--blocks a,b,c]
// Deterministic: the same nsfwjs version and blocks give the same bytes.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgqgError, toErrorInfo } from '../../model/errors';
import { type BackboneDescription, convertNsfwjsMid } from './nsfwjs-backbone';

export const BACKBONE_FILE = 'backbone.onnx';
export const BACKBONE_DESCRIPTION_FILE = 'backbone.json';
export const DEFAULT_OUT_DIR = join('public', 'models', 'default');

export interface BuiltBackbone {
  onnxPath: string;
  descriptionPath: string;
  description: BackboneDescription & { file: string; bytes: number; sha256: string };
}

export async function buildBackbone(options: { outDir: string; blocks?: readonly string[] }): Promise<BuiltBackbone> {
  const converted = await convertNsfwjsMid({ blocks: options.blocks });
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

function parseArgs(argv: string[]): { outDir: string; blocks?: string[] } {
  let outDir = DEFAULT_OUT_DIR;
  let blocks: string[] | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = argv[i + 1];
    if ((arg === '--out' || arg === '--blocks') && (value === undefined || value.startsWith('--'))) {
      throw new AgqgError('internal', `${arg} needs a value`);
    }
    if (arg === '--out') outDir = argv[++i];
    else if (arg === '--blocks') blocks = argv[++i].split(',').map((b) => b.trim()).filter(Boolean);
    else throw new AgqgError('internal', `unknown argument ${arg} (use --out DIR, --blocks a,b,c)`);
  }
  return { outDir: resolve(outDir), blocks };
}

export async function main(argv: string[]): Promise<number> {
  try {
    const built = await buildBackbone(parseArgs(argv));
    const d = built.description;
    console.log(`wrote ${built.onnxPath} (${d.bytes} bytes, sha256 ${d.sha256})`);
    console.log(`wrote ${built.descriptionPath} (featureDim ${d.output.featureDim}, input ${d.input.size}x${d.input.size})`);
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
