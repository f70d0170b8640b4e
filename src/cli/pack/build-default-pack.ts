// Builds the default (offline) pack into public/models/default from what the
// repository commits: the pack spec (packs/default/pack.json: views and their
// preprocessing, backbone blocks, grades, provenance) and the trained head
// (packs/default/head.json, HeadParams from `agqg train`, with its CV report in
// head.report.json). The backbone comes from node_modules/nsfwjs, converted to
// one multi-view ONNX graph. Also writes public/models/index.json.
//   agqg build-pack [--spec packs/default] [--out public/models] [--force]
// Deterministic (same inputs, same bytes); skipped when the recorded build key
// (hash of every input) matches and the output files are intact.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { AgqgError, toErrorInfo } from '../../model/errors.ts';
import { parseHeadParams, type HeadParams } from '../../model/grading/head.ts';
import {
  MANIFEST_FILE,
  parseManifest,
  type Manifest,
  type ManifestInput,
  type PackFile,
} from '../../model/pack/manifest.ts';
import { HEAD_IO, headToOnnx } from '../../model/onnx/onnx-head.ts';
import { convertNsfwjsMultiView } from './nsfwjs-backbone.ts';
import { loadMid } from './nsfwjs-mid.ts';
import { parsePackSpec, type PackSpec, viewSize } from './pack-spec.ts';

export const SPEC_FILE = 'pack.json';
export const HEAD_FILE = 'head.json';
export const HEAD_REPORT_FILE = 'head.report.json';
export const INDEX_FILE = 'index.json';
export const BACKBONE_FILE = 'backbone.onnx';
export const HEAD_ONNX_FILE = 'heads/quality.onnx';
/** Build key record, next to the pack; not part of the pack (not in files[]). */
export const BUILD_KEY_FILE = '.build-key';
/** Bumped when this builder's output changes for the same inputs. */
const BUILDER_VERSION = 2;

const HeadReportSchema = z.object({
  metrics: z.record(z.string(), z.unknown()),
  training: z.record(z.string(), z.unknown()).default({}),
});

export interface BuildOptions {
  /** Folder with pack.json and (once trained) head.json. */
  specDir: string;
  /** public/models: the pack goes to <out>/<id>, the index to <out>/index.json. */
  outDir: string;
  force?: boolean;
  /** Without a head the pack is built with heads.quality null (to train one on it); default: refuse. */
  allowMissingHead?: boolean;
  log?: (line: string) => void;
}

export interface BuildResult {
  packDir: string;
  manifest: Manifest;
  skipped: boolean;
  head: boolean;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new AgqgError('pack_file_missing', `cannot read ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

function parseJson(bytes: Buffer, path: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new AgqgError('pack_invalid', `${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Everything the pack's bytes depend on. */
async function buildKey(specBytes: Buffer, head: Buffer | null, report: Buffer | null): Promise<string> {
  const mid = await loadMid();
  return sha256(
    JSON.stringify({
      builder: BUILDER_VERSION,
      nsfwjs: mid.source.version,
      spec: sha256(specBytes),
      head: head ? sha256(head) : null,
      report: report ? sha256(report) : null,
    }),
  );
}

/** True when <packDir> holds a manifest whose files all match their recorded size and hash. */
async function intact(packDir: string): Promise<boolean> {
  const bytes = await readOptional(join(packDir, MANIFEST_FILE));
  if (!bytes) return false;
  let manifest: Manifest;
  try {
    manifest = parseManifest(JSON.parse(bytes.toString('utf8')));
  } catch {
    return false;
  }
  for (const f of manifest.files) {
    const data = await readOptional(join(packDir, f.path));
    if (!data || data.length !== f.size || sha256(data) !== f.sha256) return false;
  }
  return true;
}

function fileEntry(path: string, bytes: Uint8Array, role: PackFile['role']): PackFile {
  return { path, size: bytes.byteLength, sha256: sha256(bytes), role };
}

/** models/index.json: a JSON array of {id, name, description} (what the worker's listPacks reads). */
async function writeIndex(outDir: string, spec: PackSpec): Promise<void> {
  const path = join(outDir, INDEX_FILE);
  const existing = await readOptional(path);
  const entry = { id: spec.id, name: spec.name, description: spec.description };
  let packs: { id: string; name: string; description: string }[] = [];
  if (existing) {
    const parsed = z
      .array(z.object({ id: z.string(), name: z.string(), description: z.string() }))
      .safeParse(parseJson(existing, path));
    // Other packs listed there stay, after this one; a malformed index is rewritten.
    if (parsed.success) packs = parsed.data.filter((p) => p.id !== spec.id);
  }
  await writeFile(path, `${JSON.stringify([entry, ...packs], null, 2)}\n`);
}

export async function buildDefaultPack(options: BuildOptions): Promise<BuildResult> {
  const log = options.log ?? (() => {});
  const specPath = join(options.specDir, SPEC_FILE);
  const specBytes = await readOptional(specPath);
  if (!specBytes)
    throw new AgqgError('pack_file_missing', `${specPath} is missing: it describes the pack to build`);
  const spec = parsePackSpec(parseJson(specBytes, specPath), specPath);
  const headPath = join(options.specDir, HEAD_FILE);
  const headBytes = await readOptional(headPath);
  const reportPath = join(options.specDir, HEAD_REPORT_FILE);
  const reportBytes = headBytes ? await readOptional(reportPath) : null;
  if (!headBytes && !options.allowMissingHead) {
    throw new AgqgError(
      'no_head',
      `${headPath} is missing: train the quality head first (agqg train on a pack built with --no-head), ` +
        'or pass --no-head to build a pack without one',
    );
  }
  const packDir = join(options.outDir, spec.id);
  const keyPath = join(packDir, BUILD_KEY_FILE);
  const key = await buildKey(specBytes, headBytes, reportBytes);
  if (
    !options.force &&
    (await readOptional(keyPath))?.toString('utf8').trim() === key &&
    (await intact(packDir))
  ) {
    log(`${packDir} is up to date`);
    const manifest = parseManifest(
      parseJson((await readFile(join(packDir, MANIFEST_FILE))) as Buffer, MANIFEST_FILE),
    );
    await writeIndex(options.outDir, spec);
    return { packDir, manifest, skipped: true, head: manifest.heads.quality !== null };
  }

  const views = spec.backbone.views.map((v) => ({ name: v.name, size: viewSize(v, specPath) }));
  const backbone = await convertNsfwjsMultiView({
    views,
    blocks: spec.backbone.blocks,
    weightStorage: spec.backbone.weightStorage,
  });
  log(
    `backbone: ${views.map((v) => `${v.name} ${v.size}px`).join(', ')} -> ${backbone.featureDim} features, ${backbone.onnx.length} bytes`,
  );

  let head: HeadParams | null = null;
  let report: z.infer<typeof HeadReportSchema> | null = null;
  if (headBytes) {
    head = parseHeadParams(parseJson(headBytes, headPath), headPath);
    if (head.input.type !== 'image' || head.inputDim !== backbone.featureDim) {
      throw new AgqgError(
        'pack_invalid',
        `${headPath} reads ${head.input.type === 'image' ? `${head.inputDim} image features` : 'image and text features'}, ` +
          `but the backbone of ${specPath} gives ${backbone.featureDim} image features: retrain the head on this backbone`,
      );
    }
    if (
      head.K !== spec.grades.labels.length ||
      head.mos.min !== spec.grades.mos.min ||
      head.mos.max !== spec.grades.mos.max
    ) {
      throw new AgqgError(
        'pack_invalid',
        `${headPath} has K=${head.K} and MOS ${head.mos.min}..${head.mos.max}, which do not match the grades of ${specPath}`,
      );
    }
    if (reportBytes) {
      const r = HeadReportSchema.safeParse(parseJson(reportBytes, reportPath));
      if (!r.success)
        throw new AgqgError(
          'pack_invalid',
          `${reportPath} has no metrics object: ${r.error.issues[0]?.message}`,
        );
      report = r.data;
    }
  }

  const outputs: [string, Uint8Array, PackFile['role']][] = [[BACKBONE_FILE, backbone.onnx, 'vision']];
  if (head) {
    // Only the ONNX head ships: browsers never read the JSON parameters (packs/<id>/head.json keeps them).
    outputs.push([HEAD_ONNX_FILE, headToOnnx(head), 'head']);
  }
  const input: ManifestInput = {
    schema: 'agqg-pack',
    version: 1,
    id: spec.id,
    name: spec.name,
    description: spec.description,
    packVersion: spec.packVersion,
    files: outputs.map(([path, bytes, role]) => fileEntry(path, bytes, role)),
    vision: {
      variants: [{ dtype: 'fp32', file: BACKBONE_FILE }],
      inputs: spec.backbone.views.map((v, i) => ({
        name: v.name,
        dtype: 'float32',
        shape: ['batch', 3, views[i].size, views[i].size],
        preprocess: v.preprocess,
      })),
      output: {
        name: backbone.description.output.name,
        dtype: 'float32',
        shape: ['batch', backbone.featureDim],
      },
    },
    text: null,
    grades: spec.grades,
    heads: {
      quality: head
        ? {
            type: 'onnx',
            file: HEAD_ONNX_FILE,
            inputs: { [HEAD_IO.image]: 'image_features' },
            outputs: {
              ability: HEAD_IO.ability,
              probabilities: HEAD_IO.probabilities,
              score: HEAD_IO.score,
              thresholds: HEAD_IO.thresholds,
            },
            grm: head.grm,
            uncalibrated: false,
          }
        : null,
      alignment: null,
    },
    provenance: {
      backbone: {
        name: `nsfwjs@${backbone.description.source.version} MobileNetV2-1.4 'mid' (${backbone.description.source.model}), cut at ${spec.backbone.blocks.length} blocks, per-channel mean and std pooling`,
        source: `npm nsfwjs@${backbone.description.source.version} (dist/models/mobilenet_v2_mid), converted to ONNX by this project (src/cli/pack/nsfwjs-backbone.ts)`,
        license: 'MIT',
      },
      training: head ? { quality: { ...spec.training, ...(report?.training ?? {}) } } : undefined,
      notes: head
        ? `Weights stored as ${spec.backbone.weightStorage}. Views: ${views.map((v) => v.name).join(', ')} (see vision.inputs).`
        : 'No trained quality head yet (packs/default/head.json missing): heads.quality is null.',
    },
    metrics: head && report ? { quality: report.metrics } : {},
  };
  const manifest = parseManifest(input, `the built ${MANIFEST_FILE}`);

  // The folder is owned by this builder: stale files from an older layout go.
  await rm(packDir, { recursive: true, force: true });
  for (const [path, bytes] of outputs) {
    await mkdir(dirname(join(packDir, path)), { recursive: true });
    await writeFile(join(packDir, path), bytes);
  }
  await writeFile(join(packDir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFile(keyPath, `${key}\n`);
  await writeIndex(options.outDir, spec);
  log(
    `wrote ${packDir} (${outputs.map(([p, b]) => `${p} ${b.length} B`).join(', ')})${head ? '' : ' without a quality head'}`,
  );
  return { packDir, manifest, skipped: false, head: head !== null };
}

export const USAGE = `agqg build-pack [--spec DIR] [--out DIR] [--force] [--no-head]

Builds the default offline pack (nsfwjs MobileNetV2 backbone converted to ONNX
plus the committed trained head) into public/models/default and lists it in
public/models/index.json. Skips the work when nothing changed.

  --spec DIR   folder with pack.json and head.json (default packs/default)
  --out DIR    models folder (default public/models)
  --force      rebuild even when up to date
  --no-head    build without packs/default/head.json (heads.quality null)
`;

export async function main(
  argv: string[],
  log: (line: string) => void = console.log,
  err = console.error,
): Promise<number> {
  let specDir = join('packs', 'default');
  let outDir = join('public', 'models');
  let force = false;
  let allowMissingHead = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') {
      log(USAGE);
      return 0;
    }
    if (a === '--force') force = true;
    else if (a === '--no-head') allowMissingHead = true;
    else if (a === '--spec' || a === '--out') {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) {
        err(`build-pack: ${a} needs a folder\n\n${USAGE}`);
        return 2;
      }
      if (a === '--spec') specDir = v;
      else outDir = v;
    } else {
      err(`build-pack: unknown argument ${a}\n\n${USAGE}`);
      return 2;
    }
  }
  try {
    const r = await buildDefaultPack({
      specDir: resolve(specDir),
      outDir: resolve(outDir),
      force,
      allowMissingHead,
      log,
    });
    if (!r.head) log('note: the pack has no quality head yet');
    return 0;
  } catch (e) {
    const info = toErrorInfo(e);
    err(`build-pack: ${info.code}: ${info.message}`);
    return 2;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2));
}
