// The manifest of a fetched Hugging Face CLIP export: inferred from the staged
// files (hf-clip), with the hashes the fetch verified, the catalog's name and
// licence, and where and when it was fetched.
import { AgqgError } from '../../model/errors.ts';
import { hfClipManifest } from '../../model/pack/hf-clip.ts';
import {
  parseManifest,
  type Manifest,
  type ManifestInput,
  type VariantDtype,
} from '../../model/pack/manifest.ts';
import { FolderPackSource } from '../node-pack-source.ts';
import type { ModelSpec } from './catalog.ts';
import type { HubClient } from './hub.ts';

/** The parts of the fetch's options the manifest records. */
export interface FetchedManifestOptions {
  id: string;
  spec: ModelSpec;
  variants: readonly VariantDtype[];
  now?: () => Date;
}

export async function buildManifest(
  opts: FetchedManifestOptions,
  staging: string,
  hashes: Map<string, { size: number; sha256: string }>,
  hub: HubClient,
  commit: string,
): Promise<Manifest> {
  const { spec } = opts;
  const inferred = await hfClipManifest(new FolderPackSource(staging), opts.id);
  if (!inferred) {
    throw new AgqgError(
      'pack_invalid',
      `${spec.repo} is not a Hugging Face CLIP export (config.json, preprocessor_config.json, onnx/vision_model*.onnx)`,
    );
  }
  if (spec.encoders.includes('text_model') && !inferred.text) {
    throw new AgqgError(
      'pack_invalid',
      `${spec.repo} has a text encoder but no tokenizer (tokenizer.json, or vocab.json + merges.txt)`,
    );
  }
  const listed = new Set(inferred.files.map((f) => f.path));
  const files = [
    ...inferred.files,
    ...[...hashes.keys()].filter((p) => !listed.has(p)).map((path) => ({ path, role: 'other' as const })),
  ].map((f) => {
    const h = hashes.get(f.path);
    if (!h) throw new AgqgError('internal', `${f.path} is in the inferred manifest but was not fetched`);
    return { ...f, size: h.size, sha256: h.sha256 };
  });
  const date = (opts.now?.() ?? new Date()).toISOString();
  const input: ManifestInput = {
    ...inferred,
    name: spec.name,
    description: spec.description,
    packVersion: commit.slice(0, 12),
    files,
    provenance: {
      backbone: {
        name: spec.upstream,
        source: `${hub.base}/${spec.repo} at ${commit}`,
        license: spec.license,
      },
      notes:
        `fetched by agqg fetch from ${hub.base}/${spec.repo}, revision ${spec.revision} (commit ${commit}), on ${date}; ` +
        `weight formats ${opts.variants.join(', ')}; heads are zero-shot (uncalibrated) until trained with agqg train`,
    },
  };
  return parseManifest(input, `${opts.id} (fetched)`);
}
