// Loads the models that ship inside the nsfwjs npm package (MIT) without any
// network: dist/models/<name>/model.min.js exports the model.json object and
// each group1-shardKofN.min.js exports that shard's bytes as a base64 string
// (nsfwjs's own JSONHandler decodes them the same way).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AgqgError } from '../../model/errors.ts';

const require = createRequire(import.meta.url);

/** Directory names under nsfwjs/dist/models. */
export type NsfwjsModelDir = 'mobilenet_v2_mid' | 'mobilenet_v2' | 'inception_v3';

/** The subset of a TensorFlow GraphDef node (as JSON in model.json) the converter reads. */
export interface TfNodeDef {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttrValue>;
}

export interface TfAttrValue {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  list?: { s?: string[]; i?: string[]; f?: number[] };
  shape?: { dim?: { size: string }[] };
  tensor?: unknown;
  type?: string;
}

interface ModelJson {
  format?: string;
  generatedBy?: string;
  convertedBy?: string;
  modelTopology: { node?: TfNodeDef[] } & Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: Record<string, unknown>;
}

export interface NsfwjsArtifacts {
  dir: NsfwjsModelDir;
  modelJson: ModelJson;
  artifacts: tf.io.ModelArtifacts;
  /** nsfwjs's package version, recorded in pack descriptions. */
  version: string;
}

function modelsRoot(): string {
  // nsfwjs's "exports" hides package.json and dist/models; its CJS entry is dist/cjs/index.js.
  let entry: string;
  try {
    entry = require.resolve('nsfwjs');
  } catch (err) {
    throw new AgqgError(
      'pack_file_missing',
      'nsfwjs is not installed (npm ci installs it; it is a dependency)',
      {
        cause: err,
      },
    );
  }
  return join(dirname(entry), '..', 'models');
}

function nsfwjsVersion(): string {
  const pkg = require(join(dirname(require.resolve('nsfwjs')), '..', '..', 'package.json')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

function loadModule(path: string): unknown {
  try {
    return require(path);
  } catch (err) {
    throw new AgqgError(
      'pack_file_missing',
      `cannot load nsfwjs model file ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** Reads model.json and the weight shards of one bundled nsfwjs model. */
export function readNsfwjsModel(dir: NsfwjsModelDir): NsfwjsArtifacts {
  const root = join(modelsRoot(), dir);
  const modelJson = loadModule(join(root, 'model.min.js')) as ModelJson;
  if (
    !modelJson ||
    typeof modelJson !== 'object' ||
    !modelJson.modelTopology ||
    !Array.isArray(modelJson.weightsManifest)
  ) {
    throw new AgqgError('pack_invalid', `nsfwjs ${dir}/model.min.js does not export a TF.js model.json`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) {
      const base64 = loadModule(join(root, `${path}.min.js`));
      if (typeof base64 !== 'string' || base64.length === 0) {
        throw new AgqgError(
          'pack_invalid',
          `nsfwjs ${dir}/${path}.min.js does not export base64 weight data`,
        );
      }
      shards.push(new Uint8Array(Buffer.from(base64, 'base64')));
    }
    weightSpecs.push(...group.weights);
  }
  const total = shards.reduce((a, s) => a + s.length, 0);
  const weightData = new Uint8Array(total);
  let offset = 0;
  for (const s of shards) {
    weightData.set(s, offset);
    offset += s.length;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: modelJson.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: modelJson.format,
    generatedBy: modelJson.generatedBy,
    convertedBy: modelJson.convertedBy,
    weightSpecs,
    weightData: weightData.buffer,
    userDefinedMetadata: modelJson.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
  };
  return { dir, modelJson, artifacts, version: nsfwjsVersion() };
}

const BYTES_PER_VALUE: Record<string, number> = {
  float32: 4,
  int32: 4,
  bool: 1,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * The uint8 codes and 256-entry dequantisation table of every uint8-quantised
 * float32 weight, sliced from the concatenated shards in weight-spec order
 * (the layout tf.io.decodeWeights reads). lut[q] = q*scale + min rounded to
 * float32, the same arithmetic TF.js uses, so lut[codes[i]] is bit-identical
 * to the weight TF.js loads.
 */
export function quantizedWeights(
  source: NsfwjsArtifacts,
): Map<string, { codes: Uint8Array; lut: Float32Array }> {
  const out = new Map<string, { codes: Uint8Array; lut: Float32Array }>();
  const bytes = new Uint8Array(source.artifacts.weightData as ArrayBuffer);
  let offset = 0;
  for (const spec of source.artifacts.weightSpecs ?? []) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const storedAs = spec.quantization?.dtype ?? spec.dtype;
    const width = BYTES_PER_VALUE[storedAs];
    if (width === undefined)
      throw new AgqgError(
        'pack_invalid',
        `weight ${spec.name} is stored as ${storedAs}, which is not supported`,
      );
    const q = spec.quantization;
    if (
      q &&
      q.dtype === 'uint8' &&
      spec.dtype === 'float32' &&
      q.min !== undefined &&
      q.scale !== undefined
    ) {
      const lut = new Float32Array(256);
      for (let v = 0; v < 256; v++) lut[v] = v * q.scale + q.min;
      out.set(spec.name, { codes: bytes.slice(offset, offset + count), lut });
    }
    offset += count * width;
  }
  if (offset !== bytes.length) {
    throw new AgqgError(
      'pack_invalid',
      `weight specs cover ${offset} bytes but the shards hold ${bytes.length}`,
    );
  }
  return out;
}

let backendReady: Promise<void> | undefined;

/** tfjs's pure-JS CPU backend: deterministic, no native download, same everywhere. */
export function useTfjsCpu(): Promise<void> {
  backendReady ??= (async () => {
    const ok = await tf.setBackend('cpu');
    if (!ok) throw new AgqgError('backend_failed', 'tfjs CPU backend could not be initialised');
    await tf.ready();
  })();
  return backendReady;
}

/** Loads a bundled nsfwjs graph model into tfjs (CPU backend). */
export async function loadNsfwjsGraphModel(
  dir: NsfwjsModelDir,
): Promise<{ model: tf.GraphModel; source: NsfwjsArtifacts }> {
  const source = readNsfwjsModel(dir);
  if (!Array.isArray(source.modelJson.modelTopology.node)) {
    throw new AgqgError('pack_invalid', `nsfwjs ${dir} is a Keras layers model, not a graph model`);
  }
  await useTfjsCpu();
  const model = await tf.loadGraphModel(tf.io.fromMemory(source.artifacts));
  return { model, source };
}
