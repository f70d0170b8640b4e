// Loads the models that ship inside the nsfwjs npm package (MIT) without any
// network: dist/models/<name>/model.min.js exports the model.json object and
// each group1-shardKofN.min.js exports that shard's bytes as a base64 string
// (nsfwjs's own JSONHandler decodes them the same way).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { AgqgError } from '../../model/errors';

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
    throw new AgqgError('pack_file_missing', 'nsfwjs is not installed (npm ci installs it; it is a dependency)', {
      cause: err,
    });
  }
  return join(dirname(entry), '..', 'models');
}

function nsfwjsVersion(): string {
  const pkg = require(join(dirname(require.resolve('nsfwjs')), '..', '..', 'package.json')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

function loadModule(path: string): unknown {
  try {
    return require(path);
  } catch (err) {
    throw new AgqgError('pack_file_missing', `cannot load nsfwjs model file ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Reads model.json and the weight shards of one bundled nsfwjs model. */
export function readNsfwjsModel(dir: NsfwjsModelDir): NsfwjsArtifacts {
  const root = join(modelsRoot(), dir);
  const modelJson = loadModule(join(root, 'model.min.js')) as ModelJson;
  if (!modelJson || typeof modelJson !== 'object' || !modelJson.modelTopology || !Array.isArray(modelJson.weightsManifest)) {
    throw new AgqgError('pack_invalid', `nsfwjs ${dir}/model.min.js does not export a TF.js model.json`);
  }
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of modelJson.weightsManifest) {
    for (const path of group.paths) {
      const base64 = loadModule(join(root, `${path}.min.js`));
      if (typeof base64 !== 'string' || base64.length === 0) {
        throw new AgqgError('pack_invalid', `nsfwjs ${dir}/${path}.min.js does not export base64 weight data`);
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
export async function loadNsfwjsGraphModel(dir: NsfwjsModelDir): Promise<{ model: tf.GraphModel; source: NsfwjsArtifacts }> {
  const source = readNsfwjsModel(dir);
  if (!Array.isArray(source.modelJson.modelTopology.node)) {
    throw new AgqgError('pack_invalid', `nsfwjs ${dir} is a Keras layers model, not a graph model`);
  }
  await useTfjsCpu();
  const model = await tf.loadGraphModel(tf.io.fromMemory(source.artifacts));
  return { model, source };
}
